//! The normalised form for snapshot tests: the text form without what changes from run to run.

use super::text::{frames_suffix, plain_body, Detail};
use crate::transcript::{EventKind, Transcript};

/// The normalised form for snapshot tests: no times, no addresses or ports, no peer clocks, and
/// consecutive segments in one direction kept apart (segmentation is what the tool is about), so
/// two runs of the same behaviour render identically and a change in behaviour shows as a diff.
/// Neither capture frame numbers nor each media message (replay's `media` events) are in it:
/// it compares a capture's transcript with a live one's.
pub fn snapshot(transcript: &Transcript) -> String {
    render(transcript, false, false)
}

/// [`snapshot`] with each line's capture frames (replay's snapshots: the frames of one capture
/// do not change) and, with `media`, every audio and video message.
pub fn snapshot_framed(transcript: &Transcript, media: bool) -> String {
    render(transcript, true, media)
}

fn render(transcript: &Transcript, frames: bool, media: bool) -> String {
    let mut out = String::new();
    for event in &transcript.events {
        let line = match &event.kind {
            EventKind::Media(_) if !media => continue,
            EventKind::Connected { .. } => "connected client -> server".to_string(),
            other => plain_body(other, Detail::Stable),
        };
        out.push_str(&redact_ports(&line));
        if frames {
            out.push_str(&frames_suffix(&event.frames));
        }
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
