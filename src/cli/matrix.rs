use super::matrix_outputs::{in_case_order, MatrixOutputs};
use super::UsageError;
use anyhow::Context;
use clap::Args;
use rtmp_probe::emulate::case::CaseOptions;
use rtmp_probe::emulate::profile::{self, Profile};
use rtmp_probe::emulate::{report, run_matrix, variant::Variant};
use rtmp_probe::serve::{personality, CollectSink, ServeOptions, Server};
use std::sync::Arc;

/// Run every client profile × segmentation variant against a server: a verdict per case.
///
/// Without a URL the built-in server is started in-process on an ephemeral port;
/// `--personality ffmpeg` then reproduces FFmpeg ticket 6453 with nothing installed.
///
/// Example: rtmp-probe matrix --personality ffmpeg --profiles wirecast,obs --variants default
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// rtmp://host[:port]/app; omit to test the built-in server.
    url: Option<String>,
    /// Comma-separated profiles (default: all, or none when --profile-file is given).
    #[arg(long, value_delimiter = ',')]
    profiles: Vec<String>,
    /// A profile file to run as well (as `replay --export-profile` writes); repeatable.
    #[arg(long, value_name = "FILE")]
    profile_file: Vec<std::path::PathBuf>,
    /// Comma-separated variants (default: all).
    #[arg(long, value_delimiter = ',')]
    variants: Vec<String>,
    /// Attempts per case; a case fails when any attempt fails.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    /// Cases run at once (cases mostly wait on the network and on media pacing, not the CPU).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=4096))]
    jobs: u16,
    /// Seconds of media each publishing case sends.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// The built-in server's personality (only without a URL).
    #[arg(long)]
    personality: Option<String>,
    /// Write the results as JSON to this file (`-`: standard output, the table then goes to
    /// standard error).
    #[arg(long, value_name = "FILE")]
    json: Option<std::path::PathBuf>,
    /// Write the results as JUnit XML to this file (`-` as for --json).
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
}

/// The built-in profile called `name`, or a usage error listing them all.
pub(super) fn profile_named(name: &str) -> Result<Profile, UsageError> {
    profile::by_name(name).ok_or_else(|| {
        let names: Vec<_> = profile::all().into_iter().map(|p| p.name).collect();
        UsageError(format!(
            "unknown profile '{name}'; choose one of: {}",
            names.join(", ")
        ))
    })
}

pub(super) fn variant(name: &str) -> anyhow::Result<Variant> {
    Variant::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
        UsageError(format!(
            "unknown variant '{name}'; choose one of: {}",
            names.join(", ")
        ))
        .into()
    })
}

pub fn run(args: MatrixArgs) -> anyhow::Result<i32> {
    let mut profiles = if args.profiles.is_empty() && args.profile_file.is_empty() {
        profile::all()
    } else {
        args.profiles
            .iter()
            .map(|n| profile_named(n))
            .collect::<Result<Vec<_>, _>>()?
    };
    for path in &args.profile_file {
        profiles.push(super::load_profile_file(path)?);
    }
    let variants = if args.variants.is_empty() {
        Variant::ALL.to_vec()
    } else {
        args.variants
            .iter()
            .map(|v| variant(v))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    if args.url.is_some() && args.personality.is_some() {
        return Err(UsageError(
            "--personality applies to the built-in server, which runs only without a URL".into(),
        )
        .into());
    }
    let options = CaseOptions {
        media_duration: super::seconds("--duration", args.duration)?,
        ..CaseOptions::default()
    };
    let outputs = MatrixOutputs::create(args.json.as_deref(), args.junit.as_deref())?;
    if let Some(url) = &args.url {
        super::target::parse_reachable(url)?;
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        let (url, _server) = match &args.url {
            Some(url) => (url.clone(), None),
            None => {
                let name = args.personality.as_deref().unwrap_or("reference");
                let personality = personality::by_name(name)
                    .ok_or_else(|| UsageError(format!("unknown personality '{name}'")))?;
                let server = Server::bind(
                    ServeOptions {
                        listen: ([127, 0, 0, 1], 0).into(),
                        personality,
                        ..ServeOptions::default()
                    },
                    Arc::new(CollectSink::default()),
                )
                .await
                .context("starting the built-in server")?;
                let addr = server.local_addr()?;
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let task = tokio::spawn(server.run(async {
                    let _ = stopped.await;
                }));
                (
                    format!("rtmp://{addr}/live"),
                    Some((stop, task, name.to_string())),
                )
            }
        };
        let (target, _) = super::target::parse(&url)?;
        let total = (profiles.len() * variants.len()) as u64;
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let tick = bar.clone();
        let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
        let finished_here = finished.clone();
        let run = run_matrix(
            &target,
            &profiles,
            &variants,
            args.repeat,
            args.jobs.into(),
            &options,
            move |r| {
                tick.set_message(r.id.clone());
                tick.inc(1);
                if let Ok(mut f) = finished_here.lock() {
                    f.push(r.clone());
                }
            },
        );
        // On Ctrl-C the cases under way are dropped; those that finished are reported.
        let (results, interrupted) = tokio::select! {
            results = run => (results, false),
            () = interrupt.received() => {
                let done = finished.lock().map(|f| f.clone()).unwrap_or_default();
                (in_case_order(done, &profiles, &variants), true)
            }
        };
        bar.finish_and_clear();
        let shown = match &_server {
            Some((_, _, name)) => format!("{url} (built-in server, personality {name})"),
            None => url.clone(),
        };
        // Written even when standard output has closed: nothing measured is lost.
        let mut shown_table =
            outputs.say(&format!("target: {shown}\n\n{}", report::table(&results)));
        if interrupted {
            shown_table = shown_table.and_then(|()| {
                outputs.say(&format!(
                    "interrupted: {} of {total} cases finished\n",
                    results.len()
                ))
            });
        }
        outputs.write(&shown, &results, interrupted)?;
        if let Some((stop, task, _)) = _server {
            let _ = stop.send(());
            let _ = task.await;
        }
        let failed = results.iter().filter(|r| r.status.is_failure()).count();
        let printed = shown_table
            .and_then(|()| outputs.say(&format!("\n{} cases, {failed} failed\n", results.len())));
        super::interrupt::finish(interrupted, printed, super::exit::verdict(failed > 0))
    })
}
