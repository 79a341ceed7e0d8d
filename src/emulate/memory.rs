//! The built-in matrix in memory: each case's [`EmulatorClient`] against the reference
//! server's [`ServerSession`] (with a personality), joined by a simulated wire and driven by a
//! simulated clock. No sockets and no scheduler, so a case's verdict is the same on every run
//! and the whole matrix takes a fraction of a second.
//!
//! The wire models what a reader sees on loopback TCP: a write reaches the other side
//! [`LATENCY`] after it is made; a reader wakes [`WAKE`] after the first unread write arrives
//! and takes everything that has arrived by then as one read. Writes made back to back (a
//! variant's cuts, a personality's groups without a pause) are [`WRITE_COST`] apart, so they
//! reach a reader together; a personality's measured pauses and a profile's timing separate
//! them. A server pausing between handshake writes reads nothing meanwhile, as its driver
//! sleeps then.
//!
//! Each write is made at its own time on the simulated clock, one per [`WRITE_COST`], and each
//! side is told that time when it hands the write out, so both transcripts follow the
//! simulated wire as a TCP run's follow the real one (what a side reads between two writes of
//! a burst comes between them, as the TCP driver reads what has arrived before each write).
//! [`run_case_recorded`] also writes that wire as each end saw it, one pcap frame per read or
//! write, as `probe --pcap` and `serve --pcap` do.

use super::case::CaseOptions;
use super::client::{EmulatorClient, Finding, Outcome, Status};
use super::profile::{self, Profile, Role};
use super::variant::Variant;
use super::CaseResult;
use crate::protocol::random::RandomSource;
use crate::record::pcap::{PcapRecorder, TcpFlow};
use crate::serve::hub::Hub;
use crate::serve::personality::Personality;
use crate::serve::session::{Action, ServerSession, SessionConfig};
use crate::transcript::{DiagnosticId, Direction, Event, Transcript};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// From a write to its arrival at the other end.
pub const LATENCY: Duration = Duration::from_micros(30);
/// From the first unread arrival to the read that takes it (and what arrived meanwhile).
pub const WAKE: Duration = Duration::from_micros(20);
/// The least time between two writes of one side.
pub const WRITE_COST: Duration = Duration::from_micros(2);
/// A player starts this long after its companion publisher, as over TCP.
const PLAYER_DELAY: Duration = Duration::from_millis(800);
/// The most events one case may take: a bound, never reached by a case that ends.
const MAX_STEPS: usize = 2_000_000;

/// One direction of the wire.
#[derive(Default)]
struct Pipe {
    /// Writes in flight or unread, with their arrival times.
    segments: VecDeque<(Duration, Bytes)>,
    /// When the writer may write next.
    writer_clock: Duration,
    /// When the writer's close arrives.
    closed_at: Option<Duration>,
    eof_delivered: bool,
}

impl Pipe {
    fn write(&mut self, at: Duration, bytes: Bytes) {
        let at = at.max(self.writer_clock);
        self.writer_clock = at + WRITE_COST;
        self.segments.push_back((at + LATENCY, bytes));
    }

    fn close(&mut self, at: Duration) {
        if self.closed_at.is_none() {
            self.closed_at = Some(at.max(self.writer_clock) + LATENCY);
        }
    }

    /// When the reader next reads (data, or the end of the stream).
    fn next_read(&self) -> Option<Duration> {
        match self.segments.front() {
            Some((arrival, _)) => Some(*arrival + WAKE),
            None if !self.eof_delivered => self.closed_at,
            None => None,
        }
    }

    /// Everything that has arrived by `now`, as one read.
    fn read(&mut self, now: Duration) -> Option<Bytes> {
        let mut out = BytesMut::new();
        while let Some((arrival, _)) = self.segments.front() {
            if *arrival > now {
                break;
            }
            if let Some((_, bytes)) = self.segments.pop_front() {
                out.extend_from_slice(&bytes);
            }
        }
        (!out.is_empty()).then(|| out.freeze())
    }

    /// The end of the stream, once everything before it has been read.
    fn eof_due(&mut self, now: Duration) -> bool {
        let due = self.segments.is_empty()
            && !self.eof_delivered
            && self.closed_at.is_some_and(|at| at <= now);
        self.eof_delivered |= due;
        due
    }
}

/// Where the simulated clock's zero falls in a pcap file (any fixed time will do).
const PCAP_EPOCH: Duration = Duration::from_secs(1_700_000_000);

fn wall(at: Duration) -> SystemTime {
    UNIX_EPOCH + PCAP_EPOCH + at
}

/// One end's view of the simulated wire: a pcap file in memory with the link's one flow.
struct View {
    file: Arc<PcapRecorder<Vec<u8>>>,
    flow: TcpFlow<Vec<u8>>,
}

