//! `serve` under hostile input on loopback: slowloris, a handshake flood, and chunk streams built
//! to exhaust memory or CPU. Each hostile connection must be closed with a diagnostic naming
//! the reason, the server's memory must stay bounded, and a well-behaved publisher alongside
//! must not lose a frame. Every loop is bounded in count and time.
//! One file past 600 lines: the hostile streams share one server, one memory probe and one
//! well-behaved publisher, whose frames must all arrive whatever the others do.

mod support;

use bytes::{Bytes, BytesMut};
use rtmp_probe::emulate::case::Target;
use rtmp_probe::emulate::profile;
use rtmp_probe::load::{self, LoadOptions};
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::{ChunkLimits, ChunkReader, ChunkWriter, RawMessage, ReadEvent};
use rtmp_probe::protocol::connection::Timeout;
use rtmp_probe::protocol::message::{self, Message};
use rtmp_probe::protocol::random::RandomSource;
use rtmp_probe::serve::ServeOptions;
use rtmp_probe::transcript::{CloseCause, DiagnosticId};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use support::{closed_by_server, ChildGuard, Running};

/// A blocking client built on the protocol core, for writing exactly the bytes a test wants.
struct Client {
    socket: TcpStream,
    reader: ChunkReader,
    writer: ChunkWriter,
}

impl Client {
    /// Connects and completes the handshake within `limit`.
    fn handshake(addr: SocketAddr, limit: Duration) -> std::io::Result<Client> {
        let (socket, mut hs) = support::client_handshake(addr, limit)?;
        let mut reader = ChunkReader::new(ChunkLimits::default());
        reader.feed_bytes(hs.take_remaining());
        Ok(Client {
            socket,
            reader,
            writer: ChunkWriter::new(),
        })
    }

    fn send(&mut self, message: &RawMessage) -> std::io::Result<()> {
        let mut out = BytesMut::new();
        self.writer.write(message, &mut out);
        self.socket.write_all(&out)
    }

    /// Reads until a message satisfies `wanted`; false at a close or after `limit`.
    fn until(&mut self, limit: Duration, wanted: impl Fn(&Message) -> bool) -> bool {
        let start = Instant::now();
        let mut buf = [0u8; 16384];
        while start.elapsed() < limit {
            while let Ok(Some(event)) = self.reader.poll() {
                if let ReadEvent::Message(raw) = event {
                    if Message::decode(&raw).is_ok_and(|m| wanted(&m)) {
                        return true;
                    }
                }
            }
            match self.socket.read(&mut buf) {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.reader.feed(&buf[..n]),
            }
        }
        false
    }

    /// Handshake, connect, createStream and publish `key`; Some once NetStream.Publish.Start
    /// came back, with the message stream id.
    fn publisher(addr: SocketAddr, key: &str, limit: Duration) -> Option<(Client, u32)> {
        let mut c = Client::handshake(addr, limit).ok()?;
        let connect = message::command(
            0,
            "connect",
            1.0,
            Amf0Value::object([
                ("app", Amf0Value::string("live")),
                ("tcUrl", Amf0Value::string(format!("rtmp://{addr}/live"))),
            ]),
            vec![],
        );
        c.send(&connect).ok()?;
        let is_result = |txn: f64| move |m: &Message| matches!(m, Message::Command(c) if c.name == "_result" && c.transaction_id == txn);
        c.until(limit, is_result(1.0)).then_some(())?;
        c.send(&message::command(
            0,
            "createStream",
            2.0,
            Amf0Value::Null,
            vec![],
        ))
        .ok()?;
        c.until(limit, is_result(2.0)).then_some(())?;
        let mut publish = message::command(
            1,
            "publish",
            3.0,
            Amf0Value::Null,
            vec![Amf0Value::string(key), Amf0Value::string("live")],
        );
        publish.csid = 8;
        c.send(&publish).ok()?;
        let started = |m: &Message| {
            matches!(m, Message::Command(c) if c.name == "onStatus"
                && c.arguments.first().and_then(|o| o.get("code")).and_then(Amf0Value::as_str)
                    == Some("NetStream.Publish.Start"))
        };
        c.until(limit, started).then_some((c, 1))
    }
}

