//! RTMP messages: what the payload of a [`RawMessage`] means.
//!
//! [`Message::decode`] interprets every message type the specification defines, plus the
//! Enhanced RTMP media headers; the constructors at the bottom build the messages the server and
//! the client emulators send.
//!
//! A message prints (`Display`) as its transcript summary, written once in
//! `transcript::render::core_words`.

mod media;

pub use media::{AudioInfo, VideoCodec, VideoInfo, VideoPacket};

use super::amf0::{self, Amf0Error, Amf0Reader, Amf0Value};
use super::chunk::RawMessage;
use bytes::{Bytes, BytesMut};

/// The limit type of Set Peer Bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitType {
    Hard,
    Soft,
    Dynamic,
    Other(u8),
}

impl LimitType {
    fn from_byte(b: u8) -> Self {
        match b {
            0 => LimitType::Hard,
            1 => LimitType::Soft,
            2 => LimitType::Dynamic,
            other => LimitType::Other(other),
        }
    }

    fn to_byte(self) -> u8 {
        match self {
            LimitType::Hard => 0,
            LimitType::Soft => 1,
            LimitType::Dynamic => 2,
            LimitType::Other(b) => b,
        }
    }
}

/// User control events (message type 4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserControl {
    StreamBegin(u32),
    StreamEof(u32),
    StreamDry(u32),
    SetBufferLength {
        stream_id: u32,
        millis: u32,
    },
    StreamIsRecorded(u32),
    PingRequest(u32),
    PingResponse(u32),
    /// Any other event (e.g. 26/27, SWF verification), kept as it came.
    Other {
        event: u16,
        data: Bytes,
    },
}

/// A command (types 20 and 17).
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub name: String,
    /// 0 when the peer sent none or not a number (see [`Self::transaction_id_missing`]).
    pub transaction_id: f64,
    /// Real peers are sloppy; a command without a numeric transaction id is kept, and flagged.
    pub transaction_id_missing: bool,
    /// The command object (often null).
    pub command_object: Option<Amf0Value>,
    pub arguments: Vec<Amf0Value>,
    /// Arrived as an AMF3 command message (type 17).
    pub amf3: bool,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// Type 1. `reserved_bit` tells whether the peer set bit 31, which must be zero.
    SetChunkSize {
        size: u32,
        reserved_bit: bool,
    },
    Abort {
        csid: u32,
    },
    Acknowledgement {
        sequence: u32,
    },
    WindowAckSize(u32),
    SetPeerBandwidth {
        size: u32,
        limit: LimitType,
    },
    UserControl(UserControl),
    Command(Command),
    /// Types 18 (AMF0) and 15 (AMF3-wrapped): `@setDataFrame`, `onMetaData`, ...
    Data {
        values: Vec<Amf0Value>,
        amf3: bool,
    },
    /// Types 19 (AMF0) and 16 (AMF3), kept raw.
    SharedObject {
        amf3: bool,
        payload: Bytes,
    },
    Audio(AudioInfo),
    Video(VideoInfo),
    /// Type 22, split into its parts (timestamps rebased on the aggregate's own).
    Aggregate(Vec<RawMessage>),
    Unknown {
        type_id: u8,
        payload: Bytes,
    },
}

/// Why a payload does not decode as its type says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    #[error("{what} needs {needed} bytes, the message has {len}")]
    TooShort {
        what: &'static str,
        needed: usize,
        len: usize,
    },
    #[error("{what}: {source}")]
    Amf0 {
        what: &'static str,
        #[source]
        source: Amf0Error,
    },
    #[error("command does not start with a name string (found {found})")]
    NoCommandName { found: String },
    #[error("aggregate part {index} at offset {offset}: {problem}")]
    Aggregate {
        index: usize,
        offset: usize,
        problem: String,
    },
}

fn be32(p: &[u8], what: &'static str) -> Result<u32, MessageError> {
    p.get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(MessageError::TooShort {
            what,
            needed: 4,
            len: p.len(),
        })
}

