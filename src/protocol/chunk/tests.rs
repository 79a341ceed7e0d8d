//! The chunk reader and writer against hand-built, real and random chunk streams. One file past
//! 600 lines: the property tests and the fixed cases share the builders at the top.

use super::*;
use bytes::BytesMut;
use proptest::prelude::*;

fn read_all(reader: &mut ChunkReader) -> Result<Vec<ReadEvent>, ChunkError> {
    let mut out = Vec::new();
    while let Some(e) = reader.poll()? {
        out.push(e);
    }
    Ok(out)
}

fn messages(events: &[ReadEvent]) -> Vec<RawMessage> {
    events
        .iter()
        .filter_map(|e| match e {
            ReadEvent::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn decode(bytes: &[u8]) -> Vec<RawMessage> {
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(bytes);
    r.end_of_stream();
    messages(&read_all(&mut r).expect("valid"))
}

fn msg(csid: u32, timestamp: u32, type_id: u8, stream_id: u32, payload: &[u8]) -> RawMessage {
    RawMessage {
        csid,
        timestamp,
        type_id,
        stream_id,
        payload: Bytes::copy_from_slice(payload),
    }
}

/// A type 0 chunk header on `csid` (basic header form chosen by the id).
fn fmt0(csid: u32, ts: u32, len: u32, type_id: u8, msid: u32) -> Vec<u8> {
    let mut v = basic(0, csid);
    v.extend_from_slice(&ts.min(0xFFFFFF).to_be_bytes()[1..]);
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.push(type_id);
    v.extend_from_slice(&msid.to_le_bytes());
    if ts >= 0xFFFFFF {
        v.extend_from_slice(&ts.to_be_bytes());
    }
    v
}

fn basic(fmt: u8, csid: u32) -> Vec<u8> {
    match csid {
        2..=63 => vec![fmt << 6 | csid as u8],
        64..=319 => vec![fmt << 6, (csid - 64) as u8],
        _ => vec![
            fmt << 6 | 1,
            ((csid - 64) & 0xff) as u8,
            ((csid - 64) >> 8) as u8,
        ],
    }
}

#[test]
fn basic_header_forms_name_every_chunk_stream() {
    for csid in [2u32, 3, 63, 64, 319, 320, 1000, 65599] {
        let mut bytes = fmt0(csid, 7, 3, 20, 1);
        bytes.extend_from_slice(b"abc");
        let m = decode(&bytes);
        assert_eq!(m, vec![msg(csid, 7, 20, 1, b"abc")], "csid {csid}");
        let expected_len = match csid {
            ..=63 => 1,
            64..=319 => 2,
            _ => 3,
        };
        assert_eq!(bytes.len(), expected_len + 11 + 3);
        // And the writer picks the same smallest form.
        let mut out = BytesMut::new();
        ChunkWriter::new().write(&msg(csid, 7, 20, 1, b"abc"), &mut out);
        assert_eq!(&out[..], &bytes[..]);
    }
}

#[test]
fn header_types_inherit_and_add_deltas() {
    let mut b = fmt0(4, 1000, 2, 8, 1);
    b.extend_from_slice(b"a1");
    b.extend(basic(1, 4));
    b.extend_from_slice(&[0, 0, 20, 0, 0, 3, 9]); // delta 20, len 3, type 9
    b.extend_from_slice(b"v22");
    b.extend(basic(2, 4));
    b.extend_from_slice(&[0, 0, 30]); // delta 30
    b.extend_from_slice(b"v33");
    b.extend(basic(3, 4)); // same delta again
    b.extend_from_slice(b"v44");
    assert_eq!(
        decode(&b),
        vec![
            msg(4, 1000, 8, 1, b"a1"),
            msg(4, 1020, 9, 1, b"v22"),
            msg(4, 1050, 9, 1, b"v33"),
            msg(4, 1080, 9, 1, b"v44"),
        ]
    );
}

#[test]
fn type3_opening_a_message_after_type0_reuses_its_timestamp_as_delta() {
    // GStreamer's rtmp2 does this; spec 5.3.1.2.4.
    let mut b = fmt0(5, 40, 1, 9, 1);
    b.push(b'x');
    b.extend(basic(3, 5));
    b.push(b'y');
    assert_eq!(
        decode(&b),
        vec![msg(5, 40, 9, 1, b"x"), msg(5, 80, 9, 1, b"y")]
    );
}

#[test]
fn extended_timestamps_on_type0_and_as_deltas_on_type1_and_2() {
    let mut b = fmt0(6, 0x0100_0000, 1, 9, 1);
    b.push(1);
    b.extend(basic(2, 6));
    b.extend_from_slice(&[0xff, 0xff, 0xff]);
    b.extend_from_slice(&0x0100_0000u32.to_be_bytes()); // an extended *delta*
    b.push(2);
    let m = decode(&b);
    assert_eq!(m[0].timestamp, 0x0100_0000);
    assert_eq!(
        m[1].timestamp, 0x0200_0000,
        "type 2 extended value is a delta"
    );
}

/// A 200-byte message at chunk size 128 with an extended timestamp, its continuation chunk
/// written with or without the repeated extended timestamp.
fn extended_continuation(repeat: bool) -> Vec<u8> {
    let ts = 0x0123_4567u32;
    let payload: Vec<u8> = (0..200u8).collect();
    let mut b = fmt0(6, ts, 200, 9, 1);
    b.extend_from_slice(&payload[..128]);
    b.extend(basic(3, 6));
    if repeat {
        b.extend_from_slice(&ts.to_be_bytes());
    }
    b.extend_from_slice(&payload[128..]);
    b
}

#[test]
fn extended_timestamp_on_continuation_chunks_is_detected_both_ways() {
    for (repeat, convention) in [
        (true, ExtendedTimestampConvention::Repeat),
        (false, ExtendedTimestampConvention::Omit),
    ] {
        let mut r = ChunkReader::new(ChunkLimits::default());
        r.feed(&extended_continuation(repeat));
        let events = read_all(&mut r).unwrap();
        assert!(events.contains(&ReadEvent::ExtendedTimestampConvention {
            csid: 6,
            convention
        }));
        let m = messages(&events);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].payload.len(), 200);
        assert_eq!(&m[0].payload[..], &(0..200u8).collect::<Vec<_>>()[..]);
        assert_eq!(m[0].timestamp, 0x0123_4567);
    }
    // The writer produces both conventions, and they read back.
    for convention in [
        ExtendedTimestampConvention::Repeat,
        ExtendedTimestampConvention::Omit,
    ] {
        let mut w = ChunkWriter::new().with_convention(convention);
        let m = msg(6, 0x0123_4567, 9, 1, &(0..200u8).collect::<Vec<_>>());
        let mut out = BytesMut::new();
        w.write(&m, &mut out);
        assert_eq!(
            out.len(),
            extended_continuation(convention == ExtendedTimestampConvention::Repeat).len()
        );
        assert_eq!(decode(&out), vec![m]);
    }
}

#[test]
fn an_omitted_extended_timestamp_at_the_very_end_is_resolved_by_end_of_stream() {
    // The last chunk of an omitting peer carries 1 payload byte: fewer than the 4 bytes the
    // reader needs to tell "repeated" from "omitted", so it waits for more input; the end of
    // the stream settles it (a repeated timestamp would have needed those 4 bytes).
    let m = msg(2, 0xFF_FFFF, 8, 0, &[9, 9, 9]);
    let mut w = ChunkWriter::new().with_convention(ExtendedTimestampConvention::Omit);
    w.set_chunk_size(2);
    let mut out = BytesMut::new();
    w.write(&m, &mut out);
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&set_chunk_size_bytes(2));
    r.feed(&out);
    assert!(
        messages(&read_all(&mut r).unwrap())
            .iter()
            .all(|x| x.type_id == 1),
        "waits for more input"
    );
    r.end_of_stream();
    let events = read_all(&mut r).unwrap();
    assert_eq!(messages(&events), vec![m]);
    assert!(events.contains(&ReadEvent::ExtendedTimestampConvention {
        csid: 2,
        convention: ExtendedTimestampConvention::Omit
    }));
}

