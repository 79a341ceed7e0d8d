use super::matrix_outputs::{in_case_order, MatrixOutputs};
use super::progress::Progress;
use super::timeouts::TimeoutArgs;
use super::{names, UsageError};
use anyhow::Context;
use clap::Args;
use rtmp_probe::emulate::case::CaseOptions;
use rtmp_probe::emulate::memory;
use rtmp_probe::emulate::profile::{self, Profile};
use rtmp_probe::emulate::{report, run_cases, variant::Variant};
use rtmp_probe::serve::personality::Personality;
use rtmp_probe::transcript::render::colour_on_stdout;
use rtmp_probe::transcript::DiagnosticId;
use std::sync::Arc;

/// Run every client profile × segmentation variant against a server: a verdict per case.
///
/// Without a URL the built-in server runs in memory against the emulators, on a simulated
/// clock and wire: deterministic, no sockets, one attempt per case (--repeat and --jobs apply
/// to a URL only); `--personality ffmpeg` then reproduces FFmpeg ticket 6453 with nothing
/// installed.
///
/// A case is PROFILE/VARIANT (`wirecast/default`); `--list` shows them, `--case` picks some.
///
/// Example: rtmp-probe matrix --personality ffmpeg --case 'wirecast/*' --case obs/bytewise
#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// rtmp://host[:port]/app; omit to test the built-in server.
    url: Option<String>,
    /// Run only this case, PROFILE/VARIANT; `*`, `?` and `[...]` match within a part
    /// (`wirecast/*`, `*/bytewise`); repeatable. Applies to the cases that --profile and
    /// --variant leave.
    #[arg(long = "case", value_name = "ID", value_parser = names::cases(), hide_possible_values = true)]
    cases: Vec<String>,
    /// Print the ids of the cases that would run, one per line, and run none.
    #[arg(long)]
    list: bool,
    /// A built-in profile to run; repeatable, or several separated by commas (default: all,
    /// or none when --profile-file is given).
    #[arg(
        long = "profile",
        alias = "profiles",
        value_name = "NAME",
        value_delimiter = ',',
        value_parser = names::profiles(),
        hide_possible_values = true
    )]
    profiles: Vec<String>,
    /// A profile file to run as well (as `replay --export-profile` writes); repeatable.
    #[arg(long, value_name = "FILE")]
    profile_file: Vec<std::path::PathBuf>,
    /// A segmentation variant to run; repeatable, or several separated by commas (default:
    /// all).
    #[arg(
        long = "variant",
        alias = "variants",
        value_name = "NAME",
        value_delimiter = ',',
        value_parser = names::variants(),
        hide_possible_values = true
    )]
    variants: Vec<String>,
    /// Attempts per case; a case fails when any attempt fails.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    /// Cases run at once (cases mostly wait on the network and on media pacing, not the CPU).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=4096))]
    jobs: u16,
    /// Seconds of media each publishing case sends.
    #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
    duration: f64,
    /// The built-in server's personality (only without a URL; see `rtmp-probe serve
    /// --list-personalities`).
    #[arg(long, value_name = "NAME", value_parser = names::personalities(), hide_possible_values = true)]
    personality: Option<String>,
    /// A personality of your own for the built-in server, as a file (see README, "Personality
    /// files"), in place of --personality (only without a URL).
    #[arg(long, value_name = "FILE", conflicts_with = "personality")]
    personality_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// Write every case's connections, one flow each, into one pcap file (with a URL: the
    /// built-in server in memory makes no connections).
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
    /// Write the results as JUnit XML to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    junit: Option<std::path::PathBuf>,
    #[command(flatten)]
    timeouts: TimeoutArgs,
}

/// The cases among `profiles` × `variants` (in that order) that the `--case` patterns pick;
/// all of them without patterns. A pattern that picks nothing is a usage error naming it.
fn select_cases(
    profiles: &[Profile],
    variants: &[Variant],
    patterns: &[String],
) -> Result<Vec<(Profile, Variant)>, UsageError> {
    let all: Vec<(Profile, Variant)> = profiles
        .iter()
        .flat_map(|p| variants.iter().map(move |&v| (p.clone(), v)))
        .collect();
    if patterns.is_empty() {
        return Ok(all);
    }
    let id = |(p, v): &(Profile, Variant)| format!("{}/{v}", p.name);
    let mut picked = vec![false; all.len()];
    for pattern in patterns {
        let glob = glob::Pattern::new(pattern)
            .map_err(|e| UsageError(format!("--case '{pattern}' is not a valid pattern: {e}")))?;
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        let mut any = false;
        for (i, case) in all.iter().enumerate() {
            if glob.matches_with(&id(case), options) {
                picked[i] = true;
                any = true;
            }
        }
        if !any {
            return Err(UsageError(no_case_named(pattern, profiles, variants)));
        }
    }
    Ok(all
        .into_iter()
        .zip(picked)
        .filter_map(|(case, picked)| picked.then_some(case))
        .collect())
}

