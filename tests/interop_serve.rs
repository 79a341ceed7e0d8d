//! `rtmp-probe serve` with real RTMP peers on 127.0.0.1: FFmpeg publishing and playing (FFmpeg
//! validates the S1 digest and the S2 signature when it plays), rtmpdump playing and GStreamer's
//! rtmp2sink publishing. Every peer run is bounded in time.

mod support;

use rtmp_probe::serve::{personality, ServeOptions};
use rtmp_probe::transcript::{DiagnosticId, EventKind, Transcript};
use std::process::Command;
use std::time::Duration;
use support::trials::Need;
use support::{ffmpeg_publish, make_clip, run_bounded, stable_lines, Running};

/// The built-in server with `personality`, optionally recording FLV files or a pcap.
fn start(
    personality: &str,
    record_dir: Option<std::path::PathBuf>,
    pcap: Option<std::path::PathBuf>,
) -> Running {
    let mut options = ServeOptions::default();
    options.personality = personality::by_name(personality).expect("personality");
    options.seed = Some(7);
    options.handshake_timeout = Duration::from_secs(5);
    options.idle_timeout = Duration::from_secs(10);
    options.record_dir = record_dir;
    options.pcap = pcap;
    Running::start(options)
}

/// FFmpeg publishing `seconds` to `key` on its own thread, once the server has accepted it and
/// a few frames have passed (so a player joins a stream with media flowing).
fn live_publisher(
    server: &Running,
    key: &str,
    seconds: u32,
) -> (String, std::thread::JoinHandle<(bool, String)>) {
    let url = server.url(key);
    let publisher = std::thread::spawn({
        let url = url.clone();
        move || run_bounded(ffmpeg_publish(&url, seconds), Duration::from_secs(25))
    });
    wait_until_published(server, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    (url, publisher)
}

/// Waits (bounded) until some connection has been told NetStream.Publish.Start.
fn wait_until_published(server: &Running, limit: Duration) {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        let live = server
            .sink
            .transcripts
            .lock()
            .expect("lock")
            .values()
            .any(|t| sent_code(t, "NetStream.Publish.Start"));
        if live {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing was published within {limit:?}");
}

fn has_handshake(t: &Transcript, id: DiagnosticId) -> bool {
    t.events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Handshake { id: i, .. } if *i == id))
}

fn sent_code(t: &Transcript, code: &str) -> bool {
    t.messages(rtmp_probe::transcript::Direction::ServerToClient)
        .any(|m| m.summary().contains(code))
}

fn media_summary(t: &Transcript) -> Option<String> {
    t.events.iter().find_map(|e| match &e.kind {
        EventKind::MediaSummary { media, .. } => Some(media.to_string()),
        _ => None,
    })
}

/// "video h264 76 frames" -> 76
fn video_frames(summary: &str) -> u64 {
    summary
        .split_whitespace()
        .skip_while(|w| *w != "video")
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn snapshot(name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, value));
}

fn ffmpeg_publishes_to_the_reference_server() {
    let server = start("reference", None, None);
    let (ok, stderr) = run_bounded(
        ffmpeg_publish(&server.url("test"), 3),
        Duration::from_secs(20),
    );
    assert!(ok, "ffmpeg failed: {stderr}");
    let transcripts = server.finish();
    assert_eq!(transcripts.len(), 1);
    let t = &transcripts[0];
    assert!(
        has_handshake(t, DiagnosticId::HsModeDigest),
        "FFmpeg's C1 has a digest"
    );
    assert!(sent_code(t, "NetStream.Publish.Start"));
    let summary = media_summary(t).expect("a media summary");
    assert!(
        summary.contains("video h264") && summary.contains("audio aac"),
        "{summary}"
    );
    assert!(video_frames(&summary) >= 60, "{summary}");
    snapshot("serve-reference-ffmpeg-publish", &stable_lines(t));
}

