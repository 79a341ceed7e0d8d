use anyhow::Context;
use clap::Args;
use rtmp_probe::capture::{sniff, Format};
use rtmp_probe::transcript::diff::{connections, diff_connections, not_a_transcript, Connection};
use std::path::PathBuf;

/// Compare two transcripts and print what differs, as a unified diff per connection.
///
/// Each file is a transcript written with --json (serve, probe, replay) or with --snapshot
/// (replay); both are brought to the normalised snapshot form first, so times, addresses,
/// ports and peers' clocks do not count, and a capture's --json equals its own --snapshot.
/// A file with several connections (a server's transcript, a capture's flows) is compared
/// connection by connection, in order, and the one that differs is named. Exits 0 when they
/// are the same, 1 when they differ, and 3 when a file cannot be read or is not a transcript
/// (a capture, a command's text output, a matrix's results, an empty file), saying what it
/// looks like.
///
/// Example: rtmp-probe diff before.jsonl after.jsonl
#[derive(Debug, Args)]
pub struct DiffArgs {
    a: PathBuf,
    b: PathBuf,
}

fn read(path: &PathBuf) -> anyhow::Result<Vec<Connection>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if let Some(format) = sniff(&bytes) {
        let kind = match format {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        };
        anyhow::bail!(
            "{}: not a transcript: it is a capture ({kind}); run `rtmp-probe replay --json {}` \
             first and diff its output",
            path.display(),
            path.display()
        );
    }
    let Ok(text) = String::from_utf8(bytes) else {
        anyhow::bail!("{}: not a transcript: it is binary data", path.display());
    };
    if let Some(what) = not_a_transcript(&text) {
        anyhow::bail!("{}: not a transcript: {what}", path.display());
    }
    connections(&text).map_err(|e| anyhow::anyhow!("{}: not a transcript: {e}", path.display()))
}

pub fn run(args: DiffArgs) -> anyhow::Result<i32> {
    let (a, b) = (read(&args.a)?, read(&args.b)?);
    match diff_connections(
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
