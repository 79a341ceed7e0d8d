use super::output::OutputFile;
use super::UsageError;
use anyhow::Context;
use clap::Args;
use rtmp_probe::capture::link::LinkError;
use rtmp_probe::capture::CaptureReader;
use rtmp_probe::emulate::infer::{closest_profile, export, ClientFacts};
use rtmp_probe::emulate::profile_file;
use rtmp_probe::replay::reenact::{self, AgainstOptions, AgainstReport, Speed};
use rtmp_probe::replay::{flow_listing, replay_read, FlowReport, Observer, Reading};
use rtmp_probe::transcript::render::{
    colour_on_stdout, json_event_line, json_record_line, snapshot, snapshot_framed, TextRenderer,
};
use rtmp_probe::transcript::StreamMedia;
use std::path::PathBuf;

/// Decode the RTMP sessions in a pcap or pcapng capture into transcripts.
///
/// Every TCP flow is reassembled; flows whose client starts with C0 = 3 are decoded (handshake
/// as each side wrote it, what the handshake shows, every message, a media summary,
/// diagnostics), each line with the capture frames that carried it; other flows are listed and
/// skipped. Audio and video messages are listed one by one with --media (and always in --json),
/// summarised otherwise. What the specification forbids but receivers read anyway (a chunk
/// stream opened without a type 0 header, a header repeated in the middle of a message) is
/// read as they did and named; --strict reads as the specification has it instead.
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
    #[arg(long, value_parser = flow_number)]
    flow: Option<usize>,
    /// Write the flow's client as an emulator profile (TOML) to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    export_profile: Option<PathBuf>,
    #[command(flatten)]
    json: super::output::JsonArg,
    /// The normalised form used for snapshot tests (no times).
    #[arg(long)]
    snapshot: bool,
    /// List every audio and video message (timestamp, delta, chunk and message stream, size,
    /// codec, frame type, sequence header), not only the media summary.
    #[arg(long)]
    media: bool,
    /// Read the chunk streams as the specification has it: a chunk stream opened without a
    /// type 0 header ends the decoding of its direction, a type 0/1/2 header in the middle of
    /// a message starts a new one, type-3 chunks after an extended timestamp carry it again.
    /// Without it, replay reads them as the receiving peers (FFmpeg, librtmp, nginx-rtmp) did.
    #[arg(long, conflicts_with = "against")]
    strict: bool,
    /// Re-enact the captured client (the first RTMP flow, or --flow) against this live server
    /// (rtmp://host[:port]/...; only host and port are used: the captured connect goes as it
    /// was) and print the live transcript and how it differs from the captured one.
    #[arg(long, value_name = "URL", conflicts_with = "export_profile")]
    against: Option<String>,
    /// With --against: how fast the captured pauses pass (1.0 = as captured, 2 = twice as
    /// fast, max = no pauses but the waits for the server's replies).
    #[arg(long, default_value = "1.0", requires = "against", value_parser = Speed::parse)]
    speed: Speed,
    /// With --against: seconds the TCP connect and the live server's handshake may take,
    /// counted from the connect.
    #[arg(long, value_name = "SECONDS", default_value = "10", requires = "against",
          value_parser = super::timeouts::timeout_seconds)]
    handshake_timeout: std::time::Duration,
    /// With --against: seconds to wait for each reply the captured server had sent before the
    /// client's next write; then the re-enactment goes on without it, as noted.
    #[arg(long, value_name = "SECONDS", default_value = "5", requires = "against",
          value_parser = super::timeouts::timeout_seconds)]
    reply_timeout: std::time::Duration,
    /// With --against: write the live connection, one frame per write or read, into this pcap
    /// file.
    #[arg(long, value_name = "FILE", requires = "against")]
    pcap: Option<PathBuf>,
    /// With --against: seed for the random bytes of a regenerated signed C2.
    #[arg(long, requires = "against")]
    seed: Option<u64>,
}

