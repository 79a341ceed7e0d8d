//! Throughput of the sans-IO core, with rml_rtmp 0.8 measured side by side in the same run on the
//! same bytes, so the ratio is meaningful on whatever machine runs it.
//!
//! The core is measured through the path the tool itself takes, not through the chunk reader
//! alone: serve's path is a server [`Connection`] that has taken a client's handshake, given
//! each read as `serve` hands it over and its events polled as the session polls them;
//! replay's path is a [`FlowObserver`] fed as `replay` feeds it. rml_rtmp's side is its chunk
//! deserializer, with Set Chunk Size applied as its user would (it decodes no messages). The
//! time counts the chunk stream only, the bytes both sides read: the handshake before it is
//! set up outside the timing, and measured on its own (`digest_handshake_pair`).
//!
//! Run: `cargo bench --bench protocol`. Criterion prints each side's throughput per group.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use rml_rtmp::chunk_io::{ChunkDeserializer, ChunkSerializer};
use rml_rtmp::handshake::{Handshake as RmlHandshake, HandshakeProcessResult, PeerType};
use rml_rtmp::messages::MessagePayload;
use rml_rtmp::time::RtmpTimestamp;
use rtmp_probe::protocol::chunk::{ChunkLimits, ReadEvent};
use rtmp_probe::protocol::connection::{Connection, ConnectionConfig, Event, Side};
use rtmp_probe::protocol::handshake::{
    C1Style, C2Style, ClientConfig, DigestLayout, Handshake, ServerConfig, ServerValidation,
};
use rtmp_probe::protocol::observe::FlowObserver;
use rtmp_probe::protocol::random::RandomSource;
use std::time::Duration;

const VIDEO_MESSAGE_LEN: usize = 50 * 1024;
const MESSAGES: usize = 200;
/// What one read takes: serve reads into 64 KiB, and loopback captures hold segments of 64 KiB.
const SLICE: usize = 64 * 1024;
/// The seed of the benchmarked server connection's randomness, so that the client's C2 answers
/// the S1 it will send.
const SERVER_SEED: u64 = 7;

/// A chunk stream as a publisher would send it: Set Chunk Size, then 200 video messages of
/// 50 KiB, chunked by a third party's serializer (rml_rtmp) so neither reader reads its own
/// writer's output.
fn video_stream(chunk_size: u32) -> Vec<u8> {
    let mut serializer = ChunkSerializer::new();
    let mut out = Vec::new();
    let packet = serializer
        .set_max_chunk_size(chunk_size, RtmpTimestamp::new(0))
        .expect("set chunk size");
    out.extend_from_slice(&packet.bytes);
    let payload: Vec<u8> = (0..VIDEO_MESSAGE_LEN).map(|i| (i * 7) as u8).collect();
    let payload = Bytes::from(payload);
    for i in 0..MESSAGES {
        let message = MessagePayload {
            timestamp: RtmpTimestamp::new(i as u32 * 33),
            type_id: 9,
            message_stream_id: 1,
            data: payload.clone(),
        };
        let packet = serializer
            .serialize(&message, false, false)
            .expect("serialize");
        out.extend_from_slice(&packet.bytes);
    }
    out
}

/// A client's C0, C1 and C2 for a server connection seeded with [`SERVER_SEED`]: a digest
/// handshake as FFmpeg makes it.
fn client_handshake() -> Bytes {
    let mut client = Handshake::client(ClientConfig::default(), RandomSource::seeded(1));
    let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(SERVER_SEED));
    let drain = |hs: &mut Handshake| -> Vec<u8> {
        std::iter::from_fn(|| hs.poll_transmit())
            .flat_map(|t| t.bytes.to_vec())
            .collect()
    };
    let mut bytes = drain(&mut client);
    server.feed(&bytes).expect("server reads C0+C1");
    client
        .feed(&drain(&mut server))
        .expect("client reads S0+S1+S2");
    bytes.extend(drain(&mut client));
    Bytes::from(bytes)
}

