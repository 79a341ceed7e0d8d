//! The chunk stream: RTMP messages cut into chunks and interleaved across chunk streams.

use bytes::Bytes;

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
