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

pub mod capture;
pub mod deviation;
pub mod emulate;
pub mod fd_limit;
pub mod fuzz_harness;
pub mod load;
pub mod media;
pub mod protocol;
pub mod record;
pub mod replay;
pub mod serve;
pub mod toml_file;
pub mod transcript;

#[cfg(test)]
mod test_capture;
