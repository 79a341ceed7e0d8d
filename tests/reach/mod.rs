//! Scenarios that make the catalogue's ids happen: each runs the code that emits its ids (serve's
//! session, an emulated client, replay) on input made for it, and returns every id the run
//! reported. `tests/catalogue.rs` runs them all and holds the catalogue to them.

pub mod capture;
pub mod emulator;
pub mod serve;

use emulator::{against_personality, against_script, over_tcp, profile, quick_options, End, Reply};
use rtmp_probe::emulate::reach::Reach;
use rtmp_probe::emulate::tolerance::Table;
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::ExtendedTimestampConvention;
use rtmp_probe::protocol::message;
use rtmp_probe::transcript::DiagnosticId::{self, *};
use serve::{connect, create_stream, stream_command, type0_header, video, Wire};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// A run made to show `shows`.
pub struct Scenario {
    pub name: &'static str,
    pub shows: &'static [DiagnosticId],
    /// Every id the run reported.
    pub run: fn() -> Vec<DiagnosticId>,
}

/// Ids a test elsewhere asserts, where making them happen takes more than a scenario here
/// should (a real FFmpeg, megabytes held by several connections): the test's file and name.
/// `tests/catalogue.rs` checks that the test is there and names the id's variant.
pub const ASSERTED_ELSEWHERE: &[(DiagnosticId, &str, &str)] = &[
    (
        ServeHeldTotal,
        "tests/serve_hostile.rs",
        "connections_that_together_hold_too_much_are_closed_and_their_share_is_released",
    ),
    (
        ServeOutputDropped,
        "tests/json_schema.rs",
        "every_json_line_of_every_command_follows_the_schema",
    ),
    (
        CaseInterrupted,
        "tests/cli_contract.rs",
        "probe_streams_its_transcript_and_keeps_it_on_ctrl_c",
    ),
];

