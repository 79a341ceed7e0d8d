//! The session driven by hand: a client's bytes in, the server's writes, events and actions
//! out. (One file past 600 lines: every test drives the session through the helpers at its top.)

use super::*;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{ChunkReader, ChunkWriter, ReadEvent};
use crate::protocol::connection::Timeout;
use crate::protocol::handshake::{ClientConfig, Handshake, Transmit};
use crate::serve::personality::by_name;
use crate::transcript::DiagnosticId;
use bytes::BytesMut;

pub(super) fn session(personality: &str) -> ServerSession {
    let config = SessionConfig {
        personality: by_name(personality).expect("personality"),
        ..SessionConfig::default()
    };
    ServerSession::new(config, RandomSource::seeded(1))
}

/// A simple client's C0, C1 (after construction) and a way to make C2.
pub(super) fn client() -> (Handshake, Vec<u8>, Vec<u8>) {
    let mut c = Handshake::client(ClientConfig::default(), RandomSource::seeded(2));
    let t: Vec<Transmit> = std::iter::from_fn(|| c.poll_transmit()).collect();
    (c, t[0].bytes.to_vec(), t[1].bytes.to_vec())
}

/// One read from the client, as the driver hands it over.
pub(super) fn client_read(s: &mut ServerSession, now_us: u64, bytes: &[u8]) {
    s.handle_read(now_us, Bytes::copy_from_slice(bytes));
}

/// Everything the session has to write, each write taken as soon as it may go: at the
/// session's time, or when a personality's pause before it has passed.
pub(super) fn writes(s: &mut ServerSession) -> Vec<Bytes> {
    let mut out = Vec::new();
    loop {
        let now = s.now_us.max(s.next_transmit_at_us().unwrap_or(0));
        match s.poll_transmit(now) {
            Some(bytes) => out.push(bytes),
            None if s.next_transmit_at_us().is_some() => continue,
            None => return out,
        }
    }
}

fn sizes(w: &[Bytes]) -> Vec<usize> {
    w.iter().map(Bytes::len).collect()
}

pub(super) fn events(s: &mut ServerSession) -> Vec<EventKind> {
    std::iter::from_fn(|| s.poll_event())
        .map(|(_, e)| e)
        .collect()
}

