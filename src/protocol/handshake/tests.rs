//! Both handshake roles against each other, against real peers' bytes and against random input.
//! One file past 600 lines: every test builds packets with the same helpers at the top.

use super::*;
use proptest::prelude::*;

const FIRST_CHUNK: &[u8] = &[0x03, 0, 0, 0, 0, 0, 5, 20, 0, 0, 0, 0, 1, 2, 3, 4, 5];

fn drain_transmits(hs: &mut Handshake) -> Vec<Transmit> {
    std::iter::from_fn(|| hs.poll_transmit()).collect()
}

fn drain_events(hs: &mut Handshake) -> Vec<HandshakeEvent> {
    std::iter::from_fn(|| hs.poll_event()).collect()
}

fn concat(transmits: &[Transmit]) -> Vec<u8> {
    transmits
        .iter()
        .flat_map(|t| t.bytes.iter().copied())
        .collect()
}

/// An event's catalogue id, which reads shorter in an assertion than the event. Naming is the
/// transcript's (`transcript::protocol_ids`); only these tests borrow it.
fn id(event: &HandshakeEvent) -> &'static str {
    crate::transcript::DiagnosticId::from(event).as_str()
}

fn ids(events: &[HandshakeEvent]) -> Vec<&'static str> {
    events.iter().map(id).collect()
}

fn ffmpeg_client() -> ClientConfig {
    ClientConfig {
        c1: C1Style::Digest {
            time: 0,
            version: [9, 0, 124, 2],
            layout: DigestLayout::Base8,
        },
        c2: C2Style::Auto,
        validation: ServerValidation::FfmpegPlay,
        ..ClientConfig::default()
    }
}

/// Runs a client and a server against each other in memory; returns both.
fn pair(client: ClientConfig, server: ServerConfig) -> (Handshake, Handshake) {
    let mut c = Handshake::client(client, RandomSource::seeded(1));
    let mut s = Handshake::server(server, RandomSource::seeded(2));
    s.feed(&concat(&drain_transmits(&mut c)))
        .expect("server reads C0+C1");
    c.feed(&concat(&drain_transmits(&mut s)))
        .expect("client reads S0+S1+S2");
    s.feed(&concat(&drain_transmits(&mut c)))
        .expect("server reads C2");
    assert!(c.is_complete() && s.is_complete());
    (c, s)
}

/// A simple client's whole output plus the first chunk, as one byte stream, for the server.
fn client_stream(seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut c = Handshake::client(ClientConfig::default(), RandomSource::seeded(seed));
    let c0c1 = concat(&drain_transmits(&mut c));
    let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(seed + 1));
    s.feed(&c0c1).unwrap();
    c.feed(&concat(&drain_transmits(&mut s))).unwrap();
    let mut stream = c0c1;
    stream.extend(concat(&drain_transmits(&mut c)));
    let handshake_len = stream.len();
    let handshake = stream.clone();
    stream.extend_from_slice(FIRST_CHUNK);
    debug_assert_eq!(handshake.len(), handshake_len);
    (stream, handshake)
}

type ServerRun = (Vec<u8>, Vec<HandshakeEvent>, Vec<u8>, bool);

fn run_server(stream: &[u8], cuts: &[usize]) -> ServerRun {
    let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(99));
    let mut out = Vec::new();
    let mut events = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain([stream.len()].iter()) {
        let cut = cut.clamp(last, stream.len());
        s.feed(&stream[last..cut]).unwrap();
        out.extend(concat(&drain_transmits(&mut s)));
        events.extend(drain_events(&mut s));
        last = cut;
    }
    (out, events, s.take_remaining().to_vec(), s.is_complete())
}

#[test]
fn server_accepts_every_segmentation_and_keeps_the_first_chunk() {
    let (stream, _) = client_stream(5);
    let whole = run_server(&stream, &[]);
    assert!(whole.3);
    assert_eq!(
        whole.2, FIRST_CHUNK,
        "the bytes after C2 are handed back untouched"
    );
    assert_eq!(whole.0.len(), 1 + 2 * PACKET_LEN);
    let bytewise: Vec<usize> = (1..stream.len()).collect();
    for cuts in [
        vec![1],             // C0 apart from C1
        vec![1537],          // C0+C1, then C2 + chunk
        vec![1, 1537, 3073], // each packet alone, then the chunk
        vec![1536, 1537],    // C1's last byte alone
        bytewise,            // one byte at a time
    ] {
        assert_eq!(
            run_server(&stream, &cuts),
            whole,
            "cuts {:?}",
            &cuts[..cuts.len().min(4)]
        );
    }
}

