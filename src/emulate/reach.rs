//! What a run's own connections find at the target: whether it is there at all, and how many
//! connections it accepted before it stopped.
//!
//! No command opens a connection that is not a case: a server that serves one connection
//! (`ffmpeg -listen 1`, the server of FFmpeg ticket 6453) would take a probe connection as its
//! client and exit, and production servers log such a connection as an error or count it
//! against a rate limit. So the run's first connection — the first case's own — is its scout:
//! the cases after it wait until the scout's TCP connect has an answer. When the scout could not
//! connect, the target is unreachable and no other connection is tried; when it connected, it is
//! that case's connection and the rest go on, and a connection refused later in the run is told
//! apart from a target that was never there ([`ConnectFailure::StoppedAccepting`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// Why the target could not be reached by the run's first connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unreachable {
    #[error("connection refused by {addr}")]
    Refused { addr: SocketAddr },
    #[error("no answer from {addr} within {} s", .within.as_secs_f64())]
    TimedOut { addr: SocketAddr, within: Duration },
    #[error("cannot connect to {addr}: {reason}")]
    Failed { addr: SocketAddr, reason: String },
}

impl Unreachable {
    /// The kind of failure of a `connect()` to `addr`.
    pub fn from_io(addr: SocketAddr, error: &std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::ConnectionRefused => Unreachable::Refused { addr },
            std::io::ErrorKind::TimedOut => Unreachable::TimedOut {
                addr,
                within: Duration::ZERO,
            },
            _ => Unreachable::Failed {
                addr,
                reason: error.to_string(),
            },
        }
    }
}

/// How a connection that failed at TCP connect stands in the run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// The run's first connection failed: the target is unreachable and the run stops.
    Unreachable(Unreachable),
    /// Earlier connections of this run were accepted: the server was there and stopped
    /// accepting (or answering) after `accepted` of them.
    StoppedAccepting { accepted: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scout {
    /// The first connection has not had its answer yet; the number counts scouts that were
    /// dropped before theirs (a case stopped by its time limit, Ctrl-C), so that waiting
    /// connections notice and one of them becomes the scout.
    Pending(u64),
    Connected,
    Failed(Unreachable),
}

/// Shared by every connection of one run (cases, attempts, companions, load clients).
#[derive(Debug)]
pub struct Reach {
    scout: watch::Sender<Scout>,
    scout_taken: AtomicBool,
    accepted: AtomicU64,
}

impl Default for Reach {
    fn default() -> Self {
        Self {
            scout: watch::Sender::new(Scout::Pending(0)),
            scout_taken: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
        }
    }
}

/// Leave to try one connection, given by [`Reach::admit`]; say how it went with
/// [`Admission::connected`] or [`Admission::failed`]. A scout's admission dropped without
/// either passes the scout's part to a waiting connection.
#[derive(Debug)]
#[must_use = "say how the connection went"]
pub struct Admission<'a> {
    reach: &'a Reach,
    scout: bool,
}

impl Admission<'_> {
    /// The connection was accepted.
    pub fn connected(self) {
        let reach = self.reach;
        std::mem::forget(self);
        reach.accepted.fetch_add(1, Ordering::AcqRel);
        reach.scout.send_if_modified(|s| {
            let first = matches!(s, Scout::Pending(_));
            if first {
                *s = Scout::Connected;
            }
            first
        });
    }

    /// The connection failed at TCP connect with `why`: as the run's first (the target is
    /// unreachable, and the waiting connections learn it), or after others were accepted.
    pub fn failed(self, why: Unreachable) -> ConnectFailure {
        let reach = self.reach;
        std::mem::forget(self);
        let mut first = false;
        reach.scout.send_if_modified(|s| {
            first = matches!(s, Scout::Pending(_));
            if first {
                *s = Scout::Failed(why.clone());
            }
            first
        });
        match reach.accepted.load(Ordering::Acquire) {
            0 => ConnectFailure::Unreachable(why),
            _ if first => ConnectFailure::Unreachable(why),
            accepted => ConnectFailure::StoppedAccepting { accepted },
        }
    }
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        if !self.scout {
            return;
        }
        // The scout went away before its connect had an answer: the next to look is scout.
        self.reach.scout.send_if_modified(|s| match s {
            Scout::Pending(dropped) => {
                *dropped += 1;
                self.reach.scout_taken.store(false, Ordering::Release);
                true
            }
            _ => false,
        });
    }
}

impl Reach {
    pub fn new() -> std::sync::Arc<Reach> {
        std::sync::Arc::new(Reach::default())
    }

