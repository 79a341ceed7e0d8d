//! What a message says, as fields: the transcript's mirror of `protocol::message::Message`.

use crate::protocol::amf0::Amf0Value;
use crate::protocol::message::{
    AudioInfo, LimitType, Message, MessageError, UserControl, VideoInfo, VideoPacket,
};
use serde::{Deserialize, Deserializer, Serialize};

/// The decoded content of a message; `kind` says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageContent {
    /// Type 1. `reserved_bit`: the peer set bit 31, which must be zero.
    SetChunkSize { size: u32, reserved_bit: bool },
    /// Type 2: discard the partial message on this chunk stream.
    Abort { csid: u32 },
    /// Type 3: the bytes received so far.
    Acknowledgement { sequence: u32 },
    /// Type 5.
    WindowAckSize { size: u32 },
    /// Type 6.
    SetPeerBandwidth { size: u32, limit: BandwidthLimit },
    /// Type 4.
    UserControl { control: UserControlEvent },
    /// Types 20 (AMF0) and 17 (AMF3). `transaction_id` is null when the peer sent none (or not a
    /// number); `command_object` is absent when the command ended after its transaction id.
    Command {
        name: String,
        transaction_id: Option<f64>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        command_object: Option<Amf0Value>,
        arguments: Vec<Amf0Value>,
        amf3: bool,
    },
    /// Types 18 (AMF0) and 15 (AMF3): `@setDataFrame`, `onMetaData`, ...
    Data { values: Vec<Amf0Value>, amf3: bool },
    /// Types 19 (AMF0) and 16 (AMF3), not decoded.
    SharedObject { amf3: bool, len: usize },
    /// Type 8: the audio tag header.
    Audio(AudioTag),
    /// Type 9: the video tag header.
    Video(VideoTag),
    /// Type 22: an aggregate of this many messages.
    Aggregate { parts: usize },
    /// A type the specification does not define.
    Unknown { type_id: u8, len: usize },
    /// The payload does not decode as its type says.
    Undecodable { error: String },
}

/// A field that is there, even as `null`, is `Some`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amf0Value>, D::Error> {
    Amf0Value::deserialize(d).map(Some)
}

/// Set Peer Bandwidth's limit type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandwidthLimit {
    Hard,
    Soft,
    Dynamic,
    /// Not a limit type the specification defines.
    Other(u8),
}

/// A User Control event and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum UserControlEvent {
    StreamBegin {
        stream_id: u32,
    },
    StreamEof {
        stream_id: u32,
    },
    StreamDry {
        stream_id: u32,
    },
    SetBufferLength {
        stream_id: u32,
        millis: u32,
    },
    StreamIsRecorded {
        stream_id: u32,
    },
    PingRequest {
        timestamp: u32,
    },
    PingResponse {
        timestamp: u32,
    },
    /// Another event type (26/27, SWF verification, ...) with this many data bytes.
    Other {
        event_type: u16,
        len: usize,
    },
}

/// An audio message's tag header (`len` 0: an empty message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudioTag {
    /// `aac`, `mp3`, ..., or an Enhanced RTMP FourCC (`Opus`, `fLaC`, ...).
    pub codec: String,
    /// The FLV sound format (10 AAC, 2 MP3, 9 Enhanced RTMP, ...).
    pub format: u8,
    pub sequence_header: bool,
    pub len: usize,
}

/// A video message's tag header (`len` 0: an empty message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoTag {
    /// 1 key frame, 2 inter frame, 3 disposable, 4 generated key frame, 5 info/command.
    pub frame_type: u8,
    /// `h264`, `hevc`, `vp6`, ..., or an Enhanced RTMP FourCC (`hvc1`, `av01`, ...).
    pub codec: String,
    pub packet: VideoPacketKind,
    /// Coded frames' composition time offset in ms, where the packet carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition_time: Option<i32>,
    pub len: usize,
}

/// What kind of video packet it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VideoPacketKind {
    SequenceHeader,
    Coded,
    CodedNoCompositionTime,
    EndOfSequence,
    Metadata,
    Mpeg2tsSequenceStart,
    /// A codec without packet types (Sorenson, VP6, ...).
    Frame,
    Other(u8),
}

impl From<&AudioInfo> for AudioTag {
    fn from(a: &AudioInfo) -> Self {
        AudioTag {
            codec: a.codec_name(),
            format: a.format,
            sequence_header: a.is_sequence_header(),
            len: a.payload.len(),
        }
    }
}