pub(super) fn diagnostic_ids(events: &[EventKind]) -> Vec<DiagnosticId> {
    events
        .iter()
        .filter_map(|e| match e {
            EventKind::Diagnostic { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// Completes the handshake and returns the session with its output drained.
pub(super) fn established(personality: &str) -> ServerSession {
    established_with(SessionConfig {
        personality: by_name(personality).expect("personality"),
        ..SessionConfig::default()
    })
}

/// [`established`] for a session made with `config`.
pub(super) fn established_with(config: SessionConfig) -> ServerSession {
    let mut s = ServerSession::new(config, RandomSource::seeded(1));
    let (mut c, c0, c1) = client();
    client_read(&mut s, 0, &[c0, c1].concat());
    let answer: Vec<u8> = writes(&mut s).concat();
    c.feed(&answer).unwrap();
    let c2 = c.poll_transmit().unwrap().bytes;
    client_read(&mut s, 10, &c2);
    writes(&mut s);
    events(&mut s);
    assert!(!s.in_handshake());
    s
}

/// A client's connect to application "live", as the encoders send it.
pub(super) fn connect_to_live() -> RawMessage {
    message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([("app", Amf0Value::string("live"))]),
        vec![],
    )
}

#[test]
fn personalities_group_and_time_their_handshake_writes() {
    // (personality, writes after C0 alone, writes after C1, writes after C2)
    type Case = (
        &'static str,
        &'static [usize],
        &'static [usize],
        &'static [usize],
    );
    let cases: [Case; 7] = [
        ("reference", &[], &[3073], &[]),
        ("ffmpeg", &[1], &[1536, 1536], &[]),
        ("nginx", &[], &[1537, 1536], &[]),
        ("twitch", &[], &[1, 1536, 1536], &[]),
        ("s0-after-c1", &[], &[1, 1536, 1536], &[]),
        ("wait-c2", &[], &[1537], &[1536]),
        ("joy4-zero-s2", &[], &[3073], &[]),
    ];
    for (name, after_c0, after_c1, after_c2) in cases {
        let mut s = session(name);
        let (mut c, c0, c1) = client();
        client_read(&mut s, 0, &c0);
        assert_eq!(sizes(&writes(&mut s)), after_c0, "{name} after C0");
        client_read(&mut s, 1, &c1);
        let w = writes(&mut s);
        assert_eq!(sizes(&w), after_c1, "{name} after C1");
        c.feed(&w.concat()).unwrap();
        if let Some(c2) = c.poll_transmit() {
            client_read(&mut s, 2, &c2.bytes);
        }
        let w = writes(&mut s);
        assert_eq!(sizes(&w), after_c2, "{name} after C2");
        assert!(!s.in_handshake(), "{name} completes");
    }
}

#[test]
fn joy4_sends_a_zero_s2_and_the_client_notices() {
    let mut s = session("joy4-zero-s2");
    let (mut c, c0, c1) = client();
    client_read(&mut s, 0, &[c0, c1].concat());
    let w = writes(&mut s).concat();
    assert!(w[1 + 1536..].iter().all(|&b| b == 0));
    c.feed(&w).unwrap();
    let ids: Vec<_> = std::iter::from_fn(|| c.poll_event())
        .map(|e| DiagnosticId::from(&e))
        .collect();
    assert!(ids.contains(&DiagnosticId::HsS2Zero));
}

#[test]
fn strict_c2_closes_on_a_c2_that_does_not_echo() {
    let mut s = session("strict-c2");
    let (_, c0, c1) = client();
    client_read(&mut s, 0, &[c0, c1].concat());
    writes(&mut s);
    client_read(&mut s, 1, &[0x55; 1536]);
    assert_eq!(s.close_reason(), Some(&CloseCause::C2NotEcho));
    assert!(diagnostic_ids(&events(&mut s)).contains(&DiagnosticId::HsC2NotEchoStrict));
    // The reference server only reports it.
    let mut s = session("reference");
    let (_, c0, c1) = client();
    client_read(&mut s, 0, &[c0, c1].concat());
    client_read(&mut s, 1, &[0x55; 1536]);
    assert!(s.close_reason().is_none() && !s.in_handshake());
}

#[test]
fn a_foreign_protocol_is_named_and_closed() {
    let mut s = session("reference");
    client_read(&mut s, 0, b"GET / HTTP/1.1\r\n");
    let reason = s.close_reason().unwrap();
    assert!(
        matches!(reason, CloseCause::HandshakeFailed(e) if e.contains("HTTP request")),
        "{reason}"
    );
    assert!(writes(&mut s).is_empty());
    let ev = events(&mut s);
    assert!(diagnostic_ids(&ev).contains(&DiagnosticId::HsFailed));
}

/// Chunks `messages` as a client would (chunk size 128).
pub(super) fn chunks(messages: &[RawMessage]) -> Vec<u8> {
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    for m in messages {
        w.write(m, &mut out);
    }
    out.to_vec()
}

pub(super) fn server_messages(bytes: &[Bytes]) -> Vec<Message> {
    // As large a chunk size as the server may announce (chunk-size-huge).
    let mut r = ChunkReader::new(ChunkLimits {
        max_chunk_size: 0x7FFF_FFFF,
        ..ChunkLimits::default()
    });
    for b in bytes {
        r.feed(b);
    }
    let mut out = Vec::new();
    while let Ok(Some(e)) = r.poll() {
        if let ReadEvent::Message(m) = e {
            out.push(Message::decode(&m).unwrap());
        }
    }
    out
}

pub(super) fn cmd(stream_id: u32, name: &str, txn: f64, args: Vec<Amf0Value>) -> RawMessage {
    message::command(stream_id, name, txn, Amf0Value::Null, args)
}

#[test]
fn a_publish_session_gets_the_answers_encoders_wait_for() {
    let mut s = established("reference");
    let connect = connect_to_live();
    client_read(
        &mut s,
        20,
        &chunks(&[
            connect,
            cmd(0, "releaseStream", 2.0, vec![Amf0Value::string("key")]),
            cmd(0, "FCPublish", 3.0, vec![Amf0Value::string("key")]),
            cmd(0, "createStream", 4.0, vec![]),
        ]),
    );
    let answers = server_messages(&writes(&mut s));
    let names: Vec<&str> = answers.iter().map(Message::name).collect();
    assert_eq!(
        names,
        [
            "Window Acknowledgement Size",
            "Set Peer Bandwidth",
            "Set Chunk Size",
            "_result",
            "_result",
            "onFCPublish",
            "_result",
            "_result"
        ]
    );
    let Message::Command(created) = &answers[7] else {
        panic!()
    };
    assert_eq!(created.arguments, vec![Amf0Value::Number(1.0)]);

    let mut publish = cmd(
        1,
        "publish",
        5.0,
        vec![Amf0Value::string("key"), Amf0Value::string("live")],
    );
    publish.csid = 8;
    client_read(&mut s, 30, &chunks(&[publish]));
    assert_eq!(
        s.poll_action(),
        Some(Action::Publish {
            name: "key".into(),
            stream_id: 1
        })
    );
    s.publish_result(1, true);
    // The server now writes at chunk size 4096: read with a reader that learnt it.
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&chunks(&[message::set_chunk_size(4096)]));
    let w = writes(&mut s);
    for b in &w {
        r.feed(b);
    }
    let mut codes = Vec::new();
    while let Ok(Some(e)) = r.poll() {
        if let ReadEvent::Message(m) = e {
            if let Ok(Message::Command(c)) = Message::decode(&m) {
                codes.push(
                    c.arguments[0]
                        .get("code")
                        .and_then(Amf0Value::as_str)
                        .map(str::to_string),
                );
            }
        }
    }
    assert_eq!(codes, [Some("NetStream.Publish.Start".to_string())]);

    let video = RawMessage {
        csid: 6,
        timestamp: 0,
        type_id: 9,
        stream_id: 1,
        payload: Bytes::from_static(b"\x17\x01\0\0\0frame"),
    };
    client_read(&mut s, 40, &chunks(std::slice::from_ref(&video)));
    assert!(matches!(s.poll_action(), Some(Action::Media { .. })));
    client_read(
        &mut s,
        50,
        &chunks(&[cmd(0, "FCUnpublish", 6.0, vec![Amf0Value::string("key")])]),
    );
    assert_eq!(
        s.poll_action(),
        Some(Action::Unpublish { name: "key".into() })
    );
    let summary = events(&mut s).into_iter().find_map(|e| match e {
        EventKind::MediaSummary { media, .. } => Some(media.to_string()),
        _ => None,
    });
    assert!(summary.unwrap().contains("h264 1 frames (1 key"));
}

#[test]
fn a_taken_name_is_refused_and_an_empty_publish_stops() {
    let mut s = established("reference");
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    client_read(
        &mut s,
        2,
        &chunks(&[cmd(1, "publish", 3.0, vec![Amf0Value::string("k")])]),
    );
    assert!(matches!(s.poll_action(), Some(Action::Publish { .. })));
    s.publish_result(1, false);
    assert!(diagnostic_ids(&events(&mut s)).contains(&DiagnosticId::CmdPublishBadName));
    // Wirecast's way of stopping.
    client_read(
        &mut s,
        3,
        &chunks(&[cmd(1, "publish", 4.0, vec![Amf0Value::string("")])]),
    );
    assert!(diagnostic_ids(&events(&mut s)).contains(&DiagnosticId::CmdPublishEmptyName));
}

#[test]
fn bytes_right_after_c2_are_read_as_chunks() {
    let mut s = session("reference");
    let (mut c, c0, c1) = client();
    client_read(&mut s, 0, &[c0, c1].concat());
    c.feed(&writes(&mut s).concat()).unwrap();
    let mut c2_and_connect = c.poll_transmit().unwrap().bytes.to_vec();
    c2_and_connect.extend(chunks(&[message::command(
        0,
        "connect",
        1.0,
        Amf0Value::Null,
        vec![],
    )]));
    client_read(&mut s, 1, &c2_and_connect);
    let answers = server_messages(&writes(&mut s));
    assert!(answers.iter().any(|m| m.name() == "_result"));
}

#[test]
fn a_player_is_told_when_its_publisher_stops() {
    let mut s = established("reference");
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    client_read(
        &mut s,
        2,
        &chunks(&[cmd(1, "play", 3.0, vec![Amf0Value::string("k")])]),
    );
    assert_eq!(
        s.poll_action(),
        Some(Action::Play {
            name: "k".into(),
            stream_id: 1
        })
    );
    s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
    writes(&mut s);
    assert!(diagnostic_ids(&events(&mut s)).contains(&DiagnosticId::PlayWaiting));
    s.stream_ended(3);
    // What the session sends goes into the transcript as it is written.
    writes(&mut s);
    let summaries: Vec<String> = events(&mut s)
        .into_iter()
        .filter_map(|e| match e {
            EventKind::Message(m) => Some(m.summary()),
            _ => None,
        })
        .collect();
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0], "User Control StreamEOF 1");
    assert!(
        summaries[1].contains("NetStream.Play.UnpublishNotify"),
        "{summaries:?}"
    );
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever a client sends after a good handshake, in whatever reads, the session never
        /// panics and either goes on or closes with a reason.
        #[test]
        fn arbitrary_client_bytes_never_panic_the_session(
            reads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..12),
            personality in proptest::sample::select(vec![
                "reference", "ffmpeg", "strict-c2", "wait-c2", "window-ack-tiny-strict",
                "play-stream-not-found", "publish-bad-name", "publish-status-missing",
                "play-status-missing",
            ]),
        ) {
            let mut s = established(personality);
            for (i, r) in reads.iter().enumerate() {
                client_read(&mut s, 100 + i as u64, r);
                writes(&mut s);
                while s.poll_event().is_some() {}
                while let Some(action) = s.poll_action() {
                    if let Action::Publish { stream_id, .. } = action {
                        s.publish_result(stream_id, i % 2 == 0);
                    }
                }
            }
            s.handle_eof(10_000);
            prop_assert!(s.close_reason().is_some());
        }

        /// Arbitrary bytes from the very first byte: a handshake error is named, never a panic.
        #[test]
        fn arbitrary_bytes_from_the_start(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
            let mut s = session("reference");
            client_read(&mut s, 0, &bytes);
            writes(&mut s);
            while s.poll_event().is_some() {}
        }
    }
}

