//! Two connections in memory, a client and a server, with a simulated clock: every segmentation
//! of the bytes between them is a test input. (One file past 600 lines: every test drives the
//! one [`Pair`] harness at its top.)

use super::*;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::ChunkError;
use crate::protocol::handshake::{
    C1Style, DigestLayout, ForeignProtocol, HandshakeError, Mode, ServerConfig,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How the bytes in flight are cut into reads.
#[derive(Debug, Clone, Copy)]
enum Cut {
    ByteWise,
    Random(u64),
    AllAtOnce,
}

const CUTS: [Cut; 5] = [
    Cut::ByteWise,
    Cut::Random(1),
    Cut::Random(7),
    Cut::Random(42),
    Cut::AllAtOnce,
];

struct Peer {
    connection: Connection,
    events: Vec<Event>,
    /// The messages this endpoint's writes carried, in order.
    sent: Vec<SentMessage>,
    /// Written by this endpoint, not yet read by the other.
    in_flight: Vec<u8>,
}

impl Peer {
    fn new(config: ConnectionConfig, seed: u64) -> Self {
        Self {
            connection: Connection::new(config, RandomSource::seeded(seed)),
            events: Vec::new(),
            sent: Vec::new(),
            in_flight: Vec::new(),
        }
    }

    fn drain(&mut self, now: Duration) {
        while let Some(event) = self.connection.poll_event() {
            self.events.push(event);
        }
        while let Some(write) = self.connection.poll_transmit(now) {
            self.in_flight.extend_from_slice(&write.bytes);
            self.sent.extend(write.messages);
        }
    }

    fn messages(&self) -> Vec<&RawMessage> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message { raw, .. } => Some(raw),
                _ => None,
            })
            .collect()
    }

    fn controls(&self) -> Vec<&ControlChange> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Control(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    fn closed(&self) -> Option<&CloseReason> {
        self.events.iter().find_map(|e| match e {
            Event::Closed(reason) => Some(reason),
            _ => None,
        })
    }

    fn established(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::Established { .. }))
    }
}

struct Pair {
    client: Peer,
    server: Peer,
    now: Duration,
    cut: Cut,
    rng: ChaCha8Rng,
}