fn set_chunk_size_bytes(size: u32) -> Vec<u8> {
    let mut b = fmt0(2, 0, 4, 1, 0);
    b.extend_from_slice(&size.to_be_bytes());
    b
}

#[test]
fn interleaved_messages_across_chunk_streams() {
    let a: Vec<u8> = vec![b'a'; 200];
    let v: Vec<u8> = vec![b'v'; 150];
    let mut b = fmt0(4, 10, 200, 8, 1);
    b.extend_from_slice(&a[..128]);
    b.extend(fmt0(6, 11, 150, 9, 1));
    b.extend_from_slice(&v[..128]);
    b.extend(basic(3, 4));
    b.extend_from_slice(&a[128..]);
    b.extend(basic(3, 6));
    b.extend_from_slice(&v[128..]);
    assert_eq!(decode(&b), vec![msg(4, 10, 8, 1, &a), msg(6, 11, 9, 1, &v)]);
}

#[test]
fn set_chunk_size_applies_to_the_next_chunk() {
    let mut b = fmt0(2, 0, 4, 1, 0);
    b.extend_from_slice(&300u32.to_be_bytes());
    let payload = vec![7u8; 300];
    b.extend(fmt0(3, 0, 300, 20, 0));
    b.extend_from_slice(&payload); // one chunk at the new size
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&b);
    let events = read_all(&mut r).unwrap();
    assert_eq!(
        events[1],
        ReadEvent::ChunkSizeChanged { from: 128, to: 300 }
    );
    assert_eq!(messages(&events)[1].payload.len(), 300);
    assert_eq!(r.chunk_size(), 300);
}

