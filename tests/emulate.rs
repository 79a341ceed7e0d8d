//! The client emulators against the built-in server under every personality, against real
//! `ffmpeg -listen 1` (FFmpeg ticket 6453 reproduced for real) and against real nginx-rtmp.

mod support;

use rtmp_probe::emulate::case::{Stage, Status, Target};
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::emulate::{attempts_for, memory, profile, run_case, run_matrix, CaseResult};
use rtmp_probe::protocol::handshake::{C2Style, ServerDigest};
use rtmp_probe::serve::{personality, CollectSink, ServeOptions, Server};
use rtmp_probe::transcript::DiagnosticId;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use support::trials::Need;
use support::{ffmpeg_listen, quick_case_options, Nginx};

/// Enough attempts that a schedule-dependent failure (seen 14 times in 15 with real FFmpeg)
/// is missed by every attempt with probability below 10^-4.
fn repeats() -> u32 {
    attempts_for(14.0 / 15.0, 1e-4)
}

/// Runs the default-variant matrix against the built-in server with `personality`, `repeat`
/// attempts per case.
fn builtin_matrix(personality_name: &str, repeat: u32) -> Vec<CaseResult> {
    matrix_against(
        personality::by_name(personality_name).expect("personality"),
        &profile::all(),
        repeat,
    )
}

/// Runs `profiles` (default variant) against the built-in server with `personality`.
fn matrix_against(
    personality: personality::Personality,
    profiles: &[profile::Profile],
    repeat: u32,
) -> Vec<CaseResult> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut options = ServeOptions::default();
    options.listen = ([127, 0, 0, 1], 0).into();
    options.personality = personality;
    options.handshake_timeout = Duration::from_secs(5);
    rt.block_on(async {
        let server = Server::bind(options, Arc::new(CollectSink::default()))
            .await
            .expect("bind");
        let addr = server.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let (target, _) = Target::parse(&format!("rtmp://{addr}/live")).expect("url");
        let results = run_matrix(
            &target,
            profiles,
            &[Variant::Default],
            repeat,
            16,
            &quick_case_options(),
            |_| {},
        )
        .await;
        let _ = stop.send(());
        let _ = task.await;
        results
    })
}

fn outcome_table(results: &[CaseResult]) -> String {
    results
        .iter()
        .map(|r| {
            let stage = r.stage.map(|s| s.to_string()).unwrap_or_default();
            let id = r.diagnosis.first().map(|f| f.id.as_str()).unwrap_or("");
            format!("{:<28} {:<14} {:<9} {id}", r.id, r.status.label(), stage)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cases whose verdict depends on scheduling, not on behaviour: a strict first read against
/// a server that writes S0, S1 and S2 back to back without a pause.
fn timing_dependent(personality: &str, profile: &str) -> bool {
    personality == "s0-after-c1" && matches!(profile, "wirecast" | "elemental")
}

fn snapshot(name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, value));
}

fn find<'a>(results: &'a [CaseResult], id: &str) -> &'a CaseResult {
    results
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

