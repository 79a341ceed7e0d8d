//! Issue 24: hand-built byte sequences for every way a sender stretches the chunk stream's rules
//! (tests/support/violations.rs), read by the observer directly and by replay from a pcap, each
//! message's fields asserted; read again as the specification has it (`--strict`) and as replay
//! read them before it read as receivers do; and sent to FFmpeg 5.1 as a receiver
//! (`ffmpeg -listen 1 ... -c copy -f flv`, then ffprobe), to hold what replay decodes against
//! what FFmpeg decodes. (tshark's dissection of the same pcaps: tests/tshark_agreement.rs.)

mod support;

use rtmp_probe::capture::CaptureReader;
use rtmp_probe::protocol::chunk::{ChunkLimits, ChunkReader, ReadEvent};
use rtmp_probe::protocol::connection::{diagnose_message, diagnose_read_event, Diagnostic, Side};
use rtmp_probe::protocol::message::Message;
use rtmp_probe::protocol::observe::{capture_limits, FlowObserver, Reading};
use rtmp_probe::replay::{replay_read, FlowReport, Observer, SeenMessage};
use rtmp_probe::transcript::{DiagnosticId, Direction};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::trials::Need;
use support::violations::{self, Expected, Sequence, PRELUDE};

/// What one reading made of a sequence: the messages after the prelude, the diagnostic ids,
/// and whether decoding stopped (chunk.error).
#[derive(Debug, Clone, PartialEq)]
struct Read_ {
    messages: Vec<Expected>,
    ids: Vec<String>,
    stopped: bool,
}

/// The client's bytes through an observer made by `observer`.
fn observed(sequence: &Sequence, mut observer: FlowObserver) -> Read_ {
    let (client, _) = violations::session(sequence);
    // In pieces of 100 bytes: readers must not depend on where reads end.
    for piece in client.chunks(100) {
        observer.feed(Side::Client, piece);
    }
    observer.end_of_stream(Side::Client);
    let mut read = Read_ {
        messages: Vec::new(),
        ids: Vec::new(),
        stopped: false,
    };
    let mut seen = 0;
    loop {
        let event = match observer.poll_chunk(Side::Client) {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(_) => {
                read.ids.push("chunk.error".into());
                read.stopped = true;
                break;
            }
        };
        let mut kinds = Vec::new();
        if let ReadEvent::Message(m) = &event {
            seen += 1;
            if seen > PRELUDE {
                read.messages.push(Expected::of(m));
            }
            kinds.extend(diagnose_message(m, &Message::decode(m)));
        }
        kinds.extend(diagnose_read_event(&event));
        for kind in kinds {
            let id = DiagnosticId::from(&Diagnostic {
                peer: Side::Client,
                kind,
            });
            read.ids.push(id.as_str().into());
        }
    }
    read
}

/// The client's messages and chunk diagnostics as replay reads a pcap of the sequence.
fn replayed(sequence: &Sequence, reading: Reading) -> (Read_, FlowReport) {
    struct Messages(Vec<Expected>);
    impl Observer for Messages {
        fn message(&mut self, seen: SeenMessage) {
            if seen.direction == Direction::ClientToServer {
                self.0.push(Expected::of(seen.message));
            }
        }
    }
    let pcap = violations::pcap(sequence);
    let reader = CaptureReader::new(std::io::Cursor::new(pcap)).expect("a pcap");
    let mut messages = Messages(Vec::new());
    let (mut flows, error) = replay_read(reader, reading, |_| {}, &mut messages);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(flows.len(), 1);
    let flow = flows.remove(0);
    let ids: Vec<String> = flow
        .transcript
        .diagnostic_ids()
        .into_iter()
        .map(|id| id.as_str())
        .filter(|id| id.starts_with("chunk.") || id.starts_with("msg."))
        .map(str::to_string)
        .collect();
    let read = Read_ {
        messages: messages.0.split_off(PRELUDE.min(messages.0.len())),
        stopped: ids.iter().any(|id| id == "chunk.error"),
        ids,
    };
    (read, flow)
}

fn the_observer_reads_every_sequence_as_receivers_do_and_names_each_violation() {
    let sequences = violations::sequences();
    assert_eq!(sequences.len(), 16);
    for sequence in &sequences {
        let read = observed(sequence, FlowObserver::new(capture_limits()));
        assert_eq!(read.messages, sequence.messages, "{}", sequence.name);
        assert_eq!(read.ids, sequence.ids, "{}", sequence.name);
        assert!(!read.stopped, "{}", sequence.name);
    }
}