#[test]
fn abort_discards_the_partial_message() {
    let mut b = fmt0(6, 0, 300, 9, 1);
    b.extend_from_slice(&[1; 128]);
    b.extend(fmt0(2, 0, 4, 2, 0));
    b.extend_from_slice(&6u32.to_be_bytes());
    b.extend(fmt0(6, 5, 2, 9, 1));
    b.extend_from_slice(b"ok");
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&b);
    let events = read_all(&mut r).unwrap();
    assert!(events.contains(&ReadEvent::Aborted {
        csid: 6,
        discarded_bytes: 128
    }));
    assert_eq!(messages(&events).last(), Some(&msg(6, 5, 9, 1, b"ok")));
}

#[test]
fn a_new_header_mid_message_drops_the_partial_and_says_so() {
    let mut b = fmt0(6, 0, 300, 9, 1);
    b.extend_from_slice(&[1; 128]);
    b.extend(fmt0(6, 5, 2, 9, 1));
    b.extend_from_slice(b"ok");
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&b);
    let events = read_all(&mut r).unwrap();
    assert!(events.contains(&ReadEvent::PartialMessageDropped {
        csid: 6,
        received: 128,
        expected: 300
    }));
    assert_eq!(messages(&events), vec![msg(6, 5, 9, 1, b"ok")]);
}

#[test]
fn timestamps_keep_32_bits_and_wrap_at_2_pow_32() {
    // A type 0 header at 0xFFFFFFF0 (extended), then a type 2 delta of 0x20 and a type 3
    // message reusing it: 0x10 and 0x30, past the wrap, as the 32-bit field has it.
    let mut b = fmt0(4, 0xFFFF_FFF0, 1, 8, 1);
    b.push(0xaf);
    b.extend(basic(2, 4));
    b.extend_from_slice(&[0, 0, 0x20]);
    b.push(0xaf);
    b.push(0xC4);
    b.push(0xaf);
    assert_eq!(
        decode(&b),
        vec![
            msg(4, 0xFFFF_FFF0, 8, 1, &[0xaf]),
            msg(4, 0x10, 8, 1, &[0xaf]),
            msg(4, 0x30, 8, 1, &[0xaf]),
        ]
    );
}

/// A 300-byte video message on chunk stream 6 whose second chunk comes under a type `fmt`
/// header (a type 0 or 1 header saying `len`), then a type-3 chunk opening the next message.
fn mid_message_header(fmt: u8, len: u32) -> Vec<u8> {
    let mut b = fmt0(6, 1000, 300, 9, 1);
    b.extend_from_slice(&[1; 128]);
    b.extend(basic(fmt, 6));
    b.extend_from_slice(&[0, 0, 40]); // a delta (or timestamp) of 40
    if fmt < 2 {
        b.extend_from_slice(&len.to_be_bytes()[1..]);
        b.push(8); // another type id, ignored when the message goes on
        if fmt == 0 {
            b.extend_from_slice(&7u32.to_le_bytes());
        }
    }
    b.extend_from_slice(&[2; 128]);
    b.push(0xC6);
    b.extend_from_slice(&[3; 44]);
    b
}

#[test]
fn a_mid_message_header_that_repeats_the_length_continues_the_message_when_asked() {
    for fmt in [0, 1, 2] {
        let mut r = ChunkReader::new(ChunkLimits::default())
            .with_mid_message_headers(MidMessageHeaders::ContinueSameLength);
        r.feed(&mid_message_header(fmt, 300));
        r.end_of_stream();
        let events = read_all(&mut r).unwrap();
        assert_eq!(
            events[0],
            ReadEvent::MidMessageHeader {
                csid: 6,
                fmt,
                received: 128,
                expected: 300
            },
            "type {fmt}"
        );
        let mut payload = vec![1; 128];
        payload.extend_from_slice(&[2; 128]);
        payload.extend_from_slice(&[3; 44]);
        // The first header's timestamp, type and stream; the header in between changed none.
        assert_eq!(
            messages(&events),
            vec![msg(6, 1000, 9, 1, &payload)],
            "type {fmt}"
        );
    }
}

#[test]
fn a_mid_message_header_with_another_length_restarts_the_message_in_either_reading() {
    for reading in [
        MidMessageHeaders::Restart,
        MidMessageHeaders::ContinueSameLength,
    ] {
        for fmt in [0, 1] {
            let mut r = ChunkReader::new(ChunkLimits::default()).with_mid_message_headers(reading);
            r.feed(&mid_message_header(fmt, 172));
            r.end_of_stream();
            let events = read_all(&mut r).unwrap();
            assert_eq!(
                events[0],
                ReadEvent::PartialMessageDropped {
                    csid: 6,
                    received: 128,
                    expected: 300
                },
                "{reading:?} type {fmt}"
            );
            // The new header starts a 172-byte message of type 8: its 128 bytes and the type-3
            // chunk's 44. A type 1 header's 40 is a delta; a type 0's, a timestamp; the type 0
            // header also names message stream 7.
            let (ts, msid) = if fmt == 0 { (40, 7) } else { (1040, 1) };
            let mut payload = vec![2; 128];
            payload.extend_from_slice(&[3; 44]);
            assert_eq!(
                messages(&events),
                vec![msg(6, ts, 8, msid, &payload)],
                "{reading:?} type {fmt}"
            );
        }
    }
    // A type 2 header has no length: read as the specification's reader would, it restarts.
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&mid_message_header(2, 300));
    r.end_of_stream();
    let events = read_all(&mut r).unwrap();
    assert!(events.contains(&ReadEvent::PartialMessageDropped {
        csid: 6,
        received: 128,
        expected: 300
    }));
}

