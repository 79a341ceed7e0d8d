//! Arbitrary bytes as a capture file, through the reader, the link layers, reassembly and the
//! RTMP decoding of `replay`: never a panic, whatever the file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rtmp_probe::capture::CaptureReader;
use rtmp_probe::replay::replay;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = CaptureReader::new(data) else {
        return;
    };
    let (flows, _error) = replay(reader, |_| {});
    for f in flows {
        let _ = rtmp_probe::transcript::render::snapshot(&f.transcript);
    }
});
