//! The three renderings of a transcript, each derived from the events' fields: human text
//! ([`text`]), JSON lines ([`json`]) and the normalised snapshot form ([`mod@snapshot`]).

mod core_words;
pub mod json;
mod media;
mod message;
pub mod snapshot;
pub mod text;

pub use json::{json_event_line, json_line, json_record_line, JSON_SCHEMA};
pub use snapshot::{snapshot, snapshot_framed};
pub use text::TextRenderer;

use std::io::IsTerminal;

/// Whether human text may use ANSI colour: only on a terminal, and never when `NO_COLOR` is set
/// (<https://no-color.org>).
pub fn colour_wanted(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// [`colour_wanted`] for standard output.
pub fn colour_on_stdout() -> bool {
    colour_wanted(std::io::stdout().is_terminal())
}

/// The words a rendering gives every kind of value, kept in snapshots/NAME.snap: a change to any
/// of them is a reviewed snapshot change.
#[cfg(test)]
fn words_snapshot(name: &str, words: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, words));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{
        DiagnosticId, Direction, EventKind, HandshakeObservation, HandshakePacket,
        HandshakeSegment, MessageEvent, Side, Transcript,
    };

    fn sample() -> Transcript {
        let mut t = Transcript::new();
        t.push(
            0,
            EventKind::Connected {
                client: "127.0.0.1:50123".into(),
                server: "127.0.0.1:1935".into(),
            },
        );
        t.push(
            120,
            EventKind::Segment {
                direction: Direction::ClientToServer,
                len: 1537,
            },
        );
        t.push(
            150,
            EventKind::diagnostic(DiagnosticId::HsS0Not3, "S0 is 6, not 3"),
        );
        t.push(
            2_500,
            EventKind::Message(MessageEvent {
                direction: Direction::ClientToServer,
                csid: 3,
                timestamp: 0,
                type_id: 20,
                stream_id: 0,
                len: 120,
                content: crate::transcript::MessageContent::Command {
                    name: "connect".into(),
                    transaction_id: Some(1.0),
                    command_object: Some(crate::protocol::amf0::Amf0Value::Object(vec![(
                        "app".into(),
                        crate::protocol::amf0::Amf0Value::String("live".into()),
                    )])),
                    arguments: vec![],
                    amf3: false,
                },
            }),
        );
        t
    }

    #[test]
    fn text_shows_times_and_colours_only_when_asked() {
        let plain = TextRenderer { colour: false }.render(&sample());
        assert!(plain.contains("     0.120 ms  C->S  1537 B"), "{plain}");
        assert!(plain.contains("WARN  hs.s0-not-3: S0 is 6, not 3"));
        assert!(!plain.contains('\x1b'));
        let coloured = TextRenderer { colour: true }.render(&sample());
        assert!(coloured.contains("\x1b[33mWARN\x1b[0m"));
    }

    #[test]
    fn json_lines_carry_the_event_tag_and_fields() {
        let t = sample();
        let line = json_line(&t.events[3]);
        let value: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(value["event"], "message");
        assert_eq!(value["at_us"], 2500);
        assert_eq!(value["direction"], "client_to_server");
        assert_eq!(value["type_id"], 20);
        assert_eq!(value["name"], "connect");
        let diag: serde_json::Value = serde_json::from_str(&json_line(&t.events[2])).unwrap();
        assert_eq!(diag["severity"], "warning");
        assert_eq!(diag["id"], "hs.s0-not-3");
    }

    #[test]
    fn every_json_line_says_first_what_it_is() {
        let t = sample();
        let line = json_event_line(7, &t.events[2]);
        assert!(
            line.starts_with("{\"conn\":7,\"at_us\":150,\"event\":\"diagnostic\""),
            "{line}"
        );
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["id"], "hs.s0-not-3");
        #[derive(serde::Serialize)]
        struct Empty {}
        assert_eq!(json_record_line("x", &Empty {}), "{\"event\":\"x\"}");
        let record = json_record_line("load", &serde_json::json!({"clients": 3}));
        assert_eq!(record, "{\"event\":\"load\",\"clients\":3}");
        assert_eq!(json_record_line("n", &5), "{\"event\":\"n\",\"value\":5}");
    }

    #[test]
    fn snapshot_leaves_out_times_and_addresses() {
        let snap = snapshot(&sample());
        assert!(!snap.contains("50123") && !snap.contains(" ms "), "{snap}");
        assert_eq!(snap.lines().next(), Some("connected client -> server"));
        assert!(snap.contains("C->S  1537 B"));
        // The same behaviour at other times renders identically.
        let mut later = sample();
        for e in &mut later.events {
            e.at_us += 1_000_000;
        }
        assert_eq!(snapshot(&later), snap);
    }

    #[test]
    fn snapshot_keeps_which_packets_went_together_but_not_the_delays() {
        let mut t = Transcript::new();
        t.push(
            0,
            EventKind::handshake_observation(
                DiagnosticId::HsServerSegments,
                HandshakeObservation::Segments {
                    side: Side::Server,
                    segments: [(145, 1), (1904, 1536), (1928, 1536)]
                        .map(|(at_us, len)| HandshakeSegment { at_us, len })
                        .to_vec(),
                },
            ),
        );
        assert_eq!(
            snapshot(&t),
            "hs    hs.server-segments: S0 alone, then S1, then S2\n"
        );
    }

    #[test]
    fn snapshot_redacts_ports_and_peer_clocks_but_keeps_zero() {
        let mut t = Transcript::new();
        t.push(
            0,
            EventKind::handshake_observation(
                DiagnosticId::HsC1Fields,
                HandshakeObservation::Fields {
                    packet: HandshakePacket::C1,
                    time: 3_559_073,
                    version_field: [0; 4],
                },
            ),
        );
        t.push(
            0,
            EventKind::handshake_observation(
                DiagnosticId::HsC1Fields,
                HandshakeObservation::Fields {
                    packet: HandshakePacket::C1,
                    time: 0,
                    version_field: [9, 0, 124, 2],
                },
            ),
        );
        t.push(
            0,
            EventKind::Closed {
                reason: crate::transcript::CloseCause::ConnectionFailed(
                    "tcUrl \"rtmp://127.0.0.1:45833/live\" and rtmp://h/x".into(),
                ),
            },
        );
        let snap = snapshot(&t);
        assert!(
            snap.contains("C1 time <clock>, version field 0.0.0.0 (zero, as the spec asks)"),
            "{snap}"
        );
        assert!(snap.contains("C1 time 0, version field 9.0.124.2"));
        assert!(
            snap.contains("rtmp://127.0.0.1:PORT/live\" and rtmp://h/x"),
            "{snap}"
        );
    }

    #[test]
    fn handshake_json_carries_the_fields_and_the_words_derived_from_them() {
        let event = crate::transcript::Event::new(
            9,
            EventKind::handshake_event(&crate::protocol::handshake::HandshakeEvent::Hello {
                packet: crate::protocol::handshake::Packet::S1,
                time: 77,
                version: [4, 5, 0, 1],
            }),
        );
        let value: serde_json::Value = serde_json::from_str(&json_line(&event)).unwrap();
        assert_eq!(value["id"], "hs.s1-fields");
        assert_eq!(value["observation"]["kind"], "fields");
        assert_eq!(value["observation"]["packet"], "S1");
        assert_eq!(value["observation"]["time"], 77);
        assert_eq!(
            value["observation"]["version_field"],
            serde_json::json!([4, 5, 0, 1])
        );
        assert_eq!(value["text"], "S1 time 77, version field 4.5.0.1");
        // What `diff` reads back renders as the original did.
        let back: crate::transcript::Event = serde_json::from_value(value).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn no_color_wins_over_a_terminal() {
        assert!(!colour_wanted(false));
        // NO_COLOR is process-wide; only assert the branch that does not depend on it.
        if std::env::var_os("NO_COLOR").is_some() {
            assert!(!colour_wanted(true));
        }
    }
}