impl Message {
    /// Interprets `raw` by its type id.
    pub fn decode(raw: &RawMessage) -> Result<Message, MessageError> {
        let p = &raw.payload[..];
        Ok(match raw.type_id {
            1 => {
                let word = be32(p, "Set Chunk Size")?;
                Message::SetChunkSize {
                    size: word & 0x7FFF_FFFF,
                    reserved_bit: word & 0x8000_0000 != 0,
                }
            }
            2 => Message::Abort {
                csid: be32(p, "Abort")?,
            },
            3 => Message::Acknowledgement {
                sequence: be32(p, "Acknowledgement")?,
            },
            4 => Message::UserControl(decode_user_control(&raw.payload)?),
            5 => Message::WindowAckSize(be32(p, "Window Acknowledgement Size")?),
            6 => {
                let size = be32(p, "Set Peer Bandwidth")?;
                let limit = *p.get(4).ok_or(MessageError::TooShort {
                    what: "Set Peer Bandwidth",
                    needed: 5,
                    len: p.len(),
                })?;
                Message::SetPeerBandwidth {
                    size,
                    limit: LimitType::from_byte(limit),
                }
            }
            8 => Message::Audio(AudioInfo::parse(&raw.payload)),
            9 => Message::Video(VideoInfo::parse(&raw.payload)),
            15 | 18 => {
                let body = if raw.type_id == 15 {
                    skip_format_byte(p)
                } else {
                    p
                };
                Message::Data {
                    values: amf0::decode_all(body).map_err(|source| MessageError::Amf0 {
                        what: "data message",
                        source,
                    })?,
                    amf3: raw.type_id == 15,
                }
            }
            16 | 19 => Message::SharedObject {
                amf3: raw.type_id == 16,
                payload: raw.payload.clone(),
            },
            17 | 20 => Message::Command(decode_command(p, raw.type_id == 17)?),
            22 => Message::Aggregate(split_aggregate(raw)?),
            type_id => Message::Unknown {
                type_id,
                payload: raw.payload.clone(),
            },
        })
    }

    /// A short name for the kind of message: `connect`, `Set Chunk Size`, `video`, ...
    pub fn name(&self) -> &str {
        match self {
            Message::SetChunkSize { .. } => "Set Chunk Size",
            Message::Abort { .. } => "Abort",
            Message::Acknowledgement { .. } => "Acknowledgement",
            Message::WindowAckSize(_) => "Window Acknowledgement Size",
            Message::SetPeerBandwidth { .. } => "Set Peer Bandwidth",
            Message::UserControl(_) => "User Control",
            Message::Command(c) => &c.name,
            Message::Data { values, .. } => {
                values.first().and_then(Amf0Value::as_str).unwrap_or("data")
            }
            Message::SharedObject { .. } => "shared object",
            Message::Audio(_) => "audio",
            Message::Video(_) => "video",
            Message::Aggregate(_) => "aggregate",
            Message::Unknown { .. } => "unknown",
        }
    }
}

/// AMF3-wrapped messages (15, 17) start with a format byte that is 0 in practice.
fn skip_format_byte(p: &[u8]) -> &[u8] {
    match p.first() {
        Some(0) => &p[1..],
        _ => p,
    }
}

