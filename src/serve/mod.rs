//! `rtmp-probe serve`: the reference server that real encoders stream to.
//!
//! This module is the thin tokio driver. Each connection is a [`session::ServerSession`] (sans-IO)
//! fed from the socket; its writes go out one `write` call each, its transcript events go to an
//! [`EventSink`], and its actions (publish, play, media) are resolved through the shared
//! [`hub::Hub`]. One clock reading stamps a read or write for the session and for the pcap
//! file alike, so the transcript and the capture of a run agree to the microsecond.

pub mod hub;
// The printed output's queue and its sink are the CLI's: `PrintSink` stays `pub` only because
// the binary is a crate of its own, and is hidden from the library's documentation (no
// stability promise); a library user collects events with `CollectSink` or its own `EventSink`.
mod output_queue;
pub mod personality;
pub mod personality_file;
pub mod session;
mod sinks;

#[doc(hidden)]
pub use output_queue::Capacity;
pub use sinks::PrintSink;
pub use sinks::{CollectSink, OUTPUT_DROPPED};

use crate::protocol::chunk::RawMessage;
use crate::protocol::random::RandomSource;
use crate::record::flv::{FlvRecorder, TagKind};
use crate::record::pcap::{PcapRecorder, TcpFlow};
use crate::transcript::DiagnosticId;
use crate::transcript::Direction;
use crate::transcript::{CloseCause, Event, EventKind};
use hub::Hub;
use personality::Personality;
use session::{Action, ServerSession, SessionConfig, Timeouts};
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Everything `serve` can be told: start from [`ServeOptions::default`] and set what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub personality: Personality,
    pub chunk_size: u32,
    pub max_connections: usize,
    /// Bytes of partial messages all connections together may hold; the connection whose read
    /// goes over it is closed. Each connection also has its own bound (the chunk limits), but
    /// many connections at their own bound would still add up.
    pub max_held_total: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    /// Seeds the handshake's random bytes (connection N uses seed + N) for reproducible runs.
    pub seed: Option<u64>,
    /// Writes one FLV file per published stream into this directory.
    pub record_dir: Option<PathBuf>,
    /// Writes every read and write of every connection into this pcap file.
    pub pcap: Option<PathBuf>,
    /// Close a connection on a chunk stream violation instead of reading through it (see
    /// [`session::closes_when_strict`]).
    pub strict: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: ([127, 0, 0, 1], 1935).into(),
            personality: personality::by_name("reference").expect("reference exists"),
            chunk_size: 4096,
            max_connections: 1024,
            max_held_total: 256 << 20,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            seed: None,
            record_dir: None,
            pcap: None,
            strict: false,
        }
    }
}

/// Where transcript events go: printed live by the CLI, collected by tests.
pub trait EventSink: Send + Sync + 'static {
    /// One event of connection `conn` (numbered from 1 in accept order).
    fn event(&self, conn: u64, event: &Event);
    /// A line about the server itself (listening, refused connections, shutdown).
    fn server_line(&self, line: &str);
    /// Whether this sink wants whole transcripts; when not, sessions send only diagnostics,
    /// media summaries and closes, and skip formatting the rest.
    fn wants_detail(&self) -> bool {
        true
    }
}

/// Counts for the final summary.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeSummary {
    pub connections: u64,
    pub refused: u64,
    pub handshakes_completed: u64,
}

/// What reaches a player's connection from the publisher's.
#[derive(Debug, Clone)]
enum ToPlayer {
    Media(RawMessage),
    /// The publisher stopped; the player stays and waits for the next one.
    Ended,
}

type PlayerHandle = mpsc::UnboundedSender<ToPlayer>;

type PcapFile = PcapRecorder<std::io::BufWriter<std::fs::File>>;

struct Shared {
    options: ServeOptions,
    pcap: Option<Arc<PcapFile>>,
    sink: Arc<dyn EventSink>,
    hub: Mutex<Hub<PlayerHandle>>,
    active: AtomicUsize,
    handshakes: AtomicU64,
    /// Bytes all sessions hold for their clients (see [`ServeOptions::max_held_total`]).
    held: AtomicUsize,
}

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

