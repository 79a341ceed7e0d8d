//! The transcript's types: events carry fields, not prose. Every sentence a person reads is
//! rendered from these fields in [`super::render`], so the text, the JSON lines and the
//! snapshots cannot say different things, and a structured consumer needs no parsing.

mod amf;
mod close;
mod diagnostic;
mod media;
mod message;

pub use close::{CloseCause, Flag, UnknownCloseReason};
pub use diagnostic::{DiagnosticFields, TimestampConvention};
pub use media::{FrameType, MediaEvent, MediaKind, StreamMedia};
pub use message::{
    AudioTag, BandwidthLimit, MessageContent, UserControlEvent, VideoPacketKind, VideoTag,
};

use super::catalogue::{self, DiagnosticId};
use crate::protocol::handshake::{DigestLayout, HandshakeEvent, Mode};
pub use crate::protocol::Side;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which way bytes travelled, named by protocol role rather than by "in"/"out", so the same
/// transcript reads the same whether the server, a client emulator or a capture produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    /// A short arrow for human text: `C->S` or `S->C`.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "C->S",
            Direction::ServerToClient => "S->C",
        }
    }
}

/// How much a diagnostic matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// The peer deviated from the specification or from common practice, but the session went on.
    Warning,
    /// The session could not go on.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One thing that happened on a connection, at a time measured from the connection's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Microseconds since the connection started (or since the first packet of a captured flow).
    pub at_us: u64,
    #[serde(flatten)]
    pub kind: EventKind,
    /// The numbers (1-based, ascending, as Wireshark counts them) of the capture frames that
    /// carried the bytes the event rests on; only replay knows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<u64>,
}

impl Event {
    pub fn new(at_us: u64, kind: EventKind) -> Self {
        Self {
            at_us,
            kind,
            frames: Vec::new(),
        }
    }
}

/// What happened. Identifiers (`id` fields) are stable kebab-case names with a dotted prefix
/// (`hs.s0-alone`, `chunk.ext-ts-type3-omitted`) so that tools and tests can match on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A TCP connection was established between these endpoints.
    Connected { client: String, server: String },
    /// One read or write (or one captured segment): the unit in which bytes met the network.
    Segment { direction: Direction, len: usize },
    /// Something the handshake revealed about the peer, e.g. `hs.c1-digest-valid`: its id and
    /// the fields it rests on.
    Handshake {
        id: DiagnosticId,
        observation: HandshakeObservation,
    },
    /// A complete RTMP message.
    Message(MessageEvent),
    /// A deviation, an oddity or a failure, with a stable id, the fields it rests on where its
    /// source has them, and one explanatory sentence.
    Diagnostic {
        id: DiagnosticId,
        severity: Severity,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fields: Option<DiagnosticFields>,
        text: String,
    },
    /// The media of one stream (codecs, frame counts, bitrate, timestamps).
    MediaSummary { stream: String, media: StreamMedia },
    /// One audio or video message (replay lists each; other transcripts summarise them).
    Media(MediaEvent),
    /// The connection ended, and why (written as a sentence: `the client closed the
    /// connection`).
    Closed { reason: CloseCause },
}

impl EventKind {
    /// A diagnostic, with the severity the [`catalogue`] gives its id.
    pub fn diagnostic(id: DiagnosticId, text: impl Into<String>) -> Self {
        Self::diagnostic_with(id, None, text)
    }

    /// A diagnostic with the fields it rests on.
    pub fn diagnostic_with(
        id: DiagnosticId,
        fields: Option<DiagnosticFields>,
        text: impl Into<String>,
    ) -> Self {
        EventKind::Diagnostic {
            id,
            severity: id.severity(),
            fields,
            text: text.into(),
        }
    }

    /// A handshake observation known only by its words (prefer [`Self::handshake_event`], which
    /// keeps the fields).
    pub fn handshake(id: DiagnosticId, text: impl Into<String>) -> Self {
        Self::handshake_observation(id, HandshakeObservation::Described { text: text.into() })
    }

    /// What the handshake codec observed, with its fields, under the id the catalogue gives it.
    pub fn handshake_event(event: &HandshakeEvent) -> Self {
        Self::handshake_observation(event.into(), HandshakeObservation::from(event))
    }

    /// A handshake observation under `id`.
    pub fn handshake_observation(id: DiagnosticId, observation: HandshakeObservation) -> Self {
        EventKind::Handshake { id, observation }
    }
}

/// A handshake packet: C0, C1, C2 from the client, S0, S1, S2 from the server (the protocol's
/// own type: it serializes to the names the schema has).
pub use crate::protocol::handshake::Packet as HandshakePacket;

/// Where a C1 or S1 keeps its digest: the 32 bytes after the offset found from byte 8 or 772.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestScheme {
    Base8,
    Base772,
}

impl From<DigestLayout> for DigestScheme {
    fn from(l: DigestLayout) -> Self {
        match l {
            DigestLayout::Base8 => Self::Base8,
            DigestLayout::Base772 => Self::Base772,
        }
    }
}

/// Which handshake the server answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum HandshakeMode {
    Simple,
    Digest { layout: DigestScheme },
}

/// How a C2 or S2 relates to the packet it answers (S1 or C1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EchoChecks {
    /// Identical from byte 0.
    pub exact: bool,
    /// Bytes 0..4 equal the answered packet's time.
    pub time_matches: bool,
    /// Bytes 8.. (the random part) are identical.
    pub random_matches: bool,
    pub all_zero: bool,
    /// Signed for the answered packet's digest; null when that packet had no digest.
    pub signed: Option<bool>,
}