impl Pair {
    fn new(client: ConnectionConfig, server: ConnectionConfig, cut: Cut) -> Self {
        let seed = match cut {
            Cut::Random(seed) => seed,
            _ => 0,
        };
        Self {
            client: Peer::new(client, 2),
            server: Peer::new(server, 1),
            now: Duration::ZERO,
            cut,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn simple(cut: Cut) -> Self {
        Self::new(
            ConnectionConfig::client(ClientConfig::default()),
            ConnectionConfig::server(ServerConfig::default()),
            cut,
        )
    }

    /// Moves bytes both ways, one read at a time, until neither side has anything to say. The
    /// clock advances a millisecond per read.
    fn run(&mut self) {
        for _ in 0..1_000_000 {
            self.client.drain(self.now);
            self.server.drain(self.now);
            let from_client = !self.client.in_flight.is_empty();
            let (from, to) = if from_client {
                (&mut self.client, &mut self.server)
            } else if !self.server.in_flight.is_empty() {
                (&mut self.server, &mut self.client)
            } else {
                return;
            };
            let len = from.in_flight.len();
            let n = match self.cut {
                Cut::ByteWise => 1,
                Cut::Random(_) => self.rng.gen_range(1..=len.min(2000)),
                Cut::AllAtOnce => len,
            };
            let read: Vec<u8> = from.in_flight.drain(..n).collect();
            self.now += Duration::from_millis(1);
            to.connection.handle_read(self.now, Bytes::from(read));
        }
        panic!("the pair did not settle in a million reads");
    }
}

fn media(len: usize, timestamp: u32) -> RawMessage {
    RawMessage {
        csid: 6,
        timestamp,
        type_id: 9,
        stream_id: 1,
        payload: Bytes::from((0..len).map(|i| (i * 7 + 3) as u8).collect::<Vec<u8>>()),
    }
}

#[test]
fn both_ends_establish_and_messages_cross_intact_in_every_segmentation() {
    for cut in CUTS {
        let mut pair = Pair::simple(cut);
        pair.run();
        assert!(pair.client.established(), "{cut:?}: client not established");
        assert!(pair.server.established(), "{cut:?}: server not established");
        let sent = vec![
            message::command(
                0,
                "connect",
                1.0,
                Amf0Value::Null,
                vec![Amf0Value::String("live".into())],
            ),
            media(5000, 0),
            media(5000, 40),
            media(10, 0x0100_0000),
            media(300, 0x0100_0028),
        ];
        for m in &sent {
            pair.client.connection.send(m.clone());
        }
        pair.server.connection.send(message::on_status(
            1,
            "status",
            "NetStream.Publish.Start",
            "ok",
        ));
        pair.run();
        let got: Vec<RawMessage> = pair.server.messages().into_iter().cloned().collect();
        assert_eq!(got, sent, "{cut:?}: client to server");
        let back = pair.client.messages();
        assert_eq!(back.len(), 1, "{cut:?}");
        assert_eq!(back[0].type_id, 20);
        assert!(pair.client.closed().is_none() && pair.server.closed().is_none());
    }
}

#[test]
fn the_digest_handshake_is_reported_by_both_ends() {
    let client = ConnectionConfig::client(ClientConfig {
        c1: C1Style::Digest {
            time: 0,
            version: [9, 0, 124, 2],
            layout: DigestLayout::Base8,
        },
        ..ClientConfig::default()
    });
    let server = ConnectionConfig::server(ServerConfig::default());
    let mut pair = Pair::new(client, server, Cut::Random(3));
    pair.run();
    for end in [&pair.client, &pair.server] {
        assert!(end.events.contains(&Event::Established {
            mode: Some(Mode::Digest(DigestLayout::Base8))
        }));
    }
}

#[test]
fn acknowledgements_are_sent_at_the_window() {
    const WINDOW: u32 = 4000;
    for cut in CUTS {
        let mut pair = Pair::simple(cut);
        pair.run();
        pair.client
            .connection
            .send(message::window_ack_size(WINDOW));
        // The window counts from the read after the one that announced it.
        pair.run();
        for i in 0..10 {
            pair.client.connection.send(media(3000, i * 40));
        }
        pair.run();
        let total = pair.server.connection.acks.total_received();
        let acks: Vec<u32> = pair
            .client
            .controls()
            .into_iter()
            .filter_map(|c| match c {
                ControlChange::Acknowledged { sequence } => Some(*sequence),
                _ => None,
            })
            .collect();
        assert!(!acks.is_empty(), "{cut:?}: no acknowledgement");
        let mut previous = 0u32;
        for &sequence in &acks {
            assert!(
                sequence - previous >= WINDOW,
                "{cut:?}: {acks:?} acknowledges before a window's worth"
            );
            previous = sequence;
        }
        assert!(
            total - u64::from(previous) < u64::from(WINDOW),
            "{cut:?}: {total} bytes received but the last ack was {previous}"
        );
        if let Cut::ByteWise = cut {
            assert!(acks.iter().all(|s| s % WINDOW == 0), "{acks:?}");
        }
    }
}

#[test]
fn the_server_acknowledges_by_its_own_window_until_the_client_announces_one() {
    let mut server = ConnectionConfig::server(ServerConfig::default());
    server.ack_by_own_window = true;
    let client = ConnectionConfig::client(ClientConfig::default());
    let mut pair = Pair::new(client, server, Cut::AllAtOnce);
    pair.run();
    pair.server.connection.send(message::window_ack_size(5000));
    pair.run();
    for i in 0..4 {
        pair.client.connection.send(media(3000, i * 40));
    }
    pair.run();
    assert!(pair
        .client
        .controls()
        .iter()
        .any(|c| matches!(c, ControlChange::Acknowledged { .. })));
}

#[test]
fn a_ping_request_is_answered() {
    for cut in CUTS {
        let mut pair = Pair::simple(cut);
        pair.run();
        pair.client
            .connection
            .send(message::user_control(UserControl::PingRequest(1234)));
        pair.run();
        assert!(
            pair.client
                .controls()
                .contains(&&ControlChange::PingResponse { timestamp: 1234 }),
            "{cut:?}"
        );
        assert!(pair
            .server
            .sent
            .iter()
            .any(|s| s.message.type_id == 4 && s.by == SentBy::Connection));
    }
}

#[test]
fn peer_bandwidth_is_answered_when_asked_and_aborts_are_reported() {
    for answer_peer_bandwidth in [false, true] {
        let mut client = ConnectionConfig::client(ClientConfig::default());
        client.answer_peer_bandwidth = answer_peer_bandwidth;
        let server = ConnectionConfig::server(ServerConfig::default());
        let mut pair = Pair::new(client, server, Cut::Random(5));
        pair.run();
        pair.server.connection.send(message::set_peer_bandwidth(
            5000,
            message::LimitType::Dynamic,
        ));
        pair.client.connection.send(message::abort(6));
        pair.run();
        assert!(pair
            .client
            .controls()
            .contains(&&ControlChange::PeerBandwidth {
                size: 5000,
                limit: message::LimitType::Dynamic
            }));
        assert!(pair.server.controls().contains(&&ControlChange::Aborted {
            csid: 6,
            discarded_bytes: 0
        }));
        let announced = pair
            .server
            .controls()
            .contains(&&ControlChange::WindowAckSize(5000));
        assert_eq!(announced, answer_peer_bandwidth);
    }
}

#[test]
fn chunk_size_changes_apply_both_ways() {
    for cut in CUTS {
        let mut server = ConnectionConfig::server(ServerConfig::default());
        server.chunk_events = true;
        let client = ConnectionConfig::client(ClientConfig::default());
        let mut pair = Pair::new(client, server, cut);
        pair.run();
        pair.client.connection.send(message::set_chunk_size(4096));
        pair.client.connection.send(media(4000, 0));
        pair.server.connection.send(message::set_chunk_size(1000));
        pair.server.connection.send(media(2500, 0));
        pair.run();
        assert!(pair
            .server
            .controls()
            .contains(&&ControlChange::PeerChunkSize {
                from: 128,
                to: 4096
            }));
        assert!(pair
            .client
            .controls()
            .contains(&&ControlChange::PeerChunkSize {
                from: 128,
                to: 1000
            }));
        assert_eq!(pair.client.connection.chunk_sizes(), (1000, 4096));
        assert_eq!(pair.server.connection.chunk_sizes(), (4096, 1000));
        // The 4000-byte message travelled as one chunk at the new size.
        let chunks = pair
            .server
            .events
            .iter()
            .filter(|e| matches!(e, Event::Chunk(h) if h.message_len == 4000))
            .count();
        assert_eq!(chunks, 1, "{cut:?}");
        assert_eq!(pair.server.messages()[1], &media(4000, 0));
        assert_eq!(pair.client.messages()[1], &media(2500, 0));
        assert!(pair.server.events.iter().any(|e| matches!(
            e,
            Event::Diagnostic(d) if matches!(d.kind, DiagnosticKind::PeerChunkSizeChanged { from: 128, to: 4096 })
                && d.to_string() == "the client's chunk size changed from 128 to 4096"
        )));
    }
}

#[test]
fn handshake_groups_keep_their_write_boundaries() {
    // FFmpeg's listen mode: S0 as soon as C0 is read, then S1 and S2 apart.
    let mut server = ConnectionConfig::server(ServerConfig::default());
    const APART: &[&[Packet]] = &[&[Packet::S0], &[Packet::S1], &[Packet::S2]];
    const PAUSES: &[Duration] = &[Duration::from_micros(1760), Duration::from_micros(24)];
    server.writes = HandshakeWrites {
        groups: APART,
        pauses: PAUSES,
        wait_for_peer_hello: false,
        answer_after_peer_answer: false,
    };
    let mut s = Connection::new(server, RandomSource::seeded(1));
    let mut c = Connection::new(
        ConnectionConfig::client(ClientConfig::default()),
        RandomSource::seeded(2),
    );
    let zero = Duration::ZERO;
    let c0c1 = c.poll_transmit(zero).expect("C0+C1").bytes;
    assert_eq!(c0c1.len(), 1 + PACKET_LEN);
    assert_eq!(c.poll_transmit(zero), None);
    s.handle_read(zero, c0c1.slice(..1));
    let s0 = s.poll_transmit(zero).expect("S0");
    assert_eq!((&s0.bytes[..], s0.packets), (&[3u8][..], &[Packet::S0][..]));
    assert_eq!(s.poll_transmit(zero), None);
    // C1 arrives 1 ms in: S1 is made then, and goes 1760 µs after S0's write (or after it
    // was made, were that later); not before, however often the driver asks.
    let ms = Duration::from_millis(1);
    s.handle_read(ms, c0c1.slice(1..));
    let s1_due = ms + Duration::from_micros(1760);
    assert_eq!(s.next_transmit_at(), Some(s1_due));
    assert_eq!(s.poll_timeout(), Some(s1_due), "the driver wakes for it");
    assert_eq!(s.poll_transmit(s1_due - Duration::from_micros(1)), None);
    s.handle_timeout(s1_due);
    assert!(!s.is_closed(), "a write's time is no timeout");
    // The driver is late: the pause before S2 counts from when S1 was taken.
    let late = s1_due + Duration::from_micros(500);
    let s1 = s.poll_transmit(late).expect("S1");
    assert_eq!(
        (s1.bytes.len(), s1.packets),
        (PACKET_LEN, &[Packet::S1][..])
    );
    let s2_due = late + Duration::from_micros(24);
    assert_eq!(s.next_transmit_at(), Some(s2_due));
    assert_eq!(s.poll_transmit(s2_due - Duration::from_micros(1)), None);
    let s2 = s.poll_transmit(s2_due).expect("S2");
    assert_eq!(
        (s2.bytes.len(), s2.packets),
        (PACKET_LEN, &[Packet::S2][..])
    );
    assert_eq!((s.next_transmit_at(), s.has_transmit()), (None, false));
}

#[test]
fn a_write_says_what_it_carries_and_messages_wait_for_our_last_handshake_write() {
    // S0+S1 and then S2 after C2: a message sent before S2 has gone waits for it.
    let mut server = ConnectionConfig::server(ServerConfig::default());
    const S0_S1_THEN_S2: &[&[Packet]] = &[&[Packet::S0, Packet::S1], &[Packet::S2]];
    server.writes = HandshakeWrites {
        groups: S0_S1_THEN_S2,
        answer_after_peer_answer: true,
        ..HandshakeWrites::server_default()
    };
    let mut s = Connection::new(server, RandomSource::seeded(1));
    let mut c = Connection::new(
        ConnectionConfig::client(ClientConfig::default()),
        RandomSource::seeded(2),
    );
    let zero = Duration::ZERO;
    s.handle_read(zero, c.poll_transmit(zero).expect("C0+C1").bytes);
    c.handle_read(zero, s.poll_transmit(zero).expect("S0+S1").bytes);
    let c2 = c.poll_transmit(zero).expect("C2");
    assert_eq!((c2.packets, c2.messages.len()), (&[Packet::C2][..], 0));
    s.handle_read(zero, c2.bytes);
    while s.poll_event().is_some() {}
    let size = message::window_ack_size(4096);
    s.send(size.clone());
    let s2 = s.poll_transmit(zero).expect("S2 first");
    assert_eq!((s2.packets, s2.messages.len()), (&[Packet::S2][..], 0));
    assert!(s.has_transmit());
    let message = s.poll_transmit(zero).expect("then the message");
    assert_eq!(message.packets, &[] as &[Packet]);
    assert_eq!(
        message.messages,
        [SentMessage {
            message: size,
            by: SentBy::Application
        }]
    );
    assert!(!s.has_transmit());
}

#[test]
fn a_held_answer_waits_for_the_peers_answer() {
    let mut server = ConnectionConfig::server(ServerConfig::default());
    const S0_S1_THEN_S2: &[&[Packet]] = &[&[Packet::S0, Packet::S1], &[Packet::S2]];
    server.writes = HandshakeWrites {
        groups: S0_S1_THEN_S2,
        answer_after_peer_answer: true,
        ..HandshakeWrites::server_default()
    };
    let mut s = Connection::new(server, RandomSource::seeded(1));
    let mut c = Connection::new(
        ConnectionConfig::client(ClientConfig::default()),
        RandomSource::seeded(2),
    );
    let zero = Duration::ZERO;
    s.handle_read(zero, c.poll_transmit(zero).expect("C0+C1").bytes);
    let s0s1 = s.poll_transmit(zero).expect("S0+S1").bytes;
    assert_eq!(s0s1.len(), 1 + PACKET_LEN);
    assert_eq!(s.poll_transmit(zero), None, "S2 waits for C2");
    c.handle_read(zero, s0s1);
    s.handle_read(zero, c.poll_transmit(zero).expect("C2").bytes);
    assert_eq!(
        s.poll_transmit(zero).map(|t| t.bytes.len()),
        Some(PACKET_LEN)
    );
    assert!(s.is_established());
}

#[test]
fn bytes_after_c2_reach_the_chunk_reader_in_the_same_read() {
    let mut s = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(1),
    );
    let mut c = Connection::new(
        ConnectionConfig::client(ClientConfig::default()),
        RandomSource::seeded(2),
    );
    let zero = Duration::ZERO;
    s.handle_read(zero, c.poll_transmit(zero).expect("C0+C1").bytes);
    c.handle_read(zero, s.poll_transmit(zero).expect("S0+S1+S2").bytes);
    c.send(media(100, 0));
    let mut c2_and_media = BytesMut::new();
    while let Some(write) = c.poll_transmit(zero) {
        c2_and_media.extend_from_slice(&write.bytes);
    }
    s.handle_read(Duration::ZERO, c2_and_media.freeze());
    let messages: Vec<RawMessage> = std::iter::from_fn(|| s.poll_event())
        .filter_map(|e| match e {
            Event::Message { raw, .. } => Some(raw),
            _ => None,
        })
        .collect();
    assert_eq!(messages, [media(100, 0)]);
}

#[test]
fn a_bad_version_closes_with_a_typed_error_at_offset_0() {
    let mut s = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(1),
    );
    s.handle_read(Duration::ZERO, Bytes::from_static(b"GET / HTTP/1.1\r\n"));
    let closed = std::iter::from_fn(|| s.poll_event()).last();
    assert_eq!(
        closed,
        Some(Event::Closed(CloseReason::Error(
            ConnectionError::Handshake {
                offset: 0,
                error: HandshakeError::NotRtmp {
                    byte: b'G',
                    looks_like: ForeignProtocol::Http
                }
            }
        )))
    );
    assert!(s.is_closed());
    assert_eq!(s.poll_transmit(Duration::ZERO), None);
}

