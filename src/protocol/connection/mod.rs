//! One RTMP connection, either role, without IO: handshake, then chunk stream, with protocol
//! control (acknowledgements, ping, Set Chunk Size, Abort, peer bandwidth) handled here once for
//! every driver. (One file past 600 lines: one state machine and its documented example; the
//! events, writes, transmits and diagnoses are modules of their own.)
//!
//! The shape is quinn-proto's: the driver passes what it read ([`Connection::handle_read`]), the
//! end of the peer's stream ([`Connection::handle_eof`]) and the time ([`Connection::handle_timeout`],
//! at [`Connection::poll_timeout`]); it writes what [`Connection::poll_transmit`] hands out, one
//! write per item, and the application reads [`Connection::poll_event`] and answers with
//! [`Connection::send`]. Time is a [`Duration`] since the connection started, so a simulated
//! clock drives it as well as a real one.
//!
//! # Wire time
//!
//! A transcript is the wire: what was read at the time of the read, what was written at the time
//! of the write. Reads are easy, the driver's `now` comes with them. Writes are not made when
//! they are queued ([`Connection::send`], or our handshake packet once the peer's is in) but
//! when the driver takes them, which can be later: after a personality's measured pause between
//! handshake writes, after our handshake's last write for a message queued during it, after the
//! writes queued before it. So, as in quinn-proto, the write is decided at
//! [`Connection::poll_transmit`]`(now)`: a handshake group whose pause has not passed is not
//! handed out (its time is in [`Connection::poll_timeout`]), and the [`Transmit`] says what it
//! carries (our handshake packets, every message in it, ours or the connection's own), for the
//! application to record at that `now` and in that order. Nothing about our output is an
//! [`Event`]: an event comes out when the application polls, which says nothing of when the
//! bytes left.
//!
//! Messages are read from the chunk stream as [`Connection::poll_event`] asks for them, and a
//! ping is answered when its message is polled: what the application sends in answer to one
//! message goes out before what the connection answers to the next, as a peer reading messages
//! one by one would see it.
//!
//! # Example
//!
//! A client and a server in memory: what one end hands out, the other reads (a driver with a
//! socket writes each transmit and feeds each read the same way, and also calls
//! [`Connection::handle_timeout`] when [`Connection::poll_timeout`] says).
//!
//! ```rust
//! use rtmp_probe::protocol::amf0::Amf0Value;
//! use rtmp_probe::protocol::connection::{Connection, ConnectionConfig, Event};
//! use rtmp_probe::protocol::handshake::{ClientConfig, ServerConfig};
//! use rtmp_probe::protocol::message::{self, Message};
//! use rtmp_probe::protocol::random::RandomSource;
//! use rtmp_probe::transcript::DiagnosticId;
//! use std::time::Duration;
//!
//! let client_config = ConnectionConfig::client(ClientConfig::default());
//! let server_config = ConnectionConfig::server(ServerConfig::default());
//! let mut client = Connection::new(client_config, RandomSource::seeded(1));
//! let mut server = Connection::new(server_config, RandomSource::seeded(2));
//! let now = Duration::ZERO; // time since the connection started: any clock will do
//! let mut seen = Vec::new();
//!
//! for _round in 0..10 {
//!     let mut moved = false;
//!     while let Some(write) = client.poll_transmit(now) {
//!         server.handle_read(now, write.bytes); // any segmentation; `Bytes`, not copied
//!         moved = true;
//!     }
//!     while let Some(write) = server.poll_transmit(now) {
//!         client.handle_read(now, write.bytes);
//!         moved = true;
//!     }
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             // Typed observations of the client's handshake, with catalogue ids.
//!             Event::Handshake(observed) => {
//!                 seen.push(format!("server: {}", DiagnosticId::from(&observed)))
//!             }
//!             Event::Message { decoded: Ok(Message::Command(command)), .. } => {
//!                 seen.push(format!("server: {}", command.name));
//!                 if command.name == "connect" {
//!                     server.send(message::connect_result(command.transaction_id));
//!                 }
//!             }
//!             Event::Diagnostic(d) => seen.push(format!("server: {} {d}", DiagnosticId::from(&d))),
//!             _ => {}
//!         }
//!     }
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::Established { .. } => {
//!                 let app = Amf0Value::object([("app", Amf0Value::string("live"))]);
//!                 client.send(message::command(0, "connect", 1.0, app, vec![]));
//!             }
//!             Event::Message { decoded: Ok(Message::Command(command)), .. } => {
//!                 seen.push(format!("client: {}", command.name));
//!             }
//!             _ => {}
//!         }
//!     }
//!     if !moved {
//!         break;
//!     }
//! }
//! assert_eq!(
//!     seen,
//!     [
//!         "server: hs.c0-version",
//!         "server: hs.c1-fields",
//!         "server: hs.c1-no-digest",
//!         "server: hs.mode-simple",
//!         "server: hs.c2-echo",
//!         "server: connect",
//!         "client: _result",
//!     ]
//! );
//! ```

mod diagnose;
mod event;
mod transmit;
mod writes;

pub use diagnose::{diagnose_message, diagnose_read_event, Acknowledgements};
pub use event::{
    CloseReason, ConnectionError, ControlChange, Diagnostic, DiagnosticKind, Event, Side, Timeout,
};
pub use transmit::{SentBy, SentMessage, Transmit};
pub use writes::HandshakeWrites;

use crate::protocol::chunk::{
    AckCadence, AckTracker, ChunkLimits, ChunkOpening, ChunkReader, ChunkWriter,
    ExtendedTimestampConvention, MidMessageHeaders, RawMessage, ReadEvent,
};
use crate::protocol::handshake::{
    ClientConfig, Handshake, HandshakeError, HandshakeEvent, Packet, ServerConfig, HANDSHAKE_LEN,
    PACKET_LEN,
};
use crate::protocol::message::{self, Message, UserControl};
use crate::protocol::random::RandomSource;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;
use writes::WritePlan;

/// Which side the connection is, with how it makes its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeConfig {
    Server(ServerConfig),
    Client(ClientConfig),
}

