//! What the chunk stream and its messages show that is worth a diagnostic, decided once for
//! the connection and the capture observer alike: the same bytes give the same ids whichever
//! driver reads them.

use super::DiagnosticKind;
use crate::protocol::chunk::{RawMessage, ReadEvent};
use crate::protocol::message::{Message, MessageError};

/// What the peer's Acknowledgements cover, widened past 2^32, kept alike by the connection (whose
/// withheld output they release) and the capture observer (which only diagnoses).
///
/// The sequence number is 32 bits and wraps (RTMP specification 5.4.3). One lower than the
/// previous is read as a wrap only when the drop exceeds 2^31, half the range, as serial number
/// arithmetic (RFC 1982) reads it; a smaller drop is a stale or hostile value, diagnosed and
/// ignored, so that it cannot lift an enforced window for good.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acknowledgements {
    covered: u64,
}

impl Acknowledgements {
    /// What the latest Acknowledgement taken covers.
    pub fn covered(&self) -> u64 {
        self.covered
    }

    /// Takes an Acknowledgement of `sequence`; the diagnostic when it is stale (then ignored).
    pub fn receive(&mut self, sequence: u32) -> Option<DiagnosticKind> {
        let previous = self.covered as u32;
        let mut widened = (self.covered & !0xFFFF_FFFF) | u64::from(sequence);
        if sequence < previous {
            if previous - sequence <= 1 << 31 {
                return Some(DiagnosticKind::StaleAcknowledgement { sequence, previous });
            }
            widened += 1 << 32;
        }
        self.covered = widened;
        None
    }
}

/// The diagnostic a chunk reader event calls for, if any.
pub fn diagnose_read_event(event: &ReadEvent) -> Option<DiagnosticKind> {
    match *event {
        ReadEvent::ChunkSizeChanged { from, to } => {
            Some(DiagnosticKind::PeerChunkSizeChanged { from, to })
        }
        ReadEvent::ExtendedTimestampConvention { csid, convention } => {
            Some(DiagnosticKind::ExtendedTimestamps { csid, convention })
        }
        ReadEvent::OpenedFromZeroState { csid, fmt } => {
            Some(DiagnosticKind::OpenedFromZeroState { csid, fmt })
        }
        ReadEvent::Aborted {
            csid,
            discarded_bytes,
        } => Some(DiagnosticKind::Aborted {
            csid,
            discarded_bytes,
        }),
        ReadEvent::PartialMessageDropped {
            csid,
            received,
            expected,
        } => Some(DiagnosticKind::PartialMessageDropped {
            csid,
            received,
            expected,
        }),
        ReadEvent::MidMessageHeader {
            csid,
            fmt,
            received,
            expected,
        } => Some(DiagnosticKind::MidMessageHeader {
            csid,
            fmt,
            received,
            expected,
        }),
        ReadEvent::Message(_) | ReadEvent::Chunk(_) => None,
    }
}

/// The diagnostics a complete message calls for, in the order they are reported: protocol
/// control off chunk stream 2 / message stream 0, then a message that does not decode.
pub fn diagnose_message(
    raw: &RawMessage,
    decoded: &Result<Message, MessageError>,
) -> impl Iterator<Item = DiagnosticKind> {
    let off_csid2 = (matches!(raw.type_id, 1..=6) && (raw.csid != 2 || raw.stream_id != 0))
        .then_some(DiagnosticKind::ControlOffCsid2 {
            type_id: raw.type_id,
            csid: raw.csid,
            stream_id: raw.stream_id,
        });
    let undecodable = decoded
        .as_ref()
        .err()
        .map(|error| DiagnosticKind::Undecodable {
            type_id: raw.type_id,
            error: error.clone(),
        });
    off_csid2.into_iter().chain(undecodable)
}