#[test]
fn errors_name_the_problem() {
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&[0x80 | 33, 0, 0, 1]); // type 2 on a fresh chunk stream (DJI cameras do this)
    let e = r.poll().unwrap_err();
    assert_eq!(
        e,
        ChunkError::NoPreviousHeader {
            fmt: 2,
            csid: 33,
            offset: 0
        }
    );
    assert!(e
        .to_string()
        .contains("chunk stream 33 with no previous header"));
    assert!(matches!(r.poll(), Err(ChunkError::Poisoned(_))));

    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&fmt0(6, 0, 0xF0_0000, 9, 1));
    assert_eq!(
        r.poll().unwrap_err().to_string(),
        "message of 15728640 bytes on chunk stream 6 exceeds max_message_len 8388608 (offset 0)"
    );

    for size in [0u32, 0x7FFF_FFFF] {
        let mut r = ChunkReader::new(ChunkLimits::default());
        let mut b = fmt0(2, 0, 4, 1, 0);
        b.extend_from_slice(&size.to_be_bytes());
        r.feed(&b);
        assert!(
            matches!(r.poll(), Err(ChunkError::ChunkSizeOutOfRange { .. })),
            "{size}"
        );
    }
}

#[test]
fn memory_stays_bounded_under_many_partial_messages() {
    let limits = ChunkLimits {
        max_partial_bytes: 1024 * 1024,
        ..ChunkLimits::default()
    };
    // 65,599 chunk streams each declaring an 8 MiB message and sending a little of it.
    let mut r = ChunkReader::new(limits.clone());
    let mut error = None;
    for csid in 3..=MAX_CSID {
        let mut b = fmt0(csid, 0, 8 * 1024 * 1024 - 1, 9, 1);
        b.extend_from_slice(&[0; 128]); // exactly one chunk, so the next header follows
        r.feed(&b);
        if let Err(e) = read_all(&mut r) {
            error = Some(e);
            break;
        }
    }
    assert!(
        matches!(
            error,
            Some(ChunkError::TooManyChunkStreams { limit: 256, .. })
        ),
        "{error:?}"
    );
    // With a high stream limit, the byte limit stops it instead.
    let mut r = ChunkReader::new(ChunkLimits {
        max_chunk_streams: 100_000,
        ..limits
    });
    let mut error = None;
    for csid in 3..=MAX_CSID {
        let mut b = fmt0(csid, 0, 8 * 1024 * 1024 - 1, 9, 1);
        b.extend_from_slice(&[0; 128]);
        r.feed(&b);
        if let Err(e) = read_all(&mut r) {
            error = Some(e);
            break;
        }
    }
    assert!(
        matches!(
            error,
            Some(ChunkError::TooMuchBuffered {
                limit: 1_048_576,
                ..
            })
        ),
        "{error:?}"
    );
    assert!(
        r.buffered() < 300,
        "the input buffer holds no more than a chunk's worth"
    );
}

#[test]
fn large_chunk_sizes_stream_into_the_message_instead_of_the_input_buffer() {
    let mut b = fmt0(2, 0, 4, 1, 0);
    b.extend_from_slice(&(1u32 << 20).to_be_bytes());
    b.extend(fmt0(6, 0, 500_000, 9, 1));
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&b);
    assert_eq!(messages(&read_all(&mut r).unwrap()).len(), 1);
    for _ in 0..49 {
        r.feed(&[9; 10_000]);
        assert!(read_all(&mut r).unwrap().is_empty());
        assert_eq!(r.buffered(), 0);
    }
    r.feed(&[9; 10_000]);
    assert_eq!(
        messages(&read_all(&mut r).unwrap())[0].payload.len(),
        500_000
    );
}

#[test]
fn chunk_events_report_every_header() {
    let m = msg(6, 0x0123_4567, 9, 1, &[5; 300]);
    let mut out = BytesMut::new();
    ChunkWriter::new().write(&m, &mut out);
    let mut r = ChunkReader::new(ChunkLimits::default()).with_chunk_events(true);
    r.feed(&out);
    let events = read_all(&mut r).unwrap();
    let headers: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ReadEvent::Chunk(h) => Some((h.fmt, h.payload_len, h.header_len)),
            _ => None,
        })
        .collect();
    assert_eq!(headers, [(0, 128, 16), (3, 128, 5), (3, 44, 5)]);
    assert!(matches!(events.last(), Some(ReadEvent::Message(_))));
}

