use super::UsageError;
use anyhow::Context;
use clap::Args;
use rtmp_probe::capture::CaptureReader;
use rtmp_probe::emulate::{from_capture, profile_file};
use rtmp_probe::replay::{closest_profile, replay, FlowReport};
use rtmp_probe::transcript::render::{colour_on_stdout, json_line, snapshot, TextRenderer};
use std::path::PathBuf;

/// Decode the RTMP sessions in a pcap or pcapng capture into transcripts.
///
/// Every TCP flow is reassembled; flows whose client starts with C0 = 3 are decoded (handshake
/// as each side wrote it, what the handshake shows, every message but individual media frames,
/// a media summary, diagnostics); other flows are listed and skipped.
///
/// Example: rtmp-probe replay session.pcapng --flow 1
///
/// With --export-profile FILE, the client of the chosen flow (--flow, else the first RTMP
/// flow) is also written as an emulator profile that `probe --profile-file FILE` runs.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The capture file (pcap or pcapng; the format is read from its first bytes).
    capture: PathBuf,
    /// Only this flow (numbered from 1 in order of appearance).
    #[arg(long)]
    flow: Option<usize>,
    /// Write the flow's client as an emulator profile (TOML) to FILE.
    #[arg(long, value_name = "FILE")]
    export_profile: Option<PathBuf>,
    /// One JSON object per event per line, each with its flow number.
    #[arg(long, conflicts_with = "snapshot")]
    json: bool,
    /// The normalised form used for snapshot tests (no times).
    #[arg(long)]
    snapshot: bool,
}

pub fn run(args: ReplayArgs) -> anyhow::Result<i32> {
    let file = std::fs::File::open(&args.capture)
        .with_context(|| format!("opening {}", args.capture.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = CaptureReader::new(std::io::BufReader::with_capacity(1 << 20, file))
        .with_context(|| format!("reading capture {}", args.capture.display()))?;
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (flows, error) = replay(reader, |offset| bar.set_position(offset));
    bar.finish_and_clear();
    let text = TextRenderer {
        colour: colour_on_stdout(),
    };
    for flow in flows
        .iter()
        .filter(|f| args.flow.is_none_or(|id| id == f.id))
    {
        print_flow(flow, &args, &text);
    }
    if let Some(path) = &args.export_profile {
        export(&flows, &args, path)?;
    }
    if let Some(e) = error {
        eprintln!(
            "rtmp-probe: {}: {e} (the flows above were decoded up to there)",
            args.capture.display()
        );
        return Ok(1);
    }
    Ok(0)
}

/// Writes the profile of the chosen flow's client to `path`.
fn export(flows: &[FlowReport], args: &ReplayArgs, path: &std::path::Path) -> anyhow::Result<()> {
    let listing = || {
        let all: Vec<String> = flows
            .iter()
            .map(|f| {
                format!(
                    "{} ({} -> {}, {})",
                    f.id,
                    f.client,
                    f.server,
                    if f.rtmp { "RTMP" } else { "not RTMP" }
                )
            })
            .collect();
        if all.is_empty() {
            "the capture holds no TCP flow".to_string()
        } else {
            format!("the flows are: {}", all.join(", "))
        }
    };
    let flow = match args.flow {
        Some(id) => flows.iter().find(|f| f.id == id).ok_or_else(|| {
            UsageError(format!(
                "--export-profile: {} has no flow {id}; {}",
                args.capture.display(),
                listing()
            ))
        })?,
        None => flows.iter().find(|f| f.rtmp).ok_or_else(|| {
            UsageError(format!(
                "--export-profile: {} has no RTMP flow; {}",
                args.capture.display(),
                listing()
            ))
        })?,
    };
    let capture_name = args
        .capture
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.capture.display().to_string());
    let derived = from_capture::derive(flow, &capture_name)
        .map_err(|e| UsageError(format!("--export-profile: {e}; {}", listing())))?;
    std::fs::write(
        path,
        profile_file::to_toml(&derived.profile, &derived.notes),
    )
    .with_context(|| format!("writing the profile to {}", path.display()))?;
    if !args.json {
        println!(
            "wrote profile {} (the client of flow {}) to {}",
            derived.profile.name,
            flow.id,
            path.display()
        );
    }
    Ok(())
}

fn print_flow(flow: &FlowReport, args: &ReplayArgs, text: &TextRenderer) {
    let kind = if flow.rtmp {
        "RTMP"
    } else {
        "not RTMP, skipped"
    };
    let tunnel = flow
        .tunnel
        .map(|t| format!(" (inside {t:?})"))
        .unwrap_or_default();
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "event": "flow", "flow": flow.id, "client": flow.client.to_string(),
                "server": flow.server.to_string(), "rtmp": flow.rtmp,
                "client_bytes": flow.bytes.0, "server_bytes": flow.bytes.1,
                "client_messages": flow.messages.0, "server_messages": flow.messages.1,
                "closest_profile": closest_profile(&flow.client_facts).map(|(name, matching, total, differences)| {
                    serde_json::json!({"name": name, "matching": matching, "traits": total, "differences": differences})
                }),
            })
        );
        if flow.rtmp {
            for e in &flow.transcript.events {
                println!(
                    "{{\"flow\":{},{}",
                    flow.id,
                    json_line(e).trim_start_matches('{')
                );
            }
        }
        return;
    }
    println!(
        "flow {}: {} -> {}{tunnel}: {kind}; {} + {} bytes, {} + {} messages",
        flow.id,
        flow.client,
        flow.server,
        flow.bytes.0,
        flow.bytes.1,
        flow.messages.0,
        flow.messages.1
    );
    if !flow.rtmp {
        return;
    }
    if args.snapshot {
        print!("{}", snapshot(&flow.transcript));
    } else {
        print!("{}", text.render(&flow.transcript));
    }
    if let Some((name, matching, total, differences)) = closest_profile(&flow.client_facts) {
        println!("closest emulator profile: {name} ({matching} of {total} traits match)");
        for d in differences {
            println!("    differs: {d}");
        }
    }
    println!();
}
