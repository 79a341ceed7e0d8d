//! The fields a diagnostic rests on, where its source has them: the transcript's mirror of the
//! connection's `DiagnosticKind`.

use crate::protocol::chunk::ExtendedTimestampConvention;
use crate::protocol::connection::{Diagnostic, DiagnosticKind, Side};
use serde::{Deserialize, Serialize};

/// What a connection diagnostic is about, with whose bytes (`peer`) it concerns; `kind` says
/// which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiagnosticFields {
    PeerChunkSizeChanged {
        peer: Side,
        from: u32,
        to: u32,
    },
    /// How the peer treats extended timestamps on type 3 continuation chunks.
    ExtendedTimestamps {
        peer: Side,
        csid: u32,
        convention: TimestampConvention,
    },
    /// A protocol control message off chunk stream 2 / message stream 0.
    ControlOffCsid2 {
        peer: Side,
        type_id: u8,
        csid: u32,
        stream_id: u32,
    },
    Undecodable {
        peer: Side,
        type_id: u8,
        error: String,
    },
    ClosedDuringHandshake {
        peer: Side,
    },
    /// An Abort Message discarded the partial message on `csid`.
    Aborted {
        peer: Side,
        csid: u32,
        discarded_bytes: usize,
    },
    /// A new message began on `csid` before the previous one was complete.
    PartialMessageDropped {
        peer: Side,
        csid: u32,
        received: usize,
        expected: u32,
    },
    /// A chunk stream opened with a type 1, 2 or 3 header, read from zeroed state.
    OpenedFromZeroState {
        peer: Side,
        csid: u32,
        fmt: u8,
    },
    /// An Acknowledgement below the previous one by less than 2^31, ignored.
    StaleAcknowledgement {
        peer: Side,
        sequence: u32,
        previous: u32,
    },
    /// A type 0, 1 or 2 header in the middle of the message on `csid` repeated its length; the
    /// message went on.
    MidMessageHeader {
        peer: Side,
        csid: u32,
        fmt: u8,
        received: usize,
        expected: u32,
    },
    /// An error-level status on message stream `stream_id`, answering `answering` if it
    /// answered a command.
    StatusError {
        peer: Side,
        stream_id: u32,
        code: String,
        description: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answering: Option<String>,
    },
    /// connect or createStream answered with `_error`.
    CommandRejected {
        peer: Side,
        command: String,
        code: String,
        description: String,
    },
    /// A command the peer never answered.
    Unanswered {
        peer: Side,
        command: String,
        transaction_id: f64,
        stream_id: u32,
    },
}

/// Whether continuation chunks repeat the extended timestamp or omit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampConvention {
    Repeat,
    Omit,
}

impl From<&Diagnostic> for DiagnosticFields {
    fn from(d: &Diagnostic) -> Self {
        let peer = d.peer;
        match &d.kind {
            DiagnosticKind::PeerChunkSizeChanged { from, to } => Self::PeerChunkSizeChanged {
                peer,
                from: *from,
                to: *to,
            },
            DiagnosticKind::ExtendedTimestamps { csid, convention } => Self::ExtendedTimestamps {
                peer,
                csid: *csid,
                convention: match convention {
                    ExtendedTimestampConvention::Repeat => TimestampConvention::Repeat,
                    ExtendedTimestampConvention::Omit => TimestampConvention::Omit,
                },
            },
            DiagnosticKind::ControlOffCsid2 {
                type_id,
                csid,
                stream_id,
            } => Self::ControlOffCsid2 {
                peer,
                type_id: *type_id,
                csid: *csid,
                stream_id: *stream_id,
            },
            DiagnosticKind::Undecodable { type_id, error } => Self::Undecodable {
                peer,
                type_id: *type_id,
                error: error.to_string(),
            },
            DiagnosticKind::ClosedDuringHandshake => Self::ClosedDuringHandshake { peer },
            DiagnosticKind::Aborted {
                csid,
                discarded_bytes,
            } => Self::Aborted {
                peer,
                csid: *csid,
                discarded_bytes: *discarded_bytes,
            },
            DiagnosticKind::PartialMessageDropped {
                csid,
                received,
                expected,
            } => Self::PartialMessageDropped {
                peer,
                csid: *csid,
                received: *received,
                expected: *expected,
            },
            DiagnosticKind::OpenedFromZeroState { csid, fmt } => Self::OpenedFromZeroState {
                peer,
                csid: *csid,
                fmt: *fmt,
            },
            DiagnosticKind::StaleAcknowledgement { sequence, previous } => {
                Self::StaleAcknowledgement {
                    peer,
                    sequence: *sequence,
                    previous: *previous,
                }
            }
            DiagnosticKind::MidMessageHeader {
                csid,
                fmt,
                received,
                expected,
            } => Self::MidMessageHeader {
                peer,
                csid: *csid,
                fmt: *fmt,
                received: *received,
                expected: *expected,
            },
            DiagnosticKind::StatusError {
                stream_id,
                code,
                description,
                answering,
            } => Self::StatusError {
                peer,
                stream_id: *stream_id,
                code: code.clone(),
                description: description.clone(),
                answering: answering.clone(),
            },
            DiagnosticKind::CommandRejected {
                command,
                code,
                description,
            } => Self::CommandRejected {
                peer,
                command: command.clone(),
                code: code.clone(),
                description: description.clone(),
            },
            DiagnosticKind::Unanswered {
                command,
                transaction_id,
                stream_id,
            } => Self::Unanswered {
                peer,
                command: command.clone(),
                transaction_id: *transaction_id,
                stream_id: *stream_id,
            },
        }
    }
}
