//! A message's one-line summary in words, rendered from its fields (`command connect #1 {app:
//! "live", ...}`, `video key h264 seq-header 45 B`, ...).

use crate::protocol::amf0::Amf0Value;
use crate::transcript::{
    AudioTag, BandwidthLimit, MessageContent, UserControlEvent, VideoPacketKind, VideoTag,
};
use std::fmt;

/// A number as people write it: `1`, not `1.0`.
fn number(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        write!(f, "{}", n as i64)
    } else {
        write!(f, "{n}")
    }
}

fn pairs(f: &mut fmt::Formatter<'_>, pairs: &[(String, Amf0Value)]) -> fmt::Result {
    f.write_str("{")?;
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{k}: {v}")?;
    }
    f.write_str("}")
}

/// Compact, JSON-like: `{app: "live", capabilities: 15}`. The protocol's value prints in the
/// transcript's words (the core keeps none of its own).
impl fmt::Display for Amf0Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amf0Value::Number(n) => number(f, *n),
            Amf0Value::Boolean(b) => write!(f, "{b}"),
            Amf0Value::String(s) | Amf0Value::LongString(s) => write!(f, "{s:?}"),
            Amf0Value::Object(p) => pairs(f, p),
            Amf0Value::MovieClip => f.write_str("movieclip"),
            Amf0Value::Null => f.write_str("null"),
            Amf0Value::Undefined => f.write_str("undefined"),
            Amf0Value::Reference(r) => write!(f, "ref#{r}"),
            Amf0Value::EcmaArray { pairs: p, .. } => {
                f.write_str("ecma")?;
                pairs(f, p)
            }
            Amf0Value::StrictArray(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Amf0Value::Date { millis, timezone } => write!(f, "date({millis}, tz {timezone})"),
            Amf0Value::Unsupported => f.write_str("unsupported"),
            Amf0Value::RecordSet => f.write_str("recordset"),
            Amf0Value::XmlDocument(s) => write!(f, "xml({s:?})"),
            Amf0Value::TypedObject {
                class_name,
                properties,
            } => {
                write!(f, "{class_name}")?;
                pairs(f, properties)
            }
            Amf0Value::Avmplus(bytes) => write!(f, "amf3({} bytes)", bytes.len()),
        }
    }
}

impl fmt::Display for UserControlEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserControlEvent::StreamBegin { stream_id } => write!(f, "StreamBegin {stream_id}"),
            UserControlEvent::StreamEof { stream_id } => write!(f, "StreamEOF {stream_id}"),
            UserControlEvent::StreamDry { stream_id } => write!(f, "StreamDry {stream_id}"),
            UserControlEvent::SetBufferLength { stream_id, millis } => {
                write!(f, "SetBufferLength stream {stream_id} {millis} ms")
            }
            UserControlEvent::StreamIsRecorded { stream_id } => {
                write!(f, "StreamIsRecorded {stream_id}")
            }
            UserControlEvent::PingRequest { timestamp } => write!(f, "PingRequest {timestamp}"),
            UserControlEvent::PingResponse { timestamp } => write!(f, "PingResponse {timestamp}"),
            UserControlEvent::Other { event_type, len } => {
                write!(f, "event {event_type} ({len} bytes)")
            }
        }
    }
}

impl fmt::Display for BandwidthLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BandwidthLimit::Hard => f.write_str("Hard"),
            BandwidthLimit::Soft => f.write_str("Soft"),
            BandwidthLimit::Dynamic => f.write_str("Dynamic"),
            BandwidthLimit::Other(b) => write!(f, "Other({b})"),
        }
    }
}

impl fmt::Display for AudioTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("empty");
        }
        f.write_str(&self.codec)?;
        if self.sequence_header {
            f.write_str(" seq-header")?;
        }
        write!(f, " {} B", self.len)
    }
}

impl fmt::Display for VideoTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 0 {
            return f.write_str("empty");
        }
        let frame = match self.frame_type {
            1 => "key",
            2 => "inter",
            3 => "disposable",
            4 => "generated-key",
            5 => "info",
            _ => "frame",
        };
        write!(f, "{frame} {}", self.codec)?;
        match (self.packet, self.composition_time) {
            (VideoPacketKind::SequenceHeader, _) => f.write_str(" seq-header")?,
            (VideoPacketKind::Coded, Some(cts)) if cts != 0 => write!(f, " cts {cts}")?,
            (VideoPacketKind::EndOfSequence, _) => f.write_str(" end-of-sequence")?,
            (VideoPacketKind::Metadata, _) => f.write_str(" metadata")?,
            _ => {}
        }
        write!(f, " {} B", self.len)
    }
}

