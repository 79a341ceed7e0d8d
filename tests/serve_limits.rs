//! `serve`'s limits on loopback, with the project's own client core as the peer: handshake and
//! idle timeouts, refused connections, foreign protocols, and a bad connection not disturbing a
//! good one. Every wait is bounded.

mod support;

use support::{closed_by_server, Running};

use bytes::BytesMut;
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::ChunkWriter;
use rtmp_probe::protocol::connection::Timeout;
use rtmp_probe::protocol::message;
use rtmp_probe::serve::ServeOptions;
use rtmp_probe::transcript::CloseCause;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn options() -> ServeOptions {
    let mut options = ServeOptions::default();
    options.listen = ([127, 0, 0, 1], 0).into();
    options.seed = Some(1);
    options
}

/// A well-behaved client: handshake, then connect; true when `_result` came back in time.
fn good_client(addr: SocketAddr) -> bool {
    good_client_stream(addr).is_some()
}

/// [`good_client`], keeping the connection open.
fn good_client_stream(addr: SocketAddr) -> Option<TcpStream> {
    let start = Instant::now();
    let (mut s, mut hs) = support::client_handshake(addr, Duration::from_secs(3)).ok()?;
    let mut buf = [0u8; 8192];
    let connect = message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([("app", Amf0Value::string("live"))]),
        vec![],
    );
    let mut chunks = BytesMut::new();
    ChunkWriter::new().write(&connect, &mut chunks);
    s.write_all(&chunks).unwrap();
    let mut seen = hs.take_remaining().to_vec();
    while start.elapsed() < Duration::from_secs(3) {
        if seen.windows(7).any(|w| w == b"_result") {
            return Some(s);
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    None
}

#[test]
fn a_stalled_handshake_is_closed_at_the_handshake_timeout() {
    let mut options = options();
    options.handshake_timeout = Duration::from_millis(300);
    let server = Running::start(options);
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled.write_all(&[3]).unwrap();
    assert!(closed_by_server(&mut stalled, Duration::from_secs(3)));
    let reason = server
        .wait_closed(1, Duration::from_secs(2))
        .expect("closed");
    assert!(
        matches!(reason, CloseCause::Timeout(Timeout::Handshake(_))),
        "{reason}"
    );
}

#[test]
fn a_silent_client_is_closed_at_the_idle_timeout() {
    let mut options = options();
    options.idle_timeout = Duration::from_millis(300);
    let server = Running::start(options);
    let _open = good_client_stream(server.addr).expect("connect answered");
    let reason = server
        .wait_closed(1, Duration::from_secs(3))
        .expect("closed");
    assert!(
        matches!(reason, CloseCause::Timeout(Timeout::Idle(_))),
        "{reason}"
    );
}

#[test]
fn connections_over_the_limit_are_refused_with_a_log_line() {
    let mut options = options();
    options.max_connections = 1;
    let server = Running::start(options);
    let _held = TcpStream::connect(server.addr).unwrap();
    // Give the server a moment to account for the first connection.
    let start = Instant::now();
    while server.sink.transcripts.lock().unwrap().is_empty()
        && start.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut refused = TcpStream::connect(server.addr).unwrap();
    assert!(closed_by_server(&mut refused, Duration::from_secs(3)));
    let lines = server.sink.lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("refused connection 2") && l.contains("--max-connections")),
        "{lines:?}"
    );
}

#[test]
fn foreign_protocols_are_named_and_do_not_disturb_a_good_client() {
    let server = Running::start(options());
    let cases: [(&[u8], &str); 3] = [
        (b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP request"),
        (&[0x16, 3, 1, 0, 0x9a, 1], "TLS ClientHello"),
        (&[0xF3, 0, 16], "RTMP-proxy prefix"),
    ];
    for (i, (bytes, named)) in cases.iter().enumerate() {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(bytes).unwrap();
        assert!(closed_by_server(&mut s, Duration::from_secs(3)));
        let reason = server
            .wait_closed(i as u64 + 1, Duration::from_secs(2))
            .expect("closed");
        assert!(
            matches!(&reason, CloseCause::HandshakeFailed(error) if error.contains(named)),
            "{reason}"
        );
    }
    assert!(
        good_client(server.addr),
        "a good client is served after the bad ones"
    );
}
