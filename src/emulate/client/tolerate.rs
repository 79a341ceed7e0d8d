//! What the client tolerates. The connection it makes is configured from its profile (the
//! reader's zero-state openings and chunk-size bound follow the profile's rows), and where the
//! client meets a server deviation it reacts as the profile's tolerance says
//! ([`crate::emulate::profile::Profile::reaction`]): goes on, warns, gives up, or stalls. The
//! detection points of the handshake live in `handshake.rs`; those of the messages after it
//! are here with the reaction itself.

use super::steps::Step;
use super::{stop, EmulatorClient, Stage, Status};
use crate::deviation::Deviation;
use crate::emulate::profile::{C2Timing, ExtendedTimestampReading};
use crate::emulate::profile::{Profile, PublishSequence, Role};
use crate::emulate::tolerance::{self, Reaction};
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{AckCadence, ExtendedTimestampConvention};
use crate::protocol::connection::{ConnectionConfig, HandshakeWrites};
use crate::protocol::handshake::Packet;
use crate::protocol::message::Command;
use crate::transcript::DiagnosticId;

/// The largest message the chunk stream can carry (24-bit length): a chunk size past it can
/// only be a server's mistake or bravado.
const MAX_MESSAGE: u32 = 0xFF_FFFF;

/// The connection a profile's client makes: its handshake, its handshake packets one per
/// write (the client cuts and times them), C2 held for S2 when the profile waits for it or
/// sends it with connect, and the protocol control the profile answers. Tolerances that
/// differ between real clients go into `config.tolerance` here, from the profile.
pub(super) fn connection_config(profile: &Profile, hold_c2: bool) -> ConnectionConfig {
    let mut config = ConnectionConfig::client(profile.client_config());
    config.writes = HandshakeWrites {
        groups: &[&[Packet::C0], &[Packet::C1], &[Packet::C2]],
        pauses: &[],
        wait_for_peer_hello: false,
        answer_after_peer_answer: hold_c2 || profile.c2_timing == C2Timing::AfterS2,
    };
    config.answer_peer_bandwidth = profile.answer_peer_bandwidth;
    // A chunk stream opened with a type 1/2/3 header is read from zeroed state when the
    // profile's client does that for any of them (FFmpeg, librtmp and GStreamer do;
    // tests/differential.rs checks it against the real programs); the emulator then reacts to
    // each opening by its own row, and with no such client the reader refuses them, as the
    // specification would have it.
    config.tolerance.zero_state_start = [
        Deviation::ChunkStreamOpenedType1,
        Deviation::ChunkStreamOpenedType2,
        Deviation::ChunkStreamOpenedType3,
    ]
    .into_iter()
    .any(|d| resolved(profile, d) != Reaction::Fail);
    // How the client reads a type-3 chunk after an extended timestamp is behaviour too: FFmpeg
    // and librtmp always read the 4 bytes, so a server that omits them is misread, not met.
    config.tolerance.extended_timestamp_reading = match profile.extended_timestamp_reading {
        ExtendedTimestampReading::Detect => None,
        ExtendedTimestampReading::Repeat => Some(ExtendedTimestampConvention::Repeat),
        ExtendedTimestampReading::Omit => Some(ExtendedTimestampConvention::Omit),
    };
    // When the client acknowledges is behaviour, not a reaction: a server that enforces a tiny
    // window (window-ack-tiny-strict) stalls exactly the clients whose cadence leaves it waiting.
    config.ack_cadence = profile.ack_cadence;
    // librtmp counts every byte it reads, the handshake's too (rtmp.c ReadN()); FFmpeg
    // (rtmpproto.c get_packet()) and GStreamer (rtmpconnection.c) count the chunk stream's.
    config.ack_counts_handshake = profile.ack_cadence == AckCadence::PeerBandwidthTenth;
    if profile.goes_on(Deviation::SetChunkSizeHuge) {
        // The reader only ever holds what a message needs, so the bound is the client's, not
        // a safety limit: the real client takes any 31-bit size.
        config.limits.max_chunk_size = 0x7FFF_FFFF;
    }
    config
}

/// The profile's reaction to `deviation`, unknown read as the specification's strict reading.
pub(super) fn resolved(profile: &Profile, deviation: Deviation) -> Reaction {
    match profile.reaction(deviation).reaction {
        Reaction::Unknown => tolerance::strict_reading(deviation),
        known => known,
    }
}

/// The deviation of a chunk stream opened with a type `fmt` (1, 2 or 3) header.
pub(super) fn opened_without_type0(fmt: u8) -> Deviation {
    match fmt {
        1 => Deviation::ChunkStreamOpenedType1,
        2 => Deviation::ChunkStreamOpenedType2,
        _ => Deviation::ChunkStreamOpenedType3,
    }
}

