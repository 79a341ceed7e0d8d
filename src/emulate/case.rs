//! One case over TCP: a thin tokio driver for the sans-IO [`EmulatorClient`]. It connects,
//! writes what the client hands out when it is due, gives the client every read (what has
//! arrived is read before each write, so the client knows what it had when a write was due),
//! sleeps until the client's next timeout, and records a pcap file when asked. One clock
//! reading stamps each read or write for the client and for the pcap file alike, so the
//! transcript and the capture of a run agree.

pub use super::client::{Finding, Observations, Outcome, Stage, Status};

use super::client::{stop, CasePlan, EmulatorClient, Stop};
use super::profile::Profile;
use super::reach::{ConnectFailure, Reach, Unreachable};
use super::variant::Variant;
use crate::protocol::random::RandomSource;
use crate::record::pcap::{FlowRecording, PcapFile};
use crate::transcript::DiagnosticId;
use crate::transcript::{Direction, Event, Transcript};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
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
#[non_exhaustive]
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

/// Limits of one case: start from [`CaseOptions::default`] and set what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CaseOptions {
    /// How long to publish media.
    pub media_duration: Duration,
    /// How long the TCP connect and the handshake may take together.
    pub handshake_timeout: Duration,
    /// How long the server may take to send each awaited reply (connect's `_result`, ...).
    pub reply_timeout: Duration,
    /// How long one attempt may take in all, media included; None: no limit.
    pub case_timeout: Option<Duration>,
    pub seed: Option<u64>,
    /// Write what the client wrote and read, one frame per write or read, into this pcap file.
    pub pcap: Option<std::path::PathBuf>,
    /// Record the connection as one flow of this pcap file, which other connections share
    /// (a matrix's or a load's); its owner closes it when every connection is done.
    pub pcap_shared: Option<std::sync::Arc<PcapFile>>,
    /// Close right after connect's `_result` instead of going on to publish or play (`load`
    /// measures connection setup this way).
    pub stop_after_connect: bool,
    /// The profile that publishes the stream a play case plays; None: `obs` (a server that
    /// `obs` cannot publish to needs another).
    pub companion: Option<super::profile::Profile>,
    /// Shared by the connections of one run: the first is tried alone, and a target it cannot
    /// reach stops the rest (see [`super::reach`]). None: every connection on its own.
    pub reach: Option<std::sync::Arc<Reach>>,
    /// Where each event of the transcript goes as it happens (`probe` prints them live).
    pub live: Option<LiveTranscript>,
}

/// What receives a live transcript: the attempt's number and one event.
type EventSink = Arc<dyn Fn(u32, &Event) + Send + Sync>;

/// Where an attempt's transcript goes as it happens: each event, as soon as the client has
/// recorded it, with the number of the attempt (from 1) it belongs to.
#[derive(Clone)]
pub struct LiveTranscript {
    sink: EventSink,
    attempt: u32,
}

impl LiveTranscript {
    /// Events go to `sink`, as attempt 1's until [`Self::for_attempt`] says otherwise.
    pub fn new(sink: impl Fn(u32, &Event) + Send + Sync + 'static) -> Self {
        Self {
            sink: Arc::new(sink),
            attempt: 1,
        }
    }

    /// The same place, for attempt `attempt`'s events.
    pub fn for_attempt(&self, attempt: u32) -> Self {
        Self {
            sink: self.sink.clone(),
            attempt,
        }
    }
}

/// The attempt it is for; the sink is left out.
impl std::fmt::Debug for LiveTranscript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTranscript")
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// How much of a client's transcript has gone to its [`LiveTranscript`].
struct Shown<'a> {
    live: Option<&'a LiveTranscript>,
    count: usize,
}

impl<'a> Shown<'a> {
    fn new(live: Option<&'a LiveTranscript>) -> Self {
        Self { live, count: 0 }
    }

    /// Hands over the events recorded since the last call. A run's first attempt shows nothing
    /// until it has connected: its connection is the one that finds a target unreachable,
    /// which the command then says in one line instead (see [`super::reach`]).
    fn catch_up(&mut self, transcript: &Transcript) {
        let scout = self.live.is_some_and(|l| l.attempt == 1);
        if scout
            && !transcript
                .events
                .iter()
                .any(|e| matches!(e.kind, crate::transcript::EventKind::Connected { .. }))
        {
            return;
        }
        if let Some(live) = self.live {
            for event in transcript.events.iter().skip(self.count) {
                (live.sink)(live.attempt, event);
            }
        }
        self.count = transcript.events.len();
    }
}

