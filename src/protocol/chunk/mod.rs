//! The chunk stream: RTMP messages cut into chunks and interleaved across chunk streams.
//!
//! [`ChunkReader`] reassembles messages from bytes in any segmentation, within [`ChunkLimits`];
//! [`ChunkWriter`] cuts messages into chunks with the header compression real senders use;
//! [`AckTracker`] counts bytes for Acknowledgement messages.

mod reader;
mod writer;

pub use reader::{ChunkReader, MidMessageHeaders, ReadEvent};
pub use writer::{ChunkOpening, ChunkWriter};

use bytes::Bytes;
use std::fmt;

/// A message as the chunk layer delivers it: the header fields it reassembled and the payload,
/// not yet interpreted (see [`crate::protocol::message`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The chunk stream the message arrived on (2..=65599).
    pub csid: u32,
    /// Absolute timestamp in milliseconds (deltas already applied), wrapping at 2^32.
    pub timestamp: u32,
    /// The message type id (1 = Set Chunk Size, 8 = audio, 9 = video, 20 = AMF0 command, ...).
    pub type_id: u8,
    /// The message stream id (little-endian on the wire).
    pub stream_id: u32,
    pub payload: Bytes,
}

/// The chunk size both directions start with.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// The largest chunk stream id the three-byte basic header can name.
pub const MAX_CSID: u32 = 65599;

/// Whether a peer repeats the 4-byte extended timestamp on type-3 chunks of a chunk stream whose
/// last full header used one. The 2012 specification (and FFmpeg, FMLE) repeat it; rtmpdump and
/// OBS before 2024 omit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtendedTimestampConvention {
    Repeat,
    Omit,
}

impl fmt::Display for ExtendedTimestampConvention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExtendedTimestampConvention::Repeat => {
                "repeat the extended timestamp (as the 2012 spec, FFmpeg and FMLE do)"
            }
            ExtendedTimestampConvention::Omit => {
                "omit the extended timestamp (as rtmpdump and older OBS do)"
            }
        })
    }
}

/// Bounds on what a peer can make the reader hold, whatever it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChunkLimits {
    /// Largest message accepted (the wire field allows 16 MiB - 1).
    pub max_message_len: u32,
    /// Largest Set Chunk Size accepted.
    pub max_chunk_size: u32,
    /// Smallest Set Chunk Size accepted (the spec allows 1).
    pub min_chunk_size: u32,
    /// Bytes held across all partially received messages.
    pub max_partial_bytes: usize,
    /// Chunk streams in use at once.
    pub max_chunk_streams: usize,
    /// Chunks one message may take. The default lets the largest message through at the
    /// default chunk size of 128, and stops a peer that set chunk size 1 from making the
    /// reader parse a header for every byte of a large message.
    pub max_chunks_per_message: u32,
    /// Abort messages naming a chunk stream with no partial message to discard. A sender aborts
    /// only what it started; a stream of empty Aborts is a flood, not framing.
    pub max_empty_aborts: u32,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        Self {
            max_message_len: 8 * 1024 * 1024,
            max_chunk_size: 16 * 1024 * 1024,
            min_chunk_size: 1,
            max_partial_bytes: 32 * 1024 * 1024,
            max_chunk_streams: 256,
            max_chunks_per_message: 65_536,
            max_empty_aborts: 64,
        }
    }
}

/// One chunk's header as read, for a chunk-level view of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    /// Stream offset of the chunk's first byte.
    pub offset: u64,
    pub fmt: u8,
    pub csid: u32,
    /// Basic + message header + extended timestamp bytes.
    pub header_len: usize,
    /// The 24-bit timestamp (or delta) field; None for type 3.
    pub timestamp_field: Option<u32>,
    pub extended_timestamp: Option<u32>,
    pub payload_len: usize,
    pub message_len: u32,
    pub type_id: u8,
    pub stream_id: u32,
}

