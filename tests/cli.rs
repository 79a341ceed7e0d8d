//! The command line's exit statuses and outputs, run as a user would.

mod support;

use std::process::Command;

fn rtmp_probe(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rtmp-probe"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("running rtmp-probe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn matrix_exits_0_when_nothing_fails_and_1_when_something_does() {
    let quick = [
        "--variants",
        "default",
        "--repeat",
        "1",
        "--duration",
        "0.3",
    ];
    let (code, out, _) =
        rtmp_probe(&[&["matrix", "--profiles", "obs,ffmpeg"], &quick[..]].concat());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("obs/default") && out.contains("2 cases, 0 failed"),
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
                "--json",
            ],
            &[json.to_str().unwrap(), "--junit", junit.to_str().unwrap()][..],
            &quick[..],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FFmpeg ticket 6453"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["cases"][0]["status"], "fail");
    assert_eq!(report["cases"][0]["stage"], "handshake");
    assert_eq!(
        report["cases"][0]["diagnosis"][0]["id"],
        "hs.first-read-short"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"wirecast/default\"") && xml.contains("<failure"),
        "{xml}"
    );
}

#[test]
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
}

#[test]
fn probe_against_nothing_is_an_error_at_the_tcp_stage() {
    let port = support::free_port();
    let (code, out, _) = rtmp_probe(&[
        "probe",
        &format!("rtmp://127.0.0.1:{port}/live"),
        "--profile",
        "obs",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("error") && out.contains("tcp"), "{out}");
}

#[test]
fn profiles_and_personalities_are_listed_with_sources() {
    let (code, out, _) = rtmp_probe(&["profiles"]);
    assert_eq!(code, 0);
    assert!(out.contains("wirecast\n") && out.contains("source: FFmpeg ticket 6453"));
    assert!(out.contains(
        "variants: default, coalesced, split-c0, split-1536, bytewise, c2-with-connect, c0-wait-s0"
    ));
    let (code, out, _) = rtmp_probe(&["serve", "--list-personalities"]);
    assert_eq!(code, 0);
    assert!(out.contains("joy4-zero-s2\n"));
}
