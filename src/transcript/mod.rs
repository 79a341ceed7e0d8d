//! The transcript: one event model for everything the tool observes on a connection.
//!
//! The server, the client emulators and the capture replayer all describe a session as a sequence
//! of [`Event`]s: the TCP reads and writes as they happened, what the handshake revealed, every
//! message, media summaries and diagnostics. Each command renders the same events three ways
//! ([`render`]): human text, JSON lines, and a normalised snapshot form that leaves out what
//! changes from run to run (wall-clock times, ports, random bytes) so that a change in behaviour
//! shows up as a reviewable diff.

pub mod catalogue;
pub mod diff;
pub mod read_diagnostics;
pub mod render;

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
}

/// What happened. Identifiers (`id` fields) are stable kebab-case names with a dotted prefix
/// (`hs.s0-alone`, `chunk.ext-ts-type3-omitted`) so that tools and tests can match on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A TCP connection was established between these endpoints.
    Connected { client: String, server: String },
    /// One read or write (or one captured segment): the unit in which bytes met the network.
    Segment { direction: Direction, len: usize },
    /// Something the handshake revealed about the peer, e.g. `hs.c1-digest-valid`.
    Handshake { id: String, text: String },
    /// A complete RTMP message.
    Message(MessageEvent),
    /// A deviation, an oddity or a failure, with a stable id and one explanatory sentence.
    Diagnostic {
        id: String,
        severity: Severity,
        text: String,
    },
    /// A summary of the media of one stream (codecs, frame counts, bitrate, timestamps).
    MediaSummary { stream: String, text: String },
    /// The connection ended.
    Closed { reason: String },
}

impl EventKind {
    /// A diagnostic. Debug builds check its id and severity against the [`catalogue`] here (an
    /// id nobody can explain fails the test that emits it).
    #[track_caller]
    pub fn diagnostic(id: &str, severity: Severity, text: impl Into<String>) -> Self {
        let kind = EventKind::Diagnostic {
            id: id.to_string(),
            severity,
            text: text.into(),
        };
        catalogue::debug_check_event(&kind);
        kind
    }

    /// A diagnostic with the severity the [`catalogue`] gives its id.
    #[track_caller]
    pub fn catalogued(id: &str, text: impl Into<String>) -> Self {
        Self::diagnostic(id, catalogue::severity(id), text)
    }

    /// A handshake observation; its id is checked like a diagnostic's.
    #[track_caller]
    pub fn handshake(id: &str, text: impl Into<String>) -> Self {
        catalogue::debug_check(id);
        EventKind::Handshake {
            id: id.to_string(),
            text: text.into(),
        }
    }
}

/// A decoded message in the transcript: its header fields and a one-line description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub direction: Direction,
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub len: usize,
    /// What kind of message it is: `connect`, `Set Chunk Size`, `video`, ...
    pub name: String,
    /// The message in one line, e.g. `command connect #1 {app: "live", ...}`.
    pub summary: String,
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
        let (name, summary) = match decoded {
            Ok(m) => (m.name().to_string(), m.to_string()),
            Err(e) => ("undecodable".to_string(), format!("undecodable: {e}")),
        };
        MessageEvent {
            direction,
            csid: raw.csid,
            timestamp: raw.timestamp,
            type_id: raw.type_id,
            stream_id: raw.stream_id,
            len: raw.payload.len(),
            name,
            summary,
        }
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
        catalogue::debug_check_event(&kind);
        self.events.push(Event { at_us, kind });
    }

    /// The diagnostics' ids, in order; tests use this to assert what was diagnosed.
    pub fn diagnostic_ids(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Diagnostic { id, .. } => Some(id.as_str()),
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
