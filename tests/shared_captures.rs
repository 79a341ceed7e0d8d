//! The library's codecs, capture reader and emulators against the shared third-party captures
//! (`../shared/captures`, required in CI and never committed), through its public API. They were
//! unit tests that passed without a word where the shared folder is absent; here each declares
//! the captures it reads, and without them it is reported as ignored, with the reason (a failure
//! under `RTMP_PROBE_REQUIRE_SHARED=1`). What the project's own captures (`captures/`) can show
//! is checked by the unit tests beside the code, which therefore run everywhere.

mod support;

use rtmp_probe::capture::link::{tcp_segment, LinkError};
use rtmp_probe::capture::reassembly::{Piece, Reassembler};
use rtmp_probe::capture::{CaptureReader, Format};
use rtmp_probe::emulate::case::{CaseOptions, Target};
use rtmp_probe::emulate::profile;
use rtmp_probe::emulate::run_case;
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::{ChunkLimits, ChunkReader, RawMessage, ReadEvent};
use rtmp_probe::protocol::handshake::{
    analyze, Handshake, HandshakeEvent, Mode, Packet, ServerConfig, PACKET_LEN,
};
use rtmp_probe::protocol::message::{Command, Message, VideoPacket};
use rtmp_probe::protocol::random::RandomSource;
use rtmp_probe::serve::{CollectSink, ServeOptions, Server};
use rtmp_probe::transcript::{DiagnosticId, Direction};
use std::net::SocketAddr;
use std::time::Duration;
use support::shared_capture;
use support::trials::Need;

const OBS27_TO_NGINX: &str = "public/obs27-publish-to-nginx-rtmp.pcap";
const FLASH9_PLAY: &str = "public/flash9-play-wireshark-sample.cap";
const VLC_CORRUPT: &str = "public/vlc-play-from-nginx-rtmp-corrupt10pct.pcapng";
const VLC_DELAY: &str = "public/vlc-play-from-nginx-rtmp-delay500ms.pcapng";
const NDPI_TUNNELS: &str = "public/ndpi-flash9-and-mobile-ffmpeg-play-vlan-gtpu.pcapng";
const FFMPEG_TO_NGINX_PCAP: &str = "peers/ffmpeg-publish-to-nginx.pcap";
const FFMPEG_TO_NGINX_PCAPNG: &str = "peers/ffmpeg-publish-to-nginx.pcapng";

/// The captures [`every_shared_capture_decodes_to_tcp`] takes apart.
const DECODED_TO_TCP: [&str; 8] = [
    FLASH9_PLAY,
    OBS27_TO_NGINX,
    "public/twinx-client-publish-to-twitch-ingest.pcap",
    VLC_DELAY,
    VLC_CORRUPT,
    "public/ffmpeg-player-play-from-adobe-fms5.pcapng",
    FFMPEG_TO_NGINX_PCAPNG,
    "peers/ffmpeg-publish-to-ffmpeg-listen.pcap",
];

