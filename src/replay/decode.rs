//! One flow's decoding: both directions' handshakes, chunk streams and messages, as they
//! arrive, into its [`FlowReport`]: the transcript, the diagnostics, the media and what the
//! client did on the wire.

use crate::capture::link::Tunnel;
use crate::capture::reassembly::{PieceRef, Reassembler};
use crate::media::MediaStats;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{ChunkLimits, ReadEvent};
use crate::protocol::connection::{
    diagnose_message, diagnose_read_event, Diagnostic, DiagnosticKind, Side,
};
use crate::protocol::handshake::{HandshakeEvent, Packet, HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::message::Message;
use crate::protocol::observe::FlowObserver;
use crate::transcript::DiagnosticId;
use crate::transcript::{
    read_diagnostics, Direction, EventKind, HandshakeObservation, HandshakeSegment, MessageEvent,
    StreamMedia, Transcript,
};
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::Duration;

use super::{ClientWire, FlowReport, SeenMessage};

/// One side's decoding state.
#[derive(Default)]
struct SideState {
    /// The segments that carried the handshake: (time in µs, length).
    handshake_segments: Vec<(u64, usize)>,
    /// Decoding stopped (a gap or a broken chunk stream); the rest is only counted.
    stopped: bool,
}

/// Side 0 is the client, 1 the server.
fn peer(side: usize) -> Side {
    if side == 0 {
        Side::Client
    } else {
        Side::Server
    }
}

pub(super) struct Flow {
    /// Per direction, kept apart from the decoding state so that reassembled bytes can be lent
    /// to it without a copy.
    pub(super) reassemblers: [Reassembler; 2],
    pub(super) decoding: Decoding,
}

/// Everything about a flow but its reassembly.
pub(super) struct Decoding {
    pub(super) report: FlowReport,
    /// 0 = client, 1 = server.
    sides: [SideState; 2],
    /// Both handshakes and both chunk streams.
    observer: FlowObserver,
    started: Duration,
    /// Capture time of the latest frame of the flow.
    pub(super) last: Duration,
    decided: bool,
    handshake_reported: bool,
    /// When the client's first segment, C0 alone, was captured.
    lone_c0_at: Option<Duration>,
    /// The server's latest Set Chunk Size and Set Side Bandwidth, to tell the client's echoes.
    server_chunk_size: Option<u32>,
    server_peer_bandwidth: Option<u32>,
}

impl Decoding {
    pub(super) fn new(
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
            sides: [SideState::default(), SideState::default()],
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
    pub(super) fn settle(&mut self, side: usize, on_message: &mut impl FnMut(SeenMessage)) {
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
    pub(super) fn summarise(&mut self) {
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

    pub(super) fn at(&self, time: Duration) -> u64 {
        time.saturating_sub(self.started).as_micros() as u64
    }

    /// Decoding of `side` ends here, for the reason a diagnostic gives; its bytes are still
    /// counted.
    pub(super) fn stop(&mut self, side: usize, at: u64, id: DiagnosticId, text: String) {
        self.report
            .transcript
            .push(at, EventKind::diagnostic(id, text));
        self.sides[side].stopped = true;
    }

    pub(super) fn take(
        &mut self,
        side: usize,
        piece: PieceRef<'_>,
        on_message: &mut impl FnMut(SeenMessage),
    ) {
        match piece {
            PieceRef::Data { time, bytes } => self.data(side, time, bytes, on_message),
            PieceRef::Gap { offset, len } => {
                let at = self.at(self.last);
                let who = if side == 0 { "client" } else { "server" };
                self.stop(side, at, DiagnosticId::CaptureGap, format!("{len} bytes of the {who}'s stream at offset {offset} are missing from the capture; decoding of that direction stops there"));
            }
        }
    }

    pub(super) fn data(
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
        let server_done = self.observer.handshake_done(Side::Server);
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
            || !self.observer.handshake_done(Side::Client)
            || !self.observer.handshake_done(Side::Server)
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
                } => facts.c2 = Some(DiagnosticId::from(e)),
                _ => {}
            }
        }
        self.push_handshake(at, observations);
    }

    /// The handshake's segments and every observation its bytes allow, complete or not.
    fn push_handshake(&mut self, at: u64, observations: Vec<HandshakeEvent>) {
        for (side, id, peer) in [
            (0, DiagnosticId::HsClientSegments, Side::Client),
            (1, DiagnosticId::HsServerSegments, Side::Server),
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
        ids.push(DiagnosticId::from(&diagnostic));
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
                        DiagnosticId::ChunkError,
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
