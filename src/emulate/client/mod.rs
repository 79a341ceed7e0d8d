//! The emulator client without IO: a profile's plan and a variant's segmentation run over the
//! core's [`Connection`], yielding the verdict, stage, findings and observations of a case.
//! (One file past 600 lines: the client's state and its driver-facing calls; the handshake,
//! the steps and the tolerance are modules of their own.)
//!
//! The driver (a TCP socket in [`super::case`], or the in-memory wire of
//! [`super::memory`]) hands in what it read ([`EmulatorClient::handle_read`]), the end of the
//! server's stream and the time, writes what [`EmulatorClient::poll_transmit`] gives — one
//! write per item, cut as the profile and variant cut them, each when its time has come — and
//! wakes at [`EmulatorClient::poll_timeout`]. Timing is data here: when C1 follows C0, when C2
//! goes, when each media tag is due and how long a reply may take.
//!
//! The client side of each profile's quirks is decided from what the client has been handed:
//! "what had arrived when C1 was due" is the bytes read before C1's write, and "the first read"
//! is the first [`EmulatorClient::handle_read`].
//!
//! The transcript follows the wire: a read's events at the read's time, a write's (its segment
//! while the handshake's bytes are in it, then the messages it carries) when the driver takes it
//! from [`EmulatorClient::poll_transmit`], at that call's `now`. A write waits in the client's
//! own queue for its gate, so what it carries is recorded with it rather than when it was
//! queued: connect, sent as S2 completes the handshake, follows the C2 queued before it.

mod handshake;
mod outcome;
mod steps;
mod tolerate;

pub use outcome::{stop, Finding, Observations, Outcome, Stage, Status, Stop};

use super::profile::{C2Timing, Profile};
use super::tolerance::Reaction;
use super::variant::Variant;
use crate::deviation::Deviation;
use crate::protocol::chunk::RawMessage;
use crate::protocol::connection::{Connection, Diagnostic, DiagnosticKind, Event, SentMessage};
use crate::protocol::message::Message;
use crate::protocol::random::RandomSource;
use crate::transcript::DiagnosticId;
use crate::transcript::{read_diagnostics, Direction, EventKind, MessageEvent, Transcript};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;
use steps::Step;
use tolerate::{connection_config, resolved, Met};

/// What one case asks of the server, and its limits.
#[derive(Debug, Clone)]
pub struct CasePlan {
    pub app: String,
    /// `rtmp://host[:port]/app`, for connect's tcUrl.
    pub tc_url: String,
    /// The stream key published or played.
    pub key: String,
    pub media_duration: Duration,
    /// How long the handshake may take in all, counted from the start of the case (its TCP
    /// connect), as a server counts it from the connection's start: a server that trickles its
    /// bytes cannot hold the client longer.
    pub handshake_timeout: Duration,
    /// How long each awaited reply (connect's `_result`, ...) may take.
    pub reply_timeout: Duration,
    /// Close right after connect's `_result`.
    pub stop_after_connect: bool,
    /// Seeds the handshake's random bytes.
    pub seed: u64,
}

/// One write for the driver to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub bytes: Bytes,
    /// The stage the write belongs to, for a failed write's verdict.
    pub stage: Stage,
}

/// When a write may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Now,
    At(Duration),
    /// After the server's first bytes, or at the deadline (C1 of `c0-wait-s0`).
    FirstRead {
        deadline: Duration,
    },
}

#[derive(Debug)]
struct Pending {
    gate: Gate,
    bytes: Bytes,
    handshake: bool,
    /// This write is C1: what had arrived before it decides a re-entering client's fate.
    c1: bool,
    /// The write carries handshake bytes: the transcript shows it as a segment.
    segment: bool,
    /// The transcript lines of the messages it carries, recorded when it is made.
    messages: Vec<EventKind>,
}

impl Pending {
    /// A write of messages (after a held C2 when `segment`), shown as they say.
    fn messages(bytes: Bytes, segment: bool, messages: Vec<EventKind>) -> Self {
        Self {
            gate: Gate::Now,
            bytes,
            handshake: false,
            c1: false,
            segment,
            messages,
        }
    }
}

