//! One server connection: the reference server's application logic (connect, publish, play
//! and what they ask of other connections) over a sans-IO [`Connection`], which does the
//! handshake, the chunk stream and protocol control (acknowledgements, ping, chunk sizes).
//! (One file past 600 lines: the session's state and what each event does to it; its commands
//! are in `commands`.)
//!
//! The driver feeds what it read ([`ServerSession::handle_read`]) and writes what
//! [`ServerSession::poll_transmit`] hands out, one `write` call per item, because how the
//! server's handshake bytes are grouped into writes is exactly what personalities differ in (a
//! group a personality's pause holds back is due at [`ServerSession::next_transmit_at_us`]).
//! Transcript events come out of [`ServerSession::poll_event`], in the order of the wire: a
//! read's at the read's time, a write's (its segment during the handshake, the messages it
//! carries) at the time the driver took it, and the close after the last write; things that
//! involve other connections (claiming a stream name, playing a stream) come out of
//! [`ServerSession::poll_action`] for the driver to resolve through the [`super::hub::Hub`].

use super::personality::{C2Check, FirstWrite, Personality, PlayAnswer, PublishAnswer};
use crate::media::MediaStats;
use crate::protocol::chunk::{
    ChunkLimits, ExtendedTimestampConvention, MidMessageHeaders, RawMessage,
};
use crate::protocol::connection::{
    self, CloseReason, Connection, ConnectionConfig, ConnectionError, DiagnosticKind, Event,
    HandshakeWrites, SentBy,
};
use crate::protocol::handshake::{HandshakeEvent, Packet};
use crate::protocol::message::{self, Message, MessageError, UserControl};
use crate::protocol::random::RandomSource;
use crate::transcript::DiagnosticId;
use crate::transcript::{read_diagnostics, CloseCause, Direction, EventKind, MessageEvent, Side};
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::Duration;

/// Settings of the server that are not about the handshake.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    pub personality: Personality,
    /// Chunk size the server announces after connect (Set Chunk Size).
    pub chunk_size: u32,
    /// Window Acknowledgement Size the server announces, and Set Peer Bandwidth's size.
    pub window_ack_size: u32,
    pub limits: ChunkLimits,
    /// Record reads, writes, handshake observations and messages as events. Off, only
    /// diagnostics, media summaries and the close are: formatting every message is most of the
    /// session's own work when nobody reads the lines (`serve --quiet` under load).
    pub detailed_transcript: bool,
    pub timeouts: Timeouts,
    /// Close on a chunk stream violation the server can read through (see
    /// [`closes_when_strict`]); by default it is named and the session goes on, as nginx-rtmp
    /// goes on.
    pub strict: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            personality: super::personality::by_name("reference").expect("reference exists"),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            limits: ChunkLimits::default(),
            detailed_transcript: true,
            timeouts: Timeouts::default(),
            strict: false,
        }
    }
}

/// How long the server waits for a client. The session keeps the time as the microseconds the
/// driver passes in, so the tokio driver and the fuzz target run the same timeout logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// From the start of the connection to the end of the handshake.
    pub handshake: Duration,
    /// After the handshake, since the last thing that happened on the connection (a read, or
    /// media or the end of a stream reaching a player).
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            handshake: Duration::from_secs(10),
            idle: Duration::from_secs(30),
        }
    }
}

/// What a session needs the driver to do with other connections.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// The client asked to publish `name` on message stream `stream_id`; answer with
    /// [`ServerSession::publish_result`].
    Publish { name: String, stream_id: u32 },
    /// The client stopped publishing `name`.
    Unpublish { name: String },
    /// The client asked to play `name` on `stream_id`; answer with [`ServerSession::play_started`].
    Play { name: String, stream_id: u32 },
    /// The client stopped playing.
    StopPlaying,
    /// Media or metadata for the players of `name`, already rewritten for no particular player.
    Media { name: String, message: RawMessage },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    Messages,
    Closed,
}

/// A published stream of this connection.
#[derive(Debug)]
struct Publishing {
    name: String,
    stats: MediaStats,
    /// Whether the hub accepted the name (media before the answer is still counted).
    accepted: bool,
}

