//! The command-line contract (issue 10), run as a user would: exit statuses, error lines that
//! name what was wrong before any work is done, closed pipes and interrupts. Every case checks
//! both the message and the exit status.
//!
//! One file past 600 lines: the items share the helpers that run the binary (to the end, into a
//! closed pipe, or until a signal), and each test is one item of the same contract.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::trials::Need;
use support::{rtmp_probe, QUICK_MATRIX};

/// An error that stops a command before it runs: `code`, nothing on stdout, and exactly one
/// line on stderr in the `rtmp-probe: <what>: <why>` style holding `said`.
fn assert_one_line_error(args: &[&str], code: i32, said: &str) {
    let (got, out, err) = rtmp_probe(args);
    assert_eq!(got, code, "{args:?}: {err}");
    assert_eq!(out, "", "{args:?} printed on stdout");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("rtmp-probe: ") && err.contains(said),
        "{args:?}: expected {said:?} in {err}"
    );
    assert!(!err.contains("Usage:"), "{args:?}: {err}");
}

/// A usage error from the argument parser: 2, clap's message naming the value and its range.
fn assert_rejected(args: &[&str], said: &str) {
    let (code, out, err) = rtmp_probe(args);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert_eq!(out, "");
    assert!(err.contains(said), "{args:?}: expected {said:?} in {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

/// The codes at the end of a `--help` (`Exit status:`, then `  CODE meaning`).
fn exit_codes_in_help(args: &[&str]) -> Vec<u32> {
    let (code, out, err) = rtmp_probe(&[args, &["--help"]].concat());
    assert_eq!(code, 0, "{args:?}: {err}");
    let listed = out
        .split("Exit status:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{args:?}: no exit statuses in\n{out}"));
    listed
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

fn the_exit_statuses_are_listed_in_every_help() {
    assert_eq!(exit_codes_in_help(&[]), [0, 1, 2, 3, 130, 141]);
    for (subcommand, codes) in [
        ("serve", &[0, 2, 3, 141][..]),
        ("probe", &[0, 1, 2, 3, 130, 141]),
        ("matrix", &[0, 1, 2, 3, 130, 141]),
        ("load", &[0, 1, 2, 3, 130, 141]),
        ("replay", &[0, 1, 2, 3, 130, 141]),
        ("diff", &[0, 1, 2, 3, 141]),
        ("profiles", &[0, 2, 3, 141]),
        ("explain", &[0, 2, 3, 141]),
        ("completions", &[0, 2, 3, 141]),
        ("man", &[0, 2, 3, 141]),
    ] {
        assert_eq!(exit_codes_in_help(&[subcommand]), codes, "{subcommand}");
    }
}

fn output_paths_are_checked_before_any_work() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = format!("rtmp://{}/live", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let missing = |name: &str| dir.path().join("nodir").join(name);
    let pcap = missing("p.pcap");
    assert_one_line_error(
        &[
            "probe",
            &url,
            "--profile",
            "obs",
            "--pcap",
            pcap.to_str().unwrap(),
        ],
        3,
        &format!(
            "--pcap {}: cannot create: No such file or directory",
            pcap.display()
        ),
    );
    assert!(
        server.transcripts().is_empty(),
        "probe connected before checking --pcap"
    );
    let pcap = missing("x.pcap");
    assert_one_line_error(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pcap",
            pcap.to_str().unwrap(),
        ],
        3,
        &format!("--pcap {}: cannot create", pcap.display()),
    );
    let record = dir.path().join("file-not-dir");
    std::fs::write(&record, "").unwrap();
    let inside = record.join("rec");
    assert_one_line_error(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--record",
            inside.to_str().unwrap(),
        ],
        3,
        &format!("--record {}: cannot create", inside.display()),
    );
    // Before the 77 cases, not 25 s later.
    let started = Instant::now();
    let json = missing("m.json");
    assert_one_line_error(
        &["matrix", &format!("--json={}", json.display())],
        3,
        &format!("--json {}: cannot create", json.display()),
    );
    let junit = missing("m.xml");
    assert_one_line_error(
        &["matrix", "--junit", junit.to_str().unwrap()],
        3,
        &format!("--junit {}: cannot create", junit.display()),
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let profile = missing("p.toml");
    assert_one_line_error(
        &[
            "replay",
            capture,
            "--export-profile",
            profile.to_str().unwrap(),
        ],
        3,
        &format!("--export-profile {}: cannot create", profile.display()),
    );
}

fn a_dash_for_a_file_means_standard_output() {
    let (code, out, err) = rtmp_probe(
        &[
            &["matrix", "--profiles", "obs"][..],
            &QUICK_MATRIX,
            &["--json"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let (cases, summary) = matrix_json(&out);
    assert_eq!(cases[0]["id"], "obs/default", "{out}");
    assert_eq!(summary["cases"], 1, "{out}");
    assert!(!std::path::Path::new("-").exists());
    // The table moved to stderr so that stdout is JSON alone.
    assert!(
        err.contains("obs/default") && err.contains("1 case: 1 pass, 0 fail"),
        "{err}"
    );

    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let (code, out, err) = rtmp_probe(&["replay", capture, "--export-profile", "-"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\n# rtmp-probe client profile"), "{out}");
    assert!(out.contains("\nname = \""), "{out}");
    let (code, out, err) = rtmp_probe(&["replay", capture, "--json=-"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("{\"event\":\"flow\""), "{out}");

    for args in [
        &["matrix", "--json", "--junit", "-"][..],
        &["matrix", "--json=-", "--junit", "-"][..],
        &["replay", capture, "--json", "--export-profile", "-"][..],
        &["replay", capture, "--json", "--snapshot"][..],
    ] {
        let (code, _, err) = rtmp_probe(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains("both want standard output"), "{err}");
    }
    // The file of --json goes with `=`; after a space it would be read as the URL.
    let (code, _, err) = rtmp_probe(&["matrix", "--json", "results.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("write --json=results.jsonl (the file goes with `=`)"),
        "{err}"
    );
    let (code, _, err) = rtmp_probe(&[
        "probe",
        "rtmp://127.0.0.1:1/live",
        "--profile",
        "obs",
        "--pcap",
        "-",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--pcap -: standard output carries the transcript"),
        "{err}"
    );
}

fn an_unreachable_target_is_one_line_from_the_first_connection() {
    let refused = support::free_port();
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    for (url, said) in [
        (
            "rtmp://nosuch.invalid/live".to_string(),
            "cannot resolve 'nosuch.invalid'".to_string(),
        ),
        (
            "rtmp://127.0.0.1:70000/live".into(),
            "port 70000 out of range (1-65535)".into(),
        ),
        (
            "rtmp://127.0.0.1:0/live".into(),
            "port 0 cannot be connected to".into(),
        ),
        ("rtmp://:1935/live".into(), "empty host in ':1935'".into()),
        (
            format!("rtmp://127.0.0.1:{refused}/live"),
            format!("connection refused by 127.0.0.1:{refused}"),
        ),
    ] {
        let said = format!("rtmp-probe: {url}: {said}");
        let started = Instant::now();
        assert_one_line_error(&["probe", &url, "--profile", "obs"], 3, &said);
        assert_one_line_error(&["matrix", &url], 3, &said);
        // Not thousands of attempts for --duration: the first client's connection decides.
        assert_one_line_error(&["load", &url, "--run-time", "30"], 3, &said);
        assert_one_line_error(&["replay", capture, "--against", &url], 3, &said);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{url}: {:?}",
            started.elapsed()
        );
    }
}

/// A pcap file's global header alone: a valid capture with nothing in it.
fn header_only_pcap(path: &std::path::Path) {
    let recorder =
        rtmp_probe::record::pcap::PcapRecorder::new(std::fs::File::create(path).unwrap()).unwrap();
    recorder.finish().unwrap();
}

/// One TCP flow of HTTP, nothing of RTMP.
fn http_only_pcap(path: &std::path::Path) {
    use rtmp_probe::record::pcap::{PcapRecorder, TcpFlow};
    use rtmp_probe::transcript::Direction;
    let recorder = PcapRecorder::new(std::fs::File::create(path).unwrap()).unwrap();
    let at = std::time::SystemTime::now();
    let mut flow = TcpFlow::open(
        recorder,
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:80".parse().unwrap(),
        at,
    )
    .unwrap();
    flow.record(Direction::ClientToServer, at, b"GET / HTTP/1.0\r\n\r\n")
        .unwrap();
    flow.record(Direction::ServerToClient, at, b"HTTP/1.0 200 OK\r\n\r\n")
        .unwrap();
    flow.close(at, None).unwrap();
    flow.finish().unwrap();
}

fn an_empty_result_is_not_a_success() {
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let (code, out, err) = rtmp_probe(&["replay", capture, "--flow", "99"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "");
    assert!(
        err.starts_with(&format!(
            "rtmp-probe: {capture}: no flow 99; the capture has 1 RTMP flow: 1 ("
        )),
        "{err}"
    );
    assert_rejected(
        &["replay", capture, "--flow", "0"],
        "flows are numbered from 1",
    );

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    header_only_pcap(&empty);
    assert_one_line_error(
        &["replay", empty.to_str().unwrap()],
        3,
        &format!(
            "{}: no RTMP flow; the capture holds no TCP flow",
            empty.display()
        ),
    );
    let http = dir.path().join("http.pcap");
    http_only_pcap(&http);
    let (code, out, err) = rtmp_probe(&["replay", http.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(
        out.contains("flow 1: 127.0.0.1:40000 -> 127.0.0.1:80: not RTMP, skipped"),
        "{out}"
    );
    assert!(
        err.contains(&format!(
            "rtmp-probe: {}: no RTMP flow; the capture has no RTMP flow; not RTMP: 1 (127.0.0.1:40000 -> 127.0.0.1:80)",
            http.display()
        )),
        "{err}"
    );
}

fn silly_values_are_rejected_with_the_valid_range() {
    let url = "rtmp://127.0.0.1:1/live";
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    assert_rejected(&["matrix", "--jobs", "0"], "0 is not in 1..=4096");
    assert_rejected(
        &["serve", "--max-connections", "0"],
        "0 is not in 1..=1000000",
    );
    assert_rejected(&["serve", "--max-held-mib", "0"], "0 is not in 1..=1048576");
    assert_rejected(&["load", url, "--total", "0"], "0 is not in 1..=1000000000");
    assert_rejected(
        &["load", url, "--rate", "1e-300"],
        "expected a number from 0.001 to 1000000",
    );
    assert_rejected(
        &["load", url, "--rate", "inf"],
        "expected a number from 0.001 to 1000000",
    );
    assert_rejected(
        &["load", url, "--connections", "2305843009213693952"],
        "is not in 1..=1000000",
    );
    assert_rejected(
        &["replay", capture, "--against", url, "--speed", "1e-300"],
        "--speed takes a number from 0.001 to 1000000",
    );
    for (flag, value) in [("--duration", "1e300"), ("--duration", "0")] {
        let (code, _, err) = rtmp_probe(&["matrix", flag, value]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains("above 0 and at most 1000000"), "{err}");
    }
}

fn errors_of_reading_are_could_not_run_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pcap");
    assert_one_line_error(
        &["replay", missing.to_str().unwrap()],
        3,
        "No such file or directory",
    );
    let missing = dir.path().join("missing.toml");
    for command in ["probe", "matrix"] {
        assert_one_line_error(
            &[
                command,
                "rtmp://127.0.0.1:1/live",
                "--profile-file",
                missing.to_str().unwrap(),
            ],
            3,
            &format!(
                "--profile-file {}: cannot read it: No such file",
                missing.display()
            ),
        );
    }
    let missing = dir.path().join("missing.jsonl");
    assert_one_line_error(
        &["diff", missing.to_str().unwrap(), missing.to_str().unwrap()],
        3,
        &format!("reading {}: No such file or directory", missing.display()),
    );
    // A usage error keeps clap's usage block; errors of running never show it.
    let (code, _, err) = rtmp_probe(&["matrix", "--no-such-flag"]);
    assert_eq!(code, 2);
    assert!(err.contains("Usage: rtmp-probe matrix"), "{err}");
}

/// Starts `serve --listen LISTEN` and returns its first line (where it listens) and its
/// standard output, kept open (serve stops when it closes).
fn serve_listening_on(
    listen: &str,
) -> (
    support::ChildGuard,
    String,
    BufReader<std::process::ChildStdout>,
) {
    let mut child = support::ChildGuard(
        support::rtmp_probe_command()
            .args(["serve", "--listen", listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve"),
    );
    let mut line = String::new();
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    out.read_line(&mut line).unwrap();
    (child, line, out)
}

fn serve_listens_on_the_addresses_users_type() {
    let port = support::free_port();
    for listen in [
        format!("{port}"),
        format!(":{port}"),
        format!("127.0.0.1:{port}"),
        format!("rtmp://127.0.0.1:{port}/"),
    ] {
        let (_serve, line, _out) = serve_listening_on(&listen);
        assert!(
            line.contains(&format!("listening on rtmp://127.0.0.1:{port}/")),
            "{listen}: {line}"
        );
    }
    let (_serve, line, _out) = serve_listening_on(&format!("localhost:{port}"));
    assert!(line.contains(&format!(":{port}/")), "localhost: {line}");
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let (_serve, line, _out) = serve_listening_on(&format!("[::1]:{port}"));
        assert!(line.contains(&format!("rtmp://[::1]:{port}/")), "{line}");
    }
    for (listen, said) in [
        ("70000", "'70000': port 70000 out of range"),
        (
            "127.0.0.1:http",
            "'127.0.0.1:http': port 'http' is not a number",
        ),
        ("http://127.0.0.1/", "only rtmp:// URLs may have a path"),
    ] {
        assert_rejected(&["serve", "--listen", listen], said);
        assert_rejected(
            &["serve", "--listen", listen],
            "use PORT, :PORT, HOST:PORT, IP:PORT, [IPv6]:PORT or rtmp://HOST:PORT/",
        );
    }
}

/// A pipe whose reading end is already closed, as standard output: the first write of the
/// command fails with EPIPE, as under `| head` once head has gone (no race with the reader).
fn closed_pipe() -> Stdio {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array; each is owned exactly once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe {
        drop(std::os::fd::OwnedFd::from_raw_fd(fds[0]));
        Stdio::from(std::os::fd::OwnedFd::from_raw_fd(fds[1]))
    }
}

/// Runs rtmp-probe with its standard output a closed pipe: (exit status, stderr).
fn into_closed_pipe(args: &[&str]) -> (i32, String) {
    let out = support::rtmp_probe_command()
        .args(args)
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("running rtmp-probe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn a_closed_output_pipe_exits_141_after_writing_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    let junit = dir.path().join("m.xml");
    let (code, err) = into_closed_pipe(
        &[
            &["matrix", "--profiles", "obs,ffmpeg"][..],
            &QUICK_MATRIX,
            &[
                &format!("--json={}", json.display()),
                "--junit",
                junit.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 141, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
    // Nothing measured is lost: the files hold every case.
    let (cases, summary) = matrix_json(&std::fs::read_to_string(&json).unwrap());
    assert_eq!(cases.len(), 2, "{summary}");
    assert_eq!(summary["cases"], 2, "{summary}");
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("obs/default"));

    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let pcap = dir.path().join("p.pcap");
    let url = format!("rtmp://{}/live", server.addr);
    let (code, err) = into_closed_pipe(&[
        "probe",
        &url,
        "--profile",
        "obs",
        "--duration",
        "0.3",
        "--pcap",
        pcap.to_str().unwrap(),
    ]);
    assert_eq!(code, 141, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (code, out, err) = rtmp_probe(&["replay", pcap.to_str().unwrap(), "--snapshot"]);
    assert_eq!(code, 0, "the probe's pcap: {err}");
    assert!(out.contains("NetStream.Publish.Start"), "{out}");

    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let listing = ["profiles"];
    let replay = ["replay", capture];
    let against = ["replay", capture, "--against", &url, "--speed", "max"];
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    let other = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-ffmpeg-listen.pcap"
    );
    for (file, capture) in [(&a, capture), (&b, other)] {
        let (code, out, err) = rtmp_probe(&["replay", capture, "--json"]);
        assert_eq!(code, 0, "{err}");
        std::fs::write(file, out).unwrap();
    }
    let diff = ["diff", a.to_str().unwrap(), b.to_str().unwrap()];
    let load = ["load", &url, "--total", "2", "--connections", "2"];
    for args in [&listing[..], &replay, &against, &diff, &load] {
        let (code, err) = into_closed_pipe(args);
        assert_eq!(code, 141, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

fn serve_whose_output_closes_stops_listening_and_finishes_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("serve.pcap");
    let record = dir.path().join("rec");
    let port = support::free_port();
    let mut serve = support::ChildGuard(
        support::rtmp_probe_command()
            .args(["serve", "--listen", &port.to_string()])
            .args([
                "--pcap",
                pcap.to_str().unwrap(),
                "--record",
                record.to_str().unwrap(),
            ])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve"),
    );
    let mut lines = BufReader::new(serve.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains(&format!("listening on rtmp://127.0.0.1:{port}/")),
        "{first}"
    );
    let url = format!("rtmp://127.0.0.1:{port}/live/piped");
    let _ffmpeg = support::ChildGuard(
        support::ffmpeg_publish(&url, 30)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ffmpeg"),
    );
    // Read until the publish has started (bounded), then close the reading end, as `head`
    // does once it has its lines.
    let started = Instant::now();
    let mut read = 0;
    for line in lines.by_ref() {
        read += 1;
        if line.unwrap().contains("NetStream.Publish.Start") || read > 500 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no publish in 20 s"
        );
    }
    // And until media is being recorded (the few lines printed meanwhile fit in the pipe).
    let recording = || {
        std::fs::read_dir(&record)
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| f.metadata().is_ok_and(|m| m.len() > 20_000))
    };
    while !recording() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing recorded in 20 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(lines);
    let status = loop {
        if let Some(status) = serve.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(141), "{err}");
    assert_eq!(err, "rtmp-probe serve: standard output closed; stopping\n");
    // It stopped listening: a later client is refused, not reset mid-handshake.
    let refused = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    let (published, said) =
        support::run_bounded(support::ffmpeg_publish(&url, 1), Duration::from_secs(20));
    assert!(!published && said.contains("Connection refused"), "{said}");
    // The recording and the pcap were finished: both read back whole.
    let flv: Vec<_> = std::fs::read_dir(&record).unwrap().flatten().collect();
    assert_eq!(flv.len(), 1, "{flv:?}");
    let bytes = std::fs::read(flv[0].path()).unwrap();
    assert!(
        bytes.starts_with(b"FLV") && bytes.len() > 1000,
        "{} bytes",
        bytes.len()
    );
    let (code, out, err) = rtmp_probe(&["replay", pcap.to_str().unwrap(), "--snapshot"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("NetStream.Publish.Start"), "{out}");
}

/// Spawns rtmp-probe with piped output, waits (bounded) until `server` has seen `connections`
/// connections, sends `signal`, and returns (exit status, stdout, stderr).
fn signalled_when(
    args: &[&str],
    server: &support::Running,
    connections: usize,
    signal: libc::c_int,
) -> (i32, String, String) {
    let mut child = support::ChildGuard(
        support::rtmp_probe_command()
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rtmp-probe"),
    );
    let readers = [
        child
            .0
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
        child
            .0
            .stderr
            .take()
            .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
    ]
    .map(|r| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.unwrap().read_to_string(&mut s);
            s
        })
    });
    let started = Instant::now();
    while server.transcripts().len() < connections {
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "{args:?} ended before it was interrupted"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{args:?}: too slow"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill with the pid of a child this test owns and has not reaped.
    assert_eq!(
        unsafe { libc::kill(child.0.id() as libc::pid_t, signal) },
        0
    );
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{args:?} did not stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let [out, err] = readers.map(|r| r.join().unwrap());
    assert!(!err.contains("panicked"), "{err}");
    (status.code().unwrap_or(-1), out, err)
}

fn an_interrupted_matrix_reports_and_writes_the_finished_cases() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = format!("rtmp://{}/live", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    let junit = dir.path().join("m.xml");
    // One case at a time, one connection each (nothing checks the target first): connection 4
    // means cases 1 to 3 have finished and case 4 is under way.
    let (code, out, err) = signalled_when(
        &[
            "matrix",
            &url,
            "--profiles",
            "obs",
            "--repeat",
            "1",
            "--duration",
            "0.5",
            "--jobs",
            "1",
            &format!("--json={}", json.display()),
            "--junit",
            junit.to_str().unwrap(),
        ],
        &server,
        4,
        libc::SIGINT,
    );
    assert_eq!(code, 130, "{out}{err}");
    let (cases, summary) = matrix_json(&std::fs::read_to_string(&json).unwrap());
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert_eq!(summary["cases"], cases.len(), "{summary}");
    let all = rtmp_probe::emulate::variant::Variant::ALL.len();
    assert!(
        (2..all).contains(&cases.len()),
        "{} of {all} cases",
        cases.len()
    );
    for case in &cases {
        assert!(case["id"].as_str().unwrap().starts_with("obs/"), "{case}");
        // Cases start in any order once the first has connected, so c0-wait-s0 (INFORMATIONAL
        // against a server that waits for C1) may be among those that finished.
        let finished = ["pass", "informational"].map(serde_json::Value::from);
        assert!(
            finished.contains(&case["status"]),
            "only finished cases: {case}"
        );
    }
    assert!(
        out.contains(&format!(
            "interrupted: {} of {all} cases finished",
            cases.len()
        )),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), cases.len(), "{xml}");
}

fn interrupted_probe_load_and_replay_against_say_what_finished() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = format!("rtmp://{}/live", server.addr);
    let (code, out, err) = signalled_when(
        &[
            "probe",
            &url,
            "--profile",
            "obs",
            "--repeat",
            "20",
            "--duration",
            "0.5",
            "--json",
        ],
        &server,
        4,
        libc::SIGINT,
    );
    assert_eq!(code, 130, "{err}");
    let result: serde_json::Value =
        serde_json::from_str(out.lines().last().unwrap()).expect("the result line");
    let attempts = result["attempts"].as_u64().unwrap();
    assert!((2..20).contains(&attempts), "{result}");
    assert!(
        err.contains(&format!("interrupted: {attempts} of 20 attempts finished")),
        "{err}"
    );

    let before = server.transcripts().len();
    let (code, out, err) = signalled_when(
        &[
            "load",
            &url,
            "--connections",
            "1",
            "--rate",
            "5",
            "--total",
            "1000",
            "--run-time",
            "60",
            "--json",
        ],
        &server,
        before + 4,
        libc::SIGTERM,
    );
    assert_eq!(code, 130, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).expect("the JSON report");
    assert_eq!(report["interrupted"], true, "{report}");
    let clients = report["clients"].as_u64().unwrap();
    assert!((2..1000).contains(&clients), "{report}");
    assert_eq!(
        report["failed"], 0,
        "clients in flight are not failures: {report}"
    );

    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let before = server.transcripts().len();
    let (code, out, err) = signalled_when(
        &["replay", capture, "--against", &url, "--speed", "0.5"],
        &server,
        // The re-enactment's own connection, the only one.
        before + 1,
        libc::SIGINT,
    );
    assert_eq!(code, 130, "{err}");
    assert!(
        out.contains("writes sent: interrupted before the client's write")
            || out.contains("writes sent: interrupted while the client waited for"),
        "{out}"
    );
}

/// A listener on a fresh port that accepts connections and never answers (the hung server
/// probe's live transcript is for); it holds what it accepted until dropped.
struct Silent {
    port: u16,
    _accepting: std::thread::JoinHandle<()>,
}

impl Silent {
    fn start() -> Silent {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = std::thread::spawn(move || {
            let mut held = Vec::new();
            // Bounded: a test makes a few connections at most.
            for accepted in listener.incoming().take(20) {
                held.push(accepted);
            }
        });
        Silent {
            port,
            _accepting: accepting,
        }
    }
}

/// Runs `args` until its standard output holds every one of `shown` (read as it is printed),
/// then sends SIGINT; returns the exit status, stdout and stderr.
fn interrupted_once_shown(args: &[&str], shown: &[&str]) -> (i32, String, String) {
    let mut child = support::ChildGuard(
        support::rtmp_probe_command()
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rtmp-probe"),
    );
    let printed = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let out = {
        let printed = printed.clone();
        let stdout = child.0.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut p = printed.lock().unwrap();
                p.push_str(&line);
                p.push('\n');
            }
        })
    };
    let err = {
        let mut stderr = child.0.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
            s
        })
    };
    let started = Instant::now();
    loop {
        let so_far = printed.lock().unwrap().clone();
        if shown.iter().all(|s| so_far.contains(s)) {
            break;
        }
        assert!(
            child.0.try_wait().unwrap().is_none(),
            "{args:?} ended before it showed {shown:?}: {so_far}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{args:?} did not show {shown:?} while it ran: {so_far}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill with the pid of a child this test owns and has not reaped.
    assert_eq!(
        unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{args:?} did not stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    out.join().unwrap();
    let err = err.join().unwrap();
    assert!(!err.contains("panicked"), "{err}");
    let out = printed.lock().unwrap().clone();
    (status.code().unwrap_or(-1), out, err)
}

/// probe prints its transcript as it goes, so a server that never answers shows what was sent
/// while the client waits; Ctrl-C keeps it, adds the attempt's verdict so far (TIMEOUT,
/// case.interrupted: where it stood), writes the pcap file and exits 130.
fn probe_streams_its_transcript_and_keeps_it_on_ctrl_c() {
    let silent = Silent::start();
    let url = format!("rtmp://127.0.0.1:{}/live", silent.port);
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("hung.pcap");
    let interrupted = rtmp_probe::transcript::DiagnosticId::CaseInterrupted.as_str();

    // Text: C0+C1 is on screen before the interrupt, the verdict after it.
    let (code, out, err) = interrupted_once_shown(
        &[
            "probe",
            &url,
            "--profile",
            "gstreamer",
            "--pcap",
            pcap.to_str().unwrap(),
        ],
        &["connected", "C->S  1537 B"],
    );
    assert_eq!(code, 130, "{out}{err}");
    let verdict = format!("WARN  {interrupted}: interrupted (Ctrl-C or SIGTERM) ");
    assert!(out.contains(&verdict), "{out}");
    assert!(
        out.contains("during the handshake, while the client waited for S0+S1+S2 (0 of 3073 bytes had arrived)"),
        "{out}"
    );
    assert!(
        out.contains("gstreamer/default  timeout  handshake  [1] case.interrupted"),
        "{out}"
    );
    assert!(
        out.contains(
            "interrupted: 0 of 1 attempt finished; attempt 1 was stopped during handshake"
        ),
        "{out}"
    );
    let frames = std::fs::read(&pcap).expect("the pcap file is written");
    let (flows, error) = rtmp_probe::replay::replay(
        rtmp_probe::capture::CaptureReader::new(&frames[..]).unwrap(),
        |_| {},
    );
    assert!(error.is_none(), "{error:?}");
    assert_eq!(flows[0].bytes.0, 1537, "what was sent, in the pcap");

    // JSON: each event a line as it happens; the last line the verdict so far.
    let (code, out, err) = interrupted_once_shown(
        &["probe", &url, "--profile", "obs", "--json"],
        &["\"len\":1537"],
    );
    assert_eq!(code, 130, "{out}{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert_eq!(lines[1]["event"], "segment", "{out}");
    let last = lines.last().unwrap();
    assert_eq!(
        (&last["event"], &last["status"], &last["interrupted"]),
        (&"case".into(), &"timeout".into(), &true.into()),
        "{last}"
    );
    assert_eq!(last["diagnosis"][0]["id"], interrupted, "{last}");
    assert!(
        lines.iter().any(|l| l["id"] == interrupted),
        "the transcript ends with it: {out}"
    );
    assert!(
        err.contains("interrupted: 0 of 1 attempt finished; attempt 1 was stopped"),
        "{err}"
    );

    // --repeat: each line says its attempt; the summary is the finished attempts' worst.
    let (code, out, err) = interrupted_once_shown(
        &[
            "probe",
            &url,
            "--profile",
            "obs",
            "--repeat",
            "5",
            "--handshake-timeout",
            "0.3",
        ],
        &["[2]      "],
    );
    assert_eq!(code, 130, "{out}{err}");
    assert!(
        out.contains("[1]     ") && out.contains("hs.timeout"),
        "{out}"
    );
    // Attempt 2's transcript, stopped: its lines are numbered 2 and end with the verdict.
    let second: Vec<&str> = out.lines().filter(|l| l.starts_with("[2] ")).collect();
    assert!(
        second.last().is_some_and(|l| l.contains(interrupted)),
        "{out}"
    );
    assert!(
        out.contains("obs/default  timeout  handshake  [1] hs.timeout"),
        "{out}"
    );
    assert!(
        out.contains(
            "interrupted: 1 of 5 attempts finished; attempt 2 was stopped during handshake"
        ),
        "{out}"
    );
}

fn serve_stops_cleanly_on_sigint_and_sigterm_with_status_0() {
    let (code, help, _) = rtmp_probe(&["serve", "--help"]);
    assert_eq!(code, 0);
    assert!(
        help.contains("Stops on Ctrl-C or SIGTERM, after closing every connection and finishing")
            && help.contains("the pcap file: exit 0"),
        "{help}"
    );
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let (mut serve, line, mut out) = serve_listening_on("127.0.0.1:0");
        assert!(line.contains("listening on"), "{line}");
        // SAFETY: kill with the pid of a child this test owns and has not reaped.
        assert_eq!(
            unsafe { libc::kill(serve.0.id() as libc::pid_t, signal) },
            0
        );
        let started = Instant::now();
        let status = loop {
            if let Some(status) = serve.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "serve did not stop"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(status.code(), Some(0), "signal {signal}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
        assert!(
            rest.contains("rtmp-probe serve: stopped after 0 connections"),
            "{rest}"
        );
    }
}

/// `--json` puts JSON Lines on standard output in place of the text; `--json=FILE` puts the
/// same lines into FILE and keeps the text on standard output, in every command that has JSON.
fn json_to_a_file_keeps_the_text_on_standard_output() {
    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = format!("rtmp://{}/live", server.addr);
    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let dir = tempfile::tempdir().unwrap();
    let commands: [(&str, Vec<&str>, &str, &str); 4] = [
        ("replay", vec!["replay", capture], "flow 1: ", "flow"),
        (
            "probe",
            vec!["probe", &url, "--profile", "obs", "--duration", "0.3"],
            "obs/default  pass",
            "case",
        ),
        (
            "load",
            vec!["load", &url, "--total", "2", "--connections", "1"],
            "clients      2 started",
            "load",
        ),
        (
            "matrix",
            [
                &["matrix", "--profile", "obs", "--variant", "default"][..],
                &QUICK_MATRIX,
            ]
            .concat(),
            "1 case: 1 pass",
            "matrix",
        ),
    ];
    for (name, args, text_says, record) in commands {
        let file = dir.path().join(format!("{name}.jsonl"));
        let to_file = format!("--json={}", file.display());
        let (code, text, err) = rtmp_probe(&[&args[..], &[to_file.as_str()]].concat());
        assert_eq!(code, 0, "{name}: {err}");
        assert!(text.contains(text_says), "{name}: {text}");
        assert!(!text.contains("{\"event\""), "{name}: {text}");
        let lines = std::fs::read_to_string(&file).unwrap();
        let (code, on_stdout, err) = rtmp_probe(&[&args[..], &["--json"]].concat());
        assert_eq!(code, 0, "{name}: {err}");
        for json in [&lines, &on_stdout] {
            let events: Vec<serde_json::Value> = json
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}: {l}")))
                .collect();
            assert!(
                events.iter().any(|e| e["event"] == record),
                "{name}: no {record} line in {json}"
            );
        }
        if name == "replay" {
            assert_eq!(lines, on_stdout, "the same lines either way");
        }
    }
    drop(server);

    // serve: the text live on standard output, every event as JSON in the file.
    let file = dir.path().join("serve.jsonl");
    let port = support::free_port();
    let mut serve = support::ChildGuard(
        support::rtmp_probe_command()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg(format!("--json={}", file.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    assert!(support::wait_for_listener(
        ([127, 0, 0, 1], port).into(),
        Duration::from_secs(10)
    ));
    let url = format!("rtmp://127.0.0.1:{port}/live");
    let (code, _, err) = rtmp_probe(&["probe", &url, "--profile", "obs", "--duration", "0.3"]);
    assert_eq!(code, 0, "{err}");
    // SAFETY: kill with the pid of a child this test owns and has not reaped.
    assert_eq!(
        unsafe { libc::kill(serve.0.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let mut text = String::new();
    std::io::Read::read_to_string(&mut serve.0.stdout.take().unwrap(), &mut text).unwrap();
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
    assert!(
        text.contains("[1]") && text.contains("command connect #1"),
        "{text}"
    );
    assert!(
        text.ends_with("stopped after 1 connection (0 refused, 1 handshake completed)\n"),
        "{text}"
    );
    let json = std::fs::read_to_string(&file).unwrap();
    let events: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events[0]["event"], "server", "{json}");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "message" && e["name"] == "connect"),
        "{json}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("[1]")).count(),
        events.iter().filter(|e| e["conn"] == 1).count(),
        "a JSON line for every line of the connection's text"
    );
}

/// A `matrix --json` file (JSON lines): its `case` lines, then its closing `matrix` line.
fn matrix_json(text: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = lines.pop().expect("a matrix line");
    assert_eq!(summary["event"], "matrix", "{text}");
    assert!(lines.iter().all(|l| l["event"] == "case"), "{text}");
    (lines, summary)
}

fn main() {
    support::trials::run(vec![
        trial!(the_exit_statuses_are_listed_in_every_help),
        trial!(output_paths_are_checked_before_any_work),
        trial!(a_dash_for_a_file_means_standard_output),
        trial!(json_to_a_file_keeps_the_text_on_standard_output),
        trial!(an_unreachable_target_is_one_line_from_the_first_connection),
        trial!(an_empty_result_is_not_a_success),
        trial!(silly_values_are_rejected_with_the_valid_range),
        trial!(errors_of_reading_are_could_not_run_everywhere),
        trial!(serve_listens_on_the_addresses_users_type),
        trial!(a_closed_output_pipe_exits_141_after_writing_the_files),
        trial!(
            serve_whose_output_closes_stops_listening_and_finishes_its_files,
            [Need::Program("ffmpeg")]
        ),
        trial!(an_interrupted_matrix_reports_and_writes_the_finished_cases),
        trial!(interrupted_probe_load_and_replay_against_say_what_finished),
        trial!(probe_streams_its_transcript_and_keeps_it_on_ctrl_c),
        trial!(serve_stops_cleanly_on_sigint_and_sigterm_with_status_0),
    ]);
}