#[test]
fn the_handshake_timeout_counts_from_the_start_of_the_connection() {
    let mut s = session("reference");
    client_read(&mut s, 4_000_000, &[3]);
    assert_eq!(s.deadline_us(), Some(10_000_000));
    s.handle_timer(9_999_999);
    assert!(s.close_reason().is_none());
    s.handle_timer(10_000_000);
    assert_eq!(
        s.close_reason(),
        Some(&CloseCause::Timeout(Timeout::Handshake(
            Duration::from_secs(10)
        )))
    );
    assert_eq!(
        s.close_reason().unwrap().to_string(),
        "handshake timeout (10 s)"
    );
    assert_eq!(s.deadline_us(), None);
}

#[test]
fn the_idle_timeout_counts_from_the_last_activity() {
    let mut s = established("reference");
    client_read(
        &mut s,
        1_000_000,
        &chunks(&[cmd(0, "createStream", 2.0, vec![])]),
    );
    assert_eq!(s.deadline_us(), Some(31_000_000));
    s.handle_timer(30_999_999);
    assert!(s.close_reason().is_none());
    // Media reaching a player is activity too, as the driver's loop has always counted it.
    s.stream_ended(20_000_000);
    s.handle_timer(31_000_000);
    assert!(s.close_reason().is_none());
    s.handle_timer(50_000_000);
    assert_eq!(
        s.close_reason(),
        Some(&CloseCause::Timeout(Timeout::Idle(Duration::from_secs(30))))
    );
}

