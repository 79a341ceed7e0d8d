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

/// One connection's transcript in the normalised snapshot form, with the name its file gives
/// it (`flow 2` in a capture's transcript, `conn 3` in a server's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub label: String,
    pub text: String,
}

/// The one transcript of a file that does not number its connections (`probe --json`, a
/// snapshot without flow headers).
const UNNAMED: &str = "connection 1";

/// Reads a transcript written by `--json` (one event per line, each with its `flow` or `conn`
/// number; lines about the server and the case result are skipped) or by `--snapshot` (split at
/// its `flow N: ...` headers), one [`Connection`] per flow or connection in order of first
/// appearance. The flow headers and the closest-profile notes are left out: they are derived
/// from the transcript or name addresses. Addresses (`127.0.0.1:5000`, `[::1]:5000`) in what
/// remains become `ADDR`, since they change from run to run.
pub fn connections(text: &str) -> Result<Vec<Connection>, ParseError> {
    let mut out = if text.trim_start().starts_with('{') {
        from_json_lines(text)?
    } else {
        from_snapshot(text)
    };
    for c in &mut out {
        c.text = c.text.lines().map(|l| redact_addresses(l) + "\n").collect();
    }
    Ok(out)
}

/// What `text` looks like when it is not a transcript [`connections`] reads (empty, a command's
/// text output, a matrix's or load's results, a profile file), in words for the error that
/// refuses it; None when it is a transcript, or when only reading it can tell what is wrong
/// with it (a line that is not JSON is then named by [`connections`]).
pub fn not_a_transcript(text: &str) -> Option<String> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let Some(&(_, first)) = lines.first() else {
        return Some("it is empty".into());
    };
    if first.trim_start().starts_with('{') {
        return json_lines_without_connections(&lines);
    }
    // What follows replay --against's verdict line is its diff with the capture.
    let mut in_against_diff = false;
    let (line, offending) = lines
        .iter()
        .find(|(_, l)| {
            if against_header(l).is_some() {
                in_against_diff = false;
            } else if against_verdict(l) {
                in_against_diff = true;
            }
            !in_against_diff && !is_snapshot_line(l)
        })
        .copied()?;
    Some(looks_like(offending).unwrap_or_else(|| {
        format!(
            "line {} is neither a transcript line nor JSON: '{}'",
            line + 1,
            offending.chars().take(60).collect::<String>()
        )
    }))
}

/// A JSON Lines file with no event of a connection: a command's results, not a transcript.
fn json_lines_without_connections(lines: &[(usize, &str)]) -> Option<String> {
    let mut kinds = std::collections::BTreeSet::new();
    for (_, line) in lines {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        match value.get("event").and_then(|e| e.as_str()) {
            Some("server" | "output_dropped" | "case" | "against" | "matrix" | "load") => {
                kinds.insert(value["event"].as_str().unwrap_or_default().to_string());
            }
            // A connection's event or a capture's flow: a transcript (or something only
            // reading it can judge).
            _ => return None,
        }
    }
    let what = if kinds.contains("matrix") {
        "it holds matrix results (matrix --json: a `case` line per case, then a `matrix` line); \
         probe --json writes a case's transcript"
    } else if kinds.contains("load") {
        "it is load's report (load --json)"
    } else if kinds.contains("case") {
        "it holds case results only"
    } else {
        "it is serve --json output without any connection"
    };
    Some(what.into())
}

/// Whether `line` is one `--snapshot` writes (replay's, with its flow headers and notes).
fn is_snapshot_line(line: &str) -> bool {
    const PREFIXES: [&str; 11] = [
        "connected ",
        "C->S  ",
        "S->C  ",
        "hs    ",
        "info  ",
        "warning  ",
        "error  ",
        "media ",
        "closed: ",
        "closest emulator profile: ",
        "note: ",
    ];
    PREFIXES.iter().any(|p| line.starts_with(p))
        || line.starts_with("    differs: ")
        || line.starts_with("    build: ")
        || flow_header(line).is_some()
        || against_header(line).is_some()
        || against_verdict(line)
}

