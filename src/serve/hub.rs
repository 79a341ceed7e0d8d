//! The streams being published on the server, shared by all connections.
//!
//! Sessions never touch each other: a publisher's session asks for a name through an action, the
//! driver asks the hub, and media reaches players through the hub's subscriber lists. The hub is
//! plain data (no IO), generic over the handle that reaches a player, so it can be tested alone.

use crate::protocol::chunk::RawMessage;
use std::collections::HashMap;

/// What a late joiner needs before live media: the last metadata and the codec configuration.
#[derive(Debug, Clone, Default)]
pub struct StreamStart {
    pub metadata: Option<RawMessage>,
    pub video_sequence_header: Option<RawMessage>,
    pub audio_sequence_header: Option<RawMessage>,
}

impl StreamStart {
    /// The messages to send a new player, in the order players expect them.
    pub fn messages(&self) -> impl Iterator<Item = &RawMessage> {
        [
            &self.metadata,
            &self.video_sequence_header,
            &self.audio_sequence_header,
        ]
        .into_iter()
        .flatten()
    }
}

struct Stream<P> {
    publisher: u64,
    start: StreamStart,
    players: Vec<(u64, P)>,
}

/// Published streams by name, each with its players (`P` is whatever reaches a player: a channel
/// sender in the tokio driver, a vector in tests).
pub struct Hub<P> {
    streams: HashMap<String, Stream<P>>,
    /// Players that asked for a stream before it was published; they join when it starts.
    waiting: HashMap<String, Vec<(u64, P)>>,
}