/// The listener and the options; the connections' shared state is left out.
impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("options", &self.shared.options)
            .field("active", &self.shared.active.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Server {
    pub async fn bind(options: ServeOptions, sink: Arc<dyn EventSink>) -> std::io::Result<Server> {
        let socket = if options.listen.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        socket.bind(options.listen)?;
        // The usual backlog of 128 overflows when hundreds of clients connect at once; the
        // dropped SYNs come back a second later and show as one-second connect times. The
        // kernel caps this at net.core.somaxconn.
        let backlog = options.max_connections.clamp(128, 65_535) as u32;
        let listener = socket.listen(backlog)?;
        // Each connection is a descriptor; the default soft limit (often 1024) would make
        // accept fail below --max-connections.
        if let Err(e) = crate::fd_limit::raise(options.max_connections as u64 + 64) {
            sink.server_line(&e);
        }
        let pcap = match &options.pcap {
            Some(path) => Some(PcapRecorder::new(std::io::BufWriter::new(
                std::fs::File::create(path)?,
            ))?),
            None => None,
        };
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                pcap,
                options,
                sink,
                hub: Mutex::new(Hub::default()),
                active: AtomicUsize::new(0),
                handshakes: AtomicU64::new(0),
                held: AtomicUsize::new(0),
            }),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `shutdown` completes, then closes every session (finishing
    /// recordings) and returns the counts.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> ServeSummary {
        let Server { listener, shared } = self;
        let mut summary = ServeSummary::default();
        let (closing_tx, _) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of descriptors or memory: the error repeats until a connection
                            // ends, so pause instead of spinning on it.
                            shared.sink.server_line(&format!("accept failed: {e}"));
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    summary.connections += 1;
                    let conn = summary.connections;
                    let shared = shared.clone();
                    if shared.active.load(Ordering::SeqCst) >= shared.options.max_connections {
                        summary.refused += 1;
                        shared.sink.server_line(&format!(
                            "refused connection {conn} from {peer}: {} open, the most --max-connections allows",
                            match shared.options.max_connections {
                                1 => "1 connection is".to_string(),
                                n => format!("{n} connections are"),
                            }
                        ));
                        drop(socket);
                        continue;
                    }
                    shared.active.fetch_add(1, Ordering::SeqCst);
                    let closing = closing_tx.subscribe();
                    tasks.spawn(async move {
                        serve_connection(&shared, conn, socket, peer, closing).await;
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Stop listening first: a client arriving while the sessions close is refused, not
        // accepted into the backlog and reset.
        drop(listener);
        let _ = closing_tx.send(true);
        while tasks.join_next().await.is_some() {}
        summary.handshakes_completed = shared.handshakes.load(Ordering::SeqCst);
        if let Some(pcap) = &shared.pcap {
            match pcap.finish() {
                Ok(Some(mut out)) => {
                    if let Err(e) = std::io::Write::flush(&mut out) {
                        shared
                            .sink
                            .server_line(&format!("writing the pcap file failed: {e}"));
                    }
                }
                Ok(None) => {}
                Err(e) => shared
                    .sink
                    .server_line(&format!("writing the pcap file failed: {e}")),
            }
        }
        summary
    }
}

/// Brings this session's share of the server-wide count of held bytes up to date (`held` is
/// what it counted before) and closes it if its growth takes the total over the limit; returns
/// what it counts now.
fn account_held(shared: &Shared, session: &mut ServerSession, held: usize) -> usize {
    let now = session.held_bytes();
    // A plain budget counter: no other memory is published through it, so Relaxed suffices.
    if now == held {
        return now;
    }
    if now < held {
        shared.held.fetch_sub(held - now, Ordering::Relaxed);
        return now;
    }
    let total = shared.held.fetch_add(now - held, Ordering::Relaxed) + (now - held);
    let limit = shared.options.max_held_total;
    if total > limit {
        session.refuse(
            DiagnosticId::ServeHeldTotal,
            format!(
                "all connections together hold {total} bytes of partial messages and output awaiting acknowledgement, more than the server's max_held_total {limit}; this one, holding {now}, grew past it"
            ),
            CloseCause::HeldTotal,
        );
    }
    now
}

/// Drives one connection until it ends; never panics on what the peer sends, and never affects
/// another connection.
async fn serve_connection(
    shared: &Shared,
    conn: u64,
    mut socket: TcpStream,
    peer: SocketAddr,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let options = &shared.options;
    let rng = match options.seed {
        Some(seed) => RandomSource::seeded(seed.wrapping_add(conn)),
        None => RandomSource::from_entropy(),
    };
    let config = SessionConfig {
        personality: options.personality.clone(),
        chunk_size: options.chunk_size,
        detailed_transcript: shared.sink.wants_detail(),
        strict: options.strict,
        timeouts: Timeouts {
            handshake: options.handshake_timeout,
            idle: options.idle_timeout,
        },
        ..SessionConfig::default()
    };
    let mut session = ServerSession::new(config, rng);
    let _ = socket.set_nodelay(session.nodelay());
    let started = Instant::now();
    let wall_started = SystemTime::now();
    let wall = |us: u64| wall_started + Duration::from_micros(us);
    let local_addr = socket.local_addr().unwrap_or(options.listen);
    let local = local_addr.to_string();
    let mut flow = shared
        .pcap
        .as_ref()
        .and_then(|p| TcpFlow::open(p.clone(), peer, local_addr, wall_started).ok());
    shared.sink.event(
        conn,
        &Event::new(
            0,
            EventKind::Connected {
                client: peer.to_string(),
                server: local,
            },
        ),
    );
    let (media_tx, mut media_rx) = mpsc::unbounded_channel::<ToPlayer>();
    let mut recordings = Recordings::default();
    // The handshake needs little; a large buffer waits for the chunk stream, so that hundreds
    // of connections stalled in the handshake hold 4 KiB each rather than 64.
    // Not zeroed: read_buf fills spare capacity, so no connection pays for clearing 64 KiB.
    let mut buf = bytes::BytesMut::new();
    let mut read_size = 4 * 1024;
    let mut was_in_handshake = true;
    // What this session counts in `shared.held`.
    let mut held = 0usize;
    let now = || started.elapsed().as_micros() as u64;
    loop {
        let limit = Duration::from_micros(
            session
                .deadline_us()
                .unwrap_or(u64::MAX)
                .saturating_sub(now()),
        );
        // Each read is split off and handed to the session as it is, and the next read goes
        // into what is left of the buffer. Only when little is left does it take a new one, or
        // the same memory again once nothing holds a slice of it (the session keeps none past
        // a read but the messages it passes on): reads that media queued for a slow player
        // holds on to then share a buffer rather than keeping one each.
        if buf.capacity() < read_size / 16 {
            buf.reserve(read_size);
        }
        tokio::select! {
            read = tokio::time::timeout(limit, socket.read_buf(&mut buf)) => match read {
                Err(_) => session.handle_timer(now()),
                Ok(Ok(0)) => session.handle_eof(now()),
                Ok(Ok(_)) => {
                    let read = buf.split().freeze();
                    let at = now();
                    record_segment(shared, &mut flow, Direction::ClientToServer, wall(at), &read);
                    session.handle_read(at, read);
                }
                Ok(Err(e)) => session.close(CloseCause::ReadError(e.to_string())),
            },
            Some(to_player) = media_rx.recv() => match to_player {
                ToPlayer::Media(message) => session.send_media(now(), &message),
                ToPlayer::Ended => session.stream_ended(now()),
            },
            _ = closing.changed() => session.close(CloseCause::Shutdown),
        }
        // After every event, not only reads: media for a player that does not acknowledge
        // waits in its session (window-ack-tiny-strict) and counts too.
        held = account_held(shared, &mut session, held);
        if was_in_handshake && !session.in_handshake() && session.close_reason().is_none() {
            shared.handshakes.fetch_add(1, Ordering::SeqCst);
            was_in_handshake = false;
            read_size = 64 * 1024;
        }
        resolve_actions(shared, conn, &mut session, &media_tx, &mut recordings);
        flush_events(shared, conn, &mut session);
        let mut write_failed = None;
        loop {
            let at = now();
            let Some(bytes) = session.poll_transmit(at) else {
                match session.next_transmit_at_us() {
                    // The personality's measured pause before its next handshake write: the
                    // real server is busy meanwhile and reads nothing, nor does this driver.
                    Some(due) => {
                        tokio::time::sleep_until((started + Duration::from_micros(due)).into())
                            .await;
                        continue;
                    }
                    None => break,
                }
            };
            // The write's events (its segment, the messages it carries) before its bytes go.
            flush_events(shared, conn, &mut session);
            record_segment(
                shared,
                &mut flow,
                Direction::ServerToClient,
                wall(at),
                &bytes,
            );
            // A client that stops reading would otherwise hold this connection in the write
            // forever while media for it queues up.
            match tokio::time::timeout(options.idle_timeout, socket.write_all(&bytes)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    write_failed = Some(CloseCause::WriteError(e.to_string()));
                    break;
                }
                Err(_) => {
                    write_failed = Some(CloseCause::WriteTimeout {
                        len: bytes.len(),
                        limit: options.idle_timeout,
                    });
                    break;
                }
            }
        }
        if let Some(reason) = write_failed {
            session.write_failed(now(), reason);
            resolve_actions(shared, conn, &mut session, &media_tx, &mut recordings);
        }
        flush_events(shared, conn, &mut session);
        if session.close_reason().is_some() {
            break;
        }
    }
    shared.held.fetch_sub(held, Ordering::Relaxed);
    shared.hub.lock().map(|mut h| h.leave(conn)).ok();
    recordings.finish_all(shared);
    if let Some(mut flow) = flow {
        let _ = flow.close(wall(now()), None);
    }
    // Dropping the socket closes it, which sends FIN as shutdown would, in one system call.
    drop(socket);
}

/// Hands the session's events to the sink, in order.
fn flush_events(shared: &Shared, conn: u64, session: &mut ServerSession) {
    while let Some((at_us, kind)) = session.poll_event() {
        shared.sink.event(conn, &Event::new(at_us, kind));
    }
}

/// Adds one read or write, made `at`, to the pcap file; a failure is reported once and
/// recording of this connection stops, the connection itself goes on.
fn record_segment(
    shared: &Shared,
    flow: &mut Option<TcpFlow<std::io::BufWriter<std::fs::File>>>,
    direction: Direction,
    at: SystemTime,
    bytes: &[u8],
) {
    if let Some(f) = flow.as_mut() {
        if let Err(e) = f.record(direction, at, bytes) {
            shared
                .sink
                .server_line(&format!("pcap recording stopped: {e}"));
            *flow = None;
        }
    }
}

/// The FLV files this connection is writing, by stream name.
#[derive(Default)]
struct Recordings {
    open: HashMap<String, (PathBuf, FlvRecorder<std::fs::File>)>,
}

impl Recordings {
    fn start(&mut self, shared: &Shared, name: &str) {
        let Some(dir) = &shared.options.record_dir else {
            return;
        };
        let path = unused_path(dir, name);
        match FlvRecorder::create(&path) {
            Ok(rec) => {
                shared
                    .sink
                    .server_line(&format!("recording '{name}' to {}", path.display()));
                self.open.insert(name.to_string(), (path, rec));
            }
            Err(e) => shared.sink.server_line(&format!(
                "cannot record '{name}' to {}: {e}",
                path.display()
            )),
        }
    }

    fn write(&mut self, shared: &Shared, name: &str, message: &RawMessage) {
        let Some(kind) = TagKind::from_message_type(message.type_id) else {
            return;
        };
        let Some((path, rec)) = self.open.get_mut(name) else {
            return;
        };
        if let Err(e) = rec.write_tag(kind, message.timestamp, &message.payload) {
            shared
                .sink
                .server_line(&format!("recording {} stopped: {e}", path.display()));
            self.open.remove(name);
        }
    }

    fn finish(&mut self, shared: &Shared, name: &str) {
        if let Some((path, rec)) = self.open.remove(name) {
            let line = match rec.finish() {
                Ok(_) => format!("recorded {}", path.display()),
                Err(e) => format!("finishing {} failed: {e}", path.display()),
            };
            shared.sink.server_line(&line);
        }
    }

    fn finish_all(&mut self, shared: &Shared) {
        let names: Vec<String> = self.open.keys().cloned().collect();
        for name in names {
            self.finish(shared, &name);
        }
    }
}

/// `DIR/<name>.flv`, with the name made safe for a file system and a `-N` suffix when a file of
/// that name exists (a stream published twice keeps both recordings).
fn unused_path(dir: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = if safe.is_empty() || safe.starts_with('.') {
        format!("stream{safe}")
    } else {
        safe
    };
    let mut path = dir.join(format!("{safe}.flv"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{safe}-{n}.flv"));
        n += 1;
    }
    path
}

fn resolve_actions(
    shared: &Shared,
    conn: u64,
    session: &mut ServerSession,
    media_tx: &PlayerHandle,
    recordings: &mut Recordings,
) {
    while let Some(action) = session.poll_action() {
        let Ok(mut hub) = shared.hub.lock() else {
            return;
        };
        match action {
            Action::Publish { name, stream_id } => {
                let accepted = hub.publish(&name, conn);
                drop(hub);
                session.publish_result(stream_id, accepted);
                if accepted {
                    recordings.start(shared, &name);
                }
            }
            Action::Unpublish { name } => {
                for (_, player) in hub.unpublish(&name, conn) {
                    let _ = player.send(ToPlayer::Ended);
                }
                drop(hub);
                recordings.finish(shared, &name);
            }
            Action::Play { name, stream_id } => {
                let start = hub.play(&name, conn, media_tx.clone());
                drop(hub);
                session.play_started(stream_id, start.as_ref().map(|s| s.messages()));
            }
            Action::StopPlaying => hub.leave(conn),
            Action::Media { name, message } => {
                for player in hub.media(&name, &message) {
                    let _ = player.send(ToPlayer::Media(message.clone()));
                }
                drop(hub);
                recordings.write(shared, &name, &message);
            }
        }
    }
}