/// One TCP segment of a handshake: when it came (microseconds since the flow's start) and how
/// many bytes it carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeSegment {
    pub at_us: u64,
    pub len: usize,
}

/// The fields of a handshake observation (the handshake codec's [`HandshakeEvent`], plus how a
/// captured handshake was split into segments).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HandshakeObservation {
    /// C0 or S0 and the version it carries.
    Version {
        packet: HandshakePacket,
        version: u8,
    },
    /// C1 or S1: its time field (the peer's clock) and its version field.
    Fields {
        packet: HandshakePacket,
        time: u32,
        version_field: [u8; 4],
    },
    /// C1 or S1 carries a valid digest in this layout.
    DigestValid {
        packet: HandshakePacket,
        layout: DigestScheme,
    },
    /// C1 or S1 carries no valid digest; `version_field_set` tells whether its version field
    /// claimed one.
    NoDigest {
        packet: HandshakePacket,
        version_field_set: bool,
    },
    /// The handshake the server answered with.
    ModeChosen {
        #[serde(flatten)]
        mode: HandshakeMode,
    },
    /// C2 or S2 and how it answers S1 or C1.
    Answer {
        packet: HandshakePacket,
        echo: EchoChecks,
    },
    /// S1 has no valid digest and C2 is signed anyway.
    C2SignedWithoutS1Digest,
    /// How one side's handshake bytes were split into TCP segments (captures).
    Segments {
        side: Side,
        segments: Vec<HandshakeSegment>,
    },
    /// An observation known only by its words.
    Described { text: String },
}

impl From<&HandshakeEvent> for HandshakeObservation {
    fn from(e: &HandshakeEvent) -> Self {
        match e {
            HandshakeEvent::Version { packet, version } => Self::Version {
                packet: *packet,
                version: *version,
            },
            HandshakeEvent::Hello {
                packet,
                time,
                version,
            } => Self::Fields {
                packet: *packet,
                time: *time,
                version_field: *version,
            },
            HandshakeEvent::DigestValid { packet, layout } => Self::DigestValid {
                packet: *packet,
                layout: (*layout).into(),
            },
            HandshakeEvent::NoDigest {
                packet,
                version_set,
            } => Self::NoDigest {
                packet: *packet,
                version_field_set: *version_set,
            },
            HandshakeEvent::ModeChosen(mode) => Self::ModeChosen {
                mode: match mode {
                    Mode::Simple => HandshakeMode::Simple,
                    Mode::Digest(layout) => HandshakeMode::Digest {
                        layout: (*layout).into(),
                    },
                },
            },
            HandshakeEvent::Answer { packet, echo } => Self::Answer {
                packet: *packet,
                echo: EchoChecks {
                    exact: echo.exact,
                    time_matches: echo.time_matches,
                    random_matches: echo.random_matches,
                    all_zero: echo.all_zero,
                    signed: echo.signed,
                },
            },
            HandshakeEvent::C2SignedWithoutS1Digest => Self::C2SignedWithoutS1Digest,
        }
    }
}

/// A message in the transcript: its header fields and what it says, as fields (its one-line
/// summary is rendered from them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub direction: Direction,
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub len: usize,
    pub content: MessageContent,
}

impl MessageEvent {
    /// The transcript line of `raw`, decoded (or not) as `decoded` says.
    pub fn new(
        direction: Direction,
        raw: &crate::protocol::chunk::RawMessage,
        decoded: Result<
            &crate::protocol::message::Message,
            &crate::protocol::message::MessageError,
        >,
    ) -> Self {
        MessageEvent {
            direction,
            csid: raw.csid,
            timestamp: raw.timestamp,
            type_id: raw.type_id,
            stream_id: raw.stream_id,
            len: raw.payload.len(),
            content: MessageContent::of(decoded),
        }
    }

    /// What kind of message it is: `connect`, `Set Chunk Size`, `video`, `undecodable`, ...
    pub fn name(&self) -> &str {
        self.content.name()
    }

    /// The message in one line, e.g. `command connect #1 {app: "live", ...}`.
    pub fn summary(&self) -> String {
        self.content.to_string()
    }
}

/// A transcript of one connection (or one captured flow): its events in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub events: Vec<Event>,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    #[track_caller]
    pub fn push(&mut self, at_us: u64, kind: EventKind) {
        self.push_framed(at_us, kind, Vec::new());
    }

    /// [`Self::push`] with the capture frames the event rests on.
    #[track_caller]
    pub fn push_framed(&mut self, at_us: u64, kind: EventKind, frames: Vec<u64>) {
        catalogue::debug_check_event(&kind);
        self.events.push(Event {
            at_us,
            kind,
            frames,
        });
    }

    /// [`Self::push_framed`] at `index` instead of at the end: for an event known to have
    /// happened only once later bytes showed it (a close the peers honoured).
    #[track_caller]
    pub fn insert_framed(&mut self, index: usize, at_us: u64, kind: EventKind, frames: Vec<u64>) {
        catalogue::debug_check_event(&kind);
        self.events.insert(
            index,
            Event {
                at_us,
                kind,
                frames,
            },
        );
    }

    /// The diagnostics' ids, in order; tests use this to assert what was diagnosed.
    pub fn diagnostic_ids(&self) -> Vec<DiagnosticId> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Diagnostic { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// The messages in one direction, in order.
    pub fn messages(&self, direction: Direction) -> impl Iterator<Item = &MessageEvent> {
        self.events.iter().filter_map(move |e| match &e.kind {
            EventKind::Message(m) if m.direction == direction => Some(m),
            _ => None,
        })
    }
}
