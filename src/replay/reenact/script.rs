//! What a captured client did, as a script to perform again: its writes with their think
//! times, what it had heard from the server before each write, how its C2 answered S1, and
//! where its bytes carry values the server assigned (message stream ids).

use super::replies::{as_stream_id, ServerReplies};
use crate::capture::reassembly::PieceRef;
use crate::protocol::amf0::Amf0Reader;
use crate::protocol::chunk::ReadEvent;
use crate::protocol::connection::Side;
use crate::protocol::handshake::{C2Answer, HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::message::Message;
use crate::protocol::observe::{capture_limits, FlowObserver, Reading};
use std::collections::HashMap;
use std::time::Duration;

/// The client bytes one flow may hold in memory for a re-enactment.
pub const MAX_CLIENT_BYTES: usize = 512 << 20;

/// One write of the captured client (one reassembled TCP segment).
#[derive(Debug, Clone)]
pub struct Write {
    /// Position of its first byte in the client's stream.
    pub offset: u64,
    pub bytes: Vec<u8>,
    /// How long the client took before it, counted from its previous write or from the last
    /// server bytes it had received, whichever came later.
    pub think: Duration,
    /// Server handshake bytes (at most 3073) the client had received before it.
    pub server_handshake: usize,
    /// How many of [`Script::replies`] had arrived before it.
    pub replies: usize,
}

/// Where a server-assigned value sits in the client's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Stream offsets of the value's bytes, most significant first for the big-endian kinds.
    pub positions: Vec<u64>,
    pub encoding: Encoding,
    /// The captured value (a message stream id).
    pub captured: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// A type-0 chunk header's message stream id.
    U32Le,
    /// A User Control event's stream id.
    U32Be,
    /// An AMF0 number argument (deleteStream, closeStream).
    Amf0Number,
}

impl Encoding {
    /// The bytes of `value` in this encoding, in [`Site::positions`] order.
    pub fn bytes(self, value: u32) -> Vec<u8> {
        match self {
            Encoding::U32Le => value.to_le_bytes().to_vec(),
            Encoding::U32Be => value.to_be_bytes().to_vec(),
            Encoding::Amf0Number => f64::from(value).to_be_bytes().to_vec(),
        }
    }
}

/// A captured flow ready to be re-enacted.
#[derive(Debug, Clone)]
pub struct Script {
    pub flow: usize,
    pub writes: Vec<Write>,
    /// The command replies the captured server sent (`_result #4`, `onStatus
    /// NetStream.Publish.Start`), in order, each with its occurrence number.
    pub replies: Vec<(String, usize)>,
    /// How C2 answered S1, when the capture holds both.
    pub c2_answer: Option<C2Answer>,
    /// The captured C2 (sent again as it was when it is not derived from S1).
    pub captured_c2: Option<[u8; PACKET_LEN]>,
    /// createStream transaction id (as bits) -> the stream id the captured server gave.
    pub create_streams: HashMap<u64, u32>,
    pub sites: Vec<Site>,
    /// The client ended the connection (FIN or RST) in the capture.
    pub client_closed: bool,
    /// The capture lost some of the client's bytes: the script stops before them.
    pub ends_early: Option<ScriptError>,
}

/// Why a flow cannot be re-enacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    #[error("{len} bytes of the client's stream at offset {offset} are missing from the capture, so the client cannot be re-enacted past them")]
    ClientGap { offset: u64, len: u64 },
    #[error("the client's side of the flow holds more than {limit} bytes; a re-enactment keeps them all in memory")]
    TooLarge { limit: usize },
    #[error("the client's first byte is {0:#04x}, not C0 = 3: not an RTMP client")]
    NotRtmp(u8),
    #[error("the client sent no bytes")]
    Empty,
}

/// Builds a [`Script`] from one flow's reassembled pieces, in capture order.
pub struct ScriptBuilder {
    flow: usize,
    client_len: usize,
    last_client: Option<Duration>,
    last_server: Option<Duration>,
    server: ServerReplies,
    /// The capture lost some of the server's bytes: what follows is not read.
    server_gap: bool,
    replies: Vec<(String, usize)>,
    /// Transaction id (bits) -> stream id, from every `_result` whose argument is a number.
    results: HashMap<u64, u32>,
    writes: Vec<Write>,
    error: Option<ScriptError>,
}

/// The script's size so far; the writes themselves are left out.
impl std::fmt::Debug for ScriptBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptBuilder")
            .field("flow", &self.flow)
            .field("client_len", &self.client_len)
            .field("writes", &self.writes.len())
            .field("replies", &self.replies)
            .field("server_gap", &self.server_gap)
            .finish_non_exhaustive()
    }
}

