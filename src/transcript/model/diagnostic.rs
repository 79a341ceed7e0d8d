//! The fields a diagnostic rests on, where its source has them: the transcript's mirror of the
//! connection's `DiagnosticKind`.

use crate::protocol::chunk::ExtendedTimestampConvention;
use crate::protocol::connection::{Diagnostic, DiagnosticKind, Side};
use serde::{Deserialize, Serialize};

/// What a connection diagnostic is about, with whose bytes (`peer`) it concerns; `kind` says
/// which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        }
    }
}
