//! JSON Lines: the events' fields as they are, plus the sentence a person would read (`text`,
//! or a message's `summary`) rendered from them, so a consumer never needs to parse prose.

use super::text::derived_text;
use crate::transcript::{Event, EventKind, Stage};
use serde::Serialize;

/// An event with its derived sentence.
#[derive(Serialize)]
struct JsonEvent<'a> {
    at_us: u64,
    #[serde(flatten)]
    kind: &'a EventKind,
    /// A diagnostic's stage, from the catalogue.
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<Stage>,
    /// A message's kind (`connect`, `video`, ...) and its one-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    /// Any other rendered sentence (a handshake observation's words, a media summary's).
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// The capture frames the event rests on (replay).
    #[serde(skip_serializing_if = "<[u64]>::is_empty")]
    frames: &'a [u64],
}

/// One JSON object per line, in event order (the schema is [`JSON_SCHEMA`]).
pub fn json_line(event: &Event) -> String {
    let (name, summary, text) = match &event.kind {
        EventKind::Message(m) => (Some(m.name()), Some(m.summary()), None),
        other => (None, None, derived_text(other)),
    };
    let stage = match &event.kind {
        EventKind::Diagnostic { id, .. } => Some(id.stage()),
        _ => None,
    };
    let line = JsonEvent {
        at_us: event.at_us,
        kind: &event.kind,
        stage,
        name,
        summary,
        text,
        frames: &event.frames,
    };
    serde_json::to_string(&line).unwrap_or_else(|e| {
        // Serialising our own plain data cannot fail; if it ever does, say so in-band rather than
        // losing the event silently.
        format!(
            "{{\"event\":\"render_error\",\"error\":{:?}}}",
            e.to_string()
        )
    })
}

/// The JSON Schema every `--json` line of serve, probe, matrix, replay and load follows.
pub const JSON_SCHEMA: &str = include_str!("../../../schema/transcript.schema.json");

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
