//! The sans-IO RTMP core.
//!
//! Each module is one layer of the protocol. None of them performs IO or reads a clock: callers
//! feed bytes (in any segmentation; "not enough bytes yet" is a normal state) and collect the
//! bytes to write and the events that explain what happened.
//!
//! The codecs (`handshake`, `chunk`, `message`, `amf0`) are put together twice: [`connection`]
//! is one end of a live connection (it answers), [`observe`] watches both ends of a captured one
//! (it only reports). Both diagnose the chunk stream the same way; [`answers`] follows which
//! commands were answered, for whichever driver reads the messages.

pub mod amf0;
pub mod answers;
pub mod chunk;
pub mod connection;
pub mod handshake;
pub mod message;
pub mod observe;
pub mod random;
mod side;

pub use side::Side;
