//! A passive observer of a connection between two other peers, as a capture shows it: both
//! directions' handshakes framed and analysed, then both chunk streams read.
//!
//! Replay, re-enactment and the fuzz seeds all read captured flows this way; this is the one
//! place that knows where a handshake ends and the chunk stream begins. Unlike a
//! [`super::connection::Connection`] it answers nothing and checks nothing against a role: it
//! reports what the bytes show, however few of them there are. A truncated or failed handshake
//! still gets every observation its bytes allow.
//!
//! What the specification forbids but receivers read anyway is read as they do
//! ([`Reading::Receivers`]), each time named by the reader's event (and so by its catalogue id):
//! a capture is looked at when a session broke, and the session went on past what the peer
//! tolerated. [`Reading::Specification`] is the spec's reading, for `replay --strict`.
//!
//! # Example
//!
//! A capture read by hand: each TCP segment's payload goes to the observer as the side that
//! sent it, which frames both handshakes and reads both chunk streams. (This capture was made on
//! loopback, so its segments are in order; [`crate::replay::replay`] adds TCP reassembly and
//! gives each flow's whole transcript.)
//!
//! ```rust
//! use rtmp_probe::capture::{link, CaptureReader};
//! use rtmp_probe::protocol::chunk::{ChunkLimits, ReadEvent};
//! use rtmp_probe::protocol::connection::Side;
//! use rtmp_probe::protocol::message::Message;
//! use rtmp_probe::protocol::observe::FlowObserver;
//! use rtmp_probe::transcript::DiagnosticId;
//! use std::{fs::File, io::BufReader};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // FFmpeg 5.1 publishing to nginx-rtmp (one of the project's captures).
//!     let file = File::open("captures/ffmpeg-publish-to-nginx.pcap")?;
//!     let mut capture = CaptureReader::new(BufReader::new(file))?;
//!     let mut observer = FlowObserver::new(ChunkLimits::default());
//!     let mut client = None; // the address whose bytes come first
//!     let mut commands = Vec::new();
//!     while let Some(frame) = capture.next_frame() {
//!         let frame = frame?;
//!         let Some(segment) = link::tcp_segment(frame.link_type, &frame.data)? else {
//!             continue; // not TCP
//!         };
//!         if segment.payload.is_empty() {
//!             continue;
//!         }
//!         let first = *client.get_or_insert(segment.src);
//!         let side = if segment.src == first { Side::Client } else { Side::Server };
//!         observer.feed(side, segment.payload);
//!         while let Some(event) = observer.poll_chunk(side)? {
//!             if let ReadEvent::Message(raw) = event {
//!                 if let Ok(Message::Command(command)) = Message::decode(&raw) {
//!                     commands.push(format!("{side:?}: {}", command.name));
//!                 }
//!             }
//!         }
//!     }
//!     let handshake: Vec<&str> = observer
//!         .observations()
//!         .iter()
//!         .map(|e| DiagnosticId::from(e).as_str())
//!         .collect();
//!     assert!(handshake.contains(&"hs.mode-digest"), "{handshake:?}");
//!     assert_eq!(
//!         commands[..6],
//!         [
//!             "Client: connect",
//!             "Server: _result",
//!             "Client: releaseStream",
//!             "Client: FCPublish",
//!             "Client: createStream",
//!             "Server: _result",
//!         ]
//!     );
//!     Ok(())
//! }
//! ```

use crate::protocol::chunk::{
    ChunkError, ChunkLimits, ChunkReader, ExtendedTimestampConvention, MidMessageHeaders, ReadEvent,
};
use crate::protocol::connection::Side;
use crate::protocol::handshake::{analyze, HandshakeEvent, Packet, HANDSHAKE_LEN, PACKET_LEN};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::ops::Range;

/// Where each handshake packet ends in its direction's bytes.
const PACKET_ENDS: [usize; 3] = [1, 1 + PACKET_LEN, HANDSHAKE_LEN];

/// How an observer reads what the specification forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reading {
    /// As the receiving peer most likely did, with the tolerance FFmpeg, librtmp and nginx-rtmp
    /// share (and the emulators model): a chunk stream opened with a type 1, 2 or 3 header is
    /// read from zeroed state; a type 0, 1 or 2 header in the middle of a message that repeats
    /// its length continues the message (FFmpeg, nginx-rtmp); each chunk stream's extended
    /// timestamp convention on type-3 chunks is learnt from its first such chunk.
    #[default]
    Receivers,
    /// The specification's: a chunk stream opened without a type 0 header cannot be read, a
    /// type 0, 1 or 2 header always starts a new message, and type-3 chunks after an extended
    /// timestamp carry it again (5.3.1.3, 2012 text).
    Specification,
}

