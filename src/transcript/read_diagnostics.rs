//! The diagnostics a reader of one direction's chunk stream raises, made here once so that serve,
//! the emulators and replay give the same bytes the same ids, severities and words.

use super::{Direction, EventKind};
use crate::protocol::chunk::{ExtendedTimestampConvention, RawMessage, ReadEvent};
use crate::protocol::message::MessageError;

/// Whose bytes: the client's when they travel client to server.
fn whose(direction: Direction) -> &'static str {
    match direction {
        Direction::ClientToServer => "client",
        Direction::ServerToClient => "server",
    }
}

/// The id of what a peer does with extended timestamps on type-3 chunks: one id per convention.
pub fn ext_ts_convention_id(convention: ExtendedTimestampConvention) -> &'static str {
    match convention {
        ExtendedTimestampConvention::Repeat => "chunk.ext-ts-type3-repeated",
        // Readers that follow the 2012 text (FFmpeg among them) lose sync on such streams once
        // timestamps pass 0xFFFFFF (about 4 h 40 min): hence a warning in the catalogue.
        ExtendedTimestampConvention::Omit => "chunk.ext-ts-type3-omitted",
    }
}

/// The diagnostic of a chunk reader event other than a message, if it is one.
pub fn read_event(direction: Direction, event: &ReadEvent) -> Option<EventKind> {
    let who = whose(direction);
    Some(match event {
        ReadEvent::ChunkSizeChanged { from, to } => EventKind::catalogued(
            "chunk.size-changed",
            format!("the {who}'s chunk size changed from {from} to {to}"),
        ),
        ReadEvent::ExtendedTimestampConvention { csid, convention } => EventKind::catalogued(
            ext_ts_convention_id(*convention),
            format!(
                "the {who}'s chunk stream {csid}: extended timestamps on continuation chunks {convention}"
            ),
        ),
        ReadEvent::Aborted {
            csid,
            discarded_bytes,
        } => EventKind::catalogued(
            "chunk.aborted",
            format!("the {who} aborted the message on chunk stream {csid}; {discarded_bytes} bytes were discarded"),
        ),
        ReadEvent::PartialMessageDropped {
            csid,
            received,
            expected,
        } => EventKind::catalogued(
            "chunk.partial-dropped",
            format!(
                "a new message began on the {who}'s chunk stream {csid} after {received} of the previous message's {expected} bytes; the partial message was dropped"
            ),
        ),
        ReadEvent::Message(_) | ReadEvent::Chunk(_) => return None,
    })
}

/// The diagnostic of a protocol control message (types 1 to 6) off chunk stream 2 or message
/// stream 0, if `raw` is one.
pub fn control_off_csid2(raw: &RawMessage) -> Option<EventKind> {
    (matches!(raw.type_id, 1..=6) && (raw.csid != 2 || raw.stream_id != 0)).then(|| {
        EventKind::catalogued(
            "msg.control-off-csid2",
            format!(
                "protocol control message type {} arrived on chunk stream {} / message stream {} (the spec says 2 / 0)",
                raw.type_id, raw.csid, raw.stream_id
            ),
        )
    })
}

/// The diagnostic of a complete message that could not be decoded.
pub fn undecodable(raw: &RawMessage, error: &MessageError) -> EventKind {
    EventKind::catalogued(
        "msg.undecodable",
        format!("message type {} could not be decoded: {error}", raw.type_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Severity;

    fn id_and_severity(kind: Option<EventKind>) -> (String, Severity) {
        match kind {
            Some(EventKind::Diagnostic { id, severity, .. }) => (id, severity),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_reader_event_has_one_id_whichever_direction() {
        for direction in [Direction::ClientToServer, Direction::ServerToClient] {
            let omit = ReadEvent::ExtendedTimestampConvention {
                csid: 4,
                convention: ExtendedTimestampConvention::Omit,
            };
            assert_eq!(
                id_and_severity(read_event(direction, &omit)),
                ("chunk.ext-ts-type3-omitted".into(), Severity::Warning)
            );
            let size = ReadEvent::ChunkSizeChanged {
                from: 128,
                to: 4096,
            };
            assert_eq!(
                id_and_severity(read_event(direction, &size)),
                ("chunk.size-changed".into(), Severity::Info)
            );
        }
        let text = |kind| match kind {
            Some(EventKind::Diagnostic { text, .. }) => text,
            other => panic!("{other:?}"),
        };
        let size = ReadEvent::ChunkSizeChanged { from: 128, to: 60 };
        assert_eq!(
            text(read_event(Direction::ServerToClient, &size)),
            "the server's chunk size changed from 128 to 60"
        );
    }

    #[test]
    fn control_messages_belong_on_chunk_stream_2_and_message_stream_0() {
        let mut raw = RawMessage {
            csid: 2,
            timestamp: 0,
            type_id: 1,
            stream_id: 0,
            payload: bytes::Bytes::from_static(&[0, 0, 16, 0]),
        };
        assert!(control_off_csid2(&raw).is_none());
        raw.csid = 3;
        assert_eq!(
            id_and_severity(control_off_csid2(&raw)),
            ("msg.control-off-csid2".into(), Severity::Warning)
        );
        raw.type_id = 20;
        assert!(
            control_off_csid2(&raw).is_none(),
            "commands may use any chunk stream"
        );
    }
}