/// The transcript lines of the messages a write carries (media is summarised, not listed).
fn shown(messages: &[SentMessage]) -> impl Iterator<Item = EventKind> + '_ {
    messages
        .iter()
        .filter(|sent| !matches!(sent.message.type_id, 8 | 9))
        .map(|sent| {
            let decoded = Message::decode(&sent.message);
            EventKind::Message(MessageEvent::new(
                Direction::ClientToServer,
                &sent.message,
                decoded.as_ref(),
            ))
        })
}

/// How long `c0-wait-s0` waits for S0 before writing C1.
const WAIT_FOR_S0: Duration = Duration::from_secs(2);
/// S0 and S1: what a strict first read needs.
const S0_S1_LEN: usize = 1537;

/// One emulated client for one case.
pub struct EmulatorClient {
    profile: Profile,
    variant: Variant,
    plan: CasePlan,
    conn: Connection,
    /// Writes not yet handed out, in order; a write waits for its gate and for those before it.
    pending: VecDeque<Pending>,
    /// C2 goes with connect (Flash 9, and the coalescing variants).
    hold_c2: bool,
    held_c2: Option<Bytes>,
    c2_taken: bool,
    c2_written: bool,
    /// Bytes handed in so far.
    received: usize,
    last_read: Duration,
    step: Step,
    /// When the current step gives up waiting.
    deadline: Option<Duration>,
    transcript: Transcript,
    observations: Observations,
    findings: Vec<Finding>,
    informational: bool,
    non_strict: bool,
    connected_after: Option<Duration>,
    result: Option<Result<(), Stop>>,
    /// The client ends with a reset rather than a close.
    reset: bool,
    stage: Stage,
    now: Duration,
    /// A deviation stalled the client: it takes nothing more in, and this stop ends the case
    /// when the time comes (unless a wait of its step runs out first).
    stall: Option<(Duration, Stop)>,
    /// The chunk streams the server has sent messages on (for an Abort of an unknown one).
    server_csids: Vec<u32>,
    /// Replies to releaseStream and FCPublish so far.
    release_replies: u8,
    /// The server deviations met, where the profile's row was consulted ([`Outcome::met`]).
    met: Vec<Deviation>,
}

/// Which case the client plays and where it stands; the connection and transcript are left out.
impl std::fmt::Debug for EmulatorClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorClient")
            .field("profile", &self.profile.name)
            .field("variant", &self.variant)
            .field("stage", &self.stage)
            .field("now", &self.now)
            .field("result", &self.result)
            .finish_non_exhaustive()
    }
}

