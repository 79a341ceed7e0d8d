//! Message decoding of an arbitrary type id and payload must never panic.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rtmp_probe::protocol::chunk::RawMessage;
use rtmp_probe::protocol::message::Message;

fuzz_target!(|data: &[u8]| {
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
        let _ = message.to_string();
    }
});
