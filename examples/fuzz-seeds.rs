//! Regenerates the fuzz targets' seed corpora: a development tool, not part of the installed
//! command line (see fuzz/README.md).
//!
//!     cargo run --example fuzz-seeds                 # --captures captures --out fuzz/seeds
//!
//! Seeds come from every capture in --captures and from every emulator profile run once
//! against an in-process reference server on 127.0.0.1. Each target's directory under --out
//! is replaced.

use anyhow::Context;
use clap::Parser;
use rtmp_probe::fuzz_harness::seeds;
use std::path::PathBuf;

/// Regenerate the fuzz targets' seed corpora (see fuzz/README.md).
#[derive(Debug, Parser)]
#[command(name = "fuzz-seeds")]
struct Args {
    /// The project's own captures.
    #[arg(long, default_value = "captures")]
    captures: PathBuf,
    /// Where the seeds go, one directory per fuzz target.
    #[arg(long, default_value = "fuzz/seeds")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut all = seeds::Seeds::new();
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(&args.captures)
        .with_context(|| format!("reading {}", args.captures.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    pcaps.sort();
    for path in &pcaps {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        seeds::add_capture_seeds(&mut all, &format!("capture-{name}"), &bytes)
            .map_err(anyhow::Error::msg)?;
    }
    let scratch = std::env::temp_dir().join(format!("rtmp-probe-seeds-{}", std::process::id()));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let recorded = runtime.block_on(seeds::emulator_captures(&scratch));
    let _ = std::fs::remove_dir_all(&scratch);
    for (profile, pcap) in recorded.map_err(anyhow::Error::msg)? {
        seeds::add_capture_seeds(&mut all, &format!("emulator-{profile}"), &pcap)
            .map_err(anyhow::Error::msg)?;
    }
    let n = seeds::write_seeds(&args.out, &all)
        .with_context(|| format!("writing seeds under {}", args.out.display()))?;
    println!(
        "wrote {n} seed files for {} targets under {}",
        all.len(),
        args.out.display()
    );
    Ok(())
}
