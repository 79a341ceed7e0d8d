//! The chunk layer: the reader on arbitrary bytes, and writer -> reader round trips.

use super::input;
use super::pieces;
use crate::protocol::chunk::{
    ChunkLimits, ChunkReader, ChunkWriter, ExtendedTimestampConvention, RawMessage, ReadEvent,
    MAX_CSID,
};
use crate::protocol::message;
use arbitrary::Unstructured;
use bytes::{Bytes, BytesMut};

/// Small limits, so that the fuzzer reaches them.
fn small_limits() -> ChunkLimits {
    ChunkLimits {
        max_message_len: 64 * 1024,
        max_chunk_size: 64 * 1024,
        max_partial_bytes: 256 * 1024,
        max_chunk_streams: 16,
        ..ChunkLimits::default()
    }
}

/// Every event the reader gives for `bytes` fed in pieces, then the end of the stream; and
/// whether it stopped on an error.
fn read_all(limits: ChunkLimits, cuts: &[u16], bytes: &[u8]) -> (Vec<ReadEvent>, bool) {
    let mut reader = ChunkReader::new(limits);
    let mut events = Vec::new();
    let drain = |reader: &mut ChunkReader, events: &mut Vec<ReadEvent>| loop {
        match reader.poll() {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return true,
            Err(_) => return false,
        }
    };
    for piece in pieces(cuts, bytes) {
        reader.feed(piece);
        if !drain(&mut reader, &mut events) {
            return (events, true);
        }
    }
    reader.end_of_stream();
    let ok = drain(&mut reader, &mut events);
    (events, !ok)
}

/// Input: cuts, then a chunk stream. The reader never panics, stays within its limits (it
/// errors instead) and gives the same events whatever the segmentation.
pub fn chunk_reader(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let cuts = input::cuts(&mut u);
    let bytes = u.take_rest();
    let whole = read_all(small_limits(), &[], bytes);
    let split = read_all(small_limits(), &cuts, bytes);
    assert_eq!(whole, split, "segmentation changed the outcome");
}

/// One step of a round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundTripStep {
    /// Set Chunk Size to this (sent at the old size, then adopted by the writer).
    ChunkSize(u32),
    Message(RawMessage),
}

/// A step's tag byte: a multiple of 8 is a chunk size change, anything else a message.
const CHUNK_SIZE_TAG: u8 = 0;
const MESSAGE_TAG: u8 = 1;

/// Reads the steps of a round trip: a tag byte, then for a chunk size a u16 (size - 1), for a
/// message csid (u32, taken into 2..=65599), timestamp (u32), type id (u8), message stream id
/// (u32) and the payload (a byte string).
pub fn read_round_trip(data: &[u8]) -> (ExtendedTimestampConvention, Vec<RoundTripStep>) {
    let mut u = Unstructured::new(data);
    let convention = if input::u8(&mut u) & 1 == 0 {
        ExtendedTimestampConvention::Repeat
    } else {
        ExtendedTimestampConvention::Omit
    };
    let mut steps = Vec::new();
    while !u.is_empty() {
        if input::u8(&mut u) % 8 == CHUNK_SIZE_TAG {
            steps.push(RoundTripStep::ChunkSize(u32::from(input::u16(&mut u)) + 1));
            continue;
        }
        let csid = 2 + input::u32(&mut u) % (MAX_CSID - 1);
        let timestamp = input::u32(&mut u);
        // Set Chunk Size only through its own step, which the writer follows as well.
        let type_id = match input::u8(&mut u) {
            1 => 0,
            t => t,
        };
        let stream_id = input::u32(&mut u);
        let payload = Bytes::copy_from_slice(input::byte_string(&mut u));
        steps.push(RoundTripStep::Message(RawMessage {
            csid,
            timestamp,
            type_id,
            stream_id,
            payload,
        }));
    }
    (convention, steps)
}