#[test]
fn ack_tracker_acknowledges_each_window() {
    let mut a = AckTracker::default();
    assert_eq!(a.received(10_000), None, "no window announced yet");
    a.set_window(2500);
    assert_eq!(a.received(1), Some(10_001));
    assert_eq!(a.received(2000), None);
    assert_eq!(a.received(500), Some(12_501));
    assert_eq!(a.total_received(), 12_501);
}

#[test]
fn ack_cadences_differ_as_the_real_clients_do() {
    // FFmpeg: more than half the window.
    let mut half = AckTracker::new(AckCadence::HalfWindow);
    half.set_window(512);
    assert_eq!(
        half.received(256),
        None,
        "exactly half is not more than half"
    );
    assert_eq!(half.received(1), Some(257));
    // librtmp: more than a tenth of Set Peer Bandwidth, whatever the window.
    let mut tenth = AckTracker::new(AckCadence::PeerBandwidthTenth);
    tenth.set_window(512);
    assert_eq!(
        tenth.received(200_000),
        None,
        "2,500,000 / 10 until the peer sets one"
    );
    tenth.set_peer_bandwidth(1_000_000);
    assert_eq!(tenth.received(1), Some(200_001));
    let mut never = AckTracker::new(AckCadence::Never);
    never.set_window(1);
    assert_eq!(never.received(10_000_000), None);
}

// ----- real peers' bytes -----

fn capture_messages(name: &str) -> Vec<RawMessage> {
    let streams = crate::test_capture::read(name);
    let mut r = ChunkReader::new(ChunkLimits::default());
    r.feed(&streams.client[3073..]);
    messages(&read_all(&mut r).expect("the whole real stream decodes"))
}

#[test]
fn ffmpeg_publish_to_nginx_decodes_to_the_end() {
    let m = capture_messages("ffmpeg-publish-to-nginx.pcap");
    let names: Vec<u8> = m.iter().take(6).map(|m| m.type_id).collect();
    assert_eq!(names[0], 20, "FFmpeg opens with connect");
    assert!(m.iter().filter(|m| m.type_id == 9).count() > 50);
}

// ----- properties -----

fn message_strategy() -> impl Strategy<Value = RawMessage> {
    (
        prop_oneof![2u32..10, 60u32..70, 310u32..330, Just(MAX_CSID)],
        prop_oneof![0u32..100_000, 0xFF_FF00u32..0x100_0100, any::<u32>()],
        prop_oneof![Just(8u8), Just(9u8), Just(18u8), Just(20u8)],
        0u32..4,
        proptest::collection::vec(any::<u8>(), 0..2000),
    )
        .prop_map(
            |(csid, timestamp, type_id, stream_id, payload)| RawMessage {
                csid,
                timestamp,
                type_id,
                stream_id,
                payload: payload.into(),
            },
        )
}

/// Writes the messages with a Set Chunk Size (to `size`) in the middle.
fn write_stream(
    messages: &[RawMessage],
    size: u32,
    convention: ExtendedTimestampConvention,
) -> Vec<u8> {
    let mut w = ChunkWriter::new().with_convention(convention);
    let mut out = BytesMut::new();
    let half = messages.len() / 2;
    for (i, m) in messages.iter().enumerate() {
        if i == half {
            w.write(
                &RawMessage {
                    csid: 2,
                    timestamp: 0,
                    type_id: 1,
                    stream_id: 0,
                    payload: Bytes::copy_from_slice(&size.to_be_bytes()),
                },
                &mut out,
            );
            w.set_chunk_size(size);
        }
        w.write(m, &mut out);
    }
    out.to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn writer_then_reader_gives_the_messages_back(
        msgs in proptest::collection::vec(message_strategy(), 1..12),
        size in prop_oneof![1u32..300, 300u32..5000],
        omit in any::<bool>(),
    ) {
        let convention = if omit { ExtendedTimestampConvention::Omit } else { ExtendedTimestampConvention::Repeat };
        let bytes = write_stream(&msgs, size, convention);
        let got: Vec<RawMessage> = decode(&bytes).into_iter().filter(|m| m.type_id != 1).collect();
        // The omit convention is detected by comparing four payload bytes with the timestamp,
        // which random payloads match only with probability 2^-32.
        prop_assert_eq!(got, msgs);
    }

    #[test]
    fn any_segmentation_yields_identical_events(
        msgs in proptest::collection::vec(message_strategy(), 1..8),
        size in 1u32..3000,
        mut cuts in proptest::collection::vec(0usize..20_000, 0..20),
    ) {
        let bytes = write_stream(&msgs, size, ExtendedTimestampConvention::Repeat);
        let whole = {
            let mut r = ChunkReader::new(ChunkLimits::default()).with_chunk_events(true);
            r.feed(&bytes);
            r.end_of_stream();
            read_all(&mut r).unwrap()
        };
        cuts.sort_unstable();
        let mut r = ChunkReader::new(ChunkLimits::default()).with_chunk_events(true);
        let mut split = Vec::new();
        let mut last = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            let cut = cut.clamp(last, bytes.len());
            r.feed(&bytes[last..cut]);
            split.extend(read_all(&mut r).unwrap());
            last = cut;
        }
        r.end_of_stream();
        split.extend(read_all(&mut r).unwrap());
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let mut r = ChunkReader::new(ChunkLimits { max_chunk_streams: 8, max_partial_bytes: 4096, ..ChunkLimits::default() });
        r.feed(&bytes);
        let _ = read_all(&mut r);
    }
}

