//! The client's handshake as the profile and variant play it: how C0 and C1 are cut and
//! timed, what the client makes of S0, S1 and S2, and the profiles that give up or crash on
//! what they read.

use super::{
    resolved, stop, EmulatorClient, Gate, Met, Pending, Stage, Status, S0_S1_LEN, WAIT_FOR_S0,
};
use crate::deviation::Deviation;
use crate::emulate::profile::C0C1Writes;
use crate::emulate::tolerance::Reaction;
use crate::emulate::variant::Variant;
use crate::protocol::handshake::{HandshakeEvent, Packet};
use crate::transcript::DiagnosticId;
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
                    segment: true,
                    messages: Vec::new(),
                });
            }
            return;
        }
        self.pending.push_back(Pending {
            gate,
            bytes,
            handshake: true,
            c1,
            segment: true,
            messages: Vec::new(),
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
            DiagnosticId::HsC2FromEmptyS1,
            format!(
                "{} arrived before C1 was written: the server answered C0 \
                 without waiting for C1; {} handles the write-ready notification after C1 by \
                 building C2 from its still-empty S1 buffer, writes through a null pointer and \
                 crashes, so the connection is reset (VideoCore RTMPSession::streamStatusChanged \
                 -> handshake -> handshake2; docs/videocore-6453.md)",
                match arrived {
                    1 => "1 byte (S0)".to_string(),
                    n => format!("{n} bytes (S0 and {} of S1)", n - 1),
                },
                self.profile.name
            ),
        ));
    }

    /// The first read after C0+C1 held less than S0+S1 (`len` bytes): S0, S1 and S2 come
    /// split in time. The specification allows any segmentation; some clients reset.
    pub(super) fn split_first_read(&mut self, len: usize) -> Met {
        let what = match len {
            1 => "S0 (1 byte) alone".to_string(),
            n => format!("{n} bytes"),
        };
        if resolved(&self.profile, Deviation::S0S1S2SplitInTime) == Reaction::Fail {
            self.record_met(Deviation::S0S1S2SplitInTime);
            self.reset = true;
            self.fail(stop(
                Status::Fail,
                Stage::Handshake,
                DiagnosticId::HsFirstReadShort,
                format!(
                    "the first read after C0+C1 held {what}; {} needs S0+S1 (1537 bytes) in one read and resets the connection otherwise (FFmpeg ticket 6453)",
                    self.profile.name
                ),
            ));
            return Met::Stops;
        }
        let message = format!("the first read after C0+C1 held {what}");
        self.meet(
            Deviation::S0S1S2SplitInTime,
            DiagnosticId::HsFirstReadShort,
            message,
            false,
        )
    }

    pub(super) fn on_handshake(&mut self, e: HandshakeEvent) {
        self.event(EventKind::handshake_event(&e));
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
            } => {
                self.observations.s1_digest = Some(true);
                let message = "S1 carries a valid digest".to_string();
                self.meet(
                    Deviation::S1DigestPresent,
                    DiagnosticId::HsClientRejected,
                    message,
                    false,
                );
            }
            HandshakeEvent::NoDigest {
                packet: Packet::S1,
                version_set,
            } => {
                self.observations.s1_digest = Some(false);
                let (deviation, message) = if *version_set {
                    (
                        Deviation::S1DigestInvalid,
                        "S1's version bytes promise a digest that does not validate",
                    )
                } else {
                    (Deviation::S1DigestAbsent, "S1 carries no digest")
                };
                self.meet(
                    deviation,
                    DiagnosticId::HsClientRejected,
                    message.into(),
                    false,
                );
            }
            HandshakeEvent::Answer {
                packet: Packet::S2,
                echo,
            } => {
                let id = DiagnosticId::from(&e);
                self.observations.s2 = Some(id);
                // A digest S1 is answered by a signed S2, not an echo: only a simple one is
                // judged as an echo.
                if self.observations.s1_digest == Some(true) || echo.exact {
                    return;
                }
                let (deviation, what) = if echo.all_zero {
                    (Deviation::S2AllZero, "is all zero bytes")
                } else if echo.random_matches {
                    (Deviation::S2EchoFrom8Only, "echoes C1 from byte 8 only")
                } else {
                    (Deviation::S2NotEcho, "does not echo C1")
                };
                let message =
                    format!("S2 {what} ({id}); the specification has S2 echo C1's random bytes");
                // Bytes 4..8 of S2 are the server's time2, which the specification lets differ.
                let breaks_spec = deviation != Deviation::S2EchoFrom8Only;
                let id = if breaks_spec {
                    DiagnosticId::HsS2NotEcho
                } else {
                    id
                };
                self.meet(deviation, id, message, breaks_spec);
            }
            HandshakeEvent::Version {
                packet: Packet::S0,
                version,
            } if *version != 3 => {
                let message = format!("S0 is {version}, not 3");
                self.meet(
                    Deviation::S0VersionNot3,
                    DiagnosticId::HsS0Not3,
                    message,
                    true,
                );
            }
            _ => {}
        }
    }
}
