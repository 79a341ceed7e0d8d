//! One case: a profile and a variant played against a server over TCP, with a verdict.
//!
//! The driver is thin: the handshake, chunk stream and messages are the sans-IO core's; this
//! file decides when to write what (the profile's timing), reads what comes back, and records
//! everything into a transcript and a set of observations from which the verdict follows.

use super::clip;
use super::profile::{
    C0C1Writes, C2Timing, ChunkSizeWhen, Profile, PublishSequence, Role, S2Check, StopStyle,
};
use super::variant::Variant;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::{
    AckTracker, ChunkLimits, ChunkReader, ChunkWriter, RawMessage, ReadEvent,
};
use crate::protocol::handshake::{C2Style, Handshake, HandshakeEvent, Mode, Packet};
use crate::protocol::message::{self, Message, UserControl};
use crate::protocol::random::RandomSource;
use crate::record::pcap::{PcapRecorder, TcpFlow};
use crate::transcript::{
    read_diagnostics, Direction, EventKind, MessageEvent, Severity, Transcript,
};
use bytes::{Bytes, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where a case connects and what it publishes or plays.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// `host[:port]` as the user wrote it, for tcUrl.
    pub authority: String,
    pub app: String,
}

/// Why a URL or address names no reachable place, each case said as what it really is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("'{0}' is not an rtmp:// URL")]
    NotRtmpUrl(String),
    #[error("empty host in '{0}'")]
    EmptyHost(String),
    #[error("port '{0}' is not a number")]
    BadPort(String),
    #[error("port {0} out of range (1-65535)")]
    PortOutOfRange(String),
    #[error("port 0 cannot be connected to (1-65535)")]
    PortZero,
    #[error("cannot resolve '{host}': {reason}")]
    CannotResolve { host: String, reason: String },
}

impl From<TargetError> for String {
    fn from(e: TargetError) -> String {
        e.to_string()
    }
}

/// Splits `host[:port]` or `[v6]:port` into the host (brackets removed) and the port, if
/// given. Port 0 is allowed here: a listener may ask for any port, a client may not.
pub fn split_authority(authority: &str) -> Result<(&str, Option<u16>), TargetError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| TargetError::EmptyHost(authority.to_string()))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(TargetError::BadPort(after.to_string())),
            },
        }
    } else if authority.matches(':').count() > 1 {
        // A bare IPv6 address without brackets has no room for a port.
        (authority, None)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(TargetError::EmptyHost(authority.to_string()));
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| TargetError::PortOutOfRange(p.to_string()))?,
        ),
        Some(p) => return Err(TargetError::BadPort(p.to_string())),
    };
    Ok((host, port))
}

/// Resolves `host` and `port` to the first address, naming the host on failure.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, TargetError> {
    use std::net::ToSocketAddrs;
    let cannot = |reason: String| TargetError::CannotResolve {
        host: host.to_string(),
        reason,
    };
    (host, port)
        .to_socket_addrs()
        .map_err(|e| cannot(e.to_string()))?
        .next()
        .ok_or_else(|| cannot("no address".into()))
}

impl Target {
    /// Parses `rtmp://host[:port]/app[/...]`; returns the target and the stream key, if any.
    pub fn parse(url: &str) -> Result<(Target, Option<String>), TargetError> {
        let rest = url
            .strip_prefix("rtmp://")
            .ok_or_else(|| TargetError::NotRtmpUrl(url.to_string()))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = split_authority(authority)?;
        let port = port.unwrap_or(1935);
        if port == 0 {
            return Err(TargetError::PortZero);
        }
        let addr = resolve(host, port)?;
        let (app, key) = match path.split_once('/') {
            Some((app, key)) if !key.is_empty() => (app, Some(key.to_string())),
            Some((app, _)) => (app, None),
            None => (path, None),
        };
        let app = if app.is_empty() { "live" } else { app };
        Ok((
            Target {
                addr,
                authority: authority.to_string(),
                app: app.to_string(),
            },
            key,
        ))
    }

    pub fn tc_url(&self) -> String {
        format!("rtmp://{}/{}", self.authority, self.app)
    }
}

/// The stage of a case at which something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Tcp,
    Handshake,
    Connect,
    Publish,
    Media,
    Close,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Tcp => "tcp",
            Stage::Handshake => "handshake",
            Stage::Connect => "connect",
            Stage::Publish => "publish",
            Stage::Media => "media",
            Stage::Close => "close",
        })
    }
}

/// A case's result, most severe last (a repeated case reports its worst attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    /// Passed, but the server deviated from the specification.
    NonStrict,
    /// Outside what the specification requires either way (e.g. a server that waits for C1).
    Informational,
    Fail,
    Timeout,
    Error,
}

impl Status {
    /// Every status, least severe first.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::NonStrict,
        Status::Informational,
        Status::Fail,
        Status::Timeout,
        Status::Error,
    ];

    /// FAIL, TIMEOUT and ERROR fail a case (and `matrix`'s exit status).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Timeout | Status::Error)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::NonStrict => "NON-STRICT",
            Status::Informational => "INFORMATIONAL",
            Status::Fail => "FAIL",
            Status::Timeout => "TIMEOUT",
            Status::Error => "ERROR",
        }
    }
}

/// One finding that explains a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: String,
    pub message: String,
}

