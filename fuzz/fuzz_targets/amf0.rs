//! AMF0 decoding of arbitrary bytes must never panic; whatever decodes must encode and decode
//! back to the same values.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use rtmp_probe::protocol::amf0;

fuzz_target!(|data: &[u8]| {
    let Ok(values) = amf0::decode_all(data) else {
        return;
    };
    let mut encoded = BytesMut::new();
    amf0::encode_all(&values, &mut encoded);
    let again = amf0::decode_all(&encoded).expect("our own encoding decodes");
    // Compare through the encoding: NaN payloads make value equality unreliable.
    let mut encoded_again = BytesMut::new();
    amf0::encode_all(&again, &mut encoded_again);
    assert_eq!(encoded, encoded_again);
});
