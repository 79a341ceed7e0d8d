//! Decoders of whole inputs: AMF0 values, single messages, capture files.

use crate::capture::CaptureReader;
use crate::protocol::amf0;
use crate::protocol::chunk::RawMessage;
use crate::protocol::message::Message;
use bytes::{Bytes, BytesMut};

/// Input: AMF0 bytes. Decoding never panics; whatever decodes encodes and decodes back to the
/// same values (compared through their encoding, since NaN payloads defeat value equality).
pub fn amf0(data: &[u8]) {
    let Ok(values) = amf0::decode_all(data) else {
        return;
    };
    let mut encoded = BytesMut::new();
    amf0::encode_all(&values, &mut encoded);
    let again = amf0::decode_all(&encoded).expect("our own encoding decodes");
    let mut encoded_again = BytesMut::new();
    amf0::encode_all(&again, &mut encoded_again);
    assert_eq!(
        encoded, encoded_again,
        "encode -> decode -> encode changed the bytes"
    );
}

/// Input: a type id, then the payload. Decoding never panics, nor does describing the result.
pub fn message(data: &[u8]) {
    let Some((&type_id, payload)) = data.split_first() else {
        return;
    };
    let raw = RawMessage {
        csid: 3,
        timestamp: 0,
        type_id,
        stream_id: 1,
        payload: Bytes::copy_from_slice(payload),
    };
    if let Ok(message) = Message::decode(&raw) {
        let _ = (message.to_string(), message.name());
    }
}

/// Input: a pcap or pcapng file. Reading, link layers, reassembly and RTMP decoding never
/// panic, whatever the file holds.
pub fn capture(data: &[u8]) {
    let Ok(reader) = CaptureReader::new(data) else {
        return;
    };
    let (flows, _error) = crate::replay::replay(reader, |_| {});
    for f in flows {
        let _ = crate::transcript::render::snapshot(&f.transcript);
        let _ = crate::emulate::infer::closest_profile(&crate::emulate::infer::ClientFacts::of(&f));
    }
}
