//! `rtmp-probe replay CAPTURE --against URL`: the captured client, performed again against a
//! live server.
//!
//! The client's writes go out as the capture shows them (one write per reassembled segment,
//! with its think time scaled by the speed), each only once the live server has sent what the
//! captured client had heard before writing it. C1 is the captured one; C2 is regenerated for
//! the live S1 the way the captured C2 answered the captured S1; message stream ids the
//! captured server assigned are rewritten to the live server's in place, so no write changes
//! length. Both sides are decoded by the same code as `replay`, and the two transcripts are
//! compared in their normalised form.

mod replies;
mod script;
mod session;

pub use script::{Encoding, Script, ScriptBuilder, ScriptError, Site, Write};
pub use session::{Next, Reenactment, Stalled};

use crate::capture::reassembly::PieceRef;
use crate::capture::{CaptureError, CaptureReader};
use crate::emulate::reach::Unreachable;
use crate::protocol::random::RandomSource;
use crate::record::pcap::FlowRecording;
use crate::replay::{flow_listing, replay_observed, FlowDecoder, FlowReport, Observer};
use crate::transcript::render::snapshot;
use crate::transcript::{diff, CloseCause, Direction, EventKind, Side};
use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How fast the captured think times pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// 1.0 = as captured, 2.0 = twice as fast.
    Scale(f64),
    /// No pauses but the waits for the server's replies.
    Max,
}

impl Speed {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "max" {
            return Ok(Speed::Max);
        }
        match text.parse::<f64>() {
            Ok(f) if (Self::SLOWEST..=Self::FASTEST).contains(&f) => Ok(Speed::Scale(f)),
            _ => Err(format!(
                "--speed takes a number from {} to {} (1.0 = as captured) or 'max', not '{text}'",
                Self::SLOWEST,
                Self::FASTEST
            )),
        }
    }

    /// The slowest scale `parse` accepts: captured pauses of seconds become hours.
    pub const SLOWEST: f64 = 0.001;
    /// The fastest scale `parse` accepts (beyond it, `max` says what is meant).
    pub const FASTEST: f64 = 1_000_000.0;

    /// The pause for a captured `think` time; a scale too small to give a representable pause
    /// gives the longest one rather than a panic.
    fn scale(self, think: Duration) -> Duration {
        match self {
            Speed::Scale(f) => {
                Duration::try_from_secs_f64(think.as_secs_f64() / f).unwrap_or(Duration::MAX)
            }
            Speed::Max => Duration::ZERO,
        }
    }
}

/// How a captured client is performed again: start from [`AgainstOptions::default`] and set
/// what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgainstOptions {
    pub speed: Speed,
    /// How long to wait for a reply the captured server sent before going on without it.
    pub reply_timeout: Duration,
    /// How long the TCP connect and the live server's handshake may take, counted from the
    /// connect (the handshake cannot be gone on without).
    pub handshake_timeout: Duration,
    /// How long to keep reading after the last write, for the server's last replies.
    pub linger: Duration,
    /// Seed for a signed C2's random bytes; None = from entropy.
    pub seed: Option<u64>,
    /// Record the live connection, one frame per write or read, into this file.
    pub pcap: Option<std::sync::Arc<crate::record::pcap::PcapFile>>,
}

impl Default for AgainstOptions {
    fn default() -> Self {
        Self {
            speed: Speed::Scale(1.0),
            reply_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            linger: Duration::from_secs(1),
            seed: None,
            pcap: None,
        }
    }
}

/// A captured flow: its script and its transcript.
#[derive(Debug)]
pub struct Captured {
    pub script: Script,
    pub report: FlowReport,
}

/// Why no flow of the capture can be re-enacted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("{error} (before any RTMP flow was complete)")]
    Capture { error: CaptureError },
    #[error("the capture has no flow {flow}; {flows}")]
    NoSuchFlow { flow: usize, flows: String },
    #[error("the capture holds no RTMP flow (a client starting with C0 = 3)")]
    NoRtmpFlow,
    #[error("flow {flow}: {error}")]
    Script { flow: usize, error: ScriptError },
}

/// Reads the capture and prepares flow `flow` (default: the first RTMP flow).
pub fn load<R: Read>(
    capture: CaptureReader<R>,
    flow: Option<usize>,
    progress: impl FnMut(u64),
) -> Result<Captured, LoadError> {
    let mut chooser = Chooser {
        flow,
        builder: None,
        passed_over: Vec::new(),
    };
    let (flows, error) = replay_observed(capture, progress, &mut chooser);
    let Some(builder) = chooser.builder else {
        if let Some(error) = error {
            return Err(LoadError::Capture { error });
        }
        return Err(match flow {
            Some(flow) => LoadError::NoSuchFlow {
                flow,
                flows: flow_listing(&flows),
            },
            None => LoadError::NoRtmpFlow,
        });
    };
    let id = builder.flow();
    let report = flows
        .into_iter()
        .find(|f| f.id == id)
        .expect("the builder's flow was decoded");
    let mut script = builder
        .finish()
        .map_err(|error| LoadError::Script { flow: id, error })?;
    script.client_closed = report.transcript.events.iter().any(|e| {
        matches!(
            &e.kind,
            EventKind::Closed {
                reason: CloseCause::Peer {
                    side: Side::Client,
                    ..
                }
            }
        )
    });
    Ok(Captured { script, report })
}