#[test]
fn a_message_in_too_many_chunks_is_refused_with_the_chunk_size() {
    let limits = ChunkLimits {
        max_chunks_per_message: 100,
        ..ChunkLimits::default()
    };
    // Chunk size 1, then a 200-byte message: its 101st chunk is one too many.
    let mut r = ChunkReader::new(limits.clone());
    let mut b = fmt0(2, 0, 4, 1, 0);
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend(fmt0(5, 0, 200, 18, 1));
    b.push(0);
    for _ in 1..200 {
        b.extend_from_slice(&[0xC5, 0]);
    }
    r.feed(&b);
    let error = read_all(&mut r).unwrap_err();
    assert_eq!(
        error.to_string(),
        "message on chunk stream 5 takes more than max_chunks_per_message 100 chunks at chunk size 1 (offset 227)"
    );
    // 100 chunks are allowed, and the count starts again with each message.
    let mut r = ChunkReader::new(limits);
    let mut b = fmt0(2, 0, 4, 1, 0);
    b.extend_from_slice(&1u32.to_be_bytes());
    for _ in 0..3 {
        b.extend(fmt0(5, 0, 100, 18, 1));
        b.push(0);
        for _ in 1..100 {
            b.extend_from_slice(&[0xC5, 0]);
        }
    }
    r.feed(&b);
    let events = read_all(&mut r).unwrap();
    let messages = events
        .iter()
        .filter(|e| matches!(e, ReadEvent::Message(m) if m.payload.len() == 100))
        .count();
    assert_eq!(messages, 3);
}

#[test]
fn an_abort_storm_is_refused_but_aborts_that_discard_are_not_counted() {
    let limits = ChunkLimits {
        max_empty_aborts: 10,
        ..ChunkLimits::default()
    };
    let abort = |csid: u32| {
        let mut b = fmt0(2, 0, 4, 2, 0);
        b.extend_from_slice(&csid.to_be_bytes());
        b
    };
    // Aborts of real partial messages, many more than the limit, are framing.
    let mut r = ChunkReader::new(limits.clone());
    for _ in 0..50 {
        let mut b = fmt0(6, 0, 1000, 9, 1);
        b.extend_from_slice(&[0; 128]);
        b.extend(abort(6));
        r.feed(&b);
    }
    assert!(read_all(&mut r).is_ok());
    // Empty ones: the eleventh is refused.
    let mut r = ChunkReader::new(limits);
    for csid in 0..11u32 {
        r.feed(&abort(1000 + csid));
    }
    let error = read_all(&mut r).unwrap_err();
    assert!(
        matches!(
            error,
            ChunkError::AbortStorm {
                count: 11,
                limit: 10,
                offset: 176
            }
        ),
        "{error:?}"
    );
}

/// Found by the chunk_reader fuzz target: when a chunk both dropped a partial message and held
/// a whole, bad Set Chunk Size, the drop was reported only if the bytes came in pieces.
#[test]
fn events_before_an_error_come_out_whatever_the_segmentation() {
    let mut stream = vec![0x03, 0, 0, 0, 0, 0, 200, 9, 0, 0, 0, 0];
    stream.extend_from_slice(&[0x17; 128]);
    stream.extend_from_slice(&[
        0x03, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF,
    ]);
    for piece in [stream.len(), 1] {
        let mut reader = ChunkReader::new(ChunkLimits::default());
        let mut events = Vec::new();
        let mut error = None;
        'feed: for bytes in stream.chunks(piece) {
            reader.feed(bytes);
            loop {
                match reader.poll() {
                    Ok(Some(e)) => events.push(e),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break 'feed;
                    }
                }
            }
        }
        assert_eq!(
            events,
            vec![ReadEvent::PartialMessageDropped {
                csid: 3,
                received: 128,
                expected: 200
            }],
            "pieces of {piece}"
        );
        assert!(
            matches!(
                error,
                Some(ChunkError::ChunkSizeOutOfRange {
                    size: 0x7FFF_FFFF,
                    ..
                })
            ),
            "{error:?}"
        );
        assert!(matches!(reader.poll(), Err(ChunkError::Poisoned(_))));
    }
}

