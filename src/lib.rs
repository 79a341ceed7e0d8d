//! rtmp-probe: RTMP interoperability testing and fuzzing.
//!
//! Everything that understands RTMP lives in [`protocol`], a sans-IO core: state machines that
//! take bytes in and hand bytes and events out, with no sockets, clocks or async runtime. The
//! server, the client emulators, the capture replayer and the fuzz targets are thin drivers over
//! that one core, so a behaviour seen in one of them is the behaviour of all of them.

pub mod capture;
pub mod emulate;
pub mod fd_limit;
pub mod fuzz_harness;
pub mod load;
pub mod media;
pub mod protocol;
pub mod record;
pub mod replay;
pub mod serve;
pub mod transcript;

#[cfg(test)]
mod test_capture;
