//! A capture with a hole in it, replayed.

use pcap_file::pcap::{PcapReader, PcapWriter};
use rtmp_probe::capture::CaptureReader;
use rtmp_probe::protocol::handshake::{ClientConfig, Handshake, ServerConfig};
use rtmp_probe::protocol::random::RandomSource;
use rtmp_probe::record::pcap::{PcapRecorder, TcpFlow};
use rtmp_probe::transcript::{DiagnosticId, Direction, EventKind};
use std::time::{Duration, SystemTime};

fn drain(hs: &mut Handshake) -> Vec<u8> {
    std::iter::from_fn(|| hs.poll_transmit())
        .flat_map(|t| t.bytes.to_vec())
        .collect()
}

/// A simple handshake, then three writes of the client's of which the capture lost the
/// second: the ids replay reports.
pub fn replayed_with_a_lost_segment() -> Vec<DiagnosticId> {
    let mut client = Handshake::client(ClientConfig::default(), RandomSource::seeded(1));
    let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(2));
    let c0c1 = drain(&mut client);
    server.feed(&c0c1).expect("C0+C1");
    let s0s1s2 = drain(&mut server);
    client.feed(&s0s1s2).expect("S0+S1+S2");
    let c2 = drain(&mut client);

    let recorder = PcapRecorder::new(Vec::new()).expect("a recorder");
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let (c, s) = (
        "127.0.0.1:50000".parse().expect("addr"),
        "127.0.0.1:1935".parse().expect("addr"),
    );
    let mut flow = TcpFlow::open(recorder.clone(), c, s, at).expect("a flow");
    flow.record(Direction::ClientToServer, at, &c0c1)
        .expect("C0+C1");
    flow.record(Direction::ServerToClient, at, &s0s1s2)
        .expect("S0+S1+S2");
    flow.record(Direction::ClientToServer, at, &c2).expect("C2");
    for part in 0..3u8 {
        flow.record(Direction::ClientToServer, at, &[part; 40])
            .expect("a write");
    }
    flow.close(at, None).expect("close");
    let pcap = recorder.finish().expect("finish").expect("the bytes");

    // Frames: SYN, SYN-ACK, ACK, C0+C1, S0+S1+S2, C2, then the three writes; the second
    // write's frame goes missing.
    let mut reader = PcapReader::new(std::io::Cursor::new(pcap)).expect("our own pcap");
    let mut writer = PcapWriter::with_header(Vec::new(), reader.header()).expect("a writer");
    let mut index = 0;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("a frame");
        if index != 7 {
            writer.write_packet(&packet).expect("a frame");
        }
        index += 1;
    }
    assert!(index > 8, "the capture has the frames counted on ({index})");
    let lossy = writer.into_writer();

    let capture = CaptureReader::new(std::io::Cursor::new(lossy)).expect("a capture");
    let (flows, error) = rtmp_probe::replay::replay(capture, |_| {});
    assert!(error.is_none(), "{error:?}");
    flows
        .iter()
        .flat_map(|f| f.transcript.events.iter())
        .filter_map(|e| match &e.kind {
            EventKind::Diagnostic { id, .. } | EventKind::Handshake { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}
