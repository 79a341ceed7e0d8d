//! `replay --against`: the project's own captured publishers re-enacted against the built-in
//! server (several personalities) and against nginx-rtmp started here.

mod support;

use rtmp_probe::capture::CaptureReader;
use rtmp_probe::replay::reenact::{self, AgainstOptions, AgainstReport, Speed};
use rtmp_probe::serve::{personality, ServeOptions};
use rtmp_probe::transcript::render::snapshot;
use rtmp_probe::transcript::EventKind;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use support::trials::{every_shared_capture, Need};
use support::{Nginx, Running};

const PUBLISHERS: [&str; 3] = [
    "ffmpeg-publish-to-ffmpeg-listen.pcap",
    "ffmpeg-publish-to-nginx.pcap",
    "gstreamer-publish-to-nginx.pcap",
];

fn against(capture: &str, target: SocketAddr) -> AgainstReport {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(capture);
    let file = std::fs::File::open(&path).expect("the project's capture");
    let reader = CaptureReader::new(std::io::BufReader::new(file)).expect("a capture");
    let captured = reenact::load(reader, None, |_| {}).expect("an RTMP flow");
    let mut options = AgainstOptions::default();
    options.speed = Speed::Max;
    options.reply_timeout = Duration::from_secs(2);
    options.seed = Some(7);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let report = rt
        .block_on(reenact::against(captured, target, &options))
        .expect("connected");
    assert!(
        report.completed(),
        "{capture}: {:?}\n{}",
        report.stopped,
        snapshot(&report.live.transcript)
    );
    report
}

/// Lines of a normalised transcript that start with `prefix`. How the handshake was cut into
/// segments is left out: live, those are the client's reads, and two server writes close
/// together can be one read.
fn lines(transcript: &rtmp_probe::transcript::Transcript, prefix: &str) -> Vec<String> {
    snapshot(transcript)
        .lines()
        .filter(|l| l.starts_with(prefix) && !l.contains("-segments: "))
        .map(str::to_string)
        .collect()
}

fn media_summary(report: &rtmp_probe::replay::FlowReport) -> Option<String> {
    report.transcript.events.iter().find_map(|e| match &e.kind {
        EventKind::MediaSummary { media, .. } => Some(media.to_string()),
        _ => None,
    })
}

fn captured_publishers_publish_again_on_the_built_in_server() {
    for capture in PUBLISHERS {
        let server = Running::start(ServeOptions::default());
        let report = against(capture, server.addr);
        let live = &report.live.transcript;
        // The client is the captured one: every message it sent, as captured (the reference
        // server also gives stream 1, so nothing needed rewriting).
        assert_eq!(
            lines(live, "C->S  msg"),
            lines(&report.captured.transcript, "C->S  msg"),
            "{capture}"
        );
        assert_eq!(
            media_summary(&report.live),
            media_summary(&report.captured),
            "{capture}"
        );
        let live_text = snapshot(live);
        assert!(
            live_text.contains("NetStream.Publish.Start"),
            "{capture}: {live_text}"
        );
        // The reference server writes S0+S1+S2 at once, where ffmpeg -listen and nginx-rtmp
        // wrote them in two or three segments: that is what the diff shows of the handshake.
        assert_eq!(
            lines(live, "S->C  ")
                .iter()
                .filter(|l| l.ends_with(" B"))
                .collect::<Vec<_>>(),
            ["S->C  3073 B"],
            "{capture}"
        );
        let diff = report
            .diff()
            .expect("the reference server differs from the captured ones");
        assert!(diff.contains("+S->C  3073 B"), "{diff}");
        // The server saw a C2 that answers its own S1 as the captured C2 answered the captured
        // one, and the publish.
        let seen = server.finish();
        let server_view = snapshot(&seen[0]);
        let c2 = if capture.starts_with("gstreamer") {
            "hs.c2-echo-from-8"
        } else {
            "hs.c2-echo:"
        };
        assert!(server_view.contains(c2), "{capture}: {server_view}");
        assert!(
            server_view.contains("command publish"),
            "{capture}: {server_view}"
        );
    }
}

fn the_ffmpeg_personality_answers_the_handshake_as_ffmpeg_listen_did() {
    // Captured against a real `ffmpeg -listen 1`; the personality imitates it, so every
    // handshake observation of the live session is the captured one.
    let mut options = ServeOptions::default();
    options.personality = personality::by_name("ffmpeg").expect("ffmpeg personality");
    let server = Running::start(options);
    let report = against("ffmpeg-publish-to-ffmpeg-listen.pcap", server.addr);
    assert_eq!(
        lines(&report.live.transcript, "hs "),
        lines(&report.captured.transcript, "hs ")
    );
    // The reference personality, by contrast, answers FFmpeg's digest C1 in kind.
    let reference = Running::start(ServeOptions::default());
    let report = against("ffmpeg-publish-to-ffmpeg-listen.pcap", reference.addr);
    let diff = report.diff().expect("differs");
    assert!(
        diff.contains("-hs    hs.mode-simple") && diff.contains("+hs    hs.mode-digest"),
        "{diff}"
    );
}