/// The streams' names and how many players each has (players are whatever `P` is).
impl<P> std::fmt::Debug for Hub<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("streams", &self.streams.keys().collect::<Vec<_>>())
            .field("waiting", &self.waiting.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl<P> Default for Hub<P> {
    fn default() -> Self {
        Self {
            streams: HashMap::new(),
            waiting: HashMap::new(),
        }
    }
}

impl<P: Clone> Hub<P> {
    /// Claims `name` for connection `publisher`; false when someone already publishes it (the
    /// session then answers NetStream.Publish.BadName).
    pub fn publish(&mut self, name: &str, publisher: u64) -> bool {
        if self.streams.contains_key(name) {
            return false;
        }
        let players = self.waiting.remove(name).unwrap_or_default();
        self.streams.insert(
            name.to_string(),
            Stream {
                publisher,
                start: StreamStart::default(),
                players,
            },
        );
        true
    }

    /// Ends the publication of `name` by `publisher`; returns its players so the driver can tell
    /// them the stream ended. They go back to waiting for the next publisher of the name.
    pub fn unpublish(&mut self, name: &str, publisher: u64) -> Vec<(u64, P)> {
        match self.streams.get(name) {
            Some(s) if s.publisher == publisher => {}
            _ => return Vec::new(),
        }
        let stream = self.streams.remove(name).expect("checked above");
        let players = stream.players.clone();
        if !stream.players.is_empty() {
            self.waiting
                .entry(name.to_string())
                .or_default()
                .extend(stream.players);
        }
        players
    }

    /// Adds a player; returns what it needs first when the stream is live (None: it waits).
    pub fn play(&mut self, name: &str, player: u64, handle: P) -> Option<StreamStart> {
        match self.streams.get_mut(name) {
            Some(stream) => {
                stream.players.push((player, handle));
                Some(stream.start.clone())
            }
            None => {
                self.waiting
                    .entry(name.to_string())
                    .or_default()
                    .push((player, handle));
                None
            }
        }
    }

    /// Removes a connection's players from every stream (on close or deleteStream).
    pub fn leave(&mut self, player: u64) {
        for stream in self.streams.values_mut() {
            stream.players.retain(|(id, _)| *id != player);
        }
        for list in self.waiting.values_mut() {
            list.retain(|(id, _)| *id != player);
        }
        self.waiting.retain(|_, list| !list.is_empty());
    }

    /// Records `message` as the stream's metadata or sequence header when it is one, and returns
    /// the handles of the players to forward it to.
    pub fn media(&mut self, name: &str, message: &RawMessage) -> Vec<P> {
        let Some(stream) = self.streams.get_mut(name) else {
            return Vec::new();
        };
        match classify_start_message(message) {
            Some(StartKind::Metadata) => stream.start.metadata = Some(message.clone()),
            Some(StartKind::Video) => stream.start.video_sequence_header = Some(message.clone()),
            Some(StartKind::Audio) => stream.start.audio_sequence_header = Some(message.clone()),
            None => {}
        }
        stream.players.iter().map(|(_, p)| p.clone()).collect()
    }

    pub fn is_published(&self, name: &str) -> bool {
        self.streams.contains_key(name)
    }
}

enum StartKind {
    Metadata,
    Video,
    Audio,
}

/// Sequence headers and metadata are what a late joiner cannot decode without; they are
/// recognised from the FLV tag header bytes alone.
fn classify_start_message(message: &RawMessage) -> Option<StartKind> {
    let p = &message.payload;
    match message.type_id {
        18 | 15 => Some(StartKind::Metadata),
        // AVC/HEVC legacy: codec config when the packet type byte is 0. Enhanced RTMP: bit 7
        // set and packet type 0 (SequenceStart) in the low nibble.
        9 if p.len() >= 2 && (p[0] & 0x0f == 7 || p[0] & 0x0f == 12) && p[1] == 0 => {
            Some(StartKind::Video)
        }
        9 if !p.is_empty() && p[0] & 0x80 != 0 && p[0] & 0x0f == 0 => Some(StartKind::Video),
        8 if p.len() >= 2 && p[0] >> 4 == 10 && p[1] == 0 => Some(StartKind::Audio),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(type_id: u8, payload: &'static [u8]) -> RawMessage {
        RawMessage {
            csid: 6,
            timestamp: 0,
            type_id,
            stream_id: 1,
            payload: Bytes::from_static(payload),
        }
    }

    #[test]
    fn a_name_has_one_publisher_at_a_time() {
        let mut hub: Hub<u8> = Hub::default();
        assert!(hub.publish("live/a", 1));
        assert!(!hub.publish("live/a", 2));
        assert!(
            hub.unpublish("live/a", 2).is_empty(),
            "only the owner unpublishes"
        );
        assert!(hub.is_published("live/a"));
        hub.unpublish("live/a", 1);
        assert!(hub.publish("live/a", 2));
    }

    #[test]
    fn late_joiners_get_metadata_and_sequence_headers_first() {
        let mut hub: Hub<u8> = Hub::default();
        hub.publish("s", 1);
        hub.media("s", &msg(18, b"\x02\x00\x0aonMetaData"));
        hub.media("s", &msg(9, b"\x17\x00\x00\x00\x00"));
        hub.media("s", &msg(8, b"\xaf\x00\x12\x10"));
        hub.media("s", &msg(9, b"\x27\x01\x00\x00\x00"));
        let start = hub.play("s", 9, 42).expect("live");
        let types: Vec<u8> = start.messages().map(|m| m.type_id).collect();
        assert_eq!(types, [18, 9, 8]);
        assert_eq!(start.video_sequence_header.unwrap().payload[1], 0);
        assert_eq!(hub.media("s", &msg(9, b"\x27\x01")), vec![42]);
    }

    #[test]
    fn players_wait_for_a_publisher_and_leave_cleanly() {
        let mut hub: Hub<u8> = Hub::default();
        assert!(hub.play("s", 9, 42).is_none());
        hub.publish("s", 1);
        assert_eq!(hub.media("s", &msg(9, b"\x27\x01")), vec![42]);
        hub.leave(9);
        assert!(hub.media("s", &msg(9, b"\x27\x01")).is_empty());
    }
}
