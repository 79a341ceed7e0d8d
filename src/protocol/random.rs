//! The source of the handshake's random bytes.
//!
//! Handshake packets carry 1528 random bytes. Tests and snapshot transcripts need them to be
//! reproducible, so every state machine that needs randomness takes a [`RandomSource`] that can
//! be seeded; drivers talking to real peers seed it from the operating system.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seedable, fast generator of bytes that need not be cryptographically strong (the RTMP
/// specification asks only that they be unpredictable enough to tell peers apart).
#[derive(Debug, Clone)]
pub struct RandomSource {
    rng: ChaCha8Rng,
}

impl RandomSource {
    /// A generator that always produces the same bytes for the same seed.
    pub fn seeded(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// A generator seeded from the operating system, for sessions with real peers.
    pub fn from_entropy() -> Self {
        Self {
            rng: ChaCha8Rng::from_entropy(),
        }
    }

    /// Fills `buf` with the next bytes of the stream.
    pub fn fill(&mut self, buf: &mut [u8]) {
        self.rng.fill_bytes(buf);
    }

    /// The next 32-bit value of the stream.
    pub fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_bytes_and_different_seeds_differ() {
        let (mut a, mut b, mut c) = (
            RandomSource::seeded(7),
            RandomSource::seeded(7),
            RandomSource::seeded(8),
        );
        let (mut x, mut y, mut z) = ([0u8; 64], [0u8; 64], [0u8; 64]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