/// What a line that no transcript has says the file is, when it says.
fn looks_like(line: &str) -> Option<String> {
    let time_first = |l: &str| {
        let l = l.trim_start();
        let number = l.split(' ').next().unwrap_or_default();
        number.contains('.')
            && number.parse::<f64>().is_ok()
            && l[number.len()..].starts_with(" ms  ")
    };
    let serve_line = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .is_some_and(|(n, rest)| n.parse::<u64>().is_ok() && time_first(rest));
    let what = if serve_line || line.starts_with("rtmp-probe serve: ") {
        "it is serve's text output (lines start with [connection] and a time); diff reads \
         transcripts written with serve --json"
    } else if time_first(line) {
        "it is a command's text output (lines start with a time); diff reads transcripts \
         written with --json (serve, probe, replay) or replay --snapshot"
    } else if line.starts_with("target: ") || line.starts_with("CASE ") {
        "it is matrix's text output (a table of verdicts)"
    } else if line.starts_with("target       ") {
        "it is load's text output"
    } else if line.starts_with("# rtmp-probe client profile") || line.starts_with("name = ") {
        "it is a profile file (TOML)"
    } else {
        return None;
    };
    Some(what.into())
}

fn from_json_lines(text: &str) -> Result<Vec<Connection>, ParseError> {
    let mut order: Vec<(String, Transcript)> = Vec::new();
    fn entry(order: &mut Vec<(String, Transcript)>, label: String) -> usize {
        match order.iter().position(|(l, _)| *l == label) {
            Some(i) => i,
            None => {
                order.push((label, Transcript::new()));
                order.len() - 1
            }
        }
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| ParseError {
            line: i + 1,
            problem: format!("not JSON: {e}"),
        })?;
        let label = ["flow", "conn"].iter().find_map(|key| {
            value
                .get(*key)
                .and_then(|n| n.as_u64())
                .map(|n| format!("{key} {n}"))
        });
        match value.get("event").and_then(|e| e.as_str()) {
            // A capture's flow line: the flow exists even if nothing of it is decoded.
            Some("flow") => {
                entry(&mut order, label.unwrap_or_else(|| UNNAMED.into()));
                continue;
            }
            // Lines about the server, a case, a re-enactment, a matrix or a load run are not
            // events of a connection; nor is a line without `event` (probe's last line, before
            // every line had one).
            Some("server" | "case" | "against" | "matrix" | "load") | None => continue,
            Some(_) => {}
        }
        // From the line, not from `value`: an AMF0 object's keys keep their order that way.
        let event: Event = serde_json::from_str(line).map_err(|e| ParseError {
            line: i + 1,
            problem: format!("not a transcript event: {e}"),
        })?;
        let at = entry(&mut order, label.unwrap_or_else(|| UNNAMED.into()));
        order[at].1.events.push(event);
    }
    // A server numbers its connections as it accepts them; pair them by that number, not by
    // which one happened to print first.
    let number = |label: &str| label.rsplit(' ').next().and_then(|n| n.parse::<u64>().ok());
    order.sort_by_key(|(label, _)| number(label));
    Ok(order
        .into_iter()
        .map(|(label, t)| Connection {
            label,
            text: render::snapshot(&t),
        })
        .collect())
}

fn from_snapshot(text: &str) -> Vec<Connection> {
    let mut out: Vec<Connection> = Vec::new();
    let mut in_against_diff = false;
    for line in text.lines() {
        if let Some(flow) = flow_header(line) {
            out.push(Connection {
                label: format!("flow {flow}"),
                text: String::new(),
            });
            continue;
        }
        // replay --against --snapshot: its header names the flow, its notes and the diff
        // against the capture that follow the live transcript are not part of it.
        if let Some(flow) = against_header(line) {
            out.push(Connection {
                label: format!("flow {flow}"),
                text: String::new(),
            });
            in_against_diff = false;
            continue;
        }
        if against_verdict(line) {
            in_against_diff = true;
            continue;
        }
        if in_against_diff
            || line.trim().is_empty()
            || line.starts_with("closest emulator profile: ")
            || line.starts_with("    differs: ")
            || line.starts_with("    build: ")
            || line.starts_with("note: ")
        {
            continue;
        }
        if out.is_empty() {
            out.push(Connection {
                label: UNNAMED.into(),
                text: String::new(),
            });
        }
        if let Some(last) = out.last_mut() {
            // Capture frame numbers (`replay --snapshot`) differ between any two captures.
            last.text.push_str(render::text::without_frames(line));
            last.text.push('\n');
        }
    }
    out
}

