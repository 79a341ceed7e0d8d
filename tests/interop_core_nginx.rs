//! The protocol core's client role against a real nginx-rtmp on 127.0.0.1: nginx validates our
//! C1 digest and answers with a digest S1 and a signed S2, which our client validates the way
//! FFmpeg does when it plays; a simple C1 gets nginx's old-style answer (S1 and S2 echo C1).
//! Then connect, through our chunk writer and reader, gets `_result`.

mod support;

use bytes::BytesMut;
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::{ChunkLimits, ChunkReader, ChunkWriter, ReadEvent};
use rtmp_probe::protocol::handshake::{
    C1Body, C1Style, C2Style, ClientConfig, DigestLayout, Handshake, HandshakeEvent, Mode,
    ServerValidation,
};
use rtmp_probe::protocol::message::{self, Message};
use rtmp_probe::protocol::random::RandomSource;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::trials::Need;
use support::Nginx;

/// Runs the handshake and a connect over `stream`; returns the client's handshake events and
/// the server's answer to connect.
fn handshake_and_connect(
    nginx: &Nginx,
    config: ClientConfig,
) -> (Vec<HandshakeEvent>, Option<Mode>, Vec<Message>) {
    let mut stream = TcpStream::connect(nginx.addr).expect("connect to nginx");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut hs = Handshake::client(config, RandomSource::seeded(3));
    let mut out = Vec::new();
    while let Some(t) = hs.poll_transmit() {
        out.extend_from_slice(&t.bytes);
    }
    stream.write_all(&out).unwrap();
    let mut buf = [0u8; 8192];
    let start = Instant::now();
    while !hs.is_complete() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "handshake did not complete"
        );
        let n = stream.read(&mut buf).expect("read from nginx");
        assert!(
            n > 0,
            "nginx closed during the handshake: {}",
            nginx.error_log()
        );
        hs.feed(&buf[..n]).expect("nginx's handshake validates");
        let mut out = Vec::new();
        while let Some(t) = hs.poll_transmit() {
            out.extend_from_slice(&t.bytes);
        }
        stream.write_all(&out).unwrap();
    }
    let events: Vec<HandshakeEvent> = std::iter::from_fn(|| hs.poll_event()).collect();
    let connect = message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([
            ("app", Amf0Value::string("live")),
            (
                "tcUrl",
                Amf0Value::string(format!("rtmp://{}/live", nginx.addr)),
            ),
        ]),
        vec![],
    );
    let mut chunks = BytesMut::new();
    ChunkWriter::new().write(&connect, &mut chunks);
    stream.write_all(&chunks).unwrap();
    let mut reader = ChunkReader::new(ChunkLimits::default());
    reader.feed_bytes(hs.take_remaining());
    let mut answers = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5)
        && !answers.iter().any(|m: &Message| m.name() == "_result")
    {
        while let Some(event) = reader.poll().expect("nginx's chunk stream") {
            if let ReadEvent::Message(m) = event {
                answers.push(Message::decode(&m).expect("nginx's messages decode"));
            }
        }
        if answers.iter().any(|m| m.name() == "_result") {
            break;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => reader.feed(&buf[..n]),
        }
    }
    (events, hs.mode(), answers)
}

fn ids(events: &[HandshakeEvent]) -> Vec<&'static str> {
    events
        .iter()
        .map(|e| rtmp_probe::transcript::DiagnosticId::from(e).as_str())
        .collect()
}

fn digest_client_validates_nginx_and_connects() {
    let nginx = Nginx::start("");
    let mut config = ClientConfig::default();
    config.c1 = C1Style::Digest {
        time: 0,
        version: [9, 0, 124, 2],
        layout: DigestLayout::Base8,
    };
    config.c2 = C2Style::Auto;
    config.validation = ServerValidation::FfmpegPlay;
    let (events, mode, answers) = handshake_and_connect(&nginx, config);
    let ids = ids(&events);
    assert!(ids.contains(&"hs.s1-digest-valid"), "{ids:?}");
    assert_eq!(ids.last(), Some(&"hs.s2-signed"));
    assert_eq!(mode, Some(Mode::Digest(DigestLayout::Base8)));
    // nginx-rtmp's digest S1 carries the version bytes 0D 0E 0A 0D.
    assert!(
        events.iter().any(|e| matches!(
            e,
            HandshakeEvent::Hello {
                packet: rtmp_probe::protocol::handshake::Packet::S1,
                version: [0x0D, 0x0E, 0x0A, 0x0D],
                ..
            }
        )),
        "{events:?}"
    );
    let names: Vec<&str> = answers.iter().map(Message::name).collect();
    assert!(names.contains(&"Window Acknowledgement Size"), "{names:?}");
    assert!(names.contains(&"_result"), "{names:?}");
}

fn simple_client_gets_nginx_old_style_echoes() {
    let nginx = Nginx::start("");
    let mut config = ClientConfig::default();
    config.c1 = C1Style::Simple {
        time: 0x0102_0304,
        version: [0; 4],
        body: C1Body::Random,
    };
    let (events, mode, answers) = handshake_and_connect(&nginx, config);
    assert_eq!(mode, Some(Mode::Simple));
    let ids = ids(&events);
    assert!(ids.contains(&"hs.s1-no-digest"));
    assert_eq!(
        ids.last(),
        Some(&"hs.s2-echo"),
        "nginx's S2 echoes C1: {ids:?}"
    );
    // nginx's old-style S1 is our own C1 echoed back: its time field is ours.
    assert!(events.iter().any(|e| matches!(
        e,
        HandshakeEvent::Hello {
            time: 0x0102_0304,
            ..
        }
    )));
    assert!(answers.iter().any(|m| m.name() == "_result"));
}

fn main() {
    support::trials::run(vec![
        trial!(
            digest_client_validates_nginx_and_connects,
            [Need::NginxRtmp]
        ),
        trial!(simple_client_gets_nginx_old_style_echoes, [Need::NginxRtmp]),
    ]);
}
