use anyhow::Context;
use clap::Args;
use rtmp_probe::capture::CaptureReader;
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
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The capture file (pcap or pcapng; the format is read from its first bytes).
    capture: PathBuf,
    /// Only this flow (numbered from 1 in order of appearance).
    #[arg(long)]
    flow: Option<usize>,
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
    if let Some(e) = error {
        eprintln!(
            "rtmp-probe: {}: {e} (the flows above were decoded up to there)",
            args.capture.display()
        );
        return Ok(1);
    }
    Ok(0)
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
                "media": {
                    "video_frames": flow.media.video_frames, "keyframes": flow.media.keyframes,
                    "audio_frames": flow.media.audio_frames,
                    "video_sequence_headers": flow.media.video_sequence_headers,
                    "audio_sequence_headers": flow.media.audio_sequence_headers,
                    "video_end_of_sequence": flow.media.video_end_of_sequence,
                },
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
