//! The transcript: one event model for everything the tool observes on a connection.
//!
//! The server, the client emulators and the capture replayer all describe a session as a sequence
//! of [`Event`]s: the TCP reads and writes as they happened, what the handshake revealed, every
//! message, media summaries and diagnostics. Each command renders the same events three ways
//! ([`render`]): human text, JSON lines, and a normalised snapshot form that leaves out what
//! changes from run to run (wall-clock times, ports, random bytes) so that a change in behaviour
//! shows up as a reviewable diff.
//!
//! # Example
//!
//! ```rust
//! use rtmp_probe::protocol::handshake::{HandshakeEvent, Packet};
//! use rtmp_probe::transcript::render::{json_line, snapshot, TextRenderer};
//! use rtmp_probe::transcript::{Direction, EventKind, Transcript};
//!
//! let mut transcript = Transcript::new();
//! let (client, server) = ("127.0.0.1:50123".to_string(), "127.0.0.1:1935".to_string());
//! transcript.push(0, EventKind::Connected { client, server });
//! let c0c1 = EventKind::Segment { direction: Direction::ClientToServer, len: 1537 };
//! transcript.push(120, c0c1);
//! let c0 = HandshakeEvent::Version { packet: Packet::C0, version: 3 };
//! transcript.push(700, EventKind::handshake_event(&c0));
//!
//! // Human text, one line per event:
//! let c0 = &transcript.events[2];
//! let line = TextRenderer::default().line(c0);
//! assert_eq!(line, "     0.700 ms  hs    hs.c0-version: C0 version 3");
//! // A JSON line (schema/transcript.schema.json), the fields as they are in the event:
//! assert_eq!(
//!     json_line(c0),
//!     r#"{"at_us":700,"event":"handshake","id":"hs.c0-version","#.to_string()
//!         + r#""observation":{"kind":"version","packet":"C0","version":3},"text":"C0 version 3"}"#
//! );
//! // The snapshot form leaves out what changes from run to run (times, ports):
//! assert_eq!(
//!     snapshot(&transcript),
//!     "connected client -> server\nC->S  1537 B\nhs    hs.c0-version: C0 version 3\n"
//! );
//! ```

pub mod catalogue;
pub mod diff;
pub mod model;
mod protocol_ids;
pub mod read_diagnostics;
pub mod render;
mod stage;

pub use catalogue::DiagnosticId;
pub use model::*;
pub use stage::Stage;