/// What the client saw of the server, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Observations {
    /// Sizes of the reads that made up S0+S1+S2, in order.
    pub handshake_reads: Vec<usize>,
    /// Milliseconds between consecutive handshake reads (the first from the C0+C1 write).
    pub handshake_read_gaps_ms: Vec<f64>,
    pub s1_version: Option<String>,
    pub s1_digest: Option<bool>,
    /// How S2 answered C1 (`hs.s2-echo`, `hs.s2-echo-from-8`, `hs.s2-signed`, ...).
    pub s2: Option<String>,
    /// Whether all of S2 arrived before the client wrote C2.
    pub s2_before_c2: Option<bool>,
    pub connect_result_ms: Option<f64>,
    pub server_chunk_size: Option<u32>,
    /// Protocol control and user control messages from the server, in order.
    pub control: Vec<String>,
}

/// The result of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub stage: Option<Stage>,
    pub diagnosis: Vec<Finding>,
    pub observations: Observations,
    pub transcript: Transcript,
    pub duration: Duration,
    /// From the start of the attempt (before the TCP connect) to connect's `_result`.
    pub connected_after: Option<Duration>,
}

/// Limits of one case.
#[derive(Debug, Clone)]
pub struct CaseOptions {
    /// How long to publish media.
    pub media_duration: Duration,
    /// How long the TCP connect and each read of the handshake may take.
    pub handshake_timeout: Duration,
    /// How long the server may take to send each awaited reply (connect's `_result`, ...).
    pub reply_timeout: Duration,
    /// How long one attempt may take in all, media included; None: no limit.
    pub case_timeout: Option<Duration>,
    pub seed: Option<u64>,
    /// Write what the client wrote and read, one frame per write or read, into this pcap file.
    pub pcap: Option<std::path::PathBuf>,
    /// Close right after connect's `_result` instead of going on to publish or play (`load`
    /// measures connection setup this way).
    pub stop_after_connect: bool,
}

impl Default for CaseOptions {
    fn default() -> Self {
        Self {
            media_duration: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(5),
            reply_timeout: Duration::from_secs(5),
            case_timeout: None,
            seed: None,
            pcap: None,
            stop_after_connect: false,
        }
    }
}

/// Why a case stopped early.
struct Stop {
    status: Status,
    stage: Stage,
    id: &'static str,
    message: String,
}

fn stop(status: Status, stage: Stage, id: &'static str, message: impl Into<String>) -> Stop {
    Stop {
        status,
        stage,
        id,
        message: message.into(),
    }
}

/// Runs one attempt of `profile` × `variant` against `target`, on stream `key`.
pub async fn run(
    profile: &Profile,
    variant: Variant,
    target: &Target,
    key: &str,
    options: &CaseOptions,
) -> Outcome {
    let started = Instant::now();
    let mut case = Case {
        profile,
        variant,
        target,
        key,
        options,
        started,
        transcript: Transcript::new(),
        connected_after: None,
        observations: Observations::default(),
        findings: Vec::new(),
        informational: false,
        non_strict: false,
        c2_signed: false,
        flow: None,
        pcap_error: None,
        stage: Stage::Tcp,
    };
    let result = match options.case_timeout {
        None => case.play().await,
        Some(limit) => match tokio::time::timeout(limit, case.play()).await {
            Ok(result) => result,
            Err(_) => Err(stop(
                Status::Timeout,
                case.stage,
                "case.timeout",
                format!("the case did not finish within {limit:?} (--case-timeout)"),
            )),
        },
    };
    if let Some(mut flow) = case.flow.take() {
        // A client that aborted the handshake reset the connection; others closed it.
        let reset = matches!(&result, Err(s) if matches!(s.id, "hs.first-read-short" | "hs.c2-from-empty-s1"));
        let _ = flow.close(
            std::time::SystemTime::now(),
            reset.then_some(Direction::ClientToServer),
        );
        if let Err(e) = flow.finish() {
            case.pcap_error = Some(e.to_string());
        }
    }
    if let Some(e) = case.pcap_error.take() {
        case.findings.push(Finding {
            id: "case.pcap-failed".into(),
            message: format!("writing the pcap file failed: {e}"),
        });
    }
    let (status, stage) = match result {
        Ok(()) if case.informational => (Status::Informational, None),
        Ok(()) if case.non_strict => (Status::NonStrict, None),
        Ok(()) => (Status::Pass, None),
        Err(s) => {
            case.diagnostic(s.id, Severity::Error, &s.message);
            case.findings.push(Finding {
                id: s.id.to_string(),
                message: s.message,
            });
            (s.status, Some(s.stage))
        }
    };
    Outcome {
        status,
        stage,
        diagnosis: case.findings,
        observations: case.observations,
        transcript: case.transcript,
        duration: started.elapsed(),
        connected_after: case.connected_after,
    }
}

struct Case<'a> {
    profile: &'a Profile,
    variant: Variant,
    target: &'a Target,
    key: &'a str,
    options: &'a CaseOptions,
    started: Instant,
    transcript: Transcript,
    connected_after: Option<Duration>,
    observations: Observations,
    findings: Vec<Finding>,
    informational: bool,
    non_strict: bool,
    /// This client's C2 was signed rather than an echo of S1.
    c2_signed: bool,
    flow: Option<TcpFlow<std::io::BufWriter<std::fs::File>>>,
    pcap_error: Option<String>,
    /// The stage last written or waited in: where a whole-case timeout caught the case.
    stage: Stage,
}

/// The connection after the handshake: chunk stream both ways.
struct Conn {
    socket: TcpStream,
    reader: ChunkReader,
    writer: ChunkWriter,
    acks: AckTracker,
    buf: Vec<u8>,
}

impl<'a> Case<'a> {
    /// Adds one write or read to the pcap file, if one is being written.
    fn record(&mut self, direction: Direction, bytes: &[u8]) {
        if let Some(flow) = self.flow.as_mut() {
            if let Err(e) = flow.record(direction, std::time::SystemTime::now(), bytes) {
                self.pcap_error = Some(e.to_string());
                self.flow = None;
            }
        }
    }

    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    fn event(&mut self, kind: EventKind) {
        let at = self.now_us();
        self.transcript.push(at, kind);
    }

