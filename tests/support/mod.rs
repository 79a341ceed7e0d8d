//! Helpers shared by the integration tests that talk to real RTMP peers on 127.0.0.1.
//!
//! A test that needs a peer or a shared capture declares it ([`trials`]): where it is missing,
//! the test runner reports the test as ignored with the reason (a failure in CI, which sets
//! `RTMP_PROBE_REQUIRE_PEERS=1` and `RTMP_PROBE_REQUIRE_SHARED=1`); the helpers here then
//! assume what was declared.

#![allow(dead_code)] // each test binary uses a different subset

pub mod trials;
pub mod violations;

use rtmp_probe::protocol::handshake::{ClientConfig, Handshake};
use rtmp_probe::protocol::random::RandomSource;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of the rtmp-probe binary of this build (for a shell command line).
pub const RTMP_PROBE: &str = env!("CARGO_BIN_EXE_rtmp-probe");

/// The rtmp-probe binary of this build, with colour off as a user's pipe would have it.
pub fn rtmp_probe_command() -> Command {
    let mut command = Command::new(RTMP_PROBE);
    command.env("NO_COLOR", "1");
    command
}

/// Runs rtmp-probe with `args` to the end: (exit status, or -1 when a signal ended it; stdout;
/// stderr).
pub fn rtmp_probe(args: &[&str]) -> (i32, String, String) {
    let out = rtmp_probe_command()
        .args(args)
        .output()
        .expect("running rtmp-probe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A matrix run that finishes in well under a second a case: the default variant, once, 0.3 s
/// of media.
pub const QUICK_MATRIX: [&str; 6] = ["--variant", "default", "--repeat", "1", "--duration", "0.3"];

/// `rtmp-probe serve` on a free loopback port whose standard output is a pipe nobody reads
/// until [`UnreadServe::stop_and_read`].
pub struct UnreadServe {
    child: ChildGuard,
    stdout: std::process::ChildStdout,
    pub addr: SocketAddr,
}

impl UnreadServe {
    pub fn start(extra_args: &[&str]) -> UnreadServe {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let mut child = rtmp_probe_command()
            .args(["serve", "--listen", &addr.to_string()])
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning rtmp-probe serve");
        let stdout = child.stdout.take().expect("serve's stdout");
        let child = ChildGuard(child);
        assert!(
            wait_for_listener(addr, Duration::from_secs(10)),
            "serve did not listen on {addr}"
        );
        UnreadServe {
            child,
            stdout,
            addr,
        }
    }

    /// Runs a load of 1500 connections against serve and checks that every one connected:
    /// together they print (about 17 lines each) far more than a pipe (64 KiB) and serve's
    /// output queue (8192 lines) hold.
    pub fn flood(&self) {
        let url = format!("rtmp://{}/live", self.addr);
        let (code, out, err) = rtmp_probe(&[
            "load",
            &url,
            "--connections",
            "20",
            "--total",
            "1500",
            "--run-time",
            "60",
        ]);
        assert_eq!(
            code, 0,
            "load against serve whose output is not read: {out}{err}"
        );
        assert!(out.contains("1500 connected, 0 failed"), "{out}");
    }

    /// Stops serve with SIGTERM while reading all it wrote; (exit status, output). Fails when
    /// serve does not exit within `limit`.
    pub fn stop_and_read(mut self, limit: Duration) -> (i32, String) {
        let mut stdout = self.stdout;
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let pid = self.child.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success());
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.0.try_wait().expect("waiting for serve") {
                break status;
            }
            assert!(
                start.elapsed() < limit,
                "serve did not exit within {limit:?} of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        (
            status.code().unwrap_or(-1),
            reader.join().expect("reading serve's output"),
        )
    }
}

/// FFmpeg 9.0.2, the static build inside the PyPI wheel imageio-ffmpeg 0.8.1, which `.ci/run`
/// installs into a venv and names in `RTMP_PROBE_FFMPEG9`. A test that calls this declares
/// [`trials::Need::Ffmpeg9`], so the file is there when it runs.
pub fn ffmpeg9() -> PathBuf {
    match trials::Need::Ffmpeg9.missing() {
        None => PathBuf::from(std::env::var_os("RTMP_PROBE_FFMPEG9").expect("checked")),
        Some(reason) => panic!("{reason}: the test must declare Need::Ffmpeg9"),
    }
}

/// The shared folder of the project's peers and captures: `RTMP_PROBE_SHARED` when set (a
/// machine without it can be tried by pointing it elsewhere), else `../shared` beside the
/// repository.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("RTMP_PROBE_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// Every capture in ../shared/captures, relative to it.
pub const SHARED_CAPTURES: [&str; 12] = [
    "public/flash9-play-wireshark-sample.cap",
    "public/ndpi-flash9-and-mobile-ffmpeg-play-vlan-gtpu.pcapng",
    "public/obs27-publish-to-nginx-rtmp.pcap",
    "public/obs27-publish-to-livego-fork.pcap",
    "public/twinx-client-publish-to-twitch-ingest.pcap",
    "public/twinx-client-publish-to-restream-ingest.pcap",
    "public/ffmpeg-player-play-from-adobe-fms5.pcapng",
    "public/vlc-play-from-nginx-rtmp-delay500ms.pcapng",
    "public/vlc-play-from-nginx-rtmp-corrupt10pct.pcapng",
    "peers/ffmpeg-publish-to-ffmpeg-listen.pcap",
    "peers/ffmpeg-publish-to-nginx.pcap",
    "peers/ffmpeg-publish-to-nginx.pcapng",
];

/// A path under the shared folder's `captures/`. A test that calls this declares
/// [`trials::Need::SharedCapture`] for it, so the file is there when it runs.
pub fn shared_capture(relative: &str) -> PathBuf {
    let path = shared_dir().join("captures").join(relative);
    assert!(
        path.is_file(),
        "shared capture {} is absent: the test must declare Need::SharedCapture",
        path.display()
    );
    path
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding an ephemeral loopback port")
}

/// Waits (bounded) until something listens for TCP connections on `addr`'s port, without
/// connecting to it: a test must not spend a connection the server would count, log or, as
/// `ffmpeg -listen 1` does, serve as its one client.
pub fn wait_for_listener(addr: SocketAddr, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if listening(addr.port()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Whether a socket listens on TCP `port` (IPv4 or IPv6), read from the kernel's socket tables
/// (`/proc/net/tcp*`: the local address's port in hex, state 0A is LISTEN).
pub fn listening(port: u16) -> bool {
    let port = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                let mut fields = line.split_whitespace().skip(1);
                let local = fields.next().unwrap_or_default();
                let state = fields.nth(1).unwrap_or_default();
                local.ends_with(&port) && state == "0A"
            })
        })
    })
}