fn decode_user_control(p: &Bytes) -> Result<UserControl, MessageError> {
    let event =
        p.get(..2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(MessageError::TooShort {
                what: "User Control",
                needed: 2,
                len: p.len(),
            })?;
    let data = &p[2..];
    let word = |what| be32(data, what);
    Ok(match event {
        0 => UserControl::StreamBegin(word("StreamBegin")?),
        1 => UserControl::StreamEof(word("StreamEOF")?),
        2 => UserControl::StreamDry(word("StreamDry")?),
        3 => UserControl::SetBufferLength {
            stream_id: word("SetBufferLength")?,
            millis: be32(data.get(4..).unwrap_or(&[]), "SetBufferLength length")?,
        },
        4 => UserControl::StreamIsRecorded(word("StreamIsRecorded")?),
        6 => UserControl::PingRequest(word("PingRequest")?),
        7 => UserControl::PingResponse(word("PingResponse")?),
        event => UserControl::Other {
            event,
            data: p.slice(2..),
        },
    })
}

fn decode_command(p: &[u8], amf3: bool) -> Result<Command, MessageError> {
    let body = if amf3 { skip_format_byte(p) } else { p };
    let mut reader = Amf0Reader::new(body);
    let amf = |source| MessageError::Amf0 {
        what: "command",
        source,
    };
    let name = match reader.read().map_err(amf)? {
        Amf0Value::String(s) => s,
        other => {
            return Err(MessageError::NoCommandName {
                found: other.to_string(),
            })
        }
    };
    let mut values = Vec::new();
    while !reader.is_empty() {
        values.push(reader.read().map_err(amf)?);
    }
    let mut values = values.into_iter();
    let (transaction_id, transaction_id_missing) = match values.next() {
        Some(Amf0Value::Number(n)) => (n, false),
        Some(other) => {
            // Keep the value: it is probably the command object of a sloppy peer.
            let rest: Vec<Amf0Value> = std::iter::once(other).chain(values).collect();
            let mut rest = rest.into_iter();
            return Ok(Command {
                name,
                transaction_id: 0.0,
                transaction_id_missing: true,
                command_object: rest.next(),
                arguments: rest.collect(),
                amf3,
            });
        }
        None => (0.0, true),
    };
    let command_object = values.next();
    Ok(Command {
        name,
        transaction_id,
        transaction_id_missing,
        command_object,
        arguments: values.collect(),
        amf3,
    })
}

/// Splits an aggregate into its FLV-tag-shaped parts. Part timestamps are relative to the first
/// part's and rebased on the aggregate's own timestamp, as Flash Media Server sends them.
fn split_aggregate(raw: &RawMessage) -> Result<Vec<RawMessage>, MessageError> {
    let p = &raw.payload;
    let mut parts = Vec::new();
    let mut at = 0;
    let mut first_ts = None;
    while at < p.len() {
        let index = parts.len();
        let fail = |problem: String| MessageError::Aggregate {
            index,
            offset: at,
            problem,
        };
        if p.len() - at < 11 {
            return Err(fail(format!(
                "needs an 11-byte header, {} bytes left",
                p.len() - at
            )));
        }
        let h = &p[at..at + 11];
        let type_id = h[0];
        let len = (h[1] as usize) << 16 | (h[2] as usize) << 8 | h[3] as usize;
        let ts = (h[7] as u32) << 24 | (h[4] as u32) << 16 | (h[5] as u32) << 8 | h[6] as u32;
        let body = at + 11;
        if p.len() - body < len + 4 {
            return Err(fail(format!(
                "declares {len} bytes of data and a 4-byte back pointer, {} bytes left",
                p.len() - body
            )));
        }
        let first = *first_ts.get_or_insert(ts);
        parts.push(RawMessage {
            csid: raw.csid,
            timestamp: raw.timestamp.wrapping_add(ts.wrapping_sub(first)),
            type_id,
            stream_id: raw.stream_id,
            payload: p.slice(body..body + len),
        });
        at = body + len + 4;
    }
    Ok(parts)
}

// ----- constructors for what we send -----

fn control(type_id: u8, payload: Vec<u8>) -> RawMessage {
    RawMessage {
        csid: 2,
        timestamp: 0,
        type_id,
        stream_id: 0,
        payload: payload.into(),
    }
}

pub fn set_chunk_size(size: u32) -> RawMessage {
    control(1, (size & 0x7FFF_FFFF).to_be_bytes().to_vec())
}

/// Abort Message: the receiver discards the partial message on chunk stream `csid`.
pub fn abort(csid: u32) -> RawMessage {
    control(2, csid.to_be_bytes().to_vec())
}

pub fn acknowledgement(sequence: u32) -> RawMessage {
    control(3, sequence.to_be_bytes().to_vec())
}

pub fn window_ack_size(size: u32) -> RawMessage {
    control(5, size.to_be_bytes().to_vec())
}

pub fn set_peer_bandwidth(size: u32, limit: LimitType) -> RawMessage {
    let mut p = size.to_be_bytes().to_vec();
    p.push(limit.to_byte());
    control(6, p)
}

pub fn user_control(event: UserControl) -> RawMessage {
    let (code, words): (u16, Vec<u32>) = match &event {
        UserControl::StreamBegin(id) => (0, vec![*id]),
        UserControl::StreamEof(id) => (1, vec![*id]),
        UserControl::StreamDry(id) => (2, vec![*id]),
        UserControl::SetBufferLength { stream_id, millis } => (3, vec![*stream_id, *millis]),
        UserControl::StreamIsRecorded(id) => (4, vec![*id]),
        UserControl::PingRequest(t) => (6, vec![*t]),
        UserControl::PingResponse(t) => (7, vec![*t]),
        UserControl::Other { event, data } => {
            let mut p = event.to_be_bytes().to_vec();
            p.extend_from_slice(data);
            return control(4, p);
        }
    };
    let mut p = code.to_be_bytes().to_vec();
    for w in words {
        p.extend_from_slice(&w.to_be_bytes());
    }
    control(4, p)
}

/// An AMF0 command (type 20) on chunk stream 3 (message stream 0) or 5 (a media stream), the
/// ids FFmpeg and librtmp use.
pub fn command(
    stream_id: u32,
    name: &str,
    transaction_id: f64,
    command_object: Amf0Value,
    arguments: Vec<Amf0Value>,
) -> RawMessage {
    let mut out = BytesMut::new();
    amf0::encode(&Amf0Value::string(name), &mut out);
    amf0::encode(&Amf0Value::Number(transaction_id), &mut out);
    amf0::encode(&command_object, &mut out);
    amf0::encode_all(&arguments, &mut out);
    RawMessage {
        csid: if stream_id == 0 { 3 } else { 5 },
        timestamp: 0,
        type_id: 20,
        stream_id,
        payload: out.freeze(),
    }
}

/// An AMF0 data message (type 18).
pub fn data(stream_id: u32, values: &[Amf0Value]) -> RawMessage {
    let mut out = BytesMut::new();
    amf0::encode_all(values, &mut out);
    RawMessage {
        csid: 5,
        timestamp: 0,
        type_id: 18,
        stream_id,
        payload: out.freeze(),
    }
}

/// `_result` for `connect`: what FMS 3 answers, which every client accepts.
pub fn connect_result(transaction_id: f64) -> RawMessage {
    command(
        0,
        "_result",
        transaction_id,
        Amf0Value::object([
            ("fmsVer", Amf0Value::string("FMS/3,0,1,123")),
            ("capabilities", Amf0Value::Number(31.0)),
        ]),
        vec![Amf0Value::object([
            ("level", Amf0Value::string("status")),
            ("code", Amf0Value::string("NetConnection.Connect.Success")),
            ("description", Amf0Value::string("Connection succeeded.")),
            ("objectEncoding", Amf0Value::Number(0.0)),
        ])],
    )
}

/// `onStatus` on a message stream.
pub fn on_status(stream_id: u32, level: &str, code: &str, description: &str) -> RawMessage {
    command(
        stream_id,
        "onStatus",
        0.0,
        Amf0Value::Null,
        vec![Amf0Value::object([
            ("level", Amf0Value::string(level)),
            ("code", Amf0Value::string(code)),
            ("description", Amf0Value::string(description)),
        ])],
    )
}

/// `onFCPublish`, which some encoders wait for after FCPublish.
pub fn on_fc_publish(name: &str) -> RawMessage {
    command(
        0,
        "onFCPublish",
        0.0,
        Amf0Value::Null,
        vec![Amf0Value::object([
            ("code", Amf0Value::string("NetStream.Publish.Start")),
            ("description", Amf0Value::string(name)),
        ])],
    )
}

/// `|RtmpSampleAccess`, sent to players before media.
pub fn sample_access(stream_id: u32) -> RawMessage {
    data(
        stream_id,
        &[
            Amf0Value::string("|RtmpSampleAccess"),
            Amf0Value::Boolean(true),
            Amf0Value::Boolean(true),
        ],
    )
}

#[cfg(test)]
mod tests;
