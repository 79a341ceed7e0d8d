//! The three renderings of a transcript: human text, JSON lines and the normalised snapshot form.

use super::{Event, EventKind, MessageEvent, Severity, Transcript};
use std::fmt::Write as _;
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

/// Renders events as human text, one line each, with times relative to the connection's start.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextRenderer {
    pub colour: bool,
}

impl TextRenderer {
    pub fn line(&self, event: &Event) -> String {
        let millis = event.at_us as f64 / 1000.0;
        format!("{millis:>10.3} ms  {}", self.body(&event.kind))
    }

    fn body(&self, kind: &EventKind) -> String {
        match kind {
            EventKind::Diagnostic { id, severity, text } => {
                let label = match severity {
                    Severity::Info => "info",
                    Severity::Warning => "WARN",
                    Severity::Error => "ERROR",
                };
                let label = if self.colour {
                    let code = match severity {
                        Severity::Info => "36",
                        Severity::Warning => "33",
                        Severity::Error => "1;31",
                    };
                    format!("\x1b[{code}m{label}\x1b[0m")
                } else {
                    label.to_string()
                };
                format!("{label}  {id}: {text}")
            }
            other => plain_body(other),
        }
    }

    pub fn render(&self, transcript: &Transcript) -> String {
        let mut out = String::new();
        for event in &transcript.events {
            out.push_str(&self.line(event));
            out.push('\n');
        }
        out
    }
}

/// The body of an event line without its time: shared by the text and snapshot forms so that
/// both always say the same thing.
fn plain_body(kind: &EventKind) -> String {
    match kind {
        EventKind::Connected { client, server } => format!("connected {client} -> {server}"),
        EventKind::Segment { direction, len } => format!("{}  {len} B", direction.arrow()),
        EventKind::Handshake { id, text } => format!("hs    {id}: {text}"),
        EventKind::Message(m) => message_line(m),
        EventKind::Diagnostic { id, severity, text } => format!("{severity}  {id}: {text}"),
        EventKind::MediaSummary { stream, text } => format!("media {stream}: {text}"),
        EventKind::Closed { reason } => format!("closed: {reason}"),
    }
}

fn message_line(m: &MessageEvent) -> String {
    let mut line = String::new();
    let _ = write!(
        line,
        "{}  msg csid={} ts={} type={} msid={} len={}  {}",
        m.direction.arrow(),
        m.csid,
        m.timestamp,
        m.type_id,
        m.stream_id,
        m.len,
        m.summary
    );
    line
}

/// One JSON object per line, in event order (the schema is [`JSON_SCHEMA`]).
pub fn json_line(event: &Event) -> String {
    serde_json::to_string(event).unwrap_or_else(|e| {
        // Serialising our own plain data cannot fail; if it ever does, say so in-band rather than
        // losing the event silently.
        format!(
            "{{\"event\":\"render_error\",\"error\":{:?}}}",
            e.to_string()
        )
    })
}

/// The JSON Schema every `--json` line of serve, probe, matrix, replay and load follows.
pub const JSON_SCHEMA: &str = include_str!("../../schema/transcript.schema.json");

/// A transcript event as a JSON line with the number of its connection first: serve's accept
/// order, replay's flow number (the schema calls both `conn`).
pub fn json_event_line(conn: u64, event: &Event) -> String {
    prefixed(&format!("\"conn\":{conn}"), &json_line(event))
}

/// A line that is not a transcript event (a flow, a case, a load result, ...): `value`'s fields
/// after `"event": event`, so that every line says first what it is.
pub fn json_record_line(event: &str, value: &impl serde::Serialize) -> String {
    let tag = format!("\"event\":{}", serde_json::Value::from(event));
    match serde_json::to_string(value) {
        Ok(object) if object.starts_with('{') => prefixed(&tag, &object),
        Ok(other) => format!("{{{tag},\"value\":{other}}}"),
        Err(e) => format!(
            "{{\"event\":\"render_error\",\"error\":{:?}}}",
            e.to_string()
        ),
    }
}

