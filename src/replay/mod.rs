//! `rtmp-probe replay CAPTURE`: the RTMP sessions in a capture, decoded by the same core as the
//! server and the emulators, as transcripts.
//!
//! Frames stream through: each TCP flow is reassembled per direction, RTMP flows are recognised
//! by content (C0 = 3 followed by C1), and each direction's bytes go through the handshake
//! analyser and then a chunk reader as they arrive, so memory stays bounded per flow whatever
//! the size of the file.
//!
//! Here: the capture's flow table and the public API; `decode` decodes one flow into its
//! [`FlowReport`]; [`reenact`] performs a captured client again against a live server
//! (`--against`). What the captured client is in emulator terms is not replay's business:
//! `emulate::infer` reads it from the report.

use crate::capture::link::{tcp_segment, LinkError, Tunnel};
use crate::capture::reassembly::{PieceRef, Reassembler};
use crate::capture::{slice_of, CaptureError, CaptureReader};
use crate::media::MediaStats;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::RawMessage;
use crate::protocol::handshake::DigestLayout;
use crate::transcript::{CloseCause, DiagnosticId, Direction, Transcript};
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

mod closing;
mod decode;
mod frames;
pub mod reenact;

pub use crate::protocol::observe::Reading;

use decode::{Decoding, Flow};

/// Early bytes one direction may hold while waiting for a lost segment.
const MAX_PENDING: usize = 8 << 20;

/// One TCP flow of the capture.
#[derive(Debug)]
#[non_exhaustive]
pub struct FlowReport {
    /// 1-based, in order of first appearance.
    pub id: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Whether the client's bytes started like RTMP.
    pub rtmp: bool,
    pub tunnel: Option<Tunnel>,
    pub transcript: Transcript,
    /// Client and server payload bytes.
    pub bytes: (u64, u64),
    /// Published streams' media, by the direction it flowed in.
    pub media: MediaStats,
    /// Messages decoded per direction (client, server).
    pub messages: (u64, u64),
    /// The ids of the diagnostics about each direction's chunk stream (client's bytes,
    /// server's bytes): the ones a connection reading those bytes reports.
    pub peer_diagnostics: (Vec<DiagnosticId>, Vec<DiagnosticId>),
    /// What the client did on the wire, which the transcript does not keep (segment sizes,
    /// C1 and C2 bytes): what profile inference (`emulate::infer`) reads besides it.
    pub client_wire: ClientWire,
}

/// What a captured client did, as the capture shows it (no emulator terms: `emulate::infer`
/// reads these as a profile).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ClientWire {
    pub c0_version: Option<u8>,
    /// Sizes of the client's segments that carried C0 and C1.
    pub c0c1_writes: Vec<usize>,
    /// Time between the client's first two segments when the first held C0 alone.
    pub c0c1_pause: Option<Duration>,
    /// C1's time and version fields, whether it carried a valid digest (and in which layout),
    /// whether its body was all zero.
    pub c1_time: Option<u32>,
    pub c1_version: Option<[u8; 4]>,
    pub c1_digest: bool,
    pub c1_digest_layout: Option<DigestLayout>,
    pub c1_zero_body: bool,
    /// How C2 answered S1 (`hs.c2-echo`, `hs.c2-echo-from-8`, `hs.c2-signed`, ...).
    pub c2: Option<DiagnosticId>,
    /// C2's bytes 4..8, which tell an echo with time2 zeroed from one carrying the client's clock.
    pub c2_time2: Option<u32>,
    /// C2 began before S2 was complete (only librtmp-style clients do that).
    pub c2_before_s2: Option<bool>,
    /// The segment that completed C2 carried more bytes (connect).
    pub c2_with_connect: Option<bool>,
    /// The client's commands (and a leading Set Chunk Size), in order; an empty-name publish
    /// shows as `publish("")`.
    pub commands: Vec<String>,
    /// The connect command object's fields, in the order sent.
    pub connect: Vec<(String, Amf0Value)>,
    /// A Set Chunk Size the client sent on its own (not echoing the server's): how many of
    /// [`ClientWire::commands`] came before it, and its size.
    pub own_chunk_size: Option<(usize, u32)>,
    /// The client answered the server's Set Chunk Size with the same value.
    pub echo_chunk_size: bool,
    /// The client answered Set Peer Bandwidth with a Window Acknowledgement Size of that value.
    pub answer_peer_bandwidth: bool,
}