fn open(relative: &str) -> CaptureReader<std::fs::File> {
    let path = shared_capture(relative);
    CaptureReader::new(std::fs::File::open(&path).expect("readable capture"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ----- the two byte streams of a session -----

/// Client-to-server and server-to-client payload of the first TCP connection that opens with a
/// SYN in the capture.
struct Streams {
    client: Vec<u8>,
    server: Vec<u8>,
}

/// The library's reader, link parser and reassembler, which must find every byte: a gap in one
/// of these captures is a fault of the capture or of the reassembler, not something to read
/// past.
fn streams(relative: &str) -> Streams {
    let mut connection: Option<(SocketAddr, SocketAddr)> = None;
    let mut directions = [
        (Reassembler::new(4 << 20), Vec::new()),
        (Reassembler::new(4 << 20), Vec::new()),
    ];
    let take = |pieces: Vec<Piece>, out: &mut Vec<u8>| {
        for piece in pieces {
            match piece {
                Piece::Data { bytes, .. } => out.extend(bytes),
                Piece::Gap { offset, len } => {
                    panic!("{relative}: {len} bytes missing at stream offset {offset}")
                }
            }
        }
    };
    for frame in open(relative) {
        let frame = frame.expect("the shared captures are sound");
        let Ok(Some(s)) = tcp_segment(frame.link_type, &frame.data) else {
            continue;
        };
        if s.syn && connection.is_none() {
            connection = Some((s.src, s.dst));
        }
        let Some((client, server)) = connection else {
            continue;
        };
        let dir = if (s.src, s.dst) == (client, server) {
            0
        } else if (s.src, s.dst) == (server, client) {
            1
        } else {
            continue;
        };
        let (reassembler, out) = &mut directions[dir];
        if s.syn {
            reassembler.syn(s.seq);
        }
        take(reassembler.segment(s.seq, frame.time, s.payload), out);
    }
    assert!(connection.is_some(), "{relative}: no TCP connection opens");
    let [(mut c, mut client), (mut s, mut server)] = directions;
    take(finish(&mut c), &mut client);
    take(finish(&mut s), &mut server);
    Streams { client, server }
}

/// The end of the capture: what still waits, after a reported gap.
fn finish(reassembler: &mut Reassembler) -> Vec<Piece> {
    let mut out = Vec::new();
    reassembler.finish_with(|p| out.push(p.to_piece()));
    out
}

// ----- the chunk reader -----

fn read_all(reader: &mut ChunkReader) -> Vec<ReadEvent> {
    let mut out = Vec::new();
    while let Some(e) = reader.poll().expect("the whole real stream decodes") {
        out.push(e);
    }
    out
}

fn capture_messages(relative: &str) -> Vec<RawMessage> {
    let streams = streams(relative);
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&streams.client[3073..]);
    read_all(&mut r)
        .into_iter()
        .filter_map(|e| match e {
            ReadEvent::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn obs_publish_to_nginx_decodes_to_the_end() {
    let m = capture_messages(OBS27_TO_NGINX);
    assert_eq!(
        (m[0].type_id, m[0].csid, m[0].stream_id),
        (1, 2, 0),
        "OBS first sets its chunk size"
    );
    assert_eq!(&m[0].payload[..], &4096u32.to_be_bytes());
    assert_eq!(
        (m[1].type_id, m[1].csid),
        (20, 3),
        "then connect on chunk stream 3"
    );
    assert!(m[1].payload.windows(7).any(|w| w == b"connect"));
    let video = m.iter().filter(|m| m.type_id == 9).count();
    let audio = m.iter().filter(|m| m.type_id == 8).count();
    assert!(video > 100 && audio > 100, "video {video}, audio {audio}");
    // Timestamps of each track never go backwards in this clean session.
    for t in [8u8, 9] {
        let ts: Vec<u32> = m
            .iter()
            .filter(|m| m.type_id == t)
            .map(|m| m.timestamp)
            .collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "type {t}");
    }
}

// ----- the message decoder -----

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

fn obs_publish_session_decodes_with_real_field_values() {
    let s = streams(OBS27_TO_NGINX);
    let client = decoded(&s.client[3073..]);
    let names: Vec<&str> = client
        .iter()
        .filter_map(|(_, m)| command_of(m))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        &names[..5],
        [
            "connect",
            "releaseStream",
            "FCPublish",
            "createStream",
            "publish"
        ]
    );
    let connect = command_of(&client[1].1).unwrap();
    let obj = connect.command_object.as_ref().unwrap();
    assert_eq!(obj.get("app").and_then(Amf0Value::as_str), Some("twinx"));
    assert_eq!(
        obj.get("type").and_then(Amf0Value::as_str),
        Some("nonprivate")
    );
    assert_eq!(
        obj.get("flashVer").and_then(Amf0Value::as_str),
        Some("FMLE/3.0 (compatible; FMSc/1.0)")
    );
    let metadata = client.iter().find_map(|(_, m)| match m {
        Message::Data { values, .. } => Some(values),
        _ => None,
    });
    let metadata = metadata.expect("OBS sends metadata");
    assert_eq!(metadata[0].as_str(), Some("@setDataFrame"));
    assert_eq!(metadata[1].as_str(), Some("onMetaData"));
    assert_eq!(
        metadata[2].get("width").and_then(Amf0Value::as_number),
        Some(1280.0)
    );
    let first_video = client.iter().find_map(|(_, m)| match m {
        Message::Video(v) => Some(v),
        _ => None,
    });
    assert_eq!(first_video.unwrap().packet, VideoPacket::SequenceHeader);
    let first_audio = client.iter().find_map(|(_, m)| match m {
        Message::Audio(a) => Some(a),
        _ => None,
    });
    assert!(first_audio.unwrap().is_sequence_header());
    // nginx-rtmp's side: Window Ack Size, Set Peer Bandwidth, Set Chunk Size, then _result.
    let server = decoded(&s.server[3073..]);
    let result = server
        .iter()
        .filter_map(|(_, m)| command_of(m))
        .find(|c| c.name == "_result")
        .unwrap();
    assert_eq!(result.transaction_id, 1.0);
    assert_eq!(
        result.arguments[0].get("code").and_then(Amf0Value::as_str),
        Some("NetConnection.Connect.Success")
    );
}

// ----- the handshake -----

/// An event's catalogue id, which reads shorter in an assertion than the event.
fn id(event: &HandshakeEvent) -> &'static str {
    DiagnosticId::from(event).as_str()
}

fn flash9_simple_handshake_from_the_wireshark_sample() {
    let streams = streams(FLASH9_PLAY);
    // Flash Player 9 (WIN 9,0,47,0) sends a zero version field: no digest, a simple handshake.
    // Its C2 echoes S1 from byte 8 with its own time2, and connect follows C2 in the same write.
    let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(1));
    server.feed(&streams.client).unwrap();
    assert!(server.is_complete());
    assert_eq!(server.mode(), Some(Mode::Simple));
    let events: Vec<HandshakeEvent> = std::iter::from_fn(|| server.poll_event()).collect();
    assert!(events.contains(&HandshakeEvent::NoDigest {
        packet: Packet::C1,
        version_set: false
    }));
    assert_eq!(
        &server.take_remaining()[..],
        &streams.client[1 + 2 * PACKET_LEN..],
        "connect and what follows are handed back untouched"
    );
    // Against the real server's S1 (not ours), the passive analysis classifies both answers.
    let analysed = analyze(
        &streams.client[..1 + 2 * PACKET_LEN],
        &streams.server[..1 + 2 * PACKET_LEN],
    );
    let ids: Vec<&str> = analysed.iter().map(id).collect();
    assert_eq!(
        ids,
        [
            "hs.c0-version",
            "hs.c1-fields",
            "hs.c1-no-digest",
            "hs.s0-version",
            "hs.s1-fields",
            "hs.s1-no-digest",
            "hs.mode-simple",
            "hs.s2-echo-from-8",
            "hs.c2-echo-from-8"
        ]
    );
}

// ----- the emulators -----

/// Names of the client's messages other than media and acknowledgements, repeats of the same
/// name counted once.
fn names(all: impl Iterator<Item = (u8, String)>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (type_id, name) in all {
        if !matches!(type_id, 3 | 8 | 9) && out.last() != Some(&name) {
            out.push(name);
        }
    }
    out
}

fn the_obs_profile_sends_what_obs_sent_in_a_real_capture() {
    let streams = streams(OBS27_TO_NGINX);
    let mut reader = ChunkReader::new(ChunkLimits::default());
    reader.feed(&streams.client[3073..]);
    let mut real = Vec::new();
    while let Some(e) = reader.poll().expect("the capture decodes") {
        if let ReadEvent::Message(m) = e {
            let name = Message::decode(&m)
                .map(|d| d.name().to_string())
                .unwrap_or_default();
            real.push((m.type_id, name));
        }
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sink = std::sync::Arc::new(CollectSink::default());
    let emulated = rt.block_on(async {
        let mut serve = ServeOptions::default();
        serve.listen = ([127, 0, 0, 1], 0).into();
        let server = Server::bind(serve, sink.clone()).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let (target, _) = Target::parse(&format!("rtmp://{addr}/live")).unwrap();
        let mut options = CaseOptions::default();
        options.media_duration = Duration::from_millis(300);
        let obs = profile::by_name("obs").unwrap();
        let r = run_case(&obs, Variant::Default, &target, Some("k"), 1, &options).await;
        let _ = stop.send(());
        let _ = task.await;
        r
    });
    assert!(!emulated.status.is_failure(), "{:?}", emulated.diagnosis);
    let transcripts = sink.transcripts.lock().unwrap();
    let server_view = transcripts.values().next().expect("one connection");
    let ours = names(
        server_view
            .messages(Direction::ClientToServer)
            .map(|m| (m.type_id, m.name().to_string())),
    );
    assert_eq!(
        ours,
        names(real.into_iter()),
        "emulated obs (left) vs OBS 27 in the capture (right)"
    );
}

// ----- the capture reader, link layers and reassembly -----

/// (format, frames, TCP segments, bytes of TCP payload, segments through a tunnel) of a capture.
fn census(relative: &str) -> (Format, usize, usize, usize, usize) {
    let mut reader = open(relative);
    let format = reader.format();
    let (mut frames, mut segments, mut bytes, mut tunnelled) = (0, 0, 0, 0);
    for frame in reader.by_ref() {
        let frame = frame.expect("the shared captures are sound");
        frames += 1;
        match tcp_segment(frame.link_type, &frame.data) {
            Ok(Some(s)) => {
                segments += 1;
                bytes += s.payload.len();
                tunnelled += s.tunnel.is_some() as usize;
            }
            Ok(None) => {}
            // Damaged on the wire (the corruption capture); counted by its own test.
            Err(LinkError::Malformed { layer: "TCP", .. }) => {}
            Err(e) => panic!("{relative}: {e}"),
        }
    }
    (format, frames, segments, bytes, tunnelled)
}

fn every_shared_capture_decodes_to_tcp() {
    for file in DECODED_TO_TCP {
        let (_, frames, segments, bytes, _) = census(file);
        assert!(
            frames > 0 && segments > 0 && bytes > 3073,
            "{file}: {frames} frames, {segments} segments, {bytes} bytes"
        );
    }
}

fn the_ndpi_capture_has_tcp_inside_vlan_and_gtp_u() {
    let (format, _, segments, _, tunnelled) = census(NDPI_TUNNELS);
    assert_eq!(format, Format::PcapNg);
    assert!(
        tunnelled > 0 && tunnelled < segments,
        "{tunnelled} of {segments} segments tunnelled"
    );
}

fn pcap_and_pcapng_of_the_same_session_agree() {
    let (a, b) = (census(FFMPEG_TO_NGINX_PCAP), census(FFMPEG_TO_NGINX_PCAPNG));
    assert_eq!((a.0, b.0), (Format::Pcap, Format::PcapNg));
    assert_eq!((a.2, a.3), (b.2, b.3), "same segments and payload bytes");
}

fn only_the_corruption_capture_has_damaged_tcp_headers() {
    for (relative, expected) in [(VLC_CORRUPT, 9), (VLC_DELAY, 0), (OBS27_TO_NGINX, 0)] {
        let damaged = open(relative)
            .map(|f| f.unwrap())
            .filter(|f| {
                matches!(
                    tcp_segment(f.link_type, &f.data),
                    Err(LinkError::Malformed { layer: "TCP", .. })
                )
            })
            .count();
        assert_eq!(damaged, expected, "{relative}");
    }
}

fn the_corrupted_vlc_capture_reassembles_into_an_rtmp_stream() {
    let reader = open(VLC_CORRUPT);
    // The server's direction (source port 1935) of the one RTMP flow.
    let mut r = Reassembler::new(4 << 20);
    let mut stream = Vec::new();
    let mut gaps = 0;
    let mut take = |pieces: Vec<Piece>, stream: &mut Vec<u8>| {
        for p in pieces {
            match p {
                Piece::Data { bytes, .. } => stream.extend(bytes),
                Piece::Gap { .. } => gaps += 1,
            }
        }
    };
    for frame in reader {
        let frame = frame.unwrap();
        let Ok(Some(s)) = tcp_segment(frame.link_type, &frame.data) else {
            continue;
        };
        if s.src.port() != 1935 {
            continue;
        }
        if s.syn {
            r.syn(s.seq);
        }
        take(r.segment(s.seq, frame.time, s.payload), &mut stream);
    }
    take(finish(&mut r), &mut stream);
    assert!(
        r.retransmitted_bytes > 100_000,
        "{} bytes retransmitted",
        r.retransmitted_bytes
    );
    assert_eq!(stream[0], 3, "S0");
    assert!(stream.len() > 1_000_000, "{} bytes", stream.len());
    // The reassembled stream reads as chunks past the handshake for a good while.
    let mut reader = ChunkReader::new(ChunkLimits::default());
    reader.feed(&stream[3073..]);
    let mut messages = 0;
    while let Ok(Some(e)) = reader.poll() {
        if matches!(e, ReadEvent::Message(_)) {
            messages += 1;
        }
    }
    assert!(messages > 100, "{messages} messages, {gaps} gaps");
}

fn main() {
    let shared = Need::SharedCapture;
    support::trials::run(vec![
        trial!(
            obs_publish_to_nginx_decodes_to_the_end,
            [shared(OBS27_TO_NGINX)]
        ),
        trial!(
            obs_publish_session_decodes_with_real_field_values,
            [shared(OBS27_TO_NGINX)]
        ),
        trial!(
            flash9_simple_handshake_from_the_wireshark_sample,
            [shared(FLASH9_PLAY)]
        ),
        trial!(
            the_obs_profile_sends_what_obs_sent_in_a_real_capture,
            [shared(OBS27_TO_NGINX)]
        ),
        trial!(
            every_shared_capture_decodes_to_tcp,
            DECODED_TO_TCP.map(shared).to_vec()
        ),
        trial!(
            the_ndpi_capture_has_tcp_inside_vlan_and_gtp_u,
            [shared(NDPI_TUNNELS)]
        ),
        trial!(
            pcap_and_pcapng_of_the_same_session_agree,
            [shared(FFMPEG_TO_NGINX_PCAP), shared(FFMPEG_TO_NGINX_PCAPNG)]
        ),
        trial!(
            only_the_corruption_capture_has_damaged_tcp_headers,
            [
                shared(VLC_CORRUPT),
                shared(VLC_DELAY),
                shared(OBS27_TO_NGINX)
            ]
        ),
        trial!(
            the_corrupted_vlc_capture_reassembles_into_an_rtmp_stream,
            [shared(VLC_CORRUPT)]
        ),
    ]);
}
