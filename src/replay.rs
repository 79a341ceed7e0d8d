//! `rtmp-probe replay CAPTURE`: the RTMP sessions in a capture, decoded by the same core as the
//! server and the emulators, as transcripts.
//!
//! Frames stream through: each TCP flow is reassembled per direction, RTMP flows are recognised
//! by content (C0 = 3 followed by C1), and each direction's bytes go through the handshake
//! analyser and then a chunk reader as they arrive, so memory stays bounded per flow whatever
//! the size of the file.

use crate::capture::link::{tcp_segment, Tunnel};
use crate::capture::reassembly::{Piece, Reassembler};
use crate::capture::{CaptureError, CaptureReader};
use crate::media::MediaStats;
use crate::protocol::chunk::{ChunkLimits, ChunkReader, ReadEvent};
use crate::protocol::handshake::{analyze, PACKET_LEN};
use crate::protocol::message::Message;
use crate::transcript::{Direction, EventKind, MessageEvent, Severity, Transcript};
use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

/// The handshake takes 1 + 2 × 1536 bytes in each direction.
const HANDSHAKE_LEN: usize = 1 + 2 * PACKET_LEN;
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
}

struct Side {
    reassembler: Reassembler,
    handshake: Vec<u8>,
    reader: ChunkReader,
    /// Decoding stopped (a gap or a broken chunk stream); the rest is only counted.
    stopped: bool,
}

impl Side {
    fn new() -> Self {
        Self {
            reassembler: Reassembler::new(MAX_PENDING),
            handshake: Vec::new(),
            reader: ChunkReader::new(ChunkLimits::default()),
            stopped: false,
        }
    }
}

struct Flow {
    report: FlowReport,
    /// 0 = client, 1 = server.
    sides: [Side; 2],
    started: Duration,
    /// Capture time of the latest frame of the flow.
    last: Duration,
    decided: bool,
    handshake_reported: bool,
}

impl Flow {
    fn at(&self, time: Duration) -> u64 {
        time.saturating_sub(self.started).as_micros() as u64
    }

    fn take(&mut self, side: usize, pieces: Vec<Piece>) {
        for piece in pieces {
            match piece {
                Piece::Data { time, bytes } => self.data(side, time, &bytes),
                Piece::Gap { offset, len } => {
                    let at = self.at(self.last);
                    let who = if side == 0 { "client" } else { "server" };
                    self.report.transcript.push(
                        at,
                        EventKind::Diagnostic {
                            id: "capture.gap".into(),
                            severity: Severity::Warning,
                            text: format!("{len} bytes of the {who}'s stream at offset {offset} are missing from the capture; decoding of that direction stops there"),
                        },
                    );
                    self.sides[side].stopped = true;
                }
            }
        }
    }

    fn data(&mut self, side: usize, time: Duration, mut bytes: &[u8]) {
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
        let s = &mut self.sides[side];
        if s.handshake.len() < HANDSHAKE_LEN {
            let take = (HANDSHAKE_LEN - s.handshake.len()).min(bytes.len());
            s.handshake.extend_from_slice(&bytes[..take]);
            self.report.transcript.push(
                at,
                EventKind::Segment {
                    direction,
                    len: bytes.len(),
                },
            );
            bytes = &bytes[take..];
            self.report_handshake(at);
        }
        if !bytes.is_empty() {
            self.sides[side].reader.feed(bytes);
        }
        self.read_messages(side, at, direction);
    }

    fn report_handshake(&mut self, at: u64) {
        if self.handshake_reported
            || self.sides[0].handshake.len() < HANDSHAKE_LEN
            || self.sides[1].handshake.len() < HANDSHAKE_LEN
        {
            return;
        }
        self.handshake_reported = true;
        for e in analyze(&self.sides[0].handshake, &self.sides[1].handshake) {
            self.report.transcript.push(
                at,
                EventKind::Handshake {
                    id: e.id().to_string(),
                    text: e.to_string(),
                },
            );
        }
    }

