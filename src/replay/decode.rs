//! One flow's decoding: both directions' handshakes, chunk streams and messages, as they
//! arrive, into its [`FlowReport`]: the transcript, the diagnostics, the media and what the
//! client did on the wire.

use crate::capture::link::Tunnel;
use crate::capture::reassembly::{PieceRef, Reassembler};
use crate::media::MediaStats;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::answers::CommandLedger;
use crate::protocol::chunk::ReadEvent;
use crate::protocol::connection::{
    diagnose_message, diagnose_read_event, Acknowledgements, Diagnostic, DiagnosticKind, Side,
};
use crate::protocol::handshake::{HandshakeEvent, Packet, HANDSHAKE_LEN, PACKET_LEN};
use crate::protocol::message::Message;
use crate::protocol::observe::{capture_limits, why_decoding_stops, FlowObserver, Reading};
use crate::transcript::{
    read_diagnostics, Direction, EventKind, HandshakeObservation, HandshakeSegment, MediaEvent,
    MessageEvent, StreamMedia, Transcript,
};
use crate::transcript::{CloseCause, DiagnosticId};
use bytes::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use super::closing::{who, Closing};
use super::frames::FrameMap;
use super::{ClientWire, FlowReport, SeenMessage};

/// One side's decoding state.
#[derive(Default)]
struct SideState {
    /// The segments that carried the handshake: (time in µs, length).
    handshake_segments: Vec<(u64, usize)>,
    /// Decoding stopped (a gap or a broken chunk stream); the rest is only counted.
    stopped: bool,
    /// This side's Acknowledgements, read as the connection reads them (a stale one diagnosed).
    acknowledgements: Acknowledgements,
    /// Which frame carried which of this side's bytes.
    frames: FrameMap,
    /// The frames of the handshake's segments.
    handshake_frames: Vec<u64>,
    /// Bytes of this side delivered so far, decoded or not.
    delivered: u64,
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
    /// The transcript's time: the latest frame's, never earlier than an event already pushed.
    clock_us: u64,
    /// The number of the frame being decoded, and of the latest one (0: none, a live
    /// connection).
    frame: u64,
    latest_frame: u64,
    /// The flow's FINs and resets, until its end says which were honoured.
    closing: Closing,
    /// Frames captured earlier than one before them, while they go on.
    backwards: Option<BackwardsRun>,
    /// The latest timestamp of each media track: (side, message stream, type id).
    media_last: HashMap<(usize, u32, u8), u32>,
    /// Which commands were answered.
    commands: CommandLedger<Vec<u64>>,
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
        first_frame: u64,
        reading: Reading,
    ) -> Self {
        let mut transcript = Transcript::new();
        transcript.push_framed(
            0,
            EventKind::Connected {
                client: client.to_string(),
                server: server.to_string(),
            },
            framed(first_frame),
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
            observer: FlowObserver::with_reading(capture_limits(), reading),
            started,
            last: started,
            clock_us: 0,
            frame: first_frame,
            latest_frame: first_frame,
            closing: Closing::default(),
            backwards: None,
            media_last: HashMap::new(),
            commands: CommandLedger::new(),
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
            self.read_messages(side, direction, on_message);
        }
    }

    /// The flow ends here: the commands nobody answered, its close, what a handshake that never
    /// completed showed, and the media.
    pub(super) fn summarise(&mut self) {
        for (side, kind, frames) in std::mem::take(&mut self.commands).finish() {
            let side = usize::from(side == Side::Server);
            self.command_diagnostic(side, kind, frames);
        }
        let closing = std::mem::take(&mut self.closing);
        if let Some(close) = closing.finish() {
            if let Some(after) = close.after {
                let text = format!(
                    "the {} sent {} more bytes after the {} had closed the connection; nothing \
                     in the capture shows that the {} read them",
                    who(after.side),
                    after.bytes,
                    who(1 - after.side),
                    who(1 - after.side),
                );
                self.report.transcript.insert_framed(
                    after.index - 1,
                    after.at_us,
                    EventKind::diagnostic(DiagnosticId::CaptureAfterClose, text),
                    after.frames,
                );
            }
            self.report.transcript.insert_framed(
                close.index,
                close.at_us,
                EventKind::Closed {
                    reason: close.reason,
                },
                close.frames,
            );
        }
        if self.report.rtmp && !self.handshake_reported {
            self.handshake_reported = true;
            let observations = self.observer.observations();
            self.push_handshake(observations);
        }
        let media = &self.report.media;
        if self.report.rtmp && media.video_frames + media.audio_frames > 0 {
            let media = StreamMedia::from(&self.report.media);
            self.report.transcript.push(
                self.clock_us,
                EventKind::MediaSummary {
                    stream: "media".into(),
                    media,
                },
            );
        }
    }

    /// The next frame of the flow, captured at `time`: the transcript's clock moves to it,
    /// unless the capture's clock went backwards, which is said (with the frames) instead: one
    /// line for a run of frames behind the latest time.
    pub(super) fn tick(&mut self, time: Duration, frame: u64) {
        let at = time.saturating_sub(self.started).as_micros() as u64;
        // Less than a microsecond behind cannot make the transcript's times run backwards.
        if time + Duration::from_micros(1) <= self.last {
            let behind = self.last - time;
            match &mut self.backwards {
                Some(run) => {
                    run.frames.push(frame);
                    run.most_behind = run.most_behind.max(behind);
                }
                None => {
                    self.backwards = Some(BackwardsRun {
                        index: self.report.transcript.events.len(),
                        reference: self.latest_frame,
                        frames: vec![frame],
                        most_behind: behind,
                    });
                    // Said now, where it happened; amended while the run goes on.
                    self.push(
                        EventKind::diagnostic(DiagnosticId::CaptureTimeBackwards, ""),
                        Vec::new(),
                    );
                }
            }
            if let Some(run) = &self.backwards {
                let event = &mut self.report.transcript.events[run.index];
                event.kind = EventKind::diagnostic(DiagnosticId::CaptureTimeBackwards, run.text());
                event.frames = std::iter::once(run.reference)
                    .chain(run.frames.iter().copied())
                    .filter(|&f| f != 0)
                    .collect();
            }
        } else {
            self.backwards = None;
        }
        self.last = self.last.max(time);
        self.clock_us = self.clock_us.max(at);
        self.frame = frame;
        self.latest_frame = frame;
    }

    /// A live connection closed, for the reason its driver gives.
    pub(super) fn closed(&mut self, reason: CloseCause) {
        self.push(EventKind::Closed { reason }, Vec::new());
    }

    /// An event at the transcript's clock.
    fn push(&mut self, kind: EventKind, frames: Vec<u64>) {
        self.report
            .transcript
            .push_framed(self.clock_us, kind, frames);
    }

    /// `side` sent a FIN or (`reset`) a RST whose sequence number puts it at `offset` of its
    /// stream (None: no data seen yet).
    pub(super) fn flag(&mut self, side: usize, reset: bool, offset: Option<u64>) {
        let index = self.report.transcript.events.len();
        let offset = offset.unwrap_or(0);
        self.closing
            .mark(side, reset, self.frame, offset, index, self.clock_us);
    }

    /// The frames of the `len` bytes of `side` before its read position.
    fn frames_read(&self, side: usize, len: u64) -> Vec<u64> {
        let position = self.observer.position(peer(side));
        self.sides[side].frames.frames_before(position, len)
    }

    /// Decoding of `side` ends here, for the reason a diagnostic gives; its bytes are still
    /// counted.
    pub(super) fn stop(&mut self, side: usize, id: DiagnosticId, text: String, frames: Vec<u64>) {
        self.push(EventKind::diagnostic(id, text), frames);
        self.sides[side].stopped = true;
    }

    pub(super) fn take(
        &mut self,
        side: usize,
        piece: PieceRef<'_>,
        on_message: &mut impl FnMut(SeenMessage),
    ) {
        match piece {
            PieceRef::Data { time, frame, bytes } => {
                self.data(side, time, frame, bytes, on_message)
            }
            PieceRef::Gap { offset, len } => {
                let who = who(side);
                let frames = framed(self.frame);
                self.stop(side, DiagnosticId::CaptureGap, format!("{len} bytes of the {who}'s stream at offset {offset} are missing from the capture; decoding of that direction stops there"), frames);
            }
        }
    }

    /// `bytes` of `side`, captured at `time` (its own segment's time, which the handshake's
    /// segment timings use) in frame `frame`.
    pub(super) fn data(
        &mut self,
        side: usize,
        time: Duration,
        frame: u64,
        bytes: &Bytes,
        on_message: &mut impl FnMut(SeenMessage),
    ) {
        let own_at = time.saturating_sub(self.started).as_micros() as u64;
        let delivered = self.sides[side].delivered;
        self.sides[side].delivered += bytes.len() as u64;
        let index = self.report.transcript.events.len();
        for ignored in self.closing.data(
            side,
            delivered + bytes.len() as u64,
            bytes.len() as u64,
            frame,
            index,
            self.clock_us,
        ) {
            let what = if ignored.reset {
                "a reset (RST)"
            } else {
                "a FIN"
            };
            let who = who(ignored.side);
            self.push(
                EventKind::diagnostic(
                    DiagnosticId::CaptureCloseIgnored,
                    format!(
                        "frame {} carries {what} from the {who}, yet the {who} went on sending \
                         past it: the flag was not acted on (a damaged or out-of-window \
                         segment), so the flow is decoded on",
                        ignored.frame
                    ),
                ),
                [ignored.frame, frame]
                    .into_iter()
                    .filter(|&f| f != 0)
                    .collect(),
            );
        }
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
        self.sides[side].frames.push(bytes.len(), frame);
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
            self.push(
                EventKind::Segment {
                    direction,
                    len: bytes.len(),
                },
                framed(frame),
            );
            self.sides[side]
                .handshake_segments
                .push((own_at, bytes.len()));
            self.sides[side].handshake_frames.extend(framed(frame));
        }
        // A slice of the capture's block: the chunk reader copies nothing but message bodies.
        self.observer.feed_bytes(peer(side), bytes.clone());
        if in_handshake {
            self.report_handshake();
        }
        self.read_messages(side, direction, on_message);
    }

    /// Both handshakes are complete: report them with what they tell of the client.
    fn report_handshake(&mut self) {
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
        self.push_handshake(observations);
    }

    /// The frames that carried the handshake packets an observation rests on.
    fn packet_frames(&self, event: &HandshakeEvent) -> Vec<u64> {
        let packets: &[Packet] = match event {
            HandshakeEvent::Version { packet, .. }
            | HandshakeEvent::Hello { packet, .. }
            | HandshakeEvent::DigestValid { packet, .. }
            | HandshakeEvent::NoDigest { packet, .. }
            | HandshakeEvent::Answer { packet, .. } => std::slice::from_ref(packet),
            HandshakeEvent::ModeChosen(_) => &[Packet::S1],
            HandshakeEvent::C2SignedWithoutS1Digest => &[Packet::S1, Packet::C2],
        };
        let mut frames: Vec<u64> = packets
            .iter()
            .flat_map(|&packet| {
                let (side, range) = match packet {
                    Packet::C0 => (0, 0..1),
                    Packet::C1 => (0, 1..1 + PACKET_LEN as u64),
                    Packet::C2 => (0, 1 + PACKET_LEN as u64..HANDSHAKE_LEN as u64),
                    Packet::S0 => (1, 0..1),
                    Packet::S1 => (1, 1..1 + PACKET_LEN as u64),
                    Packet::S2 => (1, 1 + PACKET_LEN as u64..HANDSHAKE_LEN as u64),
                };
                self.sides[side].frames.frames_in(range)
            })
            .collect();
        frames.sort_unstable();
        frames.dedup();
        frames
    }

    /// The handshake's segments and every observation its bytes allow, complete or not.
    fn push_handshake(&mut self, observations: Vec<HandshakeEvent>) {
        for (side, id, peer) in [
            (0, DiagnosticId::HsClientSegments, Side::Client),
            (1, DiagnosticId::HsServerSegments, Side::Server),
        ] {
            let segments = self.sides[side]
                .handshake_segments
                .iter()
                .map(|&(at_us, len)| HandshakeSegment { at_us, len })
                .collect();
            let frames = self.sides[side].handshake_frames.clone();
            self.push(
                EventKind::handshake_observation(
                    id,
                    HandshakeObservation::Segments {
                        side: peer,
                        segments,
                    },
                ),
                frames,
            );
        }
        for e in observations {
            let frames = self.packet_frames(&e);
            self.push(EventKind::handshake_event(&e), frames);
        }
    }

    /// A diagnostic about `side`'s bytes, as the connection reading them reports it.
    fn peer_diagnostic(&mut self, side: usize, kind: DiagnosticKind, frames: Vec<u64>) {
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
        self.push(read_diagnostics::event(&diagnostic), frames);
    }

    /// A diagnostic about what `side`'s commands show (or what it left unanswered): the
    /// session's, not the chunk stream's.
    fn command_diagnostic(&mut self, side: usize, kind: DiagnosticKind, frames: Vec<u64>) {
        let diagnostic = Diagnostic {
            peer: peer(side),
            kind,
        };
        self.push(read_diagnostics::event(&diagnostic), frames);
    }

    fn read_messages(
        &mut self,
        side: usize,
        direction: Direction,
        on_message: &mut impl FnMut(SeenMessage),
    ) {
        loop {
            let polled = self.observer.poll_chunk(peer(side));
            let event = match polled {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => {
                    let frames = self.frames_read(side, 1);
                    self.stop(
                        side,
                        DiagnosticId::ChunkError,
                        format!(
                            "{e}; decoding of this direction stops there: {}",
                            why_decoding_stops(&e)
                        ),
                        frames,
                    );
                    return;
                }
            };
            match event {
                ReadEvent::Message(raw) => {
                    let frames = self.sides[side]
                        .frames
                        .frames(self.observer.message_ranges(peer(side)));
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
                        let track = (side, raw.stream_id, raw.type_id);
                        let previous = self.media_last.insert(track, raw.timestamp);
                        if let Some(media) = MediaEvent::of(direction, &raw, previous) {
                            self.push(EventKind::Media(media), frames);
                        }
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
                    self.push(
                        EventKind::Message(MessageEvent::new(direction, &raw, decoded.as_ref())),
                        frames.clone(),
                    );
                    for kind in diagnose_message(&raw, &decoded) {
                        self.peer_diagnostic(side, kind, frames.clone());
                    }
                    if let Ok(Message::Command(command)) = &decoded {
                        let found = self.commands.command(
                            peer(side),
                            raw.stream_id,
                            command,
                            frames.clone(),
                        );
                        for kind in found {
                            self.command_diagnostic(side, kind, frames.clone());
                        }
                    }
                    if let Ok(Message::Acknowledgement { sequence }) = &decoded {
                        if let Some(stale) = self.sides[side].acknowledgements.receive(*sequence) {
                            self.peer_diagnostic(side, stale, frames.clone());
                        }
                    }
                }
                other => {
                    if let Some(kind) = diagnose_read_event(&other) {
                        // Said as soon as the chunk header that shows it is read.
                        let frames = self.frames_read(side, 1);
                        self.peer_diagnostic(side, kind, frames);
                    }
                }
            }
        }
        // What is read is done with, but for the chunks of messages still in progress (and
        // the handshake, until it is reported).
        let keep_from = if self.handshake_reported {
            let position = self.observer.position(peer(side));
            self.observer
                .oldest_open(peer(side))
                .map_or(position, |open| open.min(position))
        } else {
            0
        };
        self.sides[side]
            .frames
            .forget_before(keep_from.saturating_sub(1));
    }
}

/// Consecutive frames whose capture time is behind the flow's latest.
struct BackwardsRun {
    /// Where its transcript line is.
    index: usize,
    /// The frame with the latest time, before the run.
    reference: u64,
    frames: Vec<u64>,
    most_behind: Duration,
}

impl BackwardsRun {
    fn text(&self) -> String {
        let behind = if self.most_behind < Duration::from_millis(1) {
            format!("{} µs", self.most_behind.as_micros())
        } else {
            format!("{:.3} ms", self.most_behind.as_secs_f64() * 1000.0)
        };
        match self.frames.as_slice() {
            [one] => format!(
                "frame {one} was captured {behind} before frame {} that came before it in \
                 this flow; its events are shown at the later time",
                self.reference
            ),
            [first, .., last] => format!(
                "frames {first} to {last} ({} of the flow's) were captured up to {behind} \
                 before frame {} that came before them; their events are shown at the later time",
                self.frames.len(),
                self.reference
            ),
            [] => String::new(),
        }
    }
}

/// A frame number as the frames of an event (none for 0: no frame, a live connection).
fn framed(frame: u64) -> Vec<u64> {
    if frame == 0 {
        Vec::new()
    } else {
        vec![frame]
    }
}
