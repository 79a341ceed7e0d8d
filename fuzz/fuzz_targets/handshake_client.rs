//! The client handshake, in each of its configurations, fed arbitrary server bytes: it must never
//! panic and must hand back every byte past S2.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rtmp_probe::protocol::handshake::{
    C1Style, C2Style, ClientConfig, DigestLayout, Handshake, ServerValidation,
};
use rtmp_probe::protocol::random::RandomSource;

#[derive(Debug, Arbitrary)]
struct Input {
    seed: u64,
    digest: bool,
    layout_772: bool,
    c2: u8,
    validate: bool,
    cuts: Vec<u16>,
    bytes: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let layout = if input.layout_772 {
        DigestLayout::Base772
    } else {
        DigestLayout::Base8
    };
    let config = ClientConfig {
        c1: if input.digest {
            C1Style::Digest {
                time: 0,
                version: [9, 0, 124, 2],
                layout,
            }
        } else {
            ClientConfig::default().c1
        },
        c2: match input.c2 % 4 {
            0 => C2Style::EchoS1,
            1 => C2Style::EchoS1ZeroTime2,
            2 => C2Style::Signed,
            _ => C2Style::Auto,
        },
        validation: if input.validate {
            ServerValidation::FfmpegPlay
        } else {
            ServerValidation::None
        },
        ..ClientConfig::default()
    };
    let mut hs = Handshake::client(config, RandomSource::seeded(input.seed));
    while hs.poll_transmit().is_some() {}
    let mut rest = &input.bytes[..];
    let mut cuts = input.cuts.iter();
    while !rest.is_empty() {
        let n = match cuts.next() {
            Some(&c) => (c as usize % rest.len()) + 1,
            None => rest.len(),
        };
        let (now, later) = rest.split_at(n);
        rest = later;
        if hs.feed(now).is_err() {
            return;
        }
        while hs.poll_transmit().is_some() {}
        while let Some(event) = hs.poll_event() {
            let _ = (event.id(), event.to_string());
        }
    }
    if hs.is_complete() {
        assert_eq!(hs.take_remaining().len(), input.bytes.len() - 1 - 2 * 1536);
    }
});
