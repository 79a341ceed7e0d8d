use anyhow::Context;
use clap::Args;
use rtmp_probe::serve::Capacity;
use rtmp_probe::serve::{personality, EventSink, PrintSink, ServeOptions, Server};
use rtmp_probe::transcript::render::{colour_on_stdout, TextRenderer};
use rtmp_probe::transcript::Event;
use std::net::SocketAddr;
use std::sync::Arc;

/// Run the strict, verbose reference server that real encoders stream to.
///
/// Every connection is printed as it happens: the handshake as it arrived (reads and their
/// sizes), what the handshake revealed, every message, a media summary and diagnostics.
///
/// Stops on Ctrl-C or SIGTERM, after closing every connection and finishing recordings and
/// the pcap file: exit 0. When standard output closes (`serve | head`), it logs one line on
/// standard error, stops listening (later clients are refused), finishes recordings and the
/// pcap file the same way and exits 141. When standard output is not read fast enough, lines
/// are dropped rather than connections stalled; how many, and from which connections, is
/// printed once output drains and again at exit.
///
/// Example: rtmp-probe serve --listen 127.0.0.1:1935 --personality ffmpeg
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on: 1935 or :1935 (on 127.0.0.1), localhost:1935, 127.0.0.1:1935,
    /// 0.0.0.0:1935 (every interface), [::1]:1935 or rtmp://host:port/.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:1935", value_parser = super::target::parse_listen)]
    listen: SocketAddr,
    /// Handshake behaviour to imitate (see --list-personalities).
    #[arg(long, value_name = "NAME", default_value = "reference", value_parser = super::names::personalities(), hide_possible_values = true)]
    personality: String,
    /// A personality of your own, as a file in the form of the built-in ones (see README,
    /// "Personality files"), in place of --personality.
    #[arg(long, value_name = "FILE", conflicts_with = "personality")]
    personality_file: Option<std::path::PathBuf>,
    /// List the personalities with their behaviour and source, then exit.
    #[arg(long)]
    list_personalities: bool,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Print only the server's own lines and connections' errors, not whole transcripts (for
    /// load tests).
    #[arg(long)]
    quiet: bool,
    /// Chunk size announced after connect.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..=0x7fff_ffff))]
    chunk_size: u32,
    /// Threads serving connections (default: one per CPU). With 1, everything runs on one
    /// thread with no hand-over between threads, which costs the least CPU per connection.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Connections served at once; more are refused with a log line.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// MiB of partial messages all connections together may hold; the connection that goes
    /// over it is closed (each connection is also bounded on its own).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    max_held_mib: u32,
    /// Seconds the TCP connection and the whole handshake may take, counted from the accept.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = super::timeouts::timeout_seconds)]
    handshake_timeout: std::time::Duration,
    /// Seconds without a byte from the client (or with a write not taken) before the
    /// connection is closed.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = super::timeouts::timeout_seconds)]
    idle_timeout: std::time::Duration,
    /// Seed for the handshake's random bytes (reproducible runs).
    #[arg(long)]
    seed: Option<u64>,
    /// Write one FLV file per published stream into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    record: Option<std::path::PathBuf>,
    /// Write what the server read and wrote, one frame per read or write, into this pcap file.
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
    /// Close a connection on a chunk stream violation the server can read through (a chunk
    /// stream opened without a type 0 header, a header in the middle of a message, type-3
    /// chunks without the extended timestamp). Without it, each is named and the session goes
    /// on, as nginx-rtmp goes on.
    #[arg(long)]
    strict: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    if args.list_personalities {
        for p in personality::all() {
            outln!(
                "{}\n    {}\n    source: {}\n",
                p.name,
                p.description,
                p.source
            )?;
        }
        return Ok(0);
    }
    let personality = match &args.personality_file {
        Some(path) => super::load_personality_file(path)?,
        None => super::names::personality_named(&args.personality)?,
    };
    let mut options = ServeOptions::default();
    options.listen = args.listen;
    options.personality = personality;
    options.chunk_size = args.chunk_size;
    options.max_connections = args.max_connections as usize;
    options.max_held_total = (args.max_held_mib as usize).saturating_mul(1 << 20);
    options.handshake_timeout = args.handshake_timeout;
    options.idle_timeout = args.idle_timeout;
    options.seed = args.seed;
    options.record_dir = args.record.clone();
    options.pcap = args.pcap.clone();
    options.strict = args.strict;
    // Output paths before the socket, so that an error names them and not the address.
    if let Some(dir) = &args.record {
        super::output::create_dir("--record", dir)?;
    }
    if let Some(path) = &args.pcap {
        super::output::check_creatable("--pcap", path)?;
    }
    let json_file = match args.json.open()? {
        Some(super::output::OutputFile::File { file, .. }) => Some(file),
        _ => None,
    };
    let (closed, mut closed_seen) = tokio::sync::watch::channel(false);
    let text = TextRenderer {
        colour: colour_on_stdout(),
    };
    let sink = Arc::new(Outputs {
        stdout: PrintSink::stdout(args.json.on_stdout(), args.quiet, text, closed),
        json_file: json_file.map(|file| {
            let (closed, _) = tokio::sync::watch::channel(false);
            PrintSink::new(file, Capacity::default(), true, args.quiet, text, closed)
        }),
    });
    watch_stdout_reader(sink.clone());
    let runtime = match args.threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n as usize)
            .enable_all()
            .build(),
        None => tokio::runtime::Runtime::new(),
    }
    .context("starting the async runtime")?;
    let finishing = sink.clone();
    let outcome = runtime.block_on(async move {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        let personality_name = options.personality.name;
        let server = Server::bind(options.clone(), sink.clone())
            .await
            .map_err(|e| cannot_listen(options.listen, &e))?;
        let addr = server.local_addr()?;
        rtmp_probe::serve::EventSink::server_line(
            sink.as_ref(),
            &format!(
                "rtmp-probe serve: listening on rtmp://{addr}/ (personality {personality_name})"
            ),
        );
        let stop = async {
            tokio::select! {
                () = interrupt.received() => {}
                _ = closed_seen.wait_for(|closed| *closed) => {
                    eprintln!("rtmp-probe serve: standard output closed; stopping");
                }
            }
        };
        let summary = server.run(stop).await;
        if *sink.stdout.closed.borrow() {
            sink.finish(None);
            return Ok(super::exit::PIPE_CLOSED);
        }
        // The last lines are written whatever the queue holds, then serve waits for them.
        sink.finish(Some(&format!(
            "rtmp-probe serve: stopped after {}",
            stopped_counts(&summary)
        )));
        // Ctrl-C and SIGTERM are how a server is meant to stop: a clean stop, 0.
        Ok(super::exit::PASSED)
    });
    if outcome.is_err() {
        // What was printed before the error still reaches standard output.
        finishing.finish(None);
    }
    outcome
}

