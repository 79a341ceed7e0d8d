//! The normalised form for snapshot tests: the text form without what changes from run to run.

use super::text::{plain_body, Detail};
use crate::transcript::{EventKind, Transcript};

/// The normalised form for snapshot tests: no times, no addresses or ports, no peer clocks, and
/// consecutive segments in one direction kept apart (segmentation is what the tool is about), so
/// two runs of the same behaviour render identically and a change in behaviour shows as a diff.
pub fn snapshot(transcript: &Transcript) -> String {
    let mut out = String::new();
    for event in &transcript.events {
        let line = match &event.kind {
            EventKind::Connected { .. } => "connected client -> server".to_string(),
            other => plain_body(other, Detail::Stable),
        };
        out.push_str(&redact_ports(&line));
        out.push('\n');
    }
    out
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
