//! The re-enactment as a sans-IO state machine: the driver feeds it the live server's bytes and
//! asks for the next write; it says what to send, after how long, or what it still waits for.

use super::replies::ServerReplies;
use super::script::Script;
use crate::protocol::handshake::{C2Answer, Fallback, HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::random::RandomSource;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Next {
    /// Wait `think` (before scaling by the speed), then write `bytes`.
    Send { bytes: Vec<u8>, think: Duration },
    /// The captured client had heard these from its server before its next write; the live
    /// server has not sent them yet.
    Wait { missing: Vec<String> },
    /// Every captured write has been sent.
    Done,
}

/// Why the re-enactment cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Stalled {
    #[error("the live server sent {got} of the {needed} handshake bytes the captured client had received before its next write")]
    Handshake { got: usize, needed: usize },
}

pub struct Reenactment {
    script: Script,
    sent: usize,
    server: ServerReplies,
    /// Indices of captured replies the live server never sent and no longer waited for.
    waived: HashSet<usize>,
    /// Captured replies [..met] are accounted for.
    met: usize,
    /// Captured stream id -> live stream id.
    stream_ids: HashMap<u32, u32>,
    c2: Option<[u8; PACKET_LEN]>,
    rng: RandomSource,
    site_cursor: usize,
    notes: Vec<String>,
}

/// How far the re-enactment has come; the script and the server's bytes are left out.
impl std::fmt::Debug for Reenactment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reenactment")
            .field("sent", &self.sent)
            .field("met", &self.met)
            .field("stream_ids", &self.stream_ids)
            .field("notes", &self.notes)
            .finish_non_exhaustive()
    }
}

impl Reenactment {
    pub fn new(script: Script, rng: RandomSource) -> Self {
        Self {
            script,
            sent: 0,
            server: ServerReplies::default(),
            waived: HashSet::new(),
            met: 0,
            stream_ids: HashMap::new(),
            c2: None,
            rng,
            site_cursor: 0,
            notes: Vec::new(),
        }
    }