#[test]
fn an_oversize_chunk_size_closes_with_a_typed_error() {
    for cut in CUTS {
        let mut server = ConnectionConfig::server(ServerConfig::default());
        server.limits.max_chunk_size = 65_536;
        let client = ConnectionConfig::client(ClientConfig::default());
        let mut pair = Pair::new(client, server, cut);
        pair.run();
        pair.client
            .connection
            .send(message::set_chunk_size(1 << 20));
        pair.run();
        assert_eq!(
            pair.server.closed(),
            Some(&CloseReason::Error(ConnectionError::Chunk(
                ChunkError::ChunkSizeOutOfRange {
                    size: 1 << 20,
                    min: 1,
                    max: 65_536,
                    offset: 16,
                }
            ))),
            "{cut:?}"
        );
    }
}

#[test]
fn a_message_longer_than_the_limit_closes_with_a_typed_error() {
    for cut in CUTS {
        let mut server = ConnectionConfig::server(ServerConfig::default());
        server.limits.max_message_len = 1000;
        let client = ConnectionConfig::client(ClientConfig::default());
        let mut pair = Pair::new(client, server, cut);
        pair.run();
        pair.client.connection.send(media(999, 0));
        pair.client.connection.send(media(1001, 40));
        pair.run();
        assert_eq!(pair.server.messages(), [&media(999, 0)], "{cut:?}");
        // The second message's header starts after the first's 12-byte header, 999 bytes of
        // body and 7 one-byte continuation headers.
        assert_eq!(
            pair.server.closed(),
            Some(&CloseReason::Error(ConnectionError::Chunk(
                ChunkError::MessageTooLong {
                    len: 1001,
                    csid: 6,
                    limit: 1000,
                    offset: 12 + 999 + 7,
                }
            ))),
            "{cut:?}"
        );
    }
}

