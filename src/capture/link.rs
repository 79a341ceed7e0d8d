//! From a captured frame to the TCP segment inside it: link layers (Ethernet with 802.1Q/QinQ
//! tags, Linux SLL and SLL2, BSD NULL/LOOP, raw IPv4/IPv6), IPv4 and IPv6, and the tunnels seen
//! in real captures (GTP-U on UDP 2152, IP-in-IP).

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::net::{IpAddr, SocketAddr};

/// How deep tunnels may nest before a frame is given up on (a loop of crafted headers would
/// otherwise recurse without end).
const MAX_TUNNEL_DEPTH: usize = 4;

/// A tunnel a segment was found inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tunnel {
    GtpU,
    IpInIp,
}

/// One TCP segment, borrowed from its frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
    /// The innermost tunnel it came through, if any.
    pub tunnel: Option<Tunnel>,
}

/// Why a frame could not be taken apart (frames that simply hold no TCP are `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    #[error("link type {0} is not supported (Ethernet, Linux SLL/SLL2, NULL/LOOP and raw IP are)")]
    UnsupportedLinkType(u32),
    #[error("malformed {layer} header: {problem}")]
    Malformed {
        layer: &'static str,
        problem: String,
    },
}

fn malformed(layer: &'static str, problem: impl ToString) -> LinkError {
    LinkError::Malformed {
        layer,
        problem: problem.to_string(),
    }
}

/// The TCP segment in `frame`, captured with `link_type`.
pub fn tcp_segment(link_type: u32, frame: &[u8]) -> Result<Option<TcpSegment<'_>>, LinkError> {
    let ip = match link_type {
        // Ethernet; etherparse takes the VLAN tags off.
        1 => {
            return from_sliced(
                SlicedPacket::from_ethernet(frame).map_err(|e| malformed("Ethernet", e))?,
                0,
                None,
            )
        }
        // BSD loopback: a 4-byte address family, network order for LOOP and the capturing
        // host's order for NULL. That order is unknown here, but families are small numbers,
        // so of the two readings the smaller is the right one.
        0 | 108 => {
            let family = frame
                .get(..4)
                .ok_or_else(|| malformed("loopback", "shorter than 4 bytes"))?;
            let family = if link_type == 0 {
                u32::from_le_bytes([family[0], family[1], family[2], family[3]]).min(
                    u32::from_be_bytes([family[0], family[1], family[2], family[3]]),
                )
            } else {
                u32::from_be_bytes([family[0], family[1], family[2], family[3]])
            };
            if !matches!(family, 2 | 24 | 28 | 30) {
                return Ok(None);
            }
            &frame[4..]
        }
        // Raw IP (DLT_RAW on its various numbers, LINKTYPE_IPV4, LINKTYPE_IPV6).
        101 | 12 | 14 | 228 | 229 => frame,
        // Linux cooked capture v1: 16-byte header, protocol in the last two bytes.
        113 => {
            let proto = frame
                .get(14..16)
                .ok_or_else(|| malformed("Linux SLL", "shorter than 16 bytes"))?;
            if !matches!(u16::from_be_bytes([proto[0], proto[1]]), 0x0800 | 0x86DD) {
                return Ok(None);
            }
            &frame[16..]
        }
        // Linux cooked capture v2 (`tcpdump -i any`): 20-byte header, protocol first.
        276 => {
            let proto = frame
                .get(0..2)
                .ok_or_else(|| malformed("Linux SLL2", "shorter than 20 bytes"))?;
            if frame.len() < 20
                || !matches!(u16::from_be_bytes([proto[0], proto[1]]), 0x0800 | 0x86DD)
            {
                return Ok(None);
            }
            &frame[20..]
        }
        other => return Err(LinkError::UnsupportedLinkType(other)),
    };
    from_ip(ip, 0, None)
}

fn from_ip(
    ip: &[u8],
    depth: usize,
    tunnel: Option<Tunnel>,
) -> Result<Option<TcpSegment<'_>>, LinkError> {
    if ip.is_empty() {
        return Ok(None);
    }
    from_sliced(
        SlicedPacket::from_ip(ip).map_err(|e| malformed("IP", e))?,
        depth,
        tunnel,
    )
}

