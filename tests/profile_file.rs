//! Profiles exported from real captures, written to a file, read back and run against the
//! built-in server: "a user who captured a session once can emulate it forever".

mod support;

use rtmp_probe::capture::CaptureReader;
use rtmp_probe::emulate::case::{CaseOptions, Status, Target};
use rtmp_probe::emulate::infer::export::derive;
use rtmp_probe::emulate::profile::{
    C0C1Writes, C2Timing, ChunkSizeWhen, Profile, PublishSequence, Role, StopStyle,
};
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::emulate::{profile_file, run_case};
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::handshake::{C1Body, C1Style, C2Style, DigestLayout};
use rtmp_probe::replay::replay;
use rtmp_probe::serve::ServeOptions;
use rtmp_probe::transcript::render::snapshot;
use std::path::Path;
use std::time::Duration;
use support::trials::Need;
use support::Running;

/// Exports the first RTMP flow of `capture` to a file and loads the file back.
fn exported(capture: &Path, dir: &Path) -> (Profile, String) {
    let reader = CaptureReader::new(std::fs::File::open(capture).expect("open")).expect("capture");
    let (flows, error) = replay(reader, |_| {});
    assert!(error.is_none(), "{error:?}");
    let flow = flows.iter().find(|f| f.rtmp).expect("an RTMP flow");
    let name = capture.file_name().unwrap().to_string_lossy();
    let derived = derive(flow, &name).expect("a profile");
    let path = dir.join("exported.toml");
    let text = profile_file::to_toml(&derived.profile, &derived.notes);
    std::fs::write(&path, &text).unwrap();
    let loaded = profile_file::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        loaded, derived.profile,
        "the file holds the derived profile\n{text}"
    );
    (loaded, text)
}

/// Runs `profile` once against the built-in reference server; the verdict and the server's
/// transcript of the session.
fn run_against_builtin(profile: &Profile) -> (Status, String, Vec<String>) {
    let server = Running::start(ServeOptions::default());
    let (target, _) = Target::parse(&format!("rtmp://{}/live", server.addr)).unwrap();
    let mut options = CaseOptions::default();
    options.media_duration = Duration::from_millis(400);
    options.handshake_timeout = Duration::from_secs(3);
    options.reply_timeout = Duration::from_secs(3);
    options.seed = Some(5);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result = rt.block_on(run_case(
        profile,
        Variant::Default,
        &target,
        Some("exported"),
        1,
        &options,
    ));
    let findings = result
        .diagnosis
        .iter()
        .map(|f| format!("{}: {}", f.id, f.message))
        .collect();
    let transcripts = server.finish();
    let text = transcripts.iter().map(snapshot).collect::<String>();
    (result.status, text, findings)
}

fn obs_27_exported_from_a_public_capture_runs_as_obs_did() {
    let capture = support::shared_capture("public/obs27-publish-to-nginx-rtmp.pcap");
    let dir = tempfile::tempdir().unwrap();
    let (p, text) = exported(&capture, dir.path());
    assert_eq!(p.name, "obs27-publish-to-nginx-rtmp-flow-1");
    assert!(p
        .source
        .contains("obs27-publish-to-nginx-rtmp.pcap, flow 1"));
    match p.handshake.c1 {
        C1Style::Simple { version, body, .. } => {
            assert_eq!((version, body), ([0; 4], C1Body::Random))
        }
        other => panic!("OBS sent a simple C1, not {other:?}"),
    }
    assert_eq!(p.handshake.c2, C2Style::EchoS1);
    // librtmp writes C2 as soon as S1 is in; the capture shows it before S2.
    assert_eq!(p.c2_timing, C2Timing::AfterS1);
    assert_eq!(p.c0c1, C0C1Writes::Together);
    assert_eq!(p.own_chunk_size, Some((ChunkSizeWhen::BeforeConnect, 4096)));
    assert!(!p.echo_chunk_size && !p.answer_peer_bandwidth);
    assert_eq!(
        p.role,
        Role::Publish {
            sequence: PublishSequence::Fmle,
            stop: StopStyle::FcUnpublishDeleteStream
        }
    );
    let keys: Vec<&str> = p.connect.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["app", "type", "flashVer", "swfUrl", "tcUrl"]);
    assert_eq!(p.flash_ver(), Some("FMLE/3.0 (compatible; FMSc/1.0)"));
    // OBS's swfUrl was its tcUrl: it follows the probe URL rather than the capture's host.
    assert!(text.contains("swfUrl = \"{tcUrl}\""), "{text}");

    let (status, server_view, findings) = run_against_builtin(&p);
    assert_eq!(status, Status::Pass, "{findings:?}\n{server_view}");
    // The connect the server received carries the exported fields, with the URL filled in.
    assert!(
        server_view.contains(
            "command connect #1 {app: \"live\", type: \"nonprivate\", flashVer: \"FMLE/3.0 (compatible; FMSc/1.0)\", swfUrl: \"rtmp://127.0.0.1:PORT/live\", tcUrl: \"rtmp://127.0.0.1:PORT/live\"}"
        ),
        "{server_view}"
    );
    assert!(server_view.contains("Set Chunk Size 4096"), "{server_view}");
}

