//! The same bytes give the same ids whichever driver reads them: a session that serve (or a
//! probe) recorded with --pcap, replayed, shows the ids the live driver reported.

mod support;

use rtmp_probe::capture::CaptureReader;
use rtmp_probe::serve::{personality, ServeOptions};
use rtmp_probe::transcript::{EventKind, Transcript};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use support::trials::Need;
use support::{ffmpeg_publish, run_bounded, Running};

/// The ids of the layers every driver reads the same way: the handshake, the chunk stream and
/// messages as such (commands and media are each driver's own business).
fn connection_ids(kinds: impl Iterator<Item = (String, bool)>) -> BTreeSet<String> {
    kinds
        .filter(|(id, _)| ["hs.", "chunk.", "msg."].iter().any(|p| id.starts_with(p)))
        .map(|(id, _)| id)
        .collect()
}

fn transcript_ids(t: &Transcript) -> BTreeSet<String> {
    connection_ids(t.events.iter().filter_map(|e| match &e.kind {
        EventKind::Diagnostic { id, .. } => Some((id.to_string(), true)),
        EventKind::Handshake { id, .. } => Some((id.to_string(), false)),
        _ => None,
    }))
}

/// The one RTMP flow of `pcap`, replayed.
fn replayed(pcap: &Path) -> Transcript {
    let reader = CaptureReader::new(std::fs::File::open(pcap).expect("open")).expect("a capture");
    let (flows, error) = rtmp_probe::replay::replay(reader, |_| {});
    assert!(error.is_none(), "{error:?}");
    let mut rtmp: Vec<_> = flows.into_iter().filter(|f| f.rtmp).collect();
    assert_eq!(rtmp.len(), 1, "one RTMP flow in {}", pcap.display());
    rtmp.remove(0).transcript
}

fn server(pcap: Option<std::path::PathBuf>) -> Running {
    let mut options = ServeOptions::default();
    options.personality = personality::by_name("reference").expect("personality");
    options.seed = Some(7);
    options.handshake_timeout = Duration::from_secs(5);
    options.idle_timeout = Duration::from_secs(10);
    options.pcap = pcap;
    Running::start(options)
}

fn serve_and_replay_of_its_pcap_report_the_same_ids_for_an_ffmpeg_publish() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("serve.pcap");
    let server = server(Some(pcap.clone()));
    let (ok, stderr) = run_bounded(
        ffmpeg_publish(&server.url("same"), 1),
        Duration::from_secs(20),
    );
    assert!(ok, "ffmpeg failed: {stderr}");
    let transcripts = server.finish();
    assert_eq!(transcripts.len(), 1);
    let live = transcript_ids(&transcripts[0]);
    let replay = transcript_ids(&replayed(&pcap));
    // FFmpeg signs C1 and raises its chunk size: both drivers must say so, in the same words.
    for id in ["hs.c1-digest-valid", "hs.mode-digest", "chunk.size-changed"] {
        assert!(live.contains(id), "serve did not report {id}: {live:?}");
    }
    let missing: Vec<_> = live.difference(&replay).collect();
    assert!(
        missing.is_empty(),
        "serve reported {missing:?}, replay of its pcap did not ({replay:?})"
    );
    // What replay observed of the client's handshake, serve observed too.
    let client_side: BTreeSet<_> = replay
        .iter()
        .filter(|id| {
            (id.starts_with("hs.c") || id.starts_with("hs.mode")) && *id != "hs.client-segments"
        })
        .cloned()
        .collect();
    assert!(!client_side.is_empty());
    let unseen: Vec<_> = client_side.difference(&live).collect();
    assert!(
        unseen.is_empty(),
        "replay reported {unseen:?}, serve did not ({live:?})"
    );
}

fn a_probe_and_replay_of_its_pcap_report_the_same_ids() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("probe.pcap");
    let server = server(None);
    let out = support::rtmp_probe_command()
        .args([
            "probe",
            &server.url("same"),
            "--profile",
            "ffmpeg",
            "--duration",
            "0.5",
        ])
        .args(["--json", "--pcap"])
        .arg(&pcap)
        .output()
        .expect("running rtmp-probe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let live = connection_ids(lines.iter().filter_map(|v| {
        let id = v["id"].as_str()?;
        Some((id.to_string(), v["event"] == "diagnostic"))
    }));
    drop(server);
    let replay = transcript_ids(&replayed(&pcap));
    // The reference server signs S1 and raises its chunk size: the probe says so, and so does
    // replay of what the probe recorded.
    for id in ["hs.s1-digest-valid", "chunk.size-changed"] {
        assert!(live.contains(id), "the probe did not report {id}: {live:?}");
    }
    let missing: Vec<_> = live.difference(&replay).collect();
    assert!(
        missing.is_empty(),
        "the probe reported {missing:?}, replay of its pcap did not ({replay:?})"
    );
}

fn main() {
    support::trials::run(vec![
        trial!(
            serve_and_replay_of_its_pcap_report_the_same_ids_for_an_ffmpeg_publish,
            [Need::Program("ffmpeg")]
        ),
        trial!(a_probe_and_replay_of_its_pcap_report_the_same_ids),
    ]);
}
