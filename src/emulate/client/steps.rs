//! The client's plan after the handshake: connect, releaseStream / FCPublish / createStream,
//! publish or play, media from the clip, and the profile's way of stopping. Each step says what
//! it waits for and until when.

use super::tolerate::{opened_without_type0, resolved};
use super::{stop, EmulatorClient, Met, Stage, Status, Stop};
use crate::deviation::Deviation;
use crate::emulate::clip;
use crate::emulate::profile::{ChunkSizeWhen, PublishSequence, Role, StopStyle};
use crate::emulate::tolerance::Reaction;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{ChunkError, RawMessage};
use crate::protocol::connection::{CloseReason, ConnectionError};
use crate::protocol::message::{self, Message};
use crate::transcript::DiagnosticId;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::Duration;

/// How long a client that said goodbye waits for the server to object.
const LINGER: Duration = Duration::from_millis(100);

/// Where the case is, after the handshake.
pub(super) enum Step {
    Handshake,
    Connect {
        asked: Duration,
    },
    CreateStream {
        txn: f64,
        play: bool,
    },
    Status {
        stream_id: u32,
        code: &'static str,
        play: bool,
    },
    /// Media tags due at `start` + their timestamp, in order.
    Media {
        stream_id: u32,
        start: Duration,
        tags: VecDeque<(u32, RawMessage)>,
    },
    /// Goodbye said; the server may object until the deadline.
    Closing,
    PlayMedia {
        stream_id: u32,
        ignored: u32,
    },
    Done,
}

impl Step {
    /// What the step awaits, for a timeout's or close's words.
    pub(super) fn awaited(&self) -> &'static str {
        match self {
            Step::Connect { .. } => "_result for connect",
            Step::CreateStream { .. } => "_result for createStream",
            Step::Status { code, .. } => code,
            Step::PlayMedia { .. } => "media on the play stream",
            _ => "",
        }
    }

    /// The server closed its side: the verdict, or None when that ends the case well.
    pub(super) fn on_closed(&self, stage: Stage) -> Option<Stop> {
        match self {
            Step::Closing | Step::Done => None,
            Step::Media { .. } | Step::Handshake => Some(stop(
                Status::Fail,
                stage,
                DiagnosticId::TcpClosed,
                format!("the server closed the connection during {stage}"),
            )),
            _ => Some(stop(
                Status::Fail,
                stage,
                DiagnosticId::TcpClosed,
                format!(
                    "the server closed the connection while the client waited for {}",
                    self.awaited()
                ),
            )),
        }
    }

    pub(super) fn on_reset(&self, stage: Stage, error: &str) -> Stop {
        let message = match self {
            Step::Media { .. } | Step::Closing | Step::Done | Step::Handshake => {
                format!("the server reset the connection during {stage}: {error}")
            }
            _ => format!(
                "the server reset the connection while the client waited for {}: {error}",
                self.awaited()
            ),
        };
        stop(Status::Fail, stage, DiagnosticId::TcpReset, message)
    }

    pub(super) fn is_closing(&self) -> bool {
        matches!(self, Step::Closing)
    }

    /// When the next media tag is due.
    pub(super) fn next_due(&self) -> Option<Duration> {
        match self {
            Step::Media { start, tags, .. } => tags
                .front()
                .map(|(ts, _)| *start + Duration::from_millis(u64::from(*ts))),
            _ => None,
        }
    }
}

impl EmulatorClient {
    fn wait(&mut self, step: Step, stage: Stage) {
        self.step = step;
        self.stage = stage;
        self.deadline = Some(self.now + self.plan.reply_timeout);
    }

    /// Sends the client's own Set Chunk Size if the profile announces it `when`, after
    /// `prefix` (which it then takes).
    fn own_chunk_size(&mut self, when: ChunkSizeWhen, prefix: &mut Option<Bytes>) {
        if let Some((_, size)) = self.profile.own_chunk_size.filter(|&(w, _)| w == when) {
            self.send(message::set_chunk_size(size), prefix.take());
        }
    }