/// Picks the flow to re-enact as the capture streams by and collects its script.
struct Chooser {
    flow: Option<usize>,
    builder: Option<ScriptBuilder>,
    /// Flows whose client did not start like RTMP (when no flow was named).
    passed_over: Vec<usize>,
}

impl Observer for Chooser {
    fn piece(&mut self, id: usize, side: usize, piece: PieceRef<'_>) {
        match &mut self.builder {
            Some(b) if b.flow() == id => b.piece(side, piece),
            Some(_) => {}
            None => {
                let chosen = match self.flow {
                    Some(f) => f == id,
                    // The first RTMP flow: its client's first bytes start with C0 = 3.
                    None if side == 0 && !self.passed_over.contains(&id) => {
                        let rtmp = matches!(piece, PieceRef::Data { bytes, .. } if bytes.first() == Some(&3));
                        if !rtmp {
                            self.passed_over.push(id);
                        }
                        rtmp
                    }
                    None => false,
                };
                if chosen {
                    let mut b = ScriptBuilder::new(id);
                    b.piece(side, piece);
                    self.builder = Some(b);
                }
            }
        }
    }
}

/// What happened when the captured client met the live server.
#[derive(Debug)]
#[non_exhaustive]
pub struct AgainstReport {
    pub target: SocketAddr,
    pub captured: FlowReport,
    pub live: FlowReport,
    /// What was regenerated, rewritten or waited for in vain.
    pub notes: Vec<String>,
    /// Writes sent, and the captured client's writes in all.
    pub writes: (usize, usize),
    /// Why the re-enactment ended before the client's last write.
    pub stopped: Option<String>,
    /// Stopped by [`against_until`]'s stop (Ctrl-C, say); `stopped` says where.
    pub interrupted: bool,
}

impl AgainstReport {
    /// Every captured write was sent.
    pub fn completed(&self) -> bool {
        self.stopped.is_none() && self.writes.0 == self.writes.1
    }

    /// The normalised transcripts of the captured and the live session, as a unified diff;
    /// None when they are the same.
    pub fn diff(&self) -> Option<String> {
        diff::diff(
            "captured",
            &snapshot(&self.captured.transcript),
            "live",
            &snapshot(&self.live.transcript),
        )
    }
}

/// Performs `captured` against the server at `target` over one connection, its own (nothing
/// checks the target first). Only failing to connect is an error;
/// everything the server does after is in the report.
pub async fn against(
    captured: Captured,
    target: SocketAddr,
    options: &AgainstOptions,
) -> Result<AgainstReport, Unreachable> {
    against_until(captured, target, options, std::future::pending()).await
}