    fn read_messages(&mut self, side: usize, at: u64, direction: Direction) {
        loop {
            let polled = self.sides[side].reader.poll();
            let event = match polled {
                Ok(Some(e)) => e,
                Ok(None) => return,
                Err(e) => {
                    self.report.transcript.push(
                        at,
                        EventKind::Diagnostic {
                            id: "chunk.error".into(),
                            severity: Severity::Error,
                            text: format!("{e}; decoding of this direction stops"),
                        },
                    );
                    self.sides[side].stopped = true;
                    return;
                }
            };
            match event {
                ReadEvent::Message(raw) => {
                    if side == 0 {
                        self.report.messages.0 += 1;
                    } else {
                        self.report.messages.1 += 1;
                    }
                    if matches!(raw.type_id, 8 | 9) {
                        self.report
                            .media
                            .add(raw.type_id, raw.timestamp, &raw.payload);
                        continue;
                    }
                    let decoded = Message::decode(&raw);
                    self.report.transcript.push(
                        at,
                        EventKind::Message(MessageEvent::new(direction, &raw, decoded.as_ref())),
                    );
                }
                ReadEvent::ExtendedTimestampConvention { csid, convention } => {
                    self.report.transcript.push(
                        at,
                        EventKind::Diagnostic {
                            id: "chunk.ext-ts-convention".into(),
                            severity: Severity::Info,
                            text: format!(
                                "{} chunk stream {csid}: type-3 chunks {convention}",
                                direction.arrow()
                            ),
                        },
                    )
                }
                _ => {}
            }
        }
    }
}

/// Decodes every TCP flow of a capture. On a damaged file the flows decoded so far come back
/// with the error.
pub fn replay<R: Read>(
    mut capture: CaptureReader<R>,
    mut progress: impl FnMut(u64),
) -> (Vec<FlowReport>, Option<CaptureError>) {
    let mut flows: Vec<Flow> = Vec::new();
    let mut by_key: HashMap<(SocketAddr, SocketAddr), (usize, usize)> = HashMap::new();
    let mut error = None;
    while let Some(frame) = capture.next_frame() {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        progress(frame.offset);
        let Ok(Some(seg)) = tcp_segment(frame.link_type, &frame.data) else {
            continue;
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
                    report: FlowReport {
                        id: index + 1,
                        client,
                        server,
                        rtmp: false,
                        tunnel: seg.tunnel,
                        transcript: Transcript::new(),
                        bytes: (0, 0),
                        media: MediaStats::default(),
                        messages: (0, 0),
                    },
                    sides: [Side::new(), Side::new()],
                    started: frame.time,
                    last: frame.time,
                    decided: false,
                    handshake_reported: false,
                });
                flows[index].report.transcript.push(
                    0,
                    EventKind::Connected {
                        client: client.to_string(),
                        server: server.to_string(),
                    },
                );
                by_key.insert((client, server), (index, 0));
                by_key.insert((server, client), (index, 1));
                (index, usize::from(seg.src != client))
            }
        };
        let flow = &mut flows[index];
        flow.last = flow.last.max(frame.time);
        if seg.syn {
            flow.sides[side].reassembler.syn(seg.seq);
        }
        let pieces = flow.sides[side]
            .reassembler
            .segment(seg.seq, frame.time, seg.payload);
        flow.take(side, pieces);
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
    for flow in &mut flows {
        for side in 0..2 {
            let pieces = flow.sides[side].reassembler.finish();
            flow.take(side, pieces);
        }
        let media = &flow.report.media;
        if flow.report.rtmp && media.video_frames + media.audio_frames > 0 {
            let text = flow.report.media.to_string();
            flow.report.transcript.push(
                flow.at(flow.last),
                EventKind::MediaSummary {
                    stream: "media".into(),
                    text,
                },
            );
        }
    }
    (flows.into_iter().map(|f| f.report).collect(), error)
}

fn payload_is_c0(payload: &[u8]) -> bool {
    payload.first() == Some(&3)
}