/// `{"a":1}` with `field` put first: `{field,"a":1}`.
fn prefixed(field: &str, object: &str) -> String {
    let rest = object.strip_prefix('{').unwrap_or(object);
    if rest.starts_with('}') {
        format!("{{{field}{rest}")
    } else {
        format!("{{{field},{rest}")
    }
}

/// The normalised form for snapshot tests: no times, no addresses or ports, and consecutive
/// segments in one direction kept apart (segmentation is what the tool is about), so two runs of
/// the same behaviour render identically and a change in behaviour shows as a diff.
pub fn snapshot(transcript: &Transcript) -> String {
    let mut out = String::new();
    for event in &transcript.events {
        let line = match &event.kind {
            EventKind::Connected { .. } => "connected client -> server".to_string(),
            // A peer's handshake time field is its clock (zero is a fact worth keeping).
            EventKind::Handshake { id, text } if id == "hs.c1-fields" || id == "hs.s1-fields" => {
                plain_body(&EventKind::Handshake {
                    id: id.clone(),
                    text: redact_time_field(text),
                })
            }
            // The delays between segments are times; which packets went together is not.
            EventKind::Handshake { id, text } if id.ends_with("-segments") => {
                plain_body(&EventKind::Handshake {
                    id: id.clone(),
                    text: redact_delays(text),
                })
            }
            other => plain_body(other),
        };
        out.push_str(&redact_ports(&line));
        out.push('\n');
    }
    out
}

/// `S0 alone, then S1 (+1.759 ms)` -> `S0 alone, then S1`.
fn redact_delays(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(" (+") {
        out.push_str(&rest[..at]);
        rest = rest[at..]
            .find(')')
            .map_or("", |close| &rest[at + close + 1..]);
    }
    out.push_str(rest);
    out
}

/// `C1 time 3559073, ...` -> `C1 time <clock>, ...`; `time 0` stays.
fn redact_time_field(text: &str) -> String {
    match text.split_once(" time ") {
        Some((head, rest)) => {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if &rest[..digits] == "0" {
                text.to_string()
            } else {
                format!("{head} time <clock>{}", &rest[digits..])
            }
        }
        None => text.to_string(),
    }
}

/// Ephemeral ports in URLs (`rtmp://127.0.0.1:45833/live`) become `PORT`.
fn redact_ports(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let host_end = tail.find([':', '/', '"', ' ']).unwrap_or(tail.len());
        out.push_str(&tail[..host_end]);
        rest = &tail[host_end..];
        if let Some(after_colon) = rest.strip_prefix(':') {
            let digits = after_colon.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 {
                out.push_str(":PORT");
                rest = &after_colon[digits..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Direction;

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
            EventKind::Diagnostic {
                id: "hs.s0-not-3".into(),
                severity: Severity::Warning,
                text: "S0 is 6, not 3".into(),
            },
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
                name: "connect".into(),
                summary: "command connect #1 {app: \"live\"}".into(),
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
            EventKind::Handshake {
                id: "hs.server-segments".into(),
                text: "S0 alone, then S1 (+1.759 ms), then S2 (+0.024 ms)".into(),
            },
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
            EventKind::Handshake {
                id: "hs.c1-fields".into(),
                text: "C1 time 3559073, version field 0.0.0.0".into(),
            },
        );
        t.push(
            0,
            EventKind::Handshake {
                id: "hs.c1-fields".into(),
                text: "C1 time 0, version field 9.0.124.2".into(),
            },
        );
        t.push(
            0,
            EventKind::Closed {
                reason: "tcUrl \"rtmp://127.0.0.1:45833/live\" and rtmp://h/x".into(),
            },
        );
        let snap = snapshot(&t);
        assert!(
            snap.contains("C1 time <clock>, version field 0.0.0.0"),
            "{snap}"
        );
        assert!(snap.contains("C1 time 0, version field 9.0.124.2"));
        assert!(
            snap.contains("rtmp://127.0.0.1:PORT/live\" and rtmp://h/x"),
            "{snap}"
        );
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
