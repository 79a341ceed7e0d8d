//! How a captured flow ended. A FIN or a reset in the capture is only a close if the peers
//! honoured it: a damaged segment can carry a flag nobody acted on (the receiver dropped it, and
//! the sender went on sending), so the close is decided once the flow is over, and put back in
//! the transcript where it happened. A flow gets one `closed` line.

use crate::protocol::Side;
use crate::transcript::{CloseCause, Flag};

/// A FIN or RST seen in one direction.
#[derive(Debug, Clone)]
struct Mark {
    /// 0 = client, 1 = server.
    side: usize,
    reset: bool,
    frame: u64,
    /// Where the flag sits in its side's stream: bytes past it cannot follow a real close.
    offset: u64,
    /// Where the close goes in the transcript, and its time.
    index: usize,
    at_us: u64,
    /// The other side's bytes after this mark: where the first went in the transcript, its
    /// frame and time, and how many.
    after: Option<After>,
}

#[derive(Debug, Clone, Copy)]
struct After {
    index: usize,
    frame: u64,
    at_us: u64,
    bytes: u64,
}

/// A flag the peer that sent it did not honour: it went on sending past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ignored {
    pub side: usize,
    pub reset: bool,
    pub frame: u64,
}

/// The close, once the flow is over: what goes where in the transcript.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Close {
    pub index: usize,
    pub at_us: u64,
    pub reason: CloseCause,
    pub frames: Vec<u64>,
    /// The other side went on sending after the close: where to say so, and what.
    pub after: Option<AfterClose>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AfterClose {
    pub index: usize,
    pub at_us: u64,
    /// 0 = client, 1 = server: who went on sending.
    pub side: usize,
    pub bytes: u64,
    /// The frame of the close, then the frame of the first byte after it.
    pub frames: Vec<u64>,
}

/// The FINs and resets of one flow.
#[derive(Debug, Default)]
pub(super) struct Closing {
    marks: Vec<Mark>,
}

pub(super) fn who(side: usize) -> &'static str {
    if side == 0 {
        "client"
    } else {
        "server"
    }
}

impl Closing {
    /// `side` sent a FIN (or a reset) at `offset` of its stream, in `frame`; the close would go
    /// at transcript position `index`, time `at_us`. A repeated flag (a retransmitted FIN) adds
    /// nothing.
    pub(super) fn mark(
        &mut self,
        side: usize,
        reset: bool,
        frame: u64,
        offset: u64,
        index: usize,
        at_us: u64,
    ) {
        if self
            .marks
            .iter()
            .any(|m| m.side == side && m.reset == reset)
        {
            return;
        }
        self.marks.push(Mark {
            side,
            reset,
            frame,
            offset,
            index,
            at_us,
            after: None,
        });
    }

    /// `side`'s stream reached `end` with bytes from `frame`, whose events go at transcript
    /// position `index`: a flag of `side` before `end` was not honoured (returned, and
    /// forgotten); for a flag of the other side, these are bytes after its close.
    pub(super) fn data(
        &mut self,
        side: usize,
        end: u64,
        len: u64,
        frame: u64,
        index: usize,
        at_us: u64,
    ) -> Vec<Ignored> {
        let mut ignored = Vec::new();
        self.marks.retain(|m| {
            let past = m.side == side && end > m.offset;
            if past {
                ignored.push(Ignored {
                    side,
                    reset: m.reset,
                    frame: m.frame,
                });
            }
            !past
        });
        for m in self.marks.iter_mut().filter(|m| m.side != side) {
            match &mut m.after {
                Some(after) => after.bytes += len,
                None => {
                    m.after = Some(After {
                        index,
                        frame,
                        at_us,
                        bytes: len,
                    })
                }
            }
        }
        ignored
    }

    /// The flow is over: its close, if the capture shows one the peers honoured.
    pub(super) fn finish(self) -> Option<Close> {
        let first = self.marks.first()?.clone();
        let reason = CloseCause::flags(
            self.marks
                .iter()
                .map(|m| Flag {
                    side: if m.side == 0 {
                        Side::Client
                    } else {
                        Side::Server
                    },
                    reset: m.reset,
                })
                .collect(),
        );
        let after = first.after.map(|a| AfterClose {
            // The close itself goes in before it.
            index: a.index + 1,
            at_us: a.at_us,
            side: 1 - first.side,
            bytes: a.bytes,
            frames: [first.frame, a.frame]
                .into_iter()
                .filter(|&f| f != 0)
                .collect(),
        });
        Some(Close {
            index: first.index,
            at_us: first.at_us,
            reason,
            frames: self
                .marks
                .iter()
                .map(|m| m.frame)
                .filter(|&f| f != 0)
                .collect(),
            after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_whose_sender_goes_on_was_not_a_close() {
        let mut c = Closing::default();
        // A damaged segment from the server with RST at offset 100; the server goes on.
        c.mark(1, true, 961, 100, 5, 10);
        assert_eq!(c.data(0, 40, 4, 963, 6, 11), []);
        assert_eq!(
            c.data(1, 229, 129, 964, 7, 12),
            [Ignored {
                side: 1,
                reset: true,
                frame: 961
            }]
        );
        assert_eq!(c.finish(), None);
    }

    #[test]
    fn one_close_names_each_flag_and_the_bytes_sent_after_it() {
        let mut c = Closing::default();
        c.mark(1, false, 3107, 500, 20, 100);
        c.mark(1, false, 3108, 500, 20, 100); // retransmitted
        assert_eq!(c.data(0, 80, 8, 3109, 21, 110), []);
        c.mark(1, true, 3110, 501, 23, 120);
        assert_eq!(
            c.finish(),
            Some(Close {
                index: 20,
                at_us: 100,
                reason: "the server closed the connection, then reset it"
                    .parse()
                    .unwrap(),
                frames: vec![3107, 3110],
                after: Some(AfterClose {
                    index: 22,
                    at_us: 110,
                    side: 0,
                    bytes: 8,
                    frames: vec![3107, 3109],
                }),
            })
        );
        let mut c = Closing::default();
        c.mark(0, false, 7, 50, 3, 1);
        c.mark(1, false, 8, 60, 4, 2);
        assert_eq!(
            c.finish().map(|c| c.reason.to_string()),
            Some("the client closed the connection, then the server closed it".into())
        );
    }
}
