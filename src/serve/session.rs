//! One server connection as a sans-IO state machine: handshake, chunk stream, commands, media.
//!
//! The driver feeds what it read ([`ServerSession::handle_read`]) and writes what
//! [`ServerSession::next_write`] hands out, one `write` call per item, because how the server's
//! handshake bytes are grouped into writes is exactly what personalities differ in. Transcript
//! events come out of [`ServerSession::poll_event`]; things that involve other connections
//! (claiming a stream name, playing a stream) come out of [`ServerSession::poll_action`] for the
//! driver to resolve through the [`super::hub::Hub`].

use super::personality::{C2Check, FirstWrite, Personality};
use crate::media::MediaStats;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::ExtendedTimestampConvention;
use crate::protocol::chunk::{
    AckTracker, ChunkLimits, ChunkReader, ChunkWriter, RawMessage, ReadEvent,
};
use crate::protocol::handshake::{Handshake, HandshakeEvent, Packet};
use crate::protocol::message::{self, Command, LimitType, Message, UserControl};
use crate::protocol::random::RandomSource;
use crate::transcript::{Direction, EventKind, MessageEvent, Severity};
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;

/// Settings of the server that are not about the handshake.
#[derive(Debug, Clone)]
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
        }
    }
}

/// How long the server waits for a client. The session keeps the time as the microseconds the
/// driver passes in, so the tokio driver and the fuzz target run the same timeout logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    handshake: Handshake,
    /// Handshake packets produced by the core but not yet written, in S0, S1, S2 order.
    ready: [Option<Bytes>; 3],
    next_group: usize,
    c0_seen: bool,
    c2_seen: bool,
    reader: ChunkReader,
    writer: ChunkWriter,
    acks: AckTracker,
    /// Bytes to write, each one `write` call, with the pause to make before it and whether it
    /// belongs to the handshake.
    writes: VecDeque<(Duration, Bytes, bool)>,
    events: VecDeque<(u64, EventKind)>,
    actions: VecDeque<Action>,
    now_us: u64,
    next_stream_id: u32,
    created_streams: Vec<u32>,
    publishing: Option<Publishing>,
    playing: Option<(String, u32)>,
    close_reason: Option<String>,
    messages_in: u64,
    /// When the connection last saw activity (starts the idle timeout).
    last_activity_us: u64,
}