#[test]
fn a_stream_opened_without_a_type_0_header_is_refused_or_read_from_zero_state() {
    // A type 1 header on chunk stream 3: length 2, type 20 (timestamp delta 5).
    let chunk: &[u8] = &[0x43, 0, 0, 5, 0, 0, 2, 20, 0xAA, 0xBB];
    for zero_state_start in [false, true] {
        let mut server = ConnectionConfig::server(ServerConfig::default());
        server.tolerance.zero_state_start = zero_state_start;
        let mut pair = Pair::new(
            ConnectionConfig::client(ClientConfig::default()),
            server,
            Cut::AllAtOnce,
        );
        pair.run();
        pair.server
            .connection
            .handle_read(Duration::from_secs(1), Bytes::from_static(chunk));
        pair.server.drain(pair.now);
        if zero_state_start {
            let raw = pair.server.messages()[0].clone();
            assert_eq!(
                (raw.csid, raw.timestamp, raw.type_id, raw.stream_id),
                (3, 5, 20, 0)
            );
            assert!(pair.server.events.iter().any(|e| matches!(
                e,
                Event::Diagnostic(d) if d.kind == DiagnosticKind::OpenedFromZeroState { csid: 3, fmt: 1 }
            )));
        } else {
            assert_eq!(
                pair.server.closed(),
                Some(&CloseReason::Error(ConnectionError::Chunk(
                    ChunkError::NoPreviousHeader {
                        fmt: 1,
                        csid: 3,
                        offset: 0
                    }
                )))
            );
        }
    }
}

