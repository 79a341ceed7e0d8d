//! Reassembling messages from chunks.
//!
//! One file past 600 lines because header parsing, body assembly and the messages that change
//! framing (Set Chunk Size, Abort) all work on the same per-stream state and input queue, in
//! one loop; apart, they would hand all of it to each other.

use super::{
    ChunkError, ChunkHeader, ChunkLimits, ExtendedTimestampConvention, RawMessage,
    DEFAULT_CHUNK_SIZE,
};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::{HashMap, VecDeque};

/// What the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadEvent {
    /// A complete message.
    Message(RawMessage),
    /// One chunk's header (only with [`ChunkReader::with_chunk_events`]).
    Chunk(ChunkHeader),
    /// The peer's Set Chunk Size took effect for the chunks that follow it.
    ChunkSizeChanged { from: u32, to: u32 },
    /// An Abort message discarded the partial message on `csid`.
    Aborted { csid: u32, discarded_bytes: usize },
    /// First seen on `csid`: how the peer treats extended timestamps on type-3 chunks.
    ExtendedTimestampConvention {
        csid: u32,
        convention: ExtendedTimestampConvention,
    },
    /// A type 0, 1 or 2 header arrived on `csid` before its previous message was complete; the
    /// partial message was dropped (real peers do this rarely; it is reported, not fatal).
    PartialMessageDropped {
        csid: u32,
        received: usize,
        expected: u32,
    },
    /// A type 0, 1 or 2 header arrived on `csid` in the middle of a message and repeated its
    /// length; the message went on with the chunk's body, the header's other fields ignored
    /// (only with [`MidMessageHeaders::ContinueSameLength`]).
    MidMessageHeader {
        csid: u32,
        fmt: u8,
        received: usize,
        expected: u32,
    },
    /// A chunk stream's first chunk had a type 1, 2 or 3 header; the fields it lacks were taken
    /// from zeroed state (only with [`ChunkReader::with_zero_state_start`]).
    OpenedFromZeroState { csid: u32, fmt: u8 },
}

/// What a type 0, 1 or 2 header in the middle of a message does to the partial message. The
/// specification (5.3.1.2.4) says such headers should not appear there and names no reading;
/// receivers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MidMessageHeaders {
    /// The header starts a new message; the partial one is dropped
    /// ([`ReadEvent::PartialMessageDropped`]): what a reader that takes every full header for a
    /// new message does, and librtmp on a type 0 or 1 header (rtmp.c RTMP_ReadPacket() resets
    /// m_nBytesRead).
    #[default]
    Restart,
    /// A header that repeats the message's length (a type 2 header carries none, so it always
    /// does) continues the partial message, as FFmpeg (rtmppkt.c
    /// rtmp_packet_read_one_chunk(): "previous packet in this channel hasn't completed
    /// reading") and nginx-rtmp (ngx_rtmp_handler.c ngx_rtmp_recv(): a header only starts a
    /// message when st->len is 0) do; a different length restarts as [`Self::Restart`] does.
    ContinueSameLength,
}

/// Per chunk stream: the last header (for inheritance) and the message being assembled.
#[derive(Debug, Default)]
struct Stream {
    has_header: bool,
    timestamp: u32,
    delta: u32,
    len: u32,
    type_id: u8,
    stream_id: u32,
    /// The extended timestamp field of the last type 0/1/2 header, when it had one.
    extended: Option<u32>,
    convention: Option<ExtendedTimestampConvention>,
    in_message: bool,
    /// Chunks of the message being assembled so far.
    chunks: u32,
    partial: BytesMut,
}

/// The most a chunk header needs looked at before it is consumed: a 3-byte basic header, an
/// 11-byte message header and a 4-byte extended timestamp (a type-3 chunk's look-ahead for a
/// repeated extended timestamp is within it).
const MAX_LOOK_AHEAD: usize = 18;

/// Chunk streams below this id live in a flat array: nearly all traffic uses ids 2..=10.
const LOW_CSIDS: usize = 64;