#[test]
fn server_emits_s0_on_c0_and_s1_s2_on_c1() {
    let (stream, _) = client_stream(6);
    let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(1));
    s.feed(&stream[..1]).unwrap();
    let t = drain_transmits(&mut s);
    assert_eq!(t.iter().map(|t| t.packet).collect::<Vec<_>>(), [Packet::S0]);
    assert_eq!(&t[0].bytes[..], &[3]);
    s.feed(&stream[1..1000]).unwrap();
    assert!(
        s.poll_transmit().is_none(),
        "nothing more before C1 is complete"
    );
    s.feed(&stream[1000..1537]).unwrap();
    let t = drain_transmits(&mut s);
    assert_eq!(
        t.iter().map(|t| t.packet).collect::<Vec<_>>(),
        [Packet::S1, Packet::S2]
    );
    assert!(!s.is_complete());
    s.feed(&stream[1537..3073]).unwrap();
    assert!(s.is_complete());
    assert!(s.take_remaining().is_empty());
}

#[test]
fn client_emits_c0_c1_at_once_and_c2_as_soon_as_s1_is_complete() {
    let mut c = Handshake::client(ffmpeg_client(), RandomSource::seeded(21));
    let first = drain_transmits(&mut c);
    assert_eq!(
        first.iter().map(|t| t.packet).collect::<Vec<_>>(),
        [Packet::C0, Packet::C1]
    );
    assert_eq!(&first[0].bytes[..], &[3]);
    assert_eq!(first[1].bytes.len(), PACKET_LEN);
    let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(22));
    s.feed(&concat(&first)).unwrap();
    let answer = concat(&drain_transmits(&mut s));
    // S0 alone, then S1 one byte at a time: C2 appears with S1's last byte, not before.
    c.feed(&answer[..1]).unwrap();
    for i in 1..PACKET_LEN {
        c.feed(&answer[i..i + 1]).unwrap();
        assert!(
            c.poll_transmit().is_none(),
            "C2 before S1 is complete (byte {i})"
        );
    }
    assert_eq!(c.mode(), None, "the mode is known once S1 is read");
    c.feed(&answer[PACKET_LEN..=PACKET_LEN]).unwrap();
    let c2 = drain_transmits(&mut c);
    assert_eq!(
        c2.iter().map(|t| t.packet).collect::<Vec<_>>(),
        [Packet::C2]
    );
    assert_eq!(c.mode(), Some(Mode::Digest(DigestLayout::Base8)));
    assert!(!c.is_complete(), "S2 is still to come");
    c.feed(&answer[1 + PACKET_LEN..]).unwrap();
    assert!(c.is_complete());
    // After completion every further byte is the chunk stream's, in order.
    c.feed(&FIRST_CHUNK[..3]).unwrap();
    c.feed(&FIRST_CHUNK[3..]).unwrap();
    assert_eq!(&c.take_remaining()[..], FIRST_CHUNK);
    assert!(c.take_remaining().is_empty());
    assert!(c.poll_transmit().is_none());
}

#[test]
fn version_observations_read_as_one_sentence() {
    let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(1));
    s.feed(&[0]).unwrap();
    assert_eq!(
        s.poll_event().unwrap().to_string(),
        "C0 version 0 (deprecated; answered as version 3)"
    );
    let mut c = Handshake::client(ClientConfig::default(), RandomSource::seeded(1));
    c.feed(&[31]).unwrap();
    assert_eq!(
        c.poll_event().unwrap().to_string(),
        "S0 version 31 (reserved)"
    );
    let not_rtmp = HandshakeError::NotRtmp {
        byte: 0x80,
        looks_like: ForeignProtocol::NotRtmp,
    };
    assert_eq!(
        not_rtmp.to_string(),
        "first byte 0x80 is not an RTMP version: it looks like another protocol (RTMP versions are below 32)"
    );
}