/// One server-side connection.
pub struct ServerSession {
    config: SessionConfig,
    phase: Phase,
    connection: Connection,
    events: VecDeque<(u64, EventKind)>,
    actions: VecDeque<Action>,
    now_us: u64,
    next_stream_id: u32,
    created_streams: Vec<u32>,
    publishing: Option<Publishing>,
    playing: Option<(String, u32)>,
    close_reason: Option<CloseCause>,
    /// Whether the close is in the transcript: it goes after the last write.
    close_reported: bool,
    /// The driver gave up writing (a write failed): what is left will never go.
    output_abandoned: bool,
    /// Whether output waiting for an Acknowledgement was reported (once).
    reported_withheld: bool,
    /// For each message the session sent and the connection has not yet handed out, in order,
    /// whether the transcript shows it (forwarded media does not); kept only with
    /// [`SessionConfig::detailed_transcript`].
    sent_shown: VecDeque<bool>,
}

/// Where the session stands; its connection and queues are left out.
impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("phase", &self.phase)
            .field("now_us", &self.now_us)
            .field("created_streams", &self.created_streams)
            .field("publishing", &self.publishing)
            .field("playing", &self.playing)
            .field("close_reason", &self.close_reason)
            .finish_non_exhaustive()
    }
}

/// The connection a personality and the server's settings describe.
fn connection_config(config: &SessionConfig) -> ConnectionConfig {
    let p = &config.personality;
    let mut c = ConnectionConfig::server(p.handshake.clone());
    c.writes = HandshakeWrites {
        groups: p.write_groups,
        pauses: p.group_pauses,
        wait_for_peer_hello: p.first_write == FirstWrite::AfterC1,
        answer_after_peer_answer: p.s2_after_c2,
    };
    c.limits = config.limits.clone();
    // A server that announces a chunk size takes it back: FFmpeg publishing answers Set Chunk
    // Size with the same size (rtmpproto.c handle_chunk_size()).
    if let Some(announced) = p.replies.chunk_size {
        c.limits.max_chunk_size = c.limits.max_chunk_size.max(announced);
    }
    c.timeouts = connection::Timeouts {
        handshake: Some(config.timeouts.handshake),
        idle: Some(config.timeouts.idle),
    };
    // Acknowledge by our own window until the client announces one (nginx-rtmp does the
    // same); some encoders throttle when no acknowledgements come. Not by a tiny enforced
    // window: acknowledging a publisher every few hundred bytes is another deviation.
    c.ack_by_own_window = p.replies.strict_ack_window.is_none();
    c.withhold_past_own_window = p.replies.strict_ack_window.is_some();
    c.chunk_opening = p.chunk_opening;
    c.timestamp_offset = p.chunk_timestamps.offset;
    c.full_headers = p.chunk_timestamps.full_headers;
    c.tolerance.extended_timestamp = p.chunk_timestamps.type3;
    // The client's chunk stream is read through what real servers read through (nginx-rtmp
    // starts every chunk stream from zeroed state and goes on with a partial message under a
    // repeated header), each time named; --strict then closes (see `closes_when_strict`).
    c.tolerance.zero_state_start = true;
    c.tolerance.mid_message_headers = MidMessageHeaders::ContinueSameLength;
    c
}

