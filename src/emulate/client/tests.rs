//! The client against a server [`Connection`] and against the reference server's session, all
//! in memory, with time passed in.

use super::*;
use crate::emulate::profile;
use crate::protocol::connection::{ConnectionConfig, Event as ConnEvent};
use crate::protocol::handshake::ServerConfig;
use crate::serve::personality;
use crate::transcript::DiagnosticId;

fn plan() -> CasePlan {
    CasePlan {
        app: "live".into(),
        tc_url: "rtmp://test/live".into(),
        key: "k".into(),
        media_duration: Duration::from_millis(200),
        handshake_timeout: Duration::from_secs(3),
        reply_timeout: Duration::from_secs(3),
        stop_after_connect: false,
        seed: 7,
    }
}

fn client(name: &str, variant: Variant) -> EmulatorClient {
    EmulatorClient::new(profile::by_name(name).expect("profile"), variant, plan())
}

/// The lengths of the writes due at `now`.
fn writes(c: &mut EmulatorClient, now: Duration) -> Vec<usize> {
    std::iter::from_fn(|| c.poll_transmit(now).map(|t| t.bytes.len())).collect()
}

#[test]
fn variants_cut_c0_and_c1_as_they_say() {
    let zero = Duration::ZERO;
    assert_eq!(writes(&mut client("obs", Variant::Default), zero), [1537]);
    assert_eq!(
        writes(&mut client("obs", Variant::Split1536), zero),
        [1536, 1]
    );
    assert_eq!(
        writes(&mut client("obs", Variant::SplitC0), zero),
        [1, 1536]
    );
    let bytewise = writes(&mut client("obs", Variant::Bytewise), zero);
    assert_eq!((bytewise.len(), bytewise.iter().max()), (1537, Some(&1)));
    // c0-wait-s0: C0 now, C1 only after S0 or two seconds.
    let mut waiting = client("obs", Variant::C0WaitS0);
    assert_eq!(writes(&mut waiting, zero), [1]);
    assert_eq!(waiting.poll_timeout(), Some(Duration::from_secs(2)));
    waiting.handle_timeout(Duration::from_secs(2));
    assert_eq!(writes(&mut waiting, Duration::from_secs(2)), [1536]);
}

#[test]
fn a_strict_first_read_resets_on_s0_alone() {
    let mut c = client("wirecast", Variant::Default);
    assert_eq!(writes(&mut c, Duration::ZERO), [1537]);
    c.handle_read(Duration::from_millis(1), Bytes::from_static(&[3]));
    assert!(c.is_finished() && c.wants_reset());
    let outcome = c.outcome(Duration::from_millis(1));
    assert_eq!(outcome.status, Status::Fail);
    assert_eq!(outcome.diagnosis[0].id, DiagnosticId::HsFirstReadShort);
    assert!(outcome.diagnosis[0].message.contains("S0 (1 byte) alone"));
}

#[test]
fn videocore_crashes_when_s0_is_in_before_c1_is_due() {
    let mut c = client("videocore", Variant::Default);
    assert_eq!(writes(&mut c, Duration::ZERO), [1]);
    let due = c
        .poll_timeout()
        .expect("C1 is due after the profile's pause");
    assert!(due > Duration::ZERO);
    c.handle_read(due / 2, Bytes::from_static(&[3]));
    assert_eq!(writes(&mut c, due), Vec::<usize>::new());
    assert!(c.wants_reset());
    let outcome = c.outcome(due);
    assert_eq!(outcome.diagnosis[0].id, DiagnosticId::HsC2FromEmptyS1);
    // Without S0 in, C1 goes at its time.
    let mut c = client("videocore", Variant::Default);
    writes(&mut c, Duration::ZERO);
    assert_eq!(writes(&mut c, due), [1536]);
}

#[test]
fn a_silent_server_times_the_handshake_out() {
    let mut c = client("obs", Variant::Default);
    writes(&mut c, Duration::ZERO);
    let at = c.poll_timeout().expect("a handshake timeout");
    assert_eq!(at, Duration::from_secs(3));
    c.handle_timeout(at);
    let outcome = c.outcome(at);
    assert_eq!(
        (outcome.status, outcome.stage),
        (Status::Timeout, Some(Stage::Handshake))
    );
    assert_eq!(outcome.diagnosis[0].id, DiagnosticId::HsTimeout);
}