/// Flows are numbered from 1.
fn flow_number(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a flow number from 1 (flows are numbered from 1)".into()),
    }
}

pub fn run(args: ReplayArgs) -> anyhow::Result<i32> {
    args.json
        .check_stdout_shared("--export-profile", args.export_profile.as_deref())?;
    if args.json.on_stdout() && args.snapshot {
        return Err(UsageError(
            "--json and --snapshot both want standard output; give --json a file (--json=FILE)"
                .into(),
        )
        .into());
    }
    if args.against.is_some() {
        return run_against(args);
    }
    let (reader, size) = open_capture(&args.capture)?;
    let export_to = args
        .export_profile
        .as_deref()
        .map(|p| OutputFile::create("--export-profile", p))
        .transpose()?;
    let json = super::output::JsonOut(args.json.open()?);
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut skipped = Skipped::default();
    let reading = if args.strict {
        Reading::Specification
    } else {
        Reading::Receivers
    };
    let (flows, error) = replay_read(
        reader,
        reading,
        |offset| bar.set_position(offset),
        &mut skipped,
    );
    bar.finish_and_clear();
    let text = TextRenderer {
        colour: colour_on_stdout(),
    };
    if let Some(id) = args.flow {
        if error.is_none() && !flows.iter().any(|f| f.id == id) {
            return Err(UsageError(format!(
                "{}: no flow {id}; {}",
                args.capture.display(),
                capture_holds(&flows)
            ))
            .into());
        }
    }
    let chosen: Vec<&FlowReport> = flows
        .iter()
        .filter(|f| args.flow.is_none_or(|id| id == f.id))
        .collect();
    for flow in &chosen {
        print_flow(flow, &args, &text, &json)?;
    }
    skipped.report(&args.capture);
    if let Some(file) = export_to {
        if let Err(e) = export(&flows, &args, &file) {
            // The file was created before the run; a profile that could not be derived
            // leaves nothing behind.
            file.discard();
            return Err(e);
        }
    }
    if let Some(e) = error {
        eprintln!(
            "rtmp-probe: {}: {e} (the flows above were decoded up to there)",
            args.capture.display()
        );
        return Ok(super::exit::CANNOT_RUN);
    }
    // Nothing decoded is not a success: say what the capture holds instead.
    if !chosen.iter().any(|f| f.rtmp) {
        let what = match args.flow {
            Some(id) => format!("flow {id} is not RTMP"),
            None => "no RTMP flow".into(),
        };
        anyhow::bail!(
            "{}: {what}; {}",
            args.capture.display(),
            capture_holds(&flows)
        );
    }
    Ok(super::exit::PASSED)
}

/// What a capture holds, for errors about a flow it does not have: "the capture has 1 RTMP
/// flow: 1 (a -> b); not RTMP: 2 (c -> d)".
fn capture_holds(flows: &[FlowReport]) -> String {
    if flows.is_empty() {
        return "the capture holds no TCP flow".into();
    }
    let list = |rtmp: bool| {
        flows
            .iter()
            .filter(|f| f.rtmp == rtmp)
            .map(|f| format!("{} ({} -> {})", f.id, f.client, f.server))
            .collect::<Vec<_>>()
    };
    let (rtmp, other) = (list(true), list(false));
    let mut said = match rtmp.len() {
        0 => "the capture has no RTMP flow".to_string(),
        1 => format!("the capture has 1 RTMP flow: {}", rtmp[0]),
        n => format!("the capture has {n} RTMP flows: {}", rtmp.join(", ")),
    };
    if !other.is_empty() {
        said += &format!("; not RTMP: {}", other.join(", "));
    }
    said
}

/// The capture, its format sniffed, and its size for the progress bar. The reader buffers the
/// file itself (in blocks it lends frames from); a BufReader in between would copy every byte.
fn open_capture(path: &std::path::Path) -> anyhow::Result<(CaptureReader<std::fs::File>, u64)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader =
        CaptureReader::new(file).with_context(|| format!("reading capture {}", path.display()))?;
    Ok((reader, size))
}