/// The chunk stream violations the server reads through by default and closes on with
/// `--strict`, each named by its diagnostic before either. Bytes that cannot be framed at all
/// (`chunk.error`) close the session either way.
pub fn closes_when_strict(kind: &DiagnosticKind) -> bool {
    match kind {
        // A chunk stream opened with a type 1, 2 or 3 header (5.3.1.2).
        DiagnosticKind::OpenedFromZeroState { .. }
        // A type 0, 1 or 2 header in the middle of a message, its length repeated or not
        // (5.3.1.2.4).
        | DiagnosticKind::MidMessageHeader { .. }
        | DiagnosticKind::PartialMessageDropped { .. } => true,
        // Type-3 chunks that leave out the extended timestamp the 2012 text repeats (5.3.1.3).
        DiagnosticKind::ExtendedTimestamps { convention, .. } => {
            *convention == ExtendedTimestampConvention::Omit
        }
        _ => false,
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

impl ServerSession {
    pub fn new(config: SessionConfig, rng: RandomSource) -> Self {
        Self {
            phase: Phase::Handshake,
            connection: Connection::new(connection_config(&config), rng),
            events: VecDeque::new(),
            actions: VecDeque::new(),
            now_us: 0,
            next_stream_id: 1,
            created_streams: Vec::new(),
            publishing: None,
            playing: None,
            close_reason: None,
            close_reported: false,
            output_abandoned: false,
            reported_withheld: false,
            sent_shown: VecDeque::new(),
            config,
        }
    }

    /// Whether the driver should disable Nagle's algorithm on this connection.
    pub fn nodelay(&self) -> bool {
        self.config.personality.nodelay
    }

    /// True until the handshake has completed (the driver applies the handshake timeout).
    pub fn in_handshake(&self) -> bool {
        self.phase == Phase::Handshake
    }

    /// Why the session ended, once it has; the driver then closes the socket.
    pub fn close_reason(&self) -> Option<&CloseCause> {
        self.close_reason.as_ref()
    }

    /// The time (in the driver's microseconds since the connection started) at which the
    /// session times out unless something happens first; None once it is closed.
    pub fn deadline_us(&self) -> Option<u64> {
        if self.phase == Phase::Closed {
            return None;
        }
        self.connection.timeout_deadline().map(micros)
    }

    /// The driver's timer fired: closes the session if its deadline has passed.
    pub fn handle_timer(&mut self, now_us: u64) {
        if self.phase == Phase::Closed {
            return;
        }
        self.now_us = self.now_us.max(now_us);
        self.connection
            .handle_timeout(Duration::from_micros(now_us));
        self.drain();
    }

    fn activity(&mut self, now_us: u64) {
        // Never backwards: a write the driver made after a pause may be later than the media
        // another connection hands over.
        self.now_us = self.now_us.max(now_us);
        self.connection.note_activity(Duration::from_micros(now_us));
    }

    /// Takes the bytes of one read from the client: the buffer the driver read into, which the
    /// connection slices rather than copies.
    pub fn handle_read(&mut self, now_us: u64, bytes: Bytes) {
        self.activity(now_us);
        if self.phase == Phase::Closed || bytes.is_empty() {
            return;
        }
        // Reads and writes are the story of the handshake; after it, the messages tell it.
        if self.phase == Phase::Handshake && self.config.detailed_transcript {
            self.event(EventKind::Segment {
                direction: Direction::ClientToServer,
                len: bytes.len(),
            });
        }
        self.connection
            .handle_read(Duration::from_micros(now_us), bytes);
        self.drain();
    }

    /// The client closed its side of the connection.
    pub fn handle_eof(&mut self, now_us: u64) {
        self.activity(now_us);
        if self.phase == Phase::Closed {
            return;
        }
        self.connection.handle_eof(Duration::from_micros(now_us));
        self.drain();
    }

    /// Bytes held for the client in partial messages and unread input.
    pub fn held_bytes(&self) -> usize {
        self.connection.held()
    }

    /// Ends the session for a reason reported as an error diagnostic before the close (a
    /// handshake or chunk stream error, or a server-wide limit the driver found).
    pub fn refuse(&mut self, id: DiagnosticId, text: String, reason: CloseCause) {
        if self.phase == Phase::Closed {
            return;
        }
        self.diagnostic(id, text);
        self.close(reason);
    }

    /// Ends the session for a reason decided outside (timeout, shutdown).
    pub fn close(&mut self, reason: CloseCause) {
        if self.phase == Phase::Closed {
            return;
        }
        let backlog = self.connection.output_backlog();
        if backlog.withheld_messages > 0 {
            self.diagnostic(
                DiagnosticId::AckStalled,
                format!(
                    "{} messages ({} bytes) were never sent: the client acknowledged {} of the {} \
                     bytes sent, and this personality sends nothing while more than its window \
                     of {} bytes is unacknowledged",
                    backlog.withheld_messages,
                    backlog.withheld_bytes,
                    backlog.acknowledged,
                    backlog.sent,
                    backlog.window.unwrap_or_default()
                ),
            );
        }
        self.connection.close();
        self.stop_publishing();
        if self.playing.take().is_some() {
            self.actions.push_back(Action::StopPlaying);
        }
        self.phase = Phase::Closed;
        self.close_reason = Some(reason);
        self.report_close();
    }

    /// A write failed (or timed out): the session closes for `reason` unless it had closed
    /// already, and nothing it still had to write will go.
    pub fn write_failed(&mut self, now_us: u64, reason: CloseCause) {
        self.now_us = self.now_us.max(now_us);
        self.output_abandoned = true;
        self.close(reason);
        self.report_close();
    }

    /// The close goes into the transcript once the last write has gone (an answer written
    /// before the close, such as nginx-rtmp's StreamNotFound, crosses the wire first).
    fn report_close(&mut self) {
        let Some(reason) = &self.close_reason else {
            return;
        };
        if self.close_reported || (self.connection.has_transmit() && !self.output_abandoned) {
            return;
        }
        self.close_reported = true;
        let reason = reason.clone();
        self.event(EventKind::Closed { reason });
    }

    /// The next write whose time has come by `now_us`, taken to be made then: its events (its
    /// segment during the handshake, the messages it carries) are recorded at `now_us`.
    /// Handshake writes always come alone; messages after the handshake that are ready together
    /// come as one write: how they are grouped is no personality's business, and one system
    /// call instead of one per message is most of a short connection's cost under load.
    pub fn poll_transmit(&mut self, now_us: u64) -> Option<Bytes> {
        let transmit = self
            .connection
            .poll_transmit(Duration::from_micros(now_us))?;
        self.now_us = self.now_us.max(now_us);
        if self.config.detailed_transcript {
            // Reads and writes are the story of the handshake; after it, the messages tell it.
            if !transmit.packets.is_empty() {
                self.event(EventKind::Segment {
                    direction: Direction::ServerToClient,
                    len: transmit.bytes.len(),
                });
            }
            for sent in &transmit.messages {
                let shown = match sent.by {
                    SentBy::Application => self.sent_shown.pop_front().unwrap_or(true),
                    SentBy::Connection => true,
                };
                if shown {
                    self.record_sent(&sent.message);
                }
            }
        }
        self.report_close();
        Some(transmit.bytes)
    }

    /// Whether [`Self::poll_transmit`] has a write to hand out, now or after a pause.
    pub fn has_transmit(&self) -> bool {
        self.connection.has_transmit()
    }

    /// When the next write a personality's pause holds back is due (in the driver's
    /// microseconds); None when none waits. A driver that pauses as the real server does sleeps
    /// until then and calls [`Self::poll_transmit`] again.
    pub fn next_transmit_at_us(&self) -> Option<u64> {
        self.connection.next_transmit_at().map(micros)
    }

    pub fn poll_event(&mut self) -> Option<(u64, EventKind)> {
        self.events.pop_front()
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The hub's answer to [`Action::Publish`].
    pub fn publish_result(&mut self, stream_id: u32, accepted: bool) {
        let Some(publishing) = self.publishing.as_mut() else {
            return;
        };
        let name = publishing.name.clone();
        if accepted {
            publishing.accepted = true;
            self.send(message::user_control(UserControl::StreamBegin(stream_id)));
            if self.config.personality.replies.publish_answer == PublishAnswer::NoStatus {
                return;
            }
            self.send(message::on_status(
                stream_id,
                "status",
                "NetStream.Publish.Start",
                &format!("{name} is now published."),
            ));
        } else {
            self.publishing = None;
            // Media sent along with the refused publish belongs to no stream here; queued, it
            // would reach the players of the connection that does publish the name.
            self.actions
                .retain(|a| !matches!(a, Action::Media { name: n, .. } if *n == name));
            self.diagnostic(
                DiagnosticId::CmdPublishBadName,
                format!("'{name}' is already being published; answered NetStream.Publish.BadName"),
            );
            self.send(message::on_status(
                stream_id,
                "error",
                "NetStream.Publish.BadName",
                &format!("{name} is already being published."),
            ));
        }
    }

    /// The hub's answer to [`Action::Play`]: what the stream has so far (None: not live yet; the
    /// player waits for a publisher).
    pub fn play_started<'a>(
        &mut self,
        stream_id: u32,
        start: Option<impl Iterator<Item = &'a RawMessage>>,
    ) {
        // The client may have gone in the same read that asked to play: write nothing more.
        if self.phase == Phase::Closed {
            return;
        }
        let name = self
            .playing
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        if self.config.personality.replies.play_answer == PlayAnswer::StreamNotFound {
            // nginx-rtmp (idle_streams off) answers and ends the session.
            self.send(message::on_status(
                stream_id,
                "error",
                "NetStream.Play.StreamNotFound",
                &format!("No such stream: {name}."),
            ));
            self.close(CloseCause::StreamNotFound {
                personality: self.config.personality.name.to_string(),
            });
            return;
        }
        self.send(message::user_control(UserControl::StreamBegin(stream_id)));
        if self.config.personality.replies.play_answer != PlayAnswer::NoStatus {
            self.send(message::on_status(
                stream_id,
                "status",
                "NetStream.Play.Reset",
                &format!("Playing and resetting {name}."),
            ));
            self.send(message::on_status(
                stream_id,
                "status",
                "NetStream.Play.Start",
                &format!("Started playing {name}."),
            ));
            self.send(message::sample_access(stream_id));
        }
        match start {
            Some(messages) => {
                for m in messages {
                    self.forward_media(m);
                }
            }
            None => self.diagnostic(
                DiagnosticId::PlayWaiting,
                format!("'{name}' is not published yet; the player waits for a publisher"),
            ),
        }
    }

    /// The stream this connection plays stopped being published: tell the player, as nginx-rtmp
    /// does (StreamEOF and NetStream.Play.UnpublishNotify); it may wait for the next publisher.
    pub fn stream_ended(&mut self, now_us: u64) {
        if self.phase == Phase::Closed {
            return;
        }
        self.activity(now_us);
        let Some((name, stream_id)) = self.playing.clone() else {
            return;
        };
        self.send(message::user_control(UserControl::StreamEof(stream_id)));
        self.send(message::on_status(
            stream_id,
            "status",
            "NetStream.Play.UnpublishNotify",
            &format!("{name} is now unpublished."),
        ));
    }

    /// Forwards media from a publisher to this player, on the player's message stream.
    pub fn send_media(&mut self, now_us: u64, message: &RawMessage) {
        if self.phase == Phase::Closed {
            return;
        }
        self.activity(now_us);
        self.forward_media(message);
    }

    fn forward_media(&mut self, message: &RawMessage) {
        let Some((_, stream_id)) = self.playing else {
            return;
        };
        let csid = match message.type_id {
            8 => 4,
            9 => 6,
            _ => 5,
        };
        self.send_quiet(RawMessage {
            csid,
            stream_id,
            ..message.clone()
        });
    }

    // ----- what the connection reports -----

    /// Handles the connection's events until it has none or the session has closed (what the
    /// client sent after that is not read).
    fn drain(&mut self) {
        while self.phase != Phase::Closed {
            let Some(event) = self.connection.poll_event() else {
                return;
            };
            self.on_event(event);
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Handshake(event) => self.handshake_event(event),
            Event::Established { .. } => self.phase = Phase::Messages,
            Event::Message { raw, decoded } => self.handle_message(raw, decoded),
            Event::Diagnostic(d) => {
                self.event(read_diagnostics::event(&d));
                if self.config.strict && closes_when_strict(&d.kind) {
                    self.close(CloseCause::Strict {
                        id: DiagnosticId::from(&d),
                        text: d.to_string(),
                    });
                }
            }
            Event::Closed(reason) => self.connection_closed(reason),
            Event::Chunk(_) | Event::Control(_) => {}
        }
    }

    fn handshake_event(&mut self, event: HandshakeEvent) {
        if self.config.personality.c2_check == C2Check::Strict && c2_differs_from_s1(&event) {
            self.event(EventKind::handshake_event(&event));
            self.diagnostic(
                DiagnosticId::HsC2NotEchoStrict,
                "C2 does not echo S1 and this personality (strict-c2) closes on that".into(),
            );
            self.close(CloseCause::C2NotEcho);
            return;
        }
        if self.config.detailed_transcript {
            self.event(EventKind::handshake_event(&event));
        }
    }

    fn connection_closed(&mut self, reason: CloseReason) {
        match reason {
            CloseReason::PeerClosed { during_handshake } => self.close(CloseCause::Peer {
                side: Side::Client,
                reset: false,
                during_handshake,
            }),
            CloseReason::Error(ConnectionError::Handshake { error, .. }) => self.refuse(
                DiagnosticId::HsFailed,
                error.to_string(),
                CloseCause::HandshakeFailed(error.to_string()),
            ),
            CloseReason::Error(ConnectionError::Chunk(error)) => self.refuse(
                DiagnosticId::ChunkError,
                error.to_string(),
                CloseCause::ChunkStreamError(error.to_string()),
            ),
            CloseReason::Timeout(timeout) => self.close(CloseCause::Timeout(timeout)),
        }
    }

    // ----- messages -----

    /// A message from the client; protocol control has already been applied by the connection,
    /// which also reports what was odd about the message.
    fn handle_message(&mut self, raw: RawMessage, decoded: Result<Message, MessageError>) {
        let is_media = matches!(raw.type_id, 8 | 9);
        // Media is summarised, not printed frame by frame: an encoder sends thousands.
        if !is_media && self.config.detailed_transcript {
            self.event(EventKind::Message(MessageEvent::new(
                Direction::ClientToServer,
                &raw,
                decoded.as_ref(),
            )));
        }
        match decoded {
            Ok(Message::Command(command)) => self.handle_command(&raw, command),
            Ok(Message::Data { .. }) => self.handle_data(raw),
            Ok(Message::Audio(_) | Message::Video(_)) => self.handle_media(raw),
            _ => {}
        }
    }

    // ----- output -----

    /// Sends a message, recorded in the transcript when the write that carries it is made.
    fn send(&mut self, message: RawMessage) {
        self.send_shown(message, true);
    }

    fn record_sent(&mut self, message: &RawMessage) {
        let decoded = Message::decode(message);
        self.event(EventKind::Message(MessageEvent::new(
            Direction::ServerToClient,
            message,
            decoded.as_ref(),
        )));
    }

    /// Sends a message without a transcript line (forwarded media).
    fn send_quiet(&mut self, message: RawMessage) {
        self.send_shown(message, false);
    }

    fn send_shown(&mut self, message: RawMessage, shown: bool) {
        if self.config.detailed_transcript {
            self.sent_shown.push_back(shown);
        }
        self.connection.send(message);
        // Said here rather than on the connection's event, which is read only with the next
        // input: what made the output wait is being sent now.
        if !self.reported_withheld && self.connection.output_backlog().withheld_messages > 0 {
            self.reported_withheld = true;
            let backlog = self.connection.output_backlog();
            self.diagnostic(
                DiagnosticId::AckOutputWithheld,
                format!(
                    "{} bytes sent are unacknowledged, past the window of {} bytes: what \
                     follows waits for the client's Acknowledgement",
                    backlog.sent - backlog.acknowledged,
                    backlog.window.unwrap_or_default()
                ),
            );
        }
    }

    fn event(&mut self, kind: EventKind) {
        crate::transcript::catalogue::debug_check_event(&kind);
        self.events.push_back((self.now_us, kind));
    }

    fn diagnostic(&mut self, id: DiagnosticId, text: String) {
        self.event(EventKind::diagnostic(id, text));
    }
}

/// Whether a handshake event says C2's random part does not echo S1.
fn c2_differs_from_s1(event: &HandshakeEvent) -> bool {
    matches!(event, HandshakeEvent::Answer { packet: Packet::C2, echo } if !echo.random_matches)
}

mod commands;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod violations;
#[cfg(test)]
mod wire_order;