impl ServerSession {
    pub fn new(config: SessionConfig, rng: RandomSource) -> Self {
        let handshake = Handshake::server(config.personality.handshake.clone(), rng);
        let reader = ChunkReader::new(config.limits.clone());
        Self {
            phase: Phase::Handshake,
            handshake,
            ready: [None, None, None],
            next_group: 0,
            c0_seen: false,
            c2_seen: false,
            reader,
            writer: ChunkWriter::new().with_opening(config.personality.chunk_opening),
            acks: AckTracker::default(),
            writes: VecDeque::new(),
            events: VecDeque::new(),
            actions: VecDeque::new(),
            now_us: 0,
            next_stream_id: 1,
            created_streams: Vec::new(),
            publishing: None,
            playing: None,
            close_reason: None,
            messages_in: 0,
            last_activity_us: 0,
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
    pub fn close_reason(&self) -> Option<&str> {
        self.close_reason.as_deref()
    }

    /// The time (in the driver's microseconds since the connection started) at which the
    /// session times out unless something happens first; None once it is closed.
    pub fn deadline_us(&self) -> Option<u64> {
        let t = &self.config.timeouts;
        match self.phase {
            Phase::Handshake => Some(t.handshake.as_micros() as u64),
            Phase::Messages => Some(
                self.last_activity_us
                    .saturating_add(t.idle.as_micros() as u64),
            ),
            Phase::Closed => None,
        }
    }

    /// The driver's timer fired: closes the session if its deadline has passed.
    pub fn handle_timer(&mut self, now_us: u64) {
        if self.deadline_us().is_none_or(|deadline| now_us < deadline) {
            return;
        }
        self.now_us = now_us;
        let t = self.config.timeouts;
        let reason = if self.phase == Phase::Handshake {
            format!("handshake timeout ({} s)", t.handshake.as_secs_f64())
        } else {
            format!("idle timeout ({} s)", t.idle.as_secs_f64())
        };
        self.close(reason);
    }

    fn activity(&mut self, now_us: u64) {
        self.now_us = now_us;
        self.last_activity_us = now_us;
    }

    /// Takes the bytes of one read from the client.
    pub fn handle_read(&mut self, now_us: u64, bytes: &[u8]) {
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
        if let Some(seq) = self.acks.received(bytes.len() as u64) {
            self.send(message::acknowledgement(seq));
        }
        if self.phase == Phase::Handshake {
            self.handshake_input(bytes);
        } else {
            self.reader.feed(bytes);
        }
        if self.phase == Phase::Messages {
            self.read_messages();
        }
    }

    /// The client closed its side of the connection.
    pub fn handle_eof(&mut self, now_us: u64) {
        self.activity(now_us);
        if self.phase == Phase::Messages {
            // Messages that waited only for a look-ahead the client will no longer send.
            self.reader.end_of_stream();
            self.read_messages();
        }
        let reason = if self.phase == Phase::Handshake {
            self.diagnostic(
                "hs.peer-closed",
                Severity::Error,
                "the client closed the connection during the handshake".into(),
            );
            "client closed during the handshake"
        } else {
            "client closed the connection"
        };
        self.close(reason.into());
    }

    /// Bytes held for the client in partial messages and unread input.
    pub fn held_bytes(&self) -> usize {
        self.reader.held()
    }

    /// Ends the session for a reason reported as an error diagnostic before the close (a
    /// handshake or chunk stream error, or a server-wide limit the driver found).
    pub fn refuse(&mut self, id: &str, text: String, reason: String) {
        if self.phase == Phase::Closed {
            return;
        }
        self.diagnostic(id, Severity::Error, text);
        self.close(reason);
    }

    /// Ends the session for a reason decided outside (timeout, shutdown).
    pub fn close(&mut self, reason: String) {
        if self.phase == Phase::Closed {
            return;
        }
        self.stop_publishing();
        if self.playing.take().is_some() {
            self.actions.push_back(Action::StopPlaying);
        }
        self.phase = Phase::Closed;
        self.event(EventKind::Closed {
            reason: reason.clone(),
        });
        self.close_reason = Some(reason);
    }

    pub fn poll_write(&mut self) -> Option<Bytes> {
        self.next_write().map(|(_, bytes)| bytes)
    }

    /// The next write and how long to pause before it (the personality's measured gaps between
    /// handshake writes; zero otherwise). Handshake writes always come alone; messages after the
    /// handshake that are ready together come as one write: how they are grouped is no
    /// personality's business, and one system call instead of one per message is most of a
    /// short connection's cost under load.
    pub fn next_write(&mut self) -> Option<(Duration, Bytes)> {
        let (pause, first, handshake) = self.writes.pop_front()?;
        let joinable = |w: &(Duration, Bytes, bool)| !w.2 && w.0.is_zero();
        if handshake || !self.writes.front().is_some_and(joinable) {
            return Some((pause, first));
        }
        let mut joined = BytesMut::from(&first[..]);
        while self.writes.front().is_some_and(joinable) {
            if let Some((_, bytes, _)) = self.writes.pop_front() {
                joined.extend_from_slice(&bytes);
            }
        }
        Some((pause, joined.freeze()))
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
                "cmd.publish-bad-name",
                Severity::Warning,
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
        self.send(message::user_control(UserControl::StreamBegin(stream_id)));
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
        match start {
            Some(messages) => {
                for m in messages {
                    self.forward_media(m);
                }
            }
            None => self.diagnostic(
                "play.waiting",
                Severity::Info,
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

    // ----- handshake -----

    fn handshake_input(&mut self, bytes: &[u8]) {
        if !self.c0_seen {
            self.c0_seen = true;
        }
        let result = self.handshake.feed(bytes);
        self.collect_handshake();
        if let Err(error) = result {
            self.refuse(
                "hs.failed",
                error.to_string(),
                format!("handshake failed: {error}"),
            );
            return;
        }
        if self.handshake.is_complete() {
            self.c2_seen = true;
            self.flush_handshake_groups();
            if self.close_reason.is_some() {
                return;
            }
            self.phase = Phase::Messages;
            let rest = self.handshake.take_remaining();
            if !rest.is_empty() {
                self.reader.feed(&rest);
            }
        }
    }

    fn collect_handshake(&mut self) {
        while let Some(t) = self.handshake.poll_transmit() {
            let slot = match t.packet {
                Packet::S0 => 0,
                Packet::S1 => 1,
                Packet::S2 => 2,
                _ => continue,
            };
            self.ready[slot] = Some(t.bytes);
        }
        while let Some(event) = self.handshake.poll_event() {
            let id = event.id();
            if self.config.personality.c2_check == C2Check::Strict && c2_differs_from_s1(&event) {
                self.event(EventKind::Handshake {
                    id: id.to_string(),
                    text: event.to_string(),
                });
                self.diagnostic(
                    "hs.c2-not-echo-strict",
                    Severity::Error,
                    "C2 does not echo S1 and this personality (strict-c2) closes on that".into(),
                );
                self.close("C2 does not echo S1 (strict-c2)".into());
                return;
            }
            if self.config.detailed_transcript {
                self.event(EventKind::Handshake {
                    id: id.to_string(),
                    text: event.to_string(),
                });
            }
        }
        self.flush_handshake_groups();
    }

    /// Writes every group of handshake packets that is complete and allowed by the personality.
    fn flush_handshake_groups(&mut self) {
        let p = &self.config.personality;
        let (groups, first_write, s2_after_c2) = (p.write_groups, p.first_write, p.s2_after_c2);
        while let Some(group) = groups.get(self.next_group) {
            // S1 exists exactly when C1 is complete; once written, its slot is empty again.
            let c1_done = self.ready[1].is_some() || self.next_group > 0;
            if first_write == FirstWrite::AfterC1 && !c1_done {
                return;
            }
            let holds_s2 = group.contains(&Packet::S2);
            if holds_s2 && s2_after_c2 && !self.c2_seen {
                return;
            }
            let slots: Vec<usize> = group
                .iter()
                .map(|packet| match packet {
                    Packet::S0 => 0,
                    Packet::S1 => 1,
                    _ => 2,
                })
                .collect();
            if slots.iter().any(|&s| self.ready[s].is_none()) {
                return;
            }
            let mut out = BytesMut::new();
            for s in slots {
                if let Some(bytes) = self.ready[s].take() {
                    out.extend_from_slice(&bytes);
                }
            }
            let pause = match self.next_group {
                0 => Duration::ZERO,
                n => self
                    .config
                    .personality
                    .group_pauses
                    .get(n - 1)
                    .copied()
                    .unwrap_or_default(),
            };
            self.next_group += 1;
            self.write_after(pause, out.freeze());
        }
    }

    // ----- messages -----

    fn read_messages(&mut self) {
        loop {
            match self.reader.poll() {
                Ok(Some(ReadEvent::Message(raw))) => {
                    self.handle_message(raw);
                    if self.phase == Phase::Closed {
                        return;
                    }
                }
                Ok(Some(ReadEvent::ChunkSizeChanged { from, to })) => self.diagnostic(
                    "chunk.size-changed",
                    Severity::Info,
                    format!("the client's chunk size changed from {from} to {to}"),
                ),
                Ok(Some(ReadEvent::ExtendedTimestampConvention { csid, convention })) => {
                    let (id, severity) = convention_diagnostic(&convention);
                    self.diagnostic(
                        id,
                        severity,
                        format!("chunk stream {csid}: extended timestamps on continuation chunks {convention}"),
                    );
                }
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(error) => {
                    self.refuse(
                        "chunk.error",
                        error.to_string(),
                        format!("chunk stream error: {error}"),
                    );
                    return;
                }
            }
        }
    }

    fn handle_message(&mut self, raw: RawMessage) {
        self.messages_in += 1;
        let decoded = Message::decode(&raw);
        let is_media = matches!(raw.type_id, 8 | 9);
        // Media is summarised, not printed frame by frame: an encoder sends thousands.
        if !is_media && self.config.detailed_transcript {
            self.event(EventKind::Message(MessageEvent::new(
                Direction::ClientToServer,
                &raw,
                decoded.as_ref(),
            )));
        }
        if matches!(raw.type_id, 1..=6) && (raw.csid != 2 || raw.stream_id != 0) {
            self.diagnostic(
                "msg.control-off-csid2",
                Severity::Warning,
                format!(
                    "protocol control message type {} arrived on chunk stream {} / message stream {} (the spec says 2 / 0)",
                    raw.type_id, raw.csid, raw.stream_id
                ),
            );
        }
        let message = match decoded {
            Ok(m) => m,
            Err(error) => {
                self.diagnostic(
                    "msg.undecodable",
                    Severity::Warning,
                    format!("message type {} could not be decoded: {error}", raw.type_id),
                );
                return;
            }
        };
        match message {
            Message::WindowAckSize(size) => self.acks.set_window(size),
            Message::UserControl(UserControl::PingRequest(ts)) => {
                self.send(message::user_control(UserControl::PingResponse(ts)))
            }
            Message::Command(command) => self.handle_command(&raw, command),
            Message::Data { .. } => self.handle_data(raw),
            Message::Audio(_) | Message::Video(_) => self.handle_media(raw),
            _ => {}
        }
    }

    fn handle_command(&mut self, raw: &RawMessage, command: Command) {
        let txn = command.transaction_id;
        let first_arg = || {
            command
                .arguments
                .first()
                .and_then(Amf0Value::as_str)
                .map(str::to_string)
        };
        match command.name.as_str() {
            "connect" => {
                if txn != 1.0 {
                    self.diagnostic(
                        "cmd.connect-txn",
                        Severity::Warning,
                        format!("connect used transaction id {txn}; the spec says it is always 1"),
                    );
                }
                let app = command
                    .command_object
                    .as_ref()
                    .and_then(|o| o.get("app"))
                    .and_then(Amf0Value::as_str);
                if app.is_none() {
                    self.diagnostic(
                        "cmd.connect-no-app",
                        Severity::Warning,
                        "connect carries no 'app' field".into(),
                    );
                }
                self.send(message::window_ack_size(self.config.window_ack_size));
                // Acknowledge by our own window until the client announces one (nginx-rtmp
                // does the same); some encoders throttle when no acknowledgements come.
                if self.acks.window().is_none() {
                    self.acks.set_window(self.config.window_ack_size);
                }
                self.send(message::set_peer_bandwidth(
                    self.config.window_ack_size,
                    LimitType::Dynamic,
                ));
                let chunk_size = self.config.chunk_size;
                self.send(message::set_chunk_size(chunk_size));
                self.writer.set_chunk_size(chunk_size);
                self.send(message::connect_result(txn));
            }
            "releaseStream" | "FCSubscribe" | "getStreamLength" | "_checkbw" => {
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Undefined],
                ));
            }
            "FCPublish" => {
                let name = first_arg().unwrap_or_default();
                self.send(message::on_fc_publish(&name));
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Undefined],
                ));
            }
            "createStream" => {
                let id = self.next_stream_id;
                self.next_stream_id += 1;
                self.created_streams.push(id);
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Number(id as f64)],
                ));
            }
            "publish" => {
                let name = first_arg().unwrap_or_default();
                if name.is_empty() {
                    // Wirecast stops this way instead of FCUnpublish/deleteStream.
                    self.diagnostic(
                        "cmd.publish-empty-name",
                        Severity::Info,
                        "publish with an empty name: the client stops publishing (Wirecast does this)".into(),
                    );
                    self.stop_publishing();
                    return;
                }
                self.check_stream_created(raw.stream_id, "publish");
                self.stop_publishing();
                self.publishing = Some(Publishing {
                    name: name.clone(),
                    stats: MediaStats::default(),
                    accepted: false,
                });
                self.actions.push_back(Action::Publish {
                    name,
                    stream_id: raw.stream_id,
                });
            }
            "play" => {
                let name = first_arg().unwrap_or_default();
                self.check_stream_created(raw.stream_id, "play");
                self.playing = Some((name.clone(), raw.stream_id));
                self.actions.push_back(Action::Play {
                    name,
                    stream_id: raw.stream_id,
                });
            }
            "FCUnpublish" => {
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Undefined],
                ));
                self.stop_publishing();
            }
            "deleteStream" | "closeStream" => {
                self.stop_publishing();
                if self.playing.take().is_some() {
                    self.actions.push_back(Action::StopPlaying);
                }
            }
            other => self.diagnostic(
                "cmd.unknown",
                Severity::Info,
                format!("command '{other}' is not one this server knows; no answer was sent"),
            ),
        }
    }

    fn check_stream_created(&mut self, stream_id: u32, command: &str) {
        if !self.created_streams.contains(&stream_id) {
            self.diagnostic(
                "cmd.stream-not-created",
                Severity::Warning,
                format!(
                    "{command} on message stream {stream_id}, which createStream did not give out"
                ),
            );
        }
    }

    fn handle_data(&mut self, raw: RawMessage) {
        if let Some(p) = &self.publishing {
            let name = p.name.clone();
            self.actions.push_back(Action::Media { name, message: raw });
        }
    }

    fn handle_media(&mut self, raw: RawMessage) {
        let Some(p) = self.publishing.as_mut() else {
            self.diagnostic(
                "media.not-publishing",
                Severity::Warning,
                format!(
                    "media (type {}) arrived while nothing is being published",
                    raw.type_id
                ),
            );
            return;
        };
        p.stats.add(raw.type_id, raw.timestamp, &raw.payload);
        let name = p.name.clone();
        self.actions.push_back(Action::Media { name, message: raw });
    }

    fn stop_publishing(&mut self) {
        if let Some(p) = self.publishing.take() {
            self.event(EventKind::MediaSummary {
                stream: p.name.clone(),
                text: p.stats.to_string(),
            });
            if p.accepted {
                self.actions.push_back(Action::Unpublish { name: p.name });
            } else {
                self.withdraw_publish(&p.name);
            }
        }
    }

    /// Takes back a Publish action the driver has not answered yet, with the media queued after
    /// it: the publication is over, and the hub must not claim the name for a connection that
    /// no longer publishes it (or has closed: the name would stay taken for good).
    fn withdraw_publish(&mut self, name: &str) {
        let request = self
            .actions
            .iter()
            .rposition(|a| matches!(a, Action::Publish { name: n, .. } if n == name));
        if let Some(at) = request {
            let later = self.actions.split_off(at);
            self.actions.extend(
                later
                    .into_iter()
                    .skip(1)
                    .filter(|a| !matches!(a, Action::Media { name: n, .. } if n == name)),
            );
        }
    }

    // ----- output -----

    /// Sends a message and records it in the transcript.
    fn send(&mut self, message: RawMessage) {
        if self.config.detailed_transcript {
            let decoded = Message::decode(&message);
            self.event(EventKind::Message(MessageEvent::new(
                Direction::ServerToClient,
                &message,
                decoded.as_ref(),
            )));
        }
        self.send_quiet(message);
    }

    /// Sends a message without a transcript line (forwarded media).
    fn send_quiet(&mut self, message: RawMessage) {
        let mut out = BytesMut::new();
        self.writer.write(&message, &mut out);
        self.write(out.freeze());
    }

    fn write(&mut self, bytes: Bytes) {
        self.write_after(Duration::ZERO, bytes);
    }

    fn write_after(&mut self, pause: Duration, bytes: Bytes) {
        let handshake = self.phase == Phase::Handshake;
        if handshake && self.config.detailed_transcript {
            self.event(EventKind::Segment {
                direction: Direction::ServerToClient,
                len: bytes.len(),
            });
        }
        self.writes.push_back((pause, bytes, handshake));
    }

    fn event(&mut self, kind: EventKind) {
        self.events.push_back((self.now_us, kind));
    }

    fn diagnostic(&mut self, id: &str, severity: Severity, text: String) {
        self.event(EventKind::Diagnostic {
            id: id.to_string(),
            severity,
            text,
        });
    }
}

/// Whether a handshake event says C2's random part does not echo S1.
fn c2_differs_from_s1(event: &HandshakeEvent) -> bool {
    matches!(event, HandshakeEvent::Answer { packet: Packet::C2, echo } if !echo.random_matches)
}

fn convention_diagnostic(convention: &ExtendedTimestampConvention) -> (&'static str, Severity) {
    match convention {
        ExtendedTimestampConvention::Repeat => ("chunk.ext-ts-type3-repeated", Severity::Info),
        // Readers that follow the 2012 text (FFmpeg among them) lose sync on such streams once
        // timestamps pass 0xFFFFFF (about 4 h 40 min).
        ExtendedTimestampConvention::Omit => ("chunk.ext-ts-type3-omitted", Severity::Warning),
    }
}

#[cfg(test)]
mod tests;