/// Whether the client goes on after meeting a deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Met {
    GoesOn,
    /// It failed, or stalls: the caller does nothing more with what it was handling.
    Stops,
}

impl EmulatorClient {
    /// The client meets `deviation` (seen as `id`, described by `message`) and reacts as its
    /// profile says: accept and warn go on (the case NON-STRICT when the deviation `breaks_spec`,
    /// a warning finding for warn), fail ends the case at the current stage, stall takes
    /// nothing more in until the wait runs out. An unknown reaction is the strict reading.
    pub(super) fn meet(
        &mut self,
        deviation: Deviation,
        id: DiagnosticId,
        message: String,
        breaks_spec: bool,
    ) -> Met {
        self.record_met(deviation);
        let key = deviation.key();
        let name = self.profile.name.clone();
        match resolved(&self.profile, deviation) {
            Reaction::Accept | Reaction::Unknown => {
                if breaks_spec {
                    self.deviation(id, message);
                }
                Met::GoesOn
            }
            Reaction::Warn => {
                if breaks_spec {
                    self.deviation(id, message);
                }
                let warns =
                    format!("{name}'s real client logs a warning about it ({key}) and goes on");
                self.diagnostic(DiagnosticId::ToleranceClientWarns, &warns);
                self.note(DiagnosticId::ToleranceClientWarns, warns);
                Met::GoesOn
            }
            Reaction::Fail => {
                let stage = if self.conn.is_handshaking() || self.step_is_handshake() {
                    Stage::Handshake
                } else {
                    self.stage
                };
                self.fail(stop(
                    Status::Fail,
                    stage,
                    id,
                    format!("{message}; {name} gives up there ({key}: fail)"),
                ));
                Met::Stops
            }
            Reaction::Stall => {
                let handshake = self.step_is_handshake();
                let (stage, wait, timeout_id) = if handshake {
                    (
                        Stage::Handshake,
                        // The handshake's own deadline: it counts from the case's start.
                        self.plan.handshake_timeout.saturating_sub(self.now),
                        DiagnosticId::HsTimeout,
                    )
                } else {
                    (
                        self.stage,
                        self.plan.reply_timeout,
                        DiagnosticId::MsgTimeout,
                    )
                };
                let text =
                    format!("{message}; {name} takes nothing more in and waits ({key}: stall)");
                self.diagnostic(DiagnosticId::ToleranceClientStalls, &text);
                self.note(DiagnosticId::ToleranceClientStalls, text.clone());
                self.pending.clear();
                self.stall = Some((
                    self.now + wait,
                    stop(
                        Status::Timeout,
                        stage,
                        timeout_id,
                        format!("{text}: nothing happened within {wait:?}"),
                    ),
                ));
                Met::Stops
            }
        }
    }

    /// Notes that the client met `deviation` (once), for [`super::Outcome::met`].
    pub(super) fn record_met(&mut self, deviation: Deviation) {
        if !self.met.contains(&deviation) {
            self.met.push(deviation);
        }
    }

    pub(super) fn step_is_handshake(&self) -> bool {
        matches!(self.step, Step::Handshake)
    }

    /// A Set Chunk Size from the server: past any message's size, and before or after
    /// connect's `_result`.
    pub(super) fn met_chunk_size(&mut self, size: u32) -> Met {
        if size > MAX_MESSAGE {
            let message =
                format!("the server's Set Chunk Size {size} is past the 16 MiB a message can hold");
            if self.meet(
                Deviation::SetChunkSizeHuge,
                DiagnosticId::ChunkError,
                message,
                false,
            ) == Met::Stops
            {
                return Met::Stops;
            }
        }
        let (deviation, when) = match self.connected_after {
            Some(_) => (Deviation::SetChunkSizeAfterResult, "after"),
            None => (Deviation::SetChunkSizeBeforeResult, "before"),
        };
        let message = format!("the server's Set Chunk Size came {when} connect's _result");
        self.meet(
            deviation,
            DiagnosticId::ToleranceClientGivesUp,
            message,
            false,
        )
    }

    /// The server's type-3 continuation chunks on `csid` repeat or omit the extended timestamp
    /// (the chunk reader tells which from the bytes).
    pub(super) fn met_extended_timestamps(
        &mut self,
        csid: u32,
        convention: ExtendedTimestampConvention,
    ) -> Met {
        let (deviation, id, how) = match convention {
            ExtendedTimestampConvention::Repeat => (
                Deviation::ExtendedTimestampRepeatedOnType3,
                DiagnosticId::ChunkExtTsType3Repeated,
                "repeats",
            ),
            ExtendedTimestampConvention::Omit => (
                Deviation::ExtendedTimestampOmittedOnType3,
                DiagnosticId::ChunkExtTsType3Omitted,
                "omits",
            ),
        };
        let message = format!(
            "the server {how} the extended timestamp on the type-3 continuation chunks of chunk stream {csid}"
        );
        self.meet(deviation, id, message, false)
    }