fn a_recorded_publish_is_a_valid_flv_with_the_right_codecs_and_duration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start("reference", Some(dir.path().to_path_buf()), None);
    let (ok, stderr) = run_bounded(
        ffmpeg_publish(&server.url("rec"), 3),
        Duration::from_secs(20),
    );
    assert!(ok, "ffmpeg failed: {stderr}");
    let lines = server.sink.lines.lock().expect("lock").clone();
    drop(server.finish());
    let flv = dir.path().join("rec.flv");
    assert!(
        lines.iter().any(|l| l.starts_with("recorded ")),
        "{lines:?}"
    );
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
            "-of",
            "json",
        ])
        .arg(&flv)
        .output()
        .expect("running ffprobe");
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&probe.stdout).expect("ffprobe JSON");
    let codecs: Vec<&str> = json["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| s["codec_name"].as_str())
        .collect();
    assert!(
        codecs.contains(&"h264") && codecs.contains(&"aac"),
        "{codecs:?}"
    );
    let duration: f64 = json["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("duration");
    assert!((2.5..=3.5).contains(&duration), "duration {duration}");
}

fn the_pcap_shows_each_write_and_tshark_dissects_it_as_rtmp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("serve.pcap");
    let server = start("ffmpeg", None, Some(pcap.clone()));
    let port = server.addr.port();
    let (ok, stderr) = run_bounded(
        ffmpeg_publish(&server.url("cap"), 1),
        Duration::from_secs(20),
    );
    assert!(ok, "ffmpeg failed: {stderr}");
    drop(server.finish());
    let fields = |extra: &[&str]| {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(["-d", &format!("tcp.port=={port},rtmpt"), "-T", "fields"])
            .args(extra)
            .output()
            .expect("running tshark");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The server's payload frames, in order: S0 alone (1 byte), then S1 and S2 apart.
    let server_lens: Vec<String> = fields(&[
        "-Y",
        &format!("tcp.srcport=={port} && tcp.len>0"),
        "-e",
        "tcp.len",
    ])
    .lines()
    .take(3)
    .map(str::to_string)
    .collect();
    assert_eq!(server_lens, ["1", "1536", "1536"]);
    let types = fields(&["-Y", "rtmpt", "-e", "rtmpt.header.typeid"]);
    let types: Vec<&str> = types.lines().flat_map(|l| l.split(',')).collect();
    assert!(
        types.contains(&"0x14"),
        "connect/_result as AMF0 commands: {types:?}"
    );
    assert!(types.contains(&"0x09"), "video: {types:?}");
}

fn ffmpeg_plays_what_ffmpeg_publishes_validating_our_digest_handshake() {
    let server = start("reference", None, None);
    let (url, publisher) = live_publisher(&server, "live1", 6);
    let mut play = Command::new("ffmpeg");
    play.args([
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-rw_timeout",
        "5000000",
    ])
    .args(["-i", &url, "-t", "1", "-f", "null", "-"]);
    let (played, stderr) = run_bounded(play, Duration::from_secs(20));
    assert!(played, "ffmpeg could not play: {stderr}");
    let (published, pub_err) = publisher.join().expect("publisher thread");
    assert!(published, "publisher: {pub_err}");
    let transcripts = server.finish();
    let player = transcripts
        .iter()
        .find(|t| {
            t.messages(rtmp_probe::transcript::Direction::ClientToServer)
                .any(|m| m.name() == "play")
        })
        .expect("a player connection");
    // FFmpeg playing signs C2 only after it validated our S1 digest and S2 signature.
    assert!(has_handshake(player, DiagnosticId::HsModeDigest));
    assert!(
        has_handshake(player, DiagnosticId::HsC2Signed),
        "{}",
        stable_lines(player)
    );
    assert!(sent_code(player, "NetStream.Play.Start"));
    snapshot("serve-reference-ffmpeg-play", &stable_lines(player));
}

fn rtmpdump_plays_from_the_server() {
    let server = start("reference", None, None);
    let (url, publisher) = live_publisher(&server, "dump", 5);
    let out = tempfile::NamedTempFile::new().expect("temp file");
    let mut dump = Command::new("rtmpdump");
    dump.args(["-r", &url, "--live", "-m", "10", "-o"])
        .arg(out.path());
    // rtmpdump ignores --stop on live streams and reads until the server closes; end it after
    // a few seconds of media, while the publisher is still live.
    let (_, stderr) = run_bounded(dump, Duration::from_secs(3));
    let _ = publisher.join();
    let size = std::fs::metadata(out.path()).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "rtmpdump wrote {size} bytes: {stderr}");
    let transcripts = server.finish();
    let player = transcripts
        .iter()
        .find(|t| {
            t.messages(rtmp_probe::transcript::Direction::ClientToServer)
                .any(|m| m.name() == "play")
        })
        .expect("rtmpdump's connection");
    assert!(
        has_handshake(player, DiagnosticId::HsModeSimple),
        "librtmp sends a simple C1 by default"
    );
    assert!(sent_code(player, "NetStream.Play.Start"));
    snapshot("serve-reference-rtmpdump-play", &stable_lines(player));
}