impl From<&VideoInfo> for VideoTag {
    fn from(v: &VideoInfo) -> Self {
        let (packet, composition_time) = match v.packet {
            VideoPacket::SequenceHeader => (VideoPacketKind::SequenceHeader, None),
            VideoPacket::Coded { composition_time } => {
                (VideoPacketKind::Coded, Some(composition_time))
            }
            VideoPacket::CodedNoCompositionTime => (VideoPacketKind::CodedNoCompositionTime, None),
            VideoPacket::EndOfSequence => (VideoPacketKind::EndOfSequence, None),
            VideoPacket::Metadata => (VideoPacketKind::Metadata, None),
            VideoPacket::Mpeg2TsSequenceStart => (VideoPacketKind::Mpeg2tsSequenceStart, None),
            VideoPacket::Frame => (VideoPacketKind::Frame, None),
            VideoPacket::Other(b) => (VideoPacketKind::Other(b), None),
        };
        VideoTag {
            frame_type: v.frame_type,
            codec: v.codec.name(),
            packet,
            composition_time,
            len: v.payload.len(),
        }
    }
}

impl From<&UserControl> for UserControlEvent {
    fn from(u: &UserControl) -> Self {
        match u {
            UserControl::StreamBegin(id) => UserControlEvent::StreamBegin { stream_id: *id },
            UserControl::StreamEof(id) => UserControlEvent::StreamEof { stream_id: *id },
            UserControl::StreamDry(id) => UserControlEvent::StreamDry { stream_id: *id },
            UserControl::SetBufferLength { stream_id, millis } => {
                UserControlEvent::SetBufferLength {
                    stream_id: *stream_id,
                    millis: *millis,
                }
            }
            UserControl::StreamIsRecorded(id) => {
                UserControlEvent::StreamIsRecorded { stream_id: *id }
            }
            UserControl::PingRequest(t) => UserControlEvent::PingRequest { timestamp: *t },
            UserControl::PingResponse(t) => UserControlEvent::PingResponse { timestamp: *t },
            UserControl::Other { event, data } => UserControlEvent::Other {
                event_type: *event,
                len: data.len(),
            },
        }
    }
}

impl MessageContent {
    /// The content of a message as decoded (or not).
    pub fn of(decoded: Result<&Message, &MessageError>) -> Self {
        let m = match decoded {
            Ok(m) => m,
            Err(e) => {
                return Self::Undecodable {
                    error: e.to_string(),
                }
            }
        };
        match m {
            Message::SetChunkSize { size, reserved_bit } => Self::SetChunkSize {
                size: *size,
                reserved_bit: *reserved_bit,
            },
            Message::Abort { csid } => Self::Abort { csid: *csid },
            Message::Acknowledgement { sequence } => Self::Acknowledgement {
                sequence: *sequence,
            },
            Message::WindowAckSize(size) => Self::WindowAckSize { size: *size },
            Message::SetPeerBandwidth { size, limit } => Self::SetPeerBandwidth {
                size: *size,
                limit: match limit {
                    LimitType::Hard => BandwidthLimit::Hard,
                    LimitType::Soft => BandwidthLimit::Soft,
                    LimitType::Dynamic => BandwidthLimit::Dynamic,
                    LimitType::Other(b) => BandwidthLimit::Other(*b),
                },
            },
            Message::UserControl(u) => Self::UserControl { control: u.into() },
            Message::Command(c) => Self::Command {
                name: c.name.clone(),
                transaction_id: (!c.transaction_id_missing).then_some(c.transaction_id),
                command_object: c.command_object.clone(),
                arguments: c.arguments.clone(),
                amf3: c.amf3,
            },
            Message::Data { values: v, amf3 } => Self::Data {
                values: v.clone(),
                amf3: *amf3,
            },
            Message::SharedObject { amf3, payload } => Self::SharedObject {
                amf3: *amf3,
                len: payload.len(),
            },
            Message::Audio(a) => Self::Audio(a.into()),
            Message::Video(v) => Self::Video(v.into()),
            Message::Aggregate(parts) => Self::Aggregate { parts: parts.len() },
            Message::Unknown { type_id, payload } => Self::Unknown {
                type_id: *type_id,
                len: payload.len(),
            },
        }
    }

    /// What kind of message it is: `connect`, `Set Chunk Size`, `video`, `undecodable`, ...
    pub fn name(&self) -> &str {
        match self {
            Self::SetChunkSize { .. } => "Set Chunk Size",
            Self::Abort { .. } => "Abort",
            Self::Acknowledgement { .. } => "Acknowledgement",
            Self::WindowAckSize { .. } => "Window Acknowledgement Size",
            Self::SetPeerBandwidth { .. } => "Set Peer Bandwidth",
            Self::UserControl { .. } => "User Control",
            Self::Command { name, .. } => name,
            Self::Data { values, .. } => {
                values.first().and_then(Amf0Value::as_str).unwrap_or("data")
            }
            Self::SharedObject { .. } => "shared object",
            Self::Audio(_) => "audio",
            Self::Video(_) => "video",
            Self::Aggregate { .. } => "aggregate",
            Self::Unknown { .. } => "unknown",
            Self::Undecodable { .. } => "undecodable",
        }
    }
}
