//! Test-only: the two byte streams of the first TCP connection in one of the project's own
//! captures (`captures/`, committed, recorded by `captures/record.sh`), so unit tests check real
//! peers' bytes on every machine. They are classic little-endian Ethernet pcaps, which this reads
//! alone so that the codecs' tests do not rest on the capture reader they are compared with; the
//! real reader (pcapng, link types, tunnels, gaps) is `crate::capture`'s business. The shared
//! third-party captures are read by the integration suite `tests/shared_captures.rs`, which
//! reports them as ignored, with the reason, where they are absent.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Client-to-server and server-to-client payload of the first TCP connection that has a SYN.
pub struct Streams {
    pub client: Vec<u8>,
    pub server: Vec<u8>,
}

/// The path of `captures/<name>`; it is committed, so its absence is a broken checkout.
pub fn path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    assert!(
        path.is_file(),
        "the project's capture {} is missing (the tests run from a clone)",
        path.display()
    );
    path
}

/// The streams of `captures/<name>`.
pub fn read(name: &str) -> Streams {
    let data = std::fs::read(path(name)).expect("readable capture");
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut at = 24;
    // (src port, dst port) of the SYN; then per direction: seq -> payload.
    let mut conn: Option<(u16, u16)> = None;
    let mut segments: [BTreeMap<u32, Vec<u8>>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let mut isn: [Option<u32>; 2] = [None, None];
    while at + 16 <= data.len() {
        let caplen = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &data[at + 16..(at + 16 + caplen).min(data.len())];
        at += 16 + caplen;
        if frame.len() < 14 + 20 || frame[12..14] != [0x08, 0x00] {
            continue;
        }
        let ip = &frame[14..];
        let ihl = (ip[0] & 0x0f) as usize * 4;
        let total = u16::from_be_bytes([ip[2], ip[3]]) as usize;
        if ip[9] != 6 || ip.len() < ihl + 20 {
            continue;
        }
        let tcp = &ip[ihl..total.min(ip.len())];
        let (sport, dport) = (
            u16::from_be_bytes([tcp[0], tcp[1]]),
            u16::from_be_bytes([tcp[2], tcp[3]]),
        );
        let seq = u32::from_be_bytes(tcp[4..8].try_into().unwrap());
        let flags = tcp[13];
        let payload = &tcp[((tcp[12] >> 4) as usize * 4).min(tcp.len())..];
        if flags & 0x02 != 0 && flags & 0x10 == 0 && conn.is_none() {
            conn = Some((sport, dport));
        }
        let Some((cport, sport_)) = conn else {
            continue;
        };
        let dir = if (sport, dport) == (cport, sport_) {
            0
        } else if (sport, dport) == (sport_, cport) {
            1
        } else {
            continue;
        };
        if flags & 0x02 != 0 {
            isn[dir] = Some(seq.wrapping_add(1));
            continue;
        }
        if !payload.is_empty() {
            // The first copy of a segment wins (retransmissions are ignored).
            segments[dir].entry(seq).or_insert_with(|| payload.to_vec());
        }
    }
    let assemble = |dir: usize| {
        let mut out = Vec::new();
        let mut next = isn[dir].expect("SYN seen");
        let mut progress = true;
        while progress {
            progress = false;
            // Relative order from the ISN copes with sequence wrap-around.
            let mut candidates: Vec<(&u32, &Vec<u8>)> = segments[dir].iter().collect();
            candidates.sort_by_key(|(s, _)| s.wrapping_sub(next));
            for (&seq, payload) in candidates {
                let offset = next.wrapping_sub(seq) as usize;
                if offset < payload.len() && (seq.wrapping_sub(next) as i32) <= 0 {
                    out.extend_from_slice(&payload[offset..]);
                    next = seq.wrapping_add(payload.len() as u32);
                    progress = true;
                }
            }
        }
        out
    };
    Streams {
        client: assemble(0),
        server: assemble(1),
    }
}