fn ffmpeg_exported_from_the_projects_capture_runs_as_ffmpeg_did() {
    let capture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/ffmpeg-publish-to-nginx.pcap");
    let dir = tempfile::tempdir().unwrap();
    let (p, _) = exported(&capture, dir.path());
    assert_eq!(
        p.handshake.c1,
        C1Style::Digest {
            time: 0,
            version: [9, 0, 124, 2],
            layout: DigestLayout::Base8
        }
    );
    assert_eq!(p.c2_timing, C2Timing::AfterS2);
    assert!(p.echo_chunk_size);
    assert_eq!(p.own_chunk_size, None);
    assert_eq!(p.flash_ver(), Some("FMLE/3.0 (compatible; Lavf59.27.100)"));
    assert!(matches!(
        p.role,
        Role::Publish {
            sequence: PublishSequence::Fmle,
            ..
        }
    ));
    let (status, server_view, findings) = run_against_builtin(&p);
    assert_eq!(status, Status::Pass, "{findings:?}\n{server_view}");
    assert!(
        server_view.contains("flashVer: \"FMLE/3.0 (compatible; Lavf59.27.100)\""),
        "{server_view}"
    );
}

fn an_edited_connect_field_is_what_the_server_receives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.toml");
    std::fs::write(
        &path,
        "name = \"edited\"\n\n[connect]\napp = \"{app}\"\nflashVer = \"Wirecast/14\"\n\
         tcUrl = \"{tcUrl}\"\ncapabilities = 239\nvideoCodecs = 252.5\n",
    )
    .unwrap();
    let p = profile_file::load(&path).unwrap();
    assert_eq!(
        p.connect[3],
        ("capabilities".to_string(), Amf0Value::Number(239.0))
    );
    let (status, server_view, findings) = run_against_builtin(&p);
    assert_eq!(status, Status::Pass, "{findings:?}");
    assert!(
        server_view.contains(
            "{app: \"live\", flashVer: \"Wirecast/14\", tcUrl: \"rtmp://127.0.0.1:PORT/live\", capabilities: 239, videoCodecs: 252.5}"
        ),
        "{server_view}"
    );
}

fn a_missing_or_broken_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let e = profile_file::load(&missing).unwrap_err();
    assert!(
        e.to_string().contains("missing.toml") && e.to_string().contains("cannot read"),
        "{e}"
    );
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "name = \"b\"\n[session]\nrole = \"publish\"\nstop = \"vanish\"\n",
    )
    .unwrap();
    let e = profile_file::load(&broken).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "profile file {}, line 4, field `session.stop`: unknown variant `vanish`",
            broken.display()
        )),
        "{e}"
    );
}

fn main() {
    support::trials::run(vec![
        trial!(
            obs_27_exported_from_a_public_capture_runs_as_obs_did,
            [Need::SharedCapture(
                "public/obs27-publish-to-nginx-rtmp.pcap"
            )]
        ),
        trial!(ffmpeg_exported_from_the_projects_capture_runs_as_ffmpeg_did),
        trial!(an_edited_connect_field_is_what_the_server_receives),
        trial!(a_missing_or_broken_file_is_an_error_naming_it),
    ]);
}
