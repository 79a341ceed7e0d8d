//! Cutting messages into chunks.

use super::{ExtendedTimestampConvention, RawMessage, DEFAULT_CHUNK_SIZE};
use bytes::{BufMut, BytesMut};
use std::collections::HashMap;

/// What the writer remembers of the last header on a chunk stream, mirroring what the reader
/// will inherit.
#[derive(Debug, Clone, Copy)]
struct Last {
    timestamp: u32,
    delta: u32,
    len: u32,
    type_id: u8,
    stream_id: u32,
}

/// How the writer opens a chunk stream it has not written on yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ChunkOpening {
    /// With a type-0 header, as the specification requires.
    #[default]
    Type0,
    /// With a type-1 header when the message belongs to message stream 0, so a reader that
    /// starts a chunk stream from zeroed state gets every field right (pyrtmp).
    Type1OnStream0,
    /// With a type-1 header whatever the message stream: a reader that starts from zeroed state
    /// puts the message (and the ones compressed after it) on message stream 0.
    Type1,
    /// Chunk stream `csid` with a type-2 header (timestamp delta only), as a writer whose state
    /// for it is stale from a message the reader never got: a reader from zeroed state takes
    /// length 0 and type 0, and reads the payload as the next chunk headers.
    Type2On(u32),
    /// Chunk stream `csid` with a type-3 header (no fields at all), likewise stale.
    Type3On(u32),
}

impl ChunkOpening {
    /// The header type a message opening chunk stream `csid` on message stream `stream_id`
    /// gets.
    fn fmt(self, csid: u32, stream_id: u32) -> u8 {
        match self {
            ChunkOpening::Type0 => 0,
            ChunkOpening::Type1OnStream0 if stream_id == 0 => 1,
            ChunkOpening::Type1OnStream0 => 0,
            ChunkOpening::Type1 => 1,
            ChunkOpening::Type2On(stale) if stale == csid => 2,
            ChunkOpening::Type3On(stale) if stale == csid => 3,
            ChunkOpening::Type2On(_) | ChunkOpening::Type3On(_) => 0,
        }
    }
}

/// Writes messages as chunks, compressing headers the way FFmpeg and librtmp do.
#[derive(Debug)]
pub struct ChunkWriter {
    chunk_size: u32,
    convention: ExtendedTimestampConvention,
    opening: ChunkOpening,
    /// Added to every message's timestamp (a server whose clock is an epoch, not the session).
    timestamp_offset: u32,
    /// Every message starts with a type-0 header (SRS); otherwise headers are compressed.
    full_headers: bool,
    last: HashMap<u32, Last>,
}

impl Default for ChunkWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkWriter {
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            convention: ExtendedTimestampConvention::Repeat,
            opening: ChunkOpening::Type0,
            timestamp_offset: 0,
            full_headers: false,
            last: HashMap::new(),
        }
    }

    /// Opens new chunk streams as `opening` says (server personalities that deviate here).
    pub fn with_opening(mut self, opening: ChunkOpening) -> Self {
        self.opening = opening;
        self
    }

    /// Adds `offset` to every timestamp written (wrapping at 2^32), so that from some offset on
    /// every header needs an extended timestamp.
    pub fn with_timestamp_offset(mut self, offset: u32) -> Self {
        self.timestamp_offset = offset;
        self
    }

    /// Starts every message with a type-0 header, as SRS does, so every message of a stream
    /// past 0xFFFFFF carries the extended timestamp (and so do its continuation chunks, by the
    /// convention).
    pub fn with_full_headers(mut self, on: bool) -> Self {
        self.full_headers = on;
        self
    }

    /// Writes type-3 chunks without the extended timestamp, as rtmpdump and older OBS do.
    pub fn with_convention(mut self, convention: ExtendedTimestampConvention) -> Self {
        self.convention = convention;
        self
    }

    /// Changes the size of the chunks that follow; the caller also sends the Set Chunk Size
    /// message (before this call, since that message must go out at the old size).
    pub fn set_chunk_size(&mut self, size: u32) {
        self.chunk_size = size.clamp(1, 0x7FFF_FFFF);
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Appends `message` as chunks to `out`.
    pub fn write(&mut self, message: &RawMessage, out: &mut BytesMut) {
        let len = message.payload.len() as u32;
        let timestamp = message.timestamp.wrapping_add(self.timestamp_offset);
        let prev = self.last.get(&message.csid).copied();
        let (fmt, field) = match prev {
            Some(p)
                if !self.full_headers
                    && p.stream_id == message.stream_id
                    && timestamp >= p.timestamp =>
            {
                let delta = timestamp - p.timestamp;
                if p.len != len || p.type_id != message.type_id {
                    (1, delta)
                } else if p.delta != delta {
                    (2, delta)
                } else {
                    (3, delta)
                }
            }
            Some(_) => (0, timestamp),
            // A deviating opening takes its delta from a zeroed timestamp.
            None => (self.opening.fmt(message.csid, message.stream_id), timestamp),
        };
        let extended = field >= 0xFF_FFFF;
        let delta = if fmt == 0 { timestamp } else { field };
        self.basic_header(fmt, message.csid, out);
        let field24 = field.min(0xFF_FFFF);
        if fmt < 3 {
            out.put_uint(field24 as u64, 3);
        }
        if fmt < 2 {
            out.put_uint(len as u64, 3);
            out.put_u8(message.type_id);
        }
        if fmt == 0 {
            out.put_u32_le(message.stream_id);
        }
        let repeat = self.convention == ExtendedTimestampConvention::Repeat;
        if extended && (fmt < 3 || repeat) {
            out.put_u32(field);
        }
        self.last.insert(
            message.csid,
            Last {
                timestamp,
                delta,
                len,
                type_id: message.type_id,
                stream_id: message.stream_id,
            },
        );
        let size = self.chunk_size as usize;
        let mut chunks = message.payload.chunks(size.max(1));
        if let Some(first) = chunks.next() {
            out.put_slice(first);
        }
        for chunk in chunks {
            self.basic_header(3, message.csid, out);
            if extended && repeat {
                out.put_u32(field);
            }
            out.put_slice(chunk);
        }
    }

    fn basic_header(&self, fmt: u8, csid: u32, out: &mut BytesMut) {
        let top = fmt << 6;
        // Ids 0 and 1 are not chunk streams (they select the longer header forms).
        debug_assert!(csid >= 2, "chunk stream id {csid} is reserved");
        match csid {
            0..=63 => out.put_u8(top | csid.max(2) as u8),
            64..=319 => {
                out.put_u8(top);
                out.put_u8((csid - 64) as u8);
            }
            _ => {
                let id = csid.clamp(320, super::MAX_CSID) - 64;
                out.put_u8(top | 1);
                out.put_u8(id as u8);
                out.put_u8((id >> 8) as u8);
            }
        }
    }
}
