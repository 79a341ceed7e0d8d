//! Where in a session something happens: one word for the catalogue's entries, a case's verdict
//! and a tolerance table's rows.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stage of an RTMP session, or a layer that runs through several of them.
///
/// The session's stages come first, in the order a client goes through them: TCP, the
/// handshake, connect, publish or play, media, the close. A case stops at one of them (never
/// at play: a player waiting for its stream is reported at `publish`, the stage where both
/// set up their stream), and a tolerance table says at which one a client fails or stalls.
/// The catalogue places each id at the stage it arises in, or, for what can happen at any
/// point of the session, at its layer (`chunk`, `message`, `command`), or at the reading of a
/// capture or the tool's own running (`capture`, `run`).
///
/// Written in lower case in text and JSON (`handshake`, `tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// TCP: connecting, writing, the peer closing or resetting.
    Tcp,
    /// C0/C1/C2 and S0/S1/S2.
    Handshake,
    /// connect and its `_result`.
    Connect,
    /// createStream, publish and its onStatus (and a player's stream set-up, in a verdict).
    Publish,
    /// createStream, play and its onStatus (in a tolerance table).
    Play,
    /// Audio and video.
    Media,
    /// Stopping: unpublishing, deleteStream, closing the connection.
    Close,
    /// The chunk stream: headers, chunk sizes, extended timestamps.
    Chunk,
    /// Messages as such: decoding, the chunk stream protocol control travels on.
    Message,
    /// NetConnection and NetStream commands (connect, createStream, publish, play, onStatus).
    Command,
    /// The capture a replay reads (missing bytes, reassembly).
    Capture,
    /// The tool's own running of a case or a server (budgets, pcap files, companions).
    Run,
}

impl Stage {
    /// Every stage, the session's first and in its order.
    pub const ALL: [Stage; 12] = [
        Stage::Tcp,
        Stage::Handshake,
        Stage::Connect,
        Stage::Publish,
        Stage::Play,
        Stage::Media,
        Stage::Close,
        Stage::Chunk,
        Stage::Message,
        Stage::Command,
        Stage::Capture,
        Stage::Run,
    ];

    /// The word text and JSON write.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Tcp => "tcp",
            Stage::Handshake => "handshake",
            Stage::Connect => "connect",
            Stage::Publish => "publish",
            Stage::Play => "play",
            Stage::Media => "media",
            Stage::Close => "close",
            Stage::Chunk => "chunk",
            Stage::Message => "message",
            Stage::Command => "command",
            Stage::Capture => "capture",
            Stage::Run => "run",
        }
    }

    /// Where a stage of the session comes in it, first 0 (publish and play share a place: a
    /// session does one or the other); None for a layer or the tool's own.
    pub fn session_order(self) -> Option<u8> {
        Some(match self {
            Stage::Tcp => 0,
            Stage::Handshake => 1,
            Stage::Connect => 2,
            Stage::Publish | Stage::Play => 3,
            Stage::Media => 4,
            Stage::Close => 5,
            Stage::Chunk | Stage::Message | Stage::Command | Stage::Capture | Stage::Run => {
                return None
            }
        })
    }

    /// The stage written as `text`, if it is one.
    pub fn from_name(text: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == text)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_written_and_read_as_its_name() {
        for stage in Stage::ALL {
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(json, format!("\"{stage}\""));
            assert_eq!(serde_json::from_str::<Stage>(&json).unwrap(), stage);
            assert_eq!(Stage::from_name(stage.name()), Some(stage));
        }
        assert_eq!(Stage::from_name("connection"), None);
    }
}