fn from_sliced<'a>(
    p: SlicedPacket<'a>,
    depth: usize,
    tunnel: Option<Tunnel>,
) -> Result<Option<TcpSegment<'a>>, LinkError> {
    let (src_ip, dst_ip, inner) = match &p.net {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            (v4.payload().ip_number.0, v4.payload().payload),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            (v6.payload().ip_number.0, v6.payload().payload),
        ),
        _ => return Ok(None),
    };
    match &p.transport {
        Some(TransportSlice::Tcp(tcp)) if !tcp_options_well_formed(tcp.options()) => Err(malformed(
            "TCP",
            format!(
                "options that run past the {}-byte header: the header length is damaged, so the payload is not where it says",
                tcp.options().len() + 20
            ),
        )),
        Some(TransportSlice::Tcp(tcp)) => Ok(Some(TcpSegment {
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
            tunnel,
        })),
        Some(TransportSlice::Udp(udp))
            if udp.destination_port() == 2152 || udp.source_port() == 2152 =>
        {
            if depth >= MAX_TUNNEL_DEPTH {
                return Ok(None);
            }
            from_ip(gtp_u_payload(udp.payload())?, depth + 1, Some(Tunnel::GtpU))
        }
        // IPv4 (4) or IPv6 (41) carried directly in IP.
        None if matches!(inner.0, 4 | 41) && depth < MAX_TUNNEL_DEPTH => {
            from_ip(inner.1, depth + 1, Some(Tunnel::IpInIp))
        }
        _ => Ok(None),
    }
}

/// Whether a TCP options area keeps the layout all options share (RFC 9293 section 3.1): End
/// and No-Operation take one byte, every other kind a length of at least 2 that stays inside the
/// area. A damaged data offset makes payload bytes read as options, which seldom keep it (seen
/// in the 10 %-corruption capture, where the damaged copy is later retransmitted whole).
/// etherparse's options iterator cannot tell: it also rejects sound options of kinds it does
/// not know.
fn tcp_options_well_formed(options: &[u8]) -> bool {
    let mut at = 0;
    while let Some(&kind) = options.get(at) {
        match kind {
            0 => return true,
            1 => at += 1,
            _ => match options.get(at + 1) {
                Some(&len) if len >= 2 && at + usize::from(len) <= options.len() => {
                    at += usize::from(len)
                }
                _ => return false,
            },
        }
    }
    true
}

