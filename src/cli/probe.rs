use anyhow::Context;
use clap::Args;
use rtmp_probe::emulate::case::{CaseOptions, LiveTranscript};
use rtmp_probe::emulate::{run_case_until, CaseResult, CaseRun};
use rtmp_probe::transcript::render::{
    colour_on_stdout, json_event_line, json_line, json_record_line, TextRenderer,
};
use rtmp_probe::transcript::Event;
use std::sync::{Arc, Mutex};

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
    /// The transcript as JSON lines as it happens (with --repeat, `conn` is the attempt's
    /// number), then the result as JSON.
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
    let json = super::output::JsonOut(args.json.open()?);
    let (target, key) = super::target::parse(&args.url)?;
    let reach = super::target::reach();
    let mut options = args.timeouts.apply(CaseOptions::default());
    options.media_duration = super::seconds("--duration", args.duration)?;
    options.pcap = args.pcap.clone();
    options.reach = Some(reach.clone());
    let live = Arc::new(Live {
        json,
        text: args.json.text_on_stdout(),
        colour: colour_on_stdout(),
        numbered: args.repeat > 1,
        failed: Mutex::new(None),
    });
    options.live = Some(LiveTranscript::new({
        let live = live.clone();
        move |attempt, event| live.show(attempt, event)
    }));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let (run, interrupted) = runtime.block_on(async {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        let interrupted = std::cell::Cell::new(false);
        let run = run_case_until(
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
        anyhow::Ok((run, interrupted.get()))
    })?;
    super::target::unreachable(&args.url, &reach)?;
    let printed = live
        .failed()
        .and_then(|()| print_run(&run, &args, &live.json));
    let verdict = run
        .finished
        .as_ref()
        .or(run.interrupted.as_ref().map(|i| &i.result))
        .is_some_and(|r| r.status.is_failure());
    super::interrupt::finish(interrupted, printed, super::exit::verdict(verdict))
}

/// Prints each event of the transcript as it happens; with several attempts, each line says
/// whose it is (`[2]` in text, `conn` in JSON, as serve numbers its connections).
struct Live {
    /// Where JSON lines go (standard output, a file, or nowhere).
    json: super::output::JsonOut,
    /// Whether the text goes to standard output (without --json, or with --json=FILE).
    text: bool,
    colour: bool,
    numbered: bool,
    /// The first failure to print (standard output closed): later lines are not tried.
    failed: Mutex<Option<anyhow::Error>>,
}

impl Live {
    fn show(&self, attempt: u32, event: &Event) {
        let Ok(mut failed) = self.failed.lock() else {
            return;
        };
        if failed.is_some() {
            return;
        }
        if self.json.is_set() {
            let line = if self.numbered {
                json_event_line(u64::from(attempt), event)
            } else {
                json_line(event)
            };
            if let Err(e) = self.json.line(&line) {
                *failed = Some(e);
                return;
            }
        }
        if self.text {
            let line = TextRenderer {
                colour: self.colour,
            }
            .line(event);
            let printed = if self.numbered {
                outln!("[{attempt}] {line}")
            } else {
                outln!("{line}")
            };
            if let Err(e) = printed {
                *failed = Some(e);
            }
        }
    }

    /// Whether every line went out.
    fn failed(&self) -> anyhow::Result<()> {
        match self.failed.lock().ok().and_then(|mut f| f.take()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// After the live transcript: the verdict of the attempts that finished (or, when none had,
/// of the one interrupted, so far), and what an interrupt left unfinished.
fn print_run(run: &CaseRun, args: &ProbeArgs, json: &super::output::JsonOut) -> anyhow::Result<()> {
    let shown = run
        .finished
        .as_ref()
        .or(run.interrupted.as_ref().map(|i| &i.result));
    if let Some(result) = shown {
        print_result(result, args, json)?;
    }
    let Some(stopped) = &run.interrupted else {
        return Ok(());
    };
    let finished = run.finished.as_ref().map_or(0, |r| r.attempts);
    let stage = stopped
        .result
        .stage
        .map_or_else(String::new, |s| format!(" during {s}"));
    let note = format!(
        "interrupted: {finished} of {} finished; attempt {} was stopped{stage} (its \
         transcript ends with case.interrupted)",
        super::plural(args.repeat, "attempt"),
        stopped.attempt
    );
    if !args.json.text_on_stdout() {
        // JSON lines stay JSON; the note goes to stderr.
        eprintln!("rtmp-probe: {note}");
        Ok(())
    } else {
        outln!("{note}")
    }
}

/// The verdict (a table row and observations, or JSON) after the transcript printed live.
fn print_result(
    result: &CaseResult,
    args: &ProbeArgs,
    json: &super::output::JsonOut,
) -> anyhow::Result<()> {
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
