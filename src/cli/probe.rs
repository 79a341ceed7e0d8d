use anyhow::Context;
use clap::Args;
use rtmp_probe::emulate::case::CaseOptions;
use rtmp_probe::emulate::{run_case_until, CaseResult};
use rtmp_probe::transcript::render::{colour_on_stdout, json_line, json_record_line, TextRenderer};

/// Run one client emulation against a server and explain the verdict.
///
/// Example: rtmp-probe probe rtmp://127.0.0.1:1935/live --profile wirecast --repeat 5
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// rtmp://host[:port]/app[/key]; without a key one is generated.
    url: String,
    /// The client to emulate (see `rtmp-probe profiles`).
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "profile_file",
        conflicts_with = "profile_file",
        value_parser = super::names::profiles(),
        hide_possible_values = true
    )]
    profile: Option<String>,
    /// A profile file to emulate instead (as `replay --export-profile` writes).
    #[arg(long, value_name = "FILE")]
    profile_file: Option<std::path::PathBuf>,
    /// How the client's bytes are segmented.
    #[arg(long, value_name = "NAME", default_value = "default", value_parser = super::names::variants(), hide_possible_values = true)]
    variant: String,
    /// Seconds of media to publish.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    duration: f64,
    /// Attempts; the verdict says how many failed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Write the session (what the client wrote and read) as a pcap file; with --repeat N,
    /// one file per attempt (NAME-1.pcap, ...).
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
    #[command(flatten)]
    timeouts: super::timeouts::TimeoutArgs,
}

pub fn run(args: ProbeArgs) -> anyhow::Result<i32> {
    let profile = match &args.profile_file {
        Some(path) => super::load_profile_file(path)?,
        None => super::names::profile_named(
            args.profile
                .as_deref()
                .expect("clap requires --profile without --profile-file"),
        )?,
    };
    let variant = super::names::variant_named(&args.variant)?;
    if let Some(path) = &args.pcap {
        super::output::check_creatable("--pcap", path)?;
    }
    let (target, key) = super::target::parse(&args.url)?;
    let json = super::output::JsonOut(args.json.open()?);
    let reach = super::target::reach();
    let mut options = args.timeouts.apply(CaseOptions::default());
    options.media_duration = super::seconds("--duration", args.duration)?;
    options.pcap = args.pcap.clone();
    options.reach = Some(reach.clone());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let (result, interrupted) = runtime.block_on(async {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        let interrupted = std::cell::Cell::new(false);
        let result = run_case_until(
            &profile,
            variant,
            &target,
            key.as_deref(),
            args.repeat,
            &options,
            async {
                interrupt.received().await;
                interrupted.set(true);
            },
        )
        .await;
        anyhow::Ok((result, interrupted.get()))
    })?;
    super::target::unreachable(&args.url, &reach)?;
    let Some(result) = result else {
        eprintln!("rtmp-probe: interrupted before the first attempt finished");
        return Ok(super::exit::INTERRUPTED);
    };
    let printed = print_result(&result, &args, &json).and_then(|()| {
        let note = format!(
            "interrupted: {} of {} finished",
            result.attempts,
            super::plural(args.repeat, "attempt")
        );
        match (interrupted, args.json.text_on_stdout()) {
            (false, _) => Ok(()),
            // JSON lines stay JSON; the note goes to stderr.
            (true, false) => {
                eprintln!("rtmp-probe: {note}");
                Ok(())
            }
            (true, true) => outln!("{note}"),
        }
    });
    super::interrupt::finish(
        interrupted,
        printed,
        super::exit::verdict(result.status.is_failure()),
    )
}

/// The worst attempt's transcript, then the verdict (a table row and observations, or JSON).
fn print_result(
    result: &CaseResult,
    args: &ProbeArgs,
    json: &super::output::JsonOut,
) -> anyhow::Result<()> {
    if let Some(worst) = &result.worst {
        for e in &worst.transcript.events {
            json.line(&json_line(e))?;
        }
        if args.json.text_on_stdout() {
            out!(
                "{}",
                TextRenderer {
                    colour: colour_on_stdout()
                }
                .render(&worst.transcript)
            )?;
        }
    }
    json.line(&json_record_line("case", result))?;
    if args.json.text_on_stdout() {
        outln!()?;
        out!(
            "{}",
            rtmp_probe::emulate::report::Table {
                colour: colour_on_stdout()
            }
            .render(std::slice::from_ref(result))
        )?;
        let o = &result.observations;
        outln!(
            "observations: handshake reads {:?} (gaps ms {:?}), S1 version {}, S1 digest {}, S2 {}, S2 before C2 {}, connect _result {} ms, server chunk size {}",
            o.handshake_reads,
            o.handshake_read_gaps_ms.iter().map(|g| (g * 10.0).round() / 10.0).collect::<Vec<_>>(),
            o.s1_version.as_deref().unwrap_or("-"),
            o.s1_digest.map(|d| d.to_string()).unwrap_or("-".into()),
            o.s2.map_or("-", |id| id.as_str()),
            o.s2_before_c2.map(|d| d.to_string()).unwrap_or("-".into()),
            o.connect_result_ms.map(|d| format!("{d:.1}")).unwrap_or("-".into()),
            o.server_chunk_size.map(|d| d.to_string()).unwrap_or("-".into()),
        )?;
        out!(
            "{}",
            rtmp_probe::emulate::report::basis(std::slice::from_ref(result))
        )?;
    }
    Ok(())
}
