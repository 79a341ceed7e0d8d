//! Seed inputs for the fuzz targets, from real sessions: the project's own captures and the
//! emulator profiles run against the reference server. Written by `cargo run --example fuzz-seeds`.
//!
//! Seeds are cut short (a handshake, the commands and the first media) so the corpus in the
//! repository stays small; the fuzzer needs their structure, not their length.

use super::chunk::{write_round_trip, RoundTripStep};
use super::client::{ClientInput, ClientStep};
use super::input::{cuts_for, InputWriter};
use super::session::{SessionInput, Step};
use crate::capture::reassembly::PieceRef;
use crate::capture::{CaptureError, CaptureReader};
use crate::protocol::chunk::{ChunkLimits, ExtendedTimestampConvention, RawMessage, ReadEvent};
use crate::protocol::connection::Side;
use crate::protocol::handshake::{HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::observe::FlowObserver;
use crate::replay::{replay_observed, Observer};
use crate::transcript::Direction;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How much of a chunk stream a seed keeps.
const STREAM_BYTES: usize = 16 * 1024;
/// Messages a round-trip seed keeps, and the payload bytes of each.
const ROUND_TRIP_MESSAGES: usize = 24;
const PAYLOAD_BYTES: usize = 2048;
/// Frames a capture seed keeps.
const CAPTURE_FRAMES: usize = 40;

/// One read or write of a TCP connection, as captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub direction: Direction,
    pub time: Duration,
    pub bytes: Vec<u8>,
}

/// The TCP flows of a capture, each as its segments in capture order. A flow stops at its
/// first gap: a seed must be a stream a peer could have sent.
pub fn flows_in_capture(capture: &[u8]) -> Result<Vec<Vec<Segment>>, CaptureError> {
    /// Each flow's data pieces, by flow id, as `replay` reassembles them.
    #[derive(Default)]
    struct Collector(BTreeMap<usize, (Vec<Segment>, bool)>);
    impl Observer for Collector {
        fn piece(&mut self, flow: usize, side: usize, piece: PieceRef<'_>) {
            let (segments, broken) = self.0.entry(flow).or_default();
            match piece {
                PieceRef::Data { time, bytes, .. } if !*broken => segments.push(Segment {
                    direction: if side == 0 {
                        Direction::ClientToServer
                    } else {
                        Direction::ServerToClient
                    },
                    time,
                    bytes: bytes.to_vec(),
                }),
                _ => *broken = true,
            }
        }
    }
    let mut collector = Collector::default();
    let (_, error) = replay_observed(CaptureReader::new(capture)?, |_| {}, &mut collector);
    if let Some(e) = error {
        return Err(e);
    }
    Ok(collector
        .0
        .into_values()
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty())
        .collect())
}

/// The seed files of every target: target name -> file name -> contents.
pub type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn stream(segments: &[Segment], direction: Direction) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut sizes = Vec::new();
    for s in segments.iter().filter(|s| s.direction == direction) {
        bytes.extend_from_slice(&s.bytes);
        sizes.push(s.bytes.len());
    }
    (bytes, sizes)
}

/// Segment sizes cut to the bytes from `start` to `end` of the stream.
fn sizes_within(sizes: &[usize], start: usize, end: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    for &s in sizes {
        let (from, to) = (at.max(start), (at + s).min(end));
        if to > from {
            out.push(to - from);
        }
        at += s;
    }
    out
}

/// The messages of one direction's chunk stream, with the chunk size changes.
fn messages(side: Side, stream: &[u8]) -> Vec<RoundTripStep> {
    let mut observer = FlowObserver::new(ChunkLimits::default());
    observer.feed(side, stream);
    observer.end_of_stream(side);
    let mut out = Vec::new();
    while let Ok(Some(event)) = observer.poll_chunk(side) {
        match event {
            ReadEvent::Message(m) if m.type_id != 1 => out.push(RoundTripStep::Message(m)),
            ReadEvent::ChunkSizeChanged { to, .. } => out.push(RoundTripStep::ChunkSize(to)),
            _ => {}
        }
    }
    out
}

