//! The emulated clients: in memory against a personality (as the built-in matrix runs them),
//! in memory against a server a scenario scripts (for what no personality does), and over TCP
//! for what only a socket shows.

use rtmp_probe::emulate::case::{self, CaseOptions, Outcome, Target};
use rtmp_probe::emulate::client::{CasePlan, EmulatorClient};
use rtmp_probe::emulate::profile::{self, Profile};
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::emulate::{memory, CaseResult};
use rtmp_probe::protocol::chunk::RawMessage;
use rtmp_probe::protocol::connection::{Connection, ConnectionConfig, Event};
use rtmp_probe::protocol::handshake::ServerConfig;
use rtmp_probe::protocol::message::{Command, Message};
use rtmp_probe::protocol::random::RandomSource;
use rtmp_probe::serve::personality;
use rtmp_probe::transcript::{DiagnosticId, EventKind, Transcript};
use std::time::Duration;

/// The most steps a scripted case takes: a bound a case that ends never meets.
const STEPS: usize = 100_000;

pub fn profile(name: &str) -> Profile {
    profile::by_name(name).expect("a built-in profile")
}

/// The ids of a transcript's diagnostics and observations.
fn transcript_ids(t: &Transcript) -> impl Iterator<Item = DiagnosticId> + '_ {
    t.events.iter().filter_map(|e| match &e.kind {
        EventKind::Diagnostic { id, .. } | EventKind::Handshake { id, .. } => Some(*id),
        _ => None,
    })
}

/// A case's findings and the ids in its transcript.
pub fn outcome_ids(o: &Outcome) -> Vec<DiagnosticId> {
    o.diagnosis
        .iter()
        .map(|f| f.id)
        .chain(transcript_ids(&o.transcript))
        .collect()
}

pub fn result_ids(r: &CaseResult) -> Vec<DiagnosticId> {
    let mut ids: Vec<DiagnosticId> = r.diagnosis.iter().map(|f| f.id).collect();
    if let Some(worst) = &r.worst {
        ids.extend(outcome_ids(worst));
    }
    ids
}

/// Short limits: the clock is simulated, but a wait that runs out should not take long.
pub fn quick_options() -> CaseOptions {
    let mut options = CaseOptions::default();
    options.media_duration = Duration::from_millis(500);
    options.handshake_timeout = Duration::from_secs(1);
    options.reply_timeout = Duration::from_secs(1);
    options.seed = Some(3);
    options
}

/// `profile` × `variant` in memory against the built-in `personality`.
pub fn against_personality(
    profile: &Profile,
    variant: Variant,
    personality: &str,
    options: &CaseOptions,
) -> Vec<DiagnosticId> {
    let personality = personality::by_name(personality).expect("a personality");
    result_ids(&memory::run_case(profile, variant, &personality, options))
}

/// How a scripted server ends the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Close,
    Reset,
}

/// What a scripted server does with a message from the client.
pub enum Reply {
    Nothing,
    Send(Vec<RawMessage>),
    End(End),
}

/// `profile` × `variant` in memory against a reference handshake whose server ends the
/// connection (`end`) once it has `after` bytes of the client's, before it writes anything
/// more; then, if the handshake gets that far, answers each command as `script` says.
pub fn against_script(
    profile: &Profile,
    variant: Variant,
    end_after: Option<(usize, End)>,
    mut script: impl FnMut(&RawMessage, &Command) -> Reply,
) -> Vec<DiagnosticId> {
    let plan = CasePlan {
        app: "live".into(),
        tc_url: "rtmp://127.0.0.1/live".into(),
        key: "reach".into(),
        media_duration: Duration::from_millis(500),
        handshake_timeout: Duration::from_secs(1),
        reply_timeout: Duration::from_secs(1),
        stop_after_connect: false,
        seed: 5,
    };
    let mut client = EmulatorClient::new(profile.clone(), variant, plan);
    let mut server = Connection::new(
        ConnectionConfig::server(ServerConfig::default()),
        RandomSource::seeded(6),
    );
    let mut now = Duration::ZERO;
    client.connected(now, "scripted client".into(), "scripted server".into());
    let mut received = 0;
    let mut ended = None;
    for _ in 0..STEPS {
        while let Some(t) = client.poll_transmit(now) {
            if ended.is_some() {
                continue;
            }
            received += t.bytes.len();
            server.handle_read(now, t.bytes);
            if let Some((after, how)) = end_after {
                if received >= after {
                    ended = Some(how);
                }
            }
        }
        while let Some(event) = server.poll_event() {
            let Event::Message {
                raw,
                decoded: Ok(Message::Command(command)),
            } = event
            else {
                continue;
            };
            if ended.is_some() {
                continue;
            }
            match script(&raw, &command) {
                Reply::Nothing => {}
                Reply::Send(messages) => messages.into_iter().for_each(|m| server.send(m)),
                Reply::End(how) => ended = Some(how),
            }
        }
        match ended {
            None => {
                while let Some(write) = server.poll_transmit(now) {
                    now += Duration::from_micros(50);
                    client.handle_read(now, write.bytes);
                }
            }
            Some(End::Close) => client.handle_eof(now),
            Some(End::Reset) => client.handle_reset(now, "Connection reset by peer (os error 104)"),
        }
        if client.is_finished() {
            break;
        }
        let next = [client.poll_timeout(), server.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(at) => {
                now = now.max(at);
                client.handle_timeout(now);
                server.handle_timeout(now);
            }
            None if ended.is_some() => break,
            None => now += Duration::from_millis(10),
        }
    }
    outcome_ids(&client.outcome(now))
}

/// `profile` over TCP against `addr` (the case's own connection, its pcap and limits as
/// `options` say).
pub fn over_tcp(
    profile: &Profile,
    addr: std::net::SocketAddr,
    options: &CaseOptions,
) -> Vec<DiagnosticId> {
    let target = Target {
        addr,
        authority: addr.to_string(),
        app: "live".into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcome = runtime.block_on(case::run(
        profile,
        Variant::Default,
        &target,
        "reach",
        options,
    ));
    outcome_ids(&outcome)
}
