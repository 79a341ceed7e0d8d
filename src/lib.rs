//! rtmp-probe: RTMP interoperability testing and fuzzing.
//!
//! Everything that understands RTMP lives in [`protocol`], a sans-IO core: state machines that
//! take bytes and time in and hand bytes and typed events out, with no sockets, clocks or async
//! runtime. Above the codecs (handshake, chunk, message, AMF0) one
//! [`protocol::connection::Connection`] serves either role, and
//! [`protocol::observe::FlowObserver`] reads both directions of a captured flow. The server's
//! session ([`serve`]), the emulated clients ([`emulate::client`]) and the capture replayer
//! ([`replay`]) are application logic over those, driven by thin tokio shells or, for the
//! built-in matrix, against each other in memory; the fuzz targets drive the same code. Their
//! events are one typed [`transcript`] with one catalogue of diagnostic ids, so the same bytes
//! get the same diagnosis whichever of them reads them.
//!
//! Examples: [`protocol::connection`] drives a client and a server in memory,
//! [`protocol::observe`] reads a capture, [`transcript`] renders events and
//! [`transcript::catalogue`] looks up an id (the first two are the README's "Using the library").
//!
//! Types that grow as the tool learns more are `#[non_exhaustive]`: events, diagnostics, close
//! reasons, errors and deviation classes (match them with a `_` arm), and the options and
//! configuration structs (start from their `Default` or constructor, such as
//! [`serve::ServeOptions::default`] or [`protocol::connection::ConnectionConfig::server`], and
//! assign the fields that differ). Closed protocol sets (handshake packets, chunk header types,
//! AMF0 values, message types) are not.

#![warn(missing_debug_implementations)]

pub mod capture;
pub mod deviation;
pub mod emulate;
pub mod load;
pub mod media;
pub mod protocol;
pub mod record;
pub mod replay;
pub mod serve;
pub mod toml_file;
pub mod transcript;

// Not part of the library's API, and hidden from its documentation: the fuzz targets' bodies and
// the open-file limit. They stay `pub` because crates outside this one need them: the fuzz
// crate (fuzz/), the binary (`load`), the `fuzz-seeds` example, and the integration
// tests (tests/fuzz_regressions.rs replays every seed and crash through the same bodies;
// tests/serve_hostile.rs raises the limit). A cargo feature would have to be on whenever
// `cargo test` runs for the regressions to run at all, so it would hide nothing and add a way
// to skip them; `#[doc(hidden)]` keeps one build and says "no stability promise".
#[doc(hidden)]
pub mod fd_limit;
#[doc(hidden)]
pub mod fuzz_harness;

#[cfg(test)]
mod test_capture;