#[test]
fn timeouts_follow_the_simulated_clock() {
    let mut server = ConnectionConfig::server(ServerConfig::default());
    server.timeouts = Timeouts {
        handshake: Some(Duration::from_secs(10)),
        idle: Some(Duration::from_secs(30)),
    };
    let mut s = Connection::new(server.clone(), RandomSource::seeded(1));
    assert_eq!(s.poll_timeout(), Some(Duration::from_secs(10)));
    s.handle_timeout(Duration::from_secs(9));
    assert!(!s.is_closed());
    s.handle_timeout(Duration::from_secs(10));
    assert_eq!(
        s.poll_event(),
        Some(Event::Closed(CloseReason::Timeout(Timeout::Handshake(
            Duration::from_secs(10)
        ))))
    );

    let mut pair = Pair::new(
        ConnectionConfig::client(ClientConfig::default()),
        server,
        Cut::AllAtOnce,
    );
    pair.run();
    let last_read = pair.now;
    assert_eq!(
        pair.server.connection.poll_timeout(),
        Some(last_read + Duration::from_secs(30))
    );
    pair.server
        .connection
        .note_activity(last_read + Duration::from_secs(5));
    pair.server
        .connection
        .handle_timeout(last_read + Duration::from_secs(31));
    assert!(!pair.server.connection.is_closed());
    pair.server
        .connection
        .handle_timeout(last_read + Duration::from_secs(35));
    pair.server.drain(pair.now);
    assert_eq!(
        pair.server.closed(),
        Some(&CloseReason::Timeout(Timeout::Idle(Duration::from_secs(
            30
        ))))
    );
}