/// Where serve's lines go: standard output (text, or JSON with `--json`), and with
/// `--json=FILE` the JSON into FILE as well.
struct Outputs {
    stdout: PrintSink,
    json_file: Option<PrintSink>,
}

impl Outputs {
    fn finish(&self, last: Option<&str>) {
        if let Some(file) = &self.json_file {
            file.finish(last);
        }
        self.stdout.finish(last);
    }
}

impl EventSink for Outputs {
    fn event(&self, conn: u64, event: &Event) {
        self.stdout.event(conn, event);
        if let Some(file) = &self.json_file {
            file.event(conn, event);
        }
    }

    fn server_line(&self, line: &str) {
        self.stdout.server_line(line);
        if let Some(file) = &self.json_file {
            file.server_line(line);
        }
    }

    fn wants_detail(&self) -> bool {
        self.stdout.wants_detail()
    }
}

/// `1 connection (0 refused, 1 handshake completed)`.
fn stopped_counts(summary: &rtmp_probe::serve::ServeSummary) -> String {
    use super::plural;
    format!(
        "{} ({} refused, {} completed)",
        plural(summary.connections, "connection"),
        summary.refused,
        plural(summary.handshakes_completed, "handshake"),
    )
}

/// `cannot listen on 127.0.0.1:1935: address already in use`, in words rather than the
/// system's error string where the cause is a common one.
fn cannot_listen(addr: SocketAddr, error: &std::io::Error) -> anyhow::Error {
    use std::io::ErrorKind;
    let why = match error.kind() {
        ErrorKind::AddrInUse => {
            "address already in use (another server listens there; choose another port with --listen)"
                .to_string()
        }
        ErrorKind::AddrNotAvailable => "no interface of this machine has that address".to_string(),
        ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need privileges)".to_string()
        }
        _ => error.to_string(),
    };
    anyhow::anyhow!("cannot listen on {addr}: {why}")
}

/// Tells `sink` as soon as standard output's reader goes away, not only at the next write
/// (which may wait for the next client, who would then be reset mid-handshake). A pipe's
/// writing end reports POLLERR when its reader closes; a terminal reports POLLHUP when it
/// goes; a regular file reports neither, and the thread waits for ever, harmlessly.
fn watch_stdout_reader(sink: Arc<Outputs>) {
    #[cfg(unix)]
    std::thread::spawn(move || loop {
        let mut fd = libc::pollfd {
            fd: libc::STDOUT_FILENO,
            events: 0,
            revents: 0,
        };
        // SAFETY: one valid pollfd, the count passed is 1.
        let ready = unsafe { libc::poll(&mut fd, 1, -1) };
        if ready > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
            sink.stdout.closed.send_replace(true);
            return;
        }
        if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
        if ready > 0 && fd.revents & libc::POLLNVAL != 0 {
            return;
        }
    });
    #[cfg(not(unix))]
    let _ = sink;
}
