//! `rtmp-probe replay` over every shared capture: the normalised transcripts are snapshotted,
//! so a change in what the decoder makes of real sessions shows as a reviewable diff.

mod support;

use rtmp_probe::capture::CaptureReader;
use rtmp_probe::emulate::infer::{closest_profile, ClientFacts};
use rtmp_probe::replay::replay;
use rtmp_probe::transcript::render::{snapshot, snapshot_framed};
use support::trials::{every_shared_capture, Need};

fn replayed(relative: &str) -> String {
    let path = support::shared_capture(relative);
    let reader = CaptureReader::new(std::fs::File::open(path).expect("open")).expect("a capture");
    let (flows, error) = replay(reader, |_| {});
    assert!(error.is_none(), "{relative}: {error:?}");
    let mut out = String::new();
    for f in &flows {
        out.push_str(&format!(
            "flow {} rtmp={} bytes={:?} messages={:?}\n",
            f.id, f.rtmp, f.bytes, f.messages
        ));
        if f.rtmp {
            out.push_str(&snapshot_framed(&f.transcript, false));
        }
    }
    out
}

fn every_shared_capture_replays_to_its_snapshot() {
    for capture in support::SHARED_CAPTURES {
        let text = replayed(capture);
        let name = capture.replace('/', "-");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(format!("replay-{name}"), text));
    }
}

/// A replayed capture's lines without their frame numbers.
fn unframed(relative: &str) -> String {
    replayed(relative)
        .lines()
        .map(|l| rtmp_probe::transcript::render::text::without_frames(l).to_string() + "\n")
        .collect()
}

fn the_handshake_is_shown_as_each_side_wrote_it() {
    // Twitch's ingest: S0 alone, then S1, then S2; the client's C2 shares a segment with connect.
    let text = unframed("public/twinx-client-publish-to-twitch-ingest.pcap");
    assert!(
        text.contains("C->S  1537 B\nS->C  1 B\nS->C  1536 B\nS->C  1536 B\nC->S  1724 B\n"),
        "{text}"
    );
    // FFmpeg's listen mode, the pattern of ticket 6453; nginx-rtmp: S0+S1 together.
    let text = unframed("peers/ffmpeg-publish-to-ffmpeg-listen.pcap");
    assert!(
        text.contains("C->S  1537 B\nS->C  1 B\nS->C  1536 B\nS->C  1536 B\n"),
        "{text}"
    );
    let text = unframed("peers/ffmpeg-publish-to-nginx.pcap");
    assert!(
        text.contains("C->S  1537 B\nS->C  1537 B\nS->C  1536 B\n"),
        "{text}"
    );
    assert!(
        text.contains("hs.s2-signed"),
        "nginx signs S2 for FFmpeg's digest C1"
    );
}