impl HandshakeConfig {
    /// The side this handshake is made by.
    pub fn side(&self) -> Side {
        match self {
            HandshakeConfig::Server(_) => Side::Server,
            HandshakeConfig::Client(_) => Side::Client,
        }
    }
}

/// Where real implementations differ in what they accept or send; the defaults are this tool's
/// strict reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tolerance {
    /// Read a chunk stream opened with a type 1, 2 or 3 header from zeroed state, as FFmpeg
    /// and librtmp do, instead of closing with [`crate::protocol::chunk::ChunkError::NoPreviousHeader`].
    pub zero_state_start: bool,
    /// Whether our type-3 chunks repeat the extended timestamp (the peer's convention is
    /// observed, whichever it is).
    pub extended_timestamp: ExtendedTimestampConvention,
    /// Read the peer's type-3 chunks by this convention instead of learning it (None learns):
    /// a real client reads by its own, and misreads a peer with the other.
    pub extended_timestamp_reading: Option<ExtendedTimestampConvention>,
    /// What a type 0, 1 or 2 header in the middle of a message does to it.
    pub mid_message_headers: MidMessageHeaders,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self {
            zero_state_start: false,
            extended_timestamp: ExtendedTimestampConvention::Repeat,
            extended_timestamp_reading: None,
            mid_message_headers: MidMessageHeaders::Restart,
        }
    }
}

/// How long the connection waits for its peer; None waits for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Timeouts {
    /// From the connection's start to the end of the handshake.
    pub handshake: Option<Duration>,
    /// After the handshake, since the last activity (a read, or [`Connection::note_activity`]).
    pub idle: Option<Duration>,
}

