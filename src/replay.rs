//! `rtmp-probe replay CAPTURE`: the RTMP sessions in a capture, decoded by the same core as the
//! server and the emulators, as transcripts.
//!
//! Frames stream through: each TCP flow is reassembled per direction, RTMP flows are recognised
//! by content (C0 = 3 followed by C1), and each direction's bytes go through the handshake
//! analyser and then a chunk reader as they arrive, so memory stays bounded per flow whatever
//! the size of the file.

use crate::capture::link::{tcp_segment, LinkError, Tunnel};
use crate::capture::reassembly::{PieceRef, Reassembler};
use crate::capture::{slice_of, CaptureError, CaptureReader};
use crate::media::MediaStats;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{ChunkLimits, RawMessage, ReadEvent};
use crate::protocol::connection::{
    diagnose_message, diagnose_read_event, Diagnostic, DiagnosticKind, Side as Peer,
};
use crate::protocol::handshake::{DigestLayout, HandshakeEvent, Packet, HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::message::Message;
use crate::protocol::observe::FlowObserver;
use crate::transcript::{
    read_diagnostics, Direction, Endpoint, EventKind, HandshakeObservation, HandshakeSegment,
    MessageEvent, Severity, StreamMedia, Transcript,
};
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

/// Early bytes one direction may hold while waiting for a lost segment.
const MAX_PENDING: usize = 8 << 20;

/// One TCP flow of the capture.
#[derive(Debug)]
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
    pub peer_diagnostics: (Vec<&'static str>, Vec<&'static str>),
    /// What the client did on the wire, which the transcript does not keep (segment sizes,
    /// C1 and C2 bytes): what profile inference (`emulate::infer`) reads besides it.
    pub client_wire: ClientWire,
}

/// What a captured client did, as the capture shows it (no emulator terms: `emulate::infer`
/// reads these as a profile).
#[derive(Debug, Clone, Default, PartialEq)]
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
    pub c2: Option<String>,
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

#[derive(Default)]
struct Side {
    /// The segments that carried the handshake: (time in µs, length).
    handshake_segments: Vec<(u64, usize)>,
    /// Decoding stopped (a gap or a broken chunk stream); the rest is only counted.
    stopped: bool,
}

/// Side 0 is the client, 1 the server.
fn peer(side: usize) -> Peer {
    if side == 0 {
        Peer::Client
    } else {
        Peer::Server
    }
}

struct Flow {
    /// Per direction, kept apart from the decoding state so that reassembled bytes can be lent
    /// to it without a copy.
    reassemblers: [Reassembler; 2],
    decoding: Decoding,
}

/// Everything about a flow but its reassembly.
struct Decoding {
    report: FlowReport,
    /// 0 = client, 1 = server.
    sides: [Side; 2],
    /// Both handshakes and both chunk streams.
    observer: FlowObserver,
    started: Duration,
    /// Capture time of the latest frame of the flow.
    last: Duration,
    decided: bool,
    handshake_reported: bool,
    /// When the client's first segment, C0 alone, was captured.
    lone_c0_at: Option<Duration>,
    /// The server's latest Set Chunk Size and Set Peer Bandwidth, to tell the client's echoes.
    server_chunk_size: Option<u32>,
    server_peer_bandwidth: Option<u32>,
}

impl Decoding {
    fn new(
        id: usize,
        client: SocketAddr,
        server: SocketAddr,
        tunnel: Option<Tunnel>,
        started: Duration,
    ) -> Self {
        let mut transcript = Transcript::new();
        transcript.push(
            0,
            EventKind::Connected {
                client: client.to_string(),
                server: server.to_string(),
            },
        );
        Decoding {
            report: FlowReport {
                id,
                client,
                server,
                rtmp: false,
                tunnel,
                transcript,
                bytes: (0, 0),
                media: MediaStats::default(),
                messages: (0, 0),
                peer_diagnostics: (Vec::new(), Vec::new()),
                client_wire: ClientWire::default(),
            },
            sides: [Side::default(), Side::default()],
            observer: FlowObserver::new(ChunkLimits::default()),
            started,
            last: started,
            decided: false,
            handshake_reported: false,
            lone_c0_at: None,
            server_chunk_size: None,
            server_peer_bandwidth: None,
        }
    }