fn a_damaged_capture_reports_the_offset_and_what_came_before() {
    let path = support::shared_capture("peers/ffmpeg-publish-to-nginx.pcap");
    let bytes = std::fs::read(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, stdout, stderr) = support::rtmp_probe(&["replay", cut.to_str().unwrap()]);
    // Issue 10: an unreadable (here cut) capture is "could not run", 3, in every subcommand.
    assert_eq!(code, 3);
    assert!(
        stdout.contains("command connect #1"),
        "the decoded part is still reported: {stdout}"
    );
    assert!(stderr.contains("pcap file is damaged at byte "), "{stderr}");
    let (code, _, stderr) = support::rtmp_probe(&["replay", "Cargo.toml"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("not a pcap or pcapng file"), "{stderr}");
}

fn captured_clients_match_the_profile_of_the_program_that_made_them() {
    for (capture, expected) in [
        ("public/obs27-publish-to-nginx-rtmp.pcap", "obs"),
        ("peers/ffmpeg-publish-to-nginx.pcap", "ffmpeg"),
        ("peers/ffmpeg-publish-to-ffmpeg-listen.pcap", "ffmpeg"),
        // VLC plays through libavformat.
        (
            "public/vlc-play-from-nginx-rtmp-delay500ms.pcapng",
            "ffmpeg-play",
        ),
    ] {
        let path = support::shared_capture(capture);
        let reader = CaptureReader::new(std::fs::File::open(path).unwrap()).unwrap();
        let (flows, _) = replay(reader, |_| {});
        let flow = flows.iter().find(|f| f.rtmp).expect("an RTMP flow");
        let c = closest_profile(&ClientFacts::of(flow)).expect("a handshake");
        assert_eq!(c.name, expected, "{capture}: {:?}", c.differences);
        assert_eq!(
            c.matching, c.total,
            "{capture}: every trait matches: {:?}",
            c.differences
        );
    }
}

/// The project's own recordings (captures/, made by captures/record.sh).
fn own(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(file);
    let reader =
        CaptureReader::new(std::fs::File::open(path).expect("a committed capture")).unwrap();
    let (flows, error) = replay(reader, |_| {});
    assert!(error.is_none(), "{file}: {error:?}");
    let flow = flows.iter().find(|f| f.rtmp).expect("an RTMP flow");
    let mut out = snapshot_framed(&flow.transcript, false);
    if let Some(c) = closest_profile(&ClientFacts::of(flow)) {
        out.push_str(&format!(
            "closest profile: {} ({} of {})\n",
            c.name, c.matching, c.total
        ));
        if let Some(build) = c.build {
            out.push_str(&format!("    build: {build}\n"));
        }
    }
    out
}

fn the_projects_own_captures_replay_to_their_snapshots() {
    for file in [
        "ffmpeg-publish-to-ffmpeg-listen.pcap",
        "ffmpeg-publish-to-nginx.pcap",
        "gstreamer-publish-to-nginx.pcap",
        "ffmpeg-play-from-nginx.pcap",
        "rtmpdump-play-from-nginx.pcap",
        "gstreamer-play-from-nginx.pcap",
    ] {
        let text = own(file);
        assert!(
            !text.contains("capture.gap") && !text.contains("chunk.error"),
            "{file}: {text}"
        );
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(format!("replay-own-{file}"), text));
    }
    let listen: String = own("ffmpeg-publish-to-ffmpeg-listen.pcap")
        .lines()
        .map(|l| rtmp_probe::transcript::render::text::without_frames(l).to_string() + "\n")
        .collect();
    assert!(
        listen.contains("C->S  1537 B\nS->C  1 B\nS->C  1536 B\nS->C  1536 B\n"),
        "{listen}"
    );
    assert!(listen.contains("closest profile: ffmpeg"));
    let gst = own("gstreamer-publish-to-nginx.pcap");
    assert!(gst.contains("closest profile: gstreamer ("), "{gst}");
    // 2 s at 25 fps: 50 pictures; the clip's closing end-of-sequence marker is not one.
    assert!(gst.contains("video h264 50 frames (2 key"), "{gst}");
    for player in ["ffmpeg", "rtmpdump", "gstreamer"] {
        let text = own(&format!("{player}-play-from-nginx.pcap"));
        assert!(text.contains("command play #"), "{player}: {text}");
        assert!(text.contains("NetStream.Play.Start"), "{player}: {text}");
        // About 2 s of the live stream reached the player.
        let frames: u32 = text
            .split("media media: video h264 ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{player}: no H.264 media summary: {text}"));
        assert!((25..=100).contains(&frames), "{player}: {frames} frames");
    }
    assert!(own("ffmpeg-play-from-nginx.pcap").contains("closest profile: ffmpeg-play (9 of 9)"));
    assert!(own("gstreamer-play-from-nginx.pcap").contains("closest profile: gstreamer-play ("));
}

/// The facts of the project's own FFmpeg 5.1 publisher capture, its flashVer replaced.
fn ffmpeg_facts_with_flash_ver(flash_ver: &str) -> ClientFacts {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join("ffmpeg-publish-to-nginx.pcap");
    let reader =
        CaptureReader::new(std::fs::File::open(path).expect("a committed capture")).unwrap();
    let (flows, _) = replay(reader, |_| {});
    let mut facts = ClientFacts::of(flows.iter().find(|f| f.rtmp).expect("an RTMP flow"));
    let field = facts
        .connect
        .iter_mut()
        .find(|(k, _)| k == "flashVer")
        .expect("the capture's connect has a flashVer");
    field.1 = rtmp_probe::protocol::amf0::Amf0Value::string(flash_ver);
    facts
}

fn any_lavf_build_is_the_ffmpeg_profile_with_its_version_as_a_trait() {
    for (flash_ver, build) in [
        ("FMLE/3.0 (compatible; Lavf59.27.100)", None),
        (
            "FMLE/3.0 (compatible; Lavf61.7.100)",
            Some("Lavf 61.7.100 (profile: Lavf 59.27.100)"),
        ),
        (
            "FMLE/3.0 (compatible; Lavf58.29.100)",
            Some("Lavf 58.29.100 (profile: Lavf 59.27.100)"),
        ),
        (
            "FMLE/3.0 (compatible; Lavf57.83.100)",
            Some("Lavf 57.83.100 (profile: Lavf 59.27.100)"),
        ),
    ] {
        let c = closest_profile(&ffmpeg_facts_with_flash_ver(flash_ver)).expect("a handshake");
        assert_eq!(c.name, "ffmpeg", "{flash_ver}: {:?}", c.differences);
        assert_eq!(c.matching, c.total, "{flash_ver}: {:?}", c.differences);
        assert_eq!(c.build.as_deref(), build, "{flash_ver}");
    }
    // Another program's flashVer is a difference, not a build.
    let c = closest_profile(&ffmpeg_facts_with_flash_ver("FMS/3,0,1,123")).expect("a handshake");
    assert_eq!(c.name, "ffmpeg");
    assert_eq!(c.matching + 1, c.total, "{:?}", c.differences);
    assert_eq!(c.build, None);
    assert!(
        c.differences[0].starts_with("flashVer:"),
        "{:?}",
        c.differences
    );
}