fn builtin_server_under_every_personality() {
    for p in personality::all() {
        // These two personalities make wirecast and elemental fail only through timing (a
        // pause of 1.76 ms or 0.44 ms between S0 and S1): attempts enough for a per-attempt
        // rate as low as 1/2, as against real FFmpeg.
        let repeat = if matches!(p.name, "ffmpeg" | "twitch") {
            attempts_for(0.5, 1e-4)
        } else {
            repeats()
        };
        let results = builtin_matrix(p.name, repeat);
        // Expected outcomes, by what each personality does.
        for r in &results {
            let expected_failure = match (p.name, r.profile.as_str()) {
                // Twitch's ingest also writes S0 alone (0.44 ms before S1 in a real capture), so
                // the strict first-read model of ticket 6453 fails there too.
                ("ffmpeg" | "twitch", "wirecast" | "elemental") => Some(Stage::Handshake),
                // Only FFmpeg's listen mode writes S0 before C1 is in, so only it has S0 reach
                // VideoCore before its C1 write: the crash of docs/videocore-6453.md.
                ("ffmpeg", "videocore") => Some(Stage::Handshake),
                ("joy4-zero-s2" | "s2-random", "streamlabs") => Some(Stage::Handshake),
                // A type-1 opening of chunk stream 3 is a broken chunk stream to the profiles
                // not known to read it from zeroed state (the specification's reading); VideoCore
                // handles a type-1 header like a type-0 one (its tolerance table).
                (
                    "type1-open" | "status-on-stream0",
                    "wirecast" | "elemental" | "flash" | "streamlabs" | "srs-forward",
                ) => Some(Stage::Connect),
                // VideoCore stalls unless S0 is 3; SRS's client refuses it ("plain text
                // required").
                ("s0-version-6", "videocore" | "srs-forward") => Some(Stage::Handshake),
                // FFmpeg playing checks S1's digest when its version byte 4 is >= 3.
                ("s1-digest-invalid", "ffmpeg-play") => Some(Stage::Handshake),
                // rtmp2 takes NetStream.Publish.Start / Play.Start only on its own stream.
                ("status-on-stream0", "gstreamer" | "gstreamer-play") => Some(Stage::Publish),
                ("strict-c2", "ffmpeg-play" | "srs-forward") => Some(Stage::Connect),
                // Set Chunk Size 0x7FFFFFFF: only profiles whose tolerance table says the real
                // client takes it (FFmpeg, librtmp, rtmp2, VideoCore) lift the 16 MiB bound.
                (
                    "chunk-size-huge",
                    "wirecast" | "elemental" | "flash" | "streamlabs" | "srs-forward",
                ) => Some(Stage::Connect),
                (
                    "wait-c2",
                    "ffmpeg" | "ffmpeg-play" | "gstreamer" | "gstreamer-play" | "flash"
                    | "srs-forward",
                ) => Some(Stage::Handshake),
                // librtmp acknowledges by a tenth of Set Peer Bandwidth (2,500,000), never by
                // the 512-byte window: the server withholds rtmpdump's media.
                ("window-ack-tiny-strict", "rtmpdump") => Some(Stage::Media),
                // An error-level onStatus ends every emulated player and publisher it answers.
                ("play-stream-not-found", "ffmpeg-play" | "gstreamer-play" | "rtmpdump") => {
                    Some(Stage::Publish)
                }
                // No publisher can publish, so a player waits for media that never comes (and
                // the case is an error: its companion failed too).
                ("publish-bad-name", "ffmpeg-play" | "gstreamer-play" | "rtmpdump") => {
                    Some(Stage::Media)
                }
                ("publish-bad-name", _) => Some(Stage::Publish),
                // Every emulated publisher waits for NetStream.Publish.Start, as FFmpeg, librtmp
                // and rtmp2 do (measured), so no player gets a stream.
                ("publish-status-missing", "ffmpeg-play" | "gstreamer-play" | "rtmpdump") => {
                    Some(Stage::Media)
                }
                ("publish-status-missing", _) => Some(Stage::Publish),
                // Media without NetStream.Play.Start: FFmpeg plays it, librtmp and rtmp2 wait.
                ("play-status-missing", "gstreamer-play" | "rtmpdump") => Some(Stage::Publish),
                // connect's _result on a chunk stream opened with a type-2 or type-3 header: a
                // broken chunk stream to the strict profiles; from zeroed state a message of
                // length 0, and the payload misread as headers, to the others (a stall).
                ("type2-open" | "type3-open", _) => Some(Stage::Connect),
                // Extended timestamps omitted on continuation chunks: FFmpeg and librtmp read 4
                // bytes of connect's _result as the timestamp, and the companion obs publisher
                // of gstreamer-play never gets its stream up.
                ("ext-timestamp-omitted", "obs" | "ffmpeg" | "ffmpeg-play" | "rtmpdump") => {
                    Some(Stage::Connect)
                }
                ("ext-timestamp-omitted", "gstreamer-play") => Some(Stage::Media),
                _ => None,
            };
            if p.leaves_players_no_publisher() && expected_failure == Some(Stage::Media) {
                assert!(
                    r.diagnosis
                        .iter()
                        .any(|f| f.id == DiagnosticId::CaseCompanionFailed),
                    "{} under {}: the refused companion is named: {:?}",
                    r.id,
                    p.name,
                    r.diagnosis
                );
            }
            if timing_dependent(p.name, &r.profile) {
                // S0, S1 and S2 go as three back-to-back writes: a client's first read usually
                // holds all of them, but on a loaded machine it can wake for S0 alone, and then
                // the strict first-read model fails, exactly as it would against gortmplib.
                assert!(
                    !r.status.is_failure()
                        || r.diagnosis.first().map(|f| f.id)
                            == Some(DiagnosticId::HsFirstReadShort),
                    "{} under {}: {} {:?}",
                    r.id,
                    p.name,
                    r.verdict(),
                    r.diagnosis
                );
                continue;
            }
            match expected_failure {
                Some(stage) => {
                    assert!(
                        r.status.is_failure(),
                        "{} under {}: {}",
                        r.id,
                        p.name,
                        r.verdict()
                    );
                    assert_eq!(r.stage, Some(stage), "{} under {}", r.id, p.name);
                }
                None => assert!(
                    !r.status.is_failure(),
                    "{} under {}: {} {:?}",
                    r.id,
                    p.name,
                    r.verdict(),
                    r.diagnosis
                ),
            }
        }
        if p.name == "ffmpeg" {
            let w = find(&results, "wirecast/default");
            assert_eq!(w.diagnosis[0].id, DiagnosticId::HsFirstReadShort);
            assert!(
                w.diagnosis[0].message.contains("S0 (1 byte) alone"),
                "{}",
                w.diagnosis[0].message
            );
        }
        let stable: Vec<CaseResult> = results
            .into_iter()
            .filter(|r| !timing_dependent(p.name, &r.profile))
            .collect();
        snapshot(
            &format!("matrix-builtin-{}", p.name),
            &outcome_table(&stable),
        );
    }
}