    /// One direction ends here: let its chunk reader settle what waited for more bytes.
    fn settle(&mut self, side: usize, on_message: &mut impl FnMut(SeenMessage)) {
        if self.report.rtmp && !self.sides[side].stopped {
            self.observer.end_of_stream(peer(side));
            let direction = if side == 0 {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            let at = self.at(self.last);
            self.read_messages(side, at, direction, on_message);
        }
    }

    /// The flow ends here: what a handshake that never completed showed, and the media.
    fn summarise(&mut self) {
        if self.report.rtmp && !self.handshake_reported {
            self.handshake_reported = true;
            let observations = self.observer.observations();
            self.push_handshake(self.at(self.last), observations);
        }
        let media = &self.report.media;
        if self.report.rtmp && media.video_frames + media.audio_frames > 0 {
            let media = StreamMedia::from(&self.report.media);
            self.report.transcript.push(
                self.at(self.last),
                EventKind::MediaSummary {
                    stream: "media".into(),
                    media,
                },
            );
        }
    }

    fn at(&self, time: Duration) -> u64 {
        time.saturating_sub(self.started).as_micros() as u64
    }

    /// Decoding of `side` ends here, for the reason a diagnostic gives; its bytes are still
    /// counted.
    fn stop(&mut self, side: usize, at: u64, id: &str, severity: Severity, text: String) {
        self.report
            .transcript
            .push(at, EventKind::diagnostic(id, severity, text));
        self.sides[side].stopped = true;
    }

    fn take(&mut self, side: usize, piece: PieceRef<'_>, on_message: &mut impl FnMut(SeenMessage)) {
        match piece {
            PieceRef::Data { time, bytes } => self.data(side, time, bytes, on_message),
            PieceRef::Gap { offset, len } => {
                let at = self.at(self.last);
                let who = if side == 0 { "client" } else { "server" };
                self.stop(side, at, "capture.gap", Severity::Warning, format!("{len} bytes of the {who}'s stream at offset {offset} are missing from the capture; decoding of that direction stops there"));
            }
        }
    }

    fn data(
        &mut self,
        side: usize,
        time: Duration,
        bytes: &Bytes,
        on_message: &mut impl FnMut(SeenMessage),
    ) {
        let at = self.at(time);
        let direction = if side == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        if side == 0 {
            self.report.bytes.0 += bytes.len() as u64;
        } else {
            self.report.bytes.1 += bytes.len() as u64;
        }
        if !self.decided {
            // RTMP by content: the client's first byte is C0 = 3.
            if side == 0 {
                self.decided = true;
                self.report.rtmp = bytes.first() == Some(&3);
            } else {
                return;
            }
        }
        if !self.report.rtmp || self.sides[side].stopped {
            return;
        }
        let server_done = self.observer.handshake_done(Peer::Server);
        let before = self.observer.handshake(peer(side)).len();
        let in_handshake = before < HANDSHAKE_LEN;
        if in_handshake {
            let take = (HANDSHAKE_LEN - before).min(bytes.len());
            if side == 0 {
                let facts = &mut self.report.client_wire;
                if before < 1 + PACKET_LEN {
                    facts.c0c1_writes.push(bytes.len());
                    match (before, self.lone_c0_at) {
                        (0, _) if bytes.len() == 1 => self.lone_c0_at = Some(time),
                        (1, Some(c0_at)) => facts.c0c1_pause = Some(time.saturating_sub(c0_at)),
                        _ => {}
                    }
                }
                if before <= 1 + PACKET_LEN && before + take > 1 + PACKET_LEN {
                    facts.c2_before_s2 = Some(!server_done);
                }
                if before + take == HANDSHAKE_LEN {
                    facts.c2_with_connect = Some(take < bytes.len());
                }
            }
            self.report.transcript.push(
                at,
                EventKind::Segment {
                    direction,
                    len: bytes.len(),
                },
            );
            self.sides[side].handshake_segments.push((at, bytes.len()));
        }
        // A slice of the capture's block: the chunk reader copies nothing but message bodies.
        self.observer.feed_bytes(peer(side), bytes.clone());
        if in_handshake {
            self.report_handshake(at);
        }
        self.read_messages(side, at, direction, on_message);
    }

    /// Both handshakes are complete: report them with what they tell of the client.
    fn report_handshake(&mut self, at: u64) {
        if self.handshake_reported
            || !self.observer.handshake_done(Peer::Client)
            || !self.observer.handshake_done(Peer::Server)
        {
            return;
        }
        self.handshake_reported = true;
        let facts = &mut self.report.client_wire;
        if let Some(c1) = self.observer.packet(Packet::C1) {
            facts.c1_zero_body = c1[8..].iter().all(|&b| b == 0);
        }
        // C2's time2 field, which no observation carries (an echo's differs from S1's).
        facts.c2_time2 = self
            .observer
            .packet(Packet::C2)
            .map(|c2| u32::from_be_bytes([c2[4], c2[5], c2[6], c2[7]]));
        let observations = self.observer.observations();
        for e in &observations {
            match *e {
                HandshakeEvent::Version {
                    packet: Packet::C0,
                    version,
                } => facts.c0_version = Some(version),
                HandshakeEvent::Hello {
                    packet: Packet::C1,
                    time,
                    version,
                } => {
                    facts.c1_time = Some(time);
                    facts.c1_version = Some(version);
                }
                HandshakeEvent::DigestValid {
                    packet: Packet::C1,
                    layout,
                } => {
                    facts.c1_digest = true;
                    facts.c1_digest_layout = Some(layout);
                }
                HandshakeEvent::Answer {
                    packet: Packet::C2, ..
                } => facts.c2 = Some(e.id().to_string()),
                _ => {}
            }
        }
        self.push_handshake(at, observations);
    }

    /// The handshake's segments and every observation its bytes allow, complete or not.
    fn push_handshake(&mut self, at: u64, observations: Vec<HandshakeEvent>) {
        for (side, id, peer) in [
            (0, "hs.client-segments", Endpoint::Client),
            (1, "hs.server-segments", Endpoint::Server),
        ] {
            let segments = self.sides[side]
                .handshake_segments
                .iter()
                .map(|&(at_us, len)| HandshakeSegment { at_us, len })
                .collect();
            self.report.transcript.push(
                at,
                EventKind::handshake_observation(
                    id,
                    HandshakeObservation::Segments {
                        side: peer,
                        segments,
                    },
                ),
            );
        }
        for e in observations {
            self.report
                .transcript
                .push(at, EventKind::handshake_event(&e));
        }
    }

    /// A diagnostic about `side`'s bytes, as the connection reading them reports it.
    fn peer_diagnostic(&mut self, side: usize, at: u64, kind: DiagnosticKind) {
        let diagnostic = Diagnostic {
            peer: peer(side),
            kind,
        };
        let ids = if side == 0 {
            &mut self.report.peer_diagnostics.0
        } else {
            &mut self.report.peer_diagnostics.1
        };
        ids.push(diagnostic.id());
        self.report
            .transcript
            .push(at, read_diagnostics::event(&diagnostic));
    }

    fn read_messages(
        &mut self,
        side: usize,
        at: u64,
        direction: Direction,
        on_message: &mut impl FnMut(SeenMessage),
    ) {
        loop {
            let polled = self.observer.poll_chunk(peer(side));
            let event = match polled {
                Ok(Some(e)) => e,
                Ok(None) => return,
                Err(e) => {
                    self.stop(
                        side,
                        at,
                        "chunk.error",
                        Severity::Error,
                        format!("{e}; decoding of this direction stops"),
                    );
                    return;
                }
            };
            match event {
                ReadEvent::Message(raw) => {
                    on_message(SeenMessage {
                        flow: self.report.id,
                        direction,
                        message: &raw,
                    });
                    if side == 0 {
                        self.report.messages.0 += 1;
                    } else {
                        self.report.messages.1 += 1;
                    }
                    // Audio and video always decode (their headers are read as far as they
                    // go) and are never protocol control: nothing to diagnose.
                    if matches!(raw.type_id, 8 | 9) {
                        self.report
                            .media
                            .add(raw.type_id, raw.timestamp, &raw.payload);
                        continue;
                    }
                    let decoded = Message::decode(&raw);
                    if side == 1 {
                        match &decoded {
                            Ok(Message::SetChunkSize { size, .. }) => {
                                self.server_chunk_size = Some(*size)
                            }
                            Ok(Message::SetPeerBandwidth { size, .. }) => {
                                self.server_peer_bandwidth = Some(*size)
                            }
                            _ => {}
                        }
                    }
                    if side == 0 {
                        let facts = &mut self.report.client_wire;
                        match &decoded {
                            Ok(Message::Command(c)) => {
                                if let ("connect", Some(Amf0Value::Object(fields))) =
                                    (c.name.as_str(), &c.command_object)
                                {
                                    facts.connect = fields.clone();
                                }
                                let empty = c.name == "publish"
                                    && c.arguments.first().and_then(Amf0Value::as_str) == Some("");
                                facts.commands.push(if empty {
                                    "publish(\"\")".into()
                                } else {
                                    c.name.clone()
                                });
                            }
                            Ok(Message::SetChunkSize { size, .. }) => {
                                if facts.commands.is_empty() {
                                    facts.own_chunk_size = Some((0, *size));
                                    facts.commands.push("Set Chunk Size".into());
                                } else if self.server_chunk_size == Some(*size) {
                                    facts.echo_chunk_size = true;
                                } else if facts.own_chunk_size.is_none() {
                                    facts.own_chunk_size = Some((facts.commands.len(), *size));
                                }
                            }
                            Ok(Message::WindowAckSize(size))
                                if self.server_peer_bandwidth == Some(*size) =>
                            {
                                facts.answer_peer_bandwidth = true
                            }
                            _ => {}
                        }
                    }
                    self.report.transcript.push(
                        at,
                        EventKind::Message(MessageEvent::new(direction, &raw, decoded.as_ref())),
                    );
                    for kind in diagnose_message(&raw, &decoded) {
                        self.peer_diagnostic(side, at, kind);
                    }
                }
                other => {
                    if let Some(kind) = diagnose_read_event(&other) {
                        self.peer_diagnostic(side, at, kind);
                    }
                }
            }
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

/// Decodes every TCP flow of a capture. On a damaged file the flows decoded so far come back
/// with the error.
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
    mut capture: CaptureReader<R>,
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
                    decoding: Decoding::new(index + 1, client, server, seg.tunnel, frame.time),
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
        flow.last = flow.last.max(frame.time);
        if seg.syn {
            reassemblers[side].syn(seg.seq);
        }
        let id = flow.report.id;
        let payload = slice_of(frame.data, seg.payload);
        reassemblers[side].segment_with(seg.seq, frame.time, payload, |piece| {
            observer.piece(id, side, piece);
            flow.take(side, piece, &mut |m| observer.message(m));
        });
        if seg.rst || seg.fin {
            let what = if seg.rst { "reset" } else { "closed" };
            let who = if side == 0 { "client" } else { "server" };
            let at = flow.at(frame.time);
            flow.report.transcript.push(
                at,
                EventKind::Closed {
                    reason: format!("the {who} {what} the connection"),
                },
            );
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

impl FlowDecoder {
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        Self {
            flow: Decoding::new(1, client, server, None, Duration::ZERO),
        }
    }

    /// Bytes one side wrote (side 0 = client), `at` after the connection opened.
    pub fn data(&mut self, side: usize, at: Duration, bytes: &[u8]) {
        self.flow.last = self.flow.last.max(at);
        self.flow
            .data(side, at, &Bytes::copy_from_slice(bytes), &mut |_| {});
    }

    pub fn closed(&mut self, at: Duration, reason: String) {
        self.flow.last = self.flow.last.max(at);
        let at = self.flow.at(at);
        self.flow
            .report
            .transcript
            .push(at, EventKind::Closed { reason });
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
    use crate::protocol::handshake::{ClientConfig, Handshake, ServerConfig};
    use crate::protocol::random::RandomSource;
    use crate::record::pcap::{PcapRecorder, TcpFlow};
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
        let ids: Vec<String> = flows[0]
            .transcript
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Handshake { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            ids,
            [
                "hs.client-segments",
                "hs.server-segments",
                "hs.c0-version",
                "hs.c1-fields",
                "hs.c1-no-digest",
                "hs.s0-version",
                "hs.s1-fields",
                "hs.s1-no-digest",
                "hs.mode-simple",
            ]
        );
        // The client's facts stay those of complete handshakes only.
        assert_eq!(flows[0].client_wire.c0_version, None);
    }
}
