//! How the command line reads to a person: case selection, timeouts as flags, the summary,
//! progress and colour, the matrix table's diagnosis notes; run through the real binary.
//! One file past 600 lines: every test runs the binary through the same helpers (a pipe, a
//! pseudo-terminal, a serve process) and checks one habit of the same command line.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::{Duration, Instant};
use support::rtmp_probe;
use support::trials::Need;

const QUICK: [&str; 4] = ["--repeat", "1", "--duration", "0.3"];

fn matrix_list_prints_every_case_id_and_runs_nothing() {
    let started = Instant::now();
    let (code, out, err) = rtmp_probe(&["matrix", "--list"]);
    assert_eq!(code, 0, "{err}");
    let ids: Vec<&str> = out.lines().collect();
    let profiles = rtmp_probe::emulate::profile::all().len();
    let variants = rtmp_probe::emulate::variant::Variant::ALL.len();
    assert_eq!(ids.len(), profiles * variants, "profiles x variants: {out}");
    for id in &ids {
        let (profile, variant) = id.split_once('/').unwrap_or_else(|| panic!("{id}"));
        assert!(!profile.is_empty() && !variant.contains('/'), "{id}");
    }
    assert!(ids.contains(&"wirecast/default") && ids.contains(&"obs/bytewise"));
    assert!(!out.contains("target:") && err.is_empty(), "{out}{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "it ran cases");
}

/// `--profile` and `--variant` take one name each time, or several separated by commas, in
/// every command that emulates; matrix still reads the old `--profiles a,b` and `--variants`.
fn profiles_and_variants_repeat_or_take_commas() {
    let list = |args: &[&str]| {
        let (code, out, err) = rtmp_probe(&[&["matrix", "--list"][..], args].concat());
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let expected = "obs/default\nobs/bytewise\nffmpeg/default\nffmpeg/bytewise\n";
    for args in [
        &[
            "--profile",
            "obs",
            "--profile",
            "ffmpeg",
            "--variant",
            "default",
            "--variant",
            "bytewise",
        ][..],
        &["--profile", "obs,ffmpeg", "--variant", "default,bytewise"][..],
        &["--profiles", "obs,ffmpeg", "--variants", "default,bytewise"][..],
        &[
            "--profile",
            "obs,ffmpeg",
            "--profile",
            "obs",
            "--variant",
            "default,bytewise,default",
        ][..],
    ] {
        assert_eq!(list(args), expected, "{args:?}");
    }

    let server = support::Running::start(rtmp_probe::serve::ServeOptions::default());
    let (code, out, err) = rtmp_probe(&[
        "load",
        &server.url("turns"),
        "--profile",
        "obs",
        "--profile",
        "ffmpeg",
        "--total",
        "4",
        "--connections",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("(profiles obs, ffmpeg in turn, handshake and connect)"),
        "{out}"
    );
    let versions: Vec<String> = server
        .finish()
        .iter()
        .map(rtmp_probe::transcript::render::snapshot)
        .filter(|t| t.contains("flashVer"))
        .collect();
    assert_eq!(versions.len(), 4, "{versions:?}");
    assert_eq!(
        versions.iter().filter(|t| t.contains("Lavf")).count(),
        2,
        "two of the four clients are FFmpeg: {versions:?}"
    );
}

fn case_ids_and_globs_pick_cases_like_h2spec() {
    let (code, out, err) = rtmp_probe(&[
        "matrix",
        "--list",
        "--case",
        "wirecast/*",
        "--case",
        "obs/bytewise",
        "--case",
        "wirecast/default",
    ]);
    assert_eq!(code, 0, "{err}");
    let ids: Vec<&str> = out.lines().collect();
    assert_eq!(
        ids.len(),
        8,
        "7 wirecast cases, obs/bytewise, no duplicate: {out}"
    );
    assert!(
        ids[..7].iter().all(|id| id.starts_with("wirecast/")),
        "{out}"
    );
    assert_eq!(ids[7], "obs/bytewise");

    let (code, out, _) = rtmp_probe(&["matrix", "--list", "--case", "*/bytewise"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().count(),
        rtmp_probe::emulate::profile::all().len(),
        "{out}"
    );
    assert!(out.lines().all(|id| id.ends_with("/bytewise")), "{out}");

    // --profiles and --variants still narrow the run, and --case applies within them.
    let (code, out, _) = rtmp_probe(&[
        "matrix",
        "--list",
        "--profiles",
        "obs,ffmpeg",
        "--variants",
        "default,bytewise",
        "--case",
        "*/default",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out, "obs/default\nffmpeg/default\n");
}

fn a_case_that_matches_nothing_is_a_usage_error_naming_it() {
    for (args, expected) in [
        (
            &["--case", "nosuch/default"][..],
            "unknown case 'nosuch/default': no profile 'nosuch'",
        ),
        (
            &["--case", "obs/sideways"][..],
            "unknown case 'obs/sideways': no variant 'sideways'",
        ),
        (
            &["--case", "wirecast"][..],
            "unknown case 'wirecast': a case id is PROFILE/VARIANT",
        ),
        (&["--case", "zz*/*"][..], "--case 'zz*/*' matches no case"),
        (
            &["--profiles", "obs", "--case", "wirecast/*"][..],
            "unknown case 'wirecast/*': no profile 'wirecast' in this run",
        ),
    ] {
        let started = Instant::now();
        let (code, out, err) = rtmp_probe(&[&["matrix"][..], args].concat());
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(err.contains("rtmp-probe matrix --list"), "{err}");
        assert!(out.is_empty(), "nothing ran: {out}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// The built-in server with FFmpeg's personality fails wirecast the same way in every variant:
/// the long explanation is written once and the rows refer to it.
fn a_shared_diagnosis_is_printed_once_and_the_summary_counts_each_status() {
    let (code, out, err) = rtmp_probe(
        &[
            &[
                "matrix",
                "--personality",
                "ffmpeg",
                "--case",
                "wirecast/*",
                "--case",
                "obs/default",
                "--variants",
                "default,coalesced,split-c0",
            ][..],
            &QUICK[..],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{out}{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("wirecast/")).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for row in &rows {
        assert!(row.ends_with("handshake  [1] hs.first-read-short"), "{out}");
    }
    assert_eq!(out.matches("FFmpeg ticket 6453").count(), 1, "{out}");
    assert!(
        out.contains("\n[1] hs.first-read-short: the first read after C0+C1"),
        "{out}"
    );
    assert!(out.ends_with("\n4 cases: 1 pass, 3 fail\n"), "{out}");
    // Each profile of the run says whether its verdicts rest on a model or a real program.
    assert!(
        out.contains("\n  wirecast  modelled from FFmpeg trac ticket 6453")
            && out.contains("\n  obs       checked against librtmp 2.4"),
        "{out}"
    );
    // Four cases: too short a run for progress lines.
    assert!(!err.contains("..."), "{err}");
    assert!(!out.contains('\x1b'), "NO_COLOR and a pipe: {out}");
}

fn a_long_run_on_a_pipe_prints_one_progress_line_per_case_on_stderr() {
    let (code, out, err) = rtmp_probe(
        &[
            &[
                "matrix",
                "--personality",
                "ffmpeg",
                "--case",
                "*/default",
                "--profiles",
                "obs,ffmpeg,wirecast,videocore,flash",
            ][..],
            &QUICK[..],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 5, "{err}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("[{}/5] ", i + 1)), "{err}");
    }
    assert!(err.contains("] wirecast/default ... fail\n"), "{err}");
    assert!(err.contains("] videocore/default ... fail\n"), "{err}");
    assert!(err.contains("] obs/default ... pass\n"), "{err}");
    assert!(out.ends_with("5 cases: 3 pass, 2 fail\n"), "{out}");
}

/// Runs `rtmp-probe ARGS` on a pseudo-terminal (util-linux `script`), with NO_COLOR set or not;
/// returns what the terminal showed.
fn on_a_terminal(args: &str, no_color: bool) -> String {
    let command = format!("{} {args}", support::RTMP_PROBE);
    // `timeout` bounds the run; `script -e` passes on rtmp-probe's exit status.
    let mut script = Command::new("timeout");
    script
        .args(["30", "script", "-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let out = script.output().expect("running script");
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "one case fails: {shown}");
    shown
}

fn verdicts_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let args = "matrix --personality ffmpeg --case wirecast/default --case obs/default --repeat 1 --duration 0.3";
    let coloured = on_a_terminal(args, false);
    assert!(coloured.contains("\x1b[32mpass\x1b[0m"), "{coloured}");
    assert!(coloured.contains("\x1b[1;31mfail\x1b[0m"), "{coloured}");
    let plain = on_a_terminal(args, true);
    assert!(plain.contains("pass") && plain.contains("fail"), "{plain}");
    assert!(
        !plain.contains("\x1b[32m") && !plain.contains("\x1b[1;31m"),
        "{plain}"
    );
}

/// A listener that completes the TCP handshake (the kernel does, from the backlog) and never
/// says a word.
fn silent_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

fn the_handshake_timeout_is_a_flag() {
    let (_listener, addr) = silent_listener();
    let url = format!("rtmp://{addr}/live");
    let started = Instant::now();
    let (code, out, err) = rtmp_probe(&[
        "probe",
        &url,
        "--profile",
        "obs",
        "--handshake-timeout",
        "0.4",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("timeout  handshake  [1] hs.timeout"), "{out}");
    assert!(out.contains("did not complete within 400ms"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// The handshake timeout bounds the whole handshake, as serve's does, not each read: a server
/// that trickles S0, S1 and S2 a byte at a time cannot hold the client past it.
fn the_handshake_timeout_bounds_the_whole_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let trickler = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut c0c1 = [0u8; 1537];
        socket.read_exact(&mut c0c1).unwrap();
        socket.set_nodelay(true).unwrap();
        // A byte every 50 ms: each read comes well within any per-read limit; the 3073 bytes
        // would take 150 s, and the test stops after 60 of them at most.
        for _ in 0..60 {
            if socket.write_all(&[3]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let started = Instant::now();
    let (code, out, err) = rtmp_probe(&[
        "probe",
        &format!("rtmp://{addr}/live"),
        "--profile",
        "obs",
        "--handshake-timeout",
        "0.6",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("timeout  handshake  [1] hs.timeout"), "{out}");
    assert!(out.contains("did not complete within 600ms"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    trickler.join().unwrap();
}

/// Each timeout flag reads the same in every command that has it: the placeholder, the default
/// and the range (`0.001..=86400 seconds`).
fn the_timeout_flags_read_the_same_in_every_command() {
    let help = |args: &[&str]| {
        let (code, out, err) = rtmp_probe(&[args, &["--help"]].concat());
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    let commands: [(&[&str], &[&str]); 5] = [
        (&["serve"], &["--handshake-timeout", "--idle-timeout"]),
        (
            &["probe"],
            &["--handshake-timeout", "--reply-timeout", "--case-timeout"],
        ),
        (
            &["matrix"],
            &["--handshake-timeout", "--reply-timeout", "--case-timeout"],
        ),
        (
            &["load"],
            &["--handshake-timeout", "--reply-timeout", "--case-timeout"],
        ),
        (&["replay"], &["--handshake-timeout", "--reply-timeout"]),
    ];
    let defaults = [
        ("--handshake-timeout", "[default: 10]"),
        ("--reply-timeout", "[default: 5]"),
        ("--case-timeout", "[default: no limit]"),
        ("--idle-timeout", "[default: 30]"),
    ];
    for (command, flags) in commands {
        let text = help(command);
        for flag in flags {
            let at = text
                .find(&format!("{flag} <SECONDS>"))
                .unwrap_or_else(|| panic!("{command:?}: no `{flag} <SECONDS>` in {text}"));
            let entry = text[at..].split("\n\n").next().unwrap();
            let default = defaults.iter().find(|(f, _)| f == flag).unwrap().1;
            assert!(entry.contains(default), "{command:?} {flag}: {entry}");
            let mut args = command.to_vec();
            if command == ["replay"] {
                args.extend(["capture.pcap", "--against", "rtmp://127.0.0.1:1/live"]);
            } else if command != ["serve"] && command != ["matrix"] {
                args.extend(["rtmp://127.0.0.1:1/live", "--profile", "obs"]);
            }
            let bad = format!("{flag}=0");
            args.push(&bad);
            let (code, _, err) = rtmp_probe(&args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(
                err.contains("not in 0.001..=86400 seconds"),
                "{args:?}: {err}"
            );
        }
    }
}

fn the_whole_case_timeout_stops_a_case_at_the_stage_it_reached() {
    let (_listener, addr) = silent_listener();
    let url = format!("rtmp://{addr}/live");
    let started = Instant::now();
    let (code, out, err) = rtmp_probe(
        &[
            &[
                "matrix",
                &url,
                "--case",
                "obs/default",
                "--case-timeout",
                "0.3",
            ][..],
            &QUICK[..],
        ]
        .concat(),
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("obs/default  timeout  handshake  [1] case.timeout"),
        "{out}"
    );
    assert!(
        out.contains("did not finish within 300ms (--case-timeout)"),
        "{out}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

/// Completes one RTMP handshake as a server would (S1 and S2 of zeros are enough for the
/// client to go on) and then holds the connection without replying to connect. A connection
/// that sends nothing is skipped (at most three connections are accepted).
fn mute_after_handshake() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut handshaken = None;
        for _ in 0..3 {
            let Ok((mut socket, _)) = listener.accept() else {
                return;
            };
            let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
            let mut c0c1 = [0u8; 1537];
            if socket.read_exact(&mut c0c1).is_ok() {
                handshaken = Some((socket, c0c1));
                break;
            }
        }
        let Some((mut socket, c0c1)) = handshaken else {
            return;
        };
        let mut reply = vec![3u8];
        reply.extend_from_slice(&[0u8; 1536]);
        reply.extend_from_slice(&c0c1[1..]);
        let _ = socket.write_all(&reply);
        // Hold until the client gives up (bounded by the read timeout).
        let mut sink = [0u8; 4096];
        while matches!(socket.read(&mut sink), Ok(n) if n > 0) {}
    });
    addr
}

fn the_reply_timeout_is_a_flag() {
    let addr = mute_after_handshake();
    let url = format!("rtmp://{addr}/live");
    let started = Instant::now();
    let (code, out, err) =
        rtmp_probe(&["probe", &url, "--profile", "obs", "--reply-timeout", "0.5"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("timeout  connect    [1] msg.timeout"), "{out}");
    assert!(out.contains("within 500ms"), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

fn timeouts_outside_their_range_are_usage_errors_with_the_range() {
    for (subcommand, flag, value) in [
        ("matrix", "--reply-timeout", "0"),
        ("matrix", "--case-timeout", "1e-300"),
        ("probe", "--handshake-timeout", "-1"),
        ("load", "--handshake-timeout", "1e9"),
    ] {
        let mut args = vec![subcommand];
        if subcommand != "matrix" {
            args.extend(["rtmp://127.0.0.1:1/live", "--profile", "obs"]);
        }
        let flag_value = format!("{flag}={value}");
        args.push(&flag_value);
        let (code, _, err) = rtmp_probe(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(flag) && err.contains("0.001..=86400 seconds"),
            "{err}"
        );
    }
}

/// The subcommands a user sees in `--help` (not `help` itself).
fn visible_subcommands() -> Vec<String> {
    let (code, out, _) = rtmp_probe(&["--help"]);
    assert_eq!(code, 0);
    let commands = out
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands: block in --help");
    let names: Vec<String> = commands
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    for expected in [
        "serve",
        "probe",
        "matrix",
        "replay",
        "diff",
        "load",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    names
}

fn completions_for_bash_zsh_and_fish_know_every_subcommand() {
    let subcommands = visible_subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let (code, script, err) = rtmp_probe(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for sub in &subcommands {
            assert!(
                script.contains(sub.as_str()),
                "{shell} completion lacks {sub}"
            );
        }
        assert!(script.contains("case-timeout"), "{shell}: flags too");
        // Nothing a user cannot run: the seed generator is an example (cargo run --example).
        assert!(!script.contains("fuzz-seeds"), "{shell}");
        // The names users type: personalities, profiles, variants, case ids, and catalogue
        // ids (`explain ID`, a positional, which fish's generator does not complete).
        let ids = (shell != "fish").then_some("hs.first-read-short");
        for name in [
            "s0-after-c1",
            "gstreamer-play",
            "c2-with-connect",
            "wirecast/default",
        ]
        .into_iter()
        .chain(ids)
        {
            assert!(
                script.contains(name),
                "{shell} completion does not offer {name}"
            );
        }
    }
    for args in [&["--help"][..], &["help"]] {
        let (_, out, _) = rtmp_probe(args);
        assert!(!out.contains("fuzz-seeds"), "{args:?}: {out}");
    }
    let (code, _, err) = rtmp_probe(&["fuzz-seeds"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = rtmp_probe(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid value 'tcsh'"), "{err}");

    // Bash itself loads the script and registers the completion.
    let source = format!(
        "source <({} completions bash) && complete -p rtmp-probe",
        support::RTMP_PROBE
    );
    let out = Command::new("bash")
        .args(["-c", &source])
        .output()
        .expect("running bash");
    let registered = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        registered.starts_with("complete ") && registered.trim_end().ends_with(" rtmp-probe"),
        "{registered}"
    );
}

fn the_man_pages_are_roff_naming_every_subcommand_and_render() {
    let (code, page, err) = rtmp_probe(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH rtmp-probe 1"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "{section}");
    }
    for sub in visible_subcommands() {
        // roff escapes the hyphens of rtmp-probe-matrix(1).
        assert!(
            page.contains(&format!("rtmp\\-probe\\-{}(1)", sub.replace('-', "\\-"))),
            "{sub} missing from the page"
        );
        let (code, sub_page, err) = rtmp_probe(&["man", &sub]);
        assert_eq!(code, 0, "{sub}: {err}");
        assert!(
            sub_page.contains(&format!(".TH rtmp-probe-{sub} 1")),
            "{sub_page}"
        );
    }
    let (_, matrix_page, _) = rtmp_probe(&["man", "matrix"]);
    assert!(
        matrix_page.contains("\\-\\-case\\-timeout"),
        "{matrix_page}"
    );
    let (code, _, err) = rtmp_probe(&["man", "nosuch"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown subcommand 'nosuch'; choose one of: serve"),
        "{err}"
    );
    let (code, _, err) = rtmp_probe(&["man", "matrx"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean matrix?"), "{err}");

    // `man --out DIR` writes every page, each with its exit statuses in their own section and
    // the same codes its --help lists.
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("man");
    let (code, out, err) = rtmp_probe(&["man", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let pages = visible_subcommands().len() + 1;
    assert!(
        out.starts_with(&format!("wrote {pages} man pages to ")),
        "{out}"
    );
    for sub in [None]
        .into_iter()
        .chain(visible_subcommands().into_iter().map(Some))
    {
        let file = match &sub {
            None => out_dir.join("rtmp-probe.1"),
            Some(sub) => out_dir.join(format!("rtmp-probe-{sub}.1")),
        };
        let page =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(page.contains(".SH \"EXIT STATUS\""), "{sub:?}: {page}");
        assert!(!page.contains(".SH EXTRA"), "{sub:?}: {page}");
        let section = &page[page.find(".SH \"EXIT STATUS\"").unwrap()..];
        let section = section.split("\n.SH ").next().unwrap();
        let in_page: Vec<String> = section
            .lines()
            .filter_map(|l| l.strip_prefix("\\fB")?.strip_suffix("\\fR"))
            .map(str::to_string)
            .collect();
        let help = rtmp_probe(
            &[
                sub.as_slice()
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>(),
                vec!["--help"],
            ]
            .concat(),
        )
        .1;
        let in_help: Vec<String> = help
            .split("Exit status:\n")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.parse::<u32>().is_ok())
            .map(str::to_string)
            .collect();
        assert_eq!(in_page, in_help, "{sub:?}");
    }

    // Rendered by man(1).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rtmp-probe-matrix.1");
    std::fs::write(&file, &matrix_page).unwrap();
    let out = Command::new("man")
        .args(["-l", file.to_str().unwrap()])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("running man");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("NAME") && text.contains("rtmp-probe-matrix"),
        "{text}"
    );
    assert!(text.contains("--case-timeout"), "{text}");
    // The exit statuses read as a list, each code with its meaning on the same line.
    let status = text
        .split("EXIT STATUS")
        .nth(1)
        .expect("an EXIT STATUS section");
    assert!(
        status
            .lines()
            .any(|l| l.trim_start().starts_with("130    interrupted")),
        "{status}"
    );
}

fn a_captures_json_and_its_own_snapshot_compare_equal() {
    let captures: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/captures"))
        .expect("captures/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    assert!(captures.len() >= 5, "{captures:?}");
    let dir = tempfile::tempdir().unwrap();
    for capture in &captures {
        let capture = capture.to_str().unwrap();
        let (json, snapshot) = (dir.path().join("c.jsonl"), dir.path().join("c.snap"));
        for (flag, file) in [("--json", &json), ("--snapshot", &snapshot)] {
            let (code, out, err) = rtmp_probe(&["replay", capture, flag]);
            assert_eq!(code, 0, "{capture}: {err}");
            std::fs::write(file, out).unwrap();
        }
        let (code, out, err) =
            rtmp_probe(&["diff", json.to_str().unwrap(), snapshot.to_str().unwrap()]);
        assert_eq!((code, out.as_str()), (0, ""), "{capture}: {err}");
    }
}

/// `diff` compares transcripts and refuses anything else (exit 3), saying what the file looks
/// like: a capture, a command's text output, a matrix's results, an empty file, binary data.
fn diff_refuses_what_is_not_a_transcript_saying_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_string()
    };
    let output = |args: &[&str]| {
        let (code, out, err) = rtmp_probe(args);
        assert!(code == 0 || code == 1, "{args:?}: {err}");
        out
    };
    let pcap = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let transcript = write("t.jsonl", output(&["replay", pcap, "--json"]).as_bytes());
    let quick = ["--profile", "obs", "--variant", "default"];
    let files = [
        (
            pcap.to_string(),
            "it is a capture (pcap); run `rtmp-probe replay --json",
        ),
        (
            // A section header block's type: the magic that tells pcapng.
            write("x.pcapng", &[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0]),
            "it is a capture (pcapng)",
        ),
        (
            write("replay.txt", output(&["replay", pcap]).as_bytes()),
            "it is a command's text output (lines start with a time)",
        ),
        (
            write(
                "matrix.jsonl",
                output(&[&["matrix", "--json"][..], &quick].concat()).as_bytes(),
            ),
            "it holds matrix results (matrix --json",
        ),
        (
            write(
                "matrix.txt",
                output(&[&["matrix"][..], &quick].concat()).as_bytes(),
            ),
            "it is matrix's text output",
        ),
        (
            write(
                "serve.txt",
                b"rtmp-probe serve: listening on rtmp://127.0.0.1:1935/ (personality reference)\n\
                  [1]      0.000 ms  connected 127.0.0.1:5000 -> 127.0.0.1:1935\n",
            ),
            "it is serve's text output",
        ),
        (write("empty.jsonl", b""), "it is empty"),
        (
            write("rec.flv", b"FLV\x01\x05\0\0\0\x09\xff\xfe"),
            "it is binary data",
        ),
    ];
    for (file, said) in files {
        for args in [["diff", &file, &transcript], ["diff", &transcript, &file]] {
            let (code, out, err) = rtmp_probe(&args);
            assert_eq!((code, out.as_str()), (3, ""), "{args:?}: {err}");
            assert!(
                err.starts_with(&format!("rtmp-probe: {file}: not a transcript: {said}")),
                "{args:?}: {err}"
            );
        }
    }
    // What diff does read: --json and replay --snapshot.
    let snapshot = write("t.snap", output(&["replay", pcap, "--snapshot"]).as_bytes());
    let (code, out, err) = rtmp_probe(&["diff", &transcript, &snapshot]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

/// Runs `serve --json` with the given clients, one after the other (`probe` as the client, so
/// no peer needs to be installed), and returns what the server printed.
fn serve_transcript(clients: &[(&str, &str)]) -> String {
    let serve = support::UnreadServe::start(&["--json"]);
    for (i, (profile, variant)) in clients.iter().enumerate() {
        let url = format!("rtmp://{}/live/key{i}", serve.addr);
        let (code, out, err) = rtmp_probe(&[
            "probe",
            &url,
            "--profile",
            profile,
            "--variant",
            variant,
            "--duration",
            "0.3",
        ]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out) = serve.stop_and_read(Duration::from_secs(10));
    assert_eq!(code, 0, "serve stopped by SIGTERM");
    out
}

fn serve_transcripts_are_compared_connection_by_connection() {
    // Each probe's case is its only connection (no reachability check, issue 16): 1 and 2.
    let a = serve_transcript(&[("obs", "default"), ("obs", "bytewise")]);
    let b = serve_transcript(&[("obs", "default"), ("obs", "default")]);
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (a_file, b_file) = (write("a.jsonl", &a), write("b.jsonl", &b));
    let (code, out, err) = rtmp_probe(&["diff", &a_file, &b_file]);
    assert_eq!(code, 1, "{out}{err}");
    let bytewise = out
        .split("conn 2 differs:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("conn 2 named: {out}"));
    // The bytewise client's C0+C1 reached serve in pieces (how many bytes each read caught
    // depends on scheduling); the default client's came in one read of 1537 bytes.
    let piece = |line: &str| {
        line.strip_prefix("-C->S  ")
            .and_then(|rest| rest.strip_suffix(" B"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .is_some_and(|n| n < 1537)
    };
    assert!(
        bytewise
            .split("differs:\n")
            .next()
            .is_some_and(|section| section.lines().any(piece)),
        "bytewise C0+C1 in pieces only in a: {out}"
    );

    // The same run with other addresses and ports, and the connections' lines interleaved
    // differently, is the same transcript.
    let port = a
        .lines()
        .find_map(|l| l.split("\"server\":\"127.0.0.1:").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("a connected event names the server's address")
        .to_string();
    let moved = a
        .replace(&format!("127.0.0.1:{port}"), "10.20.30.40:1935")
        .replace("127.0.0.1", "192.168.7.7");
    let (conn2, others): (Vec<&str>, Vec<&str>) =
        moved.lines().partition(|l| l.starts_with("{\"conn\":2,"));
    assert!(!conn2.is_empty() && moved != a, "{moved}");
    let regrouped = [conn2, others].concat().join("\n");
    let (code, out, err) = rtmp_probe(&["diff", &a_file, &write("moved.jsonl", &regrouped)]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

fn main() {
    support::trials::run(vec![
        trial!(matrix_list_prints_every_case_id_and_runs_nothing),
        trial!(case_ids_and_globs_pick_cases_like_h2spec),
        trial!(profiles_and_variants_repeat_or_take_commas),
        trial!(a_case_that_matches_nothing_is_a_usage_error_naming_it),
        trial!(a_shared_diagnosis_is_printed_once_and_the_summary_counts_each_status),
        trial!(a_long_run_on_a_pipe_prints_one_progress_line_per_case_on_stderr),
        trial!(
            verdicts_are_coloured_on_a_terminal_unless_no_color_is_set,
            [Need::Program("script"), Need::Program("timeout")]
        ),
        trial!(the_handshake_timeout_is_a_flag),
        trial!(the_handshake_timeout_bounds_the_whole_handshake),
        trial!(the_timeout_flags_read_the_same_in_every_command),
        trial!(the_whole_case_timeout_stops_a_case_at_the_stage_it_reached),
        trial!(the_reply_timeout_is_a_flag),
        trial!(timeouts_outside_their_range_are_usage_errors_with_the_range),
        trial!(completions_for_bash_zsh_and_fish_know_every_subcommand),
        trial!(
            the_man_pages_are_roff_naming_every_subcommand_and_render,
            [Need::Program("man")]
        ),
        trial!(a_captures_json_and_its_own_snapshot_compare_equal),
        trial!(diff_refuses_what_is_not_a_transcript_saying_what_it_is),
        trial!(serve_transcripts_are_compared_connection_by_connection),
    ]);
}