#[test]
fn the_peer_closing_ends_the_connection_after_its_last_messages() {
    let mut s = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(1),
    );
    s.handle_read(Duration::ZERO, Bytes::from_static(&[3, 0, 0]));
    s.handle_eof(Duration::from_millis(1));
    let events: Vec<Event> = std::iter::from_fn(|| s.poll_event()).collect();
    let diagnostics: Vec<&DiagnosticKind> = events
        .iter()
        .filter_map(|e| match e {
            Event::Diagnostic(d) => Some(&d.kind),
            _ => None,
        })
        .collect();
    assert_eq!(diagnostics, [&DiagnosticKind::ClosedDuringHandshake]);
    assert_eq!(
        events.last(),
        Some(&Event::Closed(CloseReason::PeerClosed {
            during_handshake: true
        }))
    );

    let mut pair = Pair::simple(Cut::AllAtOnce);
    pair.run();
    pair.client.connection.send(media(500, 0));
    pair.client.drain(pair.now);
    let bytes = std::mem::take(&mut pair.client.in_flight);
    pair.server
        .connection
        .handle_read(Duration::from_secs(1), Bytes::from(bytes));
    pair.server.connection.handle_eof(Duration::from_secs(1));
    pair.server.drain(pair.now);
    assert_eq!(pair.server.messages(), [&media(500, 0)]);
    assert_eq!(
        pair.server.events.last(),
        Some(&Event::Closed(CloseReason::PeerClosed {
            during_handshake: false
        }))
    );
}