    pub(super) fn start_connect(&mut self) {
        self.stage = Stage::Connect;
        let fields = self
            .profile
            .connect_object(&self.plan.app, &self.plan.tc_url);
        let connect = message::command(0, "connect", 1.0, fields, vec![]);
        let mut prefix = self.held_c2.take();
        if prefix.is_some() {
            self.observations.s2_before_c2 = Some(true);
        }
        self.own_chunk_size(ChunkSizeWhen::BeforeConnect, &mut prefix);
        self.send(connect, prefix);
        let asked = self.now;
        self.wait(Step::Connect { asked }, Stage::Connect);
    }

    fn create_stream(&mut self, txn: f64, play: bool) {
        self.send(
            message::command(0, "createStream", txn, Amf0Value::Null, vec![]),
            None,
        );
        self.wait(Step::CreateStream { txn, play }, Stage::Publish);
    }

    fn after_connect(&mut self) {
        self.own_chunk_size(ChunkSizeWhen::AfterConnect, &mut None);
        if self.plan.stop_after_connect {
            self.finish(Ok(()));
            return;
        }
        let key = Amf0Value::string(&self.plan.key);
        match self.profile.role {
            Role::Publish {
                sequence: PublishSequence::Fmle,
                ..
            } => {
                self.stage = Stage::Publish;
                for (name, txn) in [("releaseStream", 2.0), ("FCPublish", 3.0)] {
                    let m = message::command(0, name, txn, Amf0Value::Null, vec![key.clone()]);
                    self.send(m, None);
                }
                self.create_stream(4.0, false);
            }
            Role::Publish {
                sequence: PublishSequence::Flash,
                ..
            } => self.create_stream(2.0, false),
            Role::Play => self.create_stream(2.0, true),
        }
    }

    fn stream_created(&mut self, stream_id: u32, play: bool) {
        let key = Amf0Value::string(&self.plan.key);
        let (m, code) = if play {
            let m = message::command(stream_id, "play", 3.0, Amf0Value::Null, vec![key]);
            (m, "NetStream.Play.Start")
        } else {
            let args = vec![key, Amf0Value::string("live")];
            let m = message::command(stream_id, "publish", 5.0, Amf0Value::Null, args);
            (m, "NetStream.Publish.Start")
        };
        self.send(RawMessage { csid: 8, ..m }, None);
        let step = Step::Status {
            stream_id,
            code,
            play,
        };
        self.wait(step, Stage::Publish);
    }

    fn started(&mut self, stream_id: u32, play: bool) {
        if play {
            let step = Step::PlayMedia {
                stream_id,
                ignored: 0,
            };
            self.wait(step, Stage::Media);
            return;
        }
        self.own_chunk_size(ChunkSizeWhen::AfterPublish, &mut None);
        self.step = Step::Media {
            stream_id,
            start: self.now,
            tags: media(stream_id, self.plan.media_duration),
        };
        self.stage = Stage::Media;
        self.deadline = None;
        // Tags at timestamp 0 go at once (and a case without media says goodbye at once).
        self.send_media(self.now);
    }

    /// Sends the media tags due by `now`; after the last, says goodbye.
    fn send_media(&mut self, now: Duration) {
        let Step::Media {
            stream_id,
            start,
            tags,
        } = &mut self.step
        else {
            return;
        };
        let (stream_id, start) = (*stream_id, *start);
        let mut due = Vec::new();
        while let Some((ts, _)) = tags.front() {
            if start + Duration::from_millis(u64::from(*ts)) > now {
                break;
            }
            due.extend(tags.pop_front().map(|(_, m)| m));
        }
        let finished = tags.is_empty();
        for m in due {
            self.send(m, None);
        }
        if finished {
            self.goodbye(stream_id);
        }
    }

