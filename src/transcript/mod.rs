//! The transcript: one event model for everything the tool observes on a connection.
//!
//! The server, the client emulators and the capture replayer all describe a session as a sequence
//! of [`Event`]s: the TCP reads and writes as they happened, what the handshake revealed, every
//! message, media summaries and diagnostics. Each command renders the same events three ways
//! ([`render`]): human text, JSON lines, and a normalised snapshot form that leaves out what
//! changes from run to run (wall-clock times, ports, random bytes) so that a change in behaviour
//! shows up as a reviewable diff.

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