#[test]
fn simple_pair_echoes_both_ways() {
    let (mut c, mut s) = pair(ClientConfig::default(), ServerConfig::default());
    assert_eq!(s.mode(), Some(Mode::Simple));
    assert_eq!(c.mode(), Some(Mode::Simple));
    let server_ids = ids(&drain_events(&mut s));
    assert_eq!(
        server_ids,
        [
            "hs.c0-version",
            "hs.c1-fields",
            "hs.c1-no-digest",
            "hs.mode-simple",
            "hs.c2-echo"
        ]
    );
    let client_ids = ids(&drain_events(&mut c));
    assert_eq!(
        client_ids,
        [
            "hs.s0-version",
            "hs.s1-fields",
            "hs.s1-no-digest",
            "hs.s2-echo"
        ]
    );
}

#[test]
fn digest_pair_in_both_layouts_with_ffmpeg_play_validation() {
    for layout in DigestLayout::BOTH {
        let client = ClientConfig {
            c1: C1Style::Digest {
                time: 0,
                version: [9, 0, 124, 2],
                layout,
            },
            ..ffmpeg_client()
        };
        let (mut c, mut s) = pair(client, ServerConfig::default());
        assert_eq!(s.mode(), Some(Mode::Digest(layout)));
        assert_eq!(c.mode(), Some(Mode::Digest(layout)));
        let server_events = drain_events(&mut s);
        assert!(server_events.contains(&HandshakeEvent::DigestValid {
            packet: Packet::C1,
            layout
        }));
        assert_eq!(server_events.last().map(|e| id(e)), Some("hs.c2-signed"));
        let client_ids = ids(&drain_events(&mut c));
        assert!(client_ids.contains(&"hs.s1-digest-valid"));
        assert_eq!(client_ids.last(), Some(&"hs.s2-signed"));
    }
}

#[test]
fn c2_styles_answer_s1_as_configured() {
    let cases = [
        (C2Style::EchoS1, "hs.c2-echo"),
        (C2Style::EchoS1ZeroTime2, "hs.c2-echo-from-8"),
        (C2Style::EchoS1WithTime2(0x0052_8cda), "hs.c2-echo-from-8"),
        (C2Style::Signed, "hs.c2-signed"),
        (C2Style::Auto, "hs.c2-signed"),
    ];
    for (c2, expected) in cases {
        let client = ClientConfig {
            c2,
            ..ffmpeg_client()
        };
        let (_, mut s) = pair(client, ServerConfig::default());
        assert_eq!(
            drain_events(&mut s).last().map(|e| id(e)),
            Some(expected),
            "{c2:?}"
        );
    }
    // Against a simple server a signing client (SRS) still signs: with the S1 bytes where its
    // C1 layout puts a digest, so C2 is neither an echo nor valid for the server.
    let client = ClientConfig {
        c2: C2Style::Signed,
        ..ffmpeg_client()
    };
    let simple = ServerConfig {
        digest: ServerDigest::SimpleOnly,
        ..ServerConfig::default()
    };
    let (mut c, mut s) = pair(client, simple);
    assert!(ids(&drain_events(&mut c)).contains(&"hs.c2-signed-without-s1-digest"));
    assert_eq!(
        drain_events(&mut s).last().map(|e| id(e)),
        Some("hs.c2-not-echo")
    );
}

#[test]
fn auto_c2_echoes_a_simple_server_without_a_fallback_note() {
    let client = ClientConfig {
        validation: ServerValidation::None,
        ..ffmpeg_client()
    };
    let simple = ServerConfig {
        digest: ServerDigest::SimpleOnly,
        ..ServerConfig::default()
    };
    let (mut c, mut s) = pair(client, simple);
    let client_ids = ids(&drain_events(&mut c));
    assert!(
        !client_ids.contains(&"hs.c2-signed-without-s1-digest"),
        "{client_ids:?}"
    );
    assert_eq!(c.mode(), Some(Mode::Simple));
    assert_eq!(
        drain_events(&mut s).last().map(|e| id(e)),
        Some("hs.c2-echo")
    );
}