pub const SCENARIOS: &[Scenario] = &[
    // ----- serve's session, a client's bytes in -----
    Scenario {
        name: "serve: connect with transaction id 2 and no app",
        shows: &[CmdConnectTxn, CmdConnectNoApp],
        run: || {
            let mut w = Wire::established("reference");
            w.send(connect(2.0, false));
            w.ids()
        },
    },
    Scenario {
        name: "serve: an Acknowledgement lower than the one before, by less than 2^31",
        shows: &[AckStale],
        run: || {
            let mut w = Wire::connected("reference");
            w.send(message::acknowledgement(5000));
            w.send(message::acknowledgement(4000));
            w.ids()
        },
    },
    Scenario {
        name: "serve: a type-1 header in the middle of a message, repeating its length",
        shows: &[ChunkHeaderMidMessage],
        run: || {
            let mut w = Wire::connected("reference");
            // 300 bytes of video announced on chunk stream 8; after the first 128 a type-1
            // header (delta 0, the same length and type) instead of a type-3 one.
            let mut bytes = type0_header(8, 300, 9);
            bytes.extend([0x27; 128]);
            bytes.extend([0x40 | 8, 0, 0, 0, 0, 0x01, 0x2c, 9]);
            bytes.extend([0x27; 128]);
            bytes.push(0xc0 | 8);
            bytes.extend([0x27; 44]);
            w.raw(&bytes);
            w.ids()
        },
    },
    Scenario {
        name: "serve: a command it does not know",
        shows: &[CmdUnknown],
        run: || {
            let mut w = Wire::connected("reference");
            w.send(message::command(
                0,
                "frobnicate",
                2.0,
                Amf0Value::Null,
                vec![],
            ));
            w.ids()
        },
    },
    Scenario {
        name: "serve: publish on a message stream createStream did not give, then media \
               before any publish on another",
        shows: &[CmdStreamNotCreated, MediaNotPublishing],
        run: || {
            let mut w = Wire::connected("reference");
            w.send(video(1, 0, 20));
            w.send(stream_command("publish", 7, "k"));
            w.ids()
        },
    },
    Scenario {
        name: "serve: publish with an empty name",
        shows: &[CmdPublishEmptyName],
        run: || {
            let mut w = Wire::connected("reference");
            w.send(create_stream(2.0));
            w.send(stream_command("publish", 1, ""));
            w.ids()
        },
    },
    Scenario {
        name: "serve publish-bad-name: publish",
        shows: &[CmdPublishBadName],
        run: || {
            let mut w = Wire::connected("publish-bad-name");
            w.send(create_stream(2.0));
            w.send(stream_command("publish", 1, "k"));
            w.ids()
        },
    },
    Scenario {
        name: "serve: play a stream nobody publishes",
        shows: &[PlayWaiting],
        run: || {
            let mut w = Wire::connected("reference");
            w.send(create_stream(2.0));
            w.send(stream_command("play", 1, "nobody"));
            w.ids()
        },
    },
    Scenario {
        name: "serve: an HTTP request instead of C0",
        shows: &[HsFailed],
        run: || {
            let mut w = Wire::new("reference");
            w.raw(b"GET /live HTTP/1.1\r\nHost: x\r\n\r\n");
            w.ids()
        },
    },
    Scenario {
        name: "serve: the client closes after C0",
        shows: &[HsPeerClosed],
        run: || {
            let mut w = Wire::new("reference");
            w.raw(&[3]);
            w.eof();
            w.ids()
        },
    },
    Scenario {
        name: "serve strict-c2: a C2 that does not echo S1",
        shows: &[HsC2NotEchoStrict],
        run: || {
            let mut w = Wire::new("strict-c2");
            let mut c0c1 = vec![3];
            c0c1.extend([0; 1536]);
            w.raw(&c0c1);
            w.raw(&[0x55; 1536]);
            w.ids()
        },
    },
    Scenario {
        name: "serve: a command whose name is not a string",
        shows: &[MsgUndecodable],
        run: || {
            let mut w = Wire::connected("reference");
            let mut undecodable = message::command(0, "x", 2.0, Amf0Value::Null, vec![]);
            undecodable.payload = bytes::Bytes::from_static(&[0x05, 0x05]);
            w.send(undecodable);
            w.ids()
        },
    },
    Scenario {
        name: "serve: a partial message aborted, another cut short by a new header",
        shows: &[ChunkAborted, ChunkPartialDropped],
        run: || {
            let mut w = Wire::connected("reference");
            // 300 bytes announced on chunk stream 8, 128 sent (the chunk size), then Abort.
            let mut bytes = type0_header(8, 300, 9);
            bytes.extend([0x27; 128]);
            w.raw(&bytes);
            w.send(message::abort(8));
            // The same again on chunk stream 9, then a new type-0 header there.
            let mut bytes = type0_header(9, 300, 9);
            bytes.extend([0x27; 128]);
            bytes.extend(type0_header(9, 5, 9));
            bytes.extend([0x27, 1, 0, 0, 0]);
            w.raw(&bytes);
            w.ids()
        },
    },
    Scenario {
        name: "serve: a message past 0xFFFFFF ms whose continuation chunks repeat the \
               extended timestamp, and one whose chunks omit it",
        shows: &[ChunkExtTsType3Repeated, ChunkExtTsType3Omitted],
        run: || {
            let mut ids = Vec::new();
            for convention in [
                ExtendedTimestampConvention::Repeat,
                ExtendedTimestampConvention::Omit,
            ] {
                let mut w = Wire::with_client("reference", serve::client_writing(convention));
                w.settle();
                w.send(connect(1.0, true));
                w.send(video(1, 0x0100_0000, 300));
                ids.extend(w.ids());
            }
            ids
        },
    },
    Scenario {
        name: "serve window-ack-tiny-strict: a player that stops reading",
        shows: &[AckOutputWithheld, AckStalled],
        run: || {
            let mut w = Wire::connected("window-ack-tiny-strict");
            w.send(create_stream(2.0));
            w.send(stream_command("play", 1, "k"));
            // The client reads nothing more, so it acknowledges nothing more: what it has
            // acknowledged so far (counting the handshake's bytes) is soon used up.
            w.client_reads = false;
            for n in 0..2000 {
                w.server.send_media(1_000_000, &video(0, n * 40, 5));
            }
            w.settle();
            w.deadline();
            w.ids()
        },
    },
    // ----- the emulators in memory, against a personality -----
    Scenario {
        name: "obs c0-wait-s0 against reference (waits for C1) and ffmpeg (S0 after C0)",
        shows: &[HsServerWaitsForC1, HsS0BeforeC1],
        run: || {
            let obs = profile("obs");
            let mut ids =
                against_personality(&obs, Variant::C0WaitS0, "reference", &quick_options());
            ids.extend(against_personality(
                &obs,
                Variant::C0WaitS0,
                "ffmpeg",
                &quick_options(),
            ));
            ids
        },
    },
    Scenario {
        name: "ffmpeg-play against publish-bad-name: the companion publisher fails too",
        shows: &[CaseCompanionFailed],
        run: || {
            against_personality(
                &profile("ffmpeg-play"),
                Variant::Default,
                "publish-bad-name",
                &quick_options(),
            )
        },
    },
    Scenario {
        name: "obs against reference with a case limit shorter than its media",
        shows: &[CaseTimeout],
        run: || {
            let mut options = quick_options();
            options.media_duration = Duration::from_secs(10);
            options.case_timeout = Some(Duration::from_secs(1));
            against_personality(&profile("obs"), Variant::Default, "reference", &options)
        },
    },
    Scenario {
        name: "a profile that gives up on an Abort of an unknown chunk stream, against \
               abort-unknown-csid",
        shows: &[ToleranceClientGivesUp],
        run: || {
            let mut p = profile("obs");
            let section: toml::Table =
                toml::from_str("abort-unknown-chunk-stream = \"fail:connect\"").expect("TOML");
            p.tolerance = Table::default();
            p.tolerance.row = Table::rows_from_section(&section).expect("a tolerance row");
            against_personality(&p, Variant::Default, "abort-unknown-csid", &quick_options())
        },
    },
    // ----- the emulators in memory, against a scripted server -----
    Scenario {
        name: "scripted: the server closes after C0+C1, resets after C0+C1, closes after C0",
        shows: &[HsClosed, HsReset, HsClosedAfterC0],
        run: || {
            let obs = profile("obs");
            let mut ids =
                against_script(&obs, Variant::Default, Some((1537, End::Close)), |_, _| {
                    Reply::Nothing
                });
            ids.extend(against_script(
                &obs,
                Variant::Default,
                Some((1537, End::Reset)),
                |_, _| Reply::Nothing,
            ));
            ids.extend(against_script(
                &obs,
                Variant::C0WaitS0,
                Some((1, End::Close)),
                |_, _| Reply::Nothing,
            ));
            ids
        },
    },
    Scenario {
        name: "scripted: the server closes on connect, resets on connect",
        shows: &[TcpClosed, TcpReset],
        run: || {
            let mut ids = Vec::new();
            for how in [End::Close, End::Reset] {
                ids.extend(against_script(
                    &profile("ffmpeg"),
                    Variant::Default,
                    None,
                    move |_, c| match c.name.as_str() {
                        "connect" => Reply::End(how),
                        _ => Reply::Nothing,
                    },
                ));
            }
            ids
        },
    },
    Scenario {
        name: "scripted: connect answered with _error",
        shows: &[CmdConnectRejected],
        run: || {
            against_script(&profile("ffmpeg"), Variant::Default, None, |_, c| {
                match c.name.as_str() {
                    "connect" => Reply::Send(vec![error(c.transaction_id)]),
                    _ => Reply::Nothing,
                }
            })
        },
    },
    Scenario {
        name: "scripted: createStream answered with _error, and with no stream id",
        shows: &[CmdCreatestreamRejected, CmdCreatestreamNoId],
        run: || {
            let mut ids = Vec::new();
            for rejected in [true, false] {
                ids.extend(against_script(
                    &profile("ffmpeg"),
                    Variant::Default,
                    None,
                    move |_, c| match c.name.as_str() {
                        "connect" => Reply::Send(vec![message::connect_result(c.transaction_id)]),
                        "createStream" if rejected => Reply::Send(vec![error(c.transaction_id)]),
                        "createStream" => Reply::Send(vec![message::command(
                            0,
                            "_result",
                            c.transaction_id,
                            Amf0Value::Null,
                            vec![],
                        )]),
                        _ => Reply::Nothing,
                    },
                ));
            }
            ids
        },
    },
    Scenario {
        name: "scripted: Publish.Start on another message stream than the published one",
        shows: &[CmdStatusWrongStream],
        run: || {
            against_script(&profile("ffmpeg"), Variant::Default, None, |_, c| {
                answer_stream_setup(c, 3)
            })
        },
    },
    Scenario {
        name: "scripted: media on another message stream than the play stream, to a player \
               that takes media only there (gstreamer-play)",
        shows: &[MediaWrongStream],
        run: || {
            against_script(
                &profile("gstreamer-play"),
                Variant::Default,
                None,
                |_, c| match c.name.as_str() {
                    "play" => {
                        let mut replies = vec![message::on_status(
                            1,
                            "status",
                            "NetStream.Play.Start",
                            "Started playing.",
                        )];
                        replies.extend((0..3).map(|n| video(2, n * 40, 20)));
                        Reply::Send(replies)
                    }
                    _ => answer_stream_setup(c, 1),
                },
            )
        },
    },
    // ----- a capture -----
    Scenario {
        name: "replay: a capture that lost one of the client's segments",
        shows: &[CaptureGap],
        run: capture::replayed_with_a_lost_segment,
    },
    // ----- over TCP -----
    Scenario {
        name: "tcp: a port nobody listens on",
        shows: &[TcpConnectFailed],
        run: || over_tcp(&profile("obs"), refused_addr(), &quick_options()),
    },
    Scenario {
        name: "tcp: a listener whose accept queue is full",
        shows: &[TcpConnectTimeout],
        run: || {
            let (addr, _listener, _filler) = full_accept_queue();
            let mut options = quick_options();
            options.handshake_timeout = Duration::from_millis(300);
            over_tcp(&profile("obs"), addr, &options)
        },
    },
    Scenario {
        name: "tcp: a server that accepts one connection of the run and is gone",
        shows: &[TcpStoppedAccepting],
        run: || {
            let mut options = quick_options();
            options.reach = Some(Reach::new());
            let (addr, server) = accepts_once();
            let mut ids = over_tcp(&profile("obs"), addr, &options);
            server.join().expect("the one-connection server");
            ids.extend(over_tcp(&profile("obs"), addr, &options));
            ids
        },
    },
    Scenario {
        name: "tcp: --pcap into a directory that does not exist",
        shows: &[CasePcapFailed],
        run: || {
            let mut options = quick_options();
            options.pcap = Some("/nonexistent-rtmp-probe-dir/case.pcap".into());
            let (addr, server) = accepts_once();
            let ids = over_tcp(&profile("obs"), addr, &options);
            server.join().expect("the one-connection server");
            ids
        },
    },
];