/// Every capture's events, written as JSON lines and read back by `diff`, render the snapshot
/// the transcript itself renders: the JSON carries everything the text is made from (AMF0
/// objects keep their key order, handshakes their fields, media summaries their figures).
fn json_lines_carry_everything_the_snapshot_is_rendered_from() {
    use rtmp_probe::transcript::diff::connections;
    use rtmp_probe::transcript::render::json_event_line;
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&own)
        .expect("captures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    paths.extend(
        support::SHARED_CAPTURES
            .iter()
            .map(|c| support::shared_capture(c)),
    );
    let mut flows_checked = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for path in &paths {
        let reader = CaptureReader::new(std::fs::File::open(path).expect("open")).unwrap();
        let (flows, _) = replay(reader, |_| {});
        for flow in flows.iter().filter(|f| f.rtmp) {
            let lines: String = flow
                .transcript
                .events
                .iter()
                .map(|e| json_event_line(flow.id as u64, e) + "\n")
                .collect();
            for line in lines.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let typed = match v["event"].as_str().unwrap() {
                    "handshake" => v["observation"]["kind"].as_str(),
                    "message" => v["content"]["kind"].as_str(),
                    "media_summary" => v["media"]["video_frames"].as_u64().map(|_| "media"),
                    other => Some(other),
                };
                kinds.insert(
                    typed
                        .unwrap_or_else(|| panic!("{path:?}: untyped {line}"))
                        .to_string(),
                );
            }
            let read_back = connections(&lines).expect("diff reads what replay wrote");
            let direct = connections(&snapshot(&flow.transcript)).unwrap();
            assert_eq!(read_back.len(), 1, "{path:?}");
            assert_eq!(
                read_back[0].text, direct[0].text,
                "{path:?} flow {}",
                flow.id
            );
            flows_checked += 1;
        }
    }
    assert!(flows_checked >= 6, "only {flows_checked} RTMP flows");
    // replay summarises media rather than listing it.
    for kind in [
        "fields",
        "segments",
        "answer",
        "command",
        "data",
        "user_control",
        "media",
    ] {
        assert!(kinds.contains(kind), "no {kind} seen: {kinds:?}");
    }
}

/// `--media` (and the JSON, always) lists every audio and video message the decoder handed
/// over, in wire order, with its fields; without the flag the text keeps to the summary.
fn every_media_message_is_listed_in_wire_order_with_its_fields() {
    use rtmp_probe::replay::replay_each_message;
    use rtmp_probe::transcript::{EventKind, FrameType, MediaKind};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join("ffmpeg-publish-to-nginx.pcap");
    let reader = CaptureReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut decoded = Vec::new();
    let (flows, _) = replay_each_message(
        reader,
        |_| {},
        |seen| {
            if matches!(seen.message.type_id, 8 | 9) {
                decoded.push(seen.message.clone());
            }
        },
    );
    let flow = flows.iter().find(|f| f.rtmp).expect("an RTMP flow");
    let listed: Vec<_> = flow
        .transcript
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Media(m) => Some((m, &e.frames)),
            _ => None,
        })
        .collect();
    assert!(decoded.len() > 100, "{} media messages", decoded.len());
    assert_eq!(listed.len(), decoded.len());
    let mut last = std::collections::HashMap::new();
    for ((m, frames), raw) in listed.iter().zip(&decoded) {
        assert_eq!(
            (m.timestamp, m.csid, m.stream_id, m.len),
            (raw.timestamp, raw.csid, raw.stream_id, raw.payload.len())
        );
        assert_eq!(
            m.kind,
            if raw.type_id == 9 {
                MediaKind::Video
            } else {
                MediaKind::Audio
            }
        );
        let previous = last.insert(raw.type_id, raw.timestamp);
        assert_eq!(
            m.delta,
            previous.map(|p: u32| i64::from(raw.timestamp.wrapping_sub(p) as i32))
        );
        assert!(!frames.is_empty());
    }
    // FFmpeg starts with both sequence headers, then a keyframe.
    let video: Vec<_> = listed
        .iter()
        .map(|(m, _)| m)
        .filter(|m| m.kind == MediaKind::Video)
        .collect();
    assert!(video[0].sequence_header && video[0].codec == "h264");
    assert_eq!(video[1].frame_type, Some(FrameType::Key));
    assert!(!video[1].sequence_header);
    let keyframes = video
        .iter()
        .filter(|m| m.frame_type == Some(FrameType::Key) && !m.sequence_header)
        .count() as u64;
    // The summary's keyframes are these, less an end-of-sequence marker if any.
    assert!(keyframes >= flow.media.keyframes && keyframes <= flow.media.keyframes + 1);

    let capture = path.to_str().unwrap();
    let (code, with, _) = support::rtmp_probe(&["replay", capture, "--media"]);
    assert_eq!(code, 0);
    let (_, without, _) = support::rtmp_probe(&["replay", capture]);
    let lines = |text: &str| {
        text.lines()
            .filter(|l| l.contains("  media audio ") || l.contains("  media video "))
            .count()
    };
    assert_eq!(lines(&with), decoded.len());
    assert_eq!(lines(&without), 0);
    assert_eq!(
        with.lines().filter(|l| l.contains("media media: ")).count(),
        1,
        "the summary stays"
    );
}