impl View {
    const CLIENT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 49152);
    const SERVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 1935);

    /// A file whose flow's TCP connection is made `at`.
    fn open(at: Duration) -> Option<Self> {
        let file = PcapRecorder::new(Vec::new()).ok()?;
        let flow = TcpFlow::open(file.clone(), Self::CLIENT, Self::SERVER, wall(at)).ok()?;
        Some(Self { file, flow })
    }

    /// Ends the flow `at` and returns the file's bytes.
    fn finish(mut self, at: Duration, reset_by: Option<Direction>) -> Vec<u8> {
        let _ = self.flow.close(wall(at), reset_by);
        self.file.finish().ok().flatten().unwrap_or_default()
    }
}

/// A recording of one link's wire: each end's reads and writes, and the server's transcript.
struct Recording {
    client: View,
    server: View,
    server_transcript: Transcript,
}

/// One client and its server connection.
struct Link {
    client: EmulatorClient,
    /// The client's time zero on the simulated clock.
    offset: Duration,
    server: ServerSession,
    up: Pipe,
    down: Pipe,
    /// The server sleeps until then before its next paced write, reading nothing.
    server_busy: Duration,
    server_closed: bool,
    recording: Option<Recording>,
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

impl Link {
    fn new(client: EmulatorClient, offset: Duration, server: ServerSession) -> Self {
        Self {
            client,
            offset,
            server,
            up: Pipe::default(),
            down: Pipe::default(),
            server_busy: Duration::ZERO,
            server_closed: false,
            recording: None,
        }
    }

    /// Records the link's wire from now on (the link's connection is made at its offset).
    fn record(&mut self) {
        self.recording =
            View::open(self.offset)
                .zip(View::open(self.offset))
                .map(|(client, server)| Recording {
                    client,
                    server,
                    server_transcript: Transcript::new(),
                });
    }

    /// The server's clock: like serve's, it starts with the connection.
    fn server_now(&self, now: Duration) -> u64 {
        micros(now.saturating_sub(self.offset))
    }

    /// A time on the server's clock, on the simulated one.
    fn on_wire_clock(&self, us: u64) -> Duration {
        self.offset + Duration::from_micros(us)
    }

    /// Adds one read or write, made `at`, to the pcap file of the end (`by`) that made it.
    fn capture(&mut self, by: Direction, at: Duration, direction: Direction, bytes: &[u8]) {
        if let Some(r) = &mut self.recording {
            let view = match by {
                Direction::ClientToServer => &mut r.client,
                Direction::ServerToClient => &mut r.server,
            };
            // Into memory: nothing can fail but a closed file, which this is not.
            let _ = view.flow.record(direction, wall(at), bytes);
        }
    }

    /// The server's transcript events: kept when the link records its wire.
    fn take_server_events(&mut self) {
        while let Some((at_us, kind)) = self.server.poll_event() {
            if let Some(r) = &mut self.recording {
                r.server_transcript.events.push(Event::new(at_us, kind));
            }
        }
    }

    /// Whether the server reads: not while it sleeps before a paced write, nor once closed.
    fn server_reads(&self, now: Duration) -> bool {
        !self.server_closed && self.server.close_reason().is_none() && self.server_busy <= now
    }

    fn next_event(&self) -> Option<Duration> {
        // A write waits for the end of the one before it (WRITE_COST).
        let client = match self.client.poll_timeout() {
            _ if self.client.is_finished() => None,
            Some(at) => Some((self.offset + at).max(self.up.writer_clock)),
            None => None,
        };
        let open = !self.server_closed && self.server.close_reason().is_none();
        let server_read = open
            .then(|| self.up.next_read().map(|at| at.max(self.server_busy)))
            .flatten();
        let server_timer = open
            .then(|| self.server.deadline_us().map(|us| self.on_wire_clock(us)))
            .flatten();
        let server_write = (!self.server_closed && self.server.has_transmit())
            .then(|| self.server_busy.max(self.down.writer_clock));
        let client_read = (!self.client.is_finished())
            .then(|| self.down.next_read())
            .flatten();
        [client, server_read, server_timer, server_write, client_read]
            .into_iter()
            .flatten()
            .min()
    }