/// Everything a connection is told before it starts: start from [`ConnectionConfig::server`] or
/// [`ConnectionConfig::client`] and set what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionConfig {
    pub handshake: HandshakeConfig,
    pub writes: HandshakeWrites,
    /// Bounds on what the peer can make the chunk reader hold (the largest accepted chunk size
    /// among them).
    pub limits: ChunkLimits,
    pub tolerance: Tolerance,
    pub timeouts: Timeouts,
    /// Report every chunk header as [`Event::Chunk`].
    pub chunk_events: bool,
    /// Answer the peer's ping requests.
    pub answer_pings: bool,
    /// Acknowledge by the window we announced ourselves until the peer announces one
    /// (nginx-rtmp does; some encoders throttle when no acknowledgements come).
    pub ack_by_own_window: bool,
    /// Answer Set Peer Bandwidth with a Window Acknowledgement Size of the same size (librtmp).
    pub answer_peer_bandwidth: bool,
    /// How the writer opens a new chunk stream (type 0 as the specification says; servers
    /// that deviate are personalities).
    pub chunk_opening: ChunkOpening,
    /// When we acknowledge what we received.
    pub ack_cadence: AckCadence,
    /// Whether the handshake's bytes count towards acknowledgements (librtmp counts every byte
    /// it reads; FFmpeg and GStreamer count from the chunk stream's first).
    pub ack_counts_handshake: bool,
    /// Send nothing more while the bytes the peer has not acknowledged exceed the window we
    /// announced: messages wait until an Acknowledgement covers them (a strict server).
    pub withhold_past_own_window: bool,
    /// Added to the timestamp of every message we write (a server clocked by an epoch).
    pub timestamp_offset: u32,
    /// Every message we write starts with a type-0 header (SRS) instead of a compressed one.
    pub full_headers: bool,
}

impl ConnectionConfig {
    /// A server answering with `handshake`, everything else this tool's strict defaults.
    pub fn server(handshake: ServerConfig) -> Self {
        Self::new(
            HandshakeConfig::Server(handshake),
            HandshakeWrites::server_default(),
        )
    }

    /// A client opening with `handshake`, everything else this tool's strict defaults.
    pub fn client(handshake: ClientConfig) -> Self {
        Self::new(
            HandshakeConfig::Client(handshake),
            HandshakeWrites::client_default(),
        )
    }

