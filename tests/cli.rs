//! The command line's exit statuses and outputs, run as a user would.

mod support;

use std::process::Command;
use std::time::Duration;
use support::trials::Need;
use support::{rtmp_probe, QUICK_MATRIX};

fn matrix_exits_0_when_nothing_fails_and_1_when_something_does() {
    let quick = QUICK_MATRIX;
    let (code, out, _) =
        rtmp_probe(&[&["matrix", "--profiles", "obs,ffmpeg"], &quick[..]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("obs/default") && out.contains("2 cases: 2 pass, 0 fail"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    let junit = dir.path().join("m.xml");
    let (code, out, _) = rtmp_probe(
        &[
            &[
                "matrix",
                "--personality",
                "ffmpeg",
                "--profiles",
                "wirecast",
            ],
            &[
                &format!("--json={}", json.display()),
                "--junit",
                junit.to_str().unwrap(),
            ][..],
            &quick[..],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FFmpeg ticket 6453"), "{out}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "one case line and the matrix line: {lines:?}"
    );
    let case = &lines[0];
    assert_eq!(case["event"], "case");
    assert_eq!(case["status"], "fail");
    assert_eq!(case["stage"], "handshake");
    assert_eq!(case["diagnosis"][0]["id"], "hs.first-read-short");
    assert_eq!(
        (&lines[1]["event"], &lines[1]["failed"]),
        (&"matrix".into(), &1.into())
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"wirecast/default\"") && xml.contains("<failure"),
        "{xml}"
    );
}

fn usage_errors_exit_2_with_a_reason() {
    let (code, _, err) = rtmp_probe(&["matrix", "--profiles", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown profile 'nope'"), "{err}");
    let (code, _, err) = rtmp_probe(&["probe", "http://x/live", "--profile", "obs"]);
    assert_eq!(code, 2);
    assert!(err.contains("not an rtmp:// URL"), "{err}");
    let (code, _, err) = rtmp_probe(&["serve", "--personality", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("choose one of: reference"), "{err}");

    // Every name a user types gets the closest names it may have meant.
    let url = "rtmp://127.0.0.1:1/live";
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    for (args, said) in [
        (
            &["serve", "--personality", "ffmepg"][..],
            "unknown personality 'ffmepg'; did you mean ffmpeg?",
        ),
        (
            &["matrix", "--personality", "refrence"][..],
            "unknown personality 'refrence'; did you mean reference?",
        ),
        (
            &["probe", url, "--profile", "wirecats"][..],
            "unknown profile 'wirecats'; did you mean wirecast?",
        ),
        (
            &["matrix", "--profile", "obs,ffmpg"][..],
            "unknown profile 'ffmpg'; did you mean ffmpeg",
        ),
        (
            &["load", url, "--profile", "osb"][..],
            "unknown profile 'osb'; did you mean obs",
        ),
        (
            &["profiles", "--tolerance", "rtmpdmp"][..],
            "unknown profile 'rtmpdmp'; did you mean rtmpdump?",
        ),
        (
            &["probe", url, "--profile", "obs", "--variant", "bytwise"][..],
            "unknown variant 'bytwise'; did you mean bytewise?",
        ),
        (
            &["matrix", "--variant", "split-c1"][..],
            "unknown variant 'split-c1'; did you mean split-c0",
        ),
        (
            &["matrix", "--case", "obs/bytwise"][..],
            "did you mean obs/bytewise?",
        ),
        (
            &["matrix", "--case", "wirecat/default"][..],
            "did you mean wirecast/default?",
        ),
        (
            &["explain", "hs.first-read-shrt"][..],
            "did you mean hs.first-read-short",
        ),
    ] {
        let (code, out, err) = rtmp_probe(args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
    }

    // RTMPS is named, not called "not an rtmp:// URL".
    let tls = "rtmps://127.0.0.1:443/live";
    for args in [
        &["probe", tls, "--profile", "obs"][..],
        &["matrix", tls][..],
        &["load", tls][..],
        &["replay", capture, "--against", tls][..],
        &["serve", "--listen", tls][..],
    ] {
        let (code, _, err) = rtmp_probe(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("rtmps:// (RTMP over TLS) is not supported yet"),
            "{args:?}: {err}"
        );
    }
}

fn probe_against_nothing_cannot_run_and_says_the_connection_was_refused() {
    let port = support::free_port();
    let (code, out, err) = rtmp_probe(&[
        "probe",
        &format!("rtmp://127.0.0.1:{port}/live"),
        "--profile",
        "obs",
    ]);
    // Issue 10: an unreachable target is "could not run" (3), said once (issue 16: found by the
    // case's own connection).
    assert_eq!(code, 3, "{out}");
    assert!(
        err.contains(&format!("connection refused by 127.0.0.1:{port}")),
        "{err}"
    );
}

fn profiles_and_personalities_are_listed_with_sources() {
    let (code, out, _) = rtmp_probe(&["profiles"]);
    assert_eq!(code, 0);
    assert!(out.contains("wirecast\n") && out.contains("source: FFmpeg ticket 6453"));
    assert!(out.contains(
        "variants: default, coalesced, split-c0, split-1536, bytewise, c2-with-connect, c0-wait-s0"
    ));
    // Each profile says how its behaviours are known.
    assert!(out.contains("checked against FFmpeg 5.1"), "{out}");
    assert!(
        out.contains("modelled from jgh-/VideoCore tag 0.3.2"),
        "{out}"
    );
    let (code, out, _) = rtmp_probe(&["serve", "--list-personalities"]);
    assert_eq!(code, 0);
    assert!(out.contains("joy4-zero-s2\n"));
}

fn a_tolerance_row_says_which_personality_exercises_it_and_whether_the_emulator_was_checked() {
    let (code, out, _) = rtmp_probe(&["profiles", "--tolerance", "streamlabs"]);
    assert_eq!(code, 0, "{out}");
    // A row: its first line (the key) and the indented lines under it.
    let row = |key: &str| -> String {
        let mut lines = out
            .lines()
            .skip_while(|l| !l.starts_with(&format!("{key} ")));
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("no row {key}: {out}"));
        std::iter::once(first)
            .chain(lines.take_while(|l| l.starts_with("    ")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let s2_zero = row("s2-all-zero");
    assert!(s2_zero.contains("exercised by: joy4-zero-s2"), "{s2_zero}");
    assert!(
        s2_zero.contains("emulator: checked by the consistency test")
            && s2_zero.contains("under joy4-zero-s2"),
        "{s2_zero}"
    );
    let huge = row("set-chunk-size-huge");
    assert!(huge.contains("exercised by: chunk-size-huge"), "{huge}");
    assert!(
        huge.contains("strict reading (fail), not checked"),
        "{huge}"
    );
    let ext = row("extended-timestamp-omitted-on-type-3");
    assert!(ext.contains("exercised by: ext-timestamp-omitted"), "{ext}");
    // A publisher meets publish-status-missing, not play-status-missing.
    let status = row("on-status-missing");
    assert!(
        status.contains("exercised by: publish-status-missing\n"),
        "{status}"
    );
    // streamlabs sends a simple C1, so no personality's digest S1 reaches it.
    let digest = row("s1-digest-present");
    assert!(digest.contains("exercised by: no personality"), "{digest}");
    assert!(
        out.contains("rows are checked against the emulator"),
        "{out}"
    );
}

fn a_profiles_tolerance_table_prints_each_deviation_with_its_source() {
    let (code, out, _) = rtmp_probe(&["profiles", "--tolerance", "ffmpeg"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("s2-withheld-until-c2                   stall (handshake)"),
        "{out}"
    );
    assert!(
        out.contains("source: FFmpeg libavformat/rtmpproto.c handle_invoke_error()"),
        "{out}"
    );
    assert!(out.contains("checked against FFmpeg 5.1"), "{out}");
    let (code, out, _) = rtmp_probe(&["profiles", "--tolerance", "wirecast"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("on-status-missing                      unknown\n"),
        "{out}"
    );
    let (code, _, err) = rtmp_probe(&["profiles", "--tolerance", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown profile 'nope'; choose one of: ") && err.contains("videocore"),
        "{err}"
    );
}

fn probe_pcap_shows_the_lone_s0_and_the_reset() {
    let mut options = rtmp_probe::serve::ServeOptions::default();
    options.personality = rtmp_probe::serve::personality::by_name("ffmpeg").unwrap();
    let server = support::Running::start(options);
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("w.pcap");
    let url = format!("rtmp://{}/live", server.addr);
    let (code, out, _) = rtmp_probe(&[
        "probe",
        &url,
        "--profile",
        "wirecast",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    let tshark = Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-T",
            "fields",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.len",
            "-e",
            "tcp.flags.reset",
        ])
        .output()
        .expect("tshark");
    let port = server.addr.port().to_string();
    let frames: Vec<Vec<String>> = String::from_utf8_lossy(&tshark.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    // SYN, SYN-ACK, ACK, C0+C1 (1537), S0 (1 byte from the server), RST from the client.
    assert_eq!(frames.len(), 6, "{frames:?}");
    assert_eq!(frames[3][1], "1537");
    assert_eq!(
        (frames[4][0].as_str(), frames[4][1].as_str()),
        (port.as_str(), "1")
    );
    assert_ne!(frames[5][0], port);
    assert!(
        frames[5][2] == "1" || frames[5][2] == "True",
        "{:?}",
        frames[5]
    );
}

fn diff_compares_transcripts_by_what_happened() {
    let a = support::shared_capture("peers/ffmpeg-publish-to-ffmpeg-listen.pcap");
    let b = support::shared_capture("peers/ffmpeg-publish-to-nginx.pcap");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, capture: &std::path::Path, json: bool| {
        let mode = if json { "--json" } else { "--snapshot" };
        let (code, out, _) = rtmp_probe(&["replay", capture.to_str().unwrap(), mode]);
        assert_eq!(code, 0);
        let path = dir.path().join(name);
        std::fs::write(&path, out).unwrap();
        path
    };
    let a_json = write("a.jsonl", &a, true);
    let a_again = write("a2.jsonl", &a, true);
    let b_json = write("b.jsonl", &b, true);
    let (code, out, _) = rtmp_probe(&["diff", a_json.to_str().unwrap(), a_again.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, ""));
    // FFmpeg's listen mode writes S0 alone; nginx-rtmp writes S0+S1 together.
    let (code, out, _) = rtmp_probe(&["diff", a_json.to_str().unwrap(), b_json.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("-S->C  1 B") && out.contains("+S->C  1537 B"),
        "{out}"
    );
    let missing = dir.path().join("missing.jsonl");
    let (code, _, err) = rtmp_probe(&["diff", a_json.to_str().unwrap(), missing.to_str().unwrap()]);
    // Issue 10: an unreadable file is "could not run" (3) in every subcommand.
    assert_eq!(code, 3);
    assert!(
        err.contains("reading") && err.contains("missing.jsonl"),
        "{err}"
    );
}

fn replay_exports_a_profile_that_probe_and_matrix_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ffmpeg.toml");
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let (code, out, err) = rtmp_probe(&[
        "replay",
        capture,
        "--export-profile",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("wrote profile ffmpeg-publish-to-nginx-flow-1 (the client of flow 1)"),
        "{out}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("c1_version = \"9.0.124.2\""), "{text}");

    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let (code, out, err) = rtmp_probe(&[
        "probe",
        &server.url("cli"),
        "--profile-file",
        file.to_str().unwrap(),
        "--duration",
        "0.3",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ffmpeg-publish-to-nginx-flow-1/default  pass"),
        "{out}"
    );
    drop(server);

    let (code, out, err) = rtmp_probe(
        &[
            &[
                "matrix",
                "--profile-file",
                file.to_str().unwrap(),
                "--profiles",
                "obs",
            ][..],
            &QUICK_MATRIX,
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ffmpeg-publish-to-nginx-flow-1/default")
            && out.contains("obs/default")
            && out.contains("2 cases: 2 pass, 0 fail"),
        "{out}"
    );
}

fn profile_file_errors_exit_2_naming_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\n\n[handshake]\nc2_timing = \"whenever\"\n",
    )
    .unwrap();
    for command in ["probe", "matrix"] {
        let (code, _, err) = rtmp_probe(&[
            command,
            "rtmp://127.0.0.1:1/live",
            "--profile-file",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(
            err.contains(&format!(
                "profile file {}, line 4, field `handshake.c2_timing`: unknown variant `whenever`",
                file.display()
            )),
            "{command}: {err}"
        );
    }
    let (code, _, err) = rtmp_probe(&["probe", "rtmp://127.0.0.1:1/live"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--profile"), "{err}");
}

fn serve_and_matrix_take_a_personality_of_your_own_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "name = \"mine\"\ndescription = \"answers S0 = 6\"\n\n[handshake]\ns0_version = 6\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    // In memory: the file's server, as the built-in s0-version-6 (OBS goes on, non-strict).
    let (code, out, err) = rtmp_probe(
        &[
            &["matrix", "--personality-file", file, "--profiles", "obs"][..],
            &QUICK_MATRIX,
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("built-in server in memory, personality mine"),
        "{out}"
    );
    assert!(out.contains("obs/default  non-strict"), "{out}");
    assert!(out.contains("hs.s0-not-3"), "{out}");

    // On the network: serve names the file's personality and answers with its S0.
    let serve = support::UnreadServe::start(&["--personality-file", file]);
    let url = format!("rtmp://{}/live", serve.addr);
    let (code, out, err) = rtmp_probe(&["probe", &url, "--profile", "obs", "--duration", "0.3"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("obs/default  non-strict") && out.contains("hs.s0-not-3"),
        "{out}"
    );
    let (_, served) = serve.stop_and_read(Duration::from_secs(10));
    assert!(served.contains("(personality mine)"), "{served}");
}

fn personality_file_errors_exit_2_naming_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "name = \"bad\"\n\n[replies]\nplay_answer = \"maybe\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let serve = ["serve", "--listen", "127.0.0.1:1", "--personality-file"];
    let matrix = ["matrix", "--personality-file"];
    for command in [&serve[..], &matrix[..]] {
        let (code, _, err) = rtmp_probe(&[command, &[path]].concat());
        assert_eq!(code, 2, "{command:?}: {err}");
        assert!(
            err.contains(&format!(
                "personality file {path}, line 4, field `replies.play_answer`: unknown variant `maybe`"
            )),
            "{command:?}: {err}"
        );
        // A file that cannot be read could not run.
        let missing = dir.path().join("missing.toml");
        let (code, _, err) = rtmp_probe(&[command, &[missing.to_str().unwrap()]].concat());
        assert_eq!(code, 3, "{command:?}: {err}");
        assert!(
            err.contains(&format!(
                "--personality-file {}: cannot read it",
                missing.display()
            )),
            "{command:?}: {err}"
        );
    }
    // One personality: a name or a file.
    let (code, _, err) = rtmp_probe(&[
        "serve",
        "--personality",
        "ffmpeg",
        "--personality-file",
        path,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = rtmp_probe(&[
        "matrix",
        "rtmp://127.0.0.1:1/live",
        "--personality-file",
        path,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--personality-file applies to the built-in server"),
        "{err}"
    );
}

fn exporting_a_flow_that_is_not_rtmp_names_the_flows() {
    let capture = support::shared_capture("public/obs27-publish-to-nginx-rtmp.pcap");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.toml");
    let (code, _, err) = rtmp_probe(&[
        "replay",
        capture.to_str().unwrap(),
        "--flow",
        "2",
        "--export-profile",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("flow 2 is not RTMP")
            && err.contains("the flows are: 1 (")
            && err.contains("RTMP)"),
        "{err}"
    );
    assert!(!file.exists());
}

fn replay_against_a_live_server_prints_the_live_session_and_the_diff() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = format!("rtmp://{}/live", server.addr);
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let (code, out, err) = rtmp_probe(&["replay", capture, "--against", &url, "--speed", "max"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with("flow 1 of ") && out.contains("all 158 of the client's writes sent"),
        "{out}"
    );
    assert!(out
        .contains("note: C2: regenerated for the live S1 as the captured one was: an echo of S1"));
    assert!(out.contains(
        "differences from the captured session (normalised transcripts):\n--- captured\n+++ live"
    ));
    // Nothing listens on a closed port: an error naming it, exit 3 (could not run; issue 10).
    let closed = format!("rtmp://127.0.0.1:{}/live", support::free_port());
    let (code, _, err) = rtmp_probe(&["replay", capture, "--against", &closed]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!("{closed}: connection refused by 127.0.0.1:")),
        "{err}"
    );
    for bad in [["--speed", "fast"], ["--reply-timeout", "0"]] {
        let (code, _, err) = rtmp_probe(&["replay", capture, "--against", &url, bad[0], bad[1]]);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
    let (code, _, err) = rtmp_probe(&["replay", capture, "--speed", "2"]);
    assert_eq!(code, 2, "--speed without --against: {err}");
}

fn replay_names_the_frames_it_skipped_on_stderr_and_keeps_stdout_clean() {
    let capture = support::shared_capture("public/vlc-play-from-nginx-rtmp-corrupt10pct.pcapng");
    let (code, out, err) = rtmp_probe(&["replay", capture.to_str().unwrap(), "--snapshot"]);
    assert_eq!(code, 0, "{err}");
    // Frame 2379 (as Wireshark numbers it) has a damaged TCP header length; its retransmission
    // supplies the bytes.
    assert!(
        err.contains("skipped frame 2379 (file offset 2262736): malformed TCP header"),
        "{err}"
    );
    assert!(err.contains("9 frames skipped in all"), "{err}");
    assert!(!out.contains("skipped frame"));
}

fn load_reports_handshakes_and_connect_times_and_fails_where_a_client_does() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = format!("rtmp://{}/live", server.addr);
    let (code, out, err) = rtmp_probe(&[
        "load",
        &url,
        "--connections",
        "5",
        "--total",
        "20",
        "--run-time",
        "30",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(
        (
            &report["clients"],
            &report["handshakes"],
            &report["connected"],
            &report["failed"]
        ),
        (&20.into(), &20.into(), &20.into(), &0.into()),
        "{out}"
    );
    let p = &report["time_to_connect_result"];
    assert!(
        p["p50_ms"].as_f64().unwrap() <= p["max_ms"].as_f64().unwrap(),
        "{out}"
    );
    // 20 clients and nothing else: no connection checks the target first (issue 16).
    assert_eq!(server.transcripts().len(), 20, "connections the server saw");

    // With --publish every client also gets NetStream.Publish.Start and sends media.
    let (code, out, err) = rtmp_probe(&[
        "load",
        &url,
        "--connections",
        "3",
        "--total",
        "3",
        "--publish",
        "--duration",
        "0.3",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 started, 3 handshakes, 3 connected, 0 failed"),
        "{out}"
    );
    let published = server
        .transcripts()
        .values()
        .filter(|t| rtmp_probe::transcript::render::snapshot(t).contains("NetStream.Publish.Start"))
        .count();
    assert_eq!(published, 3);

    // Nothing listens here: said once before any client starts, exit 3 (issue 10; it used to
    // be a table of clients failing at the TCP stage).
    let closed = format!("rtmp://127.0.0.1:{}/live", support::free_port());
    let (code, out, err) = rtmp_probe(&["load", &closed, "--total", "4", "--run-time", "10"]);
    assert_eq!(code, 3, "{out}");
    assert!(err.contains("connection refused by 127.0.0.1:"), "{err}");

    // --duration is seconds of media in every command; load's run length is --run-time, and
    // the old spellings say what replaced them.
    for (args, said) in [
        (
            &["load", &url, "--duration", "10"][..],
            "the length of the run is --run-time",
        ),
        (
            &["load", &url, "--publish", "--media-duration", "1"][..],
            "--media-duration is now --duration",
        ),
        (
            &["load", &url, "--step-timeout", "1"][..],
            "--step-timeout is now two flags",
        ),
    ] {
        let (code, out, err) = rtmp_probe(args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.contains(said), "{args:?}: {err}");
    }
    let (code, _, err) = rtmp_probe(&["load", &url, "--publish", "--profile", "ffmpeg-play"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--publish needs a publishing profile"),
        "{err}"
    );
}

fn a_profile_files_tolerance_section_decides_how_its_emulator_reacts() {
    let dir = tempfile::tempdir().unwrap();
    let run = |tolerance: &str| -> (i32, String) {
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, format!("name = \"mine\"\n\n{tolerance}")).unwrap();
        let path = path.to_str().unwrap();
        let (code, out, err) = rtmp_probe(&[
            "matrix",
            "--personality",
            "s0-version-6",
            "--profile-file",
            path,
            "--variants",
            "default",
        ]);
        (code, format!("{out}{err}"))
    };
    // Without a row the strict reading goes on (the server's S0 is noted, NON-STRICT).
    let (code, out) = run("");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("mine/default  non-strict"), "{out}");
    let (code, out) = run("[tolerance]\ns0-version-not-3 = \"fail:handshake\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("mine/default  fail     handshake"), "{out}");
    let (code, out) = run("[tolerance]\ns0-version-not-3 = \"stall:handshake\"\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("timeout  handshake"), "{out}");
    assert!(out.contains("tolerance.client-stalls"), "{out}");
    let (code, out) = run("[tolerance]\ns0-version-not-3 = \"fail\"\n");
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("line 4, field `tolerance.s0-version-not-3`: fail needs a stage"),
        "{out}"
    );
}

/// The RTMP flows `replay` finds in a pcap file, by their client's first command
/// (`connect`), and how many flows it holds in all.
fn rtmp_flows(pcap: &std::path::Path) -> (usize, usize) {
    let (code, out, err) = rtmp_probe(&["replay", pcap.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{}: {err}", pcap.display());
    let flows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|l: &serde_json::Value| l["event"] == "flow")
        .collect();
    let rtmp = flows.iter().filter(|f| f["rtmp"] == true).count();
    (rtmp, flows.len())
}

/// `--pcap FILE` wherever a connection is made: matrix over TCP (every case's connections in
/// one file), load (the first 100 clients), `replay --against` (the live connection); each file
/// replays as that many RTMP flows.
fn pcap_is_written_wherever_a_connection_is_made() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = server.url("pcap");
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let (code, out, err) = rtmp_probe(
        &[
            &[
                "matrix",
                &url,
                "--profile",
                "obs,ffmpeg",
                "--variant",
                "default,bytewise",
            ][..],
            &QUICK_MATRIX,
            &["--pcap", file("m.pcap").to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(rtmp_flows(&file("m.pcap")), (4, 4), "one flow per case");

    let (code, out, err) = rtmp_probe(&[
        "load",
        &url,
        "--total",
        "120",
        "--connections",
        "10",
        "--pcap",
        file("l.pcap").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        rtmp_flows(&file("l.pcap")),
        (100, 100),
        "the first 100 clients"
    );

    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let (code, out, err) = rtmp_probe(&[
        "replay",
        capture,
        "--against",
        &url,
        "--speed",
        "max",
        "--pcap",
        file("a.pcap").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(rtmp_flows(&file("a.pcap")), (1, 1));
    drop(server);

    // Without a URL the matrix makes no connection to record.
    let (code, _, err) = rtmp_probe(&["matrix", "--pcap", file("x.pcap").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--pcap records connections over TCP"), "{err}");
    assert!(!file("x.pcap").exists());
    // replay's --pcap is the live connection's: without --against there is none.
    let (code, _, err) = rtmp_probe(&["replay", capture, "--pcap", "x.pcap"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--against"), "{err}");
}

fn main() {
    support::trials::run(vec![
        trial!(pcap_is_written_wherever_a_connection_is_made),
        trial!(serve_and_matrix_take_a_personality_of_your_own_from_a_file),
        trial!(personality_file_errors_exit_2_naming_the_file_line_and_field),
        trial!(matrix_exits_0_when_nothing_fails_and_1_when_something_does),
        trial!(usage_errors_exit_2_with_a_reason),
        trial!(probe_against_nothing_cannot_run_and_says_the_connection_was_refused),
        trial!(profiles_and_personalities_are_listed_with_sources),
        trial!(a_tolerance_row_says_which_personality_exercises_it_and_whether_the_emulator_was_checked),
        trial!(a_profiles_tolerance_table_prints_each_deviation_with_its_source),
        trial!(probe_pcap_shows_the_lone_s0_and_the_reset, [Need::Program("tshark")]),
        trial!(diff_compares_transcripts_by_what_happened, [Need::SharedCapture("peers/ffmpeg-publish-to-ffmpeg-listen.pcap"), Need::SharedCapture("peers/ffmpeg-publish-to-nginx.pcap")]),
        trial!(replay_exports_a_profile_that_probe_and_matrix_run),
        trial!(profile_file_errors_exit_2_naming_the_file_line_and_field),
        trial!(exporting_a_flow_that_is_not_rtmp_names_the_flows, [Need::SharedCapture("public/obs27-publish-to-nginx-rtmp.pcap")]),
        trial!(replay_against_a_live_server_prints_the_live_session_and_the_diff),
        trial!(replay_names_the_frames_it_skipped_on_stderr_and_keeps_stdout_clean, [Need::SharedCapture("public/vlc-play-from-nginx-rtmp-corrupt10pct.pcapng")]),
        trial!(load_reports_handshakes_and_connect_times_and_fails_where_a_client_does),
        trial!(a_profile_files_tolerance_section_decides_how_its_emulator_reacts),
    ]);
}