/// Why `--case pattern` picked nothing, as precisely as the pattern allows, with the case ids
/// closest to it.
fn no_case_named(pattern: &str, profiles: &[Profile], variants: &[Variant]) -> String {
    let see = "`rtmp-probe matrix --list` prints the case ids";
    let profile_names: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
    let variant_names: Vec<String> = variants.iter().map(|v| v.name().to_string()).collect();
    let meant = |ids: Vec<String>| match ids.len() {
        0 => String::new(),
        _ => format!("did you mean {}? ", ids.join(", ")),
    };
    let Some((profile, variant)) = pattern.split_once('/') else {
        let ids: Vec<String> = profile_names
            .iter()
            .flat_map(|p| variant_names.iter().map(move |v| format!("{p}/{v}")))
            .collect();
        let close = names::closest(pattern, &ids)
            .iter()
            .map(|s| s.to_string())
            .collect();
        return format!(
            "unknown case '{pattern}': a case id is PROFILE/VARIANT, e.g. wirecast/default; {}{see}",
            meant(close)
        );
    };
    let literal = |part: &str| !part.contains(['*', '?', '[']);
    if literal(profile) && !profile_names.iter().any(|p| p == profile) {
        let close = names::closest(profile, &profile_names)
            .iter()
            .map(|p| format!("{p}/{variant}"))
            .collect();
        return format!(
            "unknown case '{pattern}': no profile '{profile}' in this run; {}{see}",
            meant(close)
        );
    }
    if literal(variant) && !variant_names.iter().any(|v| v == variant) {
        let close = names::closest(variant, &variant_names)
            .iter()
            .map(|v| format!("{profile}/{v}"))
            .collect();
        return format!(
            "unknown case '{pattern}': no variant '{variant}' in this run; {}{see}",
            meant(close)
        );
    }
    format!("--case '{pattern}' matches no case; {see}")
}

pub fn run(args: MatrixArgs) -> anyhow::Result<i32> {
    let mut profiles = if args.profiles.is_empty() && args.profile_file.is_empty() {
        profile::all()
    } else {
        args.profiles
            .iter()
            .map(|n| names::profile_named(n))
            .collect::<Result<Vec<_>, _>>()?
    };
    for path in &args.profile_file {
        profiles.push(super::load_profile_file(path)?);
    }
    // A name given twice (`--profile obs --profile obs,ffmpeg`) is one set of cases.
    let mut seen = std::collections::HashSet::new();
    profiles.retain(|p| seen.insert(p.name.clone()));
    let mut variants = if args.variants.is_empty() {
        Variant::ALL.to_vec()
    } else {
        args.variants
            .iter()
            .map(|v| names::variant_named(v))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut seen = std::collections::HashSet::new();
    variants.retain(|v| seen.insert(*v));
    if args.url.is_some() && (args.personality.is_some() || args.personality_file.is_some()) {
        let flag = if args.personality.is_some() {
            "--personality"
        } else {
            "--personality-file"
        };
        return Err(UsageError(format!(
            "{flag} applies to the built-in server, which runs only without a URL"
        ))
        .into());
    }
    let cases = select_cases(&profiles, &variants, &args.cases)?;
    if args.list {
        for (p, v) in &cases {
            outln!("{}/{v}", p.name)?;
        }
        return Ok(0);
    }
    let mut options = args.timeouts.apply(CaseOptions::default());
    options.media_duration = super::seconds("--duration", args.duration)?;
    let Some(url) = args.url.clone() else {
        if args.pcap.is_some() {
            return Err(UsageError(
                "--pcap records connections over TCP; without a URL the built-in server runs in \
                 memory and there are none (give the URL of a server, e.g. one `rtmp-probe serve` \
                 runs)"
                    .into(),
            )
            .into());
        }
        let personality = built_in_server(&args)?;
        let outputs = MatrixOutputs::create(args.json.path.as_deref(), args.junit.as_deref())?;
        return in_memory(&personality, &cases, &options, outputs);
    };
    if args.json.on_stdout() && !url.contains("://") {
        return Err(UsageError(format!(
            "'{url}' is not an rtmp:// URL; for a file of --json, write --json={url} (the file \
             goes with `=`)"
        ))
        .into());
    }
    let (target, _) = super::target::parse(&url)?;
    let outputs = MatrixOutputs::create(args.json.path.as_deref(), args.junit.as_deref())?;
    let pcap = super::output::create_pcap(args.pcap.as_deref())?;
    options.pcap_shared = pcap.clone();
    let reach = super::target::reach();
    options.reach = Some(reach.clone());
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        let total = cases.len();
        let progress = Progress::new(total);
        let tick = progress.clone();
        let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
        let finished_here = finished.clone();
        let reach_here = reach.clone();
        let run = run_cases(
            &target,
            &cases,
            args.repeat,
            args.jobs.into(),
            &options,
            move |r| {
                // Cases not tried because the first connection found nothing are no progress.
                if reach_here.unreachable().is_none() {
                    tick.case_done(r);
                }
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
                (in_case_order(done, &cases), true)
            }
        };
        progress.finish();
        super::output::close_pcap(pcap.as_deref(), args.pcap.as_deref());
        super::target::unreachable(&url, &reach)?;
        let note = stopped_accepting_note(&results, reach.accepted());
        report_results(&outputs, &url, &results, interrupted.then_some(total), note)
    })
}

