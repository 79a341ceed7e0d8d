//! The command line: clap definitions, one file per subcommand. They parse arguments and call
//! the library; nothing here knows RTMP.

#[macro_use]
mod output;

mod diff;
pub mod exit;
mod explain;
mod generated;
mod interrupt;
mod load;
mod matrix;
mod matrix_outputs;
mod names;
mod probe;
mod profiles;
mod progress;
mod replay;
mod serve;
mod target;
mod timeouts;

use clap::{Parser, Subcommand};

/// The longest time a seconds flag takes (about 11 days): longer ones would overflow the
/// clocks and counters they feed, and no test wants them.
const MAX_SECONDS: f64 = 1_000_000.0;

/// A positive number of seconds from a command-line flag.
fn seconds(flag: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero() && value <= MAX_SECONDS)
        .ok_or_else(|| {
            UsageError(format!(
                "{flag} must be a number of seconds above 0 and at most {MAX_SECONDS}, not {value}"
            ))
            .into()
        })
}

/// A clap value parser for a number from `min` to `max` that names the range when the value
/// is outside it.
fn number_in(
    min: f64,
    max: f64,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text: &str| match text.parse::<f64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number from {min} to {max}")),
    }
}

pub use exit::UsageError;

/// `1 connection`, `2 connections`: a count and its noun, in the right number.
fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A file named by `flag` (--profile-file, --personality-file): one that cannot be read could
/// not run (3); one that reads but is wrong is the user's to fix (2), with the line and field
/// named.
fn load_file<T>(
    flag: &str,
    path: &std::path::Path,
    parse: fn(&str) -> Result<T, rtmp_probe::toml_file::FileError>,
) -> anyhow::Result<T> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read it", path.display()))?;
    parse(&text).map_err(|e| {
        let located = rtmp_probe::toml_file::FileError {
            file: Some(path.to_path_buf()),
            ..e
        };
        UsageError(located.to_string()).into()
    })
}

fn load_profile_file(
    path: &std::path::Path,
) -> anyhow::Result<rtmp_probe::emulate::profile::Profile> {
    load_file(
        "--profile-file",
        path,
        rtmp_probe::emulate::profile_file::parse,
    )
}

fn load_personality_file(
    path: &std::path::Path,
) -> anyhow::Result<rtmp_probe::serve::personality::Personality> {
    load_file(
        "--personality-file",
        path,
        rtmp_probe::serve::personality_file::parse,
    )
}

/// RTMP interoperability testing and fuzzing.
#[derive(Debug, Parser)]
#[command(name = "rtmp-probe", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Serve(serve::ServeArgs),
    Probe(probe::ProbeArgs),
    Matrix(matrix::MatrixArgs),
    Profiles(profiles::ProfilesArgs),
    Replay(replay::ReplayArgs),
    Diff(diff::DiffArgs),
    Load(load::LoadArgs),
    Completions(generated::CompletionsArgs),
    Man(generated::ManArgs),
    Explain(explain::ExplainArgs),
}

/// The command line as clap sees it, each command's `--help` ending with its exit statuses;
/// parsing, completions and man pages all start from this.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut command = Cli::command().after_help(exit::help(None));
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(&name, |sub| sub.after_help(exit::help(Some(&name))));
    }
    command
}

impl Cli {
    /// Parses the process's arguments (exiting with clap's message and status 2 on an error).
    pub fn parse_args() -> Self {
        use clap::FromArgMatches;
        let matches = command().get_matches();
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// Runs the chosen subcommand; the returned code is the process exit status.
    pub fn run(self) -> anyhow::Result<i32> {
        match self.command {
            Command::Serve(args) => serve::run(args),
            Command::Probe(args) => probe::run(args),
            Command::Matrix(args) => matrix::run(args),
            Command::Profiles(args) => profiles::run(args),
            Command::Replay(args) => replay::run(args),
            Command::Diff(args) => diff::run(args),
            Command::Load(args) => load::run(args),
            Command::Completions(args) => generated::completions(args),
            Command::Man(args) => generated::man(args),
            Command::Explain(args) => explain::run(args),
        }
    }
}