    /// Reads and timers due at `now`.
    fn deliver(&mut self, now: Duration) {
        if now < self.offset {
            return;
        }
        let local = now - self.offset;
        if !self.client.is_finished() && self.down.next_read().is_some_and(|at| at <= now) {
            match self.down.read(now) {
                Some(bytes) => {
                    let read = Direction::ServerToClient;
                    self.capture(Direction::ClientToServer, now, read, &bytes);
                    self.client.handle_read(local, bytes);
                }
                None if self.down.eof_due(now) => self.client.handle_eof(local),
                None => {}
            }
        }
        if !self.client.is_finished() && self.client.poll_timeout().is_some_and(|at| at <= local) {
            self.client.handle_timeout(local);
        }
        if self.server_reads(now) {
            if self.up.next_read().is_some_and(|at| at <= now) {
                match self.up.read(now) {
                    Some(bytes) => {
                        let read = Direction::ClientToServer;
                        self.capture(Direction::ServerToClient, now, read, &bytes);
                        self.server.handle_read(self.server_now(now), bytes);
                    }
                    None if self.up.eof_due(now) => self.server.handle_eof(self.server_now(now)),
                    None => {}
                }
            }
            if self
                .server
                .deadline_us()
                .is_some_and(|at| self.on_wire_clock(at) <= now)
            {
                self.server.handle_timer(self.server_now(now));
            }
        }
    }

    /// The write each side has ready at `now`, unless it is still making its last one (a
    /// write takes [`WRITE_COST`]): made at `now`, the time that side records for it.
    fn write(&mut self, now: Duration) {
        if now >= self.offset {
            let local = now - self.offset;
            if self.up.writer_clock <= now {
                if let Some(t) = self.client.poll_transmit(local) {
                    let write = Direction::ClientToServer;
                    self.capture(Direction::ClientToServer, now, write, &t.bytes);
                    self.up.write(now, t.bytes);
                }
            }
            if self.client.is_finished() {
                self.up.close(now);
            }
        }
        if !self.server_closed && self.server_busy <= now && self.down.writer_clock <= now {
            if let Some(bytes) = self.server.poll_transmit(self.server_now(now)) {
                let write = Direction::ServerToClient;
                self.capture(Direction::ServerToClient, now, write, &bytes);
                self.down.write(now, bytes);
            }
            // The personality's pause before its next handshake write: asleep until then.
            if let Some(due) = self.server.next_transmit_at_us() {
                self.server_busy = self.server_busy.max(self.on_wire_clock(due));
            }
        }
        self.take_server_events();
        // The server closes once its last write is made.
        if self.server.close_reason().is_some()
            && !self.server_closed
            && !self.server.has_transmit()
        {
            self.server_closed = true;
            self.down.close(now);
        }
    }
}

/// The server's requests that involve other connections, resolved through the hub.
fn resolve_actions(links: &mut [Link], hub: &mut Hub<usize>, now: Duration) {
    for i in 0..links.len() {
        let actions: Vec<Action> = std::iter::from_fn(|| links[i].server.poll_action()).collect();
        for action in actions {
            match action {
                Action::Publish { name, stream_id } => {
                    let accepted = hub.publish(&name, i as u64);
                    links[i].server.publish_result(stream_id, accepted);
                }
                Action::Unpublish { name } => {
                    for (_, player) in hub.unpublish(&name, i as u64) {
                        let at = links[player].server_now(now);
                        links[player].server.stream_ended(at);
                    }
                }
                Action::Play { name, stream_id } => {
                    let start = hub.play(&name, i as u64, i);
                    links[i]
                        .server
                        .play_started(stream_id, start.as_ref().map(|s| s.messages()));
                }
                Action::StopPlaying => hub.leave(i as u64),
                Action::Media { name, message } => {
                    for player in hub.media(&name, &message) {
                        let at = links[player].server_now(now);
                        links[player].server.send_media(at, &message);
                    }
                }
            }
        }
        if links[i].server_closed {
            hub.leave(i as u64);
        }
    }
}

/// The plan of a case in memory (the stream key is the profile's and variant's).
fn plan(key: &str, options: &CaseOptions, seed: u64) -> super::client::CasePlan {
    super::client::CasePlan {
        app: "live".into(),
        tc_url: "rtmp://in-memory/live".into(),
        key: key.to_string(),
        media_duration: options.media_duration,
        handshake_timeout: options.handshake_timeout,
        reply_timeout: options.reply_timeout,
        stop_after_connect: options.stop_after_connect,
        seed,
    }
}

fn server(personality: &Personality, seed: u64) -> ServerSession {
    let config = SessionConfig {
        personality: personality.clone(),
        ..SessionConfig::default()
    };
    ServerSession::new(config, RandomSource::seeded(seed))
}

/// The publisher of a play case's stream unless the options name another.
pub(super) fn default_companion() -> Profile {
    profile::by_name("obs").expect("obs profile exists")
}

/// What crossed a case's simulated wire, as each end saw it: one pcap frame per read or write
/// (as `probe --pcap` and `serve --pcap` write them; frame times are the simulated clock's), and
/// the server's transcript, on the server's clock (zero when the connection starts, as serve's).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Wire {
    pub client_pcap: Vec<u8>,
    pub server_pcap: Vec<u8>,
    pub server_transcript: Transcript,
}