/// Prints the table, how each profile is known and the summary, and writes the --json and
/// --junit files (even when standard output has closed: nothing measured is lost). With
/// `interrupted` (the number of cases the run had), says how many finished.
fn report_results(
    outputs: &MatrixOutputs,
    shown: &str,
    results: &[rtmp_probe::emulate::CaseResult],
    interrupted: Option<usize>,
    note: Option<String>,
) -> anyhow::Result<i32> {
    let table = report::Table {
        colour: colour_on_stdout() && !outputs.stdout_taken(),
    }
    .render(results);
    let basis = report::basis(results);
    let mut shown_table = outputs.say(&format!("target: {shown}\n\n{table}\n{basis}"));
    if let Some(note) = note {
        shown_table = shown_table.and_then(|()| outputs.say(&format!("\n{note}")));
    }
    if let Some(total) = interrupted {
        shown_table = shown_table.and_then(|()| {
            outputs.say(&format!(
                "interrupted: {} of {} finished\n",
                results.len(),
                super::plural(total as u64, "case")
            ))
        });
    }
    outputs.write(shown, results, interrupted.is_some())?;
    let failed = results.iter().any(|r| r.status.is_failure());
    let printed =
        shown_table.and_then(|()| outputs.say(&format!("\n{}\n", report::summary(results))));
    super::interrupt::finish(interrupted.is_some(), printed, super::exit::verdict(failed))
}

/// The personality of the built-in server: --personality-file's, --personality's, or the
/// reference.
fn built_in_server(args: &MatrixArgs) -> anyhow::Result<Personality> {
    if let Some(path) = &args.personality_file {
        return super::load_personality_file(path);
    }
    let name = args.personality.as_deref().unwrap_or("reference");
    Ok(names::personality_named(name)?)
}

/// The matrix without a URL: every case against the built-in server in memory.
fn in_memory(
    personality: &Personality,
    cases: &[(Profile, Variant)],
    options: &CaseOptions,
    outputs: MatrixOutputs,
) -> anyhow::Result<i32> {
    let name = personality.name;
    let progress = Progress::new(cases.len());
    let mut options = options.clone();
    options.seed = options.seed.or(Some(1));
    let results = memory::run_cases(personality, cases, &options, |r| progress.case_done(r));
    progress.finish();
    let shown = format!("built-in server in memory, personality {name}");
    report_results(&outputs, &shown, &results, None, None)
}

/// When cases could not connect after the server had accepted others of this run, one line
/// that says so: the server stopped accepting, it was not missing (a one-connection server such
/// as `ffmpeg -listen 1` serves the first case and exits).
fn stopped_accepting_note(
    results: &[rtmp_probe::emulate::CaseResult],
    accepted: u64,
) -> Option<String> {
    let refused = results
        .iter()
        .filter(|r| {
            r.diagnosis
                .iter()
                .any(|f| f.id == DiagnosticId::TcpStoppedAccepting)
        })
        .count();
    (refused > 0).then(|| {
        let connections = if accepted == 1 {
            "connection"
        } else {
            "connections"
        };
        let cases = if refused == 1 { "case" } else { "cases" };
        format!(
            "the server stopped accepting after {accepted} {connections} of this run: {refused} \
             {cases} could not connect to it\n"
        )
    })
}