#[test]
fn videocore_like_client_sends_a_zero_c1_and_zeroes_c2_time2() {
    let videocore = ClientConfig {
        c1: C1Style::Simple {
            time: 0,
            version: [0; 4],
            body: C1Body::Zero,
        },
        c2: C2Style::EchoS1ZeroTime2,
        strict_s0: true,
        ..ClientConfig::default()
    };
    let mut c = Handshake::client(videocore, RandomSource::seeded(1));
    let c0c1 = concat(&drain_transmits(&mut c));
    assert_eq!(c0c1[0], 3);
    assert!(c0c1[1..].iter().all(|&b| b == 0), "C1 is all zero");
    let server = ServerConfig {
        time: 0x0102_0304,
        digest_version: [1, 2, 3, 4],
        ..ServerConfig::default()
    };
    let mut s = Handshake::server(server, RandomSource::seeded(2));
    s.feed(&c0c1).unwrap();
    let s_out = drain_transmits(&mut s);
    assert_eq!(&s_out[1].bytes[..8], &[1, 2, 3, 4, 0, 0, 0, 0], "simple S1");
    c.feed(&concat(&s_out)).unwrap();
    let c2 = drain_transmits(&mut c);
    assert_eq!(&c2[0].bytes[..8], &[1, 2, 3, 4, 0, 0, 0, 0]);
    assert_eq!(&c2[0].bytes[8..], &s_out[1].bytes[8..]);
    // S2 echoes the all-zero C1: the client sees an exact echo, not "all zero bytes".
    assert_eq!(
        drain_events(&mut c).last().map(|e| id(e)),
        Some("hs.s2-echo")
    );
}

#[test]
fn server_s2_styles() {
    let cases = [
        (SimpleS2Style::EchoC1, "hs.s2-echo"),
        (SimpleS2Style::EchoC1ZeroTime2, "hs.s2-echo-from-8"),
        (SimpleS2Style::Zero, "hs.s2-zero"),
    ];
    for (simple_s2, expected) in cases {
        let server = ServerConfig {
            simple_s2,
            digest: ServerDigest::SimpleOnly,
            ..ServerConfig::default()
        };
        // A non-zero version field, as FFmpeg's C1 has, tells "exact" from "from byte 8".
        let client = ClientConfig {
            c1: C1Style::Simple {
                time: 0,
                version: [9, 0, 124, 2],
                body: C1Body::Random,
            },
            ..ClientConfig::default()
        };
        let (mut c, _) = pair(client, server);
        assert_eq!(drain_events(&mut c).last().map(|e| id(e)), Some(expected));
    }
}

#[test]
fn nginx_old_style_s1_echoes_c1_and_ffmpeg_listen_echoes_c1_time() {
    let client = ClientConfig {
        c1: C1Style::Simple {
            time: 0x01020304,
            version: [0; 4],
            body: C1Body::Random,
        },
        ..ClientConfig::default()
    };
    let mut c = Handshake::client(client, RandomSource::seeded(3));
    let c0c1 = concat(&drain_transmits(&mut c));
    let server = ServerConfig {
        simple_s1: SimpleS1Body::EchoC1,
        ..ServerConfig::default()
    };
    let mut s = Handshake::server(server, RandomSource::seeded(4));
    s.feed(&c0c1).unwrap();
    let out = drain_transmits(&mut s);
    assert_eq!(&out[1].bytes[..], &c0c1[1..]);
    let ffmpeg = ServerConfig {
        s1_echo_c1_time: true,
        digest: ServerDigest::SimpleOnly,
        ..ServerConfig::default()
    };
    let mut s = Handshake::server(ffmpeg, RandomSource::seeded(4));
    s.feed(&c0c1).unwrap();
    let out = drain_transmits(&mut s);
    assert_eq!(&out[1].bytes[..4], &[1, 2, 3, 4]);
    assert_eq!(&out[1].bytes[4..8], &[0; 4]);
}

#[test]
fn server_falls_back_to_simple_for_a_version_without_a_valid_digest() {
    let client = ClientConfig {
        c1: C1Style::Simple {
            time: 0,
            version: [4, 0, 0, 1],
            body: C1Body::Random,
        },
        ..ClientConfig::default()
    };
    let (_, mut s) = pair(client, ServerConfig::default());
    assert_eq!(s.mode(), Some(Mode::Simple));
    let server_ids = ids(&drain_events(&mut s));
    assert!(server_ids.contains(&"hs.c1-digest-invalid"));
    assert!(server_ids.contains(&"hs.mode-simple"));
}

