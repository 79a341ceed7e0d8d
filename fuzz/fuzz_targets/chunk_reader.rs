//! The chunk reader fed arbitrary bytes in arbitrary segmentation, with small limits so the
//! fuzzer reaches them: it must never panic, never exceed its limits, and give the same messages
//! whatever the segmentation.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rtmp_probe::protocol::chunk::{ChunkLimits, ChunkReader, ReadEvent};

#[derive(Debug, Arbitrary)]
struct Input {
    cuts: Vec<u16>,
    bytes: Vec<u8>,
}

fn limits() -> ChunkLimits {
    ChunkLimits {
        max_message_len: 64 * 1024,
        max_chunk_size: 64 * 1024,
        max_partial_bytes: 256 * 1024,
        max_chunk_streams: 16,
        ..ChunkLimits::default()
    }
}

fn run(cuts: &[u16], bytes: &[u8]) -> (Vec<ReadEvent>, bool) {
    let mut reader = ChunkReader::new(limits());
    let mut events = Vec::new();
    let mut rest = bytes;
    let mut cuts = cuts.iter();
    while !rest.is_empty() {
        let n = match cuts.next() {
            Some(&c) => (c as usize % rest.len()) + 1,
            None => rest.len(),
        };
        let (now, later) = rest.split_at(n);
        rest = later;
        reader.feed(now);
        loop {
            match reader.poll() {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(_) => return (events, true),
            }
        }
    }
    (events, false)
}

fuzz_target!(|input: Input| {
    let whole = run(&[], &input.bytes);
    let split = run(&input.cuts, &input.bytes);
    assert_eq!(whole, split, "segmentation changed the outcome");
});