    fn diagnostic(&mut self, id: &str, severity: Severity, text: &str) {
        self.event(EventKind::diagnostic(id, severity, text));
    }

    /// What the chunk reader saw of the server's bytes, with the ids serve and replay use.
    fn reader_diagnostic(&mut self, diagnostic: Option<EventKind>) {
        if let Some(d) = diagnostic {
            self.event(d);
        }
    }

    /// A deviation that does not stop the case but makes it NON-STRICT.
    fn deviation(&mut self, id: &'static str, message: String) {
        self.diagnostic(id, Severity::Warning, &message);
        self.findings.push(Finding {
            id: id.to_string(),
            message,
        });
        self.non_strict = true;
    }

    async fn play(&mut self) -> Result<(), Stop> {
        let socket = tokio::time::timeout(
            self.options.handshake_timeout,
            TcpStream::connect(self.target.addr),
        )
        .await
        .map_err(|_| {
            stop(
                Status::Timeout,
                Stage::Tcp,
                "tcp.connect-timeout",
                format!(
                    "no TCP connection to {} within {:?}",
                    self.target.addr, self.options.handshake_timeout
                ),
            )
        })?
        .map_err(|e| {
            stop(
                Status::Error,
                Stage::Tcp,
                "tcp.connect-failed",
                format!("connecting to {}: {e}", self.target.addr),
            )
        })?;
        let _ = socket.set_nodelay(self.profile.nodelay || self.variant == Variant::Bytewise);
        self.event(EventKind::Connected {
            client: socket
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            server: self.target.addr.to_string(),
        });
        if let (Some(path), Ok(local)) = (&self.options.pcap, socket.local_addr()) {
            let opened = std::fs::File::create(path)
                .and_then(|f| PcapRecorder::new(std::io::BufWriter::new(f)))
                .and_then(|r| {
                    TcpFlow::open(r, local, self.target.addr, std::time::SystemTime::now())
                });
            match opened {
                Ok(flow) => self.flow = Some(flow),
                Err(e) => self.pcap_error = Some(format!("{}: {e}", path.display())),
            }
        }
        let (mut conn, pending_c2) = self.handshake(socket).await?;
        self.connect(&mut conn, pending_c2).await?;
        self.connected_after = Some(self.started.elapsed());
        if self.options.stop_after_connect {
            let _ = conn.socket.shutdown().await;
            return Ok(());
        }
        match self.profile.role {
            Role::Publish { sequence, stop } => {
                let stream_id = self.publish(&mut conn, sequence).await?;
                self.media(&mut conn, stream_id).await?;
                self.finish(&mut conn, stream_id, stop).await
            }
            Role::Play => self.play_stream(&mut conn).await,
        }
    }

    // ----- handshake -----

    async fn write(
        &mut self,
        socket: &mut TcpStream,
        bytes: &[u8],
        stage: Stage,
    ) -> Result<(), Stop> {
        self.stage = stage;
        if self.variant == Variant::Bytewise && stage == Stage::Handshake {
            for b in bytes {
                self.write_once(socket, std::slice::from_ref(b), stage)
                    .await?;
            }
            return Ok(());
        }
        self.write_once(socket, bytes, stage).await
    }

    async fn write_once(
        &mut self,
        socket: &mut TcpStream,
        bytes: &[u8],
        stage: Stage,
    ) -> Result<(), Stop> {
        if stage == Stage::Handshake {
            self.event(EventKind::Segment {
                direction: Direction::ClientToServer,
                len: bytes.len(),
            });
        }
        self.record(Direction::ClientToServer, bytes);
        socket.write_all(bytes).await.map_err(|e| {
            stop(
                Status::Fail,
                stage,
                "tcp.write-failed",
                format!("the server closed or reset the connection: {e}"),
            )
        })
    }

