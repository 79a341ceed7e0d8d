//! The Flash Player 9 ("complex") handshake's digests and signatures.
//!
//! A C1 or S1 packet may carry a 32-byte HMAC-SHA256 digest at an offset derived from four of its
//! own bytes; a C2 or S2 may be "signed": its last 32 bytes are an HMAC keyed by a hash of the
//! peer's digest. The keys are the well-known constants Adobe's players and servers use.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::OnceLock;

type HmacSha256 = Hmac<Sha256>;

pub(crate) const PACKET_LEN: usize = 1536;
pub(crate) const DIGEST_LEN: usize = 32;
/// Bytes of a signed C2/S2 covered by its signature (the rest is the signature).
const SIGNED_LEN: usize = PACKET_LEN - DIGEST_LEN;

const KEY_TAIL: [u8; 32] = [
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
];
const FP_TEXT: &[u8; 30] = b"Genuine Adobe Flash Player 001";
const FMS_TEXT: &[u8; 36] = b"Genuine Adobe Flash Media Server 001";

/// Who made a digest: the client's (Flash Player) key or the server's (Flash Media Server) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyOwner {
    Client,
    Server,
}

/// Where a C1/S1 keeps its digest. Both are in use: "digest first" (offset from bytes 8..12) is
/// FFmpeg's and librtmp's default, "key first" (offset from bytes 772..776) is FFmpeg's RTMPE
/// layout and rml_rtmp's server layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestLayout {
    Base8,
    Base772,
}

impl DigestLayout {
    pub const BOTH: [DigestLayout; 2] = [DigestLayout::Base8, DigestLayout::Base772];

    /// Offset of the 32-byte digest inside `packet` (1536 bytes).
    pub fn offset(self, packet: &[u8; PACKET_LEN]) -> usize {
        let (at, base) = match self {
            DigestLayout::Base8 => (8, 12),
            DigestLayout::Base772 => (772, 776),
        };
        let sum: usize = packet[at..at + 4].iter().map(|&b| b as usize).sum();
        sum % 728 + base
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestLayout::Base8 => "base 8",
            DigestLayout::Base772 => "base 772",
        }
    }
}

/// HMAC states keyed once and cloned per use: keying costs two SHA-256 blocks every time.
struct Keys {
    fp_partial: HmacSha256,
    fms_partial: HmacSha256,
    fp_full: HmacSha256,
    fms_full: HmacSha256,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let full = |text: &[u8]| {
            let mut k = text.to_vec();
            k.extend_from_slice(&KEY_TAIL);
            HmacSha256::new_from_slice(&k).expect("HMAC takes keys of any length")
        };
        Keys {
            fp_partial: HmacSha256::new_from_slice(FP_TEXT).expect("any length"),
            fms_partial: HmacSha256::new_from_slice(FMS_TEXT).expect("any length"),
            fp_full: full(FP_TEXT),
            fms_full: full(FMS_TEXT),
        }
    })
}

fn partial_key(owner: KeyOwner) -> HmacSha256 {
    match owner {
        KeyOwner::Client => keys().fp_partial.clone(),
        KeyOwner::Server => keys().fms_partial.clone(),
    }
}

/// The digest `packet` should carry at `offset`: HMAC over the packet without those 32 bytes.
fn digest_at(packet: &[u8; PACKET_LEN], offset: usize, owner: KeyOwner) -> [u8; DIGEST_LEN] {
    let mut mac = partial_key(owner);
    mac.update(&packet[..offset]);
    mac.update(&packet[offset + DIGEST_LEN..]);
    mac.finalize().into_bytes().into()
}

/// Writes the digest into `packet` in `layout`.
pub fn imprint(packet: &mut [u8; PACKET_LEN], layout: DigestLayout, owner: KeyOwner) {
    let offset = layout.offset(packet);
    let digest = digest_at(packet, offset, owner);
    packet[offset..offset + DIGEST_LEN].copy_from_slice(&digest);
}

/// The digest of `packet` if it carries a valid one in `layout`.
pub fn validate(
    packet: &[u8; PACKET_LEN],
    layout: DigestLayout,
    owner: KeyOwner,
) -> Option<[u8; DIGEST_LEN]> {
    let offset = layout.offset(packet);
    let expected = digest_at(packet, offset, owner);
    let found = &packet[offset..offset + DIGEST_LEN];
    (found == expected).then_some(expected)
}