/// `program -listen 1` (an FFmpeg) waiting for one connection on a fresh loopback port; None
/// when it did not listen within 5 s. It serves one connection per process.
pub fn ffmpeg_listen(program: &Path) -> Option<(ChildGuard, u16)> {
    let port = free_port();
    let child = ChildGuard(
        Command::new(program)
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-nostdin",
                "-listen",
                "1",
            ])
            .args([
                "-i",
                &format!("rtmp://127.0.0.1:{port}/live/x"),
                "-c",
                "copy",
                "-f",
                "null",
                "-",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawning ffmpeg -listen 1"),
    );
    // It serves one connection only: wait until it listens without connecting.
    wait_for_listener(([127, 0, 0, 1], port).into(), Duration::from_secs(5))
        .then_some((child, port))
}

/// A child process that is killed when the guard is dropped, so a failing assertion never leaves
/// a peer running.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx with the RTMP module, started in the foreground with its own prefix, configuration, pid
/// file and logs under a temporary directory, listening on an ephemeral loopback port.
pub struct Nginx {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    _child: ChildGuard,
}

impl Nginx {
    /// Starts nginx-rtmp with `application live { live on; }` and the given extra server lines.
    /// A test that calls this declares [`trials::Need::NginxRtmp`].
    pub fn start(extra_server_conf: &str) -> Nginx {
        if let Some(reason) = trials::Need::NginxRtmp.missing() {
            panic!("{reason}: the test must declare Need::NginxRtmp");
        }
        let module = trials::NGINX_RTMP_MODULE;
        // A port can be taken between probing and binding; try a few.
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("temp dir for nginx");
            let port = free_port();
            let conf = format!(
                "load_module {module};\n\
                 daemon off;\nmaster_process off;\nworker_processes 1;\n\
                 pid {dir}/nginx.pid;\nerror_log {dir}/error.log info;\n\
                 events {{ worker_connections 256; }}\n\
                 rtmp {{ server {{ listen 127.0.0.1:{port}; {extra_server_conf}\n\
                   application live {{ live on; record off; }} }} }}\n",
                dir = dir.path().display()
            );
            let conf_path = dir.path().join("nginx.conf");
            std::fs::write(&conf_path, conf).expect("writing nginx.conf");
            let child = Command::new("nginx")
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .arg("-c")
                .arg(&conf_path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawning nginx");
            let mut guard = ChildGuard(child);
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            // Something listening is not enough: another process may have taken the port
            // (nginx then fails to bind and exits). nginx writes its pid file only after it
            // has bound its listening sockets, so wait for that file, and for nginx to live.
            let pid_file = dir.path().join("nginx.pid");
            let ours = || {
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(5) && !pid_file.exists() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                pid_file.exists()
            };
            if wait_for_listener(addr, Duration::from_secs(5))
                && ours()
                && matches!(guard.0.try_wait(), Ok(None))
            {
                return Nginx {
                    addr,
                    dir,
                    _child: guard,
                };
            }
            let exited = guard.0.try_wait().ok().flatten();
            eprintln!(
                "nginx did not listen on {addr} (exit {exited:?}): {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
        }
        panic!("nginx-rtmp could not be started on a loopback port after 5 attempts");
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// Runs `cmd` to completion or kills it after `limit`; returns (exit success, stderr).
pub fn run_bounded(mut cmd: Command, limit: Duration) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning a peer");
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut e) = stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if start.elapsed() < limit => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    (ok, reader.join().unwrap_or_default())
}

/// The normalised transcript lines that do not depend on scheduling, for snapshots of sessions
/// with real peers. Segment sizes, Acknowledgements and media statistics can vary between runs,
/// so tests assert them separately instead of snapshotting them. How the client's messages
/// interleave with the server's depends on how reads happen to coalesce, while each direction's
/// own order does not: so the lines are grouped, handshake first, then the client's messages,
/// the server's messages, diagnostics and the close, each group in its own order. A data
/// message repeated by the peer (GStreamer's flvmux re-sends metadata with a wall-clock
/// `creationdate`) is kept once, with the date and the length it sets redacted. A client that closes right after
/// deleteStream races the server's last answer: the client's kernel may answer it with a reset,
/// which can discard deleteStream from the server's receive queue and turns the close into a
/// reset; so deleteStream is left out and the close is shown without its reason.
pub fn stable_lines(transcript: &rtmp_probe::transcript::Transcript) -> String {
    let mut seen_data = false;
    let kept: Vec<String> = rtmp_probe::transcript::render::snapshot(transcript)
        .lines()
        .filter(|l| {
            let segment =
                (l.starts_with("C->S  ") || l.starts_with("S->C  ")) && !l.contains("  msg ");
            let is_data = l.contains(" type=18 ") && l.starts_with("C->S");
            let repeat = is_data && std::mem::replace(&mut seen_data, true);
            !(segment
                || repeat
                || l.starts_with("media ")
                || l.contains("chunk.ext-ts")
                || l.contains("  Acknowledgement ")
                || (l.starts_with("C->S") && l.contains("command deleteStream")))
        })
        .map(|l| {
            if l.starts_with("closed: ") {
                "closed".to_string()
            } else {
                l.to_string()
            }
        })
        .map(|l| match l.find("creationdate: \"") {
            Some(at) => {
                let end = l[at + 15..].find('"').map_or(l.len(), |e| at + 15 + e + 1);
                let line = format!("{}creationdate: <date>{}", &l[..at], &l[end..]);
                // The date's text ("Mon Nov 30" / "Tue Dec  1" ...) sets the message length too.
                match (line.find(" len="), line.find("  data ")) {
                    (Some(len_at), Some(data_at)) if len_at < data_at => {
                        format!(
                            "{} len=<date-dependent>{}",
                            &line[..len_at],
                            &line[data_at..]
                        )
                    }
                    _ => line,
                }
            }
            None => l,
        })
        .collect();
    let group =
        |pred: &dyn Fn(&str) -> bool| kept.iter().filter(|l| pred(l)).cloned().collect::<Vec<_>>();
    let mut out = group(&|l| l.starts_with("connected") || l.starts_with("hs "));
    out.extend(group(&|l| l.starts_with("C->S")));
    out.extend(group(&|l| l.starts_with("S->C")));
    out.extend(group(&|l| {
        !(l.starts_with("connected")
            || l.starts_with("hs ")
            || l.starts_with("C->S")
            || l.starts_with("S->C"))
    }));
    out.join("\n")
}

/// The built-in server on its own thread and an ephemeral loopback port; dropped, it stops.
pub struct Running {
    pub addr: SocketAddr,
    pub sink: std::sync::Arc<rtmp_probe::serve::CollectSink>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts the server with `options` (its `listen` is replaced by 127.0.0.1:0).
    pub fn start(options: rtmp_probe::serve::ServeOptions) -> Running {
        let mut options = options;
        options.listen = ([127, 0, 0, 1], 0).into();
        let sink = std::sync::Arc::new(rtmp_probe::serve::CollectSink::default());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread_sink = sink.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async move {
                let server = rtmp_probe::serve::Server::bind(options, thread_sink)
                    .await
                    .expect("bind");
                addr_tx
                    .send(server.local_addr().expect("addr"))
                    .expect("send addr");
                server
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("server started");
        Running {
            addr,
            sink,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self, key: &str) -> String {
        format!("rtmp://{}/live/{key}", self.addr)
    }

    /// The transcripts so far, by connection number.
    pub fn transcripts(
        &self,
    ) -> std::collections::BTreeMap<u64, rtmp_probe::transcript::Transcript> {
        self.sink.transcripts.lock().expect("lock").clone()
    }

    /// Stops the server (closing every session) and returns the transcripts in connection order.
    pub fn finish(mut self) -> Vec<rtmp_probe::transcript::Transcript> {
        self.stop_now();
        self.transcripts().into_values().collect()
    }

    /// Why connection `conn` closed, once it has.
    pub fn close_reason(&self, conn: u64) -> Option<rtmp_probe::transcript::CloseCause> {
        let map = self.sink.transcripts.lock().expect("lock");
        map.get(&conn)?.events.iter().find_map(|e| match &e.kind {
            rtmp_probe::transcript::EventKind::Closed { reason } => Some(reason.clone()),
            _ => None,
        })
    }

    /// Waits (bounded) until connection `conn` has closed.
    pub fn wait_closed(
        &self,
        conn: u64,
        limit: Duration,
    ) -> Option<rtmp_probe::transcript::CloseCause> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(r) = self.close_reason(conn) {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// FFmpeg publishing `seconds` of 320x240 25 fps H.264 (keyframe every 25 frames) and AAC test
/// signal to `url` in real time, as the issues' interop tests describe.
pub fn ffmpeg_publish(url: &str, seconds: u32) -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"])
        .args(["-f", "lavfi", "-i", "sine"])
        .args(["-c:v", "libx264", "-g", "25", "-c:a", "aac"])
        .args(["-t", &seconds.to_string(), "-f", "flv", url]);
    c
}

/// Makes an FLV clip of `seconds` of H.264 (and AAC when `audio`) with FFmpeg, for peers that
/// publish from a file (GStreamer has no H.264 encoder in the packages CI installs).
pub fn make_clip(path: &Path, seconds: u32, audio: bool) {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"]);
    if audio {
        c.args(["-f", "lavfi", "-i", "sine", "-c:a", "aac"]);
    }
    c.args(["-c:v", "libx264", "-g", "25", "-t", &seconds.to_string()])
        .arg(path);
    let (ok, stderr) = run_bounded(c, Duration::from_secs(20));
    assert!(ok, "making {}: {stderr}", path.display());
}

/// Connects to `addr` and completes a handshake within `limit` (both together) with the
/// project's client core (seeded, so runs repeat), writing its packets as they are ready; the
/// core returned holds whatever the server sent after S2 (`take_remaining`).
pub fn client_handshake(
    addr: SocketAddr,
    limit: Duration,
) -> std::io::Result<(TcpStream, Handshake)> {
    let start = Instant::now();
    let mut socket = TcpStream::connect_timeout(&addr, limit)?;
    socket.set_read_timeout(Some(limit))?;
    socket.set_nodelay(true)?;
    let mut hs = Handshake::client(ClientConfig::default(), RandomSource::seeded(5));
    let mut buf = [0u8; 8192];
    while !hs.is_complete() {
        write_transmits(&mut socket, &mut hs)?;
        if start.elapsed() > limit {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let n = socket.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        hs.feed(&buf[..n])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    }
    write_transmits(&mut socket, &mut hs)?;
    Ok((socket, hs))
}

/// Writes everything the handshake core has ready as one write.
fn write_transmits(socket: &mut TcpStream, hs: &mut Handshake) -> std::io::Result<()> {
    let mut out = Vec::new();
    while let Some(t) = hs.poll_transmit() {
        out.extend_from_slice(&t.bytes);
    }
    socket.write_all(&out)
}

/// Waits (bounded by `limit`, in short reads) until the server closes `socket`; true when it
/// did, false at the limit or at a read error other than a reset.
pub fn closed_by_server(socket: &mut TcpStream, limit: Duration) -> bool {
    let start = Instant::now();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("a read timeout");
    let mut buf = [0u8; 16384];
    while start.elapsed() < limit {
        match socket.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return false,
        }
    }
    false
}

/// Case options for runs that only need each case's verdict: 0.6 s of media, 3 s waits, a fixed
/// seed (the in-memory and TCP matrices compare and snapshot with these).
pub fn quick_case_options() -> rtmp_probe::emulate::case::CaseOptions {
    let mut options = rtmp_probe::emulate::case::CaseOptions::default();
    options.media_duration = Duration::from_millis(600);
    options.handshake_timeout = Duration::from_secs(3);
    options.reply_timeout = Duration::from_secs(3);
    options.seed = Some(9);
    options
}

/// GStreamer re-muxing the FLV file `clip` into `sink` at `url` (rtmpsink is librtmp, rtmp2sink
/// is GStreamer's own), as a user publishes a file with gst-launch.
pub fn gst_publish(sink: &str, clip: &Path, url: &str) -> Command {
    let mut c = Command::new("gst-launch-1.0");
    c.args(["-q", "filesrc"])
        .arg(format!("location={}", clip.display()))
        .args([
            "!",
            "flvdemux",
            "name=d",
            "flvmux",
            "name=m",
            "streamable=true",
        ])
        .args(["!", sink, &format!("location={url}")])
        .args(["d.video", "!", "queue", "!", "h264parse", "!", "m."])
        .args(["d.audio", "!", "queue", "!", "aacparse", "!", "m."]);
    c
}
