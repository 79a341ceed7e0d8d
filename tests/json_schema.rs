//! Every `--json` line of serve (a real FFmpeg publish), probe, matrix, replay (a capture in
//! captures/, and --against) and load follows schema/transcript.schema.json, and together they
//! write every kind of line the schema names.

mod support;

use rtmp_probe::transcript::render::JSON_SCHEMA;
use rtmp_probe::transcript::DiagnosticId;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use support::{
    ffmpeg_publish, rtmp_probe, run_bounded, trials::Need, Running, UnreadServe, QUICK_MATRIX,
};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(JSON_SCHEMA).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("the schema is a valid 2020-12 schema")
}

/// The lines of `output`, each checked against the schema; fails on the first that is not
/// JSON or does not validate, and when there is no line at all.
fn checked_lines(validator: &jsonschema::Validator, what: &str, output: &str) -> Vec<Value> {
    let mut lines = Vec::new();
    for (i, line) in output.lines().enumerate() {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{what}, line {}: not JSON ({e}): {line}", i + 1));
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}, line {}: {line}\n{}",
            i + 1,
            errors.join("\n")
        );
        lines.push(value);
    }
    assert!(!lines.is_empty(), "{what} wrote no JSON lines");
    lines
}

fn events(lines: &[Value]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| l["event"].as_str().map(str::to_string))
        .collect()
}

/// `serve --json` while FFmpeg publishes for a second, stopped with SIGTERM.
fn serve_output() -> String {
    let serve = UnreadServe::start(&["--json", "--seed", "3"]);
    let url = format!("rtmp://{}/live/schema", serve.addr);
    let (ok, stderr) = run_bounded(ffmpeg_publish(&url, 1), Duration::from_secs(20));
    assert!(ok, "ffmpeg failed: {stderr}");
    let (code, out) = serve.stop_and_read(Duration::from_secs(5));
    assert_eq!(code, 0, "serve stopped by SIGTERM");
    out
}

