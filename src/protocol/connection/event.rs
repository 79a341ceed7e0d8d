//! What a [`super::Connection`] reports: typed events, diagnostics and errors.

use crate::protocol::chunk::{ChunkError, ChunkHeader, ExtendedTimestampConvention, RawMessage};
use crate::protocol::handshake::{HandshakeError, HandshakeEvent, Mode};
use crate::protocol::message::{LimitType, Message, MessageError};
use std::fmt;
use std::time::Duration;

pub use crate::protocol::side::Side;

/// Something that happened on the connection, in the order it happened. What we write is not an
/// event: each write says what it carries ([`super::Transmit`]), when the driver takes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// What the peer's handshake packets revealed (and our own choices, such as the mode).
    Handshake(HandshakeEvent),
    /// Both handshakes are done; the chunk stream starts.
    Established {
        mode: Option<Mode>,
    },
    /// One chunk's header (only with [`super::ConnectionConfig::chunk_events`]).
    Chunk(ChunkHeader),
    /// A complete message from the peer, decoded when it could be. Protocol control messages
    /// are reported too, after the connection has applied them.
    Message {
        raw: RawMessage,
        decoded: Result<Message, MessageError>,
    },
    /// Protocol control changed the connection's state.
    Control(ControlChange),
    Diagnostic(Diagnostic),
    /// Nothing more will be read; the reason says whose doing it was.
    Closed(CloseReason),
}

/// A change protocol control made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlChange {
    /// The peer's Set Chunk Size took effect for what it sends next.
    PeerChunkSize { from: u32, to: u32 },
    /// Our Set Chunk Size went out; what we send next uses the new size.
    OwnChunkSize { from: u32, to: u32 },
    /// The peer announced its acknowledgement window: we acknowledge every `size` bytes.
    WindowAckSize(u32),
    /// The peer limited our output bandwidth.
    PeerBandwidth { size: u32, limit: LimitType },
    /// The peer acknowledged this many bytes.
    Acknowledged { sequence: u32 },
    /// The peer answered our ping.
    PingResponse { timestamp: u32 },
    /// Our output began to wait for the peer's Acknowledgement (reported the first time only):
    /// `unacknowledged` bytes were out, past our `window`.
    OutputWithheld { unacknowledged: u64, window: u32 },
    /// An Abort discarded a partial message.
    Aborted { csid: u32, discarded_bytes: usize },
    /// A new header arrived before the message on `csid` was complete.
    PartialMessageDropped {
        csid: u32,
        received: usize,
        expected: u32,
    },
}

/// A deviation or oddity worth a transcript line, with the fields that explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The side that did it.
    pub peer: Side,
    pub kind: DiagnosticKind,
}