fn replay_of_a_pcap_reads_every_sequence_so_too_with_frames_and_ids_where_they_happened() {
    for sequence in &violations::sequences() {
        let (read, flow) = replayed(sequence, Reading::Receivers);
        assert_eq!(read.messages, sequence.messages, "{}", sequence.name);
        assert_eq!(read.ids, sequence.ids, "{}", sequence.name);
        // Each diagnostic comes right before or after the message it concerns, and names the
        // frame that carried the chunk: the client's bytes after its handshake are frames 6 on.
        for event in &flow.transcript.events {
            if let rtmp_probe::transcript::EventKind::Diagnostic { id, .. } = &event.kind {
                if id.as_str().starts_with("chunk.") {
                    assert!(
                        !event.frames.is_empty() && event.frames.iter().all(|&f| f >= 6),
                        "{}: {id} {:?}",
                        sequence.name,
                        event.frames
                    );
                }
            }
        }
        // The media is listed message by message, in wire order.
        let media: Vec<u32> = flow
            .transcript
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                rtmp_probe::transcript::EventKind::Media(m) => Some(m.timestamp),
                _ => None,
            })
            .collect();
        let expected: Vec<u32> = sequence
            .messages
            .iter()
            .filter(|m| matches!(m.type_id, 8 | 9))
            .map(|m| m.timestamp)
            .collect();
        assert_eq!(media, expected, "{}", sequence.name);
    }
}

/// One row of the before/after table.
fn summary(read: &Read_) -> String {
    let ids: Vec<&str> = read
        .ids
        .iter()
        .map(String::as_str)
        .filter(|id| *id != "chunk.ext-ts-type3-repeated")
        .collect();
    format!(
        "{} messages{}{}",
        read.messages.len(),
        if ids.is_empty() { "" } else { ", " },
        ids.join(" ")
    )
}

fn strict_reads_as_the_specification_and_the_old_reading_lost_the_rest() {
    for sequence in &violations::sequences() {
        let name = &sequence.name;
        let now = observed(sequence, FlowObserver::new(capture_limits()));
        // How replay read before issue 24: the server's limits, no zero-state openings, every
        // full header a new message, conventions learnt.
        let before = observed(
            sequence,
            FlowObserver::with_readers(|| ChunkReader::new(ChunkLimits::default())),
        );
        let (strict, _) = replayed(sequence, Reading::Specification);
        eprintln!(
            "{name:45} | before: {:45} | now: {:45} | --strict: {}",
            summary(&before),
            summary(&now),
            summary(&strict)
        );
        if name.contains("opening") {
            // Read as the specification has it, the opening cannot be framed: the direction
            // stops there, with what came before it.
            for read in [&before, &strict] {
                assert!(read.stopped, "{name}");
                assert_eq!(
                    read.messages,
                    sequence.messages[..sequence.before],
                    "{name}"
                );
            }
        } else if name.contains("mid-message, same length") || name.contains("type-2 header") {
            // A header in the middle starts a new message: the partial picture is dropped
            // and the new one, short of its bytes, swallows what follows.
            for read in [&before, &strict] {
                assert!(
                    read.ids.contains(&"chunk.partial-dropped".to_string()),
                    "{name}"
                );
                assert_ne!(read.messages, sequence.messages, "{name}");
            }
        } else if name.contains("omitted") {
            assert_eq!(before, now, "{name}: conventions were learnt before too");
            // The 2012 text's reading takes 4 bytes of picture for a timestamp.
            assert_ne!(strict.messages, sequence.messages, "{name}");
        } else {
            assert_eq!(before, now, "{name}");
            assert_eq!(strict.messages, sequence.messages, "{name}");
        }
    }
}

