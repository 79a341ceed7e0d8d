//! The connection's typed diagnostics as transcript events. What is worth a diagnostic is decided
//! once, in `protocol::connection::diagnose`; here it becomes the catalogued event (the severity is
//! the catalogue's), so serve, the emulators and replay give the same bytes the same ids,
//! severities and words.

use super::{Direction, EventKind};
use crate::protocol::chunk::{RawMessage, ReadEvent};
use crate::protocol::connection::{diagnose_message, diagnose_read_event, Diagnostic, Side};
use crate::protocol::message::{Message, MessageError};

/// Whose bytes travel in `direction`.
fn sender(direction: Direction) -> Side {
    match direction {
        Direction::ClientToServer => Side::Client,
        Direction::ServerToClient => Side::Server,
    }
}

/// A connection diagnostic as the transcript event every driver prints.
pub fn event(diagnostic: &Diagnostic) -> EventKind {
    EventKind::diagnostic_with(
        diagnostic.into(),
        Some(diagnostic.into()),
        diagnostic.to_string(),
    )
}

/// The diagnostic of a chunk reader event other than a message, if it is one.
pub fn read_event(direction: Direction, event: &ReadEvent) -> Option<EventKind> {
    diagnose_read_event(event).map(|kind| {
        self::event(&Diagnostic {
            peer: sender(direction),
            kind,
        })
    })
}

/// The diagnostics of a complete message, in the order they are reported: protocol control off
/// chunk stream 2 / message stream 0, then a message that does not decode.
pub fn message(
    direction: Direction,
    raw: &RawMessage,
    decoded: &Result<Message, MessageError>,
) -> Vec<EventKind> {
    diagnose_message(raw, decoded)
        .map(|kind| {
            event(&Diagnostic {
                peer: sender(direction),
                kind,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::chunk::ExtendedTimestampConvention;
    use crate::transcript::{DiagnosticId, Severity};

    fn id_and_severity(kind: Option<EventKind>) -> (DiagnosticId, Severity) {
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
                (DiagnosticId::ChunkExtTsType3Omitted, Severity::Warning)
            );
            let size = ReadEvent::ChunkSizeChanged {
                from: 128,
                to: 4096,
            };
            assert_eq!(
                id_and_severity(read_event(direction, &size)),
                (DiagnosticId::ChunkSizeChanged, Severity::Info)
            );
            let abort = ReadEvent::Aborted {
                csid: 5,
                discarded_bytes: 10,
            };
            assert_eq!(
                id_and_severity(read_event(direction, &abort)),
                (DiagnosticId::ChunkAborted, Severity::Info)
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
    fn json_carries_the_connections_fields_and_the_catalogues_stage() {
        let size = ReadEvent::ChunkSizeChanged { from: 128, to: 60 };
        let event = crate::transcript::Event::new(
            3,
            read_event(Direction::ServerToClient, &size).expect("a diagnostic"),
        );
        let line = crate::transcript::render::json_line(&event);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["id"], "chunk.size-changed");
        assert_eq!(value["stage"], "chunk");
        assert_eq!(
            value["fields"],
            serde_json::json!({"kind": "peer_chunk_size_changed", "peer": "server", "from": 128, "to": 60}),
            "{line}"
        );
        assert_eq!(
            value["text"],
            "the server's chunk size changed from 128 to 60"
        );
        let back: crate::transcript::Event = serde_json::from_str(&line).unwrap();
        assert_eq!(back, event);
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
        let ids = |raw: &RawMessage| -> Vec<(DiagnosticId, Severity)> {
            message(Direction::ClientToServer, raw, &Message::decode(raw))
                .into_iter()
                .map(|e| id_and_severity(Some(e)))
                .collect()
        };
        assert!(ids(&raw).is_empty());
        raw.csid = 3;
        assert_eq!(
            ids(&raw),
            vec![(DiagnosticId::MsgControlOffCsid2, Severity::Warning)]
        );
        raw.type_id = 20;
        raw.payload = bytes::Bytes::from_static(&[0x02, 0, 1, b'x']);
        assert!(
            ids(&raw)
                .iter()
                .all(|(id, _)| *id != DiagnosticId::MsgControlOffCsid2),
            "commands may use any chunk stream"
        );
    }
}
