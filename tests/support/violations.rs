//! Hand-built chunk streams, one per way a sender stretches the chunk stream's rules (issue 24):
//! chunk streams opened with a type 1, 2 or 3 header on each basic header form, type 1 and 2
//! headers in the middle of a message with and without a length change, extended timestamps
//! repeated and omitted on type-3 chunks, timestamps across 2^32, interleaved audio and video.
//! Each is a publishing client's session: a handshake, connect, createStream and publish as
//! every client sends them, then the class's media, with the messages a reader should take from
//! it. The media is what FFmpeg's FLV path accepts (PCM audio, Sorenson H.263 pictures with a
//! real picture header), so the same bytes can be sent to `ffmpeg -listen 1`.

use bytes::{Bytes, BytesMut};
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::{ChunkWriter, RawMessage};
use rtmp_probe::protocol::handshake::{ClientConfig, Handshake, ServerConfig};
use rtmp_probe::protocol::message;
use rtmp_probe::protocol::random::RandomSource;
use rtmp_probe::record::pcap::{PcapRecorder, TcpFlow};
use rtmp_probe::transcript::Direction;
use std::time::{Duration, SystemTime};

/// A message as a reader should deliver it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub len: usize,
}

impl Expected {
    pub fn of(m: &RawMessage) -> Self {
        Expected {
            csid: m.csid,
            timestamp: m.timestamp,
            type_id: m.type_id,
            stream_id: m.stream_id,
            len: m.payload.len(),
        }
    }
}

/// One class of sequence.
#[derive(Debug, Clone)]
pub struct Sequence {
    pub name: String,
    /// The class's chunk stream bytes, after the prelude.
    pub bytes: Vec<u8>,
    /// The messages in them, in the order a reader completes them.
    pub messages: Vec<Expected>,
    /// The diagnostic ids the reading raises, in order.
    pub ids: Vec<&'static str>,
    /// How many of `messages` come before the violation (a reader that stops there has these).
    pub before: usize,
}

/// The prelude's messages: connect, createStream, publish.
pub const PRELUDE: usize = 3;

/// A chunk header with the basic header form `csid` asks for.
pub fn header(fmt: u8, csid: u32, ts: u32, len: usize, type_id: u8, msid: u32) -> Vec<u8> {
    let mut h = match csid {
        2..=63 => vec![fmt << 6 | csid as u8],
        64..=319 => vec![fmt << 6, (csid - 64) as u8],
        _ => vec![fmt << 6 | 1, (csid - 64) as u8, ((csid - 64) >> 8) as u8],
    };
    if fmt < 3 {
        h.extend_from_slice(&ts.min(0xFF_FFFF).to_be_bytes()[1..]);
    }
    if fmt < 2 {
        h.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        h.push(type_id);
    }
    if fmt == 0 {
        h.extend_from_slice(&msid.to_le_bytes());
    }
    if fmt < 3 && ts >= 0xFF_FFFF {
        h.extend_from_slice(&ts.to_be_bytes());
    }
    h
}

/// PCM audio (16-bit stereo 44 kHz, little endian): a tag byte and `len - 1` bytes of samples.
pub fn audio(len: usize) -> Vec<u8> {
    std::iter::once(0x3F)
        .chain((0..len - 1).map(|i| i as u8))
        .collect()
}

/// A Sorenson H.263 picture of `len` bytes (tag byte included): a real picture header (160x120,
/// intra or inter), then filler for the macroblocks.
pub fn video(key: bool, len: usize) -> Vec<u8> {
    // Start code (17 bits), version 0 (5), temporal reference 0 (8), size 6 = 160x120 (3),
    // picture type (2), deblocking off (1), quantiser 1 (5), no extra information (1).
    let bits = format!(
        "{}1{}{}110{}0000010",
        "0".repeat(16),
        "0".repeat(5),
        "0".repeat(8),
        if key { "00" } else { "01" }
    );
    let mut out = vec![if key { 0x12 } else { 0x22 }];
    let padded = format!("{bits:0<48}");
    for i in (0..padded.len()).step_by(8) {
        out.push(u8::from_str_radix(&padded[i..i + 8], 2).unwrap());
    }
    out.extend((out.len()..len).map(|i| (i * 37 + 11) as u8));
    out
}

