//! Comparing two transcripts: each is brought to the normalised snapshot form, so times,
//! addresses and peers' clocks do not count, and the rest is compared line by line.

use super::{render, Event, Transcript};

/// Why a file could not be read as a transcript.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct ParseError {
    pub line: usize,
    pub problem: String,
}

/// Reads a transcript written by `--json` (one event per line; lines that are not a
/// connection's events are skipped) or by `--snapshot` (kept as it is).
pub fn normalised(text: &str) -> Result<String, ParseError> {
    if !text.trim_start().starts_with('{') {
        return Ok(text.to_string());
    }
    let mut transcript = Transcript::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| ParseError {
            line: i + 1,
            problem: format!("not JSON: {e}"),
        })?;
        match value.get("event").and_then(|e| e.as_str()) {
            // Lines about the server, a capture's flows, a case, a re-enactment, a matrix or
            // a load run are not events of a connection.
            Some("server" | "flow" | "case" | "against" | "matrix" | "load") => continue,
            // Written before every line had `event` (probe's last line was the case result).
            None => continue,
            Some(_) => {}
        }
        let event: Event = serde_json::from_value(value).map_err(|e| ParseError {
            line: i + 1,
            problem: format!("not a transcript event: {e}"),
        })?;
        transcript.events.push(event);
    }
    Ok(render::snapshot(&transcript))
}

/// A unified diff of the two normalised transcripts; None when they are the same.
pub fn diff(a_name: &str, a: &str, b_name: &str, b: &str) -> Option<String> {
    if a == b {
        return None;
    }
    Some(
        similar::TextDiff::from_lines(a, b)
            .unified_diff()
            .context_radius(2)
            .header(a_name, b_name)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Direction, EventKind};

    #[test]
    fn json_lines_and_snapshot_forms_compare_by_what_happened() {
        let mut t = Transcript::new();
        t.push(
            0,
            EventKind::Connected {
                client: "127.0.0.1:5".into(),
                server: "127.0.0.1:6".into(),
            },
        );
        t.push(
            10,
            EventKind::Segment {
                direction: Direction::ServerToClient,
                len: 1,
            },
        );
        let json: String = t
            .events
            .iter()
            .map(|e| {
                format!(
                    "{{\"conn\":1,{}\n",
                    render::json_line(e).trim_start_matches('{')
                )
            })
            .collect();
        let json = format!("{{\"event\":\"server\",\"text\":\"listening\"}}\n{json}");
        let from_json = normalised(&json).unwrap();
        assert_eq!(from_json, render::snapshot(&t));
        // Later, the same behaviour at other times and ports: no difference.
        let mut later = t.clone();
        later.events[0].at_us = 99;
        if let EventKind::Connected { client, .. } = &mut later.events[0].kind {
            *client = "127.0.0.1:7".into();
        }
        assert_eq!(diff("a", &from_json, "b", &render::snapshot(&later)), None);
        // S0 and S1 together instead of S0 alone: a difference, shown as a diff.
        let mut other = t.clone();
        other.events[1].kind = EventKind::Segment {
            direction: Direction::ServerToClient,
            len: 1537,
        };
        let d = diff("a", &from_json, "b", &render::snapshot(&other)).unwrap();
        assert!(d.contains("-S->C  1 B\n+S->C  1537 B"), "{d}");
        assert!(normalised("{\"event\":\"segment\"}")
            .unwrap_err()
            .to_string()
            .starts_with("line 1: not a transcript event"));
    }
}