/// Frames whose headers were damaged, told on stderr so that the transcripts stay clean.
#[derive(Default)]
struct Skipped {
    first: Vec<String>,
    count: u64,
}

impl Observer for Skipped {
    fn skipped(&mut self, frame: u64, offset: u64, error: &LinkError) {
        self.count += 1;
        if self.first.len() < 5 {
            self.first.push(format!(
                "frame {} (file offset {offset}): {error}",
                frame + 1
            ));
        }
    }
}

impl Skipped {
    fn report(&self, capture: &std::path::Path) {
        for line in &self.first {
            eprintln!("rtmp-probe: {}: skipped {line}", capture.display());
        }
        if self.count > self.first.len() as u64 {
            eprintln!(
                "rtmp-probe: {}: ... {} frames skipped in all",
                capture.display(),
                self.count
            );
        }
    }
}

/// Writes the profile of the chosen flow's client to `file`.
fn export(flows: &[FlowReport], args: &ReplayArgs, file: &OutputFile) -> anyhow::Result<()> {
    let flow = match args.flow {
        Some(id) => flows.iter().find(|f| f.id == id).ok_or_else(|| {
            UsageError(format!(
                "--export-profile: {} has no flow {id}; {}",
                args.capture.display(),
                flow_listing(flows)
            ))
        })?,
        None => flows.iter().find(|f| f.rtmp).ok_or_else(|| {
            UsageError(format!(
                "--export-profile: {} has no RTMP flow; {}",
                args.capture.display(),
                flow_listing(flows)
            ))
        })?,
    };
    let capture_name = args
        .capture
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| args.capture.display().to_string());
    let derived = export::derive(flow, &capture_name)
        .map_err(|e| UsageError(format!("--export-profile: {e}; {}", flow_listing(flows))))?;
    file.write(
        "--export-profile",
        &profile_file::to_toml(&derived.profile, &derived.notes),
    )?;
    if args.json.text_on_stdout() && !file.is_stdout() {
        outln!(
            "wrote profile {} (the client of flow {}) to {}",
            derived.profile.name,
            flow.id,
            args.export_profile
                .as_deref()
                .unwrap_or("-".as_ref())
                .display()
        )?;
    }
    Ok(())
}

fn print_flow(
    flow: &FlowReport,
    args: &ReplayArgs,
    text: &TextRenderer,
    json: &super::output::JsonOut,
) -> anyhow::Result<()> {
    let kind = if flow.rtmp {
        "RTMP"
    } else {
        "not RTMP, skipped"
    };
    let tunnel = flow
        .tunnel
        .map(|t| format!(" (inside {t:?})"))
        .unwrap_or_default();
    if json.is_set() {
        let line = serde_json::json!({
                "conn": flow.id, "client": flow.client.to_string(),
                "server": flow.server.to_string(), "rtmp": flow.rtmp,
                "client_bytes": flow.bytes.0, "server_bytes": flow.bytes.1,
                "client_messages": flow.messages.0, "server_messages": flow.messages.1,
                "media": StreamMedia::from(&flow.media),
                "closest_profile": closest_profile(&ClientFacts::of(flow)).map(|c| {
                    serde_json::json!({"name": c.name, "matching": c.matching, "traits": c.total, "differences": c.differences, "build": c.build})
                }),
        });
        json.line(&json_record_line("flow", &line))?;
        if flow.rtmp {
            for e in &flow.transcript.events {
                json.line(&json_event_line(flow.id as u64, e))?;
            }
        }
    }
    if !args.json.text_on_stdout() {
        return Ok(());
    }
    outln!(
        "flow {}: {} -> {}{tunnel}: {kind}; {} + {} bytes, {} + {} messages",
        flow.id,
        flow.client,
        flow.server,
        flow.bytes.0,
        flow.bytes.1,
        flow.messages.0,
        flow.messages.1
    )?;
    if !flow.rtmp {
        return Ok(());
    }
    if args.snapshot {
        out!("{}", snapshot_framed(&flow.transcript, args.media))?;
    } else {
        out!("{}", text.render_with_media(&flow.transcript, args.media))?;
    }
    if let Some(c) = closest_profile(&ClientFacts::of(flow)) {
        outln!(
            "closest emulator profile: {} ({} of {} traits match)",
            c.name,
            c.matching,
            c.total
        )?;
        if let Some(build) = c.build {
            outln!("    build: {build}")?;
        }
        for d in c.differences {
            outln!("    differs: {d}")?;
        }
    }
    outln!()
}