#[test]
fn ffmpeg_play_fails_hard_on_a_bad_s1_digest_or_s2_signature() {
    for corrupt_at in [PACKET_LEN / 2 + 1, 1 + PACKET_LEN + PACKET_LEN - 1] {
        let mut c = Handshake::client(ffmpeg_client(), RandomSource::seeded(1));
        let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(2));
        s.feed(&concat(&drain_transmits(&mut c))).unwrap();
        let mut answer = concat(&drain_transmits(&mut s));
        // Flip a byte well away from S1's digest (which sits below offset 800 + 12 in base 8):
        // S1's tail breaks the digest HMAC; S2's last byte breaks its signature.
        answer[corrupt_at] ^= 0xff;
        let error = c.feed(&answer).expect_err("validation must fail");
        let expected = if corrupt_at <= PACKET_LEN {
            HandshakeError::S1DigestInvalid { version: 0x0D }
        } else {
            HandshakeError::S2SignatureInvalid
        };
        assert_eq!(error, expected);
        assert!(matches!(c.feed(&[0]), Err(HandshakeError::Failed(_))));
    }
}

#[test]
fn ffmpeg_play_with_a_simple_c1_checks_only_s1() {
    // Nothing can sign S2 for a C1 without a digest, so only S1's digest is required.
    let client = ClientConfig {
        c1: C1Style::Simple {
            time: 0,
            version: [0; 4],
            body: C1Body::Random,
        },
        ..ffmpeg_client()
    };
    let mut c = Handshake::client(client, RandomSource::seeded(1));
    // A server with the default config answers a simple C1 simply; give the client a digest
    // S1 by hand: a nginx-like S1 and a random S2.
    drain_transmits(&mut c);
    let mut s1 = [7u8; PACKET_LEN];
    s1[4..8].copy_from_slice(&[0x0D, 0x0E, 0x0A, 0x0D]);
    digest::imprint(&mut s1, DigestLayout::Base772, KeyOwner::Server);
    let mut answer = vec![3];
    answer.extend_from_slice(&s1);
    answer.extend_from_slice(&[9u8; PACKET_LEN]);
    c.feed(&answer)
        .expect("S1 validates and S2 has nothing to be checked against");
    assert!(c.is_complete());
    assert_eq!(c.mode(), Some(Mode::Simple));
    let ids = ids(&drain_events(&mut c));
    assert!(ids.contains(&"hs.s1-digest-valid"), "{ids:?}");
    assert_eq!(ids.last(), Some(&"hs.s2-not-echo"));
    // The same S1 with a broken digest is still fatal.
    let mut c = Handshake::client(client, RandomSource::seeded(1));
    answer[1 + 1000] ^= 1;
    assert_eq!(
        c.feed(&answer),
        Err(HandshakeError::S1DigestInvalid { version: 0x0D })
    );
}

#[test]
fn a_publishing_client_does_not_validate() {
    let client = ClientConfig {
        validation: ServerValidation::None,
        ..ffmpeg_client()
    };
    let mut c = Handshake::client(client, RandomSource::seeded(1));
    let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(2));
    s.feed(&concat(&drain_transmits(&mut c))).unwrap();
    let mut answer = concat(&drain_transmits(&mut s));
    let last = answer.len() - 1;
    answer[last] ^= 0xff;
    c.feed(&answer).expect("only observed");
    assert!(ids(&drain_events(&mut c)).contains(&"hs.s2-not-echo"));
}

#[test]
fn strict_s0_client_stops_on_another_version() {
    let strict = ClientConfig {
        strict_s0: true,
        ..ClientConfig::default()
    };
    let mut c = Handshake::client(strict, RandomSource::seeded(1));
    assert_eq!(c.feed(&[6]), Err(HandshakeError::UnexpectedS0 { byte: 6 }));
    let mut lenient = Handshake::client(ClientConfig::default(), RandomSource::seeded(1));
    lenient.feed(&[6]).expect("observed only");
    assert_eq!(
        lenient.poll_event().map(|e| id(&e)),
        Some("hs.s0-version-unusual")
    );
}