/// The user payload of a GTP-U G-PDU (3GPP TS 29.281): an 8-byte header, 4 more when any of
/// the E, S or PN flags is set, then extension headers while E says so.
fn gtp_u_payload(gtp: &[u8]) -> Result<&[u8], LinkError> {
    let flags = *gtp.first().ok_or_else(|| malformed("GTP-U", "empty"))?;
    if flags >> 5 != 1 {
        return Err(malformed(
            "GTP-U",
            format!("version {} (expected 1)", flags >> 5),
        ));
    }
    if gtp.get(1) != Some(&0xFF) {
        return Ok(&[]); // not a G-PDU (echo, error indication, ...): no user payload
    }
    let mut at = 8;
    if flags & 0x07 != 0 {
        at = 12;
        let mut next = *gtp
            .get(11)
            .ok_or_else(|| malformed("GTP-U", "truncated optional fields"))?;
        if flags & 0x04 != 0 {
            while next != 0 {
                let units = *gtp
                    .get(at)
                    .ok_or_else(|| malformed("GTP-U", "truncated extension header"))?
                    as usize;
                if units == 0 {
                    return Err(malformed("GTP-U", "extension header of length 0"));
                }
                at += units * 4;
                next = *gtp
                    .get(at - 1)
                    .ok_or_else(|| malformed("GTP-U", "truncated extension header"))?;
            }
        }
    }
    gtp.get(at..)
        .ok_or_else(|| malformed("GTP-U", "header longer than the packet"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    /// The project's own captures (loopback, Ethernet framing) come apart into TCP segments
    /// carrying at least a handshake, none of them damaged; the shared third-party ones (other
    /// link types, VLAN, GTP-U, corruption) are taken apart in `tests/shared_captures.rs`.
    #[test]
    fn every_own_capture_decodes_to_tcp() {
        for name in [
            "ffmpeg-publish-to-ffmpeg-listen.pcap",
            "ffmpeg-publish-to-nginx.pcap",
            "gstreamer-publish-to-nginx.pcap",
            "ffmpeg-play-from-nginx.pcap",
            "rtmpdump-play-from-nginx.pcap",
            "gstreamer-play-from-nginx.pcap",
        ] {
            let path = crate::test_capture::path(name);
            let reader = CaptureReader::new(std::fs::File::open(path).unwrap()).unwrap();
            let (mut frames, mut segments, mut bytes) = (0, 0, 0);
            for frame in reader {
                let frame = frame.expect("the project's captures are sound");
                frames += 1;
                assert_eq!(frame.link_type, 1, "{name}: Ethernet");
                if let Some(s) = tcp_segment(frame.link_type, &frame.data)
                    .unwrap_or_else(|e| panic!("{name}, frame {frames}: {e}"))
                {
                    segments += 1;
                    bytes += s.payload.len();
                }
            }
            assert!(
                segments > 0 && bytes > 3073,
                "{name}: {frames} frames, {segments} segments, {bytes} bytes"
            );
        }
    }

    #[test]
    fn other_link_types_and_bad_frames() {
        // A raw IPv4/TCP packet, then the same behind each link header.
        let mut ip = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(50000, 1935, 7, 100)
            .write(&mut ip, b"\x03hello")
            .unwrap();
        let expect = |link: u32, frame: &[u8]| {
            let s = tcp_segment(link, frame).unwrap().expect("a segment");
            assert_eq!(
                (s.src.port(), s.dst.port(), s.seq, s.payload),
                (50000, 1935, 7, &b"\x03hello"[..]),
                "link {link}"
            );
        };
        expect(101, &ip);
        expect(228, &ip);
        expect(0, &[&2u32.to_le_bytes()[..], &ip].concat());
        expect(108, &[&2u32.to_be_bytes()[..], &ip].concat());
        let mut sll = [0u8; 16];
        sll[14..16].copy_from_slice(&[0x08, 0x00]);
        expect(113, &[&sll[..], &ip].concat());
        let mut sll2 = [0u8; 20];
        sll2[0..2].copy_from_slice(&[0x08, 0x00]);
        expect(276, &[&sll2[..], &ip].concat());
        // IP-in-IP: the packet inside an outer IPv4 header with protocol 4.
        let mut outer = Vec::new();
        etherparse::PacketBuilder::ipv4([1, 1, 1, 1], [2, 2, 2, 2], 64)
            .write(&mut outer, etherparse::IpNumber(4), &ip)
            .unwrap();
        let s = tcp_segment(101, &outer).unwrap().unwrap();
        assert_eq!(s.tunnel, Some(Tunnel::IpInIp));
        assert_eq!(
            tcp_segment(147, &ip),
            Err(LinkError::UnsupportedLinkType(147))
        );
        assert!(matches!(
            tcp_segment(113, &[0; 5]),
            Err(LinkError::Malformed { .. })
        ));
        assert!(matches!(
            gtp_u_payload(&[0x20, 0xFF, 0, 0]),
            Err(LinkError::Malformed { .. })
        ));
    }

    #[test]
    fn tcp_options_keep_their_layout_or_the_header_is_damaged() {
        for sound in [
            &[][..],
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], // NOP NOP timestamps
            &[
                2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7,
            ], // SYN's
            &[34, 2, 1, 1],                         // a kind etherparse does not know
            &[0, 0xff, 0xff, 0xff],                 // End, then padding of any value
        ] {
            assert!(tcp_options_well_formed(sound), "{sound:?}");
        }
        for damaged in [
            &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0x32, 0x26, 0, 0][..], // the capture's
            &[8, 10, 0, 0],                                               // runs past the end
            &[1, 5, 1],                                                   // length 1
            &[1, 1, 1, 3],                                                // no length byte
        ] {
            assert!(!tcp_options_well_formed(damaged), "{damaged:?}");
        }
        // A segment whose data offset grew by 4 words: its first payload bytes read as options.
        let mut frame = Vec::new();
        etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(1935, 50000, 7, 100)
            .options(&[
                etherparse::TcpOptionElement::Noop,
                etherparse::TcpOptionElement::Noop,
                etherparse::TcpOptionElement::Timestamp(1, 2),
            ])
            .unwrap()
            .write(
                &mut frame,
                &[
                    0x84, 0xd4, 0x54, 0x54, 0x32, 0x26, 0xa4, 0x53, 9, 9, 9, 9, 9, 9, 9, 9, 9,
                ],
            )
            .unwrap();
        assert!(tcp_segment(101, &frame).unwrap().is_some());
        frame[20 + 12] += 4 << 4;
        let error = tcp_segment(101, &frame).unwrap_err().to_string();
        assert!(
            error.starts_with("malformed TCP header: options that run past the 48-byte header"),
            "{error}"
        );
    }

    #[test]
    fn a_damaged_file_names_the_offset_and_keeps_what_came_before() {
        let path = crate::test_capture::path("ffmpeg-publish-to-nginx.pcap");
        let bytes = std::fs::read(path).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        let mut reader = CaptureReader::new(cut).unwrap();
        let mut good = 0;
        let error = loop {
            match reader.next_frame() {
                Some(Ok(_)) => good += 1,
                Some(Err(e)) => break e,
                None => panic!("a truncated file must not end quietly"),
            }
        };
        assert!(good > 10);
        let text = error.to_string();
        assert!(text.starts_with("pcap file is damaged at byte "), "{text}");
        assert!(text.contains(&format!("(frame {good})")), "{text}");
        assert!(reader.next_frame().is_none());
        let not = CaptureReader::new(&b"GET / HTTP/1.1"[..])
            .err()
            .unwrap()
            .to_string();
        assert!(not.contains("not a pcap or pcapng file"), "{not}");
    }
}