/// A whole message under a type 0 header, its continuations type 3 (repeating an extended
/// timestamp, as the 2012 text has it), at chunk size 128.
pub fn type0_message(csid: u32, ts: u32, type_id: u8, msid: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = header(0, csid, ts, payload.len(), type_id, msid);
    for (i, chunk) in payload.chunks(128).enumerate() {
        if i > 0 {
            out.extend(header(3, csid, 0, 0, 0, 0));
            if ts >= 0xFF_FFFF {
                out.extend_from_slice(&ts.to_be_bytes());
            }
        }
        out.extend_from_slice(chunk);
    }
    out
}

fn expected(csid: u32, timestamp: u32, type_id: u8, stream_id: u32, len: usize) -> Expected {
    Expected {
        csid,
        timestamp,
        type_id,
        stream_id,
        len,
    }
}

/// Audio and a keyframe at `ts` (FFmpeg waits for a video stream before it writes anything).
fn lead(ts: u32) -> (Vec<u8>, Vec<Expected>) {
    let mut b = type0_message(4, ts, 8, 1, &audio(10));
    b.extend(type0_message(6, ts, 9, 1, &video(true, 300)));
    (
        b,
        vec![expected(4, ts, 8, 1, 10), expected(6, ts, 9, 1, 300)],
    )
}