/// Reassembles RTMP messages from a chunk stream fed in any segmentation.
pub struct ChunkReader {
    limits: ChunkLimits,
    chunk_size: u32,
    /// Fed bytes not yet consumed, as the caller's own buffers: body bytes are copied once,
    /// straight into the message being assembled, and a whole single-chunk message is handed
    /// out as a slice of the caller's buffer.
    input: VecDeque<Bytes>,
    input_len: usize,
    /// Stream bytes consumed so far (for error offsets and chunk events).
    consumed: u64,
    low: Vec<Stream>,
    high: HashMap<u32, Stream>,
    in_use: usize,
    partial_bytes: usize,
    /// In the middle of a chunk body: its chunk stream and the bytes still to come.
    body: Option<(u32, usize)>,
    events: VecDeque<ReadEvent>,
    chunk_events: bool,
    error: Option<ChunkError>,
    /// Whether [`ChunkReader::poll`] has returned the error (later polls say Poisoned).
    error_reported: bool,
    /// No more input will come (see [`ChunkReader::end_of_stream`]).
    ended: bool,
    /// Abort messages so far that had nothing to discard.
    empty_aborts: u32,
    /// Accept a chunk stream opened without a type 0 header (see [`Self::with_zero_state_start`]).
    zero_state_start: bool,
    /// Read type-3 chunks by this convention instead of learning the peer's (see
    /// [`Self::with_extended_timestamp_reading`]).
    fixed_convention: Option<ExtendedTimestampConvention>,
    mid_message_headers: MidMessageHeaders,
}