    async fn handshake(&mut self, mut socket: TcpStream) -> Result<(Conn, Option<Bytes>), Stop> {
        let seed = self
            .options
            .seed
            .unwrap_or_else(|| RandomSource::from_entropy().next_u32() as u64);
        let mut hs = Handshake::client(self.profile.handshake, RandomSource::seeded(seed));
        let c0 = hs.poll_transmit().map(|t| t.bytes).unwrap_or_default();
        let c1 = hs.poll_transmit().map(|t| t.bytes).unwrap_or_default();
        let c0c1: Vec<u8> = [&c0[..], &c1[..]].concat();
        let mut buf = vec![0u8; 64 * 1024];
        let mut early = Vec::new();
        match (self.variant, self.profile.c0c1) {
            (Variant::SplitC0, _) | (Variant::Default, C0C1Writes::Apart(_)) => {
                self.write(&mut socket, &c0, Stage::Handshake).await?;
                if let C0C1Writes::Apart(gap) = self.profile.c0c1 {
                    if self.variant == Variant::Default {
                        tokio::time::sleep(gap).await;
                    }
                }
                let arrived = bytes_waiting(&socket);
                self.write(&mut socket, &c1, Stage::Handshake).await?;
                self.write_ready_after_c1(&socket, arrived)?;
            }
            (Variant::Split1536, _) => {
                self.write(&mut socket, &c0c1[..1536], Stage::Handshake)
                    .await?;
                self.write(&mut socket, &c0c1[1536..], Stage::Handshake)
                    .await?;
            }
            (Variant::C0WaitS0, _) => {
                self.write(&mut socket, &c0, Stage::Handshake).await?;
                match tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {
                        early.extend_from_slice(&buf[..n]);
                        self.diagnostic(
                            "hs.s0-before-c1",
                            Severity::Info,
                            "the server wrote S0 before C1 was sent",
                        );
                    }
                    Ok(Ok(_)) | Ok(Err(_)) => {
                        return Err(stop(
                            Status::Fail,
                            Stage::Handshake,
                            "hs.closed-after-c0",
                            "the server closed the connection after C0",
                        ));
                    }
                    Err(_) => {
                        self.informational = true;
                        let message = "the server waited for C1 before writing S0, which the specification allows (a server MUST wait for C0 and MAY wait for C1)".to_string();
                        self.diagnostic("hs.server-waits-for-c1", Severity::Info, &message);
                        self.findings.push(Finding {
                            id: "hs.server-waits-for-c1".into(),
                            message,
                        });
                    }
                }
                let arrived = early.len() + bytes_waiting(&socket);
                self.write(&mut socket, &c1, Stage::Handshake).await?;
                self.write_ready_after_c1(&socket, arrived)?;
            }
            _ => self.write(&mut socket, &c0c1, Stage::Handshake).await?,
        }
        let sent_at = Instant::now();
        let mut last_read = sent_at;
        let mut c2: Option<Bytes> = None;
        let mut c2_written = false;
        let hold_c2 = matches!(self.variant, Variant::Coalesced | Variant::C2WithConnect)
            || self.profile.c2_timing == C2Timing::WithConnect;
        let mut pending_input = early;
        loop {
            let input: Vec<u8> = if pending_input.is_empty() {
                let n = match tokio::time::timeout(
                    self.options.handshake_timeout,
                    socket.read(&mut buf),
                )
                .await
                {
                    Err(_) => {
                        let got: usize = self.observations.handshake_reads.iter().sum();
                        return Err(stop(
                            Status::Timeout,
                            Stage::Handshake,
                            "hs.timeout",
                            format!("the handshake did not complete within {:?}: {got} of 3073 server bytes arrived{}", self.options.handshake_timeout,
                                if c2_written || got < 1537 { String::new() } else { " (the server may be waiting for C2, which this client sends only after S2)".into() }),
                        ));
                    }
                    Ok(Err(e)) => {
                        return Err(stop(
                            Status::Fail,
                            Stage::Handshake,
                            "hs.reset",
                            format!("the server reset the connection during the handshake: {e}"),
                        ))
                    }
                    Ok(Ok(0)) => {
                        return Err(stop(
                            Status::Fail,
                            Stage::Handshake,
                            "hs.closed",
                            "the server closed the connection during the handshake",
                        ))
                    }
                    Ok(Ok(n)) => n,
                };
                buf[..n].to_vec()
            } else {
                std::mem::take(&mut pending_input)
            };
            self.record(Direction::ServerToClient, &input);
            let now = Instant::now();
            self.observations.handshake_reads.push(input.len());
            self.observations
                .handshake_read_gaps_ms
                .push(now.duration_since(last_read).as_secs_f64() * 1000.0);
            last_read = now;
            self.event(EventKind::Segment {
                direction: Direction::ServerToClient,
                len: input.len(),
            });
            if self.profile.first_read_needs_s0_s1
                && self.observations.handshake_reads.len() == 1
                && input.len() < 1537
            {
                // Abort with a reset, as the encoders of ticket 6453 were seen to do. SO_LINGER 0
                // makes close send RST at once; it cannot block, which is tokio's concern.
                #[allow(deprecated)]
                let _ = socket.set_linger(Some(Duration::ZERO));
                drop(socket);
                let what = match input.len() {
                    1 => "S0 (1 byte) alone".to_string(),
                    n => format!("{n} bytes"),
                };
                return Err(stop(
                    Status::Fail,
                    Stage::Handshake,
                    "hs.first-read-short",
                    format!(
                        "the first read after C0+C1 held {what}; {} needs S0+S1 (1537 bytes) in one read and resets the connection otherwise (FFmpeg ticket 6453)",
                        self.profile.name
                    ),
                ));
            }
            let fed = hs.feed(&input);
            self.collect_handshake_events(&mut hs)?;
            if let Err(e) = fed {
                return Err(stop(
                    Status::Fail,
                    Stage::Handshake,
                    "hs.client-rejected",
                    format!("{} rejects the server's handshake: {e}", self.profile.name),
                ));
            }
            while let Some(t) = hs.poll_transmit() {
                if t.packet == Packet::C2 {
                    c2 = Some(t.bytes);
                }
            }
            // Write C2 as the profile does.
            if let Some(bytes) = c2.as_ref().filter(|_| !c2_written && !hold_c2) {
                let now_or_after_s2 =
                    self.profile.c2_timing == C2Timing::AfterS1 || hs.is_complete();
                if now_or_after_s2 {
                    let bytes = bytes.clone();
                    self.observations.s2_before_c2 = Some(hs.is_complete());
                    self.write(&mut socket, &bytes, Stage::Handshake).await?;
                    c2_written = true;
                }
            }
            if hs.is_complete() {
                break;
            }
        }
        let mut reader = ChunkReader::new(ChunkLimits::default())
            .with_zero_state_start(self.profile.zeroed_chunk_opening);
        reader.feed_bytes(hs.take_remaining());
        let pending_c2 = if c2_written {
            None
        } else {
            self.observations.s2_before_c2 = Some(true);
            c2
        };
        if let Some(Mode::Simple) = hs.mode() {
            self.check_simple_s2();
        }
        // Mirrors the core's C2 choice: Signed always signs (SRS, also without an S1 digest);
        // Auto signs when S1 claims a digest (version byte 4 >= 3) that validated.
        let s1_major = self
            .observations
            .s1_version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u8>().ok())
            .unwrap_or(0);
        self.c2_signed = match self.profile.handshake.c2 {
            C2Style::Signed => true,
            C2Style::Auto => self.observations.s1_digest == Some(true) && s1_major >= 3,
            _ => false,
        };
        Ok((
            Conn {
                socket,
                reader,
                writer: ChunkWriter::new(),
                acks: AckTracker::default(),
                buf,
            },
            pending_c2,
        ))
    }

    /// The write-ready notification that follows C1, for a client whose handshake steps it
    /// re-enters: with S0 (`arrived` bytes, fewer than S0+S1) already in, the step after S0
    /// builds C2 from an S1 that is not there and the client crashes, which resets the
    /// connection.
    fn write_ready_after_c1(&mut self, socket: &TcpStream, arrived: usize) -> Result<(), Stop> {
        if !self.profile.write_ready_reenters_handshake || arrived == 0 || arrived >= 1537 {
            return Ok(());
        }
        #[allow(deprecated)]
        let _ = socket.set_linger(Some(Duration::ZERO));
        Err(stop(
            Status::Fail,
            Stage::Handshake,
            "hs.c2-from-empty-s1",
            format!(
                "{arrived} byte(s) (S0) arrived before C1 was written: the server answered C0 \
                 without waiting for C1; {} handles the write-ready notification after C1 by \
                 building C2 from its still-empty S1 buffer, writes through a null pointer and \
                 crashes, so the connection is reset (VideoCore RTMPSession::streamStatusChanged \
                 -> handshake -> handshake2; docs/videocore-6453.md)",
                self.profile.name
            ),
        ))
    }

    fn collect_handshake_events(&mut self, hs: &mut Handshake) -> Result<(), Stop> {
        while let Some(e) = hs.poll_event() {
            match &e {
                HandshakeEvent::Hello {
                    packet: Packet::S1,
                    version,
                    ..
                } => {
                    self.observations.s1_version = Some(format!(
                        "{}.{}.{}.{}",
                        version[0], version[1], version[2], version[3]
                    ));
                }
                HandshakeEvent::DigestValid {
                    packet: Packet::S1, ..
                } => self.observations.s1_digest = Some(true),
                HandshakeEvent::NoDigest {
                    packet: Packet::S1, ..
                } => self.observations.s1_digest = Some(false),
                HandshakeEvent::Answer {
                    packet: Packet::S2,
                    echo,
                } => {
                    self.observations.s2 = Some(e.id().to_string());
                    if self.profile.s2_check == S2Check::RequireEchoFrom8 && !echo.random_matches {
                        let id = e.id();
                        self.event(EventKind::handshake_event(&e));
                        return Err(stop(
                            Status::Fail,
                            Stage::Handshake,
                            "hs.s2-not-echo",
                            format!("{e} ({id}); {} requires S2 to echo C1 from byte 8 and gives up (mediamtx#1244)", self.profile.name),
                        ));
                    }
                }
                HandshakeEvent::Version {
                    packet: Packet::S0,
                    version,
                } if *version != 3 => {
                    self.deviation("hs.s0-not-3", format!("S0 is {version}, not 3"));
                }
                _ => {}
            }
            self.event(EventKind::handshake_event(&e));
        }
        Ok(())
    }

    /// In the simple handshake the specification has S2 echo C1 (its time2 field aside).
    fn check_simple_s2(&mut self) {
        match self.observations.s2.as_deref() {
            Some("hs.s2-echo") | Some("hs.s2-echo-from-8") | None => {}
            Some(other) => {
                let what = if other == "hs.s2-zero" {
                    "is all zero bytes"
                } else {
                    "does not echo C1"
                };
                self.deviation(
                    "hs.s2-not-echo",
                    format!("S2 {what} ({other}); the specification has S2 echo C1's random bytes; {} only warns", self.profile.name),
                );
            }
        }
    }

    // ----- messages -----

    /// Sends the client's own Set Chunk Size if the profile announces it `when` (after `prefix`,
    /// which it then takes), and writes with that size from there on.
    async fn own_chunk_size(
        &mut self,
        conn: &mut Conn,
        when: ChunkSizeWhen,
        prefix: &mut Option<&[u8]>,
        stage: Stage,
    ) -> Result<(), Stop> {
        if let Some((_, size)) = self.profile.own_chunk_size.filter(|&(w, _)| w == when) {
            self.send(conn, message::set_chunk_size(size), prefix.take(), stage)
                .await?;
            conn.writer.set_chunk_size(size);
        }
        Ok(())
    }

    async fn send(
        &mut self,
        conn: &mut Conn,
        message: RawMessage,
        prefix: Option<&[u8]>,
        stage: Stage,
    ) -> Result<(), Stop> {
        if !matches!(message.type_id, 8 | 9) {
            let decoded = Message::decode(&message);
            self.event(EventKind::Message(MessageEvent::new(
                Direction::ClientToServer,
                &message,
                decoded.as_ref(),
            )));
        }
        let mut out = BytesMut::new();
        if let Some(p) = prefix {
            out.extend_from_slice(p);
        }
        conn.writer.write(&message, &mut out);
        self.record(Direction::ClientToServer, &out);
        conn.socket.write_all(&out).await.map_err(|e| {
            stop(
                Status::Fail,
                stage,
                "tcp.write-failed",
                format!("the server closed or reset the connection: {e}"),
            )
        })
    }

    /// Reads until `wanted` picks a message (returning what it returns), answering pings and
    /// chunk-size changes on the way.
    async fn until<T>(
        &mut self,
        conn: &mut Conn,
        stage: Stage,
        what: &str,
        mut wanted: impl FnMut(&mut Self, &RawMessage, &Message) -> Result<Option<T>, Stop>,
    ) -> Result<T, Stop> {
        self.stage = stage;
        let deadline = Instant::now() + self.options.reply_timeout;
        loop {
            loop {
                let event = conn.reader.poll().map_err(|e| {
                    stop(
                        Status::Fail,
                        stage,
                        "chunk.error",
                        format!("the server's chunk stream is broken: {e}"),
                    )
                })?;
                let Some(event) = event else { break };
                if let ReadEvent::OpenedFromZeroState { csid, fmt } = event {
                    self.deviation(
                        "chunk.opened-from-zero-state",
                        format!(
                            "the server opened chunk stream {csid} with a type-{fmt} header and no \
                             type 0 before it; {} takes the missing fields from zeroed state \
                             (message stream 0, timestamp 0), as the real client does",
                            self.profile.name
                        ),
                    );
                    continue;
                }
                let ReadEvent::Message(raw) = event else {
                    self.reader_diagnostic(read_diagnostics::read_event(
                        Direction::ServerToClient,
                        &event,
                    ));
                    continue;
                };
                let decoded = Message::decode(&raw);
                for d in read_diagnostics::message(Direction::ServerToClient, &raw, &decoded) {
                    self.reader_diagnostic(Some(d));
                }
                let Ok(m) = decoded else { continue };
                self.on_server_message(conn, &raw, &m, stage).await?;
                if let Some(t) = wanted(self, &raw, &m)? {
                    return Ok(t);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let n = match tokio::time::timeout(left, conn.socket.read(&mut conn.buf)).await {
                Err(_) => {
                    return Err(stop(
                        Status::Timeout,
                        stage,
                        "msg.timeout",
                        format!("no {what} within {:?}", self.options.reply_timeout),
                    ))
                }
                Ok(Err(e)) => {
                    return Err(stop(
                        Status::Fail,
                        stage,
                        "tcp.reset",
                        format!(
                        "the server reset the connection while the client waited for {what}: {e}"
                    ),
                    ))
                }
                Ok(Ok(0)) => {
                    return Err(stop(
                        Status::Fail,
                        stage,
                        "tcp.closed",
                        format!(
                            "the server closed the connection while the client waited for {what}"
                        ),
                    ))
                }
                Ok(Ok(n)) => n,
            };
            let read = conn.buf[..n].to_vec();
            self.record(Direction::ServerToClient, &read);
            if let Some(seq) = conn.acks.received(n as u64) {
                self.send(conn, message::acknowledgement(seq), None, stage)
                    .await?;
            }
            conn.reader.feed(&conn.buf[..n]);
        }
    }

    async fn on_server_message(
        &mut self,
        conn: &mut Conn,
        raw: &RawMessage,
        m: &Message,
        stage: Stage,
    ) -> Result<(), Stop> {
        if !matches!(raw.type_id, 8 | 9) {
            self.event(EventKind::Message(MessageEvent::new(
                Direction::ServerToClient,
                raw,
                Ok(m),
            )));
        }
        if matches!(raw.type_id, 1..=6) {
            self.observations.control.push(m.to_string());
        }
        match m {
            Message::SetChunkSize { size, .. } => {
                self.observations.server_chunk_size = Some(*size);
                if self.profile.echo_chunk_size {
                    self.send(conn, message::set_chunk_size(*size), None, stage)
                        .await?;
                    conn.writer.set_chunk_size(*size);
                }
            }
            Message::WindowAckSize(size) => conn.acks.set_window(*size),
            Message::SetPeerBandwidth { size, .. } if self.profile.answer_peer_bandwidth => {
                self.send(conn, message::window_ack_size(*size), None, stage)
                    .await?;
            }
            Message::UserControl(UserControl::PingRequest(t)) => {
                self.send(
                    conn,
                    message::user_control(UserControl::PingResponse(*t)),
                    None,
                    stage,
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn connect(&mut self, conn: &mut Conn, pending_c2: Option<Bytes>) -> Result<(), Stop> {
        let fields = self
            .profile
            .connect_object(&self.target.app, &self.target.tc_url());
        let connect = message::command(0, "connect", 1.0, fields, vec![]);
        let asked = Instant::now();
        if let Some(c2) = &pending_c2 {
            self.event(EventKind::Segment {
                direction: Direction::ClientToServer,
                len: c2.len(),
            });
        }
        let mut prefix = pending_c2.as_deref();
        self.own_chunk_size(
            conn,
            ChunkSizeWhen::BeforeConnect,
            &mut prefix,
            Stage::Connect,
        )
        .await?;
        self.send(conn, connect, prefix, Stage::Connect).await?;
        let c2_signed = self.c2_signed;
        self.until(conn, Stage::Connect, "_result for connect", |case, _, m| match m {
            Message::Command(c) if c.name == "_result" && c.transaction_id == 1.0 => {
                case.observations.connect_result_ms = Some(asked.elapsed().as_secs_f64() * 1000.0);
                Ok(Some(()))
            }
            Message::Command(c) if c.name == "_error" && c.transaction_id == 1.0 => Err(stop(
                Status::Fail,
                Stage::Connect,
                "cmd.connect-rejected",
                format!("the server rejected connect: {m}"),
            )),
            _ => Ok(None),
        })
        .await
        .map_err(|mut s| {
            if c2_signed && matches!(s.id, "tcp.closed" | "tcp.reset") {
                s.id = "hs.c2-signed-rejected";
                s.message.push_str(
                    " right after the handshake; this client's C2 was signed (for S1's digest, or for the bytes where one would be), not an echo of S1, \
                     and a server that insists on an echo closes here (go-rtmp before #51; SRS notes FFmpeg playback fails this way)",
                );
            }
            s
        })?;
        self.own_chunk_size(conn, ChunkSizeWhen::AfterConnect, &mut None, Stage::Connect)
            .await
    }

    async fn create_stream(
        &mut self,
        conn: &mut Conn,
        txn: f64,
        stage: Stage,
    ) -> Result<u32, Stop> {
        self.send(
            conn,
            message::command(0, "createStream", txn, Amf0Value::Null, vec![]),
            None,
            stage,
        )
        .await?;
        self.until(conn, stage, "_result for createStream", |_, _, m| match m {
            Message::Command(c) if c.name == "_result" && c.transaction_id == txn => {
                let id = c.arguments.first().and_then(Amf0Value::as_number);
                match id {
                    Some(id) if id >= 0.0 && id <= u32::MAX as f64 => Ok(Some(id as u32)),
                    _ => Err(stop(
                        Status::Fail,
                        stage,
                        "cmd.createstream-no-id",
                        format!("createStream's _result carries no stream id: {m}"),
                    )),
                }
            }
            Message::Command(c) if c.name == "_error" && c.transaction_id == txn => Err(stop(
                Status::Fail,
                stage,
                "cmd.createstream-rejected",
                format!("the server rejected createStream: {m}"),
            )),
            _ => Ok(None),
        })
        .await
    }

    /// Waits for an onStatus with `code`; an error-level status fails the stage.
    async fn status(
        &mut self,
        conn: &mut Conn,
        stream_id: u32,
        code: &'static str,
        stage: Stage,
    ) -> Result<(), Stop> {
        let strict = self.profile.strict_stream_ids;
        let name = self.profile.name.clone();
        self.until(conn, stage, code, |case, raw, m| {
            let Message::Command(c) = m else { return Ok(None) };
            if c.name != "onStatus" {
                return Ok(None);
            }
            let got = c.arguments.first().and_then(|o| o.get("code")).and_then(Amf0Value::as_str).unwrap_or("");
            let level = c.arguments.first().and_then(|o| o.get("level")).and_then(Amf0Value::as_str).unwrap_or("");
            if level == "error" {
                return Err(stop(Status::Fail, stage, "cmd.status-error", format!("the server answered {got}: {m}")));
            }
            if got != code {
                return Ok(None);
            }
            if raw.stream_id != stream_id {
                if strict {
                    case.diagnostic(
                        "cmd.status-wrong-stream",
                        Severity::Warning,
                        &format!("{code} arrived on message stream {} instead of {stream_id}; {name} ignores it", raw.stream_id),
                    );
                    return Ok(None);
                }
                case.deviation(
                    "cmd.status-wrong-stream",
                    format!("{code} arrived on message stream {} instead of {stream_id}", raw.stream_id),
                );
            }
            Ok(Some(()))
        })
        .await
    }

    async fn publish(&mut self, conn: &mut Conn, sequence: PublishSequence) -> Result<u32, Stop> {
        let key = Amf0Value::string(self.key);
        let stream_id = match sequence {
            PublishSequence::Fmle => {
                self.send(
                    conn,
                    message::command(0, "releaseStream", 2.0, Amf0Value::Null, vec![key.clone()]),
                    None,
                    Stage::Publish,
                )
                .await?;
                self.send(
                    conn,
                    message::command(0, "FCPublish", 3.0, Amf0Value::Null, vec![key.clone()]),
                    None,
                    Stage::Publish,
                )
                .await?;
                self.create_stream(conn, 4.0, Stage::Publish).await?
            }
            PublishSequence::Flash => self.create_stream(conn, 2.0, Stage::Publish).await?,
        };
        let mut publish = message::command(
            stream_id,
            "publish",
            5.0,
            Amf0Value::Null,
            vec![key, Amf0Value::string("live")],
        );
        publish.csid = 8;
        self.send(conn, publish, None, Stage::Publish).await?;
        self.status(conn, stream_id, "NetStream.Publish.Start", Stage::Publish)
            .await?;
        self.own_chunk_size(conn, ChunkSizeWhen::AfterPublish, &mut None, Stage::Publish)
            .await?;
        Ok(stream_id)
    }

    async fn media(&mut self, conn: &mut Conn, stream_id: u32) -> Result<(), Stop> {
        let tags = clip::tags();
        let clip_ms = clip::duration_ms(&tags);
        let total_ms = self.options.media_duration.as_millis() as u32;
        let start = Instant::now();
        let mut round = 0u32;
        'outer: loop {
            for tag in &tags {
                let ts = round * clip_ms + tag.timestamp;
                if ts >= total_ms {
                    break 'outer;
                }
                let is_config = tag.type_id == 18
                    || (tag.type_id == 9 && tag.payload.get(1) == Some(&0))
                    || (tag.type_id == 8 && tag.payload.get(1) == Some(&0));
                if round > 0 && is_config {
                    continue;
                }
                let due = start + Duration::from_millis(ts as u64);
                tokio::time::sleep_until(due.into()).await;
                let payload = if tag.type_id == 18 {
                    let mut p = BytesMut::from(&b"\x02\x00\x0d@setDataFrame"[..]);
                    p.extend_from_slice(&tag.payload);
                    p.freeze()
                } else {
                    tag.payload.clone()
                };
                let message = RawMessage {
                    csid: if tag.type_id == 8 { 4 } else { 6 },
                    timestamp: ts,
                    type_id: tag.type_id,
                    stream_id,
                    payload,
                };
                self.send(conn, message, None, Stage::Media).await?;
                // Keep reading so acknowledgements and errors are seen while publishing.
                self.drain(conn, Stage::Media).await?;
            }
            round += 1;
        }
        Ok(())
    }

    /// Reads whatever the server has sent, without waiting.
    async fn drain(&mut self, conn: &mut Conn, stage: Stage) -> Result<(), Stop> {
        loop {
            match conn.socket.try_read(&mut conn.buf) {
                Ok(0) => {
                    return Err(stop(
                        Status::Fail,
                        stage,
                        "tcp.closed",
                        format!("the server closed the connection during {stage}"),
                    ))
                }
                Ok(n) => {
                    let read = conn.buf[..n].to_vec();
                    self.record(Direction::ServerToClient, &read);
                    if let Some(seq) = conn.acks.received(n as u64) {
                        self.send(conn, message::acknowledgement(seq), None, stage)
                            .await?;
                    }
                    conn.reader.feed(&conn.buf[..n]);
                    while let Some(event) = conn
                        .reader
                        .poll()
                        .map_err(|e| stop(Status::Fail, stage, "chunk.error", e.to_string()))?
                    {
                        self.reader_diagnostic(read_diagnostics::read_event(
                            Direction::ServerToClient,
                            &event,
                        ));
                        if let ReadEvent::Message(raw) = event {
                            let decoded = Message::decode(&raw);
                            for d in
                                read_diagnostics::message(Direction::ServerToClient, &raw, &decoded)
                            {
                                self.reader_diagnostic(Some(d));
                            }
                            if let Ok(m) = decoded {
                                self.on_server_message(conn, &raw, &m, stage).await?;
                                if let Message::Command(c) = &m {
                                    let level = c
                                        .arguments
                                        .first()
                                        .and_then(|o| o.get("level"))
                                        .and_then(Amf0Value::as_str);
                                    if c.name == "onStatus" && level == Some("error") {
                                        return Err(stop(
                                            Status::Fail,
                                            stage,
                                            "cmd.status-error",
                                            format!("the server answered {m}"),
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => {
                    return Err(stop(
                        Status::Fail,
                        stage,
                        "tcp.reset",
                        format!("the server reset the connection during {stage}: {e}"),
                    ))
                }
            }
        }
    }

    async fn finish(
        &mut self,
        conn: &mut Conn,
        stream_id: u32,
        style: StopStyle,
    ) -> Result<(), Stop> {
        let key = Amf0Value::string(self.key);
        match style {
            StopStyle::EmptyPublish => {
                let mut p = message::command(
                    stream_id,
                    "publish",
                    6.0,
                    Amf0Value::Null,
                    vec![Amf0Value::string("")],
                );
                p.csid = 8;
                self.send(conn, p, None, Stage::Close).await?;
            }
            StopStyle::FcUnpublishDeleteStream => {
                self.send(
                    conn,
                    message::command(0, "FCUnpublish", 6.0, Amf0Value::Null, vec![key]),
                    None,
                    Stage::Close,
                )
                .await?;
                self.send(
                    conn,
                    message::command(
                        0,
                        "deleteStream",
                        7.0,
                        Amf0Value::Null,
                        vec![Amf0Value::Number(stream_id as f64)],
                    ),
                    None,
                    Stage::Close,
                )
                .await?;
            }
            StopStyle::DeleteStream => {
                self.send(
                    conn,
                    message::command(
                        0,
                        "deleteStream",
                        6.0,
                        Amf0Value::Null,
                        vec![Amf0Value::Number(stream_id as f64)],
                    ),
                    None,
                    Stage::Close,
                )
                .await?;
            }
        }
        // A moment for the server to object before the client goes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        match self.drain(conn, Stage::Close).await {
            // The client has said goodbye; a server that closes or resets now has done nothing wrong.
            Err(s) if matches!(s.id, "tcp.closed" | "tcp.reset") => Ok(()),
            other => other,
        }?;
        let _ = conn.socket.shutdown().await;
        Ok(())
    }

    async fn play_stream(&mut self, conn: &mut Conn) -> Result<(), Stop> {
        let stream_id = self.create_stream(conn, 2.0, Stage::Publish).await?;
        let mut play = message::command(
            stream_id,
            "play",
            3.0,
            Amf0Value::Null,
            vec![Amf0Value::string(self.key)],
        );
        play.csid = 8;
        self.send(conn, play, None, Stage::Publish).await?;
        self.status(conn, stream_id, "NetStream.Play.Start", Stage::Publish)
            .await?;
        let strict = self.profile.strict_stream_ids;
        let mut ignored = 0u32;
        let result = self
            .until(
                conn,
                Stage::Media,
                "media on the play stream",
                |_, raw, _| {
                    if !matches!(raw.type_id, 8 | 9) || raw.payload.is_empty() {
                        return Ok(None);
                    }
                    if strict && raw.stream_id != stream_id {
                        ignored += 1;
                        return Ok(None);
                    }
                    Ok(Some(()))
                },
            )
            .await;
        if let Err(s) = result {
            if ignored > 0 {
                return Err(stop(
                    s.status,
                    Stage::Media,
                    "media.wrong-stream",
                    format!("{ignored} media messages arrived on another message stream than the play stream {stream_id}; {} ignores them, so nothing was delivered", self.profile.name),
                ));
            }
            return Err(s);
        }
        let _ = conn.socket.shutdown().await;
        Ok(())
    }
}

/// How many bytes the server has sent that are waiting to be read, up to S0+S1 (1537), without
/// reading them or waiting.
fn bytes_waiting(socket: &TcpStream) -> usize {
    use std::os::fd::AsRawFd;
    let mut buf = [0u8; 1537];
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole call; MSG_PEEK leaves
    // the bytes in the socket and MSG_DONTWAIT keeps the call from blocking.
    let n = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(n).unwrap_or(0)
}
