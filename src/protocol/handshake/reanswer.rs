//! Answering a new S1 the way a captured client answered the captured one, so a re-enacted
//! client keeps its captured C1 and still completes the handshake with a live server.

use super::digest::{self, DigestLayout, KeyOwner, PACKET_LEN as LEN};
use crate::protocol::random::RandomSource;
use std::fmt;

/// How a captured C2 relates to the captured S1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C2Answer {
    /// C2 is S1, byte for byte.
    Echo,
    /// C2 repeats S1 from byte 8; its first 8 bytes are its own (time2 set, or the time too).
    EchoFrom8 {
        /// The time field (bytes 0..4) repeated S1's.
        time_echoed: bool,
        head: [u8; 8],
    },
    /// Random bytes signed for S1's digest (digest handshake).
    Signed,
    /// Anything else (zeros, garbage): sent again as it was captured.
    Verbatim,
}

impl C2Answer {
    /// Classifies `c2` as an answer to `s1` (both as captured).
    pub fn classify(s1: &[u8; LEN], c2: &[u8; LEN]) -> Self {
        if s1 == c2 {
            return C2Answer::Echo;
        }
        if s1[8..] == c2[8..] {
            return C2Answer::EchoFrom8 {
                time_echoed: s1[..4] == c2[..4],
                head: c2[..8].try_into().expect("8 bytes"),
            };
        }
        let signed = digest::find(s1, KeyOwner::Server, DigestLayout::BOTH)
            .is_some_and(|(_, d)| digest::is_signed(c2, &d, KeyOwner::Client));
        if signed {
            C2Answer::Signed
        } else {
            C2Answer::Verbatim
        }
    }

    /// The C2 this client would have sent for `live_s1`; [`C2Answer::Verbatim`] sends
    /// `captured_c2` again. A signed answer to an S1 without a valid digest falls back to an
    /// echo (as FFmpeg does), which the second value reports.
    pub fn answer(
        self,
        live_s1: &[u8; LEN],
        captured_c2: &[u8; LEN],
        rng: &mut RandomSource,
    ) -> ([u8; LEN], Option<Fallback>) {
        match self {
            C2Answer::Echo => (*live_s1, None),
            C2Answer::EchoFrom8 { time_echoed, head } => {
                let mut c2 = *live_s1;
                if !time_echoed {
                    c2[..4].copy_from_slice(&head[..4]);
                }
                c2[4..8].copy_from_slice(&head[4..]);
                (c2, None)
            }
            C2Answer::Signed => match digest::find(live_s1, KeyOwner::Server, DigestLayout::BOTH) {
                Some((_, s1_digest)) => {
                    let mut c2 = [0u8; LEN];
                    rng.fill(&mut c2);
                    digest::sign(&mut c2, &s1_digest, KeyOwner::Client);
                    (c2, None)
                }
                None => (*live_s1, Some(Fallback::EchoForUnsignedS1)),
            },
            C2Answer::Verbatim => (*captured_c2, None),
        }
    }
}

/// Why the regenerated C2 is not of the captured kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The captured C2 was signed, but the live S1 has no digest to sign for: echoed instead.
    EchoForUnsignedS1,
}

impl fmt::Display for C2Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            C2Answer::Echo => f.write_str("an echo of S1"),
            C2Answer::EchoFrom8 {
                time_echoed: true, ..
            } => f.write_str("an echo of S1 with its own time2"),
            C2Answer::EchoFrom8 { .. } => f.write_str("an echo of S1 from byte 8"),
            C2Answer::Signed => f.write_str("signed for S1's digest"),
            C2Answer::Verbatim => f.write_str("not derived from S1 (sent as captured)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s1_with_digest(seed: u64) -> [u8; LEN] {
        let mut s1 = [0u8; LEN];
        RandomSource::seeded(seed).fill(&mut s1);
        s1[4..8].copy_from_slice(&[3, 5, 1, 1]);
        digest::imprint(&mut s1, DigestLayout::Base8, KeyOwner::Server);
        s1
    }

    #[test]
    fn each_kind_of_answer_is_recognised_and_reproduced_for_a_new_s1() {
        let mut rng = RandomSource::seeded(1);
        let (old_s1, new_s1) = (s1_with_digest(2), s1_with_digest(3));

        assert_eq!(C2Answer::classify(&old_s1, &old_s1), C2Answer::Echo);
        assert_eq!(C2Answer::Echo.answer(&new_s1, &old_s1, &mut rng).0, new_s1);

        let mut own_time2 = old_s1;
        own_time2[4..8].copy_from_slice(&[0, 0x52, 0x8c, 0xda]);
        let kind = C2Answer::classify(&old_s1, &own_time2);
        assert!(
            matches!(
                kind,
                C2Answer::EchoFrom8 {
                    time_echoed: true,
                    ..
                }
            ),
            "{kind:?}"
        );
        let (c2, _) = kind.answer(&new_s1, &own_time2, &mut rng);
        assert_eq!(c2[..4], new_s1[..4]);
        assert_eq!(c2[4..8], [0, 0x52, 0x8c, 0xda]);
        assert_eq!(c2[8..], new_s1[8..]);

        let mut signed = [0u8; LEN];
        rng.fill(&mut signed);
        let (_, d) = digest::find(&old_s1, KeyOwner::Server, DigestLayout::BOTH).unwrap();
        digest::sign(&mut signed, &d, KeyOwner::Client);
        assert_eq!(C2Answer::classify(&old_s1, &signed), C2Answer::Signed);
        let (c2, fallback) = C2Answer::Signed.answer(&new_s1, &signed, &mut rng);
        let (_, live) = digest::find(&new_s1, KeyOwner::Server, DigestLayout::BOTH).unwrap();
        assert!(digest::is_signed(&c2, &live, KeyOwner::Client) && fallback.is_none());

        // A simple live S1 has nothing to sign for: an echo, reported.
        let mut simple = [7u8; LEN];
        simple[4..8].fill(0);
        let (c2, fallback) = C2Answer::Signed.answer(&simple, &signed, &mut rng);
        assert_eq!((c2, fallback), (simple, Some(Fallback::EchoForUnsignedS1)));

        let zeros = [0u8; LEN];
        assert_eq!(C2Answer::classify(&old_s1, &zeros), C2Answer::Verbatim);
        assert_eq!(
            C2Answer::Verbatim.answer(&new_s1, &zeros, &mut rng).0,
            zeros
        );
    }
}
