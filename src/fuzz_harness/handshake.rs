//! The handshake cores, server and client, fed arbitrary peer bytes.

use super::input;
use super::pieces;
use crate::protocol::handshake::HANDSHAKE_LEN;
use crate::protocol::handshake::{
    C1Style, C2Style, ClientConfig, DigestLayout, Handshake, ServerConfig, ServerValidation,
};
use crate::protocol::random::RandomSource;
use arbitrary::Unstructured;

/// What the server core made of some input.
#[derive(Debug, PartialEq, Eq)]
struct ServerRun {
    sent: Vec<u8>,
    remaining: Vec<u8>,
    complete: bool,
    failed: bool,
}

fn run_server(seed: u64, cuts: &[u16], bytes: &[u8]) -> ServerRun {
    let mut hs = Handshake::server(ServerConfig::default(), RandomSource::seeded(seed));
    let mut sent = Vec::new();
    let mut failed = false;
    for piece in pieces(cuts, bytes) {
        if hs.feed(piece).is_err() {
            failed = true;
            break;
        }
        while let Some(t) = hs.poll_transmit() {
            sent.extend_from_slice(&t.bytes);
        }
        while let Some(event) = hs.poll_event() {
            let _ = (
                crate::transcript::DiagnosticId::from(&event),
                event.to_string(),
            );
        }
    }
    ServerRun {
        complete: hs.is_complete(),
        remaining: hs.take_remaining().to_vec(),
        sent,
        failed,
    }
}

/// Input: seed (u64), cuts, then the client's bytes. The server handshake must never panic,
/// must give back every byte past C2, and must not depend on how the bytes were cut.
pub fn handshake_server(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let seed = input::u64(&mut u);
    let cuts = input::cuts(&mut u);
    let bytes = u.take_rest();
    let whole = run_server(seed, &[], bytes);
    let split = run_server(seed, &cuts, bytes);
    assert_eq!(whole, split, "segmentation changed the outcome");
    if whole.complete && !whole.failed {
        assert_eq!(whole.remaining.len(), bytes.len() - HANDSHAKE_LEN);
    }
}

/// Input: seed (u64), a flags byte (bit 0 digest C1, bit 1 the 772 layout, bit 2 FFmpeg's
/// play validation, bits 3-4 the C2 style), cuts, then the server's bytes. The client handshake
/// must never panic and must give back every byte past S2.
pub fn handshake_client(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let seed = input::u64(&mut u);
    let flags = input::u8(&mut u);
    let cuts = input::cuts(&mut u);
    let bytes = u.take_rest();
    let layout = if flags & 2 != 0 {
        DigestLayout::Base772
    } else {
        DigestLayout::Base8
    };
    let config = ClientConfig {
        c1: if flags & 1 != 0 {
            C1Style::Digest {
                time: 0,
                version: [9, 0, 124, 2],
                layout,
            }
        } else {
            ClientConfig::default().c1
        },
        c2: match (flags >> 3) % 4 {
            0 => C2Style::EchoS1,
            1 => C2Style::EchoS1ZeroTime2,
            2 => C2Style::Signed,
            _ => C2Style::Auto,
        },
        validation: if flags & 4 != 0 {
            ServerValidation::FfmpegPlay
        } else {
            ServerValidation::None
        },
        ..ClientConfig::default()
    };
    let mut hs = Handshake::client(config, RandomSource::seeded(seed));
    while hs.poll_transmit().is_some() {}
    for piece in pieces(&cuts, bytes) {
        if hs.feed(piece).is_err() {
            return;
        }
        while hs.poll_transmit().is_some() {}
        while let Some(event) = hs.poll_event() {
            let _ = (
                crate::transcript::DiagnosticId::from(&event),
                event.to_string(),
            );
        }
    }
    if hs.is_complete() {
        assert_eq!(hs.take_remaining().len(), bytes.len() - HANDSHAKE_LEN);
    }
}