#[test]
fn slowloris_connections_do_not_delay_a_publisher_and_close_at_the_handshake_timeout() {
    const STALLED: usize = 500;
    const TIMEOUT: Duration = Duration::from_secs(3);
    rtmp_probe::fd_limit::raise(4 * STALLED as u64).expect("enough descriptors for the test");
    let mut options = ServeOptions::default();
    options.handshake_timeout = TIMEOUT;
    let server = Running::start(options);
    let mut stalled = Vec::with_capacity(STALLED);
    for _ in 0..STALLED {
        let mut s = TcpStream::connect(server.addr).expect("connect");
        s.write_all(&[3]).expect("one byte");
        stalled.push((s, Instant::now()));
    }
    // All of them accepted (their transcripts exist) before the good client starts.
    let start = Instant::now();
    while server.sink.transcripts.lock().unwrap().len() < STALLED
        && start.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let good_start = Instant::now();
    let publishing = Client::publisher(server.addr, "good", Duration::from_secs(5));
    let took = good_start.elapsed();
    assert!(publishing.is_some(), "the good publisher was not served");
    eprintln!("publish served in {took:?} beside {STALLED} stalled connections");
    assert!(
        took < Duration::from_secs(1),
        "handshake, connect and publish took {took:?} beside {STALLED} stalled connections"
    );
    for (i, (socket, opened)) in stalled.iter_mut().enumerate() {
        let left =
            (*opened + TIMEOUT + Duration::from_secs(10)).saturating_duration_since(Instant::now());
        assert!(
            closed_by_server(socket, left),
            "stalled connection {i} was not closed"
        );
        let after = opened.elapsed();
        assert!(
            after >= TIMEOUT - Duration::from_millis(50),
            "stalled connection {i} closed after {after:?}, before the handshake timeout"
        );
    }
    let transcripts = server.transcripts();
    let timed_out = (1..=STALLED as u64)
        .filter(|&conn| {
            server
                .close_reason(conn)
                .is_some_and(|r| matches!(r, CloseCause::Timeout(Timeout::Handshake(_))))
        })
        .count();
    assert_eq!(timed_out, STALLED, "{} connections", transcripts.len());
}

#[test]
fn a_flood_of_2000_handshakes_200_at_once_has_no_failures() {
    rtmp_probe::fd_limit::raise(2048).expect("enough descriptors for the test");
    let server = Running::start(ServeOptions::default());
    let (target, _) = Target::parse(&format!("rtmp://{}/live", server.addr)).unwrap();
    let mut options = LoadOptions::new(profile::by_name("obs").unwrap());
    options.connections = 200;
    options.total = Some(2000);
    options.duration = Duration::from_secs(120);
    options.handshake_timeout = Duration::from_secs(20);
    options.reply_timeout = Duration::from_secs(20);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(load::run(&target, &options, |_| {}));
    assert_eq!(report.failures, vec![], "{}", report.table());
    assert_eq!(
        (
            report.clients,
            report.handshakes,
            report.connected,
            report.failed
        ),
        (2000, 2000, 2000, 0),
        "{}",
        report.table()
    );
    let connections_seen = server.finish().len();
    assert_eq!(connections_seen, 2000, "connections the server saw");
}

/// VmRSS or VmHWM of a process, in bytes.
fn memory_of(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix(" kB")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    kib * 1024
}

fn set_chunk_size(size: u32) -> Vec<u8> {
    chunks(&message::set_chunk_size(size), 128)
}

/// `message` as chunks of `chunk_size`.
fn chunks(message: &RawMessage, chunk_size: u32) -> Vec<u8> {
    let mut w = ChunkWriter::new();
    w.set_chunk_size(chunk_size);
    let mut out = BytesMut::new();
    w.write(message, &mut out);
    out.to_vec()
}

/// A type-0 chunk header on `csid` declaring a message of `len` bytes.
fn fmt0_header(csid: u32, len: u32, type_id: u8) -> Vec<u8> {
    let mut v = match csid {
        2..=63 => vec![csid as u8],
        64..=319 => vec![0, (csid - 64) as u8],
        _ => vec![1, ((csid - 64) & 0xff) as u8, ((csid - 64) >> 8) as u8],
    };
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(&1u32.to_le_bytes());
    v
}