impl ScriptBuilder {
    pub fn new(flow: usize) -> Self {
        Self {
            flow,
            client_len: 0,
            last_client: None,
            last_server: None,
            server: ServerReplies::default(),
            server_gap: false,
            replies: Vec::new(),
            results: HashMap::new(),
            writes: Vec::new(),
            error: None,
        }
    }

    pub fn flow(&self) -> usize {
        self.flow
    }

    /// The next piece of side 0 (client) or 1 (server).
    pub fn piece(&mut self, side: usize, piece: PieceRef<'_>) {
        if self.error.is_some() {
            return;
        }
        match (side, piece) {
            (0, PieceRef::Data { time, bytes, .. }) => self.client_write(time, bytes),
            // Bytes that never reached the server cannot be made up: the script ends before them.
            (0, PieceRef::Gap { offset, len }) => {
                self.error = Some(ScriptError::ClientGap { offset, len })
            }
            (_, PieceRef::Data { time, bytes, .. }) => self.server_bytes(time, bytes),
            (_, PieceRef::Gap { .. }) => self.server_gap = true,
        }
    }

    fn client_write(&mut self, time: Duration, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.client_len + bytes.len() > MAX_CLIENT_BYTES {
            self.error = Some(ScriptError::TooLarge {
                limit: MAX_CLIENT_BYTES,
            });
            return;
        }
        let since = match (self.last_client, self.last_server) {
            (Some(c), Some(s)) => Some(c.max(s)),
            (c, s) => c.or(s),
        };
        let think = since.map_or(Duration::ZERO, |since| time.saturating_sub(since));
        self.writes.push(Write {
            offset: self.client_len as u64,
            bytes: bytes.to_vec(),
            think,
            server_handshake: self.server.handshake().len(),
            replies: self.replies.len(),
        });
        self.client_len += bytes.len();
        self.last_client = Some(time);
    }

    fn server_bytes(&mut self, time: Duration, bytes: &[u8]) {
        self.last_server = Some(time);
        if self.server_gap {
            return;
        }
        let (replies, results) = (&mut self.replies, &mut self.results);
        self.server.feed(bytes, |reply| {
            if let Some(id) = reply.stream_id {
                results.insert(reply.transaction_id.to_bits(), id);
            }
            replies.push((reply.key, reply.nth));
        });
    }

    pub fn finish(self) -> Result<Script, ScriptError> {
        // The client's handshake; the rest of its bytes stay in their writes.
        let handshake: Vec<u8> = self
            .writes
            .iter()
            .flat_map(|w| w.bytes.iter().copied())
            .take(HANDSHAKE_LEN)
            .collect();
        let ends_early = match self.error {
            // What the client wrote before a gap is still a script, one that ends there.
            Some(e @ ScriptError::ClientGap { .. }) if !handshake.is_empty() => Some(e),
            Some(e) => return Err(e),
            None if handshake.is_empty() => return Err(ScriptError::Empty),
            None => None,
        };
        if handshake[0] != 3 {
            return Err(ScriptError::NotRtmp(handshake[0]));
        }
        let packet = |bytes: &[u8], at: usize| -> Option<[u8; PACKET_LEN]> {
            bytes.get(at..at + PACKET_LEN)?.try_into().ok()
        };
        let captured_c2 = packet(&handshake, 1 + PACKET_LEN);
        let captured_s1 = packet(self.server.handshake(), 1);
        let c2_answer = match (captured_s1, captured_c2) {
            (Some(s1), Some(c2)) => Some(C2Answer::classify(&s1, &c2)),
            _ => None,
        };
        let (sites, create_stream_txns) = scan_client(&self.writes);
        let create_streams = create_stream_txns
            .into_iter()
            .filter_map(|txn| self.results.get(&txn).map(|&id| (txn, id)))
            .collect();
        Ok(Script {
            flow: self.flow,
            writes: self.writes,
            replies: self.replies,
            c2_answer,
            captured_c2,
            create_streams,
            sites,
            // Known from the flow's transcript (FIN/RST); see [`super::load`].
            client_closed: false,
            ends_early,
        })
    }
}