impl Reading {
    /// A chunk reader that reads this way, within `limits`.
    pub fn reader(self, limits: ChunkLimits) -> ChunkReader {
        let reader = ChunkReader::new(limits);
        match self {
            Reading::Receivers => reader
                .with_zero_state_start(true)
                .with_mid_message_headers(MidMessageHeaders::ContinueSameLength),
            Reading::Specification => {
                reader.with_extended_timestamp_reading(Some(ExtendedTimestampConvention::Repeat))
            }
        }
    }
}

/// The limits a captured flow is read within: what the wire format allows, so that a capture is
/// never cut short by a bound a server needs against its peers (a 16 MiB message, 65,536 chunk
/// streams, any chunk size up to 2^31 - 1, any number of chunks or empty Aborts). Bytes held in
/// partial messages stay bounded.
pub fn capture_limits() -> ChunkLimits {
    ChunkLimits {
        max_message_len: 0xFF_FFFF,
        max_chunk_size: 0x7FFF_FFFF,
        min_chunk_size: 1,
        max_chunk_streams: crate::protocol::chunk::MAX_CSID as usize + 1,
        max_chunks_per_message: u32::MAX,
        max_empty_aborts: u32::MAX,
        ..ChunkLimits::default()
    }
}

/// Why a chunk stream error ends the reading of a direction for good: chunk headers carry no
/// marker a reader could find the next one by, so after bytes that cannot be framed there is
/// no place to resume from that would not be a guess.
pub fn why_decoding_stops(error: &ChunkError) -> &'static str {
    match error {
        ChunkError::NoPreviousHeader { .. } => {
            "read as the specification has it, a chunk stream must open with a type 0 header, \
             so the chunk's length is unknown and the bytes after it cannot be framed"
        }
        ChunkError::ChunkSizeOutOfRange { .. } => {
            "every later chunk would be read at that size, which frames nothing, and chunk \
             headers carry no marker to resume at"
        }
        ChunkError::Poisoned(inner) => why_decoding_stops(inner),
        _ => {
            "the reader's bound protects its memory, and chunk headers carry no marker to \
              resume at past the chunk that broke it"
        }
    }
}

/// One direction: its handshake bytes, then its chunk stream.
struct OneDirection {
    /// The first [`HANDSHAKE_LEN`] bytes (fewer until they have arrived).
    handshake: Vec<u8>,
    reader: ChunkReader,
    /// Whether the caller asked for [`ReadEvent::Chunk`] (the observer always has them, to
    /// know where each message's chunks lie).
    pass_chunks: bool,
    /// Per chunk stream, where the chunks of its message in progress lie.
    open: HashMap<u32, Vec<Range<u64>>>,
    /// Where the chunks of the message [`FlowObserver::poll_chunk`] returned last lay.
    last_message: Vec<Range<u64>>,
}

impl OneDirection {
    fn new(reader: ChunkReader) -> Self {
        Self {
            handshake: Vec::new(),
            pass_chunks: reader.reports_chunks(),
            reader: reader.with_chunk_events(true),
            open: HashMap::new(),
            last_message: Vec::new(),
        }
    }

    /// Keeps track of where the messages' chunks lie; false for an event the caller did not
    /// ask for.
    fn track(&mut self, event: &ReadEvent) -> bool {
        match event {
            ReadEvent::Chunk(h) => {
                let start = HANDSHAKE_LEN as u64 + h.offset;
                let end = start + (h.header_len + h.payload_len) as u64;
                let ranges = self.open.entry(h.csid).or_default();
                match ranges.last_mut() {
                    Some(last) if last.end == start => last.end = end,
                    _ => ranges.push(start..end),
                }
                return self.pass_chunks;
            }
            ReadEvent::Message(m) => {
                self.last_message = self.open.remove(&m.csid).unwrap_or_default();
            }
            ReadEvent::PartialMessageDropped { csid, .. } | ReadEvent::Aborted { csid, .. } => {
                self.open.remove(csid);
            }
            _ => {}
        }
        true
    }
}

/// Both directions of one captured connection.
pub struct FlowObserver {
    /// Client (0) and server (1).
    directions: [OneDirection; 2],
    /// Handshake observations made so far, in the order the bytes allowed them.
    observed: Vec<HandshakeEvent>,
    pending: VecDeque<HandshakeEvent>,
}

/// How far each direction's handshake has come; the chunk readers are left out.
impl std::fmt::Debug for FlowObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowObserver")
            .field(
                "client_handshake_bytes",
                &self.directions[0].handshake.len(),
            )
            .field(
                "server_handshake_bytes",
                &self.directions[1].handshake.len(),
            )
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