    fn new(handshake: HandshakeConfig, writes: HandshakeWrites) -> Self {
        Self {
            handshake,
            writes,
            limits: ChunkLimits::default(),
            tolerance: Tolerance::default(),
            timeouts: Timeouts::default(),
            chunk_events: false,
            answer_pings: true,
            ack_by_own_window: false,
            answer_peer_bandwidth: false,
            chunk_opening: ChunkOpening::Type0,
            ack_cadence: AckCadence::Window,
            ack_counts_handshake: true,
            withhold_past_own_window: false,
            timestamp_offset: 0,
            full_headers: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Handshake,
    Established,
    Closed,
}

/// One end of an RTMP connection.
pub struct Connection {
    side: Side,
    state: State,
    handshake: Handshake,
    /// Peer bytes given to the handshake so far (at most [`HANDSHAKE_LEN`]).
    handshake_fed: usize,
    plan: WritePlan,
    reader: ChunkReader,
    writer: ChunkWriter,
    acks: AckTracker,
    /// Whether the peer has announced its window (ours no longer stands in for it).
    peer_window: bool,
    /// Our last Window Acknowledgement Size, to answer Set Peer Bandwidth only on a change.
    own_window: Option<u32>,
    answer_pings: bool,
    ack_by_own_window: bool,
    answer_peer_bandwidth: bool,
    timeouts: Timeouts,
    last_activity: Duration,
    /// The peer closed its side; reported once the messages before the end are polled.
    peer_closed: bool,
    events: VecDeque<Event>,
    /// Chunks written since the last transmit, handed out as one write.
    out: BytesMut,
    /// The messages in `out`, in order.
    out_messages: Vec<SentMessage>,
    ack_counts_handshake: bool,
    flow: OutputFlow,
}

/// The connection's state in brief: buffers and the codecs' internals are left out.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("side", &self.side)
            .field("state", &self.state)
            .field("chunk_sizes", &self.chunk_sizes())
            .field("held", &self.held())
            .field("queued_events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// Our output against the peer's acknowledgements, for [`ConnectionConfig::withhold_past_own_window`].
#[derive(Debug, Default)]
struct OutputFlow {
    enabled: bool,
    /// Bytes of the chunk stream written (the handshake's are not counted: FFmpeg, GStreamer
    /// and nginx-rtmp count from the chunk stream's first byte, librtmp from the handshake's,
    /// which only acknowledges more).
    sent: u64,
    /// The peer's Acknowledgements.
    acknowledged: Acknowledgements,
    withheld: VecDeque<(RawMessage, SentBy)>,
    withheld_bytes: usize,
    /// Since when the output has waited without an Acknowledgement letting anything go.
    waiting_since: Option<Duration>,
    /// Whether output was ever withheld (reported once).
    ever_withheld: bool,
}

/// Where a connection's output stands against the peer's acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputBacklog {
    /// Chunk-stream bytes written so far.
    pub sent: u64,
    /// What the peer's latest Acknowledgement covers.
    pub acknowledged: u64,
    /// The window we announced.
    pub window: Option<u32>,
    /// Messages waiting for an Acknowledgement, and their payload bytes.
    pub withheld_messages: usize,
    pub withheld_bytes: usize,
}

impl Connection {
    pub fn new(config: ConnectionConfig, rng: RandomSource) -> Self {
        let side = config.handshake.side();
        let handshake = match config.handshake {
            HandshakeConfig::Server(c) => Handshake::server(c, rng),
            HandshakeConfig::Client(c) => Handshake::client(c, rng),
        };
        let reader = ChunkReader::new(config.limits)
            .with_chunk_events(config.chunk_events)
            .with_zero_state_start(config.tolerance.zero_state_start)
            .with_extended_timestamp_reading(config.tolerance.extended_timestamp_reading)
            .with_mid_message_headers(config.tolerance.mid_message_headers);
        let mut connection = Self {
            side,
            state: State::Handshake,
            handshake,
            handshake_fed: 0,
            plan: WritePlan::new(config.writes),
            reader,
            writer: ChunkWriter::new()
                .with_convention(config.tolerance.extended_timestamp)
                .with_opening(config.chunk_opening)
                .with_timestamp_offset(config.timestamp_offset)
                .with_full_headers(config.full_headers),
            acks: AckTracker::new(config.ack_cadence),
            peer_window: false,
            own_window: None,
            answer_pings: config.answer_pings,
            ack_by_own_window: config.ack_by_own_window,
            answer_peer_bandwidth: config.answer_peer_bandwidth,
            timeouts: config.timeouts,
            last_activity: Duration::ZERO,
            peer_closed: false,
            events: VecDeque::new(),
            out: BytesMut::new(),
            out_messages: Vec::new(),
            ack_counts_handshake: config.ack_counts_handshake,
            flow: OutputFlow {
                enabled: config.withhold_past_own_window,
                ..OutputFlow::default()
            },
        };
        // A client's C0 and C1 exist from the start.
        connection.collect_handshake(Duration::ZERO);
        connection
    }

    pub fn side(&self) -> Side {
        self.side
    }

    pub fn is_handshaking(&self) -> bool {
        self.state == State::Handshake
    }

    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Whether our handshake answer (C2) was signed rather than an echo of S1.
    pub fn answer_signed(&self) -> bool {
        self.handshake.answer_signed()
    }

    /// Bytes held for the peer: partial messages, unread input and output withheld until
    /// the peer acknowledges (so a server's memory budget covers a peer that never does).
    pub fn held(&self) -> usize {
        self.reader.held() + self.flow.withheld_bytes
    }

    /// Our output against the peer's acknowledgements.
    pub fn output_backlog(&self) -> OutputBacklog {
        OutputBacklog {
            sent: self.flow.sent,
            acknowledged: self.flow.acknowledged.covered(),
            window: self.own_window,
            withheld_messages: self.flow.withheld.len(),
            withheld_bytes: self.flow.withheld_bytes,
        }
    }

    /// The chunk sizes in use: (the peer's, ours).
    pub fn chunk_sizes(&self) -> (u32, u32) {
        (self.reader.chunk_size(), self.writer.chunk_size())
    }

    /// Takes one read from the peer. The bytes after the handshake go to the chunk reader as
    /// a slice of `bytes`, not a copy.
    pub fn handle_read(&mut self, now: Duration, bytes: Bytes) {
        self.last_activity = now;
        if self.state == State::Closed || self.peer_closed || bytes.is_empty() {
            return;
        }
        let handshake_part = match self.state {
            State::Handshake => (HANDSHAKE_LEN - self.handshake_fed).min(bytes.len()),
            _ => 0,
        };
        let counted = if self.ack_counts_handshake {
            bytes.len()
        } else {
            bytes.len() - handshake_part
        };
        if let Some(sequence) = self.acks.received(counted as u64) {
            self.send_control(message::acknowledgement(sequence));
        }
        if self.state == State::Established {
            self.reader.feed_bytes(bytes);
            return;
        }
        let take = (HANDSHAKE_LEN - self.handshake_fed).min(bytes.len());
        let before = self.handshake_fed;
        self.handshake_fed += take;
        let result = self.handshake.feed(&bytes[..take]);
        self.collect_handshake(now);
        if let Err(error) = result {
            let offset = handshake_error_offset(&error, before);
            self.fail(ConnectionError::Handshake { offset, error });
            return;
        }
        if self.handshake.is_complete() {
            self.plan.peer_answered();
            self.flush_handshake_writes(now);
            self.state = State::Established;
            self.events.push_back(Event::Established {
                mode: self.handshake.mode(),
            });
            self.reader.feed_bytes(bytes.slice(take..));
        }
    }

    /// The peer closed its side. Messages it completed before are still polled.
    pub fn handle_eof(&mut self, now: Duration) {
        self.last_activity = now;
        match self.state {
            State::Closed => {}
            State::Handshake => {
                self.diagnostic(DiagnosticKind::ClosedDuringHandshake);
                self.close_with(CloseReason::PeerClosed {
                    during_handshake: true,
                });
            }
            State::Established => {
                // A type-3 chunk's look-ahead for a repeated extended timestamp ends here.
                self.reader.end_of_stream();
                self.peer_closed = true;
            }
        }
    }

    /// When [`Self::handle_timeout`] should next be called (a timeout, or a handshake write
    /// waiting for its pause to pass); None: no timer is running.
    pub fn poll_timeout(&self) -> Option<Duration> {
        [self.timeout_deadline(), self.next_transmit_at()]
            .into_iter()
            .flatten()
            .min()
    }

    /// When the connection times out unless something happens first ([`Self::poll_timeout`]
    /// without the writes waiting for their time).
    pub fn timeout_deadline(&self) -> Option<Duration> {
        match self.state {
            State::Handshake => self.timeouts.handshake,
            State::Established => {
                let idle = self.timeouts.idle?;
                let quiet = self.last_activity.saturating_add(idle);
                // Output waiting for an Acknowledgement is not kept alive by activity: the
                // application may go on queueing media for a peer that never acknowledges.
                Some(match self.flow.waiting_since {
                    Some(since) => quiet.min(since.saturating_add(idle)),
                    None => quiet,
                })
            }
            State::Closed => None,
        }
    }

    /// The time has come (or passed): closes the connection when its timer expired (a write
    /// whose time has come is for [`Self::poll_transmit`]).
    pub fn handle_timeout(&mut self, now: Duration) {
        let Some(deadline) = self.timeout_deadline() else {
            return;
        };
        if now < deadline {
            return;
        }
        let idle = self.timeouts.idle.unwrap_or_default();
        let timeout = match self.state {
            State::Handshake => Timeout::Handshake(self.timeouts.handshake.unwrap_or_default()),
            _ if self
                .flow
                .waiting_since
                .is_some_and(|since| since.saturating_add(idle) <= now) =>
            {
                Timeout::Unacknowledged(idle)
            }
            _ => Timeout::Idle(idle),
        };
        self.close_with(CloseReason::Timeout(timeout));
    }

    /// Something the application did counts as activity for the idle timeout (media reaching
    /// a player, for instance).
    pub fn note_activity(&mut self, now: Duration) {
        self.last_activity = now;
    }

    /// Stops reading: the application ended the connection. Writes already queued are still
    /// handed out, so a last answer reaches the peer.
    pub fn close(&mut self) {
        self.state = State::Closed;
    }

    /// The next event. Messages are read from the chunk stream here, one at a time.
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Some(event);
            }
            if self.state != State::Established {
                return None;
            }
            match self.reader.poll() {
                Ok(Some(event)) => self.on_read_event(event),
                Ok(None) if self.peer_closed => self.close_with(CloseReason::PeerClosed {
                    during_handshake: false,
                }),
                Ok(None) => return None,
                Err(error) => self.fail(ConnectionError::Chunk(error)),
            }
        }
    }

    /// The next write whose time has come by `now`, taken to be made at `now`. Handshake
    /// groups come alone, in order, each once the plan's pause after the previous one has
    /// passed ([`Self::next_transmit_at`]); messages queued after them come together as one
    /// write.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Transmit> {
        if let Some((packets, bytes)) = self.plan.poll_write(now) {
            return Some(Transmit {
                bytes,
                packets,
                messages: Vec::new(),
            });
        }
        // Messages wait for our own handshake packets to have gone out.
        if self.plan.is_done() && !self.out.is_empty() {
            return Some(Transmit {
                bytes: self.out.split().freeze(),
                packets: &[],
                messages: std::mem::take(&mut self.out_messages),
            });
        }
        None
    }

    /// When the next handshake write waiting for its pause may go; None when none waits (a
    /// write ready now is handed out by [`Self::poll_transmit`] at once).
    pub fn next_transmit_at(&self) -> Option<Duration> {
        self.plan.next_due()
    }

    /// Whether [`Self::poll_transmit`] has something to hand out, now or after a pause, without
    /// anything more from the peer.
    pub fn has_transmit(&self) -> bool {
        self.plan.has_queued() || (self.plan.is_done() && !self.out.is_empty())
    }

    /// Sends a message. Protocol control messages take effect as they go: a Set Chunk Size
    /// goes out at the old size and the chunks after it use the new one. With
    /// [`ConnectionConfig::withhold_past_own_window`] a message waits (in order) while the
    /// peer's unacknowledged bytes exceed our window.
    pub fn send(&mut self, message: RawMessage) {
        self.send_by(message, SentBy::Application);
    }

    fn send_by(&mut self, message: RawMessage, by: SentBy) {
        if self.flow.enabled && (!self.flow.withheld.is_empty() || self.past_window()) {
            if self.flow.withheld.is_empty() {
                self.flow.waiting_since = Some(self.last_activity);
                if !self.flow.ever_withheld {
                    self.flow.ever_withheld = true;
                    self.control(ControlChange::OutputWithheld {
                        unacknowledged: self.unacknowledged(),
                        window: self.own_window.unwrap_or_default(),
                    });
                }
            }
            self.flow.withheld_bytes += message.payload.len();
            self.flow.withheld.push_back((message, by));
            return;
        }
        self.write_message(message, by);
    }

    fn unacknowledged(&self) -> u64 {
        self.flow
            .sent
            .saturating_sub(self.flow.acknowledged.covered())
    }

    fn past_window(&self) -> bool {
        self.own_window
            .is_some_and(|window| self.unacknowledged() > u64::from(window))
    }

    /// The peer acknowledged `sequence` bytes: what now fits in the window goes out. A stale
    /// Acknowledgement is diagnosed and changes nothing.
    fn acknowledged(&mut self, sequence: u32) {
        if let Some(stale) = self.flow.acknowledged.receive(sequence) {
            self.diagnostic(stale);
            return;
        }
        if self.flow.withheld.is_empty() {
            return;
        }
        let before = self.flow.withheld.len();
        while !self.flow.withheld.is_empty() && !self.past_window() {
            let (next, by) = self.flow.withheld.pop_front().expect("not empty");
            self.flow.withheld_bytes -= next.payload.len();
            self.write_message(next, by);
        }
        if self.flow.withheld.len() < before {
            self.flow.waiting_since =
                (!self.flow.withheld.is_empty()).then_some(self.last_activity);
        }
    }

    fn write_message(&mut self, message: RawMessage, by: SentBy) {
        let before = self.out.len();
        let word = (message.payload.len() >= 4).then(|| {
            u32::from_be_bytes([
                message.payload[0],
                message.payload[1],
                message.payload[2],
                message.payload[3],
            ])
        });
        self.writer.write(&message, &mut self.out);
        self.flow.sent += (self.out.len() - before) as u64;
        match (message.type_id, word) {
            (1, Some(word)) => {
                let from = self.writer.chunk_size();
                self.writer.set_chunk_size(word & 0x7FFF_FFFF);
                let to = self.writer.chunk_size();
                self.events
                    .push_back(Event::Control(ControlChange::OwnChunkSize { from, to }));
            }
            (5, Some(size)) => {
                self.own_window = Some(size);
                if self.ack_by_own_window && !self.peer_window {
                    self.acks.set_window(size);
                }
            }
            _ => {}
        }
        self.out_messages.push(SentMessage { message, by });
    }

    /// Sends a message the connection decided on itself (its [`Transmit`] says so).
    fn send_control(&mut self, message: RawMessage) {
        self.send_by(message, SentBy::Connection);
    }

    fn on_read_event(&mut self, event: ReadEvent) {
        let diagnostic = diagnose_read_event(&event);
        match event {
            ReadEvent::Message(raw) => self.on_message(raw),
            ReadEvent::Chunk(header) => self.events.push_back(Event::Chunk(header)),
            ReadEvent::ChunkSizeChanged { from, to } => self
                .events
                .push_back(Event::Control(ControlChange::PeerChunkSize { from, to })),
            ReadEvent::Aborted {
                csid,
                discarded_bytes,
            } => self
                .events
                .push_back(Event::Control(ControlChange::Aborted {
                    csid,
                    discarded_bytes,
                })),
            ReadEvent::ExtendedTimestampConvention { .. }
            | ReadEvent::OpenedFromZeroState { .. }
            | ReadEvent::MidMessageHeader { .. } => {}
            ReadEvent::PartialMessageDropped {
                csid,
                received,
                expected,
            } => self
                .events
                .push_back(Event::Control(ControlChange::PartialMessageDropped {
                    csid,
                    received,
                    expected,
                })),
        }
        if let Some(kind) = diagnostic {
            self.diagnostic(kind);
        }
    }

    fn on_message(&mut self, raw: RawMessage) {
        let decoded = Message::decode(&raw);
        let diagnostics = diagnose_message(&raw, &decoded);
        // Decide before the message moves into its event; act after, so the transcript shows
        // the message before what it caused.
        let reaction = match &decoded {
            Ok(Message::WindowAckSize(size)) => Some(Reaction::Window(*size)),
            Ok(Message::Acknowledgement { sequence }) => Some(Reaction::Acknowledged(*sequence)),
            Ok(Message::SetPeerBandwidth { size, limit }) => {
                Some(Reaction::PeerBandwidth(*size, *limit))
            }
            Ok(Message::UserControl(UserControl::PingRequest(ts))) => Some(Reaction::Ping(*ts)),
            Ok(Message::UserControl(UserControl::PingResponse(ts))) => Some(Reaction::Pong(*ts)),
            _ => None,
        };
        self.events.push_back(Event::Message { raw, decoded });
        for kind in diagnostics {
            self.diagnostic(kind);
        }
        match reaction {
            Some(Reaction::Window(size)) => {
                self.peer_window = true;
                self.acks.set_window(size);
                self.control(ControlChange::WindowAckSize(size));
            }
            Some(Reaction::Acknowledged(sequence)) => {
                self.control(ControlChange::Acknowledged { sequence });
                self.acknowledged(sequence);
            }
            Some(Reaction::PeerBandwidth(size, limit)) => {
                self.control(ControlChange::PeerBandwidth { size, limit });
                self.acks.set_peer_bandwidth(size);
                if self.answer_peer_bandwidth && self.own_window != Some(size) {
                    self.send_control(message::window_ack_size(size));
                }
            }
            Some(Reaction::Ping(ts)) if self.answer_pings => {
                self.send_control(message::user_control(UserControl::PingResponse(ts)))
            }
            Some(Reaction::Pong(timestamp)) => {
                self.control(ControlChange::PingResponse { timestamp })
            }
            _ => {}
        }
    }

    fn control(&mut self, change: ControlChange) {
        self.events.push_back(Event::Control(change));
    }

    fn diagnostic(&mut self, kind: DiagnosticKind) {
        self.events.push_back(Event::Diagnostic(Diagnostic {
            peer: self.side.other(),
            kind,
        }));
    }

    fn fail(&mut self, error: ConnectionError) {
        self.close_with(CloseReason::Error(error));
    }

    fn close_with(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.events.push_back(Event::Closed(reason));
    }

    /// Moves the handshake's packets and observations out, and queues what the plan allows.
    fn collect_handshake(&mut self, now: Duration) {
        while let Some(transmit) = self.handshake.poll_transmit() {
            self.plan.ready(transmit.packet, transmit.bytes);
        }
        while let Some(event) = self.handshake.poll_event() {
            if matches!(event, HandshakeEvent::Hello { packet, .. } if is_peer_packet(self.side, packet))
            {
                self.plan.peer_hello();
            }
            self.events.push_back(Event::Handshake(event));
        }
        self.flush_handshake_writes(now);
    }

    fn flush_handshake_writes(&mut self, now: Duration) {
        while self.plan.flush_next(now) {}
    }
}

/// What a received message asks of the connection.
enum Reaction {
    Window(u32),
    Acknowledged(u32),
    PeerBandwidth(u32, message::LimitType),
    Ping(u32),
    Pong(u32),
}

fn is_peer_packet(side: Side, packet: Packet) -> bool {
    match side {
        Side::Server => matches!(packet, Packet::C0 | Packet::C1 | Packet::C2),
        Side::Client => matches!(packet, Packet::S0 | Packet::S1 | Packet::S2),
    }
}

/// Where the packet the handshake failed on starts, in the peer's bytes.
fn handshake_error_offset(error: &HandshakeError, fed_before: usize) -> u64 {
    match error {
        HandshakeError::NotRtmp { .. } | HandshakeError::UnexpectedS0 { .. } => 0,
        HandshakeError::S1DigestInvalid { .. } => 1,
        HandshakeError::S2SignatureInvalid => 1 + PACKET_LEN as u64,
        HandshakeError::Failed(_) => fed_before as u64,
    }
}

#[cfg(test)]
mod tests;
