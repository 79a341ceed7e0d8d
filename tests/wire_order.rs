//! The transcript against the pcap of the same run: per direction, the transcript's segments
//! (every read and write that carries handshake bytes) are the capture's frames that carry
//! them, in order, of the same sizes and at the same times; every message the transcript shows
//! is one replay decodes from the capture, in the same order, at the time of the frame that
//! completed it; and across both directions the transcript's reads, writes and messages come in
//! the order of the frames that carried them.
//!
//! The drivers stamp a read or write with one clock reading for the transcript and the pcap
//! alike, so the times agree to the pcap's resolution (a microsecond, and a microsecond more
//! where the file's start falls between two): no tolerance is needed for the scheduler.
//!
//! In memory every profile meets every personality (each variant too under the personalities
//! whose handshake writes differ); over TCP, a few cases of both ends at once, FFmpeg
//! publishing to `serve --personality ffmpeg`, and `probe --pcap` through the built binary,
//! against the built-in server and against `ffmpeg -listen 1`.
//!
//! One file past 600 lines: every test holds its transcripts against its pcap files through the
//! one `check` at its top.

mod support;

use rtmp_probe::capture::link::tcp_segment;
use rtmp_probe::capture::CaptureReader;
use rtmp_probe::emulate::case::{CaseOptions, Target};
use rtmp_probe::emulate::{memory, profile, variant::Variant};
use rtmp_probe::replay::replay;
use rtmp_probe::serve::{personality, ServeOptions};
use rtmp_probe::transcript::{
    Direction, Event, EventKind, MessageContent, MessageEvent, Transcript,
};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::trials::Need;
use support::{ffmpeg_publish, free_port, run_bounded, wait_for_listener, ChildGuard, Running};

/// The pcap's resolution, and the rounding of its start.
const TOLERANCE_US: u64 = 2;
/// C0+C1+C2, or S0+S1+S2.
const HANDSHAKE: u64 = 3073;

/// One read or write as the pcap has it (rtmp-probe writes one frame per read or write).
#[derive(Debug, Clone)]
struct Frame {
    /// As Wireshark numbers frames, from 1.
    number: u64,
    /// Since the flow's SYN, when its TCP connection was made.
    at_us: u64,
    direction: Direction,
    /// Where its first byte is in its direction's stream.
    start: u64,
    len: usize,
}

/// A message replay decoded from the capture, and the frame that completed it.
#[derive(Debug, Clone)]
struct Decoded {
    message: MessageEvent,
    last_frame: u64,
}

/// The flow of a capture a transcript is about.
struct Flow {
    frames: Vec<Frame>,
    messages: Vec<Decoded>,
}

fn direction_of(src: SocketAddr, client: SocketAddr) -> Direction {
    if src == client {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    }
}

/// The frames and decoded messages of the flow between `ends` (client, server), or of the
/// capture's only flow.
fn flow(pcap: &[u8], ends: Option<(SocketAddr, SocketAddr)>) -> Flow {
    let mut reader = CaptureReader::new(pcap).expect("a pcap file");
    let mut frames = Vec::new();
    let mut syn: Option<(SocketAddr, SocketAddr, Duration)> = None;
    let mut offsets = [0u64; 2];
    while let Some(frame) = reader.next_frame() {
        let frame = frame.expect("an undamaged pcap file");
        let Some(segment) = tcp_segment(frame.link_type, &frame.data).expect("a TCP frame") else {
            continue;
        };
        let in_flow = |client: SocketAddr, server: SocketAddr| {
            (segment.src, segment.dst) == (client, server)
                || (segment.src, segment.dst) == (server, client)
        };
        if let Some((client, server)) = ends {
            if !in_flow(client, server) {
                continue;
            }
        }
        let (client, _, opened) = match syn {
            Some(s) => s,
            None => {
                assert!(segment.syn, "the flow starts with its SYN");
                let s = (segment.src, segment.dst, frame.time);
                syn = Some(s);
                s
            }
        };
        assert!(
            ends.is_some() || in_flow(client, syn.unwrap().1),
            "one flow per file here"
        );
        if segment.payload.is_empty() {
            continue;
        }
        let direction = direction_of(segment.src, client);
        let side = usize::from(direction == Direction::ServerToClient);
        frames.push(Frame {
            number: frame.index + 1,
            at_us: (frame.time - opened).as_micros() as u64,
            direction,
            start: offsets[side],
            len: segment.payload.len(),
        });
        offsets[side] += segment.payload.len() as u64;
    }
    let (client, server, _) = syn.expect("a flow");
    let (reports, error) = replay(CaptureReader::new(pcap).expect("a pcap file"), |_| {});
    assert!(error.is_none(), "{error:?}");
    let report = reports
        .into_iter()
        .find(|r| (r.client, r.server) == (client, server))
        .expect("replay decodes the flow");
    let messages = report
        .transcript
        .events
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Message(message) => Some(Decoded {
                message,
                last_frame: *e.frames.last().expect("replay says which frames"),
            }),
            _ => None,
        })
        .collect();
    Flow { frames, messages }
}