/// serve's path, up to the chunk stream: a server connection that has taken a client's
/// handshake (what [`digest_pair_rtmp_probe`] measures), left out of the chunk stream's time.
fn established_connection(handshake: &Bytes) -> Connection {
    let mut connection = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(SERVER_SEED),
    );
    assert_eq!(take_read(&mut connection, handshake.clone()), 0);
    assert!(connection.is_established());
    connection
}

/// One read as serve hands it over (the read's own bytes, split off its read buffer), then the
/// connection's events and writes polled as serve's session polls them; the messages read.
fn take_read(connection: &mut Connection, read: Bytes) -> usize {
    connection.handle_read(Duration::ZERO, read);
    let mut messages = 0;
    while let Some(event) = connection.poll_event() {
        match event {
            Event::Message { .. } => messages += 1,
            Event::Closed(reason) => panic!("closed: {reason:?}"),
            _ => {}
        }
    }
    while connection.poll_transmit(Duration::ZERO).is_some() {}
    messages
}

/// serve's path: the chunk stream, read by read, through an established connection.
fn read_with_connection(mut connection: Connection, stream: &Bytes) -> usize {
    (0..stream.len())
        .step_by(SLICE)
        .map(|start| {
            let read = stream.slice(start..(start + SLICE).min(stream.len()));
            take_read(&mut connection, read)
        })
        .sum()
}

/// replay's path, up to the chunk stream: a flow observer that has taken and analysed the
/// client's handshake, left out of the chunk stream's time.
fn observed_handshake(handshake: &Bytes) -> FlowObserver {
    let mut observer = FlowObserver::new(ChunkLimits::default());
    assert_eq!(take_piece(&mut observer, handshake.clone()), 0);
    assert!(observer.handshake_done(Side::Client));
    observer
}

/// One reassembled piece as replay hands it over (a slice of the block the capture was read
/// into), then the client's chunk stream polled; the messages read.
fn take_piece(observer: &mut FlowObserver, piece: Bytes) -> usize {
    observer.feed_bytes(Side::Client, piece);
    while observer.poll_handshake().is_some() {}
    let mut messages = 0;
    while let Some(event) = observer.poll_chunk(Side::Client).expect("valid stream") {
        if let ReadEvent::Message(_) = event {
            messages += 1;
        }
    }
    messages
}

/// replay's path: the chunk stream, piece by piece, through a flow observer.
fn read_with_flow_observer(mut observer: FlowObserver, stream: &Bytes) -> usize {
    (0..stream.len())
        .step_by(SLICE)
        .map(|start| {
            let piece = stream.slice(start..(start + SLICE).min(stream.len()));
            take_piece(&mut observer, piece)
        })
        .sum()
}

fn read_with_rml(stream: &[u8]) -> usize {
    let mut reader = ChunkDeserializer::new();
    let mut messages = 0;
    for slice in stream.chunks(SLICE) {
        let mut input = slice;
        while let Some(message) = reader.get_next_message(input).expect("valid stream") {
            input = &[];
            // rml leaves applying Set Chunk Size to its caller, as a real user of it would.
            if message.type_id == 1 {
                let size = u32::from_be_bytes(message.data[..4].try_into().expect("4 bytes"));
                reader
                    .set_max_chunk_size(size as usize)
                    .expect("chunk size");
            }
            messages += 1;
        }
    }
    messages
}