    fn goodbye(&mut self, stream_id: u32) {
        self.stage = Stage::Close;
        let Role::Publish { stop: style, .. } = self.profile.role else {
            return;
        };
        let key = Amf0Value::string(&self.plan.key);
        let delete = |txn| {
            let id = Amf0Value::Number(f64::from(stream_id));
            message::command(0, "deleteStream", txn, Amf0Value::Null, vec![id])
        };
        match style {
            StopStyle::EmptyPublish => {
                let empty = vec![Amf0Value::string("")];
                let p = message::command(stream_id, "publish", 6.0, Amf0Value::Null, empty);
                self.send(RawMessage { csid: 8, ..p }, None);
            }
            StopStyle::FcUnpublishDeleteStream => {
                let m = message::command(0, "FCUnpublish", 6.0, Amf0Value::Null, vec![key]);
                self.send(m, None);
                self.send(delete(7.0), None);
            }
            StopStyle::DeleteStream => self.send(delete(6.0), None),
        }
        self.step = Step::Closing;
        self.deadline = Some(self.now + LINGER);
    }

    /// Time-driven progress: media tags that are due, and waits that ran out.
    pub(super) fn step_time(&mut self, now: Duration) {
        self.send_media(now);
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        let stage = self.stage;
        let reason = match &self.step {
            Step::Closing => {
                self.finish(Ok(()));
                return;
            }
            Step::PlayMedia { stream_id, ignored } if *ignored > 0 => stop(
                Status::Timeout,
                Stage::Media,
                DiagnosticId::MediaWrongStream,
                format!("{ignored} media messages arrived on another message stream than the play stream {stream_id}; {} ignores them, so nothing was delivered", self.profile.name),
            ),
            Step::Handshake | Step::Media { .. } | Step::Done => return,
            step => stop(
                Status::Timeout,
                stage,
                DiagnosticId::MsgTimeout,
                format!(
                    "no {} within {:?}",
                    step.awaited(),
                    self.plan.reply_timeout
                ),
            ),
        };
        self.fail(reason);
    }

    pub(super) fn on_closed(&mut self, reason: CloseReason) {
        let stop = match reason {
            CloseReason::PeerClosed {
                during_handshake: true,
            } => stop(
                Status::Fail,
                Stage::Handshake,
                DiagnosticId::HsClosed,
                "the server closed the connection during the handshake",
            ),
            CloseReason::PeerClosed { .. } => match self.step.on_closed(self.stage) {
                Some(stop) => stop,
                None => {
                    self.finish(Ok(()));
                    return;
                }
            },
            CloseReason::Error(ConnectionError::Handshake { error, .. }) => stop(
                Status::Fail,
                Stage::Handshake,
                DiagnosticId::HsClientRejected,
                format!(
                    "{} rejects the server's handshake: {error}",
                    self.profile.name
                ),
            ),
            CloseReason::Error(ConnectionError::Chunk(e)) => {
                // The reader refuses an opening without a type 0 header when the profile's rows
                // say the client fails on every one (tolerate::connection_config): met there.
                if let ChunkError::NoPreviousHeader { fmt, .. } = e {
                    self.record_met(opened_without_type0(fmt));
                }
                stop(
                    Status::Fail,
                    self.stage,
                    DiagnosticId::ChunkError,
                    format!("the server's chunk stream is broken: {e}"),
                )
            }
            // The client sets no connection timeouts; its own waits are its steps'.
            CloseReason::Timeout(_) => return,
        };
        self.end_of_server(stop);
    }

    /// The server ended the connection: right after a signed C2, that says why.
    pub(super) fn end_of_server(&mut self, mut reason: Stop) {
        if self.step.is_closing() {
            self.finish(Ok(()));
            return;
        }
        if self.conn.answer_signed()
            && reason.stage == Stage::Connect
            && matches!(reason.id, DiagnosticId::TcpClosed | DiagnosticId::TcpReset)
        {
            reason.id = DiagnosticId::HsC2SignedRejected;
            reason.message.push_str(
                " right after the handshake; this client's C2 was signed (for S1's digest, or for the bytes where one would be), not an echo of S1, \
                 and a server that insists on an echo closes here (go-rtmp before #51; SRS notes FFmpeg playback fails this way)",
            );
        }
        self.fail(reason);
    }