impl ClientWire {
    /// Whether the client sent `name` (as [`ClientWire::commands`] lists it).
    pub fn has_command(&self, name: &str) -> bool {
        self.commands.iter().any(|c| c == name)
    }

    /// The pause between C0 and C1 when the client wrote them apart; None when together.
    pub fn c0c1_apart(&self) -> Option<Duration> {
        // Over a real network a 1537-byte write is cut at the MSS; only a lone C0 means apart.
        match (self.c0c1_writes.first(), self.c0c1_pause) {
            (Some(1), Some(pause)) => Some(pause),
            _ => None,
        }
    }
}

/// One message as replay decoded it, media included.
#[derive(Debug, Clone, Copy)]
pub struct SeenMessage<'a> {
    /// The [`FlowReport::id`] of its flow.
    pub flow: usize,
    pub direction: Direction,
    pub message: &'a RawMessage,
}

/// Decodes every TCP flow of a capture, reading what the specification forbids as receivers
/// do ([`Reading::Receivers`]). On a damaged file the flows decoded so far come back with the
/// error.
pub fn replay<R: Read>(
    capture: CaptureReader<R>,
    progress: impl FnMut(u64),
) -> (Vec<FlowReport>, Option<CaptureError>) {
    replay_observed(capture, progress, &mut ())
}