fn captured_publishers_replay_against_real_nginx_rtmp_as_they_were_captured() {
    for capture in [
        "ffmpeg-publish-to-nginx.pcap",
        "gstreamer-publish-to-nginx.pcap",
    ] {
        let nginx = Nginx::start("");
        let report = against(capture, nginx.addr);
        let (live, captured) = (&report.live.transcript, &report.captured.transcript);
        // The same server: the same handshake observations, the same messages both ways
        // (their order against the client's may differ by timing), the same media.
        assert_eq!(lines(live, "hs "), lines(captured, "hs "), "{capture}");
        assert_eq!(
            lines(live, "C->S  msg"),
            lines(captured, "C->S  msg"),
            "{capture}"
        );
        let mut server_live = lines(live, "S->C  msg");
        let mut server_captured = lines(captured, "S->C  msg");
        server_live.sort();
        server_captured.sort();
        assert_eq!(
            server_live,
            server_captured,
            "{capture}\n{}",
            nginx.error_log()
        );
        assert_eq!(media_summary(&report.live), media_summary(&report.captured));
        assert!(
            nginx.error_log().contains("publish"),
            "{}",
            nginx.error_log()
        );
    }
}

fn a_captured_player_plays_again_with_a_c2_signed_for_the_live_s1() {
    // FFmpeg playing signs its C2 for a digest S1; the built-in server's S1 is new, so the
    // signature must be made again for it, or the server would see no valid C2.
    let server = Running::start(ServeOptions::default());
    let report = against("ffmpeg-play-from-nginx.pcap", server.addr);
    assert_eq!(
        lines(&report.live.transcript, "C->S  msg"),
        lines(&report.captured.transcript, "C->S  msg")
    );
    assert!(snapshot(&report.live.transcript).contains("NetStream.Play.Start"));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("signed for S1's digest")),
        "{:?}",
        report.notes
    );
    let seen = server.finish();
    let server_view = snapshot(&seen[0]);
    assert!(server_view.contains("hs.c2-signed"), "{server_view}");
}

fn every_shared_captured_client_publishes_or_plays_again_on_the_built_in_server() {
    // Clients from OBS, FFmpeg, VLC, Flash 9 and a Go library, captured against nginx-rtmp,
    // Twitch, Restream, FMS 5 and others: each must complete against the reference server,
    // with its C2 answering the live S1 as its captured C2 answered the captured one.
    let server = Running::start(ServeOptions::default());
    for capture in support::SHARED_CAPTURES {
        let path = support::shared_capture(capture);
        let file = std::fs::File::open(&path).expect("capture");
        let reader = CaptureReader::new(std::io::BufReader::new(file)).expect("a capture");
        let captured = reenact::load(reader, None, |_| {}).expect("an RTMP flow");
        let mut options = AgainstOptions::default();
        options.speed = Speed::Max;
        options.seed = Some(3);
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let report = rt
            .block_on(reenact::against(captured, server.addr, &options))
            .expect("connected");
        let live = snapshot(&report.live.transcript);
        assert!(
            report.completed(),
            "{capture}: {:?}\n{live}",
            report.stopped
        );
        assert!(
            live.contains("NetStream.Publish.Start") || live.contains("NetStream.Play.Start"),
            "{capture}: {live}"
        );
        let c2 = |t| -> Vec<String> { lines(t, "hs    hs.c2-") };
        assert_eq!(
            c2(&report.live.transcript),
            c2(&report.captured.transcript),
            "{capture}"
        );
        assert_eq!(c2(&report.live.transcript).len(), 1, "{capture}: {live}");
    }
}

/// Issue 24: a captured client whose chunk stream stretches the rules is re-enacted whole, read
/// as replay reads it; the built-in server reads it through as well and names the same ids.
fn a_captured_client_that_stretches_the_chunk_stream_rules_is_re_enacted_whole() {
    let server = Running::start(ServeOptions::default());
    for sequence in support::violations::sequences()
        .iter()
        .filter(|s| s.name.contains("type-1 opening") || s.name.contains("same length"))
    {
        let pcap = support::violations::pcap(sequence);
        let reader = CaptureReader::new(std::io::Cursor::new(pcap)).expect("a pcap");
        let captured = reenact::load(reader, None, |_| {}).expect("an RTMP flow");
        let mut options = AgainstOptions::default();
        options.speed = Speed::Max;
        options.reply_timeout = Duration::from_secs(2);
        options.seed = Some(7);
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let report = rt
            .block_on(reenact::against(captured, server.addr, &options))
            .expect("connected");
        assert!(
            report.completed(),
            "{}: {:?}",
            sequence.name,
            report.stopped
        );
        let as_text = |t: &rtmp_probe::transcript::Transcript| -> Vec<&'static str> {
            t.diagnostic_ids().iter().map(|id| id.as_str()).collect()
        };
        let live = as_text(&report.live.transcript);
        let captured = as_text(&report.captured.transcript);
        for id in &sequence.ids {
            assert!(live.contains(id), "{}: live {live:?}", sequence.name);
            assert!(captured.contains(id), "{}: {captured:?}", sequence.name);
        }
        assert!(
            !live.contains(&"chunk.error"),
            "{}: {live:?}",
            sequence.name
        );
        // Every message the client sent reached the live transcript as it did the captured.
        assert_eq!(
            lines(&report.live.transcript, "C->S  msg"),
            lines(&report.captured.transcript, "C->S  msg"),
            "{}",
            sequence.name
        );
    }
}

fn main() {
    support::trials::run(vec![
        trial!(captured_publishers_publish_again_on_the_built_in_server),
        trial!(the_ffmpeg_personality_answers_the_handshake_as_ffmpeg_listen_did),
        trial!(
            captured_publishers_replay_against_real_nginx_rtmp_as_they_were_captured,
            [Need::NginxRtmp]
        ),
        trial!(a_captured_player_plays_again_with_a_c2_signed_for_the_live_s1),
        trial!(
            every_shared_captured_client_publishes_or_plays_again_on_the_built_in_server,
            every_shared_capture()
        ),
        trial!(a_captured_client_that_stretches_the_chunk_stream_rules_is_re_enacted_whole),
    ]);
}