impl Script {
    /// Total client bytes.
    pub fn len(&self) -> u64 {
        self.writes
            .last()
            .map_or(0, |w| w.offset + w.bytes.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Walks the client's chunk stream after the handshake: the sites of message stream ids, and
/// the transaction ids of its createStream commands.
fn scan_client(writes: &[Write]) -> (Vec<Site>, Vec<u64>) {
    let mut sites = Vec::new();
    let mut create_streams = Vec::new();
    let base = HANDSHAKE_LEN as u64;
    // Read as replay reads it (as the server most likely did), so that a chunk stream the
    // capture's server read through is re-enacted whole.
    let mut client = FlowObserver::with_readers(|| {
        Reading::Receivers
            .reader(capture_limits())
            .with_chunk_events(true)
    });
    // Per chunk stream: (stream offset, length) of the payload pieces of the message being read.
    let mut pieces: HashMap<u32, Vec<(u64, usize)>> = HashMap::new();
    // Write by write, so the reader holds little more than one write at a time; the observer
    // passes over the handshake.
    let mut client_writes = writes.iter();
    let mut ended = false;
    loop {
        let event = match client.poll_chunk(Side::Client) {
            Ok(Some(e)) => e,
            Err(_) => break,
            Ok(None) => match client_writes.next() {
                Some(write) => {
                    client.feed(Side::Client, &write.bytes);
                    continue;
                }
                None if !ended => {
                    client.end_of_stream(Side::Client);
                    ended = true;
                    continue;
                }
                None => break,
            },
        };
        match event {
            ReadEvent::Chunk(h) => {
                let start = base + h.offset;
                if h.fmt == 0 && h.stream_id != 0 {
                    let ext = if h.extended_timestamp.is_some() { 4 } else { 0 };
                    let basic = (h.header_len - 11 - ext) as u64;
                    let at = start + basic + 7;
                    sites.push(Site {
                        positions: (at..at + 4).collect(),
                        encoding: Encoding::U32Le,
                        captured: h.stream_id,
                    });
                }
                pieces
                    .entry(h.csid)
                    .or_default()
                    .push((start + h.header_len as u64, h.payload_len));
            }
            ReadEvent::Message(raw) => {
                let list = pieces.remove(&raw.csid).unwrap_or_default();
                let position = |payload_offset: usize| -> Option<u64> {
                    let mut skipped = 0;
                    for &(at, len) in &list {
                        if payload_offset < skipped + len {
                            return Some(at + (payload_offset - skipped) as u64);
                        }
                        skipped += len;
                    }
                    None
                };
                let value_at = |from: usize, len: usize| -> Option<Vec<u64>> {
                    (from..from + len).map(position).collect()
                };
                match raw.type_id {
                    // User Control: events 0-4 and 6-7 carry a stream id (big-endian) after
                    // the 2-byte event type; SetBufferLength (3) is the one clients send.
                    4 if raw.payload.len() >= 6 && raw.payload[..2] == [0, 3] => {
                        let id = u32::from_be_bytes(raw.payload[2..6].try_into().expect("4"));
                        if let (Some(positions), true) = (value_at(2, 4), id != 0) {
                            sites.push(Site {
                                positions,
                                encoding: Encoding::U32Be,
                                captured: id,
                            });
                        }
                    }
                    17 | 20 => {
                        let skip = usize::from(raw.type_id == 17);
                        let Some(body) = raw.payload.get(skip..) else {
                            continue;
                        };
                        let Ok(Message::Command(c)) = Message::decode(&raw) else {
                            continue;
                        };
                        match c.name.as_str() {
                            "createStream" => create_streams.push(c.transaction_id.to_bits()),
                            "deleteStream" | "closeStream" => {
                                if let Some((from, id)) = third_value_number(body) {
                                    if let Some(positions) = value_at(skip + from, 8) {
                                        sites.push(Site {
                                            positions,
                                            encoding: Encoding::Amf0Number,
                                            captured: id,
                                        });
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            // A message cut short: its pieces so far belong to nothing.
            ReadEvent::Aborted { csid, .. } | ReadEvent::PartialMessageDropped { csid, .. } => {
                pieces.remove(&csid);
            }
            _ => {}
        }
    }
    sites.sort_by_key(|s| s.positions[0]);
    (sites, create_streams)
}

/// `name, transaction, object, number`: the payload offset of the number's 8 bytes and its
/// value, when it is a whole number that fits a stream id.
fn third_value_number(body: &[u8]) -> Option<(usize, u32)> {
    let mut reader = Amf0Reader::new(body);
    for _ in 0..3 {
        reader.read().ok()?;
    }
    let at = reader.position();
    if body.get(at) != Some(&0x00) {
        return None;
    }
    let id = as_stream_id(reader.read().ok()?.as_number()?)?;
    Some((at + 1, id))
}