/// `_error` for transaction `txn`.
fn error(txn: f64) -> rtmp_probe::protocol::chunk::RawMessage {
    message::command(
        0,
        "_error",
        txn,
        Amf0Value::Null,
        vec![Amf0Value::object([
            ("level", Amf0Value::string("error")),
            ("code", Amf0Value::string("NetConnection.Call.Failed")),
        ])],
    )
}

/// connect and createStream answered as a server does, publish answered with Publish.Start
/// on message stream `status_stream`.
fn answer_stream_setup(c: &rtmp_probe::protocol::message::Command, status_stream: u32) -> Reply {
    match c.name.as_str() {
        "connect" => Reply::Send(vec![message::connect_result(c.transaction_id)]),
        "createStream" => Reply::Send(vec![message::command(
            0,
            "_result",
            c.transaction_id,
            Amf0Value::Null,
            vec![Amf0Value::Number(1.0)],
        )]),
        "publish" => Reply::Send(vec![message::on_status(
            status_stream,
            "status",
            "NetStream.Publish.Start",
            "Publishing.",
        )]),
        _ => Reply::Nothing,
    }
}

/// An address nothing listens on (a listener's, closed again).
fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// A listener that takes one connection into its accept queue and no more: one connection
/// fills the queue and is never accepted, so a SYN to it gets no answer.
fn full_accept_queue() -> (SocketAddr, TcpListener, TcpStream) {
    use std::os::fd::AsRawFd;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    // SAFETY: listen(2) on a socket this function owns; a backlog of 0 holds one connection.
    let rc = unsafe { libc::listen(listener.as_raw_fd(), 0) };
    assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
    let addr = listener.local_addr().expect("addr");
    let filler = TcpStream::connect(addr).expect("the first connection fills the queue");
    (addr, listener, filler)
}

/// A server that accepts one connection (waiting at most 10 s for it), closes it and stops
/// listening.
fn accepts_once() -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if listener.accept().is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    (addr, server)
}