/// connect's `_result` as pyrtmp writes it: chunk stream 3's first header is type 1 (timestamp
/// delta 0, length 3, type 20), then a type-3 opening of chunk stream 70 (a high id).
fn type1_opening() -> Vec<u8> {
    let mut bytes = vec![0x40 | 3, 0, 0, 7, 0, 0, 3, 20, b'a', b'b', b'c'];
    bytes.extend_from_slice(&[0xC0, 70 - 64]);
    bytes
}

#[test]
fn a_type1_opening_is_an_error_unless_zeroed_state_is_accepted() {
    let mut strict = ChunkReader::new(ChunkLimits::default());
    strict.feed(&type1_opening());
    assert!(matches!(
        strict.poll(),
        Err(ChunkError::NoPreviousHeader {
            fmt: 1,
            csid: 3,
            ..
        })
    ));

    let mut zeroed = ChunkReader::new(ChunkLimits::default()).with_zero_state_start(true);
    zeroed.feed(&type1_opening());
    let events = read_all(&mut zeroed).expect("a zeroed opening reads");
    // Stream id and the timestamp base come from zeroed state; a type-3 opening is an empty
    // message of type 0 (nothing to inherit), not a panic.
    assert_eq!(
        messages(&events),
        vec![msg(3, 7, 20, 0, b"abc"), msg(70, 0, 0, 0, b"")]
    );
    let openings: Vec<&ReadEvent> = events
        .iter()
        .filter(|e| matches!(e, ReadEvent::OpenedFromZeroState { .. }))
        .collect();
    assert_eq!(
        openings,
        [
            &ReadEvent::OpenedFromZeroState { csid: 3, fmt: 1 },
            &ReadEvent::OpenedFromZeroState { csid: 70, fmt: 3 }
        ]
    );
}

#[test]
fn type1_openings_read_back_through_zeroed_state() {
    let connect_result = msg(3, 0, 20, 0, b"_result");
    let on_status = msg(5, 0, 20, 1, b"onStatus");
    let write = |opening: ChunkOpening| {
        let mut w = ChunkWriter::new().with_opening(opening);
        let mut out = BytesMut::new();
        w.write(&connect_result, &mut out);
        w.write(&on_status, &mut out);
        out
    };
    let read = |bytes: &[u8]| {
        let mut r = ChunkReader::new(ChunkLimits::default()).with_zero_state_start(true);
        r.feed(bytes);
        messages(&read_all(&mut r).expect("reads"))
    };
    // Type 1 only where stream 0 is right: every field reads back.
    let on_stream0 = write(ChunkOpening::Type1OnStream0);
    assert_eq!(on_stream0[0] >> 6, 1, "csid 3 opened with type 1");
    assert_eq!(
        read(&on_stream0),
        vec![connect_result.clone(), on_status.clone()]
    );
    // Type 1 everywhere: onStatus lands on message stream 0.
    let everywhere = write(ChunkOpening::Type1);
    assert_eq!(
        read(&everywhere),
        vec![connect_result.clone(), msg(5, 0, 20, 0, b"onStatus")]
    );
    // The default opens with type 0, which a strict reader takes.
    assert_eq!(
        decode(&write(ChunkOpening::Type0)),
        vec![connect_result, on_status]
    );
}

#[test]
fn between_reads_the_reader_holds_none_of_the_callers_buffers() {
    // Reads cut inside a chunk header (message 1 is a 12-byte header and 100 bytes) and
    // inside a body: after each read the reader keeps only copies of what it still needs.
    let mut wire = BytesMut::new();
    let mut writer = ChunkWriter::new();
    writer.write(&msg(3, 0, 20, 0, &[1; 100]), &mut wire);
    writer.write(&msg(4, 0, 9, 1, &[2; 300]), &mut wire);
    writer.write(&msg(4, 33, 9, 1, &[3; 50]), &mut wire);
    let wire = wire.freeze();
    let mut reader = ChunkReader::new(ChunkLimits::default());
    let mut got = Vec::new();
    for (start, end) in [(0, 114), (114, 200), (200, wire.len())] {
        let read = Bytes::copy_from_slice(&wire[start..end]);
        reader.feed_bytes(read.clone());
        got.extend(messages(&read_all(&mut reader).expect("valid")));
        // Single-chunk messages are slices of the read, and the caller drops them.
        got.iter_mut()
            .for_each(|m| m.payload = Bytes::copy_from_slice(&m.payload));
        assert!(
            read.is_unique(),
            "the reader still holds read {start}..{end}"
        );
    }
    assert_eq!(
        got,
        [
            msg(3, 0, 20, 0, &[1; 100]),
            msg(4, 0, 9, 1, &[2; 300]),
            msg(4, 33, 9, 1, &[3; 50])
        ]
    );
    assert_eq!(reader.buffered(), 0);
}