/// Tries the layouts in `order`; the first that validates wins.
pub fn find(
    packet: &[u8; PACKET_LEN],
    owner: KeyOwner,
    order: [DigestLayout; 2],
) -> Option<(DigestLayout, [u8; DIGEST_LEN])> {
    order
        .into_iter()
        .find_map(|layout| validate(packet, layout, owner).map(|d| (layout, d)))
}

/// The signature a C2/S2 carries in its last 32 bytes: HMAC over its first 1504 bytes, keyed by
/// HMAC(full key of `signer`, the peer's C1/S1 digest).
fn signature(
    packet: &[u8; PACKET_LEN],
    peer_digest: &[u8; DIGEST_LEN],
    signer: KeyOwner,
) -> [u8; DIGEST_LEN] {
    let mut key_mac = match signer {
        KeyOwner::Client => keys().fp_full.clone(),
        KeyOwner::Server => keys().fms_full.clone(),
    };
    key_mac.update(peer_digest);
    let key = key_mac.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(&key).expect("any length");
    mac.update(&packet[..SIGNED_LEN]);
    mac.finalize().into_bytes().into()
}

/// Signs `packet` (random bytes already in place) for a peer whose digest is `peer_digest`.
pub fn sign(packet: &mut [u8; PACKET_LEN], peer_digest: &[u8; DIGEST_LEN], signer: KeyOwner) {
    let sig = signature(packet, peer_digest, signer);
    packet[SIGNED_LEN..].copy_from_slice(&sig);
}

/// Whether `packet` is signed by `signer` for the peer digest `peer_digest`.
pub fn is_signed(
    packet: &[u8; PACKET_LEN],
    peer_digest: &[u8; DIGEST_LEN],
    signer: KeyOwner,
) -> bool {
    packet[SIGNED_LEN..] == signature(packet, peer_digest, signer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(fill: u8) -> [u8; PACKET_LEN] {
        let mut p = [0u8; PACKET_LEN];
        for (i, b) in p.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(31).wrapping_add(fill);
        }
        p
    }

    #[test]
    fn offsets_follow_the_two_layouts() {
        let mut p = [0u8; PACKET_LEN];
        p[8..12].copy_from_slice(&[200, 200, 200, 200]); // 800 % 728 = 72
        p[772..776].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(DigestLayout::Base8.offset(&p), 72 + 12);
        assert_eq!(DigestLayout::Base772.offset(&p), 10 + 776);
        // The digest always fits inside the packet.
        p[8..12].copy_from_slice(&[255; 4]);
        p[772..776].copy_from_slice(&[255; 4]);
        assert!(DigestLayout::Base8.offset(&p) + DIGEST_LEN <= PACKET_LEN);
        assert!(DigestLayout::Base772.offset(&p) + DIGEST_LEN <= PACKET_LEN);
    }

    #[test]
    fn an_imprinted_digest_validates_only_with_its_layout_and_key() {
        for layout in DigestLayout::BOTH {
            let mut p = packet(7);
            imprint(&mut p, layout, KeyOwner::Client);
            assert!(validate(&p, layout, KeyOwner::Client).is_some());
            assert!(validate(&p, layout, KeyOwner::Server).is_none());
            assert_eq!(
                find(&p, KeyOwner::Client, DigestLayout::BOTH).map(|f| f.0),
                Some(layout)
            );
            p[100] ^= 1;
            p[1000] ^= 1;
            assert!(find(&p, KeyOwner::Client, DigestLayout::BOTH).is_none());
        }
    }

    #[test]
    fn signatures_bind_to_the_peer_digest_and_the_signer() {
        let mut p = packet(3);
        let digest = [9u8; DIGEST_LEN];
        sign(&mut p, &digest, KeyOwner::Server);
        assert!(is_signed(&p, &digest, KeyOwner::Server));
        assert!(!is_signed(&p, &digest, KeyOwner::Client));
        assert!(!is_signed(&p, &[8u8; DIGEST_LEN], KeyOwner::Server));
    }
}
