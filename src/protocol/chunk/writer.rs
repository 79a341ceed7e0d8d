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
}

/// Writes messages as chunks, compressing headers the way FFmpeg and librtmp do.
#[derive(Debug)]
pub struct ChunkWriter {
    chunk_size: u32,
    convention: ExtendedTimestampConvention,
    opening: ChunkOpening,
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
            last: HashMap::new(),
        }
    }

    /// Opens new chunk streams as `opening` says (server personalities that deviate here).
    pub fn with_opening(mut self, opening: ChunkOpening) -> Self {
        self.opening = opening;
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
        let prev = self.last.get(&message.csid).copied();
        let (fmt, field) = match prev {
            Some(p) if p.stream_id == message.stream_id && message.timestamp >= p.timestamp => {
                let delta = message.timestamp - p.timestamp;
                if p.len != len || p.type_id != message.type_id {
                    (1, delta)
                } else if p.delta != delta {
                    (2, delta)
                } else {
                    (3, delta)
                }
            }
            // The delta of a type-1 opening is taken from a zeroed timestamp.
            None if self.opening == ChunkOpening::Type1
                || (self.opening == ChunkOpening::Type1OnStream0 && message.stream_id == 0) =>
            {
                (1, message.timestamp)
            }
            _ => (0, message.timestamp),
        };
        let extended = field >= 0xFF_FFFF;
        let delta = if fmt == 0 { message.timestamp } else { field };
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
                timestamp: message.timestamp,
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