fn video(stream_id: u32) -> RawMessage {
    RawMessage {
        csid: 6,
        timestamp: 0,
        type_id: 9,
        stream_id,
        payload: Bytes::from_static(&[0x17, 0, 0, 0, 0]),
    }
}

/// Found by the session fuzz target: a publish and a chunk stream error in one read left the
/// Publish action queued; the driver then claimed the name for a closed connection, for good.
#[test]
fn a_publish_the_connection_no_longer_makes_is_withdrawn() {
    let mut s = established("reference");
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    let mut read = chunks(&[
        cmd(1, "publish", 3.0, vec![Amf0Value::string("k")]),
        video(1),
    ]);
    // Set Chunk Size 0, which frames nothing: a chunk stream error, and the close (a type-1
    // header opening a chunk stream was one until the server read it from zeroed state).
    read.extend_from_slice(&[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    client_read(&mut s, 2, &read);
    assert!(s.close_reason().is_some());
    let actions: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    assert_eq!(actions, vec![], "nothing left for the hub to do");
    // The same when the client publishes another name before the first was answered.
    let mut s = established("reference");
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    client_read(
        &mut s,
        2,
        &chunks(&[
            cmd(1, "publish", 3.0, vec![Amf0Value::string("a")]),
            cmd(1, "publish", 4.0, vec![Amf0Value::string("b")]),
        ]),
    );
    let actions: Vec<Action> = std::iter::from_fn(|| s.poll_action()).collect();
    assert_eq!(
        actions,
        vec![Action::Publish {
            name: "b".into(),
            stream_id: 1
        }]
    );
}

#[test]
fn media_sent_with_a_refused_publish_reaches_no_one() {
    let mut s = established("reference");
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    client_read(
        &mut s,
        2,
        &chunks(&[
            cmd(1, "publish", 3.0, vec![Amf0Value::string("taken")]),
            video(1),
        ]),
    );
    assert!(matches!(s.poll_action(), Some(Action::Publish { .. })));
    s.publish_result(1, false);
    assert_eq!(s.poll_action(), None);
}

#[test]
fn a_closed_player_gets_nothing_more() {
    let mut s = established("reference");
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    client_read(
        &mut s,
        2,
        &chunks(&[cmd(1, "play", 3.0, vec![Amf0Value::string("k")])]),
    );
    s.handle_eof(3);
    writes(&mut s);
    events(&mut s);
    s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
    s.send_media(4, &video(1));
    s.stream_ended(5);
    assert!(writes(&mut s).is_empty());
    assert!(events(&mut s).is_empty());
}

/// The names of what the server answers to connect, releaseStream, FCPublish and createStream.
fn publish_preamble_answers(personality: &str) -> Vec<Message> {
    let mut s = established(personality);
    let connect = connect_to_live();
    client_read(
        &mut s,
        20,
        &chunks(&[
            connect,
            cmd(0, "releaseStream", 2.0, vec![Amf0Value::string("key")]),
            cmd(0, "FCPublish", 3.0, vec![Amf0Value::string("key")]),
            cmd(0, "createStream", 4.0, vec![]),
        ]),
    );
    server_messages(&writes(&mut s))
}

#[test]
fn personalities_vary_the_answers_after_connect() {
    let names = |p: &str| -> Vec<String> {
        publish_preamble_answers(p)
            .iter()
            .map(|m| m.name().to_string())
            .collect()
    };
    let control = [
        "Window Acknowledgement Size",
        "Set Peer Bandwidth",
        "Set Chunk Size",
        "_result",
    ];
    assert_eq!(
        names("chunk-size-after-result")[2..4],
        ["_result", "Set Chunk Size"]
    );
    assert_eq!(names("release-fcpublish-error")[..4], control);
    assert_eq!(
        names("release-fcpublish-error")[4..],
        ["_error", "_error", "_result"]
    );
    assert_eq!(names("release-fcpublish-silent")[4..], ["_result"]);
    // The huge size is announced as is, and what follows is read at that size.
    let huge = publish_preamble_answers("chunk-size-huge");
    assert!(
        matches!(
            huge.get(2),
            Some(Message::SetChunkSize {
                size: 0x7FFF_FFFF,
                ..
            })
        ),
        "{huge:?}"
    );
    assert_eq!(huge.len(), control.len() + 4, "{huge:?}");
    assert!(
        matches!(
            publish_preamble_answers("abort-unknown-csid").get(4),
            Some(Message::Abort { csid: 9 })
        ),
        "abort-unknown-csid"
    );
    let result = |p: &str| match publish_preamble_answers(p).remove(3) {
        Message::Command(c) => c,
        other => panic!("{p}: {other:?}"),
    };
    assert_eq!(
        result("result-no-properties").command_object,
        Some(Amf0Value::Null)
    );
    let extra = result("result-extra-fields");
    assert!(extra.command_object.unwrap().get("mode").is_some());
    assert!(extra.arguments[0].get("data").is_some());
}

/// The onStatus codes and levels among `messages`, in order.
fn statuses(messages: &[Message]) -> Vec<(String, String)> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Command(c) if c.name == "onStatus" => {
                let field = |k: &str| {
                    c.arguments[0]
                        .get(k)
                        .and_then(Amf0Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                Some((field("level"), field("code")))
            }
            _ => None,
        })
        .collect()
}

/// A session under `personality` after connect and createStream, the client having asked to
/// play "k"; the server's writes so far.
pub(super) fn playing(personality: &str) -> (ServerSession, Vec<Bytes>) {
    let mut s = established(personality);
    let connect = connect_to_live();
    client_read(
        &mut s,
        20,
        &chunks(&[connect, cmd(0, "createStream", 2.0, vec![])]),
    );
    client_read(
        &mut s,
        30,
        &chunks(&[cmd(1, "play", 3.0, vec![Amf0Value::string("k")])]),
    );
    assert!(matches!(s.poll_action(), Some(Action::Play { .. })));
    let before = writes(&mut s);
    (s, before)
}

#[test]
fn play_is_answered_with_reset_first_or_stream_not_found() {
    // The reference answers play as Flash Media Server 5 does: Reset, then Start.
    let (mut s, mut w) = playing("reference");
    s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
    w.extend(writes(&mut s));
    assert_eq!(
        statuses(&server_messages(&w)),
        [
            ("status".into(), "NetStream.Play.Reset".into()),
            ("status".into(), "NetStream.Play.Start".into())
        ]
    );
    let (mut s, mut w) = playing("play-stream-not-found");
    s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
    w.extend(writes(&mut s));
    let answers = server_messages(&w);
    assert_eq!(
        statuses(&answers),
        [("error".into(), "NetStream.Play.StreamNotFound".into())]
    );
    assert!(
        !answers.iter().any(|m| m.name().contains("User Control")),
        "no StreamBegin for a stream not found: {answers:?}"
    );
    assert!(
        matches!(s.close_reason(), Some(CloseCause::StreamNotFound { personality }) if personality == "play-stream-not-found"),
        "{:?}",
        s.close_reason()
    );
}

/// A session under `personality` whose client, after createStream, has just asked to publish
/// "k"; what the server wrote and reported before the publish is read and dropped.
fn asking_to_publish(personality: &str) -> ServerSession {
    let mut s = established(personality);
    client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
    writes(&mut s);
    events(&mut s);
    client_read(
        &mut s,
        2,
        &chunks(&[cmd(1, "publish", 3.0, vec![Amf0Value::string("k")])]),
    );
    s
}

#[test]
fn publish_bad_name_refuses_every_publish_without_claiming_the_name() {
    let mut s = asking_to_publish("publish-bad-name");
    assert_eq!(s.poll_action(), None, "the hub is not asked for the name");
    assert_eq!(
        statuses(&server_messages(&writes(&mut s))),
        [("error".into(), "NetStream.Publish.BadName".into())]
    );
    assert!(diagnostic_ids(&events(&mut s)).contains(&DiagnosticId::CmdPublishBadName));
    assert!(s.close_reason().is_none(), "the connection stays open");
}

#[test]
fn publish_status_missing_publishes_the_stream_without_telling_the_publisher() {
    let mut s = asking_to_publish("publish-status-missing");
    assert_eq!(
        s.poll_action(),
        Some(Action::Publish {
            name: "k".into(),
            stream_id: 1
        }),
        "the name is claimed on the server side"
    );
    s.publish_result(1, true);
    let answers = server_messages(&writes(&mut s));
    assert_eq!(statuses(&answers), [], "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|m| matches!(m, Message::UserControl(UserControl::StreamBegin(1)))),
        "StreamBegin still goes: {answers:?}"
    );
    // Media the encoder sends anyway is the stream's.
    client_read(&mut s, 3, &chunks(&[video(1)]));
    assert!(matches!(s.poll_action(), Some(Action::Media { .. })));
    assert!(s.close_reason().is_none());
}

#[test]
fn play_status_missing_sends_stream_begin_and_media_but_no_status() {
    let (mut s, mut w) = playing("play-status-missing");
    let media = video(1);
    s.play_started(1, Some([&media].into_iter()));
    w.extend(writes(&mut s));
    let answers = server_messages(&w);
    assert_eq!(statuses(&answers), [], "{answers:?}");
    assert!(
        answers
            .iter()
            .any(|m| matches!(m, Message::UserControl(UserControl::StreamBegin(1)))),
        "{answers:?}"
    );
    assert!(
        answers.iter().any(|m| matches!(m, Message::Video(_))),
        "the stream's media is relayed: {answers:?}"
    );
    assert!(
        !answers.iter().any(|m| m.name().contains("SampleAccess")),
        "{answers:?}"
    );
}

#[test]
fn window_ack_tiny_strict_withholds_a_players_media_until_acknowledged() {
    // A publisher gets everything it waits for without acknowledging.
    let answers = publish_preamble_answers("window-ack-tiny-strict");
    assert!(
        matches!(answers[0], Message::WindowAckSize(512)),
        "{answers:?}"
    );
    assert!(
        matches!(
            answers[1],
            Message::SetPeerBandwidth {
                size: 2_500_000,
                ..
            }
        ),
        "{answers:?}"
    );
    assert_eq!(
        answers.last().map(Message::name),
        Some("_result"),
        "{answers:?}"
    );
    assert_eq!(answers.len(), 8, "{answers:?}");

    // A player: Play.Start goes out, the media past the window waits.
    let (mut s, mut w) = playing("window-ack-tiny-strict");
    let media: Vec<RawMessage> = (0..10).map(|_| video(0)).collect();
    s.play_started(1, Some(media.iter()));
    w.extend(writes(&mut s));
    let got = server_messages(&w);
    assert_eq!(
        statuses(&got).len(),
        2,
        "Play.Reset and Play.Start: {got:?}"
    );
    let videos = |m: &[Message]| m.iter().filter(|m| matches!(m, Message::Video(_))).count();
    assert!(
        videos(&got) < 10,
        "{} of 10 video messages sent unacknowledged",
        videos(&got)
    );
    assert!(diagnostic_ids(&events(&mut s)).contains(&DiagnosticId::AckOutputWithheld));

    // An Acknowledgement of everything so far lets more go.
    let sent: usize = w.iter().map(Bytes::len).sum();
    assert_eq!(s.connection.output_backlog().sent, sent as u64);
    client_read(
        &mut s,
        40,
        &chunks(&[message::acknowledgement(sent as u32)]),
    );
    w.extend(writes(&mut s));
    let all = server_messages(&w);
    assert!(
        videos(&all) > videos(&got),
        "an acknowledgement released nothing"
    );

    // More media than the window holds, then silence: the session closes after the idle
    // timeout and says why.
    // (Each is 6 bytes on the wire: a one-byte type-3 header and 5 bytes of payload.)
    for _ in 0..200 {
        s.send_media(50, &video(0));
    }
    assert!(s.connection.output_backlog().withheld_messages > 0);
    let deadline = s.deadline_us().expect("a deadline");
    assert!(deadline <= 50 + 30_000_000, "{deadline}");
    s.handle_timer(deadline);
    let ids = diagnostic_ids(&events(&mut s));
    assert!(ids.contains(&DiagnosticId::AckStalled), "{ids:?}");
    assert!(
        matches!(
            s.close_reason(),
            Some(CloseCause::Timeout(Timeout::Unacknowledged(_)))
        ),
        "{:?}",
        s.close_reason()
    );
}

/// Everything the server writes in answer to connect alone.
fn connect_answer(personality: &str) -> Vec<u8> {
    let mut s = established(personality);
    let connect = connect_to_live();
    client_read(&mut s, 20, &chunks(&[connect]));
    writes(&mut s).concat()
}

#[test]
fn stale_openings_write_connects_result_without_its_fields() {
    // As the reference server writes it, connect's _result is one chunk (after Set Chunk Size
    // 4096) on chunk stream 3 with a full header; the protocol control before it is the same.
    let payload = message::connect_result(1.0).payload;
    let len = (payload.len() as u32).to_be_bytes();
    let full_header = [&[0x03, 0, 0, 0][..], &len[1..], &[20, 0, 0, 0, 0]].concat();
    let reference = connect_answer("reference");
    let result_at = reference.len() - full_header.len() - payload.len();
    assert_eq!(
        reference[result_at..],
        [&full_header[..], &payload[..]].concat()
    );
    let control = &reference[..result_at];
    // type2-open: a type-2 header (timestamp delta 0) and then the payload.
    assert_eq!(
        connect_answer("type2-open"),
        [control, &[0x80 | 3, 0, 0, 0], &payload[..]].concat()
    );
    // type3-open: a type-3 header alone.
    assert_eq!(
        connect_answer("type3-open"),
        [control, &[0xC0 | 3], &payload[..]].concat()
    );
}

#[test]
fn extended_timestamp_personalities_stamp_everything_past_0xffffff() {
    let payload = message::connect_result(1.0).payload;
    assert!(payload.len() > 128, "connect's _result must span chunks");
    let epoch = 0x4000_0000u32.to_be_bytes();
    for (name, repeated) in [
        ("ext-timestamp-repeated", true),
        ("ext-timestamp-omitted", false),
    ] {
        let bytes = connect_answer(name);
        // connect's _result: a type-0 header with the extended timestamp, 128 bytes, then a
        // type-3 continuation chunk with the extended timestamp again or without it.
        let len = (payload.len() as u32).to_be_bytes();
        let mut result = [&[0x03, 0xFF, 0xFF, 0xFF][..], &len[1..], &[20, 0, 0, 0, 0]].concat();
        result.extend_from_slice(&epoch);
        result.extend_from_slice(&payload[..128]);
        result.push(0xC0 | 3);
        if repeated {
            result.extend_from_slice(&epoch);
        }
        result.extend_from_slice(&payload[128..]);
        assert!(bytes.ends_with(&result), "{name}");
        // Every message before it has a type-0 header stamped at the epoch too, and the chunk
        // size announced is the default (so media spans chunks as well).
        let mut reader = ChunkReader::new(ChunkLimits::default()).with_chunk_events(true);
        reader.feed(&bytes);
        let mut headers = Vec::new();
        let mut read = Vec::new();
        while let Ok(Some(event)) = reader.poll() {
            match event {
                ReadEvent::Chunk(h) => headers.push(h),
                ReadEvent::Message(m) => read.push(m),
                _ => {}
            }
        }
        assert_eq!(read.len(), 4, "{name}: {read:?}");
        assert!(read.iter().all(|m| m.timestamp == 0x4000_0000), "{name}");
        assert!(
            matches!(
                Message::decode(&read[2]),
                Ok(Message::SetChunkSize { size: 128, .. })
            ),
            "{name}"
        );
        let starts: Vec<_> = headers.iter().filter(|h| h.fmt != 3).collect();
        assert_eq!(starts.len(), 4, "{name}");
        assert!(starts
            .iter()
            .all(|h| h.fmt == 0 && h.extended_timestamp == Some(0x4000_0000)));
    }
}

#[test]
fn relayed_media_is_stamped_at_the_epoch_and_its_continuations_follow_the_convention() {
    let frame: Vec<u8> = (0..200u8).collect();
    for (name, repeated) in [
        ("ext-timestamp-repeated", true),
        ("ext-timestamp-omitted", false),
    ] {
        let mut s = established(name);
        client_read(&mut s, 1, &chunks(&[cmd(0, "createStream", 2.0, vec![])]));
        client_read(
            &mut s,
            2,
            &chunks(&[cmd(1, "play", 3.0, vec![Amf0Value::string("k")])]),
        );
        s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
        writes(&mut s);
        // Two video frames of the publisher, 40 ms apart: both go out with a full header at
        // the epoch plus their own time, 128 bytes and then a continuation chunk.
        for ts in [0u32, 40] {
            s.send_media(
                3 + ts as u64,
                &RawMessage {
                    csid: 6,
                    timestamp: ts,
                    type_id: 9,
                    stream_id: 1,
                    payload: Bytes::copy_from_slice(&frame),
                },
            );
        }
        let mut expected = Vec::new();
        for ts in [0x4000_0000u32, 0x4000_0028] {
            expected.extend_from_slice(&[0x06, 0xFF, 0xFF, 0xFF, 0, 0, 200, 9, 1, 0, 0, 0]);
            expected.extend_from_slice(&ts.to_be_bytes());
            expected.extend_from_slice(&frame[..128]);
            expected.push(0xC0 | 6);
            if repeated {
                expected.extend_from_slice(&ts.to_be_bytes());
            }
            expected.extend_from_slice(&frame[128..]);
        }
        assert_eq!(writes(&mut s).concat(), expected, "{name}");
    }
}
