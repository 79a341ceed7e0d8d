//! One write handed to the driver, and what it carries.
//!
//! A transcript of the wire has to say what went out in which write and when, so the write
//! itself says: the handshake packets it holds, and every message whose chunks it carries.
//! The application stamps those with the time the driver took the write
//! ([`super::Connection::poll_transmit`]'s `now`) rather than with the time they were queued.

use crate::protocol::chunk::RawMessage;
use crate::protocol::handshake::Packet;
use bytes::Bytes;

/// One write for the driver to make now.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Transmit {
    pub bytes: Bytes,
    /// Our handshake packets in this write, in order (none for the chunk stream's bytes).
    pub packets: &'static [Packet],
    /// The messages this write carries, in the order their chunks are in it. A message is
    /// never split between writes: it is all in the one that carries it.
    pub messages: Vec<SentMessage>,
}

/// A message in a [`Transmit`], and whose decision it was to send it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentMessage {
    pub message: RawMessage,
    pub by: SentBy,
}

/// Who decided to send a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentBy {
    /// The application, through [`super::Connection::send`].
    Application,
    /// The connection itself: an Acknowledgement, a ping response, a Window Acknowledgement
    /// Size answering Set Peer Bandwidth.
    Connection,
}