    /// An Abort message for chunk stream `csid`: one the server never sent on is unknown.
    pub(super) fn met_abort(&mut self, csid: u32) -> Met {
        if self.server_csids.contains(&csid) {
            return Met::GoesOn;
        }
        let message = format!("the server aborted chunk stream {csid}, which it never used");
        self.meet(
            Deviation::AbortUnknownChunkStream,
            DiagnosticId::ToleranceClientGivesUp,
            message,
            false,
        )
    }

    /// connect's `_result`: fields beyond or short of the usual ones.
    pub(super) fn met_connect_result(&mut self, c: &Command) -> Met {
        const PROPERTIES: &[&str] = &["fmsVer", "capabilities"];
        const INFORMATION: &[&str] = &["level", "code", "description", "objectEncoding"];
        let keys = |v: Option<&Amf0Value>| -> Option<Vec<String>> {
            match v {
                Some(Amf0Value::Object(p)) => Some(p.iter().map(|(k, _)| k.clone()).collect()),
                Some(Amf0Value::EcmaArray { pairs, .. }) => {
                    Some(pairs.iter().map(|(k, _)| k.clone()).collect())
                }
                _ => None,
            }
        };
        let properties = keys(c.command_object.as_ref());
        let information = keys(c.arguments.first());
        let missing = [
            (&properties, PROPERTIES, "properties"),
            (&information, &["code"][..], "information"),
        ]
        .into_iter()
        .find_map(|(have, want, what)| match have {
            None => Some(format!("no {what} object")),
            Some(keys) => want
                .iter()
                .find(|k| !keys.iter().any(|h| h == *k))
                .map(|k| format!("no {k} in the {what} object")),
        });
        if let Some(what) = missing {
            let message = format!("connect's _result has {what}");
            if self.meet(
                Deviation::ResultMissingFields,
                DiagnosticId::ToleranceClientGivesUp,
                message,
                false,
            ) == Met::Stops
            {
                return Met::Stops;
            }
        }
        let extra: Vec<String> = [(&properties, PROPERTIES), (&information, INFORMATION)]
            .into_iter()
            .flat_map(|(have, known)| {
                have.iter()
                    .flatten()
                    .filter(|k| !known.contains(&k.as_str()))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        if extra.is_empty() {
            return Met::GoesOn;
        }
        let message = format!(
            "connect's _result carries fields beyond the usual: {}",
            extra.join(", ")
        );
        self.meet(
            Deviation::ResultExtraFields,
            DiagnosticId::ToleranceClientGivesUp,
            message,
            false,
        )
    }

    /// A reply to releaseStream (transaction 2) or FCPublish (3) while createStream's is
    /// awaited: `_error` is a deviation; `_result` is noted so that none at all is one too.
    pub(super) fn met_release_reply(&mut self, c: &Command) -> Met {
        if !fmle_publisher(&self.profile) || !matches!(self.step, Step::CreateStream { .. }) {
            return Met::GoesOn;
        }
        let which = if c.transaction_id == 2.0 {
            "releaseStream"
        } else if c.transaction_id == 3.0 {
            "FCPublish"
        } else {
            return Met::GoesOn;
        };
        match c.name.as_str() {
            "_result" => {
                self.release_replies += 1;
                Met::GoesOn
            }
            "_error" => {
                self.release_replies += 1;
                let message = format!("the server answered {which} with _error");
                self.meet(
                    Deviation::ReleaseFcPublishError,
                    DiagnosticId::ToleranceClientGivesUp,
                    message,
                    false,
                )
            }
            _ => Met::GoesOn,
        }
    }

    /// createStream's `_result` arrived: releaseStream and FCPublish should have had theirs.
    pub(super) fn met_release_silence(&mut self) -> Met {
        if !fmle_publisher(&self.profile) || self.release_replies >= 2 {
            return Met::GoesOn;
        }
        let message = format!(
            "{} of the 2 replies to releaseStream and FCPublish arrived before createStream's _result",
            self.release_replies
        );
        self.meet(
            Deviation::ReleaseFcPublishResultMissing,
            DiagnosticId::ToleranceClientGivesUp,
            message,
            false,
        )
    }
}

fn fmle_publisher(profile: &Profile) -> bool {
    matches!(
        profile.role,
        Role::Publish {
            sequence: PublishSequence::Fmle,
            ..
        }
    )
}