/// The media packets of an FLV file as ffprobe lists them: (audio?, dts, size).
fn ffprobe_packets(flv: &Path) -> Vec<(bool, i64, usize)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_packets",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(flv)
        .output()
        .expect("ffprobe");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let audio_index: Vec<i64> = json["streams"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter(|s| s["codec_type"] == "audio")
                .filter_map(|s| s["index"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    json["packets"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| {
                    (
                        audio_index.contains(&p["stream_index"].as_i64().unwrap_or(-1)),
                        p["dts"].as_i64().unwrap_or(-1),
                        p["size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// FFmpeg 5.1 receiving the sequence's session as `ffmpeg -listen 1`, writing the stream as
/// FLV: (the packets it wrote, what it said on stderr).
fn ffmpeg_received(sequence: &Sequence, dir: &Path) -> (Vec<(bool, i64, usize)>, String) {
    let port = support::free_port();
    let flv = dir.join("out.flv");
    let mut child = support::ChildGuard(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "warning", "-nostdin", "-y"])
            .args([
                "-listen",
                "1",
                "-i",
                &format!("rtmp://127.0.0.1:{port}/live/x"),
            ])
            .args(["-c", "copy", "-copyts", "-f", "flv"])
            .arg(&flv)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning ffmpeg"),
    );
    let addr = ([127, 0, 0, 1], port).into();
    assert!(support::wait_for_listener(addr, Duration::from_secs(5)));
    let (mut socket, _) =
        support::client_handshake(addr, Duration::from_secs(5)).expect("handshake");
    // The handshake is the helper's; the chunk stream is the sequence's.
    socket.write_all(&violations::prelude()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    socket.write_all(&sequence.bytes).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(socket);
    let start = Instant::now();
    while child.0.try_wait().expect("waiting for ffmpeg").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "ffmpeg did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.0.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    (ffprobe_packets(&flv), stderr)
}

/// The media messages of `messages` as FFmpeg writes them to FLV: audio or not, the time since
/// the first by serial arithmetic (FFmpeg unwraps timestamps past 2^32), the tag's size without
/// its first byte; empty messages are no packets.
fn as_flv(messages: &[Expected]) -> Vec<(bool, i64, usize)> {
    let media: Vec<&Expected> = messages
        .iter()
        .filter(|m| matches!(m.type_id, 8 | 9) && m.len > 0)
        .collect();
    let first = media.first().map_or(0, |m| m.timestamp);
    let mut out: Vec<_> = media
        .iter()
        .map(|m| {
            (
                m.type_id == 8,
                i64::from(m.timestamp.wrapping_sub(first) as i32),
                m.len - 1,
            )
        })
        .collect();
    out.sort();
    out
}

fn ffmpeg_as_a_receiver_decodes_what_replay_decodes_except_where_it_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for sequence in &violations::sequences() {
        let name = &sequence.name;
        let (packets, stderr) = ffmpeg_received(sequence, dir.path());
        let first = packets.iter().map(|p| p.1).min().unwrap_or(0);
        let mut theirs: Vec<_> = packets.iter().map(|&(a, t, s)| (a, t - first, s)).collect();
        theirs.sort();
        let ours = as_flv(&sequence.messages);
        eprintln!(
            "{name:45} | FFmpeg: {} packets, replay: {}{}",
            theirs.len(),
            ours.len(),
            stderr
                .lines()
                .find(|l| l.contains("mismatch"))
                .map(|l| format!(" | {l}"))
                .unwrap_or_default()
        );
        if name.contains("another length") || name.contains("omitted") {
            // FFmpeg gives up here: rtmppkt.c fails the connection on a changed length ("RTMP
            // packet size mismatch"), and it always reads 4 bytes after a type-3 header whose
            // stream had an extended timestamp, so it misframes a sender that omits them.
            // What it wrote is what came before the violation.
            assert_eq!(
                theirs,
                as_flv(&sequence.messages[..sequence.before]),
                "{name}"
            );
            assert_ne!(theirs, ours, "{name}: replay reads on");
            if name.contains("another length") {
                assert!(
                    stderr.contains("RTMP packet size mismatch 200 != 300"),
                    "{stderr}"
                );
            }
        } else {
            assert_eq!(theirs, ours, "{name}: {stderr}");
        }
        compared += 1;
    }
    assert_eq!(compared, 16);
}

/// The command line: `replay` reads a type-1 opening through and names it, with its frame;
/// `replay --strict` stops that direction there and says why it cannot resume.
fn replay_and_replay_strict_from_the_command_line() {
    let sequence = violations::sequences()
        .into_iter()
        .find(|s| s.name == "type-1 opening, chunk stream 70")
        .expect("the class");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("type1-open.pcap");
    std::fs::write(&path, violations::pcap(&sequence)).unwrap();
    let capture = path.to_str().unwrap();
    let (code, out, err) = support::rtmp_probe(&["replay", capture, "--media"]);
    assert_eq!(code, 0, "{err}");
    let named = out
        .lines()
        .find(|l| l.contains("chunk.opened-from-zero-state"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        named.contains("chunk stream 70 opened with a type 1 header") && named.ends_with("[#6]"),
        "{named}"
    );
    assert!(
        out.contains("C->S  media audio ts=20 csid=70 msid=0 len=10"),
        "{out}"
    );
    assert!(!out.contains("chunk.error"), "{out}");
    let (code, out, err) = support::rtmp_probe(&["replay", capture, "--strict", "--json"]);
    assert_eq!(code, 0, "{err}");
    let error = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["id"] == "chunk.error")
        .unwrap_or_else(|| panic!("{out}"));
    let text = error["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("type 1 chunk on chunk stream 70 with no previous header")
            && text.contains("must open with a type 0 header"),
        "{text}"
    );
    assert_eq!(error["frames"], serde_json::json!([6]));
}

fn main() {
    support::trials::run(vec![
        trial!(the_observer_reads_every_sequence_as_receivers_do_and_names_each_violation),
        trial!(
            replay_of_a_pcap_reads_every_sequence_so_too_with_frames_and_ids_where_they_happened
        ),
        trial!(strict_reads_as_the_specification_and_the_old_reading_lost_the_rest),
        trial!(
            ffmpeg_as_a_receiver_decodes_what_replay_decodes_except_where_it_gives_up,
            [Need::Program("ffmpeg"), Need::Program("ffprobe")]
        ),
        trial!(replay_and_replay_strict_from_the_command_line),
    ]);
}
