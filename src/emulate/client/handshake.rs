//! The client's handshake as the profile and variant play it: how C0 and C1 are cut and
//! timed, what the client makes of S0, S1 and S2, and the profiles that give up or crash on
//! what they read.

use super::{stop, EmulatorClient, Gate, Pending, Stage, Status, S0_S1_LEN, WAIT_FOR_S0};
use crate::emulate::profile::{C0C1Writes, S2Check};
use crate::emulate::variant::Variant;
use crate::protocol::handshake::{HandshakeEvent, Packet};
use crate::transcript::EventKind;
use bytes::{Bytes, BytesMut};

impl EmulatorClient {
    /// C0 and C1 as the variant, or else the profile, cuts them.
    pub(super) fn schedule_hello(&mut self, c0: Bytes, c1: Bytes) {
        let apart = match (self.variant, self.profile.c0c1) {
            (Variant::SplitC0, _) => Some(Gate::Now),
            (Variant::Default, C0C1Writes::Apart(gap)) => Some(Gate::At(gap)),
            (Variant::C0WaitS0, _) => Some(Gate::FirstRead {
                deadline: WAIT_FOR_S0,
            }),
            _ => None,
        };
        if let Some(gate) = apart {
            self.queue_handshake(Gate::Now, c0, false);
            self.queue_handshake(gate, c1, true);
            return;
        }
        let mut c0c1 = BytesMut::with_capacity(c0.len() + c1.len());
        c0c1.extend_from_slice(&c0);
        c0c1.extend_from_slice(&c1);
        let c0c1 = c0c1.freeze();
        if self.variant == Variant::Split1536 && c0c1.len() > 1536 {
            self.queue_handshake(Gate::Now, c0c1.slice(..1536), false);
            self.queue_handshake(Gate::Now, c0c1.slice(1536..), false);
        } else {
            self.queue_handshake(Gate::Now, c0c1, false);
        }
    }

    /// Queues a handshake write, one byte per write for `bytewise`.
    pub(super) fn queue_handshake(&mut self, gate: Gate, bytes: Bytes, c1: bool) {
        if self.variant == Variant::Bytewise && bytes.len() > 1 {
            for i in 0..bytes.len() {
                self.pending.push_back(Pending {
                    gate: if i == 0 { gate } else { Gate::Now },
                    bytes: bytes.slice(i..i + 1),
                    handshake: true,
                    c1: c1 && i == 0,
                });
            }
            return;
        }
        self.pending.push_back(Pending {
            gate,
            bytes,
            handshake: true,
            c1,
        });
    }

    /// C1's write is due. A client that re-enters its handshake steps on the write-ready
    /// notification after C1 builds C2 from S1 then: with S0 in but S1 not complete, from an
    /// empty buffer through a null pointer, and it crashes (VideoCore).
    pub(super) fn c1_due(&mut self) {
        let arrived = self.received;
        if !self.profile.write_ready_reenters_handshake || arrived == 0 || arrived >= S0_S1_LEN {
            return;
        }
        self.reset = true;
        self.fail(stop(
            Status::Fail,
            Stage::Handshake,
            "hs.c2-from-empty-s1",
            format!(
                "{arrived} byte(s) (S0) arrived before C1 was written: the server answered C0 \
                 without waiting for C1; {} handles the write-ready notification after C1 by \
                 building C2 from its still-empty S1 buffer, writes through a null pointer and \
                 crashes, so the connection is reset (VideoCore RTMPSession::streamStatusChanged \
                 -> handshake -> handshake2; docs/videocore-6453.md)",
                self.profile.name
            ),
        ));
    }

    pub(super) fn on_handshake(&mut self, e: HandshakeEvent) {
        match &e {
            HandshakeEvent::Hello {
                packet: Packet::S1,
                version,
                ..
            } => {
                self.observations.s1_version = Some(format!(
                    "{}.{}.{}.{}",
                    version[0], version[1], version[2], version[3]
                ));
            }
            HandshakeEvent::DigestValid {
                packet: Packet::S1, ..
            } => self.observations.s1_digest = Some(true),
            HandshakeEvent::NoDigest {
                packet: Packet::S1, ..
            } => self.observations.s1_digest = Some(false),
            HandshakeEvent::Answer {
                packet: Packet::S2,
                echo,
            } => {
                self.observations.s2 = Some(e.id().to_string());
                if self.profile.s2_check == S2Check::RequireEchoFrom8 && !echo.random_matches {
                    let id = e.id();
                    self.event(EventKind::handshake_event(&e));
                    self.fail(stop(
                        Status::Fail,
                        Stage::Handshake,
                        "hs.s2-not-echo",
                        format!("{e} ({id}); {} requires S2 to echo C1 from byte 8 and gives up (mediamtx#1244)", self.profile.name),
                    ));
                    return;
                }
            }
            HandshakeEvent::Version {
                packet: Packet::S0,
                version,
            } if *version != 3 => {
                self.deviation("hs.s0-not-3", format!("S0 is {version}, not 3"));
            }
            _ => {}
        }
        self.event(EventKind::handshake_event(&e));
    }

    /// In the simple handshake the specification has S2 echo C1 (its time2 field aside).
    pub(super) fn check_simple_s2(&mut self) {
        match self.observations.s2.as_deref() {
            Some("hs.s2-echo") | Some("hs.s2-echo-from-8") | None => {}
            Some(other) => {
                let what = if other == "hs.s2-zero" {
                    "is all zero bytes"
                } else {
                    "does not echo C1"
                };
                let message = format!("S2 {what} ({other}); the specification has S2 echo C1's random bytes; {} only warns", self.profile.name);
                self.deviation("hs.s2-not-echo", message);
            }
        }
    }
}