/// The input [`read_round_trip`] reads as these steps (payloads over 65535 bytes are cut).
pub fn write_round_trip(
    convention: ExtendedTimestampConvention,
    steps: &[RoundTripStep],
) -> Vec<u8> {
    let mut w = input::InputWriter::default();
    w.u8(u8::from(convention == ExtendedTimestampConvention::Omit));
    for step in steps {
        match step {
            RoundTripStep::ChunkSize(size) => {
                w.u8(CHUNK_SIZE_TAG)
                    .u16((size.clamp(&1, &65536) - 1) as u16);
            }
            RoundTripStep::Message(m) => {
                w.u8(MESSAGE_TAG)
                    .u32(m.csid - 2)
                    .u32(m.timestamp)
                    .u8(m.type_id)
                    .u32(m.stream_id)
                    .byte_string(&m.payload);
            }
        }
    }
    w.bytes
}

/// Input: see [`read_round_trip`]. What the writer writes, the reader reads back: the same
/// messages in the same order, and each chunk size change where it was made.
pub fn chunk_roundtrip(data: &[u8]) {
    let (convention, steps) = read_round_trip(data);
    let mut writer = ChunkWriter::new().with_convention(convention);
    let mut wire = BytesMut::new();
    let mut expected = Vec::new();
    let mut last_timestamp = std::collections::HashMap::new();
    for step in steps {
        match step {
            RoundTripStep::ChunkSize(size) => {
                let m = message::set_chunk_size(size);
                writer.write(&m, &mut wire);
                // Sizes are 1..=65536, which the writer takes unclamped.
                let from = writer.chunk_size();
                writer.set_chunk_size(size);
                expected.push(ReadEvent::Message(m));
                expected.push(ReadEvent::ChunkSizeChanged { from, to: size });
            }
            RoundTripStep::Message(mut m) => {
                if convention == ExtendedTimestampConvention::Omit {
                    let previous = last_timestamp.get(&m.csid).copied();
                    unambiguous_for_omit(&mut m, writer.chunk_size(), previous);
                }
                last_timestamp.insert(m.csid, m.timestamp);
                writer.write(&m, &mut wire);
                expected.push(ReadEvent::Message(m));
            }
        }
    }
    // Any number of chunk streams: the writer uses as many as the input names.
    let limits = ChunkLimits {
        max_chunk_streams: MAX_CSID as usize,
        ..ChunkLimits::default()
    };
    let (events, failed) = read_all(limits, &[], &wire);
    assert!(!failed, "the reader rejected the writer's chunk stream");
    let events: Vec<ReadEvent> = events
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                ReadEvent::Message(_) | ReadEvent::ChunkSizeChanged { .. }
            )
        })
        .collect();
    assert_eq!(
        events, expected,
        "the reader did not give back what the writer wrote"
    );
}

/// A peer that omits the extended timestamp on continuation chunks cannot be told from one that
/// repeats it when a continuation's payload happens to begin with those 4 bytes: the reader
/// (like every reader) takes them for a repeated timestamp. Such payloads are as likely as any
/// other 4 bytes in real media (1 in 2^32), but the fuzzer makes them on purpose; change one
/// byte so that the round trip tests what can be told apart. The field the writer puts in the
/// header is the timestamp or the delta from the chunk stream's previous message.
fn unambiguous_for_omit(m: &mut RawMessage, chunk_size: u32, previous: Option<u32>) {
    let candidates = [
        Some(m.timestamp),
        previous.map(|p| m.timestamp.wrapping_sub(p)),
    ];
    let size = chunk_size.max(1) as usize;
    let mut payload = m.payload.to_vec();
    let mut at = size;
    while at + 4 <= payload.len() {
        while candidates
            .iter()
            .flatten()
            .any(|c| payload[at..at + 4] == c.to_be_bytes())
        {
            payload[at] = payload[at].wrapping_add(1);
        }
        at += size;
    }
    m.payload = Bytes::from(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_steps_survive_writing_and_reading() {
        let steps = vec![
            RoundTripStep::ChunkSize(4096),
            RoundTripStep::Message(RawMessage {
                csid: 65599,
                timestamp: 0x0100_0000,
                type_id: 9,
                stream_id: 1,
                payload: Bytes::from_static(&[0x17; 300]),
            }),
        ];
        let data = write_round_trip(ExtendedTimestampConvention::Omit, &steps);
        assert_eq!(
            read_round_trip(&data),
            (ExtendedTimestampConvention::Omit, steps)
        );
        chunk_roundtrip(&data);
    }
}