fn every_json_line_of_every_command_follows_the_schema() {
    let validator = validator();
    let mut seen = BTreeSet::new();

    // serve, with a real FFmpeg publishing.
    {
        let out = serve_output();
        let lines = checked_lines(&validator, "serve --json", &out);
        let kinds = events(&lines);
        for kind in [
            "server",
            "connected",
            "handshake",
            "message",
            "media_summary",
            "closed",
        ] {
            assert!(
                kinds.contains(kind),
                "serve wrote no {kind} line: {kinds:?}"
            );
        }
        assert!(
            lines
                .iter()
                .filter(|l| l["event"] != "server")
                .all(|l| l["conn"].is_u64()),
            "every connection line of serve has conn"
        );
        assert!(
            lines
                .iter()
                .filter(|l| l["event"] == "handshake")
                .all(|l| l["observation"]["kind"].is_string()
                    && l["observation"]["kind"] != "described"),
            "serve's handshake lines carry the codec's fields"
        );
        let connect = lines
            .iter()
            .find(|l| l["event"] == "message" && l["content"]["name"] == "connect")
            .expect("serve saw FFmpeg's connect");
        assert_eq!(connect["content"]["kind"], "command");
        assert_eq!(connect["content"]["transaction_id"], 1.0);
        assert!(
            connect["content"]["command_object"]["app"].is_string(),
            "connect's command object is a JSON object: {connect}"
        );
        let media = lines
            .iter()
            .find(|l| l["event"] == "media_summary")
            .expect("serve summarised FFmpeg's stream");
        assert!(
            media["media"]["video_frames"].as_u64() > Some(0)
                && media["media"]["video_codec"].is_string(),
            "serve's media summary carries figures: {media}"
        );
        seen.extend(kinds);
    }

    // serve whose output nobody reads while a load runs: it drops lines and says how many.
    let unread = UnreadServe::start(&["--json"]);
    unread.flood();
    let (code, out) = unread.stop_and_read(Duration::from_secs(60));
    assert_eq!(code, 0, "serve stopped by SIGTERM");
    let lines = checked_lines(&validator, "serve --json, output not read", &out);
    let dropped: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "output_dropped")
        .collect();
    assert!(
        dropped.iter().any(|l| l["in_all"] == false),
        "no output_dropped line while serving: {dropped:?}"
    );
    let in_all = dropped.last().expect("an output_dropped line");
    assert_eq!(
        in_all["in_all"], true,
        "the last one is the run's: {in_all}"
    );
    assert_eq!(lines.last(), Some(*in_all), "and the last line");
    assert_eq!(in_all["id"], DiagnosticId::ServeOutputDropped.as_str());
    let by_connection: u64 = in_all["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| c["lines"].as_u64().expect("lines"))
        .sum();
    assert_eq!(
        in_all["lines"].as_u64(),
        Some(by_connection + in_all["server_lines"].as_u64().expect("server_lines")),
        "{in_all}"
    );
    seen.extend(events(&lines));

    let server = Running::start(rtmp_probe::serve::ServeOptions::default());
    let url = server.url("schema");

    let (code, out, _) = rtmp_probe(&[
        "probe",
        &url,
        "--profile",
        "obs",
        "--duration",
        "0.3",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let lines = checked_lines(&validator, "probe --json", &out);
    assert_eq!(
        lines.last().unwrap()["event"],
        "case",
        "probe's last line is the case"
    );
    seen.extend(events(&lines));

    let (code, out, _) = rtmp_probe(&[
        "load",
        &url,
        "--connections",
        "2",
        "--total",
        "3",
        "--run-time",
        "10",
        "--json",
    ]);
    assert_eq!(code, 0, "{out}");
    let lines = checked_lines(&validator, "load --json", &out);
    assert_eq!(lines.len(), 1);
    seen.extend(events(&lines));

    let capture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/captures/ffmpeg-publish-to-nginx.pcap"
    );
    let (code, out, _) = rtmp_probe(&["replay", capture, "--json"]);
    assert_eq!(code, 0, "{out}");
    let lines = checked_lines(&validator, "replay --json", &out);
    let flow = lines
        .iter()
        .find(|l| l["event"] == "flow")
        .expect("a flow line");
    assert!(
        lines
            .iter()
            .filter(|l| !matches!(l["event"].as_str(), Some("flow")))
            .all(|l| l["conn"] == flow["conn"]),
        "the flow's events carry its number as conn"
    );
    // Every audio and video message is a media line, in wire order, with its frames; every
    // message and media line names the capture frames that carried it.
    let media: Vec<&Value> = lines.iter().filter(|l| l["event"] == "media").collect();
    assert!(media.len() > 50, "{} media lines", media.len());
    let first_video = media.iter().find(|l| l["kind"] == "video").expect("video");
    assert_eq!(
        (
            &first_video["codec"],
            &first_video["frame_type"],
            &first_video["sequence_header"]
        ),
        (&"h264".into(), &"key".into(), &true.into()),
        "{first_video}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| matches!(l["event"].as_str(), Some("message" | "media")))
            .all(|l| l["frames"].as_array().is_some_and(|f| !f.is_empty())),
        "every message names its frames"
    );
    seen.extend(events(&lines));

    let (_, out, _) = rtmp_probe(&[
        "replay",
        capture,
        "--against",
        &url,
        "--speed",
        "max",
        "--json",
    ]);
    let lines = checked_lines(&validator, "replay --against --json", &out);
    assert_eq!(lines.last().unwrap()["event"], "against");
    seen.extend(events(&lines));
    drop(server);

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("matrix.jsonl");
    let (code, out, _) = rtmp_probe(
        &[
            &["matrix", "--profiles", "obs,ffmpeg"][..],
            &QUICK_MATRIX,
            &[&format!("--json={}", file.display())],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&file).expect("the matrix file");
    let lines = checked_lines(&validator, "matrix --json", &text);
    assert_eq!(lines.len(), 3, "two cases and the matrix line");
    seen.extend(events(&lines));

    // Every kind of line the schema describes is one some command writes (serve's own lines
    // are only there when FFmpeg is).
    let schema: Value = serde_json::from_str(JSON_SCHEMA).unwrap();
    let described: BTreeSet<String> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["$ref"]
                .as_str()
                .unwrap()
                .trim_start_matches("#/$defs/")
                .to_string()
        })
        .collect();
    let unwritten: Vec<_> = described.difference(&seen).collect();
    assert!(
        unwritten.is_empty(),
        "no command wrote {unwritten:?}; seen {seen:?}"
    );
}

fn the_schema_rejects_what_the_old_outputs_wrote() {
    let validator = validator();
    for (line, why) in [
        (
            r#"{"flow":1,"at_us":0,"event":"closed","reason":"x"}"#,
            "replay's old flow number",
        ),
        (
            r#"{"id":"obs/default","profile":"obs","variant":"default","status":"pass","stage":null,"attempts":1,"failed_attempts":0,"diagnosis":[],"observations":{},"duration_ms":1}"#,
            "probe's old last line, without event",
        ),
        (
            r#"{"at_us":0,"event":"diagnostic","id":"Not An Id","severity":"warning","text":"x"}"#,
            "an id that is no catalogue id",
        ),
        (
            r#"{"at_us":0,"event":"handshake","id":"hs.c1-fields","text":"C1 time 0, version field 0.0.0.0"}"#,
            "a handshake observation in words only",
        ),
        (
            r#"{"at_us":0,"event":"message","direction":"client_to_server","csid":3,"timestamp":0,"type_id":20,"stream_id":0,"len":9,"name":"connect","summary":"command connect #1"}"#,
            "a message without its content",
        ),
        (
            r#"{"at_us":0,"event":"media_summary","stream":"live","text":"video h264 1 frames"}"#,
            "serve's old media summary in words only",
        ),
    ] {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(!validator.is_valid(&value), "{why}: {line}");
    }
    let good: Value =
        serde_json::from_str(r#"{"conn":1,"at_us":0,"event":"closed","reason":"x"}"#).unwrap();
    assert!(validator.is_valid(&good));
}

fn main() {
    support::trials::run(vec![
        trial!(
            every_json_line_of_every_command_follows_the_schema,
            [Need::Program("ffmpeg")]
        ),
        trial!(the_schema_rejects_what_the_old_outputs_wrote),
    ]);
}