/// What was checked of one transcript.
#[derive(Debug, Default, Clone, Copy)]
struct Checked {
    segments: usize,
    messages: usize,
    /// Directions whose messages were held by time after bytes a reader cannot take apart.
    unreadable: usize,
}

impl std::ops::AddAssign for Checked {
    fn add_assign(&mut self, other: Checked) {
        self.segments += other.segments;
        self.messages += other.messages;
        self.unreadable += other.unreadable;
    }
}

/// The same message: the fields its chunks carry outright. A message stream id or a timestamp
/// can be carried by inheritance (a chunk stream opened without a type-0 header, a clock offset
/// by an epoch), and some personalities make the reader inherit other values than the writer
/// meant: the transcript says what the writer meant, replay what a reader takes.
fn same_message(a: &MessageEvent, b: &MessageEvent) -> bool {
    (a.direction, a.csid, a.type_id, a.len) == (b.direction, b.csid, b.type_id, b.len)
}

/// A message replay could not take apart: its type unknown or its body undecodable.
fn unreadable_content(message: &MessageEvent) -> bool {
    matches!(
        message.content,
        MessageContent::Unknown { .. } | MessageContent::Undecodable { .. }
    )
}

/// Holds `transcript` against the pcap of the same run; the error says what differs, where.
fn check(transcript: &Transcript, pcap: &[u8]) -> Result<Checked, String> {
    let connected = transcript.events.iter().find_map(|e| match &e.kind {
        EventKind::Connected { client, server } => Some((e.at_us, client, server)),
        _ => None,
    });
    // The transcript's zero is the connection's start for serve; a client's counts from
    // before its TCP connect, which is the pcap's SYN.
    let origin = connected.map_or(0, |(at, ..)| at);
    let ends = connected.and_then(|(_, c, s)| Some((c.parse().ok()?, s.parse().ok()?)));
    let flow = flow(pcap, ends);
    let at = |e: &Event| e.at_us.saturating_sub(origin);
    let close = |a: u64, b: u64| a.abs_diff(b) <= TOLERANCE_US;
    let mut checked = Checked::default();
    // Each wire event's place in the transcript, the frame that carried it, and its words.
    let mut order: Vec<(usize, u64, String)> = Vec::new();
    for direction in [Direction::ClientToServer, Direction::ServerToClient] {
        let arrow = direction.arrow();
        let expected: Vec<&Frame> = flow
            .frames
            .iter()
            .filter(|f| f.direction == direction && f.start < HANDSHAKE)
            .collect();
        let segments: Vec<(usize, &Event)> = transcript
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.kind, EventKind::Segment { direction: d, .. } if d == direction))
            .collect();
        let sizes = |v: &mut dyn Iterator<Item = usize>| v.collect::<Vec<_>>();
        let said = sizes(&mut segments.iter().map(|(_, e)| match e.kind {
            EventKind::Segment { len, .. } => len,
            _ => unreachable!(),
        }));
        let captured = sizes(&mut expected.iter().map(|f| f.len));
        if said != captured {
            return Err(format!(
                "{arrow} segments: the transcript has {said:?}, the pcap's frames carrying the handshake {captured:?}"
            ));
        }
        for ((index, event), frame) in segments.iter().zip(&expected) {
            if !close(at(event), frame.at_us) {
                return Err(format!(
                    "{arrow} {} B: at {} µs in the transcript, {} µs in frame {}",
                    frame.len,
                    at(event),
                    frame.at_us,
                    frame.number
                ));
            }
            order.push((*index, frame.number, format!("{arrow} {} B", frame.len)));
        }
        checked.segments += segments.len();
        // Messages: each one the transcript shows, in order, among replay's, at the time of
        // the frame that completed it. Where a reader cannot take the bytes apart (a
        // personality that opens a chunk stream with a stale type-2 or type-3 header on
        // purpose), replay's messages stop being the writer's: from there the writer's messages
        // are held to the frame its clock names, a write of theirs at that very time.
        let mut decoded = flow
            .messages
            .iter()
            .filter(|d| d.message.direction == direction);
        let mut unreadable = false;
        for (index, event) in transcript.events.iter().enumerate() {
            let EventKind::Message(message) = &event.kind else {
                continue;
            };
            if message.direction != direction {
                continue;
            }
            let line = format!("{arrow} {}", message.summary());
            let frame = loop {
                if unreadable {
                    let write = flow
                        .frames
                        .iter()
                        .find(|f| f.direction == direction && close(f.at_us, at(event)));
                    break write.ok_or_else(|| {
                        format!(
                            "{line}: no frame at {} µs (after bytes a reader cannot take apart)",
                            at(event)
                        )
                    })?;
                }
                match decoded.next() {
                    Some(d) if same_message(&d.message, message) => {
                        break flow
                            .frames
                            .iter()
                            .find(|f| f.number == d.last_frame)
                            .expect("replay's frame is a data frame")
                    }
                    // What a transcript leaves out: metadata serve forwards to a player.
                    Some(d) if d.message.type_id == 18 => continue,
                    Some(d) if unreadable_content(&d.message) => unreadable = true,
                    Some(d) => {
                        return Err(format!(
                            "{line}: the pcap has {} before it, which the transcript does not show",
                            d.message.summary()
                        ))
                    }
                    None => return Err(format!("{line}: not in the pcap")),
                }
            };
            if !close(at(event), frame.at_us) {
                return Err(format!(
                    "{line}: at {} µs in the transcript, completed by frame {} at {} µs",
                    at(event),
                    frame.number,
                    frame.at_us
                ));
            }
            order.push((index, frame.number, line));
            checked.messages += 1;
        }
        if unreadable {
            checked.unreadable += 1;
        }
    }
    // Across both directions: the transcript's order is the frames' order.
    order.sort_by_key(|(index, ..)| *index);
    for pair in order.windows(2) {
        let [(_, a, first), (_, b, second)] = pair else {
            unreachable!()
        };
        if b < a {
            return Err(format!(
                "{second} (frame {b}) comes after {first} (frame {a}) in the transcript"
            ));
        }
    }
    if checked.segments == 0 {
        return Err("nothing to check: no segment in the transcript".into());
    }
    Ok(checked)
}