/// A server that withholds its output past the 512-byte window it announced, against a client
/// acknowledging with `cadence`; 20 media messages of 300 bytes are sent after the handshake.
fn strict_server_pair(cadence: AckCadence, cut: Cut) -> Pair {
    let mut server = ConnectionConfig::server(ServerConfig::default());
    server.withhold_past_own_window = true;
    server.timeouts.idle = Some(Duration::from_secs(30));
    let mut client = ConnectionConfig::client(ClientConfig::default());
    client.ack_cadence = cadence;
    client.ack_counts_handshake = cadence == AckCadence::PeerBandwidthTenth;
    let mut pair = Pair::new(client, server, cut);
    pair.run();
    pair.server.connection.send(message::window_ack_size(512));
    pair.server.connection.send(message::set_peer_bandwidth(
        2_500_000,
        message::LimitType::Dynamic,
    ));
    // The window applies from the read after the one that announced it (GStreamer checks
    // before it parses), as a server's connect answers come before any media.
    pair.run();
    for i in 0..20 {
        pair.server.connection.send(media(300, i * 40));
    }
    pair.run();
    pair
}

fn media_received(endpoint: &Peer) -> usize {
    endpoint
        .messages()
        .iter()
        .filter(|m| m.type_id == 9)
        .count()
}

#[test]
fn a_strict_server_sends_as_fast_as_the_client_acknowledges() {
    for cadence in [AckCadence::Window, AckCadence::HalfWindow] {
        for cut in CUTS {
            let pair = strict_server_pair(cadence, cut);
            assert_eq!(
                media_received(&pair.client),
                20,
                "{cadence:?} {cut:?}: every message got through"
            );
            let backlog = pair.server.connection.output_backlog();
            assert_eq!(backlog.withheld_messages, 0, "{cadence:?} {cut:?}");
            assert!(
                backlog.sent - backlog.acknowledged <= 512 + 314,
                "{cadence:?} {cut:?}: {backlog:?}: at most a window and one message unacknowledged"
            );
            let withheld_reports = pair
                .server
                .controls()
                .iter()
                .filter(|c| matches!(c, ControlChange::OutputWithheld { .. }))
                .count();
            assert_eq!(withheld_reports, 1, "{cadence:?} {cut:?}: reported once");
        }
    }
}

#[test]
fn a_strict_server_withholds_from_a_client_that_does_not_acknowledge_then_times_out() {
    for cadence in [AckCadence::PeerBandwidthTenth, AckCadence::Never] {
        for cut in CUTS {
            let mut pair = strict_server_pair(cadence, cut);
            // Window Ack Size (16) + Set Peer Bandwidth (17) + one media message (314) fit in
            // 512 bytes; the second message goes out with 347 unacknowledged, the third waits.
            assert_eq!(media_received(&pair.client), 2, "{cadence:?} {cut:?}");
            let backlog = pair.server.connection.output_backlog();
            assert_eq!(backlog.withheld_messages, 18, "{cadence:?} {cut:?}");
            assert_eq!(backlog.withheld_bytes, 18 * 300);
            assert_eq!(backlog.acknowledged, 0);
            assert!(
                pair.server.connection.held() >= 18 * 300,
                "withheld output counts against the server's memory budget"
            );
            // Activity does not keep waiting output alive: the idle time counts from the stall.
            let stalled = pair.now;
            pair.server
                .connection
                .note_activity(stalled + Duration::from_secs(20));
            let deadline = pair.server.connection.poll_timeout().expect("a deadline");
            assert!(
                deadline <= stalled + Duration::from_secs(30),
                "{cadence:?} {cut:?}: the deadline {deadline:?} moved with activity"
            );
            pair.server
                .connection
                .handle_timeout(stalled + Duration::from_secs(30));
            pair.server.drain(pair.now);
            assert_eq!(
                pair.server.closed(),
                Some(&CloseReason::Timeout(Timeout::Unacknowledged(
                    Duration::from_secs(30)
                ))),
                "{cadence:?} {cut:?}"
            );
        }
    }
}