/// Runs one case in memory; a play profile gets a companion publisher (`obs` unless the
/// options name another) on the same key.
pub fn run_case(
    profile: &Profile,
    variant: Variant,
    personality: &Personality,
    options: &CaseOptions,
) -> CaseResult {
    run(profile, variant, personality, options, false).0
}

/// [`run_case`], with the wire of the case's own connection (a play case's, not its
/// companion's) recorded.
pub fn run_case_recorded(
    profile: &Profile,
    variant: Variant,
    personality: &Personality,
    options: &CaseOptions,
) -> (CaseResult, Wire) {
    let (result, wire) = run(profile, variant, personality, options, true);
    (result, wire.expect("recorded"))
}

fn run(
    profile: &Profile,
    variant: Variant,
    personality: &Personality,
    options: &CaseOptions,
    record: bool,
) -> (CaseResult, Option<Wire>) {
    let seed = options.seed.unwrap_or(1);
    // Shaped as the TCP run's first attempt names it (a salt from the seed): the server's
    // answers that carry the name are as long, so they are cut into the same chunks.
    let key = format!("rp-{}-{variant}-1-{:08x}", profile.name, seed as u32);
    let mut links = Vec::new();
    let mut offset = Duration::ZERO;
    let mut companion_name = String::new();
    if profile.role == Role::Play {
        let publisher = options.companion.clone().unwrap_or_else(default_companion);
        companion_name = publisher.name.clone();
        let companion = CaseOptions {
            media_duration: options.media_duration + Duration::from_secs(3),
            ..options.clone()
        };
        let client = EmulatorClient::new(publisher, Variant::Default, plan(&key, &companion, seed));
        links.push(Link::new(client, offset, server(personality, seed)));
        offset = PLAYER_DELAY;
    }
    let client = EmulatorClient::new(profile.clone(), variant, plan(&key, options, seed));
    links.push(Link::new(client, offset, server(personality, seed + 1)));
    let main = links.len() - 1;
    if record {
        links[main].record();
    }
    let limit = options.case_timeout.unwrap_or(Duration::from_secs(600));
    let mut hub = Hub::default();
    let mut now = Duration::ZERO;
    for link in &mut links {
        link.client
            .connected(now, "in-memory client".into(), "in-memory server".into());
    }
    for _ in 0..MAX_STEPS {
        for link in links.iter_mut() {
            link.deliver(now);
        }
        resolve_actions(&mut links, &mut hub, now);
        for link in links.iter_mut() {
            link.write(now);
        }
        if links[main].client.is_finished() {
            break;
        }
        let next = links
            .iter()
            .filter_map(|l| l.next_event().map(|at| at.max(l.offset)))
            .min();
        match next {
            Some(at) if at <= links[main].offset + limit => now = now.max(at),
            _ => break,
        }
    }
    let elapsed = now.saturating_sub(links[main].offset);
    let companion = (main > 0).then(|| {
        let link = links.remove(0);
        let finished = link.client.is_finished();
        (finished, link.client.outcome(Duration::ZERO))
    });
    let main_link = links.pop().expect("the case's own link");
    let reset_by = main_link
        .client
        .wants_reset()
        .then_some(Direction::ClientToServer);
    let wire = main_link.recording.map(|r| Wire {
        client_pcap: r.client.finish(now, reset_by),
        server_pcap: r.server.finish(now, reset_by),
        server_transcript: r.server_transcript,
    });
    let mut outcome = main_link.client.outcome(elapsed);
    if let Some((true, publisher)) = companion {
        companion_failed(&mut outcome, &companion_name, &publisher);
    }
    (CaseResult::single(profile, variant, outcome), wire)
}

/// A player whose companion publisher failed too had nothing to play: an error of the case
/// (the TCP run and the in-memory run alike).
pub(super) fn companion_failed(outcome: &mut Outcome, name: &str, publisher: &Outcome) {
    if publisher.status.is_failure() && outcome.status.is_failure() {
        outcome.status = Status::Error;
        outcome.diagnosis.push(Finding {
            id: DiagnosticId::CaseCompanionFailed,
            message: format!(
                "the companion {name} publisher failed too ({} at {}), so there was nothing to \
                 play",
                publisher.status.label(),
                publisher.stage.map(|s| s.to_string()).unwrap_or_default()
            ),
        });
    }
}

/// Runs the given cases in memory against `personality`, in order; `done` is called as each
/// case finishes.
pub fn run_cases(
    personality: &Personality,
    cases: &[(Profile, Variant)],
    options: &CaseOptions,
    done: impl Fn(&CaseResult),
) -> Vec<CaseResult> {
    cases
        .iter()
        .map(|(p, v)| {
            let r = run_case(p, *v, personality, options);
            done(&r);
            r
        })
        .collect()
}