/// What one case's check is about, for a failure's words.
fn held(what: &str, transcript: &Transcript, pcap: &[u8]) -> Checked {
    check(transcript, pcap).unwrap_or_else(|e| {
        panic!(
            "{what}: {e}\n{}",
            rtmp_probe::transcript::render::TextRenderer::default().render(transcript)
        )
    })
}

fn memory_options() -> CaseOptions {
    let mut options = support::quick_case_options();
    options.media_duration = Duration::from_millis(300);
    options
}

/// The personalities whose writes a reader cannot take apart on purpose (a chunk stream
/// opened with a stale type-2 or type-3 header).
const UNREADABLE_BY_DESIGN: [&str; 2] = ["type2-open", "type3-open"];

/// The personalities whose handshake writes differ in grouping and time: every variant's
/// segmentation meets them.
const HANDSHAKE_PERSONALITIES: [&str; 6] = [
    "reference",
    "ffmpeg",
    "twitch",
    "nginx",
    "wait-c2",
    "s0-after-c1",
];

fn every_profile_meets_every_personality_in_memory() {
    let options = memory_options();
    let (profiles, personalities) = (profile::all(), personality::all());
    let mut total = Checked::default();
    let mut cases = 0;
    let mut pairs = 0;
    let mut failures = Vec::new();
    for p in &personalities {
        let variants: &[Variant] = if HANDSHAKE_PERSONALITIES.contains(&p.name) {
            &Variant::ALL
        } else {
            &[Variant::Default]
        };
        for c in &profiles {
            pairs += 1;
            for &variant in variants {
                let (result, wire) = memory::run_case_recorded(c, variant, p, &options);
                let what = format!("{} under {}", result.id, p.name);
                let client = &result.worst.as_ref().expect("an outcome").transcript;
                let server = &wire.server_transcript;
                for (end, checked) in [
                    ("client", check(client, &wire.client_pcap)),
                    ("server", check(server, &wire.server_pcap)),
                ] {
                    match checked {
                        Ok(c) if c.unreadable > 0 && !UNREADABLE_BY_DESIGN.contains(&p.name) => {
                            failures.push(format!(
                                "{what}, {end}: a reader cannot take the bytes apart"
                            ))
                        }
                        Ok(c) => total += c,
                        Err(e) => failures.push(format!("{what}, {end}: {e}")),
                    }
                }
                cases += 1;
            }
        }
    }
    eprintln!(
        "in memory: {} profiles x {} personalities ({pairs} pairs; {cases} cases with every \
         variant under {} of them; both ends): {} segments and {} messages held against the \
         pcap",
        profiles.len(),
        personalities.len(),
        HANDSHAKE_PERSONALITIES.len(),
        total.segments,
        total.messages
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(pairs, profiles.len() * personalities.len());
    assert!(total.messages > cases, "{total:?}");
    // The fallback for unreadable bytes was needed, and only where it is by design.
    assert!(total.unreadable > 0, "{total:?}");
}

/// One case over TCP against the built-in server with `personality`, both ends recording a
/// pcap: the client's transcript against its pcap, the server's against its own.
fn tcp_case(personality_name: &str, profile_name: &str, variant: Variant) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let server_pcap = dir.path().join("serve.pcap");
    let client_pcap = dir.path().join("probe.pcap");
    let mut options = ServeOptions::default();
    options.personality = personality::by_name(personality_name).expect("personality");
    options.seed = Some(3);
    options.pcap = Some(server_pcap.clone());
    let server = Running::start(options);
    let (target, _) = Target::parse(&format!("rtmp://{}/live", server.addr)).unwrap();
    let mut case_options = CaseOptions::default();
    case_options.media_duration = Duration::from_millis(400);
    case_options.pcap = Some(client_pcap.clone());
    case_options.seed = Some(5);
    let c = profile::by_name(profile_name).expect("profile");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(rtmp_probe::emulate::run_case(
        &c,
        variant,
        &target,
        Some("wire"),
        1,
        &case_options,
    ));
    let what = format!("{} under {personality_name} over TCP", result.id);
    let client = result.worst.expect("an outcome").transcript;
    let mut checked = held(
        &format!("{what}, client"),
        &client,
        &std::fs::read(&client_pcap).unwrap(),
    );
    // The server's file is complete once it has stopped.
    let transcripts = server.finish();
    let pcap = std::fs::read(&server_pcap).unwrap();
    assert!(!transcripts.is_empty());
    for (n, t) in transcripts.iter().enumerate() {
        checked += held(&format!("{what}, server connection {}", n + 1), t, &pcap);
    }
    checked
}

