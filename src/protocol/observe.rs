//! A passive observer of a connection between two other peers, as a capture shows it: both
//! directions' handshakes framed and analysed, then both chunk streams read.
//!
//! Replay, re-enactment and the fuzz seeds all read captured flows this way; this is the one
//! place that knows where a handshake ends and the chunk stream begins. Unlike a
//! [`super::connection::Connection`] it answers nothing and checks nothing against a role: it
//! reports what the bytes show, however few of them there are. A truncated or failed handshake
//! still gets every observation its bytes allow.

use crate::protocol::chunk::{ChunkError, ChunkLimits, ChunkReader, ReadEvent};
use crate::protocol::connection::Side;
use crate::protocol::handshake::{analyze, HandshakeEvent, Packet, HANDSHAKE_LEN, PACKET_LEN};
use bytes::Bytes;
use std::collections::VecDeque;

/// Where each handshake packet ends in its direction's bytes.
const PACKET_ENDS: [usize; 3] = [1, 1 + PACKET_LEN, HANDSHAKE_LEN];

/// One direction: its handshake bytes, then its chunk stream.
struct OneDirection {
    /// The first [`HANDSHAKE_LEN`] bytes (fewer until they have arrived).
    handshake: Vec<u8>,
    reader: ChunkReader,
}

/// Both directions of one captured connection.
pub struct FlowObserver {
    /// Client (0) and server (1).
    directions: [OneDirection; 2],
    /// Handshake observations made so far, in the order the bytes allowed them.
    observed: Vec<HandshakeEvent>,
    pending: VecDeque<HandshakeEvent>,
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl FlowObserver {
    pub fn new(limits: ChunkLimits) -> Self {
        Self::with_readers(|| ChunkReader::new(limits.clone()))
    }

    /// Observes with chunk readers made by `reader` (for chunk events, say).
    pub fn with_readers(mut reader: impl FnMut() -> ChunkReader) -> Self {
        let direction = |reader: ChunkReader| OneDirection {
            handshake: Vec::new(),
            reader,
        };
        Self {
            directions: [direction(reader()), direction(reader())],
            observed: Vec::new(),
            pending: VecDeque::new(),
        }
    }

    /// Feeds the next bytes `side` sent: the handshake takes what it still lacks, and the
    /// rest goes to that side's chunk reader without a copy. Returns how many bytes went to
    /// the handshake.
    pub fn feed_bytes(&mut self, side: Side, bytes: Bytes) -> usize {
        let take = self.feed_handshake(side, &bytes);
        if take < bytes.len() {
            self.directions[index(side)]
                .reader
                .feed_bytes(bytes.slice(take..));
        }
        take
    }

    /// [`Self::feed_bytes`] for borrowed bytes: only the chunk stream's part is copied.
    pub fn feed(&mut self, side: Side, bytes: &[u8]) -> usize {
        let take = self.feed_handshake(side, bytes);
        if take < bytes.len() {
            self.directions[index(side)].reader.feed(&bytes[take..]);
        }
        take
    }

    fn feed_handshake(&mut self, side: Side, bytes: &[u8]) -> usize {
        let handshake = &mut self.directions[index(side)].handshake;
        let before = handshake.len();
        let take = (HANDSHAKE_LEN - before).min(bytes.len());
        handshake.extend_from_slice(&bytes[..take]);
        if PACKET_ENDS
            .iter()
            .any(|&end| before < end && before + take >= end)
        {
            self.observe();
        }
        take
    }

    /// A packet completed: what can be said now that could not be before.
    fn observe(&mut self) {
        for event in self.observations() {
            if !self.observed.contains(&event) {
                self.observed.push(event.clone());
                self.pending.push_back(event);
            }
        }
    }

    /// The next handshake observation, as soon as the packets it needs are complete.
    pub fn poll_handshake(&mut self) -> Option<HandshakeEvent> {
        self.pending.pop_front()
    }

    /// Every observation the handshake bytes so far allow, in the order of a complete
    /// handshake (C side first): the same list whatever order the packets arrived in.
    pub fn observations(&self) -> Vec<HandshakeEvent> {
        analyze(&self.directions[0].handshake, &self.directions[1].handshake)
    }

    /// The handshake bytes `side` sent so far (at most [`HANDSHAKE_LEN`]).
    pub fn handshake(&self, side: Side) -> &[u8] {
        &self.directions[index(side)].handshake
    }

    /// Whether all of `side`'s handshake has arrived.
    pub fn handshake_done(&self, side: Side) -> bool {
        self.handshake(side).len() == HANDSHAKE_LEN
    }

    /// One complete handshake packet's bytes.
    pub fn packet(&self, packet: Packet) -> Option<&[u8]> {
        let (side, start, len) = match packet {
            Packet::C0 => (Side::Client, 0, 1),
            Packet::C1 => (Side::Client, 1, PACKET_LEN),
            Packet::C2 => (Side::Client, 1 + PACKET_LEN, PACKET_LEN),
            Packet::S0 => (Side::Server, 0, 1),
            Packet::S1 => (Side::Server, 1, PACKET_LEN),
            Packet::S2 => (Side::Server, 1 + PACKET_LEN, PACKET_LEN),
        };
        self.handshake(side).get(start..start + len)
    }

    /// `side`'s next chunk stream event; `Ok(None)` when more bytes are needed.
    pub fn poll_chunk(&mut self, side: Side) -> Result<Option<ReadEvent>, ChunkError> {
        self.directions[index(side)].reader.poll()
    }

    /// `side` sent its last byte: what waited for a look-ahead completes.
    pub fn end_of_stream(&mut self, side: Side) {
        self.directions[index(side)].reader.end_of_stream();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::chunk::{ChunkWriter, RawMessage};
    use crate::protocol::handshake::{ClientConfig, Handshake, ServerConfig};
    use crate::protocol::random::RandomSource;
    use bytes::BytesMut;

    /// A real exchange's bytes: (client's, server's), each direction's handshake followed by
    /// one message.
    fn exchange() -> (Vec<u8>, Vec<u8>) {
        let mut client = Handshake::client(ClientConfig::default(), RandomSource::seeded(1));
        let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(2));
        let drain = |hs: &mut Handshake| -> Vec<u8> {
            std::iter::from_fn(|| hs.poll_transmit())
                .flat_map(|t| t.bytes.to_vec())
                .collect()
        };
        let mut c = drain(&mut client);
        server.feed(&c).unwrap();
        let mut s = drain(&mut server);
        client.feed(&s).unwrap();
        c.extend(drain(&mut client));
        for (bytes, type_id) in [(&mut c, 20), (&mut s, 18)] {
            let mut out = BytesMut::new();
            ChunkWriter::new().write(&message(type_id), &mut out);
            bytes.extend_from_slice(&out);
        }
        (c, s)
    }

    fn message(type_id: u8) -> RawMessage {
        RawMessage {
            csid: 3,
            timestamp: 0,
            type_id,
            stream_id: 0,
            payload: Bytes::from(vec![type_id; 300]),
        }
    }

    /// The events' catalogue ids, shorter in an assertion than the events (the naming is the
    /// transcript's; only these tests borrow it).
    fn ids(events: &[HandshakeEvent]) -> Vec<&'static str> {
        events
            .iter()
            .map(|e| crate::transcript::DiagnosticId::from(e).as_str())
            .collect()
    }

