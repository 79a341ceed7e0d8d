//! The server handshake fed arbitrary client bytes in arbitrary segmentation: it must never
//! panic, must account for every byte it was given, and must produce the same result whatever the
//! segmentation.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rtmp_probe::protocol::handshake::{Handshake, ServerConfig};
use rtmp_probe::protocol::random::RandomSource;

#[derive(Debug, Arbitrary)]
struct Input {
    seed: u64,
    /// Where to cut `bytes` (each a length, taken modulo what is left).
    cuts: Vec<u16>,
    bytes: Vec<u8>,
}

/// Feeds `bytes` cut at `cuts`; returns the transmitted bytes, the remaining bytes and whether it
/// completed or failed.
fn run(seed: u64, cuts: &[u16], bytes: &[u8]) -> (Vec<u8>, Vec<u8>, bool, bool) {
    let mut hs = Handshake::server(ServerConfig::default(), RandomSource::seeded(seed));
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut cuts = cuts.iter();
    let mut failed = false;
    while !rest.is_empty() {
        let n = match cuts.next() {
            Some(&c) => (c as usize % rest.len()) + 1,
            None => rest.len(),
        };
        let (now, later) = rest.split_at(n);
        rest = later;
        if hs.feed(now).is_err() {
            failed = true;
            break;
        }
        while let Some(t) = hs.poll_transmit() {
            out.extend_from_slice(&t.bytes);
        }
        while let Some(event) = hs.poll_event() {
            let _ = (event.id(), event.to_string());
        }
    }
    let complete = hs.is_complete();
    let remaining = hs.take_remaining().to_vec();
    (out, remaining, complete, failed)
}

fuzz_target!(|input: Input| {
    let whole = run(input.seed, &[], &input.bytes);
    let split = run(input.seed, &input.cuts, &input.bytes);
    assert_eq!(whole, split, "segmentation changed the outcome");
    let (_, remaining, complete, failed) = whole;
    if complete && !failed {
        assert_eq!(remaining.len(), input.bytes.len() - 1 - 2 * 1536);
    }
});