    /// Waits until a connection may be tried: at once for the run's first, which becomes the
    /// scout; for the others, until the scout has connected. An error when the scout found the
    /// target unreachable: the connection is not tried.
    pub async fn admit(&self) -> Result<Admission<'_>, Unreachable> {
        let mut seen = self.scout.subscribe();
        loop {
            let state = seen.borrow_and_update().clone();
            match state {
                Scout::Connected => {
                    return Ok(Admission {
                        reach: self,
                        scout: false,
                    })
                }
                Scout::Failed(why) => return Err(why),
                Scout::Pending(_) => {
                    if !self.scout_taken.swap(true, Ordering::AcqRel) {
                        // Wakes `scout_chosen`; the waiting connections look again and wait on.
                        self.scout.send_modify(|_| {});
                        return Ok(Admission {
                            reach: self,
                            scout: true,
                        });
                    }
                    // `self` holds the sender, so the channel cannot close under us.
                    let _ = seen.changed().await;
                }
            }
        }
    }

    /// Waits until some connection has become the scout (or the scout has its answer), so that
    /// a run that starts its cases in order can make its first case the scout.
    pub async fn scout_chosen(&self) {
        let mut seen = self.scout.subscribe();
        loop {
            let pending = matches!(*seen.borrow_and_update(), Scout::Pending(_));
            if !pending || self.scout_taken.load(Ordering::Acquire) {
                return;
            }
            let _ = seen.changed().await;
        }
    }

    /// Why the run's first connection could not connect, if it could not.
    pub fn unreachable(&self) -> Option<Unreachable> {
        match &*self.scout.borrow() {
            Scout::Failed(why) => Some(why.clone()),
            _ => None,
        }
    }

    /// Connections of this run that were accepted.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        ([127, 0, 0, 1], 9).into()
    }

    #[tokio::test]
    async fn the_first_connection_is_tried_alone_and_the_rest_wait_for_its_answer() {
        let reach = Reach::new();
        let scout = reach.admit().await.expect("the scout is admitted at once");
        let waiting = tokio::spawn({
            let reach = reach.clone();
            async move { reach.admit().await.map(|a| a.connected()) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiting.is_finished(),
            "a second connection waits for the scout"
        );
        scout.connected();
        assert_eq!(waiting.await.unwrap(), Ok(()));
        assert_eq!(reach.accepted(), 2);
        assert_eq!(reach.unreachable(), None);
        // Refused after two were accepted: the server stopped accepting.
        let refused = Unreachable::Refused { addr: addr() };
        let third = reach
            .admit()
            .await
            .expect("admitted once the scout connected");
        assert_eq!(
            third.failed(refused),
            ConnectFailure::StoppedAccepting { accepted: 2 }
        );
    }

    #[tokio::test]
    async fn a_scout_that_cannot_connect_stops_every_other_connection() {
        let reach = Reach::new();
        let scout = reach.admit().await.expect("the scout is admitted at once");
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let reach = reach.clone();
                tokio::spawn(async move { reach.admit().await.map(|a| a.connected()) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let refused = Unreachable::Refused { addr: addr() };
        assert_eq!(
            scout.failed(refused.clone()),
            ConnectFailure::Unreachable(refused.clone())
        );
        for w in waiting {
            assert_eq!(w.await.unwrap(), Err(refused.clone()));
        }
        assert!(reach.admit().await.is_err());
        assert_eq!(reach.unreachable(), Some(refused));
        assert_eq!(reach.accepted(), 0);
    }

    #[tokio::test]
    async fn a_scout_dropped_before_its_answer_hands_the_part_to_a_waiting_connection() {
        let reach = Reach::new();
        let scout = reach.admit().await.expect("the scout is admitted at once");
        let waiting = tokio::spawn({
            let reach = reach.clone();
            async move {
                let next = reach.admit().await.expect("admitted");
                let refused = Unreachable::Refused { addr: addr() };
                next.failed(refused)
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished());
        drop(scout);
        // The waiting connection became the scout: its failure is the target's.
        assert!(matches!(
            waiting.await.unwrap(),
            ConnectFailure::Unreachable(_)
        ));
        assert!(reach.unreachable().is_some());
    }

    #[test]
    fn unreachable_targets_read_as_the_pre_check_said_them() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            Unreachable::from_io(addr(), &refused).to_string(),
            "connection refused by 127.0.0.1:9"
        );
        let timed_out = Unreachable::TimedOut {
            addr: addr(),
            within: Duration::from_secs(5),
        };
        assert_eq!(
            timed_out.to_string(),
            "no answer from 127.0.0.1:9 within 5 s"
        );
        let other = std::io::Error::other("no route to host");
        assert_eq!(
            Unreachable::from_io(addr(), &other).to_string(),
            "cannot connect to 127.0.0.1:9: no route to host"
        );
    }
}