    /// A message from the server: logged, protocol control answered as the profile does, then
    /// given to the step that may be waiting for it.
    pub(super) fn on_message(&mut self, raw: &RawMessage, m: &Message) {
        if !matches!(raw.type_id, 8 | 9) {
            self.event(crate::transcript::EventKind::Message(
                crate::transcript::MessageEvent::new(
                    crate::transcript::Direction::ServerToClient,
                    raw,
                    Ok(m),
                ),
            ));
        }
        if matches!(raw.type_id, 1..=6) {
            self.observations.control.push(m.to_string());
        }
        let met = match m {
            Message::SetChunkSize { size, .. } => {
                self.observations.server_chunk_size = Some(*size);
                if self.profile.echo_chunk_size {
                    self.send(message::set_chunk_size(*size), None);
                }
                self.met_chunk_size(*size)
            }
            Message::Abort { csid } => self.met_abort(*csid),
            Message::Command(c) => self.met_release_reply(c),
            _ => Met::GoesOn,
        };
        if !self.server_csids.contains(&raw.csid) {
            self.server_csids.push(raw.csid);
        }
        if met == Met::GoesOn {
            self.step_message(raw, m);
        }
    }

    /// Whether an onStatus of `level` and `code` ends this client (see
    /// [`crate::emulate::profile::Profile::fatal_status_codes`]).
    fn status_is_fatal(&self, level: Option<&str>, code: &str) -> bool {
        match &self.profile.fatal_status_codes {
            Some(codes) => codes.iter().any(|c| c == code),
            None => level == Some("error"),
        }
    }

    /// Media on a player's stream before NetStream.Play.Start (on-status-missing): a client
    /// whose row goes on plays it, as FFmpeg does; the others ignore it and wait for the status,
    /// as librtmp and rtmp2 do.
    fn met_media_before_status(
        &mut self,
        raw: &RawMessage,
        m: &Message,
        stream_id: u32,
        code: &str,
    ) {
        if !matches!(
            resolved(&self.profile, Deviation::OnStatusMissing),
            Reaction::Accept | Reaction::Warn
        ) {
            return;
        }
        let message = format!(
            "media on message stream {} before any onStatus {code}",
            raw.stream_id
        );
        let deviation = Deviation::OnStatusMissing;
        if self.meet(deviation, DiagnosticId::CmdStatusMissing, message, true) == Met::Stops {
            return;
        }
        self.started(stream_id, true);
        self.step_message(raw, m);
    }