fn both_ends_of_tcp_runs_agree_with_their_pcaps() {
    let mut total = Checked::default();
    let cases = [
        // The case: C2, then connect.
        ("reference", "gstreamer", Variant::Default),
        // The personality's pauses between S0, S1 and S2.
        ("ffmpeg", "obs", Variant::Default),
        ("twitch", "ffmpeg", Variant::Default),
        // S0+S1, then S2; C2 sent with connect.
        ("nginx", "flash", Variant::Default),
        ("wait-c2", "rtmpdump", Variant::SplitC0),
        // A player with its companion publisher; the server closes after its last answer.
        ("play-stream-not-found", "ffmpeg-play", Variant::Default),
        ("reference", "gstreamer-play", Variant::Coalesced),
    ];
    for (personality_name, profile_name, variant) in cases {
        total += tcp_case(personality_name, profile_name, variant);
    }
    eprintln!(
        "over TCP: {} cases, {} segments and {} messages held against the pcaps",
        cases.len(),
        total.segments,
        total.messages
    );
}

/// The transcripts in `serve --json` or `probe --json` output, by connection (probe's is 0).
fn json_transcripts(out: &str) -> BTreeMap<u64, Transcript> {
    let mut transcripts: BTreeMap<u64, Transcript> = BTreeMap::new();
    for line in out.lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
        if value.get("at_us").is_none() {
            continue;
        }
        let conn = value.get("conn").and_then(|c| c.as_u64()).unwrap_or(0);
        let event: Event = serde_json::from_value(value).expect("a transcript event");
        transcripts.entry(conn).or_default().events.push(event);
    }
    transcripts
}

/// `serve` (the built binary) with `args`, on a fresh port; stopped with SIGINT when dropped.
struct Serve {
    child: ChildGuard,
    port: u16,
    out: std::thread::JoinHandle<String>,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let port = free_port();
        let mut child = ChildGuard(
            support::rtmp_probe_command()
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawning serve"),
        );
        let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        assert!(wait_for_listener(
            ([127, 0, 0, 1], port).into(),
            Duration::from_secs(10)
        ));
        Serve { child, port, out }
    }

    /// Stops it as a user does (SIGINT) and returns what it printed.
    fn stop(self) -> String {
        // SAFETY: kill with the pid of a child this test owns and has not reaped.
        assert_eq!(
            unsafe { libc::kill(self.child.0.id() as libc::pid_t, libc::SIGINT) },
            0
        );
        let mut child = self.child;
        let started = Instant::now();
        while child.0.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve did not stop"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        self.out.join().unwrap()
    }
}