#[test]
fn foreign_first_bytes_are_named() {
    let cases = [
        (b'G', ForeignProtocol::Http),
        (b'P', ForeignProtocol::Http),
        (b'H', ForeignProtocol::Http),
        (0x16, ForeignProtocol::Tls),
        (6, ForeignProtocol::Rtmpe),
        (8, ForeignProtocol::Rtmpe),
        (9, ForeignProtocol::Rtmpe),
        (0xF3, ForeignProtocol::ProxyPrefix),
        (0x80, ForeignProtocol::NotRtmp),
        (32, ForeignProtocol::NotRtmp),
    ];
    for (byte, looks_like) in cases {
        let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(1));
        let error = s.feed(&[byte, 1, 2]).unwrap_err();
        assert_eq!(error, HandshakeError::NotRtmp { byte, looks_like });
        assert!(
            s.poll_transmit().is_none(),
            "nothing is written to a foreign peer"
        );
    }
    let message = HandshakeError::NotRtmp {
        byte: b'G',
        looks_like: ForeignProtocol::Http,
    }
    .to_string();
    assert_eq!(
        message,
        "first byte 0x47 is not an RTMP version: it looks like an HTTP request (was the stream pushed to an http:// URL?)"
    );
    for byte in [0u8, 2, 4, 31] {
        let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(1));
        s.feed(&[byte])
            .expect("deprecated and reserved versions go on");
        assert_eq!(
            s.poll_event().map(|e| id(&e)),
            Some("hs.c0-version-unusual")
        );
        assert_eq!(&s.poll_transmit().unwrap().bytes[..], &[3]);
    }
}

#[test]
fn same_seed_same_bytes() {
    let a = concat(&drain_transmits(&mut Handshake::client(
        ffmpeg_client(),
        RandomSource::seeded(7),
    )));
    let b = concat(&drain_transmits(&mut Handshake::client(
        ffmpeg_client(),
        RandomSource::seeded(7),
    )));
    let c = concat(&drain_transmits(&mut Handshake::client(
        ffmpeg_client(),
        RandomSource::seeded(8),
    )));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

// ----- an independent implementation: rml_rtmp 0.8 -----

mod rml {
    use super::*;
    use rml_rtmp::handshake::{Handshake as Rml, HandshakeProcessResult, PeerType};

    fn response(r: HandshakeProcessResult) -> (Vec<u8>, bool) {
        match r {
            HandshakeProcessResult::InProgress { response_bytes } => (response_bytes, false),
            HandshakeProcessResult::Completed { response_bytes, .. } => (response_bytes, true),
        }
    }

    #[test]
    fn our_validating_client_completes_against_rml_server() {
        let mut ours = Handshake::client(ffmpeg_client(), RandomSource::seeded(11));
        let mut theirs = Rml::new(PeerType::Server);
        let (s0s1s2, _) = response(
            theirs
                .process_bytes(&concat(&drain_transmits(&mut ours)))
                .unwrap(),
        );
        ours.feed(&s0s1s2)
            .expect("rml's S1 digest and S2 signature validate");
        let events = ids(&drain_events(&mut ours));
        assert!(events.contains(&"hs.s1-digest-valid"), "{events:?}");
        assert_eq!(events.last(), Some(&"hs.s2-signed"));
        let (_, done) = response(
            theirs
                .process_bytes(&concat(&drain_transmits(&mut ours)))
                .unwrap(),
        );
        assert!(done && ours.is_complete());
    }

    #[test]
    fn rml_client_completes_against_our_server_in_digest_mode() {
        let mut theirs = Rml::new(PeerType::Client);
        let mut ours = Handshake::server(ServerConfig::default(), RandomSource::seeded(12));
        ours.feed(&theirs.generate_outbound_p0_and_p1().unwrap())
            .unwrap();
        assert!(
            matches!(ours.mode(), Some(Mode::Digest(_))),
            "rml's C1 digest is found"
        );
        let (c2, done) = response(
            theirs
                .process_bytes(&concat(&drain_transmits(&mut ours)))
                .unwrap(),
        );
        assert!(done, "rml accepts our S1 and S2");
        ours.feed(&c2).unwrap();
        assert!(ours.is_complete());
    }
}

// ----- real peers' bytes -----

#[test]
fn ffmpeg_c1_and_nginx_digest_answer_from_a_real_capture() {
    let streams = crate::test_capture::read("ffmpeg-publish-to-nginx.pcap");
    // FFmpeg's C1: version 9.0.124.2 and a valid client digest in the base-8 layout.
    let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(1));
    server.feed(&streams.client[..1 + PACKET_LEN]).unwrap();
    let events = drain_events(&mut server);
    assert!(events.contains(&HandshakeEvent::Hello {
        packet: Packet::C1,
        time: 0,
        version: [9, 0, 124, 2]
    }));
    assert!(events.contains(&HandshakeEvent::DigestValid {
        packet: Packet::C1,
        layout: DigestLayout::Base8
    }));
    // nginx-rtmp's answer: S1 with a server digest, S2 signed for FFmpeg's C1 digest. Replaying
    // FFmpeg's own C1 through a client is not possible (its random bytes are its own), so the
    // validators are checked directly on the captured packets.
    let c1: [u8; PACKET_LEN] = streams.client[1..1 + PACKET_LEN].try_into().unwrap();
    let s1: [u8; PACKET_LEN] = streams.server[1..1 + PACKET_LEN].try_into().unwrap();
    let s2: [u8; PACKET_LEN] = streams.server[1 + PACKET_LEN..1 + 2 * PACKET_LEN]
        .try_into()
        .unwrap();
    assert_eq!(streams.server[0], 3);
    assert_eq!(&s1[4..8], &[0x0D, 0x0E, 0x0A, 0x0D]);
    let (layout, _) =
        digest::find(&s1, KeyOwner::Server, DigestLayout::BOTH).expect("nginx's S1 digest");
    assert_eq!(layout, DigestLayout::Base8);
    let (_, c1_digest) = digest::find(&c1, KeyOwner::Client, DigestLayout::BOTH).unwrap();
    assert!(digest::is_signed(&s2, &c1_digest, KeyOwner::Server));
    // FFmpeg publishing answers with an echo of S1.
    assert_eq!(&streams.client[1 + PACKET_LEN..1 + 2 * PACKET_LEN], &s1[..]);
}