impl Default for CaseOptions {
    fn default() -> Self {
        Self {
            media_duration: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(10),
            reply_timeout: Duration::from_secs(5),
            case_timeout: None,
            seed: None,
            pcap: None,
            pcap_shared: None,
            stop_after_connect: false,
            companion: None,
            reach: None,
            live: None,
        }
    }
}

/// The plan a case's client runs, from where it connects and the case's limits.
pub fn plan(target: &Target, key: &str, options: &CaseOptions) -> CasePlan {
    CasePlan {
        app: target.app.clone(),
        tc_url: target.tc_url(),
        key: key.to_string(),
        media_duration: options.media_duration,
        handshake_timeout: options.handshake_timeout,
        reply_timeout: options.reply_timeout,
        stop_after_connect: options.stop_after_connect,
        seed: options
            .seed
            .unwrap_or_else(|| u64::from(RandomSource::from_entropy().next_u32())),
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
    run_until(
        profile,
        variant,
        target,
        key,
        options,
        std::future::pending(),
    )
    .await
    .0
}

/// [`run`] that `interrupt` stops (Ctrl-C, say): the attempt then ends with the verdict of what
/// happened until then ([`EmulatorClient::interrupt`]), its pcap file written; true when it
/// was interrupted.
pub async fn run_until(
    profile: &Profile,
    variant: Variant,
    target: &Target,
    key: &str,
    options: &CaseOptions,
    interrupt: impl std::future::Future<Output = ()>,
) -> (Outcome, bool) {
    let started = Instant::now();
    let mut client = EmulatorClient::new(profile.clone(), variant, plan(target, key, options));
    let mut recording = FlowRecording::new(SystemTime::now());
    let mut shown = Shown::new(options.live.as_ref());
    let driven = drive(
        &mut client,
        &mut recording,
        &mut shown,
        target,
        options,
        started,
    );
    let limited = async {
        match options.case_timeout {
            None => {
                driven.await;
                true
            }
            Some(limit) => tokio::time::timeout(limit, driven).await.is_ok(),
        }
    };
    let (finished, interrupted) = tokio::select! {
        finished = limited => (finished, false),
        () = interrupt => (false, true),
    };
    if interrupted {
        client.interrupt(started.elapsed());
    } else if !finished {
        let limit = options.case_timeout.unwrap_or_default();
        let stage = client.stage();
        client.abort(
            started.elapsed(),
            stop(
                Status::Timeout,
                stage,
                DiagnosticId::CaseTimeout,
                format!("the case did not finish within {limit:?} (--case-timeout)"),
            ),
        );
    }
    if let Some(e) = recording.finish(
        started.elapsed(),
        client.wants_reset().then_some(Direction::ClientToServer),
    ) {
        client.note(
            DiagnosticId::CasePcapFailed,
            format!("writing the pcap file failed: {e}"),
        );
    }
    let outcome = client.outcome(started.elapsed());
    // The verdict's own line, added by the outcome.
    shown.catch_up(&outcome.transcript);
    (outcome, interrupted)
}

/// Moves bytes and time between the socket and the client until the client is done, handing
/// what the client records to `shown` as it goes.
async fn drive(
    client: &mut EmulatorClient,
    recording: &mut FlowRecording,
    shown: &mut Shown<'_>,
    target: &Target,
    options: &CaseOptions,
    started: Instant,
) {
    let now = || started.elapsed();
    let admission = match &options.reach {
        None => None,
        Some(reach) => match reach.admit().await {
            Ok(admission) => Some(admission),
            Err(why) => {
                let message = format!(
                    "not tried: the run's first connection found the target unreachable ({why})"
                );
                let reason = stop(
                    Status::Error,
                    Stage::Tcp,
                    DiagnosticId::TcpConnectFailed,
                    message,
                );
                return client.abort(now(), reason);
            }
        },
    };
    let connected =
        tokio::time::timeout(options.handshake_timeout, TcpStream::connect(target.addr)).await;
    let addr = target.addr;
    let mut socket = match connected {
        Ok(Ok(socket)) => {
            if let Some(admission) = admission {
                admission.connected();
            }
            socket
        }
        Err(_) => {
            let within = options.handshake_timeout;
            let message = format!("no TCP connection to {addr} within {within:?}");
            let reason = match admission.map(|a| a.failed(Unreachable::TimedOut { addr, within })) {
                Some(ConnectFailure::StoppedAccepting { accepted }) => {
                    stopped_accepting(Status::Timeout, message, accepted)
                }
                _ => stop(
                    Status::Timeout,
                    Stage::Tcp,
                    DiagnosticId::TcpConnectTimeout,
                    message,
                ),
            };
            return client.abort(now(), reason);
        }
        Ok(Err(e)) => {
            let message = format!("connecting to {addr}: {e}");
            let reason = match admission.map(|a| a.failed(Unreachable::from_io(addr, &e))) {
                Some(ConnectFailure::StoppedAccepting { accepted }) => {
                    stopped_accepting(Status::Error, message, accepted)
                }
                _ => stop(
                    Status::Error,
                    Stage::Tcp,
                    DiagnosticId::TcpConnectFailed,
                    message,
                ),
            };
            return client.abort(now(), reason);
        }
    };
    let _ = socket.set_nodelay(client.nodelay());
    let local = socket.local_addr().ok();
    let connected_at = now();
    client.connected(
        connected_at,
        local.map(|a| a.to_string()).unwrap_or_default(),
        target.addr.to_string(),
    );
    if let (Some(path), Some(local)) = (&options.pcap, local) {
        recording.create(path, local, target.addr, connected_at);
    } else if let (Some(file), Some(local)) = (&options.pcap_shared, local) {
        recording.join(file, local, target.addr, connected_at);
    }
    shown.catch_up(client.transcript());
    let mut buf = BytesMut::new();
    let mut eof = false;
    while !client.is_finished() {
        eof = eof || read_available(&socket, &mut buf, client, recording, now);
        shown.catch_up(client.transcript());
        loop {
            let at = now();
            let Some(transmit) = client.poll_transmit(at) else {
                break;
            };
            // The write's lines before its bytes go: a write that blocks is still shown.
            shown.catch_up(client.transcript());
            recording.record(Direction::ClientToServer, at, &transmit.bytes);
            if let Err(e) = socket.write_all(&transmit.bytes).await {
                let message = format!("the server closed or reset the connection: {e}");
                let reason: Stop = stop(
                    Status::Fail,
                    transmit.stage,
                    DiagnosticId::TcpWriteFailed,
                    message,
                );
                client.abort(now(), reason);
                break;
            }
            // What arrived meanwhile is known before the next write is due.
            eof = eof || read_available(&socket, &mut buf, client, recording, now);
            shown.catch_up(client.transcript());
        }
        if client.is_finished() {
            break;
        }
        let wake = client.poll_timeout();
        if eof && wake.is_none() {
            break;
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until((started + at).into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            read = socket.read_buf(&mut buf), if !eof => {
                eof = deliver(read, &mut buf, client, recording, now());
            }
            () = sleep => client.handle_timeout(now()),
        }
        shown.catch_up(client.transcript());
    }
    if client.wants_reset() {
        // SO_LINGER 0 makes the close send RST at once, as the clients that abort do; it
        // cannot block, which is tokio's concern.
        #[allow(deprecated)]
        let _ = socket.set_linger(Some(Duration::ZERO));
    } else {
        let _ = socket.shutdown().await;
    }
}

/// The end of a connection refused (or unanswered) after the run's earlier ones were accepted:
/// the server was there and stopped accepting, which a one-connection server does.
fn stopped_accepting(status: Status, message: String, accepted: u64) -> Stop {
    let connections = if accepted == 1 {
        "connection"
    } else {
        "connections"
    };
    let message = format!(
        "{message}; the server accepted {accepted} {connections} of this run before, so it was \
         there and stopped accepting (a one-connection server such as `ffmpeg -listen 1` exits \
         after its first)"
    );
    stop(
        status,
        Stage::Tcp,
        DiagnosticId::TcpStoppedAccepting,
        message,
    )
}

/// Hands the client what has arrived, without waiting; true at the end of the server's stream.
fn read_available(
    socket: &TcpStream,
    buf: &mut BytesMut,
    client: &mut EmulatorClient,
    recording: &mut FlowRecording,
    now: impl Fn() -> Duration,
) -> bool {
    while !client.is_finished() {
        buf.reserve(64 * 1024);
        match socket.try_read_buf(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            read => {
                if deliver(read, buf, client, recording, now()) {
                    return true;
                }
            }
        }
    }
    false
}

/// Gives one read's result to the client; true at the end of the server's stream.
fn deliver(
    read: std::io::Result<usize>,
    buf: &mut BytesMut,
    client: &mut EmulatorClient,
    recording: &mut FlowRecording,
    now: Duration,
) -> bool {
    match read {
        Ok(0) => {
            client.handle_eof(now);
            true
        }
        Ok(_) => {
            let bytes = buf.split().freeze();
            recording.record(Direction::ServerToClient, now, &bytes);
            client.handle_read(now, bytes);
            false
        }
        Err(e) => {
            client.handle_reset(now, &e.to_string());
            true
        }
    }
}
