//! How our handshake packets are grouped into writes and when each group may go.
//!
//! Real servers differ exactly here (FFmpeg writes S0 alone before C1 has arrived, nginx-rtmp
//! writes S0+S1 and then S2, Twitch three segments), and clients read those boundaries, so the
//! plan is a parameter of the connection rather than the driver's choice.

use crate::protocol::handshake::Packet;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;

/// A plan for our handshake writes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeWrites {
    /// Our packets in write groups, in order; each group is one write, made as soon as all its
    /// packets exist and the two conditions below allow. (S0 and C0, S1 and C1, S2 and C2 name
    /// the same slot: our version byte, hello and answer.)
    pub groups: &'static [&'static [Packet]],
    /// The pause before each group after the first (a real server's measured gaps between its
    /// writes): [`super::Connection::poll_transmit`] hands a group out no sooner than this long
    /// after it took the one before.
    pub pauses: &'static [Duration],
    /// Write nothing until the peer's hello (C1 or S1) is complete.
    pub wait_for_peer_hello: bool,
    /// Hold the group holding our answer (S2 or C2) until the peer's answer has arrived.
    pub answer_after_peer_answer: bool,
}

impl HandshakeWrites {
    /// S0+S1+S2 in one write once C1 is in.
    pub fn server_default() -> Self {
        Self {
            groups: &[&[Packet::S0, Packet::S1, Packet::S2]],
            pauses: &[],
            wait_for_peer_hello: true,
            answer_after_peer_answer: false,
        }
    }

    /// C0+C1 at once, C2 as soon as S1 is in.
    pub fn client_default() -> Self {
        Self {
            groups: &[&[Packet::C0, Packet::C1], &[Packet::C2]],
            pauses: &[],
            wait_for_peer_hello: false,
            answer_after_peer_answer: false,
        }
    }
}

/// A group made ready to go: its pause counts from the previous group's write, or from when
/// it became ready if that is later.
#[derive(Debug)]
struct Queued {
    packets: &'static [Packet],
    ready_at: Duration,
    pause: Duration,
    bytes: Bytes,
}

/// The plan being carried out.
#[derive(Debug)]
pub(super) struct WritePlan {
    plan: HandshakeWrites,
    /// Our packets made but not yet written: version byte, hello, answer.
    ready: [Option<Bytes>; 3],
    next_group: usize,
    peer_hello: bool,
    peer_answer: bool,
    writes: VecDeque<Queued>,
    /// When the driver took our last handshake write.
    last_write: Duration,
}

fn slot(packet: Packet) -> usize {
    match packet {
        Packet::C0 | Packet::S0 => 0,
        Packet::C1 | Packet::S1 => 1,
        Packet::C2 | Packet::S2 => 2,
    }
}

impl WritePlan {
    pub(super) fn new(plan: HandshakeWrites) -> Self {
        Self {
            plan,
            ready: [None, None, None],
            next_group: 0,
            peer_hello: false,
            peer_answer: false,
            writes: VecDeque::new(),
            last_write: Duration::ZERO,
        }
    }

    pub(super) fn ready(&mut self, packet: Packet, bytes: Bytes) {
        self.ready[slot(packet)] = Some(bytes);
    }

    pub(super) fn peer_hello(&mut self) {
        self.peer_hello = true;
    }

    pub(super) fn peer_answered(&mut self) {
        self.peer_answer = true;
    }

    /// Every group has been written.
    pub(super) fn is_done(&self) -> bool {
        self.next_group >= self.plan.groups.len() && self.writes.is_empty()
    }

    /// A group is ready and waits for the driver (perhaps for its pause to pass).
    pub(super) fn has_queued(&self) -> bool {
        !self.writes.is_empty()
    }

    /// Queues the next group, made ready at `now`, when it may go.
    pub(super) fn flush_next(&mut self, now: Duration) -> bool {
        let Some(&group) = self.plan.groups.get(self.next_group) else {
            return false;
        };
        if self.plan.wait_for_peer_hello && !self.peer_hello {
            return false;
        }
        let holds_answer = group.iter().any(|&p| slot(p) == 2);
        if holds_answer && self.plan.answer_after_peer_answer && !self.peer_answer {
            return false;
        }
        if group.iter().any(|&p| self.ready[slot(p)].is_none()) {
            return false;
        }
        let mut out = BytesMut::new();
        for &packet in group {
            if let Some(bytes) = self.ready[slot(packet)].take() {
                out.extend_from_slice(&bytes);
            }
        }
        let pause = match self.next_group {
            0 => Duration::ZERO,
            n => self.plan.pauses.get(n - 1).copied().unwrap_or_default(),
        };
        self.next_group += 1;
        self.writes.push_back(Queued {
            packets: group,
            ready_at: now,
            pause,
            bytes: out.freeze(),
        });
        true
    }

    /// When the next queued group may go: its pause after the previous write (or after it
    /// became ready, if later).
    pub(super) fn next_due(&self) -> Option<Duration> {
        let next = self.writes.front()?;
        Some(
            next.ready_at
                .max(self.last_write)
                .saturating_add(next.pause),
        )
    }

    /// The next group, if its time has come by `now`; the write is taken to happen at `now`.
    pub(super) fn poll_write(&mut self, now: Duration) -> Option<(&'static [Packet], Bytes)> {
        if self.next_due()? > now {
            return None;
        }
        let next = self.writes.pop_front()?;
        self.last_write = now;
        Some((next.packets, next.bytes))
    }
}