fn truncated(m: &RawMessage) -> RawMessage {
    RawMessage {
        payload: m.payload.slice(..m.payload.len().min(PAYLOAD_BYTES)),
        ..m.clone()
    }
}

/// Adds the seeds one recorded flow gives every target, named after `name`.
pub fn add_flow_seeds(seeds: &mut Seeds, name: &str, segments: &[Segment]) {
    let mut add = |target: &'static str, file: String, bytes: Vec<u8>| {
        let files = seeds.entry(target).or_default();
        // Many sessions send the same commands; one copy of an input is enough.
        if !files.values().any(|b| *b == bytes) {
            files.insert(file, bytes);
        }
    };
    for (direction, side, peer) in [
        (Direction::ClientToServer, "client", Side::Client),
        (Direction::ServerToClient, "server", Side::Server),
    ] {
        let (bytes, sizes) = stream(segments, direction);
        if bytes.len() < HANDSHAKE_LEN {
            continue;
        }
        let handshake_end = bytes.len().min(HANDSHAKE_LEN + 2048);
        let cuts = cuts_for(sizes_within(&sizes, 0, handshake_end));
        let mut w = InputWriter::default();
        w.u64(0).cuts(&cuts).rest(&bytes[..handshake_end]);
        match direction {
            Direction::ClientToServer => add("handshake_server", name.to_string(), w.bytes),
            Direction::ServerToClient => {
                add("handshake_client", format!("{name}-simple"), {
                    let mut w = InputWriter::default();
                    w.u64(0).u8(0).cuts(&cuts).rest(&bytes[..handshake_end]);
                    w.bytes
                });
                // An FFmpeg-like client: digest C1, C2 signed when S1 allows it.
                add("handshake_client", format!("{name}-digest"), {
                    let mut w = InputWriter::default();
                    w.u64(0)
                        .u8(1 | 3 << 3)
                        .cuts(&cuts)
                        .rest(&bytes[..handshake_end]);
                    w.bytes
                });
            }
        }
        let end = bytes.len().min(HANDSHAKE_LEN + STREAM_BYTES);
        let chunk_cuts = cuts_for(sizes_within(&sizes, HANDSHAKE_LEN, end));
        let mut w = InputWriter::default();
        w.cuts(&chunk_cuts).rest(&bytes[HANDSHAKE_LEN..end]);
        add("chunk_reader", format!("{name}-{side}"), w.bytes);

        let steps = messages(peer, &bytes);
        let kept: Vec<RoundTripStep> = steps
            .iter()
            .take(ROUND_TRIP_MESSAGES)
            .map(|s| match s {
                RoundTripStep::Message(m) => RoundTripStep::Message(truncated(m)),
                other => other.clone(),
            })
            .collect();
        add(
            "chunk_roundtrip",
            format!("{name}-{side}"),
            write_round_trip(ExtendedTimestampConvention::Repeat, &kept),
        );
        let mut seen = BTreeSet::new();
        for step in &steps {
            let RoundTripStep::Message(m) = step else {
                continue;
            };
            let m = truncated(m);
            // One seed per kind of message: media frames are all alike to the decoder.
            let kind = match m.type_id {
                8 | 9 => format!("{}-{:02x}", m.type_id, m.payload.first().unwrap_or(&0)),
                18 | 20 => format!("{}-{}", m.type_id, seen.len()),
                t => t.to_string(),
            };
            if !seen.insert(kind.clone()) || seen.len() > 24 {
                continue;
            }
            let mut message = vec![m.type_id];
            message.extend_from_slice(&m.payload);
            add("message", format!("{name}-{side}-{kind}"), message);
            if matches!(m.type_id, 18 | 20) {
                add("amf0", format!("{name}-{side}-{kind}"), m.payload.to_vec());
            }
        }
    }
    add("session", name.to_string(), session_seed(segments).write());
    add("client", name.to_string(), client_seed(segments).write());
}