#[test]
fn an_acknowledgement_releases_what_fits_and_sequence_numbers_wrap() {
    let mut pair = strict_server_pair(AckCadence::Never, Cut::AllAtOnce);
    let sent = pair.server.connection.output_backlog().sent;
    pair.client
        .connection
        .send(message::acknowledgement(sent as u32));
    pair.run();
    // Everything sent was acknowledged: one message past the window goes, then two more fit.
    assert_eq!(media_received(&pair.client), 4);
    // A sequence number below the last one is taken as the 32-bit counter having wrapped.
    pair.server.connection.acknowledged(u32::MAX);
    pair.server.connection.acknowledged(5);
    assert_eq!(
        pair.server.connection.output_backlog().acknowledged,
        (1 << 32) + 5
    );
}

/// The client sends an Acknowledgement of `sequence`, and the pair settles.
fn client_acknowledges(pair: &mut Pair, sequence: u32) {
    pair.client
        .connection
        .send(message::acknowledgement(sequence));
    pair.run();
}

/// The stale Acknowledgements `endpoint` diagnosed in the client's bytes: (sequence, previous).
fn stale_acknowledgements(endpoint: &Peer) -> Vec<(u32, u32)> {
    endpoint
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Diagnostic(Diagnostic {
                peer: Side::Client,
                kind: DiagnosticKind::StaleAcknowledgement { sequence, previous },
            }) => Some((*sequence, *previous)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stale_acknowledgement_is_diagnosed_and_does_not_lift_the_window() {
    for cut in CUTS {
        let mut pair = strict_server_pair(AckCadence::Never, cut);
        let sent = pair.server.connection.output_backlog().sent;
        client_acknowledges(&mut pair, sent as u32);
        assert_eq!(media_received(&pair.client), 4, "{cut:?}");
        // An earlier count (or a hostile one) arrives late: read as a wrap, it would cover
        // 4 GiB more and release all 16 waiting messages, and every later one, for good.
        client_acknowledges(&mut pair, 10);
        assert_eq!(media_received(&pair.client), 4, "{cut:?}: the window holds");
        let backlog = pair.server.connection.output_backlog();
        assert_eq!(
            backlog.acknowledged, sent,
            "{cut:?}: the stale value is ignored"
        );
        assert_eq!(backlog.withheld_messages, 16, "{cut:?}");
        assert_eq!(
            stale_acknowledgements(&pair.server),
            [(10, sent as u32)],
            "{cut:?}"
        );
        // The next real Acknowledgement still releases what fits.
        let sent = pair.server.connection.output_backlog().sent;
        client_acknowledges(&mut pair, sent as u32);
        assert_eq!(media_received(&pair.client), 6, "{cut:?}");
        assert_eq!(stale_acknowledgements(&pair.server).len(), 1, "{cut:?}");
    }
}

#[test]
fn an_acknowledgement_lower_by_more_than_half_the_range_is_a_wrap() {
    let mut pair = Pair::simple(Cut::AllAtOnce);
    pair.run();
    let covered = |pair: &Pair| pair.server.connection.output_backlog().acknowledged;
    // Past 2^31 the 32-bit count wraps: 0xFFFF_FF00, then 0x10, is 0x1_0000_0010 bytes.
    client_acknowledges(&mut pair, 0xFFFF_FF00);
    client_acknowledges(&mut pair, 0x10);
    assert_eq!(covered(&pair), (1 << 32) + 0x10);
    // A drop of exactly 2^31 is not past half the range: stale.
    client_acknowledges(&mut pair, 0x8000_0010);
    client_acknowledges(&mut pair, 0x10);
    assert_eq!(covered(&pair), (1 << 32) + 0x8000_0010);
    assert_eq!(stale_acknowledgements(&pair.server), [(0x10, 0x8000_0010)]);
    // One byte more is a wrap, the second.
    client_acknowledges(&mut pair, 0xF);
    assert_eq!(covered(&pair), (2 << 32) + 0xF);
    assert_eq!(stale_acknowledgements(&pair.server).len(), 1);
}
