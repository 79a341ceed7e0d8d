use anyhow::Context;
use clap::Args;
use rtmp_probe::transcript::diff::{diff, normalised};
use std::path::PathBuf;

/// Compare two transcripts and print what differs, as a unified diff.
///
/// Each file is a transcript written with --json (serve, probe, replay) or with --snapshot
/// (replay); both are brought to the normalised snapshot form first, so times, addresses and
/// peers' clocks do not count. Exits 0 when they are the same, 1 when they differ and 3 when a
/// file cannot be read or is not a transcript (the exit statuses of every subcommand).
///
/// Example: rtmp-probe diff before.jsonl after.jsonl
#[derive(Debug, Args)]
pub struct DiffArgs {
    a: PathBuf,
    b: PathBuf,
}

pub fn run(args: DiffArgs) -> anyhow::Result<i32> {
    let read = |p: &PathBuf| -> anyhow::Result<String> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        normalised(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
    };
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    match diff(
        &args.a.display().to_string(),
        &a,
        &args.b.display().to_string(),
        &b,
    ) {
        None => Ok(super::exit::PASSED),
        Some(d) => {
            out!("{d}")?;
            Ok(super::exit::FAILED)
        }
    }
}