/// `flow 1 of CAPTURE re-enacted against ADDR: ...` -> 1.
fn against_header(line: &str) -> Option<u64> {
    let (number, rest) = line.strip_prefix("flow ")?.split_once(" of ")?;
    rest.contains(" re-enacted against ")
        .then(|| number.parse().ok())
        .flatten()
}

/// The line after `replay --against`'s live transcript that says how it compares with the
/// captured one; what follows it is the comparison.
fn against_verdict(line: &str) -> bool {
    line.starts_with("differences from the captured session")
        || line == "the live session's transcript is the captured one's"
}

/// `flow 2: 10.0.0.1:5000 -> ...` -> 2.
fn flow_header(line: &str) -> Option<u64> {
    let (number, _) = line.strip_prefix("flow ")?.split_once(": ")?;
    number.parse().ok()
}

/// Addresses that name a socket or a URL's host become `ADDR`: IPv4 or `[IPv6]` with a port
/// (`127.0.0.1:5000`), or right after `://`. A dotted quad alone stays: it is a version field.
fn redact_addresses(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.');
        let in_url = line[..i].ends_with("://");
        let len = if starts_word {
            ipv4_with_port(&bytes[i..])
                .or_else(|| bracketed_ipv6_with_port(&bytes[i..]))
                .filter(|(_, port)| *port || in_url)
                .map(|(n, _)| n)
        } else {
            None
        };
        match len {
            Some(n) => {
                out.push_str("ADDR");
                i += n;
            }
            None => {
                let ch = line[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// The length of `d.d.d.d` or `d.d.d.d:port` at the start of `s` (1 to 3 digits each), and
/// whether it had the port.
fn ipv4_with_port(s: &[u8]) -> Option<(usize, bool)> {
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut at = 0;
    for part in 0..4 {
        if part > 0 {
            if s.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let n = digits(at);
        if !(1..=3).contains(&n) {
            return None;
        }
        at += n;
    }
    if s.get(at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'.')
    {
        return None;
    }
    let port = s.get(at) == Some(&b':') && digits(at + 1) > 0;
    if port {
        at += 1 + digits(at + 1);
    }
    Some((at, port))
}

/// The length of `[hex:...]` or `[hex:...]:port` at the start of `s`, and whether it had the
/// port.
fn bracketed_ipv6_with_port(s: &[u8]) -> Option<(usize, bool)> {
    if s.first() != Some(&b'[') {
        return None;
    }
    let close = s.iter().position(|b| *b == b']')?;
    let inside = &s[1..close];
    if inside.is_empty()
        || !inside.contains(&b':')
        || !inside
            .iter()
            .all(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.')
    {
        return None;
    }
    let at = close + 1;
    let n = match s.get(at) {
        Some(b':') => s[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count(),
        _ => 0,
    };
    Some(if n > 0 {
        (at + 1 + n, true)
    } else {
        (at, false)
    })
}

/// How two files' connections differ, connection by connection (paired in order); None when
/// they are the same. Each differing connection gets a line naming it and a unified diff.
pub fn diff_connections(
    a_name: &str,
    a: &[Connection],
    b_name: &str,
    b: &[Connection],
) -> Option<String> {
    let mut out = String::new();
    let count = |n: usize| match n {
        1 => "1 connection".to_string(),
        n => format!("{n} connections"),
    };
    if a.len() != b.len() {
        out.push_str(&format!(
            "{a_name} has {}, {b_name} has {}\n",
            count(a.len()),
            count(b.len())
        ));
    }
    let empty = Connection {
        label: "(none)".into(),
        text: String::new(),
    };
    for i in 0..a.len().max(b.len()) {
        let (ca, cb) = (a.get(i).unwrap_or(&empty), b.get(i).unwrap_or(&empty));
        let same_label = ca.label == cb.label;
        let name = |file: &str, c: &Connection| {
            if same_label {
                file.to_string()
            } else {
                format!("{file} ({})", c.label)
            }
        };
        if let Some(d) = diff(&name(a_name, ca), &ca.text, &name(b_name, cb), &cb.text) {
            let which = if same_label {
                ca.label.clone()
            } else {
                format!("connection {} ({} / {})", i + 1, ca.label, cb.label)
            };
            out.push_str(&format!("{which} differs:\n{d}"));
        }
    }
    (!out.is_empty()).then_some(out)
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
        let from_json = connections(&json).unwrap();
        assert_eq!(
            from_json,
            [Connection {
                label: "conn 1".into(),
                text: render::snapshot(&t)
            }]
        );
        let one = |t: &Transcript| connections(&render::snapshot(t)).unwrap();
        // Later, the same behaviour at other times and ports: no difference.
        let mut later = t.clone();
        later.events[0].at_us = 99;
        if let EventKind::Connected { client, .. } = &mut later.events[0].kind {
            *client = "127.0.0.1:7".into();
        }
        assert_eq!(one(&later)[0].text, from_json[0].text);
        assert_eq!(diff_connections("a", &from_json, "b", &from_json), None);
        // S0 and S1 together instead of S0 alone: a difference, shown as a diff that names
        // the connection in each file.
        let mut other = t.clone();
        other.events[1].kind = EventKind::Segment {
            direction: Direction::ServerToClient,
            len: 1537,
        };
        let d = diff_connections("a", &from_json, "b", &one(&other)).unwrap();
        assert!(
            d.starts_with("connection 1 (conn 1 / connection 1) differs:\n"),
            "{d}"
        );
        assert!(d.contains("--- a (conn 1)\n+++ b (connection 1)\n"), "{d}");
        assert!(d.contains("-S->C  1 B\n+S->C  1537 B"), "{d}");
        assert!(connections("{\"event\":\"segment\"}")
            .unwrap_err()
            .to_string()
            .starts_with("line 1: not a transcript event"));
    }

    #[test]
    fn connections_are_split_by_flow_and_conn_and_compared_one_by_one() {
        let snapshot =
            "flow 1: 10.0.0.1:5000 -> 10.0.0.2:1935: RTMP; 1 + 2 bytes, 0 + 0 messages\n\
            connected client -> server\n\
            C->S  1537 B\n\
            closest emulator profile: obs (9 of 9 traits match)\n\
            \n\
            flow 2: 10.0.0.1:5001 -> 10.0.0.2:80: not RTMP, skipped; 5 + 5 bytes, 0 + 0 messages\n\
            \n";
        let parsed = connections(snapshot).unwrap();
        assert_eq!(parsed.len(), 2, "{parsed:?}");
        assert_eq!(parsed[0].label, "flow 1");
        assert_eq!(parsed[0].text, "connected client -> server\nC->S  1537 B\n");
        assert_eq!(parsed[1].label, "flow 2");
        assert_eq!(parsed[1].text, "");

        let json = |second_len: usize| {
            format!(
                "{{\"conn\":1,\"at_us\":0,\"event\":\"segment\",\"direction\":\"client_to_server\",\"len\":1537}}\n\
                 {{\"conn\":2,\"at_us\":5,\"event\":\"segment\",\"direction\":\"client_to_server\",\"len\":{second_len}}}\n\
                 {{\"conn\":1,\"at_us\":9,\"event\":\"segment\",\"direction\":\"server_to_client\",\"len\":3073}}\n"
            )
        };
        let a = connections(&json(1537)).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0].text, "C->S  1537 B\nS->C  3073 B\n",
            "interleaved lines regrouped"
        );
        let b = connections(&json(1)).unwrap();
        let d = diff_connections("a", &a, "b", &b).unwrap();
        assert!(d.starts_with("conn 2 differs:\n"), "{d}");
        assert!(!d.contains("conn 1"), "{d}");
        assert!(d.contains("-C->S  1537 B\n+C->S  1 B"), "{d}");
        let d = diff_connections("a", &a, "b", &a[..1]).unwrap();
        assert!(
            d.starts_with("a has 2 connections, b has 1 connection\n"),
            "{d}"
        );
    }

    #[test]
    fn addresses_and_ports_are_redacted() {
        assert_eq!(
            redact_addresses("from 127.0.0.1:50123 to [::1]:1935, not 1.2.3 or v1.2.3.4"),
            "from ADDR to ADDR, not 1.2.3 or v1.2.3.4"
        );
        assert_eq!(
            redact_addresses("C1 version field 9.0.124.2 (Flash)"),
            "C1 version field 9.0.124.2 (Flash)"
        );
        assert_eq!(
            redact_addresses("rtmp://10.0.0.1/live rtmp://[::1]/live"),
            "rtmp://ADDR/live rtmp://ADDR/live"
        );
        assert_eq!(
            redact_addresses("tcUrl rtmp://192.168.0.7:PORT/live"),
            "tcUrl rtmp://ADDR:PORT/live"
        );
        assert_eq!(redact_addresses("1537 B ü"), "1537 B ü");
    }

    #[test]
    fn a_json_transcript_with_an_id_the_catalogue_lacks_is_an_error_naming_it() {
        let json = "{\"conn\":1,\"at_us\":0,\"event\":\"connected\",\"client\":\"a\",\"server\":\"b\"}\n\
                    {\"conn\":1,\"at_us\":5,\"event\":\"diagnostic\",\"id\":\"hs.s2-echo-from8\",\"severity\":\"info\",\"text\":\"x\"}\n";
        let err = connections(json).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "line 2: not a transcript event: unknown diagnostic id 'hs.s2-echo-from8'"
            ) && err.contains("did you mean hs.s2-echo-from-8"),
            "{err}"
        );
    }

    #[test]
    fn what_is_not_a_transcript_is_named_by_what_it_looks_like() {
        let said = |text: &str| not_a_transcript(text).unwrap_or_default();
        assert_eq!(said(" \n\n"), "it is empty");
        assert!(said("     0.252 ms  connected 1.2.3.4:5 -> 1.2.3.4:6\n").contains("text output"));
        assert!(said("[3]      0.000 ms  connected a -> b\n").contains("serve's text output"));
        assert!(said("target: rtmp://x/live\n\nCASE  VERDICT\n").contains("matrix's text"));
        let matrix =
            "{\"event\":\"case\",\"id\":\"obs/default\"}\n{\"event\":\"matrix\",\"cases\":1}\n";
        assert!(said(matrix).contains("matrix results"));
        assert!(said("{\"event\":\"load\",\"clients\":3}\n").contains("load's report"));
        assert!(said("hello\n").contains("line 1 is neither a transcript line nor JSON: 'hello'"));
        // Transcripts: JSON Lines with a connection's events, and the snapshot forms, replay
        // --against's with its header, notes and comparison.
        for transcript in [
            "{\"conn\":1,\"at_us\":0,\"event\":\"connected\",\"client\":\"a\",\"server\":\"b\"}\n",
            "flow 1: a -> b: RTMP; 1 + 2 bytes, 0 + 0 messages\nconnected client -> server\nC->S  1537 B  [#4]\n",
            "flow 1 of x.pcap re-enacted against 127.0.0.1:1935: all 3 of the client's writes sent\n\
             connected client -> server\nC->S  1537 B\nnote: C2: regenerated\n\
             differences from the captured session (normalised transcripts):\n--- captured\n+++ live\n-S->C  1 B\n",
        ] {
            assert_eq!(not_a_transcript(transcript), None, "{transcript}");
        }
        let against = connections(
            "flow 1 of x.pcap re-enacted against 127.0.0.1:1935: all 3 of the client's writes sent\n\
             connected client -> server\nnote: a note\n\
             differences from the captured session (normalised transcripts):\n-S->C  1 B\n",
        )
        .unwrap();
        assert_eq!(against.len(), 1);
        assert_eq!(against[0].label, "flow 1");
        assert_eq!(against[0].text, "connected client -> server\n");
    }
}