/// Every class.
pub fn sequences() -> Vec<Sequence> {
    let mut out = Vec::new();
    // Openings: audio on chunk stream 4, then a chunk stream of each basic header form opened
    // with a type 1, 2 or 3 header, then audio again.
    for csid in [5, 70, 400] {
        for fmt in [1u8, 2, 3] {
            let (mut bytes, mut messages) = lead(0);
            bytes.extend(type0_message(4, 10, 8, 1, &audio(10)));
            messages.push(expected(4, 10, 8, 1, 10));
            let before = messages.len();
            match fmt {
                // A whole audio message: the delta from zero, type and length from the header,
                // message stream 0 from zeroed state.
                1 => {
                    bytes.extend(header(1, csid, 20, 10, 8, 0));
                    bytes.extend(audio(10));
                    messages.push(expected(csid, 20, 8, 0, 10));
                }
                // Zeroed state has length 0: an empty message of type 0.
                2 => {
                    bytes.extend(header(2, csid, 20, 0, 0, 0));
                    messages.push(expected(csid, 20, 0, 0, 0));
                }
                _ => {
                    bytes.extend(header(3, csid, 0, 0, 0, 0));
                    messages.push(expected(csid, 0, 0, 0, 0));
                }
            }
            bytes.extend(type0_message(4, 40, 8, 1, &audio(10)));
            messages.push(expected(4, 40, 8, 1, 10));
            out.push(Sequence {
                name: format!("type-{fmt} opening, chunk stream {csid}"),
                bytes,
                messages,
                ids: vec!["chunk.opened-from-zero-state"],
                before,
            });
        }
    }
    // A 300-byte picture on chunk stream 6 whose second chunk comes under a type 1 or 2
    // header instead of a type 3 one.
    let picture = video(true, 300);
    for (name, second, ids, after) in [
        (
            "type-1 header mid-message, same length",
            header(1, 6, 40, 300, 9, 0),
            vec!["chunk.header-mid-message"],
            None,
        ),
        (
            "type-2 header mid-message",
            header(2, 6, 40, 0, 0, 0),
            vec!["chunk.header-mid-message"],
            None,
        ),
        (
            "type-1 header mid-message, another length",
            header(1, 6, 40, 200, 9, 0),
            vec!["chunk.partial-dropped"],
            Some(video(true, 200)),
        ),
    ] {
        let (mut bytes, mut messages) = lead(0);
        let before = messages.len();
        bytes.extend(header(0, 6, 100, 300, 9, 1));
        bytes.extend_from_slice(&picture[..128]);
        bytes.extend(second);
        match after {
            // The rest of the picture, as if the header had been type 3.
            None => {
                bytes.extend_from_slice(&picture[128..256]);
                bytes.extend(header(3, 6, 0, 0, 0, 0));
                bytes.extend_from_slice(&picture[256..]);
                messages.push(expected(6, 100, 9, 1, 300));
            }
            // A new 200-byte picture at 100 + 40: the partial one is dropped.
            Some(other) => {
                bytes.extend_from_slice(&other[..128]);
                bytes.extend(header(3, 6, 0, 0, 0, 0));
                bytes.extend_from_slice(&other[128..]);
                messages.push(expected(6, 140, 9, 1, 200));
            }
        }
        bytes.extend(type0_message(4, 200, 8, 1, &audio(10)));
        messages.push(expected(4, 200, 8, 1, 10));
        out.push(Sequence {
            name: name.into(),
            bytes,
            messages,
            ids,
            before,
        });
    }
    // Past 0xFFFFFF: a picture in three chunks whose type-3 chunks repeat the 4-byte extended
    // timestamp, or leave it out.
    const T: u32 = 0x0100_0000;
    for repeat in [true, false] {
        let (mut bytes, mut messages) = lead(T - 20);
        let before = messages.len();
        bytes.extend(header(0, 6, T, 300, 9, 1));
        for (i, chunk) in picture.chunks(128).enumerate() {
            if i > 0 {
                bytes.extend(header(3, 6, 0, 0, 0, 0));
                if repeat {
                    bytes.extend_from_slice(&T.to_be_bytes());
                }
            }
            bytes.extend_from_slice(chunk);
        }
        messages.push(expected(6, T, 9, 1, 300));
        bytes.extend(type0_message(4, T + 20, 8, 1, &audio(10)));
        messages.push(expected(4, T + 20, 8, 1, 10));
        out.push(Sequence {
            name: format!(
                "extended timestamp {} on type-3 chunks",
                if repeat { "repeated" } else { "omitted" }
            ),
            bytes,
            messages,
            ids: vec![if repeat {
                "chunk.ext-ts-type3-repeated"
            } else {
                "chunk.ext-ts-type3-omitted"
            }],
            before,
        });
    }
    // Across 2^32: audio at 0xFFFFFFF0, then a type 2 delta of 0x20 and a type 3 message that
    // reuses it, then a picture at 0x40.
    const W: u32 = 0xFFFF_FFF0;
    let (mut bytes, mut messages) = lead(W - 20);
    bytes.extend(type0_message(4, W, 8, 1, &audio(10)));
    bytes.extend(header(2, 4, 0x20, 0, 0, 0));
    bytes.extend(audio(10));
    bytes.extend(header(3, 4, 0, 0, 0, 0));
    bytes.extend(audio(10));
    bytes.extend(type0_message(6, 0x40, 9, 1, &video(false, 200)));
    messages.extend([
        expected(4, W, 8, 1, 10),
        expected(4, 0x10, 8, 1, 10),
        expected(4, 0x30, 8, 1, 10),
        expected(6, 0x40, 9, 1, 200),
    ]);
    let before = messages.len();
    out.push(Sequence {
        name: "timestamps across 2^32".into(),
        bytes,
        messages,
        // The keyframe at 0xFFFFFFDC is past 0xFFFFFF: its type-3 chunks repeat the extended
        // timestamp.
        ids: vec!["chunk.ext-ts-type3-repeated"],
        before,
    });
    // Interleaved: the picture's chunks with audio messages between them.
    let mut bytes = header(0, 6, 100, 300, 9, 1);
    bytes.extend_from_slice(&picture[..128]);
    bytes.extend(type0_message(4, 100, 8, 1, &audio(10)));
    bytes.extend(header(3, 6, 0, 0, 0, 0));
    bytes.extend_from_slice(&picture[128..256]);
    bytes.extend(type0_message(4, 123, 8, 1, &audio(10)));
    bytes.extend(header(3, 6, 0, 0, 0, 0));
    bytes.extend_from_slice(&picture[256..]);
    let messages = vec![
        expected(4, 100, 8, 1, 10),
        expected(4, 123, 8, 1, 10),
        expected(6, 100, 9, 1, 300),
    ];
    out.push(Sequence {
        name: "interleaved audio and video".into(),
        bytes,
        before: messages.len(),
        messages,
        ids: vec![],
    });
    out
}