fn chunk_stream(c: &mut Criterion) {
    for chunk_size in [128u32, 4096] {
        let handshake = client_handshake();
        let stream = Bytes::from(video_stream(chunk_size));
        assert_eq!(
            read_with_connection(established_connection(&handshake), &stream),
            MESSAGES + 1
        );
        assert_eq!(
            read_with_flow_observer(observed_handshake(&handshake), &stream),
            MESSAGES + 1
        );
        assert_eq!(read_with_rml(&stream), MESSAGES + 1);
        // Throughput counts the chunk stream only, the bytes both sides read.
        let mut group = c.benchmark_group(format!("chunk_stream/chunk_size_{chunk_size}"));
        group.throughput(Throughput::Bytes(stream.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("rtmp-probe serve path", chunk_size),
            &stream,
            |b, s| {
                b.iter_batched(
                    || established_connection(&handshake),
                    |connection| read_with_connection(connection, s),
                    BatchSize::SmallInput,
                )
            },
        );
        group.bench_with_input(
            BenchmarkId::new("rtmp-probe replay path", chunk_size),
            &stream,
            |b, s| {
                b.iter_batched(
                    || observed_handshake(&handshake),
                    |observer| read_with_flow_observer(observer, s),
                    BatchSize::SmallInput,
                )
            },
        );
        group.bench_with_input(BenchmarkId::new("rml_rtmp", chunk_size), &stream, |b, s| {
            b.iter(|| read_with_rml(s))
        });
        group.finish();
    }
}

/// One digest handshake between our client and our server: digest C1, digest S1 and signed S2,
/// the client validating S1 and S2 as FFmpeg does when it plays, and a signed C2.
fn digest_pair_rtmp_probe(seed: u64) -> bool {
    let mut client_config = ClientConfig::default();
    client_config.c1 = C1Style::Digest {
        time: 0,
        version: [9, 0, 124, 2],
        layout: DigestLayout::Base8,
    };
    client_config.c2 = C2Style::Signed;
    client_config.validation = ServerValidation::FfmpegPlay;
    let mut client = Handshake::client(client_config, RandomSource::seeded(seed));
    let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(!seed));
    let mut to_server = Vec::with_capacity(3073);
    while let Some(t) = client.poll_transmit() {
        to_server.extend_from_slice(&t.bytes);
    }
    server.feed(&to_server).expect("server reads C0+C1");
    let mut to_client = Vec::with_capacity(3073);
    while let Some(t) = server.poll_transmit() {
        to_client.extend_from_slice(&t.bytes);
    }
    client.feed(&to_client).expect("client reads S0+S1+S2");
    to_server.clear();
    while let Some(t) = client.poll_transmit() {
        to_server.extend_from_slice(&t.bytes);
    }
    server.feed(&to_server).expect("server reads C2");
    while server.poll_event().is_some() {}
    while client.poll_event().is_some() {}
    client.is_complete() && server.is_complete()
}

fn digest_pair_rml() -> bool {
    let mut client = RmlHandshake::new(PeerType::Client);
    let mut server = RmlHandshake::new(PeerType::Server);
    let c0c1 = client.generate_outbound_p0_and_p1().expect("c0c1");
    let s0s1s2 = match server.process_bytes(&c0c1).expect("server") {
        HandshakeProcessResult::InProgress { response_bytes } => response_bytes,
        HandshakeProcessResult::Completed { .. } => return false,
    };
    let c2 = match client.process_bytes(&s0s1s2).expect("client") {
        HandshakeProcessResult::Completed { response_bytes, .. } => response_bytes,
        HandshakeProcessResult::InProgress { .. } => return false,
    };
    matches!(
        server.process_bytes(&c2).expect("server c2"),
        HandshakeProcessResult::Completed { .. }
    )
}

fn handshake_pairs(c: &mut Criterion) {
    assert!(digest_pair_rtmp_probe(1));
    assert!(digest_pair_rml());
    let mut group = c.benchmark_group("digest_handshake_pair");
    group.throughput(Throughput::Elements(1));
    let mut seed = 0u64;
    group.bench_function("rtmp-probe", |b| {
        b.iter(|| {
            seed = seed.wrapping_add(1);
            digest_pair_rtmp_probe(seed)
        })
    });
    group.bench_function("rml_rtmp", |b| b.iter(digest_pair_rml));
    group.finish();
}

criterion_group!(benches, chunk_stream, handshake_pairs);
criterion_main!(benches);
