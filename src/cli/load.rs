use super::UsageError;
use anyhow::Context;
use clap::Args;
use rtmp_probe::load::{self, LoadOptions};

/// Many emulated clients at once: handshakes/s, time to connect's `_result` (p50/p99/max) and
/// failures by stage. Run the same command against two servers to compare them.
///
/// Example: rtmp-probe load rtmp://127.0.0.1:1935/live --connections 200 --run-time 10
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// rtmp://host[:port]/app[/key]; publishing client N uses KEY-N (default key: load).
    url: String,
    /// Clients in flight at once.
    #[arg(long, default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=LoadOptions::MAX_CONNECTIONS as i64))]
    connections: u32,
    /// New clients per second (default: as fast as --connections allows).
    #[arg(long, value_parser = super::number_in(0.001, 1_000_000.0))]
    rate: Option<f64>,
    /// Seconds during which new clients are started; those in flight then finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    run_time: f64,
    /// Stop starting clients after this many (even before --run-time).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    total: Option<u64>,
    /// The client to emulate (see `rtmp-probe profiles`); repeatable, or several separated by
    /// commas: the clients take them in turn.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "obs",
        value_delimiter = ',',
        value_parser = super::names::profiles(),
        hide_possible_values = true
    )]
    profile: Vec<String>,
    /// Publish after connect (createStream, publish, media, unpublish) instead of closing at
    /// connect's `_result`.
    #[arg(long)]
    publish: bool,
    /// Seconds of media each client sends with --publish [default: 1].
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Replaced by --duration; refused with a line saying so.
    #[arg(long, hide = true, value_name = "SECONDS")]
    media_duration: Option<f64>,
    #[command(flatten)]
    timeouts: super::timeouts::TimeoutArgs,
    /// Replaced by --handshake-timeout and --reply-timeout; refused with a line saying so.
    #[arg(long, hide = true, value_name = "SECONDS")]
    step_timeout: Option<f64>,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Write the connections of the first 100 clients, one flow each, into this pcap file.
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
}

pub fn run(args: LoadArgs) -> anyhow::Result<i32> {
    let mut options = LoadOptions::new(super::names::profile_named(&args.profile[0])?);
    options.profiles = args
        .profile
        .iter()
        .map(|name| super::names::profile_named(name))
        .collect::<Result<_, _>>()?;
    options.connections = args.connections as usize;
    options.rate = args.rate;
    if args.media_duration.is_some() {
        return Err(UsageError(
            "--media-duration is now --duration (seconds of media, as in probe and matrix); the \
             length of the run is --run-time"
                .into(),
        )
        .into());
    }
    if args.duration.is_some() && !args.publish {
        return Err(UsageError(
            "--duration is the seconds of media a client publishes, which only --publish \
             clients do; the length of the run is --run-time (load's --duration before)"
                .into(),
        )
        .into());
    }
    options.duration = super::seconds("--run-time", args.run_time)?;
    options.total = args.total;
    options.publish = args.publish;
    options.media_duration = super::seconds("--duration", args.duration.unwrap_or(1.0))?;
    options.handshake_timeout = args.timeouts.handshake_timeout;
    options.reply_timeout = args.timeouts.reply_timeout;
    options.client_timeout = args.timeouts.case_timeout;
    if args.step_timeout.is_some() {
        return Err(UsageError(
            "--step-timeout is now two flags, as in probe and matrix: --handshake-timeout (the \
             TCP connect and the handshake) and --reply-timeout (each reply)"
                .into(),
        )
        .into());
    }
    options.check().map_err(UsageError)?;
    // The first client's connection is tried alone: a refused or unresolvable target is one
    // line, not a client per millisecond failing for --run-time.
    let (target, key) = super::target::parse(&args.url)?;
    let json = super::output::JsonOut(args.json.open()?);
    options.pcap = super::output::create_pcap(args.pcap.as_deref())?;
    let reach = super::target::reach();
    options.key = key.unwrap_or_else(|| "load".into());
    options.reach = Some(reach.clone());
    if let Err(e) = rtmp_probe::fd_limit::raise(args.connections as u64 * 2 + 64) {
        eprintln!("rtmp-probe: {e}");
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    // Drawn only on a terminal (indicatif hides itself otherwise).
    let bar = match args.total {
        Some(total) => indicatif::ProgressBar::new(total),
        None => indicatif::ProgressBar::no_length(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} clients done {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let tick = bar.clone();
    let report = runtime.block_on(async {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        anyhow::Ok(
            load::run_until(&target, &options, interrupt.received(), move |r| {
                if r.failure.is_some() {
                    tick.set_message("(some failed)");
                }
                tick.inc(1);
            })
            .await,
        )
    })?;
    bar.finish_and_clear();
    super::output::close_pcap(options.pcap.as_deref(), args.pcap.as_deref());
    super::target::unreachable(&args.url, &reach)?;
    // An interrupted report carries `"interrupted": true`.
    let mut printed = json.line(&rtmp_probe::transcript::render::json_record_line(
        "load", &report,
    ));
    if args.json.text_on_stdout() {
        printed = printed
            .and_then(|()| out!("{}", report.table()))
            .and_then(|()| {
                if report.interrupted {
                    outln!(
                        "interrupted: the counts are of the {} that finished",
                        super::plural(report.clients, "client")
                    )
                } else {
                    Ok(())
                }
            });
    }
    super::interrupt::finish(
        report.interrupted,
        printed,
        super::exit::verdict(report.failed > 0),
    )
}