#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DiagnosticKind {
    PeerChunkSizeChanged {
        from: u32,
        to: u32,
    },
    ExtendedTimestamps {
        csid: u32,
        convention: ExtendedTimestampConvention,
    },
    /// A protocol control message off chunk stream 2 / message stream 0.
    ControlOffCsid2 {
        type_id: u8,
        csid: u32,
        stream_id: u32,
    },
    Undecodable {
        type_id: u8,
        error: MessageError,
    },
    ClosedDuringHandshake,
    /// An Abort Message discarded the partial message on `csid`.
    Aborted {
        csid: u32,
        discarded_bytes: usize,
    },
    /// A type 0, 1 or 2 header arrived on `csid` before its previous message was complete.
    PartialMessageDropped {
        csid: u32,
        received: usize,
        expected: u32,
    },
    /// A chunk stream opened with a type 1, 2 or 3 header, read from zeroed state (only when
    /// [`super::Tolerance::zero_state_start`] allows it).
    OpenedFromZeroState {
        csid: u32,
        fmt: u8,
    },
    /// An Acknowledgement below the previous one by less than 2^31: not a wrap of the 32-bit
    /// sequence number, so it was ignored.
    StaleAcknowledgement {
        sequence: u32,
        previous: u32,
    },
    /// A type 0, 1 or 2 header in the middle of the message on `csid` repeated its length; the
    /// message went on (only when [`super::Tolerance::mid_message_headers`] allows it).
    MidMessageHeader {
        csid: u32,
        fmt: u8,
        received: usize,
        expected: u32,
    },
    /// An error-level onStatus (or an `_error` answering publish or play, or answering
    /// nothing) on message stream `stream_id`; `answering` names the command it answered.
    StatusError {
        stream_id: u32,
        code: String,
        description: String,
        answering: Option<String>,
    },
    /// connect or createStream answered with `_error`.
    CommandRejected {
        command: String,
        code: String,
        description: String,
    },
    /// A command the peer never answered by the end of the connection (see
    /// [`crate::protocol::answers`] for which commands expect an answer).
    Unanswered {
        command: String,
        transaction_id: f64,
        stream_id: u32,
    },
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = self.peer.name();
        match &self.kind {
            DiagnosticKind::PeerChunkSizeChanged { from, to } => {
                write!(f, "the {peer}'s chunk size changed from {from} to {to}")
            }
            DiagnosticKind::ExtendedTimestamps { csid, convention } => write!(
                f,
                "the {peer}'s chunk stream {csid}: extended timestamps on continuation chunks {convention}"
            ),
            DiagnosticKind::ControlOffCsid2 {
                type_id,
                csid,
                stream_id,
            } => write!(
                f,
                "protocol control message type {type_id} arrived on chunk stream {csid} / message stream {stream_id} (the spec says 2 / 0)"
            ),
            DiagnosticKind::Undecodable { type_id, error } => {
                write!(f, "message type {type_id} could not be decoded: {error}")
            }
            DiagnosticKind::ClosedDuringHandshake => {
                write!(f, "the {peer} closed the connection during the handshake")
            }
            DiagnosticKind::Aborted {
                csid,
                discarded_bytes,
            } => write!(
                f,
                "the {peer} aborted the message on chunk stream {csid}; {discarded_bytes} bytes were discarded"
            ),
            DiagnosticKind::PartialMessageDropped {
                csid,
                received,
                expected,
            } => write!(
                f,
                "a new message began on the {peer}'s chunk stream {csid} after {received} of the previous message's {expected} bytes; the partial message was dropped"
            ),
            DiagnosticKind::OpenedFromZeroState { csid, fmt } => write!(
                f,
                "chunk stream {csid} opened with a type {fmt} header; its missing fields were read as zero"
            ),
            DiagnosticKind::StaleAcknowledgement { sequence, previous } => write!(
                f,
                "the {peer} acknowledged {sequence} bytes after {previous}: {} less, under 2^31, so \
                 not the sequence number wrapping; the stale Acknowledgement was ignored",
                previous - sequence
            ),
            DiagnosticKind::MidMessageHeader {
                csid,
                fmt,
                received,
                expected,
            } => write!(
                f,
                "a type {fmt} header came on the {peer}'s chunk stream {csid} after {received} of its message's {expected} bytes and repeated the length; the message went on, the header's other fields ignored"
            ),
            DiagnosticKind::StatusError {
                stream_id,
                code,
                description,
                answering,
            } => {
                write!(f, "the {peer} sent an error status {code}")?;
                if let Some(command) = answering {
                    write!(f, " in answer to {command}")?;
                }
                write!(f, " on message stream {stream_id}")?;
                if !description.is_empty() {
                    write!(f, ": {description}")?;
                }
                Ok(())
            }
            DiagnosticKind::CommandRejected {
                command,
                code,
                description,
            } => {
                write!(f, "the {peer} rejected {command} with _error")?;
                if !code.is_empty() {
                    write!(f, " {code}")?;
                }
                if !description.is_empty() {
                    write!(f, ": {description}")?;
                }
                Ok(())
            }
            DiagnosticKind::Unanswered {
                command,
                transaction_id,
                stream_id,
            } => write!(
                f,
                "the {peer} never answered {command} #{transaction_id} (message stream {stream_id}) before the connection ended"
            ),
        }
    }
}

/// Why the connection stopped reading.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer closed its side.
    PeerClosed { during_handshake: bool },
    /// The peer sent something the connection cannot go on with.
    Error(ConnectionError),
    /// Nothing happened for too long.
    Timeout(Timeout),
}

/// Which of [`super::Timeouts`] expired, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timeout {
    Handshake(Duration),
    Idle(Duration),
    /// Our output waited this long for an Acknowledgement that did not come.
    Unacknowledged(Duration),
}

/// Why the bytes from the peer cannot be read further; offsets count the peer's bytes from the
/// connection's first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    #[error("handshake failed at offset {offset}: {error}")]
    Handshake {
        /// Where the packet that failed starts.
        offset: u64,
        #[source]
        error: HandshakeError,
    },
    /// The chunk stream's own error; its offset counts from the chunk stream's first byte,
    /// which is [`crate::protocol::handshake::HANDSHAKE_LEN`] bytes into the connection.
    #[error("chunk stream: {0}")]
    Chunk(#[from] ChunkError),
}