    /// What was rewritten or assumed, for the report.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Writes sent so far, and in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.sent, self.script.writes.len())
    }

    /// Bytes from the live server.
    pub fn server_bytes(&mut self, bytes: &[u8]) {
        let was_readable = self.server.failed().is_none();
        let (create_streams, stream_ids, notes) = (
            &self.script.create_streams,
            &mut self.stream_ids,
            &mut self.notes,
        );
        self.server.feed(bytes, |reply| {
            let captured = create_streams.get(&reply.transaction_id.to_bits());
            if let (Some(&captured), Some(live)) = (captured, reply.stream_id) {
                if stream_ids.insert(captured, live).is_none() {
                    notes.push(format!(
                        "createStream #{}: the captured server gave stream {captured}, the live one {live}{}",
                        reply.transaction_id,
                        if captured == live { "" } else { "; the client's uses of it are rewritten" }
                    ));
                }
            }
        });
        if let (true, Some(e)) = (was_readable, self.server.failed()) {
            self.notes.push(format!(
                "the live server's chunk stream could not be read further ({e}); its replies are no longer awaited"
            ));
        }
    }

    /// Server handshake bytes the next write waits for: what the captured client had, and
    /// S1 at least for a write that carries C2.
    fn handshake_needed(&self, index: usize) -> usize {
        let write = &self.script.writes[index];
        let touches_c2 = write.offset + write.bytes.len() as u64 > (1 + PACKET_LEN) as u64
            && write.offset < HANDSHAKE_LEN as u64;
        if touches_c2 {
            write.server_handshake.max(1 + PACKET_LEN)
        } else {
            write.server_handshake
        }
    }

    /// Whether the next write waits for the live server's handshake bytes (which the
    /// handshake timeout bounds, not the reply timeout).
    pub fn awaits_handshake(&self) -> bool {
        self.sent < self.script.writes.len()
            && self.server.handshake().len() < self.handshake_needed(self.sent)
    }

    pub fn poll_write(&mut self) -> Next {
        let Some(write) = self.script.writes.get(self.sent) else {
            return Next::Done;
        };
        let (offset, replies, think) = (write.offset, write.replies, write.think);
        let handshake_needed = self.handshake_needed(self.sent);
        if self.server.handshake().len() < handshake_needed {
            return Next::Wait {
                missing: vec![format!(
                    "{handshake_needed} bytes of S0+S1+S2 (the live server has sent {})",
                    self.server.handshake().len()
                )],
            };
        }
        self.advance_met(replies);
        if self.met < replies {
            if self.server.failed().is_none() {
                return Next::Wait {
                    missing: self.missing(replies),
                };
            }
            let _ = self.waive();
        }
        let mut bytes = self.script.writes[self.sent].bytes.clone();
        if offset < HANDSHAKE_LEN as u64 {
            self.put_c2(offset, &mut bytes);
        }
        self.rewrite_sites(offset, &mut bytes);
        self.sent += 1;
        Next::Send { bytes, think }
    }

    /// Stops waiting for the replies [`Next::Wait`] named; an incomplete handshake cannot be
    /// waived.
    pub fn waive(&mut self) -> Result<Vec<String>, Stalled> {
        let Some(write) = self.script.writes.get(self.sent) else {
            return Ok(Vec::new());
        };
        let upto = write.replies;
        let needed = self.handshake_needed(self.sent);
        if self.server.handshake().len() < needed {
            return Err(Stalled::Handshake {
                got: self.server.handshake().len(),
                needed,
            });
        }
        let missing = self.missing(upto);
        for i in self.met..upto {
            if !self.is_met(i) {
                self.waived.insert(i);
            }
        }
        self.advance_met(upto);
        Ok(missing)
    }

    fn is_met(&self, i: usize) -> bool {
        let (key, nth) = &self.script.replies[i];
        self.waived.contains(&i) || self.server.count(key) >= *nth
    }

    fn advance_met(&mut self, upto: usize) {
        while self.met < upto && self.is_met(self.met) {
            self.met += 1;
        }
    }

    fn missing(&self, upto: usize) -> Vec<String> {
        (self.met..upto)
            .filter(|&i| !self.is_met(i))
            .map(|i| self.script.replies[i].0.clone())
            .collect()
    }

    fn put_c2(&mut self, offset: u64, bytes: &mut [u8]) {
        let c2_start = (1 + PACKET_LEN) as u64;
        if offset + (bytes.len() as u64) <= c2_start {
            return;
        }
        let c2 = match self.c2 {
            Some(c2) => c2,
            None => {
                let s1: [u8; PACKET_LEN] = self.server.handshake()[1..1 + PACKET_LEN]
                    .try_into()
                    .expect("S1 is in: poll_write() waited for it");
                let captured = self.script.captured_c2.unwrap_or([0; PACKET_LEN]);
                let answer = self.script.c2_answer.unwrap_or(C2Answer::Verbatim);
                let (c2, fallback) = answer.answer(&s1, &captured, &mut self.rng);
                self.notes.push(match fallback {
                    Some(Fallback::EchoForUnsignedS1) => format!(
                        "C2: the captured one was {answer}, but the live S1 carries no digest: echoed instead"
                    ),
                    None => format!("C2: regenerated for the live S1 as the captured one was: {answer}"),
                });
                self.c2 = Some(c2);
                c2
            }
        };
        for (i, b) in bytes.iter_mut().enumerate() {
            let at = offset + i as u64;
            if (c2_start..HANDSHAKE_LEN as u64).contains(&at) {
                *b = c2[(at - c2_start) as usize];
            }
        }
    }

    fn rewrite_sites(&mut self, offset: u64, bytes: &mut [u8]) {
        let end = offset + bytes.len() as u64;
        let sites = &self.script.sites;
        let mut i = self.site_cursor;
        while let Some(site) = sites.get(i) {
            if site.positions[0] >= end {
                break;
            }
            if let Some(&live) = self.stream_ids.get(&site.captured) {
                for (&at, value) in site.positions.iter().zip(site.encoding.bytes(live)) {
                    if (offset..end).contains(&at) {
                        bytes[(at - offset) as usize] = value;
                    }
                }
            }
            i += 1;
        }
        while sites
            .get(self.site_cursor)
            .is_some_and(|s| s.positions.last().is_some_and(|&last| last < end))
        {
            self.site_cursor += 1;
        }
    }
}