/// Each line of `c`'s transcript so far that is a segment or a message, with its time in µs.
fn wire_lines(c: &EmulatorClient) -> Vec<(u64, String)> {
    c.transcript()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Segment { direction, len } => {
                Some((e.at_us, format!("{} {len}", direction.arrow())))
            }
            EventKind::Message(m) => {
                Some((e.at_us, format!("{} {}", m.direction.arrow(), m.name())))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_write_and_what_it_carries_are_recorded_when_the_driver_takes_it() {
    for variant in [Variant::Default, Variant::C2WithConnect] {
        let mut server = Connection::new(
            ConnectionConfig::server(ServerConfig::default()),
            RandomSource::seeded(3),
        );
        let mut c = client("gstreamer", variant);
        let ms = Duration::from_millis;
        let c0c1 = c.poll_transmit(ms(1)).expect("C0+C1").bytes;
        server.handle_read(ms(1), c0c1);
        let answer = server.poll_transmit(ms(1)).expect("S0+S1+S2").bytes;
        // S2 completes the client's handshake: C2 and connect are decided at 2 ms...
        c.handle_read(ms(2), answer);
        assert_eq!(
            wire_lines(&c),
            [(1000, "C->S 1537".to_string()), (2000, "S->C 3073".into())],
            "nothing is in the transcript before the driver takes it"
        );
        // ... and written as the driver takes them: C2, then connect (or both in one write,
        // shown as one segment of both, then the message it carries).
        let lens: Vec<usize> = std::iter::from_fn(|| c.poll_transmit(ms(3)))
            .map(|t| t.bytes.len())
            .collect();
        let c2_write = lens[0];
        assert_eq!(c2_write == 1536, variant == Variant::Default, "{lens:?}");
        assert_eq!(
            wire_lines(&c)[2..],
            [
                (3000, format!("C->S {c2_write}")),
                (3000, "C->S connect".into())
            ],
            "{variant}"
        );
    }
}

/// Runs `c` against a bare server [`Connection`] until the server has a complete `connect`;
/// returns the server's writes' lengths and what the client wrote with connect.
fn against_server_connection(c: &mut EmulatorClient) -> (Vec<usize>, Vec<usize>) {
    let mut server = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(3),
    );
    let mut client_writes = Vec::new();
    let mut server_writes = Vec::new();
    for step in 0..20u64 {
        let now = Duration::from_millis(step);
        while let Some(t) = c.poll_transmit(now) {
            client_writes.push(t.bytes.len());
            server.handle_read(now, t.bytes);
        }
        while let Some(event) = server.poll_event() {
            if let ConnEvent::Message { decoded: Ok(m), .. } = event {
                if m.name() == "connect" {
                    return (server_writes, client_writes);
                }
            }
        }
        while let Some(write) = server.poll_transmit(now) {
            server_writes.push(write.bytes.len());
            c.handle_read(now, write.bytes);
        }
    }
    panic!("no connect reached the server: client wrote {client_writes:?}");
}

#[test]
fn the_client_connects_through_a_server_connection() {
    let mut c = client("obs", Variant::Default);
    let (server_writes, client_writes) = against_server_connection(&mut c);
    assert_eq!(server_writes, [3073]);
    // C0+C1, C2, OBS's own Set Chunk Size, then connect.
    assert_eq!(&client_writes[..2], [1537, 1536]);
    assert_eq!(client_writes.len(), 4, "{client_writes:?}");
    assert!(!c.is_finished());
    assert_eq!(c.stage(), Stage::Connect);
}

#[test]
fn coalescing_variants_write_c2_with_connect() {
    let mut c = client("ffmpeg", Variant::C2WithConnect);
    let (_, client_writes) = against_server_connection(&mut c);
    assert_eq!(client_writes.len(), 2, "{client_writes:?}");
    assert!(client_writes[1] > 1536, "{client_writes:?}");
}

fn in_memory(
    profile_name: &str,
    variant: Variant,
    personality_name: &str,
) -> crate::emulate::CaseResult {
    let options = crate::emulate::case::CaseOptions {
        media_duration: Duration::from_millis(600),
        seed: Some(9),
        ..Default::default()
    };
    crate::emulate::memory::run_case(
        &profile::by_name(profile_name).expect("profile"),
        variant,
        &personality::by_name(personality_name).expect("personality"),
        &options,
    )
}

#[test]
fn in_memory_cases_reach_the_verdicts_real_servers_give() {
    let obs = in_memory("obs", Variant::Default, "reference");
    assert_eq!(obs.status, Status::Pass, "{:?}", obs.diagnosis);
    assert!(obs.observations.connect_result_ms.is_some());
    let play = in_memory("ffmpeg-play", Variant::Default, "reference");
    assert!(!play.status.is_failure(), "{:?}", play.diagnosis);
    let wirecast = in_memory("wirecast", Variant::Default, "ffmpeg");
    assert_eq!(wirecast.stage, Some(Stage::Handshake));
    assert_eq!(wirecast.diagnosis[0].id, DiagnosticId::HsFirstReadShort);
    let videocore = in_memory("videocore", Variant::Default, "ffmpeg");
    assert_eq!(videocore.diagnosis[0].id, DiagnosticId::HsC2FromEmptyS1);
    let waits = in_memory("obs", Variant::C0WaitS0, "reference");
    assert_eq!(waits.status, Status::Informational, "{:?}", waits.diagnosis);
    let strict = in_memory("ffmpeg-play", Variant::Default, "strict-c2");
    assert_eq!(strict.stage, Some(Stage::Connect), "{:?}", strict.diagnosis);
}

#[test]
fn acknowledgement_cadence_and_fatal_status_codes_follow_the_profile() {
    // librtmp acknowledges by a tenth of Set Peer Bandwidth: under an enforced 512-byte window
    // rtmpdump gets no media; FFmpeg (half window) and rtmp2 (window) do.
    let rtmpdump = in_memory("rtmpdump", Variant::Default, "window-ack-tiny-strict");
    assert_eq!(
        (rtmpdump.status, rtmpdump.stage),
        (Status::Timeout, Some(Stage::Media)),
        "{:?}",
        rtmpdump.diagnosis
    );
    for player in ["ffmpeg-play", "gstreamer-play"] {
        let r = in_memory(player, Variant::Default, "window-ack-tiny-strict");
        assert_eq!(r.status, Status::Pass, "{player}: {:?}", r.diagnosis);
    }
    // NetStream.Publish.BadName (level error): FFmpeg stops at once, librtmp ignores it and
    // waits for NetStream.Publish.Start.
    let ffmpeg = in_memory("ffmpeg", Variant::Default, "publish-bad-name");
    assert_eq!(ffmpeg.status, Status::Fail);
    assert_eq!(ffmpeg.diagnosis[0].id, DiagnosticId::CmdStatusError);
    let obs = in_memory("obs", Variant::Default, "publish-bad-name");
    assert_eq!(
        (obs.status, obs.stage),
        (Status::Timeout, Some(Stage::Publish)),
        "{:?}",
        obs.diagnosis
    );
    // NetStream.Play.StreamNotFound is one of librtmp's closing codes.
    let rtmpdump = in_memory("rtmpdump", Variant::Default, "play-stream-not-found");
    assert_eq!(rtmpdump.status, Status::Fail, "{:?}", rtmpdump.diagnosis);
    assert_eq!(rtmpdump.diagnosis[0].id, DiagnosticId::CmdStatusError);
}

#[test]
fn media_without_play_start_is_played_only_by_the_profiles_whose_row_goes_on() {
    // FFmpeg's rtmp_open() completes on the first media packet; librtmp drops media until
    // NetStream.Play.Start, rtmp2 waits for it (tolerance rows on-status-missing, measured).
    let ffmpeg = in_memory("ffmpeg-play", Variant::Default, "play-status-missing");
    assert!(!ffmpeg.status.is_failure(), "{:?}", ffmpeg.diagnosis);
    assert!(
        ffmpeg
            .diagnosis
            .iter()
            .any(|f| f.id == DiagnosticId::CmdStatusMissing),
        "{:?}",
        ffmpeg.diagnosis
    );
    for player in ["rtmpdump", "gstreamer-play"] {
        let r = in_memory(player, Variant::Default, "play-status-missing");
        assert_eq!(
            (r.status, r.stage),
            (Status::Timeout, Some(Stage::Publish)),
            "{player}: {:?}",
            r.diagnosis
        );
    }
    // A publisher never confirmed sends no media: every profile waits for Publish.Start.
    for publisher in ["ffmpeg", "obs", "gstreamer"] {
        let r = in_memory(publisher, Variant::Default, "publish-status-missing");
        assert_eq!(
            (r.status, r.stage),
            (Status::Timeout, Some(Stage::Publish)),
            "{publisher}: {:?}",
            r.diagnosis
        );
    }
}

#[test]
fn a_stalled_client_still_shows_the_handshake_reads_it_makes() {
    // A client that stalls on an S1 without a digest takes nothing more in, but the driver
    // still reads S2 from the wire: the transcript shows that read as the pcap would.
    let mut p = profile::by_name("obs").expect("profile");
    let section: toml::Table =
        toml::from_str("s1-digest-absent = \"stall:handshake\"").expect("TOML");
    p.tolerance = crate::emulate::tolerance::Table::default();
    p.tolerance.row =
        crate::emulate::tolerance::Table::rows_from_section(&section).expect("a tolerance row");
    let mut c = EmulatorClient::new(p, Variant::Default, plan());
    let mut server = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(3),
    );
    let ms = Duration::from_millis;
    server.handle_read(ms(1), c.poll_transmit(ms(1)).expect("C0+C1").bytes);
    let answer = server.poll_transmit(ms(1)).expect("S0+S1+S2").bytes;
    c.handle_read(ms(2), answer.slice(..1537));
    c.handle_read(ms(3), answer.slice(1537..));
    let reads: Vec<(u64, String)> = wire_lines(&c)
        .into_iter()
        .filter(|(_, l)| l.starts_with("S->C"))
        .collect();
    assert_eq!(
        reads,
        [(2000, "S->C 1537".to_string()), (3000, "S->C 1536".into())]
    );
}
