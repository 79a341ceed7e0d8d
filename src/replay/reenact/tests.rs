use super::*;
use crate::capture::reassembly::PieceRef;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{ChunkLimits, ChunkWriter, RawMessage, ReadEvent};
use crate::protocol::connection::Side;
use crate::protocol::handshake::{HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::message::{self, Message, UserControl};
use crate::protocol::observe::FlowObserver;
use bytes::{Bytes, BytesMut};
use std::time::Duration;

fn chunked(writer: &mut ChunkWriter, messages: &[RawMessage]) -> Vec<u8> {
    let mut out = BytesMut::new();
    for m in messages {
        writer.write(m, &mut out);
    }
    out.to_vec()
}

fn hello(fill: u8) -> Vec<u8> {
    let mut p = vec![fill; PACKET_LEN];
    p[..8].fill(0);
    p
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A publisher's session as a capture would give it: the captured server assigns stream 1.
fn captured_publisher() -> Script {
    let mut c = ChunkWriter::new();
    let mut s = ChunkWriter::new();
    let connect = message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([("app", Amf0Value::string("live"))]),
        vec![],
    );
    let create = message::command(0, "createStream", 2.0, Amf0Value::Null, vec![]);
    let publish = message::command(
        1,
        "publish",
        3.0,
        Amf0Value::Null,
        vec![Amf0Value::string("key"), Amf0Value::string("live")],
    );
    let video = RawMessage {
        csid: 6,
        timestamp: 0,
        type_id: 9,
        stream_id: 1,
        payload: Bytes::from_static(&[0x17, 1, 0, 0, 0, 9, 9]),
    };
    let buffer = message::user_control(UserControl::SetBufferLength {
        stream_id: 1,
        millis: 100,
    });
    let delete = message::command(
        0,
        "deleteStream",
        4.0,
        Amf0Value::Null,
        vec![Amf0Value::Number(1.0)],
    );
    let s1 = hello(0xaa);
    let mut b = ScriptBuilder::new(1);
    let client = |b: &mut ScriptBuilder, t, bytes: Vec<u8>| {
        b.piece(
            0,
            PieceRef::Data {
                time: ms(t),
                frame: 0,
                bytes: &Bytes::from(bytes),
            },
        )
    };
    let server = |b: &mut ScriptBuilder, t, bytes: Vec<u8>| {
        b.piece(
            1,
            PieceRef::Data {
                time: ms(t),
                frame: 0,
                bytes: &Bytes::from(bytes),
            },
        )
    };
    let mut c0c1 = vec![3];
    c0c1.extend(hello(0x11));
    client(&mut b, 0, c0c1);
    let mut s0s1s2 = vec![3];
    s0s1s2.extend(&s1);
    s0s1s2.extend(hello(0x11));
    server(&mut b, 1, s0s1s2);
    let mut c2 = s1.clone();
    c2.extend(chunked(&mut c, &[connect]));
    client(&mut b, 2, c2);
    server(&mut b, 3, chunked(&mut s, &[message::connect_result(1.0)]));
    client(&mut b, 13, chunked(&mut c, &[create]));
    server(
        &mut b,
        14,
        chunked(
            &mut s,
            &[message::command(
                0,
                "_result",
                2.0,
                Amf0Value::Null,
                vec![Amf0Value::Number(1.0)],
            )],
        ),
    );
    client(&mut b, 15, chunked(&mut c, &[publish]));
    server(
        &mut b,
        16,
        chunked(
            &mut s,
            &[message::on_status(
                1,
                "status",
                "NetStream.Publish.Start",
                "go",
            )],
        ),
    );
    client(&mut b, 20, chunked(&mut c, &[video, buffer, delete]));
    b.finish().expect("a script")
}

/// Every message in a client byte stream after the handshake.
fn messages(stream: &[u8]) -> Vec<RawMessage> {
    let mut client = FlowObserver::new(ChunkLimits::default());
    client.feed(Side::Client, stream);
    let mut out = Vec::new();
    while let Some(e) = client.poll_chunk(Side::Client).expect("well-formed") {
        if let ReadEvent::Message(m) = e {
            out.push(m);
        }
    }
    out
}

#[test]
fn the_script_keeps_writes_think_times_waits_and_stream_id_sites() {
    let script = captured_publisher();
    assert_eq!(script.writes.len(), 5);
    let w = &script.writes;
    assert_eq!((w[0].server_handshake, w[0].replies), (0, 0));
    assert_eq!((w[1].server_handshake, w[1].replies), (HANDSHAKE_LEN, 0));
    // createStream came 10 ms after the connect _result: that is the client's think time.
    assert_eq!((w[2].think, w[2].replies), (ms(10), 1));
    assert_eq!(w[3].replies, 2);
    assert_eq!(
        script
            .replies
            .iter()
            .map(|r| r.0.as_str())
            .collect::<Vec<_>>(),
        [
            "_result #1",
            "_result #2",
            "onStatus NetStream.Publish.Start"
        ]
    );
    assert_eq!(
        script.c2_answer,
        Some(crate::protocol::handshake::C2Answer::Echo)
    );
    assert_eq!(script.create_streams.get(&2.0f64.to_bits()), Some(&1));
    let kinds: Vec<_> = script.sites.iter().map(|s| s.encoding).collect();
    // publish and video headers, SetBufferLength's stream id, deleteStream's argument.
    assert_eq!(
        kinds,
        [
            Encoding::U32Le,
            Encoding::U32Le,
            Encoding::U32Be,
            Encoding::Amf0Number
        ]
    );
    assert!(script.sites.iter().all(|s| s.captured == 1));
}

#[test]
fn a_live_server_that_assigns_another_stream_id_gets_it_everywhere_and_a_fresh_c2() {
    let mut session = Reenactment::new(captured_publisher(), RandomSource::seeded(1));
    let mut sent = Vec::new();
    let Next::Send { bytes, .. } = session.poll_write() else {
        panic!("C0+C1 needs nothing from the server")
    };
    sent.extend(bytes);
    assert!(
        matches!(session.poll_write(), Next::Wait { .. }),
        "C2 waits for S1"
    );
    let live_s1 = hello(0x5c);
    let mut live = vec![3];
    live.extend(&live_s1);
    live.extend(hello(0x11));
    session.server_bytes(&live);
    let Next::Send { bytes, .. } = session.poll_write() else {
        panic!("the handshake is in")
    };
    sent.extend(bytes);
    assert_eq!(
        &sent[1 + PACKET_LEN..HANDSHAKE_LEN],
        &live_s1[..],
        "C2 echoes the live S1"
    );

    let mut w = ChunkWriter::new();
    match session.poll_write() {
        Next::Wait { missing } => assert_eq!(missing, ["_result #1"]),
        other => panic!("createStream waits for connect's _result: {other:?}"),
    }
    session.server_bytes(&chunked(&mut w, &[message::connect_result(1.0)]));
    let Next::Send { bytes, think } = session.poll_write() else {
        panic!("connect answered")
    };
    assert_eq!(think, ms(10));
    sent.extend(bytes);
    session.server_bytes(&chunked(
        &mut w,
        &[message::command(
            0,
            "_result",
            2.0,
            Amf0Value::Null,
            vec![Amf0Value::Number(7.0)],
        )],
    ));
    let Next::Send { bytes, .. } = session.poll_write() else {
        panic!("createStream answered")
    };
    sent.extend(bytes);
    // The live server never says Publish.Start: waived, and the client goes on.
    assert!(matches!(session.poll_write(), Next::Wait { .. }));
    assert_eq!(
        session.waive().unwrap(),
        ["onStatus NetStream.Publish.Start"]
    );
    let Next::Send { bytes, .. } = session.poll_write() else {
        panic!("waived")
    };
    sent.extend(bytes);
    assert_eq!(session.poll_write(), Next::Done);
    assert_eq!(session.progress(), (5, 5));

    let sent_messages = messages(&sent);
    let ids: Vec<u32> = sent_messages.iter().map(|m| m.stream_id).collect();
    assert_eq!(ids, [0, 0, 7, 7, 0, 0]);
    match Message::decode(&sent_messages[4]).unwrap() {
        Message::UserControl(UserControl::SetBufferLength { stream_id, .. }) => {
            assert_eq!(stream_id, 7)
        }
        other => panic!("{other:?}"),
    }
    match Message::decode(&sent_messages[5]).unwrap() {
        Message::Command(c) => assert_eq!(c.arguments, [Amf0Value::Number(7.0)]),
        other => panic!("{other:?}"),
    }
    assert!(session
        .notes()
        .iter()
        .any(|n| n.contains("gave stream 1, the live one 7")));
}

#[test]
fn a_server_that_never_completes_the_handshake_cannot_be_waived() {
    let mut session = Reenactment::new(captured_publisher(), RandomSource::seeded(1));
    assert!(matches!(session.poll_write(), Next::Send { .. }));
    session.server_bytes(&[3; 100]);
    assert!(matches!(session.poll_write(), Next::Wait { .. }));
    assert_eq!(
        session.waive().unwrap_err().to_string(),
        "the live server sent 100 of the 3073 handshake bytes the captured client had received before its next write"
    );
}

#[test]
fn a_gap_in_the_clients_bytes_ends_the_script_there_and_a_foreign_client_is_refused() {
    let mut b = ScriptBuilder::new(4);
    b.piece(
        0,
        PieceRef::Data {
            time: ms(0),
            frame: 0,
            bytes: &Bytes::from(vec![3; 1537]),
        },
    );
    b.piece(
        0,
        PieceRef::Gap {
            offset: 1537,
            len: 10,
        },
    );
    b.piece(
        0,
        PieceRef::Data {
            time: ms(1),
            frame: 0,
            bytes: &Bytes::from(vec![0; 10]),
        },
    );
    let script = b.finish().unwrap();
    assert_eq!(script.len(), 1537);
    assert!(script.ends_early.is_some());

    let mut b = ScriptBuilder::new(2);
    b.piece(
        0,
        PieceRef::Data {
            time: ms(0),
            frame: 0,
            bytes: &Bytes::from_static(b"GET / HTTP/1.1\r\n"),
        },
    );
    assert_eq!(b.finish().unwrap_err(), ScriptError::NotRtmp(b'G'));
    assert_eq!(
        ScriptBuilder::new(3).finish().unwrap_err(),
        ScriptError::Empty
    );
}

#[test]
fn speed_is_a_positive_factor_or_max() {
    assert_eq!(Speed::parse("max"), Ok(Speed::Max));
    assert_eq!(Speed::parse("2"), Ok(Speed::Scale(2.0)));
    assert_eq!(Speed::Scale(2.0).scale(ms(10)), ms(5));
    // A scale no parser would give still gives a pause, not a panic.
    assert_eq!(Speed::Scale(1e-300).scale(ms(10)), Duration::MAX);
    assert!(Speed::parse("1e-300")
        .unwrap_err()
        .contains("from 0.001 to"));
    for bad in ["0", "-1", "fast", "NaN", "inf"] {
        assert!(Speed::parse(bad).is_err(), "{bad}");
    }
}
