use super::*;
use crate::protocol::chunk::{ChunkLimits, ChunkReader, ReadEvent};
use proptest::prelude::*;

fn raw(type_id: u8, payload: &[u8]) -> RawMessage {
    RawMessage {
        csid: 2,
        timestamp: 0,
        type_id,
        stream_id: 0,
        payload: Bytes::copy_from_slice(payload),
    }
}

#[test]
fn protocol_control_messages_decode_and_round_trip() {
    let cases = [
        (
            set_chunk_size(4096),
            Message::SetChunkSize {
                size: 4096,
                reserved_bit: false,
            },
            "Set Chunk Size 4096",
        ),
        (
            acknowledgement(5_000_000),
            Message::Acknowledgement {
                sequence: 5_000_000,
            },
            "Acknowledgement 5000000",
        ),
        (
            window_ack_size(2_500_000),
            Message::WindowAckSize(2_500_000),
            "Window Acknowledgement Size 2500000",
        ),
        (
            set_peer_bandwidth(2_500_000, LimitType::Dynamic),
            Message::SetPeerBandwidth {
                size: 2_500_000,
                limit: LimitType::Dynamic,
            },
            "Set Peer Bandwidth 2500000 Dynamic",
        ),
    ];
    for (raw, expected, text) in cases {
        assert_eq!((raw.csid, raw.stream_id), (2, 0));
        let m = Message::decode(&raw).unwrap();
        assert_eq!(m, expected);
        assert_eq!(m.to_string(), text);
    }
    assert_eq!(
        Message::decode(&raw(1, &[0x80, 0, 0x10, 0])).unwrap(),
        Message::SetChunkSize {
            size: 4096,
            reserved_bit: true
        }
    );
    assert_eq!(
        Message::decode(&raw(2, &[0, 0, 0, 6])).unwrap(),
        Message::Abort { csid: 6 }
    );
    assert_eq!(
        Message::decode(&raw(6, &[0, 0, 0, 1, 7])).unwrap(),
        Message::SetPeerBandwidth {
            size: 1,
            limit: LimitType::Other(7)
        }
    );
    assert_eq!(
        Message::decode(&raw(5, &[0, 1])).unwrap_err().to_string(),
        "Window Acknowledgement Size needs 4 bytes, the message has 2"
    );
}

#[test]
fn user_control_events_decode_and_round_trip() {
    let events = [
        UserControl::StreamBegin(1),
        UserControl::StreamEof(1),
        UserControl::StreamDry(1),
        UserControl::SetBufferLength {
            stream_id: 1,
            millis: 3000,
        },
        UserControl::StreamIsRecorded(1),
        UserControl::PingRequest(123),
        UserControl::PingResponse(123),
        UserControl::Other {
            event: 26,
            data: Bytes::from_static(&[1, 2]),
        },
    ];
    for event in events {
        let m = user_control(event.clone());
        assert_eq!(Message::decode(&m).unwrap(), Message::UserControl(event));
    }
    assert_eq!(
        user_control(UserControl::SetBufferLength {
            stream_id: 1,
            millis: 3000
        })
        .payload[..],
        [0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8]
    );
}

#[test]
fn commands_and_their_builders() {
    let m = Message::decode(&connect_result(1.0)).unwrap();
    let Message::Command(c) = &m else {
        panic!("{m:?}")
    };
    assert_eq!(c.name, "_result");
    assert_eq!(c.transaction_id, 1.0);
    assert_eq!(
        c.arguments[0].get("code").and_then(Amf0Value::as_str),
        Some("NetConnection.Connect.Success")
    );
    let status = on_status(1, "status", "NetStream.Publish.Start", "x");
    assert_eq!((status.stream_id, status.csid, status.type_id), (1, 5, 20));
    assert_eq!(
        Message::decode(&status).unwrap().to_string(),
        r#"command onStatus #0 null {level: "status", code: "NetStream.Publish.Start", description: "x"}"#
    );
    // A sloppy command without a transaction id still decodes, flagged.
    let mut p = BytesMut::new();
    amf0::encode_all(
        &[
            Amf0Value::string("FCPublish"),
            Amf0Value::Null,
            Amf0Value::string("key"),
        ],
        &mut p,
    );
    let Message::Command(c) = Message::decode(&raw(20, &p)).unwrap() else {
        panic!()
    };
    assert!(c.transaction_id_missing);
    assert_eq!(c.arguments, vec![Amf0Value::string("key")]);
    // AMF3-wrapped (type 17) commands skip the format byte.
    let mut p17 = vec![0u8];
    p17.extend_from_slice(
        &command(
            0,
            "play",
            4.0,
            Amf0Value::Null,
            vec![Amf0Value::string("s")],
        )
        .payload,
    );
    let Message::Command(c) = Message::decode(&raw(17, &p17)).unwrap() else {
        panic!()
    };
    assert!(c.amf3 && c.name == "play" && c.transaction_id == 4.0);
    // Not a command.
    assert!(matches!(
        Message::decode(&raw(20, &[0, 0, 0, 0, 0, 0, 0, 0, 0])).unwrap_err(),
        MessageError::NoCommandName { .. }
    ));
    assert!(matches!(
        Message::decode(&raw(20, &[])).unwrap_err(),
        MessageError::Amf0 { .. }
    ));
}