/// Issue 18: the Flash 9 sample's NetStream.Play.Failed and the Twitch ingest that never
/// answers publish are named; sessions that went well raise neither.
fn an_error_status_and_a_command_never_answered_are_named() {
    let ids = |path: std::path::PathBuf| -> Vec<String> {
        let reader = CaptureReader::new(std::fs::File::open(path).unwrap()).unwrap();
        let (flows, _) = replay(reader, |_| {});
        let flow = flows.iter().find(|f| f.rtmp).expect("an RTMP flow");
        flow.transcript
            .diagnostic_ids()
            .into_iter()
            .map(|id| id.as_str())
            .filter(|id| id.starts_with("cmd."))
            .map(str::to_string)
            .collect()
    };
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    for file in [
        "ffmpeg-publish-to-nginx.pcap",
        "rtmpdump-play-from-nginx.pcap",
    ] {
        assert_eq!(ids(own.join(file)), Vec::<String>::new(), "{file}");
    }
    let flash9 = support::shared_capture("public/flash9-play-wireshark-sample.cap");
    let twitch = support::shared_capture("public/twinx-client-publish-to-twitch-ingest.pcap");
    assert_eq!(ids(flash9), ["cmd.status-error"]);
    assert_eq!(ids(twitch), ["cmd.unanswered"]);
}

fn main() {
    support::trials::run(vec![
        trial!(
            every_shared_capture_replays_to_its_snapshot,
            every_shared_capture()
        ),
        trial!(
            the_handshake_is_shown_as_each_side_wrote_it,
            [
                Need::SharedCapture("public/twinx-client-publish-to-twitch-ingest.pcap"),
                Need::SharedCapture("peers/ffmpeg-publish-to-ffmpeg-listen.pcap"),
                Need::SharedCapture("peers/ffmpeg-publish-to-nginx.pcap")
            ]
        ),
        trial!(
            a_damaged_capture_reports_the_offset_and_what_came_before,
            [Need::SharedCapture("peers/ffmpeg-publish-to-nginx.pcap")]
        ),
        trial!(
            captured_clients_match_the_profile_of_the_program_that_made_them,
            [
                Need::SharedCapture("public/obs27-publish-to-nginx-rtmp.pcap"),
                Need::SharedCapture("peers/ffmpeg-publish-to-nginx.pcap"),
                Need::SharedCapture("peers/ffmpeg-publish-to-ffmpeg-listen.pcap"),
                Need::SharedCapture("public/vlc-play-from-nginx-rtmp-delay500ms.pcapng")
            ]
        ),
        trial!(the_projects_own_captures_replay_to_their_snapshots),
        trial!(any_lavf_build_is_the_ffmpeg_profile_with_its_version_as_a_trait),
        trial!(
            json_lines_carry_everything_the_snapshot_is_rendered_from,
            every_shared_capture()
        ),
        trial!(every_media_message_is_listed_in_wire_order_with_its_fields),
        trial!(
            an_error_status_and_a_command_never_answered_are_named,
            [
                Need::SharedCapture("public/flash9-play-wireshark-sample.cap"),
                Need::SharedCapture("public/twinx-client-publish-to-twitch-ingest.pcap")
            ]
        ),
    ]);
}