#[test]
fn stale_openings_write_type2_or_type3_on_their_chunk_stream_only() {
    let result = msg(3, 5, 20, 0, b"_result");
    let status = msg(5, 0, 20, 1, b"onStatus");
    let write = |opening: ChunkOpening| {
        let mut w = ChunkWriter::new().with_opening(opening);
        let mut out = BytesMut::new();
        w.write(&result, &mut out);
        w.write(&status, &mut out);
        out.to_vec()
    };
    // Chunk stream 3 opens with a timestamp delta only, or with nothing; chunk stream 5 with
    // a full header.
    let mut type2 = vec![0x80 | 3, 0, 0, 5];
    type2.extend_from_slice(b"_result");
    type2.extend(fmt0(5, 0, 8, 20, 1));
    type2.extend_from_slice(b"onStatus");
    assert_eq!(write(ChunkOpening::Type2On(3)), type2);
    let mut type3 = vec![0xC0 | 3];
    type3.extend_from_slice(b"_result");
    type3.extend_from_slice(&type2[4 + 7..]);
    assert_eq!(write(ChunkOpening::Type3On(3)), type3);
    assert_eq!(
        decode(&write(ChunkOpening::Type2On(7))),
        vec![result, status]
    );

    // A strict reader refuses the opening; one from zeroed state reads an empty message of
    // type 0 and then the payload as chunk headers: "_result" does not come out.
    let mut strict = ChunkReader::new(ChunkLimits::default());
    strict.feed(&type2);
    assert!(matches!(
        strict.poll(),
        Err(ChunkError::NoPreviousHeader {
            fmt: 2,
            csid: 3,
            ..
        })
    ));
    let mut zeroed = ChunkReader::new(ChunkLimits::default()).with_zero_state_start(true);
    zeroed.feed(&type3);
    let mut read = Vec::new();
    while let Ok(Some(event)) = zeroed.poll() {
        read.push(event);
    }
    let read = messages(&read);
    assert_eq!(read.first(), Some(&msg(3, 0, 0, 0, b"")));
    assert!(!read.iter().any(|m| &m.payload[..] == b"_result"));
}

#[test]
fn an_epoch_offset_with_full_headers_puts_every_message_past_0xffffff() {
    let offset = 0x4000_0000;
    let payload: Vec<u8> = (0..200u8).collect();
    for convention in [
        ExtendedTimestampConvention::Repeat,
        ExtendedTimestampConvention::Omit,
    ] {
        let mut w = ChunkWriter::new()
            .with_timestamp_offset(offset)
            .with_full_headers(true)
            .with_convention(convention);
        let mut out = BytesMut::new();
        w.write(&msg(6, 0, 9, 1, &payload), &mut out);
        w.write(&msg(6, 40, 9, 1, &payload), &mut out);
        // Both messages have a type-0 header with the extended timestamp; the continuation
        // chunk carries it again only by the repeat convention.
        let repeat = convention == ExtendedTimestampConvention::Repeat;
        let mut expected = Vec::new();
        for ts in [offset, offset + 40] {
            // fmt0 writes 0xFFFFFF and the extended field for a timestamp past it.
            expected.extend(fmt0(6, ts, 200, 9, 1));
            expected.extend_from_slice(&payload[..128]);
            expected.extend(basic(3, 6));
            if repeat {
                expected.extend_from_slice(&ts.to_be_bytes());
            }
            expected.extend_from_slice(&payload[128..]);
        }
        assert_eq!(out.to_vec(), expected, "{convention:?}");
        assert_eq!(
            decode(&out),
            vec![
                msg(6, offset, 9, 1, &payload),
                msg(6, offset + 40, 9, 1, &payload)
            ]
        );
    }
}

#[test]
fn a_reader_with_a_fixed_convention_misreads_the_other_one() {
    for (written, fixed) in [(true, false), (false, true)] {
        let bytes = extended_continuation(written);
        let convention = |repeat: bool| {
            if repeat {
                ExtendedTimestampConvention::Repeat
            } else {
                ExtendedTimestampConvention::Omit
            }
        };
        let read = |convention: ExtendedTimestampConvention| {
            let mut r = ChunkReader::new(ChunkLimits::default())
                .with_extended_timestamp_reading(Some(convention));
            r.feed(&bytes);
            r.end_of_stream();
            let mut events = Vec::new();
            while let Ok(Some(event)) = r.poll() {
                events.push(event);
            }
            events
        };
        let payload: Vec<u8> = (0..200u8).collect();
        // Its own convention reads the message back, and nothing is learnt (it is fixed).
        let right = read(convention(written));
        assert_eq!(messages(&right), vec![msg(6, 0x0123_4567, 9, 1, &payload)]);
        assert!(!right
            .iter()
            .any(|e| matches!(e, ReadEvent::ExtendedTimestampConvention { .. })));
        // The other one takes 4 payload bytes as the timestamp, or 4 timestamp bytes as
        // payload: the message is not what was sent.
        let wrong = messages(&read(convention(fixed)));
        assert!(
            wrong.iter().all(|m| m.payload[..] != payload[..]),
            "written repeat={written}: {wrong:?}"
        );
    }
}