/// The in-memory matrix (what `rtmp-probe matrix` runs without a URL) gives the verdicts the
/// TCP runs above give, row for row, for every personality; where TCP depends on scheduling it
/// is decided, and the same on every run.
fn the_in_memory_matrix_gives_the_tcp_verdicts_every_time() {
    let cases: Vec<(profile::Profile, Variant)> = profile::all()
        .into_iter()
        .map(|p| (p, Variant::Default))
        .collect();
    for p in personality::all() {
        let results = memory::run_cases(&p, &cases, &quick_case_options(), |_| {});
        let again = memory::run_cases(&p, &cases, &quick_case_options(), |_| {});
        assert_eq!(outcome_table(&results), outcome_table(&again), "{}", p.name);
        for r in results
            .iter()
            .filter(|r| timing_dependent(p.name, &r.profile))
        {
            // Three writes back to back reach a reader together: the usual TCP outcome.
            assert!(
                !r.status.is_failure(),
                "{} under {}: {:?}",
                r.id,
                p.name,
                r.diagnosis
            );
        }
        let stable: Vec<CaseResult> = results
            .into_iter()
            .filter(|r| !timing_dependent(p.name, &r.profile))
            .collect();
        assert!(!stable.is_empty(), "{}", p.name);
        snapshot(
            &format!("matrix-builtin-{}", p.name),
            &outcome_table(&stable),
        );
    }
}