/// What a caller can watch while a capture is decoded, besides the reports.
pub trait Observer {
    /// A reassembled piece of flow `flow`'s side 0 (client) or 1 (server), before it is
    /// decoded: what `replay --against` needs to re-enact a flow.
    fn piece(&mut self, _flow: usize, _side: usize, _piece: PieceRef<'_>) {}
    /// A decoded message: the transcripts only count audio and video, and comparisons with
    /// other decoders need each one.
    fn message(&mut self, _seen: SeenMessage) {}
    /// A frame whose headers could not be taken apart (0-based index, file offset); a damaged
    /// copy of a segment is skipped so that its retransmission supplies the bytes.
    fn skipped(&mut self, _frame: u64, _offset: u64, _error: &LinkError) {}
}

impl Observer for () {}

/// [`replay`], also handing every decoded message to `on_message` as it is decoded.
pub fn replay_each_message<R: Read>(
    capture: CaptureReader<R>,
    progress: impl FnMut(u64),
    on_message: impl FnMut(SeenMessage),
) -> (Vec<FlowReport>, Option<CaptureError>) {
    struct Messages<F>(F);
    impl<F: FnMut(SeenMessage)> Observer for Messages<F> {
        fn message(&mut self, seen: SeenMessage) {
            (self.0)(seen)
        }
    }
    replay_observed(capture, progress, &mut Messages(on_message))
}

/// [`replay`] with an [`Observer`].
pub fn replay_observed<R: Read>(
    capture: CaptureReader<R>,
    progress: impl FnMut(u64),
    observer: &mut impl Observer,
) -> (Vec<FlowReport>, Option<CaptureError>) {
    replay_read(capture, Reading::Receivers, progress, observer)
}

/// [`replay_observed`], reading the chunk streams as `reading` says.
pub fn replay_read<R: Read>(
    mut capture: CaptureReader<R>,
    reading: Reading,
    mut progress: impl FnMut(u64),
    observer: &mut impl Observer,
) -> (Vec<FlowReport>, Option<CaptureError>) {
    let mut flows: Vec<Flow> = Vec::new();
    let mut by_key: HashMap<(SocketAddr, SocketAddr), (usize, usize)> = HashMap::new();
    let mut error = None;
    while let Some(frame) = capture.next_frame_ref() {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        progress(frame.offset);
        // Numbered from 1, as Wireshark numbers them.
        let number = frame.index + 1;
        let seg = match tcp_segment(frame.link_type, frame.data) {
            Ok(Some(seg)) => seg,
            Ok(None) => continue,
            Err(e) => {
                observer.skipped(frame.index, frame.offset, &e);
                continue;
            }
        };
        let (index, side) = match by_key.get(&(seg.src, seg.dst)) {
            Some(&found) => found,
            None => {
                // The first segment seen names the client, unless it is the SYN-ACK.
                let (client, server) = if seg.syn && seg.ack != 0 && !payload_is_c0(seg.payload) {
                    (seg.dst, seg.src)
                } else {
                    (seg.src, seg.dst)
                };
                let index = flows.len();
                flows.push(Flow {
                    reassemblers: [Reassembler::new(MAX_PENDING), Reassembler::new(MAX_PENDING)],
                    decoding: Decoding::new(
                        index + 1,
                        client,
                        server,
                        seg.tunnel,
                        frame.time,
                        number,
                        reading,
                    ),
                });
                by_key.insert((client, server), (index, 0));
                by_key.insert((server, client), (index, 1));
                (index, usize::from(seg.src != client))
            }
        };
        let Flow {
            reassemblers,
            decoding: flow,
        } = &mut flows[index];
        flow.tick(frame.time, number);
        if seg.syn {
            reassemblers[side].syn(seg.seq);
        }
        let id = flow.report.id;
        // A reset's payload is no data of the stream (RFC 9293 3.5.3: it may carry a reason,
        // never bytes for the application); a damaged segment with the flag set keeps its
        // bytes out, and their retransmission brings them.
        if !seg.rst {
            let payload = slice_of(frame.data, seg.payload);
            reassemblers[side].segment_with(seg.seq, frame.time, number, payload, |piece| {
                observer.piece(id, side, piece);
                flow.take(side, piece, &mut |m| observer.message(m));
            });
        }
        if seg.rst || seg.fin {
            // A FIN comes after the segment's bytes.
            let end = seg
                .seq
                .wrapping_add(if seg.fin { seg.payload.len() as u32 } else { 0 });
            let offset = reassemblers[side].offset_of(end);
            flow.flag(side, seg.rst, offset);
        }
    }
    for Flow {
        reassemblers,
        decoding: flow,
    } in &mut flows
    {
        let id = flow.report.id;
        for (side, reassembler) in reassemblers.iter_mut().enumerate() {
            reassembler.finish_with(|piece| {
                observer.piece(id, side, piece);
                flow.take(side, piece, &mut |m| observer.message(m));
            });
            flow.settle(side, &mut |m| observer.message(m));
        }
        flow.summarise();
    }
    (
        flows.into_iter().map(|f| f.decoding.report).collect(),
        error,
    )
}

/// The flows of a capture in a sentence, for an error that names a flow the user did not get:
/// `the flows are: 1 (a -> b, RTMP), 2 (c -> d, not RTMP)`.
pub fn flow_listing(flows: &[FlowReport]) -> String {
    if flows.is_empty() {
        return "the capture holds no TCP flow".into();
    }
    let all: Vec<String> = flows
        .iter()
        .map(|f| {
            format!(
                "{} ({} -> {}, {})",
                f.id,
                f.client,
                f.server,
                if f.rtmp { "RTMP" } else { "not RTMP" }
            )
        })
        .collect();
    format!("the flows are: {}", all.join(", "))
}

/// Decodes one live connection the way [`replay`] decodes a captured flow, so the two
/// transcripts compare line for line.
pub struct FlowDecoder {
    flow: Decoding,
}

/// The flow's report so far.
impl std::fmt::Debug for FlowDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowDecoder")
            .field("report", &self.flow.report)
            .finish_non_exhaustive()
    }
}