/// One hostile pattern: what it sends and the words its close reason must contain.
struct Hostile {
    name: &'static str,
    /// Sent without an RTMP handshake first.
    raw: bool,
    /// The bytes, produced in pieces so a long stream is never held whole.
    pieces: Box<dyn Iterator<Item = Vec<u8>>>,
    reason: &'static str,
}

fn hostile_cases() -> Vec<Hostile> {
    let data = |len: usize| RawMessage {
        csid: 5,
        timestamp: 0,
        type_id: 18,
        stream_id: 1,
        payload: Bytes::from(vec![0x05; len]),
    };
    let mut random = RandomSource::seeded(7);
    let mut random_bytes = vec![0u8; 256 * 1024];
    random.fill(&mut random_bytes);
    vec![
        Hostile {
            name: "Set Chunk Size 1, then a 1 MiB message",
            raw: false,
            pieces: Box::new(
                [set_chunk_size(1)].into_iter().chain(
                    chunks(&data(1 << 20), 1)
                        .chunks(64 * 1024)
                        .map(<[u8]>::to_vec)
                        .collect::<Vec<_>>(),
                ),
            ),
            reason: "max_chunks_per_message",
        },
        Hostile {
            name: "Set Chunk Size 0x7FFFFFFF",
            raw: false,
            pieces: Box::new([set_chunk_size(0x7FFF_FFFF)].into_iter()),
            reason: "Set Chunk Size 2147483647 is outside the accepted range",
        },
        Hostile {
            name: "65,599 chunk streams each holding part of an 8 MiB message",
            raw: false,
            pieces: Box::new((3..=65_599u32).step_by(256).map(|first| {
                let mut piece = Vec::new();
                for csid in first..=(first + 255).min(65_599) {
                    piece.extend(fmt0_header(csid, 8 * 1024 * 1024 - 1, 9));
                    piece.extend_from_slice(&[9; 128]);
                }
                piece
            })),
            reason: "max_chunk_streams",
        },
        Hostile {
            name: "1 MiB chunks of partial 8 MiB messages on many chunk streams",
            raw: false,
            pieces: Box::new([set_chunk_size(1 << 20)].into_iter().chain((3..100u32).map(
                |csid| {
                    let mut piece = fmt0_header(csid, 8 * 1024 * 1024 - 1, 9);
                    piece.extend(vec![9; 1 << 20]);
                    piece
                },
            ))),
            reason: "max_partial_bytes",
        },
        Hostile {
            name: "a message length above the limit",
            raw: false,
            pieces: Box::new([fmt0_header(6, 0xFF_FFFF, 9)].into_iter()),
            reason: "exceeds max_message_len",
        },
        Hostile {
            name: "an Abort storm",
            raw: false,
            pieces: Box::new((0..10_000u32).step_by(1000).map(|first| {
                let mut piece = Vec::new();
                for csid in first..first + 1000 {
                    piece.extend(chunks(&message::abort(csid + 3), 128));
                }
                piece
            })),
            reason: "Abort storm",
        },
        Hostile {
            name: "random bytes after the handshake",
            raw: false,
            pieces: Box::new(
                random_bytes
                    .chunks(16 * 1024)
                    .map(<[u8]>::to_vec)
                    .collect::<Vec<_>>()
                    .into_iter(),
            ),
            reason: "chunk stream error",
        },
        Hostile {
            name: "an HTTP request",
            raw: true,
            pieces: Box::new(
                [b"GET /live/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec()].into_iter(),
            ),
            reason: "HTTP request",
        },
        Hostile {
            name: "a TLS ClientHello",
            raw: true,
            pieces: Box::new([vec![0x16, 3, 1, 0, 0xC4, 1, 0, 0, 0xC0, 3, 3]].into_iter()),
            reason: "TLS ClientHello",
        },
    ]
}

/// The server's JSON lines for the connection from `client`: its close reason and whether it
/// has an error diagnostic.
fn server_view(lines: &[serde_json::Value], client: &str) -> (Option<String>, bool) {
    let conn = lines.iter().find_map(|l| {
        (l["event"] == "connected" && l["client"] == client).then(|| l["conn"].clone())
    });
    let Some(conn) = conn else {
        return (None, false);
    };
    let of_conn = || lines.iter().filter(|l| l["conn"] == conn);
    let reason = of_conn()
        .find(|l| l["event"] == "closed")
        .and_then(|l| l["reason"].as_str().map(str::to_string));
    let error = of_conn().any(|l| l["event"] == "diagnostic" && l["severity"] == "error");
    (reason, error)
}

#[test]
fn hostile_chunk_streams_are_closed_with_a_reason_memory_stays_bounded_and_a_publisher_loses_nothing(
) {
    const FRAMES: u32 = 150;
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let out = std::fs::File::create(dir.path().join("serve.jsonl")).unwrap();
    let child = support::rtmp_probe_command()
        .args(["serve", "--json", "--listen", &addr.to_string()])
        .args(["--handshake-timeout", "10", "--idle-timeout", "10"])
        .arg("--record")
        .arg(dir.path().join("rec"))
        .stdout(out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting rtmp-probe serve");
    let server = ChildGuard(child);
    let pid = server.0.id();
    assert!(support::wait_for_listener(addr, Duration::from_secs(10)));
    // Warm up (runtime threads, first allocations), then take the baseline.
    let (warm, _) = Client::publisher(addr, "warm-up", Duration::from_secs(5)).expect("warm-up");
    drop(warm);
    std::thread::sleep(Duration::from_millis(300));
    let baseline = memory_of(pid, "VmRSS");

    // The well-behaved publisher: FRAMES numbered video frames, 20 ms apart, then unpublish.
    let publisher = std::thread::spawn(move || {
        let (mut c, stream_id) =
            Client::publisher(addr, "steady", Duration::from_secs(5)).expect("publisher served");
        for n in 0..FRAMES {
            let mut payload = vec![if n == 0 { 0x17 } else { 0x27 }, 1, 0, 0, 0];
            payload.extend_from_slice(&n.to_be_bytes());
            payload.extend(vec![n as u8; 2000]);
            let frame = RawMessage {
                csid: 6,
                timestamp: n * 20,
                type_id: 9,
                stream_id,
                payload: Bytes::from(payload),
            };
            c.send(&frame).expect("the publisher's connection stays up");
            std::thread::sleep(Duration::from_millis(20));
        }
        c.send(&message::command(
            0,
            "deleteStream",
            4.0,
            Amf0Value::Null,
            vec![Amf0Value::Number(stream_id as f64)],
        ))
        .expect("deleteStream");
        std::thread::sleep(Duration::from_millis(200));
    });

    let mut outcomes = Vec::new();
    for case in hostile_cases() {
        let started = Instant::now();
        let mut socket = if case.raw {
            TcpStream::connect(addr).expect("connect")
        } else {
            Client::handshake(addr, Duration::from_secs(5))
                .expect("handshake")
                .socket
        };
        let client = socket.local_addr().unwrap().to_string();
        socket
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        for piece in case.pieces {
            // The server closes mid-stream; the write that notices it fails, and that is expected.
            if socket.write_all(&piece).is_err() || started.elapsed() > Duration::from_secs(20) {
                break;
            }
        }
        let closed = closed_by_server(&mut socket, Duration::from_secs(10));
        outcomes.push((case.name, case.reason, client, closed, started.elapsed()));
    }
    publisher.join().expect("the publisher sent every frame");
    let peak = memory_of(pid, "VmHWM");

    // Wait (bounded) until the server has finished the publisher's recording.
    let log = dir.path().join("serve.jsonl");
    let start = Instant::now();
    let lines = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let done = text.contains("recorded ") && text.contains("steady");
        if done || start.elapsed() > Duration::from_secs(10) {
            break text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .collect::<Vec<_>>();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(server);

    for (name, reason, client, closed, took) in &outcomes {
        assert!(closed, "{name}: not closed by the server within 10 s");
        let (said, error) = server_view(&lines, client);
        let said = said.unwrap_or_else(|| panic!("{name}: no close in the server's transcript"));
        assert!(
            said.contains(reason),
            "{name}: closed with '{said}', expected '{reason}'"
        );
        assert!(error, "{name}: no error diagnostic");
        eprintln!("{name}: closed after {took:?}: {said}");
    }
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "server VmRSS baseline {} KiB, VmHWM {} KiB",
        baseline / 1024,
        peak / 1024
    );
    assert!(
        growth < 64 * 1024 * 1024,
        "the server's resident memory grew by {} KiB",
        growth / 1024
    );

    let recording = std::fs::read_dir(dir.path().join("rec"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("steady"))
        })
        .expect("the publisher's recording");
    let tags = rtmp_probe::emulate::clip::parse(&Bytes::from(std::fs::read(&recording).unwrap()))
        .expect("the recording is FLV");
    let frames: Vec<u32> = tags
        .iter()
        .filter(|t| t.type_id == 9)
        .map(|t| u32::from_be_bytes(t.payload[5..9].try_into().unwrap()))
        .collect();
    assert_eq!(
        frames,
        (0..FRAMES).collect::<Vec<_>>(),
        "the publisher's frames, in order"
    );
}

#[test]
fn a_player_that_stops_reading_is_closed_at_the_idle_timeout_and_the_publisher_goes_on() {
    let mut options = ServeOptions::default();
    options.idle_timeout = Duration::from_secs(1);
    let server = Running::start(options);
    let (mut publisher, stream_id) =
        Client::publisher(server.addr, "busy", Duration::from_secs(5)).expect("publisher");
    let mut player = Client::handshake(server.addr, Duration::from_secs(5)).expect("player");
    let connect = message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([("app", Amf0Value::string("live"))]),
        vec![],
    );
    player.send(&connect).unwrap();
    let result = |txn: f64| move |m: &Message| matches!(m, Message::Command(c) if c.name == "_result" && c.transaction_id == txn);
    assert!(player.until(Duration::from_secs(5), result(1.0)));
    player
        .send(&message::command(
            0,
            "createStream",
            2.0,
            Amf0Value::Null,
            vec![],
        ))
        .unwrap();
    assert!(player.until(Duration::from_secs(5), result(2.0)));
    let mut play = message::command(
        1,
        "play",
        3.0,
        Amf0Value::Null,
        vec![Amf0Value::string("busy")],
    );
    play.csid = 8;
    player.send(&play).unwrap();
    // From here on the player reads nothing. 32 MiB of video is more than loopback's socket
    // buffers hold, so the server's writes to the player stall.
    let started = Instant::now();
    for n in 0..128u32 {
        let mut payload = vec![if n == 0 { 0x17 } else { 0x27 }, 1, 0, 0, 0];
        payload.resize(256 * 1024, n as u8);
        let frame = RawMessage {
            csid: 6,
            timestamp: n * 40,
            type_id: 9,
            stream_id,
            payload: Bytes::from(payload),
        };
        publisher
            .send(&frame)
            .expect("the publisher is not held up by the stalled player");
    }
    // The publisher goes on in small steps (keeping its own idle timer fed) until the player
    // is closed.
    let mut n = 128u32;
    while server.close_reason(2).is_none() && started.elapsed() < Duration::from_secs(15) {
        let frame = RawMessage {
            csid: 6,
            timestamp: n * 40,
            type_id: 9,
            stream_id,
            payload: Bytes::from_static(&[0x27, 1, 0, 0, 0, 0]),
        };
        publisher.send(&frame).expect("the publisher goes on");
        n += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let reason = server.close_reason(2).expect("the player was closed");
    assert!(
        matches!(reason, CloseCause::WriteTimeout { .. }),
        "{reason}"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "closed before the idle timeout"
    );
    assert_eq!(
        server.close_reason(1),
        None,
        "the publisher is still connected"
    );
}

/// Many connections each within its own bounds can still add up: the server counts what all of
/// them hold, closes the one whose read takes the total over `max_held_total`, and gives a
/// closed connection's share back.
#[test]
fn connections_that_together_hold_too_much_are_closed_and_their_share_is_released() {
    const MIB: usize = 1 << 20;
    let mut options = ServeOptions::default();
    options.max_held_total = 20 * MIB;
    let server = Running::start(options);
    // 6 MiB of an 8 MiB message in 1 MiB chunks, then connect: its _result tells that the
    // server has read all of it.
    let holding = |addr: SocketAddr| -> Client {
        let mut c = Client::handshake(addr, Duration::from_secs(5)).expect("handshake");
        let mut bytes = set_chunk_size(MIB as u32);
        bytes.extend(fmt0_header(6, 8 * MIB as u32 - 1, 9));
        bytes.extend(vec![9; MIB]);
        for _ in 1..6 {
            bytes.push(0xC6);
            bytes.extend(vec![9; MIB]);
        }
        // The server may close the connection mid-write (that is the point for the fourth).
        let _ = c.socket.write_all(&bytes);
        let connect = message::command(
            0,
            "connect",
            1.0,
            Amf0Value::object([("app", Amf0Value::string("live"))]),
            vec![],
        );
        let _ = c.send(&connect);
        c
    };
    let connected = |c: &mut Client| {
        c.until(Duration::from_secs(10), |m| {
            matches!(m, Message::Command(cmd) if cmd.name == "_result" && cmd.transaction_id == 1.0)
        })
    };
    let mut held = Vec::new();
    for n in 1..=3 {
        let mut c = holding(server.addr);
        assert!(
            connected(&mut c),
            "connection {n} holds 6 MiB, within 20 MiB in all"
        );
        held.push(c);
    }
    // 24 MiB in all: the fourth is closed, with a diagnostic.
    let mut fourth = holding(server.addr);
    assert!(closed_by_server(
        &mut fourth.socket,
        Duration::from_secs(10)
    ));
    assert_eq!(
        server.wait_closed(4, Duration::from_secs(5)),
        Some(CloseCause::HeldTotal)
    );
    let diagnostic = server.transcripts()[&4].events.iter().any(|e| {
        matches!(&e.kind, rtmp_probe::transcript::EventKind::Diagnostic { id, .. } if *id == DiagnosticId::ServeHeldTotal)
    });
    assert!(diagnostic);
    assert!((1..=3).all(|conn| server.close_reason(conn).is_none()));
    // The first one leaves; its 6 MiB are free again for a fifth.
    drop(held.remove(0));
    assert!(server.wait_closed(1, Duration::from_secs(5)).is_some());
    let mut fifth = holding(server.addr);
    assert!(
        connected(&mut fifth),
        "the first connection's share was given back"
    );
}

/// Issue 24: the built server meets a chunk stream opened with a type-1 header (on a two-byte
/// chunk stream id) as nginx-rtmp does, reading it from zeroed state and naming it; with
/// `--strict` it names it and closes. A raw-bytes client, the binary, its JSON.
#[test]
fn a_type_1_opening_is_named_and_read_through_unless_strict() {
    for strict in [false, true] {
        let args: &[&str] = if strict {
            &["--json", "--strict"]
        } else {
            &["--json"]
        };
        let serve = support::UnreadServe::start(args);
        let limit = Duration::from_secs(5);
        let mut c = Client::handshake(serve.addr, limit).expect("handshake");
        let connect = message::command(
            0,
            "connect",
            1.0,
            Amf0Value::object([("app", Amf0Value::string("live"))]),
            vec![],
        );
        c.send(&connect).expect("connect");
        let is_result = |txn: f64| move |m: &Message| matches!(m, Message::Command(c) if c.name == "_result" && c.transaction_id == txn);
        assert!(c.until(limit, is_result(1.0)), "connect answered");
        // createStream under a type-1 header on chunk stream 70, which never had a type 0.
        let create = message::command(0, "createStream", 2.0, Amf0Value::Null, vec![]).payload;
        let mut bytes = vec![0x40, 70 - 64, 0, 0, 0, 0, 0, create.len() as u8, 20];
        bytes.extend_from_slice(&create);
        c.socket.write_all(&bytes).expect("write");
        if strict {
            assert!(closed_by_server(&mut c.socket, limit), "strict closes");
        } else {
            assert!(c.until(limit, is_result(2.0)), "createStream answered");
        }
        drop(c);
        std::thread::sleep(Duration::from_millis(100));
        let (code, out) = serve.stop_and_read(Duration::from_secs(5));
        assert_eq!(code, 0);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let named = lines
            .iter()
            .find(|l| l["id"] == "chunk.opened-from-zero-state");
        let named = named.unwrap_or_else(|| panic!("strict {strict}: not named: {out}"));
        assert_eq!(named["fields"]["csid"], 70);
        assert_eq!(named["fields"]["fmt"], 1);
        let closed = lines
            .iter()
            .find(|l| l["event"] == "closed")
            .expect("a closed line");
        let reason = closed["reason"].as_str().unwrap_or_default();
        assert_eq!(
            reason.starts_with("--strict: chunk.opened-from-zero-state"),
            strict,
            "{reason}"
        );
    }
}