/// The reader's position and settings; its buffered input and partial messages are left out.
impl std::fmt::Debug for ChunkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkReader")
            .field("limits", &self.limits)
            .field("chunk_size", &self.chunk_size)
            .field("consumed", &self.consumed)
            .field("input_len", &self.input_len)
            .field("partial_bytes", &self.partial_bytes)
            .field("error", &self.error)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl ChunkReader {
    pub fn new(limits: ChunkLimits) -> Self {
        Self {
            limits,
            chunk_size: DEFAULT_CHUNK_SIZE,
            input: VecDeque::new(),
            input_len: 0,
            consumed: 0,
            low: (0..LOW_CSIDS).map(|_| Stream::default()).collect(),
            high: HashMap::new(),
            in_use: 0,
            partial_bytes: 0,
            body: None,
            events: VecDeque::new(),
            chunk_events: false,
            error: None,
            error_reported: false,
            ended: false,
            empty_aborts: 0,
            zero_state_start: false,
            fixed_convention: None,
            mid_message_headers: MidMessageHeaders::Restart,
        }
    }

    /// Also report every chunk's header as [`ReadEvent::Chunk`].
    pub fn with_chunk_events(mut self, on: bool) -> Self {
        self.chunk_events = on;
        self
    }

    /// Opens a chunk stream whose first chunk has a type 1, 2 or 3 header from zeroed state
    /// (timestamp, length, type and stream id 0) instead of failing with
    /// [`ChunkError::NoPreviousHeader`]: FFmpeg and librtmp read such streams this way.
    pub fn with_zero_state_start(mut self, on: bool) -> Self {
        self.zero_state_start = on;
        self
    }

    /// Reads the type-3 chunks of a chunk stream whose last header had an extended timestamp
    /// by `convention` whatever the peer does, as real clients do (FFmpeg always reads the 4
    /// bytes); None learns the peer's convention from its first such chunk.
    pub fn with_extended_timestamp_reading(
        mut self,
        convention: Option<ExtendedTimestampConvention>,
    ) -> Self {
        self.fixed_convention = convention;
        self
    }

    /// What a type 0, 1 or 2 header in the middle of a message does (see [`MidMessageHeaders`]).
    pub fn with_mid_message_headers(mut self, reading: MidMessageHeaders) -> Self {
        self.mid_message_headers = reading;
        self
    }

    /// Whether every chunk's header is reported as [`ReadEvent::Chunk`].
    pub fn reports_chunks(&self) -> bool {
        self.chunk_events
    }

    /// The chunk size the peer is currently using.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Stream bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    /// Bytes fed but not yet consumed (at most one incomplete chunk header's worth, unless
    /// [`Self::poll`] has not been called).
    pub fn buffered(&self) -> usize {
        self.input_len
    }

    /// Bytes the reader holds for the peer: partial messages and unconsumed input. What a
    /// server adds up across its connections to bound its memory as a whole.
    pub fn held(&self) -> usize {
        self.partial_bytes + self.input_len
    }

    pub fn feed(&mut self, data: &[u8]) {
        self.feed_bytes(Bytes::copy_from_slice(data));
    }

    /// Feeds without copying: the reader keeps a reference to `data` until it is consumed.
    pub fn feed_bytes(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.input_len += data.len();
            self.input.push_back(data);
        }
    }

    /// Says that no more input will come. Telling an omitted from a repeated extended timestamp
    /// on a type-3 chunk takes the 4 bytes after its header; when the stream ends before they
    /// exist, the timestamp was omitted (a repeated one would have been there), and the last
    /// message completes.
    pub fn end_of_stream(&mut self) {
        self.ended = true;
    }

    /// Copies up to `out.len()` unconsumed bytes into `out` without consuming them.
    fn peek(&self, out: &mut [u8]) -> usize {
        let mut n = 0;
        for segment in &self.input {
            let take = (out.len() - n).min(segment.len());
            out[n..n + take].copy_from_slice(&segment[..take]);
            n += take;
            if n == out.len() {
                break;
            }
        }
        n
    }

    fn consume(&mut self, mut n: usize) {
        self.input_len -= n;
        self.consumed += n as u64;
        while n > 0 {
            let Some(front) = self.input.front_mut() else {
                return;
            };
            if front.len() > n {
                front.advance(n);
                return;
            }
            n -= front.len();
            self.input.pop_front();
        }
    }

    /// The next event, `Ok(None)` when more bytes are needed.
    pub fn poll(&mut self) -> Result<Option<ReadEvent>, ChunkError> {
        if let Some(error) = &self.error {
            // Events found before the error come out first, as they would have had the bytes
            // arrived in smaller pieces: what the reader reports must not depend on segmentation.
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            if !self.error_reported {
                self.error_reported = true;
                return Err(error.clone());
            }
            return Err(ChunkError::Poisoned(Box::new(error.clone())));
        }
        match self.poll_inner() {
            Err(error) => {
                self.error = Some(error);
                self.poll()
            }
            ok => ok,
        }
    }

    #[inline]
    fn stream(&mut self, csid: u32) -> &mut Stream {
        if (csid as usize) < LOW_CSIDS {
            &mut self.low[csid as usize]
        } else {
            self.high_stream(csid)
        }
    }

    /// Kept out of line so that [`Self::stream`], called several times per chunk, inlines.
    #[cold]
    #[inline(never)]
    fn high_stream(&mut self, csid: u32) -> &mut Stream {
        self.high.entry(csid).or_default()
    }

    fn has_header(&self, csid: u32) -> bool {
        if (csid as usize) < LOW_CSIDS {
            self.low[csid as usize].has_header
        } else {
            self.high.get(&csid).is_some_and(|s| s.has_header)
        }
    }

    /// Moves `n` input bytes (all available) onto the end of `csid`'s partial message.
    fn copy_body(&mut self, csid: u32, mut n: usize) {
        self.input_len -= n;
        self.consumed += n as u64;
        let stream = if (csid as usize) < LOW_CSIDS {
            &mut self.low[csid as usize]
        } else {
            self.high.entry(csid).or_default()
        };
        while n > 0 {
            let Some(front) = self.input.front_mut() else {
                return;
            };
            let take = n.min(front.len());
            stream.partial.extend_from_slice(&front[..take]);
            n -= take;
            if take == front.len() {
                self.input.pop_front();
            } else {
                front.advance(take);
            }
        }
    }

    /// What is left unread when more bytes are needed is at most an incomplete chunk header;
    /// it is copied, so that between reads the reader holds none of the caller's buffers (a
    /// driver's 64 KiB read, a capture's block), which can then be read into again.
    fn detach_input(&mut self) {
        if self.input.is_empty() {
            return;
        }
        let mut rest = BytesMut::with_capacity(self.input_len);
        for segment in self.input.drain(..) {
            rest.extend_from_slice(&segment);
        }
        self.input.push_back(rest.freeze());
    }

    fn poll_inner(&mut self) -> Result<Option<ReadEvent>, ChunkError> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            if let Some((csid, remaining)) = self.body {
                let take = remaining.min(self.input_len);
                if take == 0 {
                    return Ok(None);
                }
                let held = self.partial_bytes + take;
                if held > self.limits.max_partial_bytes {
                    return Err(ChunkError::TooMuchBuffered {
                        held,
                        csid,
                        limit: self.limits.max_partial_bytes,
                        offset: self.consumed,
                    });
                }
                self.partial_bytes = held;
                self.copy_body(csid, take);
                if take < remaining {
                    self.body = Some((csid, remaining - take));
                    return Ok(None);
                }
                self.body = None;
                let stream = self.stream(csid);
                if stream.partial.len() as u32 == stream.len {
                    stream.in_message = false;
                    let payload = stream.partial.split().freeze();
                    let message = RawMessage {
                        csid,
                        timestamp: stream.timestamp,
                        type_id: stream.type_id,
                        stream_id: stream.stream_id,
                        payload,
                    };
                    self.partial_bytes -= message.payload.len();
                    return self.complete(message).map(Some);
                }
                continue;
            }
            if let Some(message) = self.read_header()? {
                return self.complete(message).map(Some);
            }
            if self.body.is_none() && self.events.is_empty() {
                self.detach_input();
                return Ok(None);
            }
        }
    }

    /// Parses the next chunk header if it is all there. Returns a message when the chunk held a
    /// whole message that could be handed out without copying.
    fn read_header(&mut self) -> Result<Option<RawMessage>, ChunkError> {
        // Look at as much as the longest header without consuming it: in place when the first
        // buffer holds that much (nearly always), else gathered from the buffers.
        let mut peeked = [0u8; MAX_LOOK_AHEAD];
        let b: &[u8] = match self.input.front() {
            Some(front) if front.len() >= MAX_LOOK_AHEAD => &front[..MAX_LOOK_AHEAD],
            _ => {
                let available = self.peek(&mut peeked);
                &peeked[..available]
            }
        };
        let Some(&first) = b.first() else {
            return Ok(None);
        };
        let fmt = first >> 6;
        let (csid, basic_len) = match first & 0x3f {
            0 if b.len() >= 2 => (64 + b[1] as u32, 2),
            1 if b.len() >= 3 => (64 + b[1] as u32 + 256 * b[2] as u32, 3),
            0 | 1 => return Ok(None),
            n => (n as u32, 1),
        };
        let message_header_len = [11, 7, 3, 0][fmt as usize];
        let mut header_len = basic_len + message_header_len;
        if b.len() < header_len {
            return Ok(None);
        }
        let h = &b[basic_len..header_len];
        let offset = self.consumed;
        let opens = !self.has_header(csid);
        if fmt != 0 && opens && !self.zero_state_start {
            return Err(ChunkError::NoPreviousHeader { fmt, csid, offset });
        }
        if opens && self.in_use >= self.limits.max_chunk_streams {
            return Err(ChunkError::TooManyChunkStreams {
                csid,
                in_use: self.in_use + 1,
                limit: self.limits.max_chunk_streams,
                offset,
            });
        }
        let u24 = |x: &[u8]| (x[0] as u32) << 16 | (x[1] as u32) << 8 | x[2] as u32;
        let timestamp_field = (fmt < 3).then(|| u24(&h[0..3]));
        let (len, type_id) = if fmt < 2 {
            (Some(u24(&h[3..6])), Some(h[6]))
        } else {
            (None, None)
        };
        let stream_id = (fmt == 0).then(|| u32::from_le_bytes([h[7], h[8], h[9], h[10]]));

        // Extended timestamp: present on type 0/1/2 when the field is 0xFFFFFF; on type 3 it
        // depends on the peer's convention, learnt from the first such chunk.
        let mut extended = None;
        let mut learnt = None;
        if timestamp_field == Some(0xFF_FFFF) {
            if b.len() < header_len + 4 {
                return Ok(None);
            }
            extended = Some(u32::from_be_bytes(
                b[header_len..header_len + 4].try_into().expect("4"),
            ));
            header_len += 4;
        } else if fmt == 3 {
            let stored = if (csid as usize) < LOW_CSIDS {
                self.low[csid as usize].extended
            } else {
                self.high.get(&csid).and_then(|s| s.extended)
            };
            let convention = if (csid as usize) < LOW_CSIDS {
                self.low[csid as usize].convention
            } else {
                self.high.get(&csid).and_then(|s| s.convention)
            };
            if let Some(stored) = stored {
                let convention = match convention.or(self.fixed_convention) {
                    Some(c) => c,
                    None => {
                        if b.len() < header_len + 4 && !self.ended {
                            return Ok(None);
                        }
                        let next = b
                            .get(header_len..header_len + 4)
                            .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]));
                        let c = if next == Some(stored) {
                            ExtendedTimestampConvention::Repeat
                        } else {
                            ExtendedTimestampConvention::Omit
                        };
                        learnt = Some(c);
                        c
                    }
                };
                if convention == ExtendedTimestampConvention::Repeat {
                    if b.len() < header_len + 4 {
                        return Ok(None);
                    }
                    extended = Some(stored);
                    header_len += 4;
                }
            }
        }

        // The whole header is there: consume it and apply it.
        self.consume(header_len);
        let chunk_size = self.chunk_size as usize;
        let max_message_len = self.limits.max_message_len;
        let max_chunks = self.limits.max_chunks_per_message;
        let chunk_events = self.chunk_events;
        let stream = self.stream(csid);
        let newly_used = !stream.has_header;
        if let Some(convention) = learnt {
            stream.convention = Some(convention);
            self.events
                .push_back(ReadEvent::ExtendedTimestampConvention { csid, convention });
        }
        let continue_same_length =
            self.mid_message_headers == MidMessageHeaders::ContinueSameLength;
        let stream = self.stream(csid);
        let mut dropped = None;
        let mut continued = None;
        if fmt != 3 && stream.in_message {
            if continue_same_length && len.is_none_or(|l| l == stream.len) {
                // The message goes on as if this were a type-3 chunk: its first header's
                // timestamp, type and stream stay, and so does the delta the next message
                // inherits (FFmpeg and nginx-rtmp keep them too).
                continued = Some((stream.partial.len(), stream.len));
            } else {
                dropped = Some((stream.partial.len(), stream.len));
                stream.partial.clear();
                stream.in_message = false;
            }
        }
        let value = extended.or(timestamp_field);
        match fmt {
            _ if continued.is_some() => {}
            0 => {
                let ts = value.unwrap_or(0);
                stream.timestamp = ts;
                // A type 3 chunk opening a message after this one reuses the type 0 timestamp
                // as its delta (spec 5.3.1.2.4).
                stream.delta = ts;
            }
            1 | 2 => {
                let delta = value.unwrap_or(0);
                stream.delta = delta;
                stream.timestamp = stream.timestamp.wrapping_add(delta);
            }
            _ => {
                if !stream.in_message {
                    stream.timestamp = stream.timestamp.wrapping_add(stream.delta);
                }
            }
        }
        if continued.is_none() {
            if fmt < 3 {
                stream.extended = extended;
            }
            if let Some(len) = len {
                stream.len = len;
            }
            if let Some(t) = type_id {
                stream.type_id = t;
            }
            if let Some(id) = stream_id {
                stream.stream_id = id;
            }
        }
        stream.has_header = true;
        let new_message = !stream.in_message;
        let (msg_len, msg_type, msg_stream, msg_ts) = (
            stream.len,
            stream.type_id,
            stream.stream_id,
            stream.timestamp,
        );
        if new_message && msg_len > max_message_len {
            return Err(ChunkError::MessageTooLong {
                len: msg_len,
                csid,
                limit: max_message_len,
                offset,
            });
        }
        stream.chunks = if new_message { 1 } else { stream.chunks + 1 };
        if stream.chunks > max_chunks {
            return Err(ChunkError::TooManyChunks {
                csid,
                chunk_size: chunk_size as u32,
                limit: max_chunks,
                offset,
            });
        }
        let received = stream.partial.len();
        let payload_len = (msg_len as usize - received).min(chunk_size);
        if new_message {
            stream.in_message = true;
            // Reserve for what can arrive soon, never for what a length field merely claims.
            stream.partial.reserve((msg_len as usize).min(64 * 1024));
        }
        if newly_used {
            self.in_use += 1;
        }
        if newly_used && fmt != 0 {
            self.events
                .push_back(ReadEvent::OpenedFromZeroState { csid, fmt });
        }
        if let Some((received, expected)) = continued {
            self.events.push_back(ReadEvent::MidMessageHeader {
                csid,
                fmt,
                received,
                expected,
            });
        }
        if let Some((received, expected)) = dropped {
            self.partial_bytes -= received;
            self.events.push_back(ReadEvent::PartialMessageDropped {
                csid,
                received,
                expected,
            });
        }
        if chunk_events {
            self.events.push_back(ReadEvent::Chunk(ChunkHeader {
                offset,
                fmt,
                csid,
                header_len,
                timestamp_field,
                extended_timestamp: extended,
                payload_len,
                message_len: msg_len,
                type_id: msg_type,
                stream_id: msg_stream,
            }));
        }
        if msg_len == 0 {
            let stream = self.stream(csid);
            stream.in_message = false;
            return Ok(Some(RawMessage {
                csid,
                timestamp: msg_ts,
                type_id: msg_type,
                stream_id: msg_stream,
                payload: Bytes::new(),
            }));
        }
        // A message that fits one chunk and is all here is handed out without a copy.
        let front_len = self.input.front().map_or(0, Bytes::len);
        if new_message && payload_len == msg_len as usize && front_len >= payload_len {
            let payload = self
                .input
                .front()
                .map(|f| f.slice(..payload_len))
                .unwrap_or_default();
            self.consume(payload_len);
            self.stream(csid).in_message = false;
            return Ok(Some(RawMessage {
                csid,
                timestamp: msg_ts,
                type_id: msg_type,
                stream_id: msg_stream,
                payload,
            }));
        }
        self.body = Some((csid, payload_len));
        Ok(None)
    }

    /// Applies what changes framing (Set Chunk Size, Abort) and returns the next event: events
    /// from the message's last chunk header come first, then the message, then what it caused.
    fn complete(&mut self, message: RawMessage) -> Result<ReadEvent, ChunkError> {
        let word = (message.payload.len() >= 4)
            .then(|| u32::from_be_bytes(message.payload[..4].try_into().expect("4 bytes")));
        let caused = match (message.type_id, word) {
            (1, Some(word)) => {
                // Bit 31 must be zero; the size is the other 31 bits.
                let size = word & 0x7FFF_FFFF;
                if size < self.limits.min_chunk_size || size > self.limits.max_chunk_size {
                    return Err(ChunkError::ChunkSizeOutOfRange {
                        size,
                        min: self.limits.min_chunk_size,
                        max: self.limits.max_chunk_size,
                        offset: self.consumed,
                    });
                }
                let from = std::mem::replace(&mut self.chunk_size, size);
                Some(ReadEvent::ChunkSizeChanged { from, to: size })
            }
            (2, Some(csid)) => {
                // Only a chunk stream that exists can hold anything to discard; looking one up
                // must not create it (an Abort storm would otherwise grow the map).
                let stream = if (csid as usize) < LOW_CSIDS {
                    self.low.get_mut(csid as usize)
                } else {
                    self.high.get_mut(&csid)
                };
                let discarded_bytes = match stream {
                    Some(stream) if stream.in_message => {
                        stream.in_message = false;
                        let n = stream.partial.len();
                        stream.partial.clear();
                        n
                    }
                    _ => 0,
                };
                self.partial_bytes -= discarded_bytes;
                if discarded_bytes == 0 {
                    self.empty_aborts += 1;
                    if self.empty_aborts > self.limits.max_empty_aborts {
                        return Err(ChunkError::AbortStorm {
                            count: self.empty_aborts,
                            limit: self.limits.max_empty_aborts,
                            offset: self.consumed,
                        });
                    }
                }
                Some(ReadEvent::Aborted {
                    csid,
                    discarded_bytes,
                })
            }
            _ => None,
        };
        if self.events.is_empty() && caused.is_none() {
            return Ok(ReadEvent::Message(message));
        }
        self.events.push_back(ReadEvent::Message(message));
        self.events.extend(caused);
        Ok(self.events.pop_front().expect("just pushed"))
    }
}