fn run_against(args: ReplayArgs) -> anyhow::Result<i32> {
    let url = args.against.as_deref().unwrap_or_default();
    let mut options = AgainstOptions::default();
    options.speed = args.speed;
    options.reply_timeout = args.reply_timeout;
    options.handshake_timeout = args.handshake_timeout;
    options.seed = args.seed;
    let (reader, _) = open_capture(&args.capture)?;
    let captured = reenact::load(reader, args.flow, |_| {}).map_err(|e| {
        let what = format!("re-enacting {}: {e}", args.capture.display());
        // A flow number the capture does not have is the user's to change (2); a capture
        // that cannot be read or holds no RTMP could not be run (3).
        match e {
            reenact::LoadError::NoSuchFlow { .. } => anyhow::Error::from(UsageError(what)),
            _ => anyhow::anyhow!(what),
        }
    })?;
    let (target, _) = super::target::parse(url)?;
    let json = super::output::JsonOut(args.json.open()?);
    options.pcap = super::output::create_pcap(args.pcap.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let mut interrupt = super::interrupt::Interrupt::install()?;
        // The re-enactment's own connection is the only one: a target it cannot reach is the
        // one line every command gives.
        reenact::against_until(captured, target.addr, &options, interrupt.received())
            .await
            .map_err(|why| anyhow::anyhow!("{url}: {why}"))
    });
    super::output::close_pcap(options.pcap.as_deref(), args.pcap.as_deref());
    let report = report?;
    // An interrupted re-enactment says so in its verdict line ("... writes sent: interrupted
    // before ...") and in the JSON's `stopped`.
    let printed = print_against(&report, &args, &json);
    super::interrupt::finish(
        report.interrupted,
        printed,
        super::exit::verdict(!report.completed()),
    )
}

fn print_against(
    report: &AgainstReport,
    args: &ReplayArgs,
    json: &super::output::JsonOut,
) -> anyhow::Result<()> {
    let (sent, total) = report.writes;
    let verdict = match &report.stopped {
        None => format!("all {total} of the client's writes sent"),
        Some(why) => format!("{sent} of {total} writes sent: {why}"),
    };
    if json.is_set() {
        let conn = report.captured.id as u64;
        for e in &report.live.transcript.events {
            json.line(&json_event_line(conn, e))?;
        }
        let line = serde_json::json!({
            "conn": conn, "server": report.target.to_string(),
            "writes_sent": sent, "writes": total, "completed": report.completed(),
            "stopped": report.stopped, "notes": report.notes, "diff": report.diff(),
        });
        json.line(&json_record_line("against", &line))?;
    }
    if !args.json.text_on_stdout() {
        return Ok(());
    }
    outln!(
        "flow {} of {} re-enacted against {}: {verdict}",
        report.captured.id,
        args.capture.display(),
        report.target
    )?;
    if args.snapshot {
        out!("{}", snapshot(&report.live.transcript))?;
    } else {
        let text = TextRenderer {
            colour: colour_on_stdout(),
        };
        out!("{}", text.render(&report.live.transcript))?;
    }
    for note in &report.notes {
        outln!("note: {note}")?;
    }
    match report.diff() {
        None => outln!("the live session's transcript is the captured one's"),
        Some(diff) => {
            outln!("differences from the captured session (normalised transcripts):")?;
            out!("{diff}")
        }
    }
}