/// connect, createStream and publish as clients send them (type 0 headers, chunk size 128).
pub fn prelude() -> Vec<u8> {
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    let connect = message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([
            ("app", Amf0Value::string("live")),
            ("tcUrl", Amf0Value::string("rtmp://127.0.0.1/live")),
        ]),
        vec![],
    );
    let create = message::command(0, "createStream", 2.0, Amf0Value::Null, vec![]);
    let mut publish = message::command(
        1,
        "publish",
        3.0,
        Amf0Value::Null,
        vec![Amf0Value::string("x"), Amf0Value::string("live")],
    );
    publish.csid = 8;
    for m in [connect, create, publish] {
        w.write(&m, &mut out);
    }
    out.to_vec()
}

/// Both sides of a session that carries `sequence`: (client's bytes, server's bytes), each
/// starting with its handshake; the server answers connect, createStream and publish.
pub fn session(sequence: &Sequence) -> (Vec<u8>, Vec<u8>) {
    let mut client = Handshake::client(ClientConfig::default(), RandomSource::seeded(7));
    let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(8));
    let drain = |hs: &mut Handshake| -> Vec<u8> {
        std::iter::from_fn(|| hs.poll_transmit())
            .flat_map(|t| t.bytes.to_vec())
            .collect()
    };
    let mut c = drain(&mut client);
    server.feed(&c).expect("C0+C1");
    let mut s = drain(&mut server);
    client.feed(&s).expect("S0+S1+S2");
    c.extend(drain(&mut client));
    c.extend(prelude());
    c.extend_from_slice(&sequence.bytes);
    let mut w = ChunkWriter::new();
    let mut out = BytesMut::new();
    for m in [
        message::connect_result(1.0),
        message::command(
            0,
            "_result",
            2.0,
            Amf0Value::Null,
            vec![Amf0Value::Number(1.0)],
        ),
        message::on_status(
            1,
            "status",
            "NetStream.Publish.Start",
            "x is now published.",
        ),
    ] {
        w.write(&m, &mut out);
    }
    s.extend_from_slice(&out);
    (c, s)
}

/// A pcap of `sequence`'s session: the client's bytes in segments of at most 1448 bytes, the
/// server's after its handshake, FINs at the end.
pub fn pcap(sequence: &Sequence) -> Vec<u8> {
    let (c, s) = session(sequence);
    let recorder = PcapRecorder::new(Vec::new()).expect("recorder");
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let at = |ms: u64| start + Duration::from_millis(ms);
    let client = "127.0.0.1:50000".parse().unwrap();
    let server = "127.0.0.1:1935".parse().unwrap();
    let mut flow = TcpFlow::open(recorder.clone(), client, server, at(0)).expect("flow");
    flow.record(Direction::ClientToServer, at(1), &c[..1537])
        .unwrap();
    flow.record(Direction::ServerToClient, at(2), &s[..3073])
        .unwrap();
    flow.record(Direction::ClientToServer, at(3), &c[1537..])
        .unwrap();
    flow.record(Direction::ServerToClient, at(4), &s[3073..])
        .unwrap();
    flow.close(at(5), None).unwrap();
    recorder.finish().expect("finish").expect("bytes")
}

/// The chunk stream of a session's client after its handshake: for readers fed directly.
pub fn chunk_stream(sequence: &Sequence) -> Bytes {
    let (c, _) = session(sequence);
    Bytes::from(c).slice(3073..)
}