/// Why the chunk stream cannot be read further. `offset` is the stream position (bytes consumed
/// before the offending chunk).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    #[error("type {fmt} chunk on chunk stream {csid} with no previous header to inherit from (offset {offset})")]
    NoPreviousHeader { fmt: u8, csid: u32, offset: u64 },
    #[error("message of {len} bytes on chunk stream {csid} exceeds max_message_len {limit} (offset {offset})")]
    MessageTooLong {
        len: u32,
        csid: u32,
        limit: u32,
        offset: u64,
    },
    #[error("Set Chunk Size {size} is outside the accepted range {min}..={max} (offset {offset})")]
    ChunkSizeOutOfRange {
        size: u32,
        min: u32,
        max: u32,
        offset: u64,
    },
    #[error("{in_use} chunk streams in use exceeds max_chunk_streams {limit} (chunk stream {csid}, offset {offset})")]
    TooManyChunkStreams {
        csid: u32,
        in_use: usize,
        limit: usize,
        offset: u64,
    },
    #[error("{held} bytes held in partial messages exceeds max_partial_bytes {limit} (chunk stream {csid}, offset {offset})")]
    TooMuchBuffered {
        held: usize,
        csid: u32,
        limit: usize,
        offset: u64,
    },
    #[error("message on chunk stream {csid} takes more than max_chunks_per_message {limit} chunks at chunk size {chunk_size} (offset {offset})")]
    TooManyChunks {
        csid: u32,
        chunk_size: u32,
        limit: u32,
        offset: u64,
    },
    #[error("Abort storm: {count} Abort messages named a chunk stream with nothing to discard, more than max_empty_aborts {limit} (offset {offset})")]
    AbortStorm { count: u32, limit: u32, offset: u64 },
    #[error("the reader stopped at an earlier error: {0}")]
    Poisoned(Box<ChunkError>),
}

/// When an end acknowledges the bytes it received: real implementations differ, and a server
/// that waits for acknowledgements before sending more tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AckCadence {
    /// Once a whole window has arrived since the last acknowledgement (the specification).
    #[default]
    Window,
    /// Once more than half the window has arrived, so the peer never waits (FFmpeg).
    HalfWindow,
    /// Once more than a tenth of the peer's Set Peer Bandwidth has arrived, whatever the
    /// window (librtmp; 2,500,000 until the peer sets one).
    PeerBandwidthTenth,
    /// Never.
    Never,
}

/// librtmp's peer bandwidth until the peer sets one (rtmp.c RTMP_Init(): m_nClientBW).
const LIBRTMP_DEFAULT_PEER_BANDWIDTH: u32 = 2_500_000;

/// Counts received bytes and says when an Acknowledgement is due.
#[derive(Debug, Clone)]
pub struct AckTracker {
    cadence: AckCadence,
    window: Option<u32>,
    peer_bandwidth: u32,
    received: u64,
    acked: u64,
}

impl Default for AckTracker {
    fn default() -> Self {
        Self::new(AckCadence::Window)
    }
}

impl AckTracker {
    pub fn new(cadence: AckCadence) -> Self {
        Self {
            cadence,
            window: None,
            peer_bandwidth: LIBRTMP_DEFAULT_PEER_BANDWIDTH,
            received: 0,
            acked: 0,
        }
    }

    /// The window the peer announced (Window Acknowledgement Size).
    pub fn set_window(&mut self, window: u32) {
        self.window = (window > 0).then_some(window);
    }

    pub fn window(&self) -> Option<u32> {
        self.window
    }

    /// The size of the peer's Set Peer Bandwidth (what [`AckCadence::PeerBandwidthTenth`] uses).
    pub fn set_peer_bandwidth(&mut self, size: u32) {
        self.peer_bandwidth = size;
    }

    /// Adds `n` received bytes; returns the sequence number to acknowledge when the cadence
    /// says one is due (it wraps at 2^32, as peers' counters do).
    pub fn received(&mut self, n: u64) -> Option<u32> {
        self.received += n;
        let since = self.received - self.acked;
        let due = match self.cadence {
            AckCadence::Window => self.window.is_some_and(|w| since >= u64::from(w)),
            AckCadence::HalfWindow => self.window.is_some_and(|w| since > u64::from(w / 2)),
            AckCadence::PeerBandwidthTenth => since > u64::from(self.peer_bandwidth / 10),
            AckCadence::Never => false,
        };
        due.then(|| {
            self.acked = self.received;
            self.received as u32
        })
    }

    pub fn total_received(&self) -> u64 {
        self.received
    }
}

#[cfg(test)]
mod tests;
