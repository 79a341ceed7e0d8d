//! serve's printed output when nobody reads it: the sessions go on, lines are dropped and
//! counted, and the count is told once output drains and again at exit.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{rtmp_probe, UnreadServe};

/// `rtmp-probe serve: dropped N lines[ in all] while ... (connection 1: 50, server: 2)`: N and
/// the count of each source.
fn dropped_notice(line: &str, in_all: bool) -> Option<(u64, BTreeMap<String, u64>)> {
    let rest = line.strip_prefix("rtmp-probe serve: dropped ")?;
    let (total, rest) = rest.split_once(' ')?;
    let marker = if in_all {
        " in all while standard output was not read ("
    } else {
        " while standard output was not read ("
    };
    let (unit, sources) = rest.split_once(marker)?;
    if !matches!(unit, "line" | "lines") {
        return None;
    }
    let mut counts = BTreeMap::new();
    for source in sources.strip_suffix(')')?.split(", ") {
        let (name, lines) = source.rsplit_once(": ")?;
        counts.insert(name.to_string(), lines.parse().ok()?);
    }
    Some((total.parse().ok()?, counts))
}

/// An emulated OBS publishes `live/after` for half a second and passes; how long it took.
fn publish(serve: &UnreadServe) -> Duration {
    let url = format!("rtmp://{}/live/after", serve.addr);
    let started = Instant::now();
    let (code, out, err) = rtmp_probe(&[
        "probe",
        &url,
        "--profile",
        "obs",
        "--duration",
        "0.5",
        "--case-timeout",
        "20",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pass"), "{out}");
    started.elapsed()
}

#[test]
fn serve_whose_output_is_not_read_keeps_serving_and_tells_what_it_dropped() {
    let serve = UnreadServe::start(&[]);
    serve.flood();
    // A publish still completes, and in a time that does not wait for anyone to read.
    let took = publish(&serve);
    assert!(took < Duration::from_secs(10), "the publish took {took:?}");

    let (code, output) = serve.stop_and_read(Duration::from_secs(60));
    assert_eq!(code, 0, "serve stopped by SIGTERM: {code}");
    let lines: Vec<&str> = output.lines().collect();
    let gaps: Vec<_> = lines
        .iter()
        .filter_map(|l| dropped_notice(l, false))
        .collect();
    assert!(
        !gaps.is_empty(),
        "no dropped-lines notice in {} lines of output",
        lines.len()
    );
    // At exit, after the last server line: the whole run's count, the sum of the notices.
    let stopped = lines
        .iter()
        .position(|l| l.starts_with("rtmp-probe serve: stopped after"))
        .expect("serve's last server line");
    assert_eq!(stopped + 2, lines.len(), "{:?}", &lines[stopped..]);
    let (total, by_source) =
        dropped_notice(lines[stopped + 1], true).expect("the run's dropped-lines count at exit");
    assert!(total > 0);
    assert_eq!(total, gaps.iter().map(|(n, _)| n).sum::<u64>());
    let mut summed: BTreeMap<String, u64> = BTreeMap::new();
    for (n, sources) in &gaps {
        assert_eq!(*n, sources.values().sum::<u64>(), "{sources:?}");
        for (source, lines) in sources {
            *summed.entry(source.clone()).or_default() += lines;
        }
    }
    assert_eq!(by_source, summed);
    assert!(
        by_source
            .keys()
            .all(|s| s.starts_with("connection ") || s == "server"),
        "{by_source:?}"
    );
    // What was not dropped is whole lines, in order: every connection's lines still start with
    // its number.
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('[') || l.starts_with("rtmp-probe serve: ")),
        "a line cut or interleaved"
    );
}

/// The audio and video tags of an FLV file.
fn flv_tags(flv: &[u8]) -> (u64, u64) {
    assert!(flv.starts_with(b"FLV"), "not an FLV file");
    let (mut audio, mut video) = (0, 0);
    // The 9-byte header and the first previous-tag-size; then each tag: type, 3-byte size,
    // timestamp and stream id (7 bytes), the data, the previous-tag-size.
    let mut at = 13;
    while at + 11 <= flv.len() {
        let size = u32::from_be_bytes([0, flv[at + 1], flv[at + 2], flv[at + 3]]) as usize;
        match flv[at] {
            8 => audio += 1,
            9 => video += 1,
            _ => {}
        }
        at += 11 + size + 4;
    }
    assert_eq!(at, flv.len(), "the FLV file ends inside a tag");
    (audio, video)
}

#[test]
fn the_files_given_by_flags_lose_nothing_while_output_is_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("rec");
    let pcap = dir.path().join("serve.pcap");
    let serve = UnreadServe::start(&[
        "--record",
        record.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    serve.flood();
    publish(&serve);
    let (code, output) = serve.stop_and_read(Duration::from_secs(60));
    assert_eq!(code, 0, "serve stopped by SIGTERM");
    assert!(
        output.contains("rtmp-probe serve: dropped "),
        "the flood did not overfill serve's output, so this test checks nothing"
    );
    let served: usize = output
        .lines()
        .find_map(|l| l.strip_prefix("rtmp-probe serve: stopped after "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("serve's count of connections");

    // Every connection is in the pcap file, though its lines were dropped.
    let (code, out, err) = rtmp_probe(&["replay", pcap.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("replay's JSON line"))
        .collect();
    let flows = lines.iter().filter(|l| l["event"] == "flow").count();
    assert_eq!(flows, served, "flows in the pcap file, connections served");

    // The recording holds every frame the capture shows the publisher sent.
    let media = lines
        .iter()
        .filter(|l| l["event"] == "media_summary")
        .max_by_key(|l| l["conn"].as_u64())
        .expect("the publish's media summary in the pcap file");
    let count = |field: &str| media["media"][field].as_u64().expect(field);
    let flv = std::fs::read(record.join("after.flv")).expect("the recording of the publish");
    let (audio, video) = flv_tags(&flv);
    assert!(video > 1, "{media}");
    assert_eq!(
        (audio, video),
        (
            count("audio_frames") + count("audio_sequence_headers"),
            count("video_frames") + count("video_sequence_headers")
        ),
        "{media}"
    );
}