fn srs_forward_signs_c2_for_a_simple_s1_where_an_echo_would_pass() {
    // A server that checks C2 and answers only with the simple handshake (no S1 digest).
    let mut strict_simple = personality::by_name("strict-c2").expect("strict-c2");
    strict_simple.handshake.digest = ServerDigest::SimpleOnly;
    let srs = profile::by_name("srs-forward").expect("srs-forward");
    // What the profile used to send when S1 had no digest: an echo of S1.
    let mut echo_fallback = profile::Profile {
        name: "srs-forward-echo".into(),
        ..srs.clone()
    };
    echo_fallback.handshake.c2 = C2Style::EchoS1;
    let results = matrix_against(strict_simple, &[srs, echo_fallback], 1);
    let signed = find(&results, "srs-forward/default");
    assert_eq!(signed.status, Status::Fail, "{}", signed.verdict());
    assert_eq!(signed.stage, Some(Stage::Connect));
    assert_eq!(signed.diagnosis[0].id, DiagnosticId::HsC2SignedRejected);
    let echo = find(&results, "srs-forward-echo/default");
    assert_eq!(
        echo.status,
        Status::Pass,
        "{} {:?}",
        echo.verdict(),
        echo.diagnosis
    );
}

/// A fresh `program -listen 1` per attempt.
fn ffmpeg_listen_case(program: &Path, profile_name: &str, attempts: u32) -> CaseResult {
    let profile = profile::by_name(profile_name).expect("profile");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut worst: Option<CaseResult> = None;
    let mut failed = 0;
    for _ in 0..attempts {
        let (_ffmpeg, port) = ffmpeg_listen(program).expect("ffmpeg -listen 1 listens");
        let (target, _) = Target::parse(&format!("rtmp://127.0.0.1:{port}/live")).expect("url");
        let r = rt.block_on(run_case(
            &profile,
            Variant::Default,
            &target,
            Some("x"),
            1,
            &quick_case_options(),
        ));
        if r.status.is_failure() {
            failed += 1;
        }
        if worst.as_ref().is_none_or(|w| r.status > w.status) {
            worst = Some(r);
        }
    }
    let mut r = worst.expect("attempts");
    r.attempts = attempts;
    r.failed_attempts = failed;
    r
}

/// Every profile against `program -listen 1`: ticket 6453's strict clients fail at the
/// handshake on S0 alone, the others pass. Kept as the snapshot `snapshot_name`.
fn ticket_6453_against(program: &Path, snapshot_name: &str) {
    let mut table = Vec::new();
    for p in [
        "wirecast",
        "elemental",
        "videocore",
        "obs",
        "ffmpeg",
        "gstreamer",
        "streamlabs",
        "srs-forward",
    ] {
        // Whether a client's first read catches S0 alone depends on scheduling: 14 times in 15
        // on an idle machine, less often on a loaded one (a late read finds S1 there too). The
        // failures are asserted with attempts enough for a per-attempt rate as low as 1/2.
        let strict = matches!(p, "wirecast" | "elemental");
        let attempts = if strict {
            attempts_for(0.5, 1e-4)
        } else {
            repeats()
        };
        let r = ffmpeg_listen_case(program, p, attempts);
        if strict {
            assert_eq!(r.status, Status::Fail, "{p}: {}", r.verdict());
            assert_eq!(r.stage, Some(Stage::Handshake));
            assert_eq!(
                r.diagnosis[0].id,
                DiagnosticId::HsFirstReadShort,
                "{:?}",
                r.diagnosis
            );
            assert!(r.diagnosis[0].message.contains("S0 (1 byte) alone"));
        } else if p == "videocore" {
            // FFmpeg answers C0 with S0 at once (under a millisecond on an idle loopback), before
            // VideoCore's C1 write, so the write-ready notification after C1 crashes it.
            assert_eq!(r.status, Status::Fail, "{p}: {}", r.verdict());
            assert_eq!(r.stage, Some(Stage::Handshake));
            assert_eq!(
                r.diagnosis[0].id,
                DiagnosticId::HsC2FromEmptyS1,
                "{:?}",
                r.diagnosis
            );
        } else {
            assert!(
                !r.status.is_failure(),
                "{p} against {} -listen 1: {} {:?}",
                program.display(),
                r.verdict(),
                r.diagnosis
            );
        }
        table.push(format!(
            "{:<12} {:<10} {}",
            p,
            r.status.label(),
            r.diagnosis.first().map(|f| f.id.as_str()).unwrap_or("")
        ));
    }
    snapshot(snapshot_name, &table.join("\n"));
}