impl fmt::Display for MessageContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageContent::SetChunkSize { size, reserved_bit } => {
                write!(f, "Set Chunk Size {size}")?;
                if *reserved_bit {
                    f.write_str(" (bit 31 set, which must be 0)")?;
                }
                Ok(())
            }
            MessageContent::Abort { csid } => write!(f, "Abort chunk stream {csid}"),
            MessageContent::Acknowledgement { sequence } => write!(f, "Acknowledgement {sequence}"),
            MessageContent::WindowAckSize { size } => {
                write!(f, "Window Acknowledgement Size {size}")
            }
            MessageContent::SetPeerBandwidth { size, limit } => {
                write!(f, "Set Peer Bandwidth {size} {limit}")
            }
            MessageContent::UserControl { control } => write!(f, "User Control {control}"),
            MessageContent::Command {
                name,
                transaction_id,
                command_object,
                arguments,
                ..
            } => {
                write!(f, "command {name}")?;
                match transaction_id {
                    None => f.write_str(" (no transaction id)")?,
                    Some(t) => {
                        f.write_str(" #")?;
                        number(f, *t)?;
                    }
                }
                if let Some(o) = command_object {
                    write!(f, " {o}")?;
                }
                for a in arguments {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            MessageContent::Data { values, .. } => {
                f.write_str("data")?;
                for v in values {
                    write!(f, " {v}")?;
                }
                Ok(())
            }
            MessageContent::SharedObject { len, .. } => write!(f, "shared object ({len} bytes)"),
            MessageContent::Audio(a) => write!(f, "audio {a}"),
            MessageContent::Video(v) => write!(f, "video {v}"),
            MessageContent::Aggregate { parts } => write!(f, "aggregate of {parts} parts"),
            MessageContent::Unknown { type_id, len } => {
                write!(f, "unknown type {type_id} ({len} bytes)")
            }
            MessageContent::Undecodable { error } => write!(f, "undecodable: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::protocol::amf0::Amf0Value as V;
    use crate::protocol::message::{
        AudioInfo, Command, LimitType, Message, MessageError, UserControl, VideoInfo,
    };
    use crate::transcript::{Direction, Event, EventKind, MessageContent, MessageEvent};
    use bytes::Bytes;

    fn odd_values() -> Vec<V> {
        vec![
            V::Number(1.0),
            V::Number(-0.5),
            V::Number(1e20),
            V::Number(f64::NAN),
            V::Number(f64::NEG_INFINITY),
            V::Boolean(true),
            V::String("live \"quoted\"".into()),
            V::LongString("long".into()),
            V::Object(vec![
                ("z".into(), V::Null),
                ("a".into(), V::Undefined),
                ("$amf0".into(), V::Number(3.0)),
            ]),
            V::MovieClip,
            V::Reference(7),
            V::EcmaArray {
                count_hint: 9,
                pairs: vec![("duration".into(), V::Number(0.0))],
            },
            V::StrictArray(vec![
                V::Number(1.0),
                V::String("x".into()),
                V::StrictArray(vec![]),
            ]),
            V::Date {
                millis: 1.5e12,
                timezone: -60,
            },
            V::Unsupported,
            V::RecordSet,
            V::XmlDocument("<a/>".into()),
            V::TypedObject {
                class_name: "flex.Msg".into(),
                properties: vec![("body".into(), V::Boolean(false))],
            },
            V::Avmplus(vec![1, 2, 3]),
        ]
    }

    fn messages() -> Vec<Message> {
        let b = Bytes::from_static;
        let mut out = vec![
            Message::SetChunkSize {
                size: 4096,
                reserved_bit: false,
            },
            Message::SetChunkSize {
                size: 1,
                reserved_bit: true,
            },
            Message::Abort { csid: 4 },
            Message::Acknowledgement {
                sequence: 5_000_000,
            },
            Message::WindowAckSize(2_500_000),
            Message::Data {
                values: odd_values(),
                amf3: false,
            },
            Message::Data {
                values: vec![],
                amf3: true,
            },
            Message::SharedObject {
                amf3: false,
                payload: b(&[0; 12]),
            },
            Message::Aggregate(vec![]),
            Message::Unknown {
                type_id: 99,
                payload: b(&[1, 2]),
            },
        ];
        for limit in [
            LimitType::Hard,
            LimitType::Soft,
            LimitType::Dynamic,
            LimitType::Other(9),
        ] {
            out.push(Message::SetPeerBandwidth {
                size: 2_500_000,
                limit,
            });
        }
        for u in [
            UserControl::StreamBegin(1),
            UserControl::StreamEof(1),
            UserControl::StreamDry(2),
            UserControl::SetBufferLength {
                stream_id: 1,
                millis: 3000,
            },
            UserControl::StreamIsRecorded(1),
            UserControl::PingRequest(123),
            UserControl::PingResponse(123),
            UserControl::Other {
                event: 26,
                data: b(&[0; 4]),
            },
        ] {
            out.push(Message::UserControl(u));
        }
        for (missing, object) in [
            (
                false,
                Some(V::Object(vec![("app".into(), V::String("live".into()))])),
            ),
            (true, Some(V::Null)),
            (false, None),
        ] {
            out.push(Message::Command(Command {
                name: "connect".into(),
                transaction_id: if missing { 0.0 } else { 2.5 },
                transaction_id_missing: missing,
                command_object: object,
                arguments: odd_values(),
                amf3: missing,
            }));
        }
        for audio in [
            &[][..],
            &[0xaf, 0, 0x12, 0x10],
            &[0xaf, 1, 7],
            &[0x2f, 1],
            &[0x90, b'O', b'p', b'u', b's', 0],
            &[0x91, b'f', b'L', b'a', b'C', 0],
        ] {
            out.push(Message::Audio(AudioInfo::parse(&Bytes::copy_from_slice(
                audio,
            ))));
        }
        for video in [
            &[][..],
            &[0x17, 0, 0, 0, 0, 1],
            &[0x27, 1, 0, 0, 40, 9],
            &[0x17, 1, 0, 0, 0, 9],
            &[0x17, 2, 0, 0, 0],
            &[0x52, 0],
            &[0x22, 0, 0],
            &[0x90, b'h', b'v', b'c', b'1', 1],
            &[0x91, b'a', b'v', b'c', b'1', 0xff, 0xff, 0xf6, 0],
            &[0x93, b'a', b'v', b'0', b'1', 0],
            &[0x94, b'v', b'p', b'0', b'9'],
            &[0x95, b'v', b'p', b'0', b'9'],
            &[0x9e, b'v', b'p', b'0', b'9'],
            &[0x92, b'h', b'v', b'c', b'1'],
        ] {
            out.push(Message::Video(VideoInfo::parse(&Bytes::copy_from_slice(
                video,
            ))));
        }
        out
    }

    /// Every kind of message and AMF0 value has its summary, under the message layer's name
    /// (the message layer's values print these too, through their mirror).
    #[test]
    fn every_message_and_amf0_value_has_its_summary() {
        let all = messages();
        let mut words = String::new();
        for m in &all {
            let content = MessageContent::of(Ok(m));
            assert_eq!(content.name(), m.name(), "{m:?}");
            words.push_str(&format!("{:<20} {content}\n", content.name()));
        }
        crate::transcript::render::words_snapshot("message-summary-words", &words);
        let error = MessageError::NoCommandName {
            found: "number".into(),
        };
        let content = MessageContent::of(Err(&error));
        assert_eq!(content.name(), "undecodable");
        assert_eq!(content.to_string(), format!("undecodable: {error}"));
    }

    /// JSON carries the values as values, and what `diff` reads back renders as the original.
    #[test]
    fn messages_survive_json_with_their_fields() {
        for m in messages() {
            let raw = crate::protocol::chunk::RawMessage {
                csid: 3,
                timestamp: 40,
                type_id: 20,
                stream_id: 1,
                payload: Bytes::from_static(&[0; 5]),
            };
            let event = Event::new(
                1,
                EventKind::Message(MessageEvent::new(Direction::ServerToClient, &raw, Ok(&m))),
            );
            let line = super::super::json_line(&event);
            let value: serde_json::Value = serde_json::from_str(&line).expect(&line);
            assert_eq!(value["summary"], m.to_string(), "{line}");
            // From the line: `serde_json::Value` would sort an object's keys.
            let back: Event = serde_json::from_str(&line).expect(&line);
            let (EventKind::Message(a), EventKind::Message(b)) = (&back.kind, &event.kind) else {
                panic!("{back:?}");
            };
            assert_eq!(a.summary(), b.summary(), "{line}");
        }
    }

    #[test]
    fn amf_values_are_plain_json_where_json_has_the_type() {
        let connect = Message::Command(Command {
            name: "connect".into(),
            transaction_id: 1.0,
            transaction_id_missing: false,
            command_object: Some(V::Object(vec![
                ("app".into(), V::String("live".into())),
                ("fpad".into(), V::Boolean(false)),
                ("capabilities".into(), V::Number(15.0)),
                ("audioCodecs".into(), V::Number(0.5)),
            ])),
            arguments: vec![V::Undefined, V::Null, V::StrictArray(vec![V::Number(1.0)])],
            amf3: false,
        });
        let json = serde_json::to_string(&MessageContent::of(Ok(&connect))).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"command","name":"connect","transaction_id":1.0,"command_object":{"app":"live","fpad":false,"capabilities":15,"audioCodecs":0.5},"arguments":[{"$amf0":"undefined"},null,[1]],"amf3":false}"#
        );
        let ping = Message::UserControl(UserControl::PingRequest(77));
        assert_eq!(
            serde_json::to_string(&MessageContent::of(Ok(&ping))).unwrap(),
            r#"{"kind":"user_control","control":{"event":"ping_request","timestamp":77}}"#
        );
        let video = Message::Video(VideoInfo::parse(&Bytes::from_static(&[
            0x27, 1, 0, 0, 40, 9,
        ])));
        assert_eq!(
            serde_json::to_string(&MessageContent::of(Ok(&video))).unwrap(),
            r#"{"kind":"video","frame_type":2,"codec":"h264","packet":"coded","composition_time":40,"len":6}"#
        );
    }
}