/// One direction's segments for a seed, cut at `limit` bytes of that direction's stream: each
/// with the gap since the previous one in whole tenths of a second (so a re-run of the
/// emulators gives the same seeds; None for the first and for gaps under 100 ms), where it
/// starts in the stream, and its bytes.
fn paced_segments(
    segments: &[Segment],
    direction: Direction,
    limit: usize,
) -> Vec<(Option<u16>, usize, &[u8])> {
    let mut paced = Vec::new();
    let mut offset = 0usize;
    let mut last_time: Option<Duration> = None;
    for s in segments.iter().filter(|s| s.direction == direction) {
        if offset >= limit {
            break;
        }
        let tick = last_time.and_then(|last| {
            let ms = (s.time.saturating_sub(last).as_millis() / 100 * 100).min(u16::MAX as u128);
            (ms > 0).then_some(ms as u16)
        });
        last_time = Some(s.time);
        let take = s.bytes.len().min(limit - offset);
        paced.push((tick, offset, &s.bytes[..take]));
        offset += take;
    }
    paced
}

/// A server's side for the `client` target: its writes as the client's reads, with the gaps
/// between them as ticks, cut after the first media, then the server closing. The default
/// variant of the first profile; the fuzzer varies both.
fn client_seed(segments: &[Segment]) -> ClientInput {
    let mut steps = Vec::new();
    let limit = HANDSHAKE_LEN + STREAM_BYTES;
    for (tick, _, bytes) in paced_segments(segments, Direction::ServerToClient, limit) {
        steps.extend(tick.map(ClientStep::Tick));
        steps.push(ClientStep::Server(bytes.to_vec()));
    }
    steps.push(ClientStep::Eof);
    ClientInput {
        profile: 0,
        variant: 0,
        steps,
    }
}

/// A client session for the `session` target: the client's reads with the gaps between them
/// as ticks, C2 left to the harness's client core (so it answers the fuzzed server's S1), cut
/// after the first media, then the client closing.
fn session_seed(segments: &[Segment]) -> SessionInput {
    let mut steps = Vec::new();
    let limit = HANDSHAKE_LEN + STREAM_BYTES;
    let c1_end = 1 + PACKET_LEN;
    for (tick, start, bytes) in paced_segments(segments, Direction::ClientToServer, limit) {
        steps.extend(tick.map(Step::Tick));
        let end = start + bytes.len();
        if start < c1_end {
            steps.push(Step::Client(bytes[..end.min(c1_end) - start].to_vec()));
        }
        if start < HANDSHAKE_LEN && end > c1_end {
            steps.push(Step::ClientC2);
        }
        if end > HANDSHAKE_LEN {
            let from = start.max(HANDSHAKE_LEN) - start;
            steps.push(Step::Client(bytes[from..].to_vec()));
        }
    }
    steps.push(Step::Eof);
    SessionInput {
        personality: 0,
        signed_c2: false,
        steps,
    }
}

/// The first `frames` frames of a pcap file, as a pcap file.
pub fn truncated_pcap(pcap: &[u8], frames: usize) -> Result<Vec<u8>, pcap_file::PcapError> {
    let mut reader = pcap_file::pcap::PcapReader::new(pcap)?;
    let mut writer = pcap_file::pcap::PcapWriter::with_header(Vec::new(), reader.header())?;
    for _ in 0..frames {
        match reader.next_packet() {
            Some(packet) => {
                writer.write_packet(&packet?)?;
            }
            None => break,
        }
    }
    Ok(writer.into_writer())
}

/// Adds the seeds of one capture file: its flows, and its first frames for the `capture`
/// target.
pub fn add_capture_seeds(seeds: &mut Seeds, name: &str, pcap: &[u8]) -> Result<(), String> {
    let flows = flows_in_capture(pcap).map_err(|e| format!("{name}: {e}"))?;
    for (i, flow) in flows.iter().enumerate() {
        let flow_name = if flows.len() == 1 {
            name.to_string()
        } else {
            format!("{name}-{}", i + 1)
        };
        add_flow_seeds(seeds, &flow_name, flow);
    }
    let head = truncated_pcap(pcap, CAPTURE_FRAMES).map_err(|e| format!("{name}: {e}"))?;
    seeds
        .entry("capture")
        .or_default()
        .insert(format!("{name}.pcap"), head);
    Ok(())
}