fn gstreamer_rtmp2sink_publishes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = dir.path().join("clip.flv");
    make_clip(&clip, 3, false);
    let server = start("reference", None, None);
    let mut gst = Command::new("gst-launch-1.0");
    gst.arg("-q")
        .arg("filesrc")
        .arg(format!("location={}", clip.display()))
        .args([
            "!",
            "flvdemux",
            "name=d",
            "d.video",
            "!",
            "queue",
            "!",
            "h264parse",
            "!",
        ])
        .args(["flvmux", "streamable=true", "!"])
        .arg("rtmp2sink")
        .arg(format!("location={}", server.url("gst")));
    let (ok, stderr) = run_bounded(gst, Duration::from_secs(20));
    assert!(ok, "gst-launch failed: {stderr}");
    let transcripts = server.finish();
    let t = &transcripts[0];
    assert!(
        has_handshake(t, DiagnosticId::HsModeSimple),
        "rtmp2 sends a zero-version C1"
    );
    assert!(sent_code(t, "NetStream.Publish.Start"));
    let summary = media_summary(t).expect("a media summary");
    assert!(video_frames(&summary) >= 60, "{summary}");
    snapshot("serve-reference-gstreamer-publish", &stable_lines(t));
}

fn ffmpeg_publishes_through_every_personality_that_lets_it() {
    // FFmpeg waits for S2 before it writes C2, so a server holding S2 until C2 (wait-c2) stalls
    // it until the handshake timeout; connect's _result opened with a type-2 or type-3 header,
    // or without the extended timestamp on its continuation chunk, stalls it at connect
    // (tests/differential.rs); publish-status-missing never confirms the publish, so FFmpeg
    // waits for NetStream.Publish.Start; publish-bad-name refuses it; every other personality
    // lets it publish.
    for p in personality::all() {
        let server = start(p.name, None, None);
        let (ok, stderr) =
            run_bounded(ffmpeg_publish(&server.url("p"), 1), Duration::from_secs(15));
        let transcripts = server.finish();
        let t = &transcripts[0];
        if matches!(
            p.name,
            "wait-c2" | "type2-open" | "type3-open" | "ext-timestamp-omitted"
        ) {
            assert!(!ok, "FFmpeg cannot complete against {}", p.name);
            assert!(!sent_code(t, "NetStream.Publish.Start"), "{}", p.name);
            continue;
        }
        let on_status_publish_start = |t: &Transcript| {
            t.messages(rtmp_probe::transcript::Direction::ServerToClient)
                .any(|m| {
                    m.summary().contains("onStatus")
                        && m.summary().contains("NetStream.Publish.Start")
                })
        };
        // publish-status-missing claims the name but never confirms it: FFmpeg waits for
        // NetStream.Publish.Start and sends no media.
        if p.name == "publish-status-missing" {
            assert!(!ok, "FFmpeg cannot complete against {}", p.name);
            assert!(!on_status_publish_start(t), "{}", p.name);
            let summary = media_summary(t).expect("a media summary");
            assert!(
                summary.contains("video none 0 frames") && summary.contains("audio none 0 frames"),
                "{}: {summary}",
                p.name
            );
            continue;
        }
        // publish-bad-name lets no one publish: FFmpeg stops at the error status.
        if p.refuses_every_publish() {
            assert!(!ok, "{}: FFmpeg published where no one can", p.name);
            assert!(sent_code(t, "NetStream.Publish.BadName"), "{}", p.name);
            // (onFCPublish, FCPublish's answer, carries NetStream.Publish.Start; onStatus not.)
            assert!(!on_status_publish_start(t), "{}", p.name);
            continue;
        }
        assert!(ok, "{}: ffmpeg failed: {stderr}", p.name);
        assert!(sent_code(t, "NetStream.Publish.Start"), "{}", p.name);
        // Both answer every C1 with the simple handshake.
        let expected_mode = if matches!(p.name, "ffmpeg" | "s1-digest-invalid") {
            DiagnosticId::HsModeSimple
        } else {
            DiagnosticId::HsModeDigest
        };
        assert!(has_handshake(t, expected_mode), "{}", p.name);
    }
}

