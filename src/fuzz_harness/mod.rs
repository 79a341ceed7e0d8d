//! The bodies of the cargo-fuzz targets in `fuzz/`, kept in the library so that the targets and
//! `tests/fuzz_regressions.rs` (which replays every crash ever found, on stable) run the same
//! code and cannot drift apart.
//!
//! Each target takes raw fuzzer bytes and reads its structure from the front with
//! [`arbitrary::Unstructured`]: fixed-size fields, length-prefixed byte strings, then the rest.
//! Reading never fails (short fields are zero-padded), so every input exercises the code, and
//! [`input::InputWriter`] writes the same layout, which is how [`seeds`] builds seed inputs.
//! A target panics only when the code under test broke an invariant.

mod chunk;
mod client;
mod decode;
mod handshake;
pub mod input;
pub mod seeds;
mod session;

pub use chunk::{chunk_reader, chunk_roundtrip, read_round_trip, write_round_trip, RoundTripStep};
pub use client::{client, ClientInput, ClientStep};
pub use decode::{amf0, capture, message};
pub use handshake::{handshake_client, handshake_server};
pub use session::{session, SessionInput, Step};

/// A fuzz target's body: takes the fuzzer's bytes, panics only on a broken invariant.
pub type Harness = fn(&[u8]);

/// Every fuzz target by the name of its `fuzz/fuzz_targets/<name>.rs`.
pub const TARGETS: &[(&str, Harness)] = &[
    ("handshake_server", handshake_server),
    ("handshake_client", handshake_client),
    ("chunk_reader", chunk_reader),
    ("chunk_roundtrip", chunk_roundtrip),
    ("amf0", amf0),
    ("message", message),
    ("capture", capture),
    ("session", session),
    ("client", client),
];

/// The target named `name`.
pub fn target(name: &str) -> Option<Harness> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// `bytes` cut into pieces: each cut is a length (taken modulo what is left, plus one), and
/// what the cuts leave is the last piece.
fn pieces<'a>(cuts: &'a [u16], bytes: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = bytes;
    let mut cuts = cuts.iter();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = match cuts.next() {
            Some(&c) => (c as usize % rest.len()) + 1,
            None => rest.len(),
        };
        let (now, later) = rest.split_at(n);
        rest = later;
        Some(now)
    })
}