/// Runs every emulator profile once against an in-process reference server on 127.0.0.1,
/// recording each case into `scratch`; returns (profile, pcap bytes).
pub async fn emulator_captures(scratch: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    use crate::emulate::{case::CaseOptions, case::Target, profile, run_case, variant::Variant};
    use crate::serve::{CollectSink, ServeOptions, Server};
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let server = Server::bind(
        ServeOptions {
            listen: ([127, 0, 0, 1], 0).into(),
            seed: Some(1),
            ..ServeOptions::default()
        },
        std::sync::Arc::new(CollectSink::default()),
    )
    .await
    .map_err(|e| format!("starting the reference server: {e}"))?;
    let addr = server.local_addr().map_err(|e| e.to_string())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let (target, _) = Target::parse(&format!("rtmp://{addr}/live"))?;
    let mut out = Vec::new();
    for p in profile::all() {
        let path: PathBuf = scratch.join(format!("{}.pcap", p.name));
        let options = CaseOptions {
            media_duration: Duration::from_millis(300),
            seed: Some(1),
            pcap: Some(path.clone()),
            ..CaseOptions::default()
        };
        let key = format!("seed-{}", p.name);
        let result = run_case(&p, Variant::Default, &target, Some(&key), 1, &options).await;
        if result.status.is_failure() {
            return Err(format!(
                "profile {} failed against the reference server: {}",
                p.name,
                result.verdict()
            ));
        }
        let pcap = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push((p.name.to_string(), pcap));
    }
    let _ = stop.send(());
    let _ = running.await;
    Ok(out)
}

/// Replaces each target's directory under `out` with its seeds; returns how many were written.
pub fn write_seeds(out: &Path, seeds: &Seeds) -> std::io::Result<usize> {
    let mut n = 0;
    for (target, files) in seeds {
        let dir = out.join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_capture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn a_capture_gives_every_target_a_seed_that_gets_somewhere() {
        let mut seeds = Seeds::new();
        add_capture_seeds(
            &mut seeds,
            "ffmpeg-publish-to-nginx",
            &project_capture("ffmpeg-publish-to-nginx.pcap"),
        )
        .unwrap();
        for (target, _) in super::super::TARGETS {
            assert!(seeds.contains_key(target), "no seed for {target}");
        }
        // The session seed is a whole publish: replayed, it reaches the publish command.
        let session = SessionInput::read(&seeds["session"]["ffmpeg-publish-to-nginx"]);
        assert!(matches!(session.steps.last(), Some(Step::Eof)));
        assert_eq!(
            session
                .steps
                .iter()
                .filter(|s| **s == Step::ClientC2)
                .count(),
            1
        );
        let client: Vec<u8> = session
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Client(b) => Some(b.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let publish = b"\x02\x00\x07publish";
        assert!(client.windows(publish.len()).any(|w| w == publish));
        // The client seed is the server's side of the same session: the handshake, then the
        // answer to connect, then the server closing.
        let client = ClientInput::read(&seeds["client"]["ffmpeg-publish-to-nginx"]);
        assert!(matches!(client.steps.last(), Some(ClientStep::Eof)));
        let server: Vec<u8> = client
            .steps
            .iter()
            .filter_map(|s| match s {
                ClientStep::Server(b) => Some(b.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(server.first(), Some(&3), "S0 first");
        let result = b"\x02\x00\x07_result";
        assert!(server[HANDSHAKE_LEN..]
            .windows(result.len())
            .any(|w| w == result));
        // Every seed runs clean through its target.
        for (target, files) in &seeds {
            let run = super::super::target(target).unwrap();
            for bytes in files.values() {
                run(bytes);
            }
        }
    }

    #[test]
    fn a_truncated_pcap_keeps_its_first_frames() {
        let head = truncated_pcap(&project_capture("gstreamer-publish-to-nginx.pcap"), 5).unwrap();
        let mut reader = CaptureReader::new(&head[..]).unwrap();
        let mut frames = 0;
        while let Some(frame) = reader.next_frame() {
            frame.unwrap();
            frames += 1;
        }
        assert_eq!(frames, 5);
    }
}