#[test]
fn ffmpeg_listen_answer_from_a_real_capture() {
    let streams = crate::test_capture::read("ffmpeg-publish-to-ffmpeg-listen.pcap");
    let c1 = &streams.client[1..1 + PACKET_LEN];
    let s1 = &streams.server[1..1 + PACKET_LEN];
    let s2 = &streams.server[1 + PACKET_LEN..1 + 2 * PACKET_LEN];
    assert_eq!(&s1[4..8], &[0; 4], "simple S1");
    assert_eq!(&s1[..4], &c1[..4], "S1 time = C1 time");
    assert_eq!(&s2[..4], &c1[..4]);
    assert_eq!(&s2[4..8], &[0; 4], "S2 = C1 with bytes 4..8 zeroed");
    assert_eq!(&s2[8..], &c1[8..]);
    // Our ffmpeg-style server config reproduces exactly that S2 for FFmpeg's real C1.
    let ffmpeg = ServerConfig {
        digest: ServerDigest::SimpleOnly,
        s1_echo_c1_time: true,
        simple_s2: SimpleS2Style::EchoC1ZeroTime2,
        ..ServerConfig::default()
    };
    let mut server = Handshake::server(ffmpeg, RandomSource::seeded(1));
    server.feed(&streams.client[..1 + PACKET_LEN]).unwrap();
    let out = drain_transmits(&mut server);
    assert_eq!(&out[2].bytes[..], s2);
    // And the client-side observation of that real S2 says what it is.
    let mut c1_arr = [0u8; PACKET_LEN];
    c1_arr.copy_from_slice(c1);
    let echo = Echo {
        exact: s2 == c1,
        time_matches: s2[..4] == c1[..4],
        random_matches: s2[8..] == c1[8..],
        all_zero: false,
        signed: None,
    };
    assert_eq!(
        id(&HandshakeEvent::Answer {
            packet: Packet::S2,
            echo
        }),
        "hs.s2-echo-from-8"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_segmentation_gives_the_same_server_result(
        seed in 0u64..1000,
        mut cuts in proptest::collection::vec(0usize..3200, 0..12),
    ) {
        let (stream, _) = client_stream(seed);
        cuts.sort_unstable();
        prop_assert_eq!(run_server(&stream, &cuts), run_server(&stream, &[]));
    }

    #[test]
    fn any_segmentation_gives_the_same_client_result(
        seed in 0u64..1000,
        mut cuts in proptest::collection::vec(0usize..3100, 0..12),
    ) {
        let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(seed));
        let mut c = Handshake::client(ffmpeg_client(), RandomSource::seeded(seed + 1));
        s.feed(&concat(&drain_transmits(&mut c))).unwrap();
        let mut stream = concat(&drain_transmits(&mut s));
        stream.extend_from_slice(FIRST_CHUNK);
        let run = |cuts: &[usize]| {
            let mut c = Handshake::client(ffmpeg_client(), RandomSource::seeded(seed + 1));
            drain_transmits(&mut c);
            let mut out = Vec::new();
            let mut events = Vec::new();
            let mut last = 0;
            for &cut in cuts.iter().chain([stream.len()].iter()) {
                let cut = cut.clamp(last, stream.len());
                c.feed(&stream[last..cut]).unwrap();
                out.extend(concat(&drain_transmits(&mut c)));
                events.extend(drain_events(&mut c));
                last = cut;
            }
            (out, events, c.take_remaining().to_vec(), c.is_complete())
        };
        cuts.sort_unstable();
        let whole = run(&[]);
        prop_assert!(whole.3);
        prop_assert_eq!(&whole.2[..], FIRST_CHUNK);
        prop_assert_eq!(run(&cuts), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_server(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        let mut s = Handshake::server(ServerConfig::default(), RandomSource::seeded(0));
        let _ = s.feed(&bytes);
        while s.poll_transmit().is_some() {}
        while let Some(e) = s.poll_event() { let _ = e.to_string(); }
    }
}

#[test]
fn analyze_reads_a_captured_digest_handshake() {
    let streams = crate::test_capture::read("ffmpeg-publish-to-nginx.pcap");
    let ids: Vec<&str> = analyze(&streams.client[..3073], &streams.server[..3073])
        .iter()
        .map(id)
        .collect();
    assert_eq!(
        ids,
        [
            "hs.c0-version",
            "hs.c1-fields",
            "hs.c1-digest-valid",
            "hs.s0-version",
            "hs.s1-fields",
            "hs.s1-digest-valid",
            "hs.mode-digest",
            "hs.s2-signed",
            "hs.c2-echo"
        ]
    );
    assert_eq!(
        analyze(&[3], &[]).len(),
        1,
        "partial input gives what it can"
    );
}

#[test]
fn a_versioned_simple_s1_fails_ffmpeg_play_and_passes_a_publisher() {
    let server = ServerConfig {
        digest: ServerDigest::SimpleOnly,
        simple_s1: SimpleS1Body::RandomWithVersion([0x0D, 0x0E, 0x0A, 0x0D]),
        ..ServerConfig::default()
    };
    let mut c = Handshake::client(ffmpeg_client(), RandomSource::seeded(1));
    let mut s = Handshake::server(server.clone(), RandomSource::seeded(2));
    s.feed(&concat(&drain_transmits(&mut c))).unwrap();
    let answer = concat(&drain_transmits(&mut s));
    assert_eq!(&answer[1 + 4..1 + 8], &[0x0D, 0x0E, 0x0A, 0x0D]);
    assert_eq!(
        c.feed(&answer),
        Err(HandshakeError::S1DigestInvalid { version: 0x0D })
    );
    let publisher = ClientConfig {
        validation: ServerValidation::None,
        ..ffmpeg_client()
    };
    let (_, s) = pair(publisher, server);
    assert_eq!(s.mode(), Some(Mode::Simple));
}

#[test]
fn a_server_answering_s0_6_stops_only_a_strict_client() {
    let server = ServerConfig {
        s0_version: 6,
        ..ServerConfig::default()
    };
    let strict = ClientConfig {
        strict_s0: true,
        ..ClientConfig::default()
    };
    let mut c = Handshake::client(strict, RandomSource::seeded(1));
    let mut s = Handshake::server(server.clone(), RandomSource::seeded(2));
    s.feed(&concat(&drain_transmits(&mut c))).unwrap();
    let answer = concat(&drain_transmits(&mut s));
    assert_eq!(answer[0], 6);
    assert_eq!(
        c.feed(&answer),
        Err(HandshakeError::UnexpectedS0 { byte: 6 })
    );
    let (c, _) = pair(ClientConfig::default(), server);
    assert!(c.is_complete());
}

#[test]
fn a_random_s2_is_noticed_by_the_client() {
    let server = ServerConfig {
        simple_s2: SimpleS2Style::Random,
        ..ServerConfig::default()
    };
    let (mut c, _) = pair(ClientConfig::default(), server);
    assert_eq!(ids(&drain_events(&mut c)).last(), Some(&"hs.s2-not-echo"));
}