fn index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl FlowObserver {
    /// Reads as the receivers did ([`Reading::Receivers`]) within `limits`.
    pub fn new(limits: ChunkLimits) -> Self {
        Self::with_reading(limits, Reading::Receivers)
    }

    pub fn with_reading(limits: ChunkLimits, reading: Reading) -> Self {
        Self::with_readers(|| reading.reader(limits.clone()))
    }

    /// Observes with chunk readers made by `reader` (for chunk events, say).
    pub fn with_readers(mut reader: impl FnMut() -> ChunkReader) -> Self {
        Self {
            directions: [OneDirection::new(reader()), OneDirection::new(reader())],
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
        let direction = &mut self.directions[index(side)];
        loop {
            let Some(event) = direction.reader.poll()? else {
                return Ok(None);
            };
            if direction.track(&event) {
                return Ok(Some(event));
            }
        }
    }

    /// Where the chunks (headers and bodies) of the message [`Self::poll_chunk`] returned last
    /// lie in `side`'s bytes, counted from its first handshake byte: ascending, adjacent chunks
    /// joined. Chunks of other chunk streams between them are not included.
    pub fn message_ranges(&self, side: Side) -> &[Range<u64>] {
        &self.directions[index(side)].last_message
    }

    /// How many of `side`'s bytes (handshake included) have been read so far.
    pub fn position(&self, side: Side) -> u64 {
        let direction = &self.directions[index(side)];
        direction.handshake.len() as u64 + direction.reader.position()
    }

    /// Where the earliest chunk of a message still in progress on `side` starts (None: no
    /// message is in progress); bytes before it and before [`Self::position`] are done with.
    pub fn oldest_open(&self, side: Side) -> Option<u64> {
        self.directions[index(side)]
            .open
            .values()
            .filter_map(|ranges| ranges.first().map(|r| r.start))
            .min()
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
    fn each_message_says_where_its_chunks_lie_without_the_chunks_between() {
        let (c, _) = exchange();
        let mut bytes = c[..HANDSHAKE_LEN].to_vec();
        let at = HANDSHAKE_LEN as u64;
        // Video on chunk stream 6 in three chunks (12 + 128, 1 + 128, 1 + 44 bytes) with an
        // audio message on chunk stream 4 (12 + 10 bytes) between the first two.
        bytes.extend_from_slice(&[6, 0, 0, 0, 0, 1, 44, 9, 1, 0, 0, 0]);
        bytes.extend_from_slice(&[1; 128]);
        bytes.extend_from_slice(&[4, 0, 0, 0, 0, 0, 10, 8, 1, 0, 0, 0]);
        bytes.extend_from_slice(&[2; 10]);
        bytes.push(0xC6);
        bytes.extend_from_slice(&[1; 128]);
        bytes.push(0xC6);
        bytes.extend_from_slice(&[1; 44]);
        let mut o = FlowObserver::new(ChunkLimits::default());
        o.feed(Side::Client, &bytes);
        let mut seen = Vec::new();
        while let Some(event) = o.poll_chunk(Side::Client).unwrap() {
            assert!(!matches!(event, ReadEvent::Chunk(_)), "not asked for");
            if let ReadEvent::Message(m) = event {
                seen.push((m.type_id, o.message_ranges(Side::Client).to_vec()));
            }
        }
        assert_eq!(
            seen,
            [
                (8, std::iter::once(at + 140..at + 162).collect()),
                (9, vec![at..at + 140, at + 162..at + 336]),
            ]
        );
        assert_eq!(o.position(Side::Client), at + 336);
        assert_eq!(o.oldest_open(Side::Client), None);
    }

    #[test]
    fn a_stream_opened_with_a_type_1_header_is_read_as_receivers_do_unless_strict() {
        let (c, _) = exchange();
        let mut bytes = c[..HANDSHAKE_LEN].to_vec();
        // librtmp's way: a type 1 header on chunk stream 2 that never had a type 0.
        bytes.extend_from_slice(&[0x42, 0, 0, 0, 0, 0, 6, 4, 0, 6, 0, 0, 0, 1]);
        let mut receivers = FlowObserver::new(ChunkLimits::default());
        receivers.feed(Side::Client, &bytes);
        assert_eq!(
            receivers.poll_chunk(Side::Client).unwrap(),
            Some(ReadEvent::OpenedFromZeroState { csid: 2, fmt: 1 })
        );
        assert!(matches!(
            receivers.poll_chunk(Side::Client).unwrap(),
            Some(ReadEvent::Message(RawMessage {
                csid: 2,
                type_id: 4,
                stream_id: 0,
                ..
            }))
        ));
        let mut strict = FlowObserver::with_reading(ChunkLimits::default(), Reading::Specification);
        strict.feed(Side::Client, &bytes);
        let error = strict.poll_chunk(Side::Client).unwrap_err();
        assert!(matches!(
            error,
            ChunkError::NoPreviousHeader {
                fmt: 1,
                csid: 2,
                ..
            }
        ));
        assert!(why_decoding_stops(&error).contains("type 0 header"));
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