fn real_ffmpeg_publishing_to_serve_ffmpeg_agrees_with_its_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("s.pcap");
    let serve = Serve::start(&[
        "--personality",
        "ffmpeg",
        "--seed",
        "1",
        "--json",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    let url = format!("rtmp://127.0.0.1:{}/live/demo", serve.port);
    let (finished, log) = run_bounded(ffmpeg_publish(&url, 1), Duration::from_secs(30));
    assert!(finished, "{log}");
    let out = serve.stop();
    let transcripts = json_transcripts(&out);
    let pcap = std::fs::read(&pcap).unwrap();
    let transcript = transcripts.get(&1).expect("connection 1");
    let checked = held("FFmpeg to serve --personality ffmpeg", transcript, &pcap);
    // S0, S1 and S2 as three writes, at three times: the personality's pattern.
    let writes: Vec<(u64, usize)> = transcript
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Segment {
                direction: Direction::ServerToClient,
                len,
            } => Some((e.at_us, len)),
            _ => None,
        })
        .collect();
    assert_eq!(
        writes.iter().map(|w| w.1).collect::<Vec<_>>(),
        [1, 1536, 1536]
    );
    assert!(
        writes[1].0 >= writes[0].0 + 1760,
        "S1 after the pause: {writes:?}"
    );
    assert!(checked.messages > 5, "{checked:?}");
}

/// `probe URL --json --pcap FILE` through the built binary; its transcript against its pcap.
fn probe_with_pcap(url: &str, profile_name: &str, dir: &Path) -> Checked {
    let pcap = dir.join(format!("{profile_name}.pcap"));
    let output = support::rtmp_probe_command()
        .args(["probe", url, "--profile", profile_name, "--duration", "0.3"])
        .args(["--json", "--pcap", pcap.to_str().unwrap()])
        .output()
        .expect("running probe");
    let out = String::from_utf8_lossy(&output.stdout);
    let transcripts = json_transcripts(&out);
    let transcript = transcripts.get(&0).expect("probe's transcript");
    let checked = held(
        &format!("probe --profile {profile_name} {url}"),
        transcript,
        &std::fs::read(&pcap).unwrap(),
    );
    // The order: the segment that completes C2 before connect (or carrying it).
    let mut sent = 0;
    let c2 = transcript.events.iter().position(|e| match e.kind {
        EventKind::Segment {
            direction: Direction::ClientToServer,
            len,
        } => {
            sent += len;
            sent >= 3073
        }
        _ => false,
    });
    let connect = transcript
        .events
        .iter()
        .position(|e| matches!(&e.kind, EventKind::Message(m) if m.name() == "connect"));
    assert!(c2 < connect, "C2 at {c2:?}, connect at {connect:?}");
    checked
}

fn probe_pcap_through_the_binary_against_the_built_in_server() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(&["--seed", "1"]);
    let url = format!("rtmp://127.0.0.1:{}/live", serve.port);
    let mut total = Checked::default();
    for name in ["gstreamer", "obs", "flash"] {
        total += probe_with_pcap(&url, name, dir.path());
    }
    serve.stop();
    assert!(total.messages > 10, "{total:?}");
}

fn probe_pcap_through_the_binary_against_ffmpeg_listen() {
    let dir = tempfile::tempdir().unwrap();
    let (_ffmpeg, port) =
        support::ffmpeg_listen(Path::new("ffmpeg")).expect("ffmpeg -listen 1 listens");
    let url = format!("rtmp://127.0.0.1:{port}/live");
    let checked = probe_with_pcap(&url, "obs", dir.path());
    assert!(checked.messages > 3, "{checked:?}");
}

fn main() {
    support::trials::run(vec![
        trial!(every_profile_meets_every_personality_in_memory),
        trial!(both_ends_of_tcp_runs_agree_with_their_pcaps),
        trial!(
            real_ffmpeg_publishing_to_serve_ffmpeg_agrees_with_its_pcap,
            [Need::Program("ffmpeg")]
        ),
        trial!(probe_pcap_through_the_binary_against_the_built_in_server),
        trial!(
            probe_pcap_through_the_binary_against_ffmpeg_listen,
            [Need::Program("ffmpeg")]
        ),
    ]);
}