/// Builds an aggregate payload from (type, ts, body) parts.
fn aggregate(parts: &[(u8, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (t, ts, body) in parts {
        out.push(*t);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&ts.to_be_bytes()[1..]);
        out.push((ts >> 24) as u8);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(body);
        out.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
    }
    out
}

#[test]
fn aggregates_split_into_rebased_parts() {
    let payload = aggregate(&[
        (8, 500, b"\xaf\x01a"),
        (9, 520, b"\x27\x01\0\0\0v"),
        (18, 540, b"\x05"),
    ]);
    let mut agg = raw(22, &payload);
    agg.timestamp = 10_000;
    agg.stream_id = 1;
    let Message::Aggregate(parts) = Message::decode(&agg).unwrap() else {
        panic!()
    };
    let summary: Vec<(u8, u32, usize)> = parts
        .iter()
        .map(|p| (p.type_id, p.timestamp, p.payload.len()))
        .collect();
    assert_eq!(summary, [(8, 10_000, 3), (9, 10_020, 6), (18, 10_040, 1)]);
    assert!(parts.iter().all(|p| p.stream_id == 1));
    let truncated = raw(22, &payload[..payload.len() - 3]);
    assert_eq!(
        Message::decode(&truncated).unwrap_err().to_string(),
        "aggregate part 2 at offset 39: declares 1 bytes of data and a 4-byte back pointer, 2 bytes left"
    );
}

#[test]
fn video_headers_legacy_and_enhanced() {
    let v = |p: &'static [u8]| VideoInfo::parse(&Bytes::from_static(p));
    let seq = v(b"\x17\x00\x00\x00\x00\x01\x64");
    assert_eq!(
        (seq.frame_type, seq.codec, seq.packet),
        (1, VideoCodec::Legacy(7), VideoPacket::SequenceHeader)
    );
    assert_eq!(seq.to_string(), "key h264 seq-header 7 B");
    let nalu = v(b"\x27\x01\xff\xff\xd8rest");
    assert_eq!(
        nalu.packet,
        VideoPacket::Coded {
            composition_time: -40
        }
    );
    assert_eq!(nalu.to_string(), "inter h264 cts -40 9 B");
    // Enhanced RTMP: IsExHeader, frame type in bits 4..6, packet type in the low nibble.
    let hevc_seq = v(b"\x90hvc1\x01");
    assert_eq!(
        (hevc_seq.codec, hevc_seq.packet),
        (VideoCodec::FourCc(*b"hvc1"), VideoPacket::SequenceHeader)
    );
    let hevc = v(b"\x91hvc1\x00\x00\x21data");
    assert_eq!(
        hevc.packet,
        VideoPacket::Coded {
            composition_time: 33
        }
    );
    assert!(hevc.is_keyframe());
    let av1 = v(b"\xa1av01data");
    assert_eq!(
        (av1.frame_type, av1.packet),
        (2, VideoPacket::CodedNoCompositionTime)
    );
    let vp9 = v(b"\x93vp09data");
    assert_eq!(
        (vp9.codec.name().as_str(), vp9.packet),
        ("vp09", VideoPacket::CodedNoCompositionTime)
    );
    assert_eq!(v(b"").to_string(), "empty");
    let aac = AudioInfo::parse(&Bytes::from_static(b"\xaf\x00\x12\x10"));
    assert!(aac.is_sequence_header() && aac.stereo && aac.sixteen_bit && aac.rate == 3);
    assert_eq!(aac.to_string(), "aac seq-header 4 B");
    let opus = AudioInfo::parse(&Bytes::from_static(b"\x91Opus"));
    assert_eq!(opus.codec_name(), "Opus");
}

// ----- real peers' bytes -----

fn decoded(stream: &[u8]) -> Vec<(RawMessage, Message)> {
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(stream);
    let mut out = Vec::new();
    while let Some(e) = r.poll().expect("valid stream") {
        if let ReadEvent::Message(m) = e {
            let d = Message::decode(&m).unwrap_or_else(|e| panic!("type {}: {e}", m.type_id));
            out.push((m, d));
        }
    }
    out
}

fn command_of(m: &Message) -> Option<&Command> {
    match m {
        Message::Command(c) => Some(c),
        _ => None,
    }
}

#[test]
fn ffmpeg_connect_from_a_real_capture() {
    let s = crate::test_capture::read("ffmpeg-publish-to-nginx.pcap");
    let client = decoded(&s.client[3073..]);
    let connect = command_of(&client[0].1).expect("connect first");
    assert_eq!(
        (connect.name.as_str(), connect.transaction_id),
        ("connect", 1.0)
    );
    let obj = connect.command_object.as_ref().unwrap();
    assert_eq!(
        obj.get("type").and_then(Amf0Value::as_str),
        Some("nonprivate")
    );
    assert!(obj
        .get("tcUrl")
        .and_then(Amf0Value::as_str)
        .unwrap()
        .starts_with("rtmp://127.0.0.1"));
}

proptest! {
    #[test]
    fn decode_never_panics(type_id in any::<u8>(), payload in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(m) = Message::decode(&raw(type_id, &payload)) {
            let _ = (m.name().to_string(), m.to_string());
        }
    }

    #[test]
    fn built_messages_decode_to_what_was_built(size in any::<u32>(), ts in any::<u32>(), txn in 0u32..1000, name in "[a-zA-Z]{1,12}") {
        prop_assert_eq!(
            Message::decode(&set_chunk_size(size)).unwrap(),
            Message::SetChunkSize { size: size & 0x7FFF_FFFF, reserved_bit: false }
        );
        prop_assert_eq!(
            Message::decode(&user_control(UserControl::PingRequest(ts))).unwrap(),
            Message::UserControl(UserControl::PingRequest(ts))
        );
        let c = command(1, &name, txn as f64, Amf0Value::Null, vec![Amf0Value::string("a")]);
        let Message::Command(c) = Message::decode(&c).unwrap() else { unreachable!() };
        prop_assert_eq!(c.name, name);
        prop_assert_eq!(c.transaction_id, txn as f64);
        prop_assert_eq!(c.arguments, vec![Amf0Value::string("a")]);
    }
}