impl FlowDecoder {
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        Self {
            flow: Decoding::new(
                1,
                client,
                server,
                None,
                Duration::ZERO,
                0,
                Reading::Receivers,
            ),
        }
    }

    /// Bytes one side wrote (side 0 = client), `at` after the connection opened.
    pub fn data(&mut self, side: usize, at: Duration, bytes: &[u8]) {
        self.flow.tick(at, 0);
        self.flow
            .data(side, at, 0, &Bytes::copy_from_slice(bytes), &mut |_| {});
    }

    pub fn closed(&mut self, at: Duration, reason: CloseCause) {
        self.flow.tick(at, 0);
        self.flow.closed(reason);
    }

    pub fn finish(mut self) -> FlowReport {
        self.flow.settle(0, &mut |_| {});
        self.flow.settle(1, &mut |_| {});
        self.flow.summarise();
        self.flow.report
    }
}

fn payload_is_c0(payload: &[u8]) -> bool {
    payload.first() == Some(&3)
}

#[cfg(test)]
mod truncated_handshake_tests {
    use super::*;
    use crate::protocol::handshake::{ClientConfig, Handshake, ServerConfig, PACKET_LEN};
    use crate::protocol::random::RandomSource;
    use crate::record::pcap::{PcapRecorder, TcpFlow};
    use crate::transcript::EventKind;
    use std::time::SystemTime;

    #[test]
    fn a_handshake_cut_short_still_gets_the_observations_its_bytes_allow() {
        let mut client = Handshake::client(ClientConfig::default(), RandomSource::seeded(1));
        let mut server = Handshake::server(ServerConfig::default(), RandomSource::seeded(2));
        let c0c1: Vec<u8> = std::iter::from_fn(|| client.poll_transmit())
            .flat_map(|t| t.bytes.to_vec())
            .collect();
        server.feed(&c0c1).expect("C0+C1");
        let s0s1s2: Vec<u8> = std::iter::from_fn(|| server.poll_transmit())
            .flat_map(|t| t.bytes.to_vec())
            .collect();
        // The server's S2 is cut off and the client never sends C2.
        let recorder = PcapRecorder::new(Vec::new()).expect("recorder");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (c, s) = (
            "127.0.0.1:50000".parse().expect("addr"),
            "127.0.0.1:1935".parse().expect("addr"),
        );
        let mut flow = TcpFlow::open(recorder.clone(), c, s, at).expect("flow");
        flow.record(Direction::ClientToServer, at, &c0c1)
            .expect("C0+C1");
        flow.record(
            Direction::ServerToClient,
            at,
            &s0s1s2[..1 + PACKET_LEN + 100],
        )
        .expect("S0+S1");
        flow.close(at, None).expect("close");
        let pcap = recorder.finish().expect("finish").expect("bytes");
        let capture = CaptureReader::new(std::io::Cursor::new(pcap)).expect("pcap");
        let (flows, error) = replay(capture, |_| {});
        assert!(error.is_none());
        let ids: Vec<DiagnosticId> = flows[0]
            .transcript
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Handshake { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(
            ids,
            [
                DiagnosticId::HsClientSegments,
                DiagnosticId::HsServerSegments,
                DiagnosticId::HsC0Version,
                DiagnosticId::HsC1Fields,
                DiagnosticId::HsC1NoDigest,
                DiagnosticId::HsS0Version,
                DiagnosticId::HsS1Fields,
                DiagnosticId::HsS1NoDigest,
                DiagnosticId::HsModeSimple,
            ]
        );
        // The client's facts stay those of complete handshakes only.
        assert_eq!(flows[0].client_wire.c0_version, None);
    }
}