impl EmulatorClient {
    /// A client at time zero with C0 and C1 cut and scheduled as `profile` × `variant` do.
    pub fn new(profile: Profile, variant: Variant, plan: CasePlan) -> Self {
        let hold_c2 = matches!(variant, Variant::Coalesced | Variant::C2WithConnect)
            || profile.c2_timing == C2Timing::WithConnect;
        let config = connection_config(&profile, hold_c2);
        let mut conn = Connection::new(config, RandomSource::seeded(plan.seed));
        let mut hello = || {
            conn.poll_transmit(Duration::ZERO)
                .map(|t| t.bytes)
                .unwrap_or_default()
        };
        let (c0, c1) = (hello(), hello());
        let mut client = Self {
            profile,
            variant,
            plan,
            conn,
            pending: VecDeque::new(),
            hold_c2,
            held_c2: None,
            c2_taken: false,
            c2_written: false,
            received: 0,
            last_read: Duration::ZERO,
            step: Step::Handshake,
            deadline: None,
            transcript: Transcript::new(),
            observations: Observations::default(),
            findings: Vec::new(),
            informational: false,
            non_strict: false,
            connected_after: None,
            result: None,
            reset: false,
            stage: Stage::Handshake,
            now: Duration::ZERO,
            stall: None,
            server_csids: Vec::new(),
            release_replies: 0,
            met: Vec::new(),
        };
        client.schedule_hello(c0, c1);
        client.pump();
        client
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// TCP_NODELAY: the profile's, and always for one byte per write.
    pub fn nodelay(&self) -> bool {
        self.profile.nodelay || self.variant == Variant::Bytewise
    }

    /// The stage last written or waited in.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The case is over: nothing more to write or read.
    pub fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    /// The client ends by resetting the connection (it aborted or crashed), not closing it.
    pub fn wants_reset(&self) -> bool {
        self.reset
    }

    /// The transcript so far (a driver that shows it live prints what was added since it
    /// last looked; [`Self::outcome`] adds the verdict's own line).
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The driver's transport is up (for the transcript).
    pub fn connected(&mut self, now: Duration, client: String, server: String) {
        self.now = now;
        self.event(EventKind::Connected { client, server });
    }

    /// Ctrl-C or SIGTERM stopped the attempt: it ends now, with the verdict of what happened
    /// until then (TIMEOUT), saying at which stage and for what the client was waiting.
    pub fn interrupt(&mut self, now: Duration) {
        self.now = now;
        if self.is_finished() {
            return;
        }
        let connected = self
            .transcript
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Connected { .. }));
        let (stage, where_) = if !connected {
            (Stage::Tcp, "before the TCP connection was made".to_string())
        } else if self.conn.is_handshaking() {
            let got: usize = self.observations.handshake_reads.iter().sum();
            (
                Stage::Handshake,
                format!(
                    "during the handshake, while the client waited for S0+S1+S2 ({got} of 3073 \
                     bytes had arrived)"
                ),
            )
        } else {
            let stage = self.stage;
            let awaited = self.step.awaited();
            let where_ = if awaited.is_empty() {
                format!("during {stage}")
            } else {
                format!("during {stage}, while the client waited for {awaited}")
            };
            (stage, where_)
        };
        self.fail(stop(
            Status::Timeout,
            stage,
            DiagnosticId::CaseInterrupted,
            format!(
                "interrupted (Ctrl-C or SIGTERM) {:.3} s into the attempt, {where_}",
                now.as_secs_f64()
            ),
        ));
    }

    /// Ends the case for a reason outside the connection (a TCP connect that failed, a write
    /// the server refused, the whole case's time limit).
    pub fn abort(&mut self, now: Duration, reason: Stop) {
        self.now = now;
        self.fail(reason);
    }

    /// A finding outside the connection that does not change the verdict (a pcap file that
    /// could not be written).
    pub fn note(&mut self, id: DiagnosticId, message: String) {
        self.findings.push(Finding { id, message });
    }

    /// One read from the server.
    pub fn handle_read(&mut self, now: Duration, bytes: Bytes) {
        self.now = now;
        if self.is_finished() || bytes.is_empty() {
            return;
        }
        let len = bytes.len();
        if self.stall.is_some() {
            // Taken in by no one, but read from the wire all the same.
            if self.conn.is_handshaking() {
                self.event(EventKind::Segment {
                    direction: Direction::ServerToClient,
                    len,
                });
            }
            self.received += len;
            return;
        }
        if self.conn.is_handshaking() {
            self.observations.handshake_reads.push(len);
            let gap = now.saturating_sub(self.last_read);
            self.observations
                .handshake_read_gaps_ms
                .push(gap.as_secs_f64() * 1000.0);
            self.last_read = now;
            self.event(EventKind::Segment {
                direction: Direction::ServerToClient,
                len,
            });
            if self.observations.handshake_reads.len() == 1
                && len < S0_S1_LEN
                && self.split_first_read(len) == Met::Stops
            {
                return;
            }
            if let Some(p) = self.pending.front_mut() {
                if matches!(p.gate, Gate::FirstRead { .. }) {
                    p.gate = Gate::Now;
                    self.diagnostic(
                        DiagnosticId::HsS0BeforeC1,
                        "the server wrote S0 before C1 was sent",
                    );
                }
            }
        }
        self.received += len;
        self.conn.handle_read(now, bytes);
        self.pump();
    }

    /// The server closed its side.
    pub fn handle_eof(&mut self, now: Duration) {
        self.now = now;
        if self.is_finished() {
            return;
        }
        if matches!(self.pending.front(), Some(p) if matches!(p.gate, Gate::FirstRead { .. })) {
            self.fail(stop(
                Status::Fail,
                Stage::Handshake,
                DiagnosticId::HsClosedAfterC0,
                "the server closed the connection after C0",
            ));
            return;
        }
        self.conn.handle_eof(now);
        self.pump();
    }

    /// Reading failed: the server reset the connection.
    pub fn handle_reset(&mut self, now: Duration, error: &str) {
        self.now = now;
        if self.is_finished() {
            return;
        }
        let reason = if self.conn.is_handshaking() {
            stop(
                Status::Fail,
                Stage::Handshake,
                DiagnosticId::HsReset,
                format!("the server reset the connection during the handshake: {error}"),
            )
        } else {
            self.step.on_reset(self.stage, error)
        };
        self.end_of_server(reason);
    }

    /// When the next write is due or a wait runs out; None: nothing until the server speaks.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.is_finished() {
            return None;
        }
        let gate = self.pending.front().map(|p| match p.gate {
            Gate::Now => Duration::ZERO,
            Gate::At(t) => t,
            Gate::FirstRead { deadline } => deadline,
        });
        let handshake = (self.conn.is_handshaking() && self.c1_written())
            .then_some(self.plan.handshake_timeout);
        let stall = self.stall.as_ref().map(|(at, _)| *at);
        [gate, handshake, self.deadline, self.step.next_due(), stall]
            .into_iter()
            .flatten()
            .min()
    }

    /// The time has come (or passed) for what [`Self::poll_timeout`] named.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.now = now;
        if self.is_finished() {
            return;
        }
        if let Some((at, _)) = &self.stall {
            if now >= *at {
                if let Some((_, stop)) = self.stall.take() {
                    self.fail(stop);
                }
                return;
            }
            if self.deadline.is_none_or(|d| now < d) {
                return;
            }
        }
        if let Some(p) = self.pending.front_mut() {
            if matches!(p.gate, Gate::FirstRead { deadline } if now >= deadline) {
                p.gate = Gate::Now;
                self.informational = true;
                let message = "the server waited for C1 before writing S0, which the specification allows (a server MUST wait for C0 and MAY wait for C1)";
                self.diagnostic(DiagnosticId::HsServerWaitsForC1, message);
                self.note(DiagnosticId::HsServerWaitsForC1, message.into());
            }
        }
        if self.conn.is_handshaking() && self.c1_written() && now >= self.plan.handshake_timeout {
            let got: usize = self.observations.handshake_reads.iter().sum();
            let hint = if self.c2_written || got < S0_S1_LEN {
                ""
            } else {
                " (the server may be waiting for C2, which this client sends only after S2)"
            };
            self.fail(stop(
                Status::Timeout,
                Stage::Handshake,
                DiagnosticId::HsTimeout,
                format!(
                    "the handshake did not complete within {:?}: {got} of 3073 server bytes arrived{hint}",
                    self.plan.handshake_timeout
                ),
            ));
            return;
        }
        self.step_time(now);
    }

    /// The next write whose time has come.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Transmit> {
        self.now = now;
        if self.is_finished() {
            return None;
        }
        let front = self.pending.front()?;
        match front.gate {
            Gate::Now => {}
            Gate::At(t) if t <= now => {}
            _ => return None,
        }
        let p = self.pending.pop_front()?;
        if p.c1 {
            self.c1_due();
            if self.is_finished() {
                return None;
            }
            self.last_read = now;
        }
        if p.segment {
            self.event(EventKind::Segment {
                direction: Direction::ClientToServer,
                len: p.bytes.len(),
            });
        }
        for message in p.messages {
            self.event(message);
        }
        let stage = if p.handshake {
            Stage::Handshake
        } else {
            self.stage
        };
        Some(Transmit {
            bytes: p.bytes,
            stage,
        })
    }

    /// C0 and C1 have both been handed out.
    fn c1_written(&self) -> bool {
        !self.pending.iter().any(|p| p.c1)
    }

    /// The case's result; call once [`Self::is_finished`] (a case ended earlier is reported as
    /// having run out of time).
    pub fn outcome(mut self, duration: Duration) -> Outcome {
        let result = self.result.take().unwrap_or_else(|| {
            Err(stop(
                Status::Timeout,
                self.stage,
                DiagnosticId::CaseTimeout,
                "the case was ended before it finished",
            ))
        });
        let (status, stage) = match result {
            Ok(()) if self.informational => (Status::Informational, None),
            Ok(()) if self.non_strict => (Status::NonStrict, None),
            Ok(()) => (Status::Pass, None),
            Err(s) => {
                self.diagnostic(s.id, &s.message);
                self.findings.push(Finding {
                    id: s.id,
                    message: s.message,
                });
                (s.status, Some(s.stage))
            }
        };
        Outcome {
            status,
            stage,
            diagnosis: self.findings,
            observations: self.observations,
            transcript: self.transcript,
            duration,
            connected_after: self.connected_after,
            met: self.met,
        }
    }

    // ----- the connection's events -----

    /// Takes the connection's events and writes until it has none.
    fn pump(&mut self) {
        loop {
            if self.stall.is_some() {
                return;
            }
            self.collect_writes();
            if self.is_finished() {
                return;
            }
            let Some(event) = self.conn.poll_event() else {
                return;
            };
            self.on_event(event);
        }
    }

    /// Moves the connection's writes (C2, then messages) into the queue.
    fn collect_writes(&mut self) {
        while let Some(t) = self.conn.poll_transmit(self.now) {
            if !t.packets.is_empty() {
                self.c2_taken = true;
                self.observations.s2_before_c2 = Some(!self.conn.is_handshaking());
                if self.hold_c2 {
                    self.held_c2 = Some(t.bytes);
                } else {
                    self.c2_written = true;
                    self.queue_handshake(Gate::Now, t.bytes, false);
                }
                continue;
            }
            let messages = shown(&t.messages).collect();
            self.pending
                .push_back(Pending::messages(t.bytes, false, messages));
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Handshake(e) => self.on_handshake(e),
            Event::Established { .. } => self.start_connect(),
            Event::Message { raw, decoded } => {
                if let Ok(m) = decoded {
                    self.on_message(&raw, &m);
                }
            }
            // A client that reads a zeroed opening does so silently; the server still broke
            // the specification there, so the case is NON-STRICT.
            Event::Diagnostic(Diagnostic {
                kind: DiagnosticKind::OpenedFromZeroState { csid, fmt },
                ..
            }) => {
                let deviation = tolerate::opened_without_type0(fmt);
                let reading = match resolved(&self.profile, deviation) {
                    Reaction::Accept | Reaction::Warn => format!(
                        "; {} takes the missing fields from zeroed state (message stream 0, \
                         timestamp 0), as the real client does",
                        self.profile.name
                    ),
                    _ => String::new(),
                };
                let id = if resolved(&self.profile, deviation) == Reaction::Fail {
                    DiagnosticId::ChunkError
                } else {
                    DiagnosticId::ChunkOpenedFromZeroState
                };
                let message = format!(
                    "the server opened chunk stream {csid} with a type-{fmt} header and no type 0 \
                     before it{reading}"
                );
                self.meet(deviation, id, message, true);
            }
            Event::Diagnostic(d) => {
                self.event(read_diagnostics::event(&d));
                if let DiagnosticKind::ExtendedTimestamps { csid, convention } = d.kind {
                    self.met_extended_timestamps(csid, convention);
                }
            }
            Event::Closed(reason) => self.on_closed(reason),
            Event::Chunk(_) | Event::Control(_) => {}
        }
    }

    // ----- sending -----

    /// Sends a message as one write, after `prefix` (a held C2) when given: a write that
    /// carries handshake bytes is a segment of the transcript, whatever else it carries.
    fn send(&mut self, message: RawMessage, prefix: Option<Bytes>) {
        self.conn.send(message);
        let segment = prefix.is_some();
        let mut out = BytesMut::new();
        if let Some(p) = prefix {
            out.extend_from_slice(&p);
        }
        let mut messages = Vec::new();
        while let Some(t) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&t.bytes);
            messages.extend(shown(&t.messages));
        }
        self.pending
            .push_back(Pending::messages(out.freeze(), segment, messages));
    }

    // ----- bookkeeping -----

    fn event(&mut self, kind: EventKind) {
        self.transcript.push(self.now.as_micros() as u64, kind);
    }

    fn diagnostic(&mut self, id: DiagnosticId, text: &str) {
        self.event(EventKind::diagnostic(id, text));
    }

    /// A deviation that does not stop the case but makes it NON-STRICT.
    fn deviation(&mut self, id: DiagnosticId, message: String) {
        self.diagnostic(id, &message);
        self.note(id, message);
        self.non_strict = true;
    }

    fn fail(&mut self, reason: Stop) {
        self.finish(Err(reason));
    }

    fn finish(&mut self, result: Result<(), Stop>) {
        if self.result.is_none() {
            self.result = Some(result);
            self.step = Step::Done;
            self.deadline = None;
            self.stall = None;
            self.pending.clear();
            self.conn.close();
        }
    }
}

#[cfg(test)]
mod tests;