/// [`against`] that stops when `stop` completes (Ctrl-C, say): the report holds the live
/// session up to there, with `interrupted` set.
pub async fn against_until(
    captured: Captured,
    target: SocketAddr,
    options: &AgainstOptions,
    stop: impl std::future::Future<Output = ()>,
) -> Result<AgainstReport, Unreachable> {
    tokio::pin!(stop);
    let mut interrupted = false;
    let Captured { script, report } = captured;
    let client_closes = script.client_closed;
    let ends_early = script.ends_early.clone();
    let rng = options
        .seed
        .map_or_else(RandomSource::from_entropy, RandomSource::seeded);
    let handshake_deadline = Instant::now() + options.handshake_timeout;
    let stream = match tokio::time::timeout_at(handshake_deadline, TcpStream::connect(target)).await
    {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(Unreachable::from_io(target, &e)),
        Err(_) => {
            return Err(Unreachable::TimedOut {
                addr: target,
                within: options.handshake_timeout,
            })
        }
    };
    // One write, one segment, as in the capture.
    let _ = stream.set_nodelay(true);
    let local = stream
        .local_addr()
        .map_err(|e| Unreachable::from_io(target, &e))?;
    let started = Instant::now();
    // The live connection in the pcap file, on the transcript's clock; a failure to write it
    // is a note of the report, and the re-enactment goes on.
    let mut recording = FlowRecording::new(SystemTime::now());
    if let Some(file) = &options.pcap {
        recording.join(file, local, target, Duration::ZERO);
    }
    let mut decoder = FlowDecoder::new(local, target);
    let mut session = Reenactment::new(script, rng);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = vec![0u8; 64 * 1024];
    let mut notes = Vec::new();
    let mut stopped: Option<String> = None;
    let mut server_open = true;

    // Reads once; false when the server has closed or failed.
    macro_rules! got {
        ($read:expr) => {
            match $read {
                Ok(0) => {
                    decoder.closed(
                        started.elapsed(),
                        CloseCause::Peer {
                            side: Side::Server,
                            reset: false,
                            during_handshake: false,
                        },
                    );
                    server_open = false;
                }
                Ok(n) => {
                    let at = started.elapsed();
                    recording.record(Direction::ServerToClient, at, &buf[..n]);
                    decoder.data(1, at, &buf[..n]);
                    session.server_bytes(&buf[..n]);
                }
                Err(e) => {
                    decoder.closed(
                        started.elapsed(),
                        CloseCause::ConnectionFailed(e.to_string()),
                    );
                    server_open = false;
                }
            }
        };
    }

    loop {
        let (sent, total) = session.progress();
        match session.poll_write() {
            Next::Done => break,
            Next::Send { bytes, think } => {
                let pause = options.speed.scale(think);
                // A pause past any representable instant waits as long as anything can.
                let until = Instant::now()
                    .checked_add(pause)
                    .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86_400));
                while server_open && !interrupted {
                    tokio::select! {
                        _ = tokio::time::sleep_until(until) => break,
                        read = rd.read(&mut buf) => got!(read),
                        () = &mut stop => interrupted = true,
                    }
                }
                if interrupted {
                    stopped = Some(format!(
                        "interrupted before the client's write {} of {total}",
                        sent + 1
                    ));
                    break;
                }
                if !server_open {
                    stopped = Some(format!(
                        "the live server closed the connection before the client's write {} of {total}",
                        sent + 1
                    ));
                    break;
                }
                // Stamped when it is made, as a read is when it is made: a write that waits on
                // a full send buffer crossed the wire when it was handed over.
                let at = started.elapsed();
                if let Err(e) = wr.write_all(&bytes).await {
                    stopped = Some(format!("write {} of {total} failed: {e}", sent + 1));
                    break;
                }
                recording.record(Direction::ClientToServer, at, &bytes);
                decoder.data(0, at, &bytes);
            }
            Next::Wait { missing } => {
                if !server_open {
                    stopped = Some(format!(
                        "the live server closed the connection while the client waited for {}",
                        missing.join(", ")
                    ));
                    break;
                }
                // The handshake has its own deadline; a reply is waited for reply_timeout.
                let handshake = session.awaits_handshake();
                let until = if handshake {
                    handshake_deadline
                } else {
                    Instant::now() + options.reply_timeout
                };
                let read = tokio::select! {
                    read = tokio::time::timeout_at(until, rd.read(&mut buf)) => read,
                    () = &mut stop => {
                        interrupted = true;
                        stopped = Some(format!(
                            "interrupted while the client waited for {}",
                            missing.join(", ")
                        ));
                        break;
                    }
                };
                match read {
                    Ok(read) => got!(read),
                    Err(_) if handshake => {
                        let why = session.waive().err().map_or_else(String::new, |e| format!(": {e}"));
                        stopped = Some(format!(
                            "the handshake did not complete within {:?} (--handshake-timeout){why}",
                            options.handshake_timeout
                        ));
                        break;
                    }
                    Err(_) => match session.waive() {
                        Ok(waived) => notes.push(format!(
                            "before write {} the captured server had sent {}; the live one did not within {:?}, so the client went on",
                            sent + 1,
                            waived.join(", "),
                            options.reply_timeout
                        )),
                        Err(e) => {
                            stopped = Some(e.to_string());
                            break;
                        }
                    },
                }
            }
        }
    }
    if stopped.is_none() {
        if let Some(e) = ends_early {
            notes.push(format!("the script ends early: {e}"));
        }
    }
    // The server's last replies, and its answer to the client's close.
    if client_closes && stopped.is_none() {
        let _ = wr.shutdown().await;
        decoder.closed(
            started.elapsed(),
            CloseCause::Peer {
                side: Side::Client,
                reset: false,
                during_handshake: false,
            },
        );
    }
    let linger_until = Instant::now() + options.linger;
    while server_open && !interrupted {
        match tokio::time::timeout_at(linger_until, rd.read(&mut buf)).await {
            Ok(read) => got!(read),
            Err(_) => break,
        }
    }
    let writes = session.progress();
    let mut all_notes = session.notes().to_vec();
    all_notes.extend(notes);
    all_notes.extend(
        recording
            .finish(started.elapsed(), None)
            .map(|e| format!("writing the pcap file failed: {e}")),
    );
    Ok(AgainstReport {
        target,
        captured: report,
        live: decoder.finish(),
        notes: all_notes,
        writes,
        stopped,
        interrupted,
    })
}

#[cfg(test)]
mod tests;