    #[test]
    fn a_whole_flow_in_any_segmentation_gives_the_same_observations_and_messages() {
        let (c, s) = exchange();
        for cut in [1, 7, 1000, 1537, usize::MAX] {
            let mut o = FlowObserver::new(ChunkLimits::default());
            let mut incremental = Vec::new();
            let mut messages = Vec::new();
            for (side, bytes) in [(Side::Client, &c), (Side::Server, &s)] {
                for piece in bytes.chunks(cut.min(bytes.len())) {
                    o.feed_bytes(side, Bytes::copy_from_slice(piece));
                    incremental.extend(std::iter::from_fn(|| o.poll_handshake()));
                    while let Some(event) = o.poll_chunk(side).unwrap() {
                        if let ReadEvent::Message(m) = event {
                            messages.push(m);
                        }
                    }
                }
            }
            assert!(o.handshake_done(Side::Client) && o.handshake_done(Side::Server));
            let all = o.observations();
            assert_eq!(
                ids(&all),
                ids(&analyze(&c[..HANDSHAKE_LEN], &s[..HANDSHAKE_LEN]))
            );
            assert_eq!(incremental.len(), all.len(), "cut {cut}");
            assert!(all.iter().all(|e| incremental.contains(e)));
            assert_eq!(messages, [message(20), message(18)], "cut {cut}");
        }
    }

    #[test]
    fn a_truncated_handshake_gets_the_observations_its_bytes_allow() {
        let (c, s) = exchange();
        let mut o = FlowObserver::new(ChunkLimits::default());
        o.feed(Side::Client, &c[..1 + PACKET_LEN + 10]);
        o.feed(Side::Server, &s[..1]);
        assert_eq!(
            ids(&o.observations()),
            [
                "hs.c0-version",
                "hs.c1-fields",
                "hs.c1-no-digest",
                "hs.s0-version"
            ]
        );
        assert_eq!(o.packet(Packet::C1), Some(&c[1..1 + PACKET_LEN]));
        assert_eq!(o.packet(Packet::C2), None);
        assert!(!o.handshake_done(Side::Client));
        // Arrival order: the client's observations came first here.
        let incremental: Vec<_> = std::iter::from_fn(|| o.poll_handshake()).collect();
        assert_eq!(ids(&incremental), ids(&o.observations()));
    }

    #[test]
    fn only_the_chunk_stream_reaches_the_reader() {
        let (c, _) = exchange();
        let mut o = FlowObserver::new(ChunkLimits::default());
        assert_eq!(
            o.feed_bytes(Side::Client, Bytes::from(c.clone())),
            HANDSHAKE_LEN
        );
        assert_eq!(o.feed(Side::Client, &[]), 0);
        let first = o.poll_chunk(Side::Client).unwrap();
        assert_eq!(first, Some(ReadEvent::Message(message(20))));
        assert_eq!(o.poll_chunk(Side::Server).unwrap(), None);
    }
}