fn sigterm_finalises_recordings_and_prints_the_summary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = support::free_port();
    let mut serve = support::rtmp_probe_command();
    serve
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--record",
        ])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = support::ChildGuard(serve.spawn().expect("spawning rtmp-probe"));
    let stdout = child.0.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut { stdout }, &mut s);
        s
    });
    assert!(support::wait_for_listener(
        ([127, 0, 0, 1], port).into(),
        Duration::from_secs(5)
    ));
    let url = format!("rtmp://127.0.0.1:{port}/live/term");
    let publisher =
        std::thread::spawn(move || run_bounded(ffmpeg_publish(&url, 10), Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(2500));
    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "rtmp-probe did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let out = reader.join().expect("reader");
    let _ = publisher.join();
    // The publisher's is the only connection (wait_for_listener does not connect).
    assert!(out.contains("stopped after 1 connection ("), "{out}");
    assert!(out.contains("closed: server shutting down"), "{out}");
    assert!(out.contains("recorded "), "{out}");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(dir.path().join("term.flv"))
        .output()
        .expect("ffprobe");
    let duration: f64 = String::from_utf8_lossy(&probe.stdout)
        .trim()
        .parse()
        .expect("a duration");
    // About 2.5 s passed before SIGTERM, part of it spent starting the encoder.
    assert!((0.5..=3.0).contains(&duration), "duration {duration}");
}

/// The same bytes give the same diagnostic ids whichever driver reads them: what the server
/// said about FFmpeg's bytes is what replay says about the client's side of the server's own
/// pcap of that session.
fn replaying_the_servers_pcap_gives_the_diagnostics_the_server_printed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("serve.pcap");
    let server = start("reference", None, Some(pcap.clone()));
    let (ok, stderr) = run_bounded(
        ffmpeg_publish(&server.url("same-bytes"), 1),
        Duration::from_secs(20),
    );
    assert!(ok, "ffmpeg failed: {stderr}");
    let transcripts = server.finish();
    assert_eq!(transcripts.len(), 1, "one connection");
    let served = transcripts[0].diagnostic_ids();
    assert!(
        !served.is_empty(),
        "the server reported no diagnostic to compare"
    );

    let file = std::fs::File::open(&pcap).expect("the server's pcap");
    let capture = rtmp_probe::capture::CaptureReader::new(std::io::BufReader::new(file))
        .expect("a readable pcap");
    let (flows, error) = rtmp_probe::replay::replay(capture, |_| {});
    assert!(error.is_none(), "{error:?}");
    assert_eq!(flows.len(), 1, "one flow");
    assert_eq!(flows[0].peer_diagnostics.0, served);
}

fn main() {
    support::trials::run(vec![
        trial!(
            ffmpeg_publishes_to_the_reference_server,
            [Need::Program("ffmpeg")]
        ),
        trial!(
            a_recorded_publish_is_a_valid_flv_with_the_right_codecs_and_duration,
            [Need::Program("ffmpeg"), Need::Program("ffprobe")]
        ),
        trial!(
            the_pcap_shows_each_write_and_tshark_dissects_it_as_rtmp,
            [Need::Program("ffmpeg"), Need::Program("tshark")]
        ),
        trial!(
            ffmpeg_plays_what_ffmpeg_publishes_validating_our_digest_handshake,
            [Need::Program("ffmpeg")]
        ),
        trial!(
            rtmpdump_plays_from_the_server,
            [Need::Program("ffmpeg"), Need::Program("rtmpdump")]
        ),
        trial!(
            gstreamer_rtmp2sink_publishes,
            [
                Need::Program("ffmpeg"),
                Need::Program("gst-launch-1.0"),
                Need::GstElement("rtmp2sink")
            ]
        ),
        trial!(
            ffmpeg_publishes_through_every_personality_that_lets_it,
            [Need::Program("ffmpeg")]
        ),
        trial!(
            sigterm_finalises_recordings_and_prints_the_summary,
            [Need::Program("ffmpeg"), Need::Program("ffprobe")]
        ),
        trial!(
            replaying_the_servers_pcap_gives_the_diagnostics_the_server_printed,
            [Need::Program("ffmpeg")]
        ),
    ]);
}