fn real_ffmpeg_listen_reproduces_ticket_6453() {
    ticket_6453_against(Path::new("ffmpeg"), "probe-real-ffmpeg-listen");
}

fn real_ffmpeg9_listen_reproduces_ticket_6453() {
    ticket_6453_against(&support::ffmpeg9(), "probe-real-ffmpeg9-listen");
}

/// How many bytes the first read after C0+C1 (one write) holds, against `attempts` fresh
/// `program -listen 1` servers: 1 is S0 alone, what ticket 6453's strict encoders reset on.
fn first_reads_after_c0c1(program: &Path, attempts: u32) -> Vec<usize> {
    use std::io::{Read, Write};
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0u8; 8]);
    let mut random = rtmp_probe::protocol::random::RandomSource::seeded(7);
    c0c1.extend((0..1528).map(|_| random.next_u32() as u8));
    (0..attempts)
        .map(|_| {
            let (_ffmpeg, port) = ffmpeg_listen(program).expect("ffmpeg -listen 1 listens");
            let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connecting");
            socket
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("read timeout");
            socket.write_all(&c0c1).expect("writing C0+C1");
            let mut buf = [0u8; 4096];
            socket.read(&mut buf).expect("the first read after C0+C1")
        })
        .collect()
}

/// The ticket's measurement, with both FFmpeg versions: how often the first read after C0+C1
/// holds S0 alone. The figure is printed; the ticket's behaviour needs it at least once. The
/// rate falls on a loaded machine (4 in 10 seen with FFmpeg 5.1), so 20 attempts: at that rate
/// all of them miss with probability below 10^-4.
fn ffmpeg_listen_first_read_holds_s0_alone() {
    let programs = [
        ("FFmpeg 5.1", PathBuf::from("ffmpeg")),
        ("FFmpeg 9.0.2", support::ffmpeg9()),
    ];
    for (name, program) in programs {
        let reads = first_reads_after_c0c1(&program, 20);
        let s0_alone = reads.iter().filter(|&&n| n == 1).count();
        println!(
            "{name} -listen 1: the first read after C0+C1 held S0 alone in {s0_alone} of {} attempts (read sizes {reads:?})",
            reads.len()
        );
        assert!(
            s0_alone >= 1,
            "{name}: S0 never came alone in {reads:?}, which ticket 6453 needs"
        );
    }
}

fn real_nginx_rtmp_passes_every_profile() {
    let nginx = Nginx::start("");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (target, _) = Target::parse(&format!("rtmp://{}/live", nginx.addr)).expect("url");
    let results = rt.block_on(run_matrix(
        &target,
        &profile::all(),
        &[Variant::Default],
        1,
        8,
        &quick_case_options(),
        |_| {},
    ));
    for r in &results {
        assert!(
            !r.status.is_failure(),
            "{}: {} {:?}\n{}",
            r.id,
            r.verdict(),
            r.diagnosis,
            nginx.error_log()
        );
    }
    snapshot("matrix-real-nginx", &outcome_table(&results));
}

fn main() {
    support::trials::run(vec![
        trial!(builtin_server_under_every_personality),
        trial!(the_in_memory_matrix_gives_the_tcp_verdicts_every_time),
        trial!(srs_forward_signs_c2_for_a_simple_s1_where_an_echo_would_pass),
        trial!(
            real_ffmpeg_listen_reproduces_ticket_6453,
            [Need::Program("ffmpeg")]
        ),
        trial!(real_ffmpeg9_listen_reproduces_ticket_6453, [Need::Ffmpeg9]),
        trial!(
            ffmpeg_listen_first_read_holds_s0_alone,
            [Need::Program("ffmpeg"), Need::Ffmpeg9]
        ),
        trial!(real_nginx_rtmp_passes_every_profile, [Need::NginxRtmp]),
    ]);
}