    fn step_message(&mut self, raw: &RawMessage, m: &Message) {
        let command = match m {
            Message::Command(c) => Some(c),
            _ => None,
        };
        let first = command.and_then(|c| c.arguments.first());
        let level = first
            .and_then(|o| o.get("level"))
            .and_then(Amf0Value::as_str);
        let status_code = first
            .and_then(|o| o.get("code"))
            .and_then(Amf0Value::as_str)
            .unwrap_or("");
        let error_status = command.is_some_and(|c| c.name == "onStatus")
            && self.status_is_fatal(level, status_code);
        match self.step {
            Step::Connect { asked } => match command {
                Some(c) if c.name == "_result" && c.transaction_id == 1.0 => {
                    if self.met_connect_result(c) == Met::Stops {
                        return;
                    }
                    self.observations.connect_result_ms =
                        Some(self.now.saturating_sub(asked).as_secs_f64() * 1000.0);
                    self.connected_after = Some(self.now);
                    self.after_connect();
                }
                Some(c) if c.name == "_error" && c.transaction_id == 1.0 => self.fail(stop(
                    Status::Fail,
                    Stage::Connect,
                    DiagnosticId::CmdConnectRejected,
                    format!("the server rejected connect: {m}"),
                )),
                _ => {}
            },
            Step::CreateStream { txn, play } => match command {
                Some(c) if c.name == "_result" && c.transaction_id == txn => {
                    if !play && self.met_release_silence() == Met::Stops {
                        return;
                    }
                    match first.and_then(Amf0Value::as_number) {
                        Some(id) if id >= 0.0 && id <= f64::from(u32::MAX) => {
                            self.stream_created(id as u32, play)
                        }
                        _ => self.fail(stop(
                            Status::Fail,
                            Stage::Publish,
                            DiagnosticId::CmdCreatestreamNoId,
                            format!("createStream's _result carries no stream id: {m}"),
                        )),
                    }
                }
                Some(c) if c.name == "_error" && c.transaction_id == txn => self.fail(stop(
                    Status::Fail,
                    Stage::Publish,
                    DiagnosticId::CmdCreatestreamRejected,
                    format!("the server rejected createStream: {m}"),
                )),
                _ => {}
            },
            Step::Status {
                stream_id,
                code,
                play,
            } => {
                if play && matches!(raw.type_id, 8 | 9) && !raw.payload.is_empty() {
                    self.met_media_before_status(raw, m, stream_id, code);
                    return;
                }
                if command.is_none_or(|c| c.name != "onStatus") {
                    return;
                }
                let got = status_code;
                if error_status {
                    self.fail(stop(
                        Status::Fail,
                        Stage::Publish,
                        DiagnosticId::CmdStatusError,
                        format!("the server answered {got}: {m}"),
                    ));
                    return;
                }
                if got != code {
                    return;
                }
                if raw.stream_id != stream_id {
                    let message = format!(
                        "{code} arrived on message stream {} instead of {stream_id}",
                        raw.stream_id
                    );
                    if raw.stream_id == 0 {
                        let deviation = Deviation::OnStatusOnStream0;
                        if self.meet(deviation, DiagnosticId::CmdStatusWrongStream, message, true)
                            == Met::Stops
                        {
                            return;
                        }
                    } else if self.profile.strict_stream_ids() {
                        let text = format!("{message}; {} ignores it", self.profile.name);
                        self.diagnostic(DiagnosticId::CmdStatusWrongStream, &text);
                        return;
                    } else {
                        self.deviation(DiagnosticId::CmdStatusWrongStream, message);
                    }
                }
                self.started(stream_id, play);
            }
            Step::Media { .. } | Step::Closing if error_status => {
                let stage = self.stage;
                self.fail(stop(
                    Status::Fail,
                    stage,
                    DiagnosticId::CmdStatusError,
                    format!("the server answered {m}"),
                ));
            }
            Step::PlayMedia {
                stream_id,
                ref mut ignored,
            } => {
                if !matches!(raw.type_id, 8 | 9) || raw.payload.is_empty() {
                    return;
                }
                if self.profile.strict_stream_ids() && raw.stream_id != stream_id {
                    *ignored += 1;
                    return;
                }
                self.finish(Ok(()));
            }
            _ => {}
        }
    }
}

/// The clip's tags as messages on `stream_id` for `duration`, the clip repeated as needed
/// (its configuration tags only the first time), with their timestamps in ms.
fn media(stream_id: u32, duration: Duration) -> VecDeque<(u32, RawMessage)> {
    let tags = clip::tags();
    let clip_ms = clip::duration_ms(&tags);
    let total_ms = duration.as_millis().min(u128::from(u32::MAX)) as u32;
    let mut out = VecDeque::new();
    for round in 0u32.. {
        for tag in &tags {
            let ts = round.saturating_mul(clip_ms).saturating_add(tag.timestamp);
            if ts >= total_ms {
                return out;
            }
            let is_config = tag.type_id == 18
                || (tag.type_id == 9 && tag.payload.get(1) == Some(&0))
                || (tag.type_id == 8 && tag.payload.get(1) == Some(&0));
            if round > 0 && is_config {
                continue;
            }
            let payload = if tag.type_id == 18 {
                let mut p = BytesMut::from(&b"\x02\x00\x0d@setDataFrame"[..]);
                p.extend_from_slice(&tag.payload);
                p.freeze()
            } else {
                tag.payload.clone()
            };
            out.push_back((
                ts,
                RawMessage {
                    csid: if tag.type_id == 8 { 4 } else { 6 },
                    timestamp: ts,
                    type_id: tag.type_id,
                    stream_id,
                    payload,
                },
            ));
        }
        if clip_ms == 0 {
            break;
        }
    }
    out
}
