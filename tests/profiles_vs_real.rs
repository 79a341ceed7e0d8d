//! The `ffmpeg` and `gstreamer` profiles against the real programs: both publish to the same
//! built-in server, and what the server saw of each must have the same shape: the client's
//! handshake writes as read, what the handshake revealed, and the sequence of messages.

mod support;

use rtmp_probe::emulate::case::{CaseOptions, Target};
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::emulate::{profile, run_case};
use rtmp_probe::serve::ServeOptions;
use rtmp_probe::transcript::{Direction, EventKind, Transcript};
use std::time::Duration;
use support::trials::Need;
use support::{ffmpeg_publish, gst_publish, make_clip, run_bounded, Running};

/// The parts of a server-side transcript that say what kind of client it was: handshake reads
/// and observations, and the names of the client's messages other than media and
/// acknowledgements (repeated metadata counted once).
fn shape(t: &Transcript) -> Vec<String> {
    let mut out = Vec::new();
    for e in &t.events {
        match &e.kind {
            EventKind::Segment {
                direction: Direction::ClientToServer,
                len,
            } => out.push(format!("read {len}")),
            EventKind::Handshake { id, observation } => out.push(format!("{id}: {observation}")),
            EventKind::Message(m)
                if m.direction == Direction::ClientToServer
                    && !matches!(m.type_id, 3 | 8 | 9)
                    && out.last() != Some(&format!("msg {}", m.name())) =>
            {
                out.push(format!("msg {}", m.name()))
            }
            _ => {}
        }
    }
    out
}

/// The shape up to FCUnpublish. The real programs close right after deleteStream; the server's
/// late answer then meets a closed socket, the client's kernel answers with a reset, and a reset
/// can discard deleteStream from the server's receive queue: whether the server sees it is a
/// race in the real peer, not a trait of it.
fn until_unpublish(mut shape: Vec<String>) -> Vec<String> {
    if let Some(i) = shape.iter().position(|l| l == "msg FCUnpublish") {
        shape.truncate(i + 1);
    }
    shape
}

fn emulate(server: &Running, profile_name: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (target, _) = Target::parse(&format!("rtmp://{}/live", server.addr)).expect("url");
    let mut options = CaseOptions::default();
    options.media_duration = Duration::from_millis(1000);
    let profile = profile::by_name(profile_name).expect("profile");
    let r = rt.block_on(run_case(
        &profile,
        Variant::Default,
        &target,
        Some("emulated"),
        1,
        &options,
    ));
    assert!(!r.status.is_failure(), "{}: {:?}", r.verdict(), r.diagnosis);
}

fn the_ffmpeg_profile_looks_like_real_ffmpeg() {
    let server = Running::start(ServeOptions::default());
    let real = ffmpeg_publish(&server.url("real"), 1);
    let (ok, stderr) = run_bounded(real, Duration::from_secs(20));
    assert!(ok, "{stderr}");
    emulate(&server, "ffmpeg");
    let t = server.finish();
    assert!(shape(&t[1]).ends_with(&[
        "msg FCUnpublish".to_string(),
        "msg deleteStream".to_string()
    ]));
    assert_eq!(
        until_unpublish(shape(&t[1])),
        until_unpublish(shape(&t[0])),
        "emulated (left) vs real FFmpeg (right)"
    );
}

fn the_gstreamer_profile_looks_like_real_rtmp2sink() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clip = dir.path().join("clip.flv");
    make_clip(&clip, 1, true);
    let server = Running::start(ServeOptions::default());
    let gst = gst_publish("rtmp2sink", &clip, &server.url("real"));
    let (ok, stderr) = run_bounded(gst, Duration::from_secs(20));
    assert!(ok, "{stderr}");
    emulate(&server, "gstreamer");
    let t = server.finish();
    // rtmp2sink's C1 time is its clock; ours is 0. Everything else must agree.
    let normalise = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|l| {
                if l.starts_with("hs.c1-fields") {
                    l.split(',').skip(1).collect()
                } else {
                    l
                }
            })
            .collect()
    };
    assert_eq!(
        until_unpublish(normalise(shape(&t[1]))),
        until_unpublish(normalise(shape(&t[0]))),
        "emulated (left) vs real rtmp2sink (right)"
    );
}

fn main() {
    support::trials::run(vec![
        trial!(
            the_ffmpeg_profile_looks_like_real_ffmpeg,
            [Need::Program("ffmpeg")]
        ),
        trial!(
            the_gstreamer_profile_looks_like_real_rtmp2sink,
            [
                Need::Program("ffmpeg"),
                Need::Program("gst-launch-1.0"),
                Need::GstElement("rtmp2sink")
            ]
        ),
    ]);
}
