//! The command line: clap definitions, one file per subcommand. They parse arguments and call
//! the library; nothing here knows RTMP.

mod diff;
mod explain;
mod fuzz_seeds;
mod generated;
mod load;
mod matrix;
mod probe;
mod profiles;
mod progress;
mod replay;
mod serve;
mod timeouts;

use clap::{Parser, Subcommand};

/// A positive number of seconds from a command-line flag.
fn seconds(flag: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            UsageError(format!(
                "{flag} must be a positive number of seconds, not {value}"
            ))
            .into()
        })
}

/// An argument that parsed but makes no sense (an unknown personality, say); exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

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
    #[command(hide = true)]
    FuzzSeeds(fuzz_seeds::FuzzSeedsArgs),
}

impl Cli {
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
            Command::FuzzSeeds(args) => fuzz_seeds::run(args),
        }
    }
}
