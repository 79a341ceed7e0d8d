//! Differential tests: every real client (the test needs them all) and the profile that emulates
//! it, each run against the built-in server under every personality. The real program's verdict and the
//! profile's must be the same (pass, or fail at the same stage); the table of both is kept as a
//! snapshot. Where they disagree, the profile is what gets fixed, with its source.

mod support;

use rtmp_probe::emulate::case::{self, CaseOptions, Stage, Target};
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::emulate::{memory, profile, run_case};
use rtmp_probe::serve::{personality, ServeOptions};
use rtmp_probe::transcript::{DiagnosticId, Direction, EventKind, Transcript};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::trials::Need;
use support::{gst_publish, run_bounded, Running};

/// The server gives up on a handshake after this long, so a client that stalls in the handshake
/// is closed (and exits) well inside the run's bound.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(3);
/// The longest a real program may run; past it, it is killed and its run read as it stands.
const REAL_BOUND: Duration = Duration::from_secs(12);
/// How long the companion publisher of a play case publishes (the player starts 0.8 s in).
const COMPANION_MEDIA: Duration = Duration::from_secs(3);
/// The real clients: FFmpeg 5.1 and 9.0.2 publishing and playing, rtmpsink, rtmpdump, rtmp2sink
/// and rtmp2src.
const EVERY_CLIENT: usize = 8;
/// Cases run at once (each starts its own servers and processes).
const WORKERS: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Publish,
    Play,
}

/// A verdict both sides can have: the real program cannot be "non-strict", so every status that
/// is not a failure is a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail(Stage),
    /// A player through connect that did not deliver what it was asked for. The server cannot
    /// see whether a real player took NetStream.Play.Start (a player sends nothing after it),
    /// so waiting for Play.Start (the emulators' `publish` stage) and waiting for media
    /// (`media`) are one observable stage: measured with GST_DEBUG=rtmp*:7, rtmp2src that got
    /// Play.Start on message stream 0 logs the onStatus and waits on, as it would for media.
    FailPlaying,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => f.write_str("pass"),
            Verdict::Fail(stage) => write!(f, "fail at {stage}"),
            Verdict::FailPlaying => f.write_str("fail at play/media"),
        }
    }
}

/// How far one connection of a real client got, as the server recorded it.
#[derive(Debug, Default)]
struct Reached {
    /// The server read C2 (its handshake event about C2, or any message after it).
    c2: bool,
    /// The client sent a command after connect: it took connect's `_result` and went on.
    past_connect: bool,
    /// The server counted audio or video frames from the client (a publisher sends them only
    /// once NetStream.Publish.Start is in).
    media_sent: bool,
    /// The connection published (the companion publisher of a play case, not the player).
    published: bool,
}

fn reached(t: &Transcript) -> Reached {
    let mut r = Reached::default();
    for e in &t.events {
        match &e.kind {
            EventKind::Handshake { id, .. } if id.as_str().starts_with("hs.c2") => r.c2 = true,
            EventKind::Message(m) if m.direction == Direction::ClientToServer => {
                r.c2 = true;
                match m.type_id {
                    20 if m.name() == "publish" => {
                        r.published = true;
                        r.past_connect = true
                    }
                    20 if m.name() != "connect" => r.past_connect = true,
                    _ => {}
                }
            }
            // Media is summarised per published stream rather than listed message by message.
            EventKind::MediaSummary { media, .. } => {
                r.media_sent |= media.video_frames + media.audio_frames > 0
            }
            _ => {}
        }
    }
    r
}

/// The verdict of a real run, read in one place: the furthest stage any of the client's
/// connections reached on the server, then the program's exit status within [`REAL_BOUND`].
/// The handshake is done when the server read C2; connect when the client sent its next
/// command; a publisher's publish when it sent media (FFmpeg, librtmp and rtmp2 all wait for
/// NetStream.Publish.Start first), and its media when it then exited successfully, its clip
/// sent. A player past connect passes when it exits successfully, having received what it was
/// asked for, which takes a stream whose media reached the server (the companion's): without
/// one, a player that ends cleanly at the stream's end (rtmpdump and rtmp2src when an
/// unconfirmed publisher leaves) played nothing. Otherwise it fails at play/media
/// ([`Verdict::FailPlaying`]).
fn real_verdict(role: Role, exited_ok: bool, connections: &[Reached]) -> Verdict {
    let ours: Vec<&Reached> = connections
        .iter()
        .filter(|c| role == Role::Publish || !c.published)
        .collect();
    let any = |f: &dyn Fn(&Reached) -> bool| ours.iter().any(|c| f(c));
    if !any(&|c| c.c2) {
        Verdict::Fail(Stage::Handshake)
    } else if !any(&|c| c.past_connect) {
        Verdict::Fail(Stage::Connect)
    } else if role == Role::Play {
        if exited_ok && connections.iter().any(|c| c.media_sent) {
            Verdict::Pass
        } else {
            Verdict::FailPlaying
        }
    } else if !any(&|c| c.media_sent) {
        Verdict::Fail(Stage::Publish)
    } else if !exited_ok {
        Verdict::Fail(Stage::Media)
    } else {
        Verdict::Pass
    }
}

/// The verdict of an emulated case, in the same terms as [`real_verdict`].
fn emulated_verdict(role: Role, failed_at: Option<Stage>) -> Verdict {
    match failed_at {
        None => Verdict::Pass,
        Some(Stage::Publish | Stage::Media) if role == Role::Play => Verdict::FailPlaying,
        Some(stage) => Verdict::Fail(stage),
    }
}

/// A real client program and the profile that emulates it.
struct RealClient {
    name: &'static str,
    role: Role,
    profile: &'static str,
    command: Box<dyn Fn(&str) -> Command + Send + Sync>,
}

/// The media every real publisher sends: the emulators' own bundled two-second clip, sent with
/// `-c copy` (no encoding on the shared machine's two cores).
fn clip() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/emulate/clip.flv")
}

fn ffmpeg_publish(program: &Path, url: &str) -> Command {
    let mut c = Command::new(program);
    c.args([
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-re",
        "-i",
    ])
    .arg(clip())
    .args(["-c", "copy", "-t", "1", "-f", "flv", url]);
    c
}

fn ffmpeg_play(program: &Path, url: &str) -> Command {
    let mut c = Command::new(program);
    c.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i", url])
        .args(["-t", "1", "-c", "copy", "-f", "null", "-"]);
    c
}

/// What the real clients need here: every one runs, or the test is ignored (a failure in CI).
fn needs() -> Vec<Need> {
    vec![
        Need::Program("ffmpeg"),
        Need::Ffmpeg9,
        Need::Program("gst-launch-1.0"),
        Need::GstElement("rtmpsink"),
        Need::GstElement("rtmp2sink"),
        Need::GstElement("rtmp2src"),
        Need::Program("rtmpdump"),
    ]
}

/// Every real client ([`needs`] says what they take).
fn real_clients() -> Vec<RealClient> {
    let mut clients = Vec::new();
    let ffmpegs: [(&'static str, &'static str, PathBuf); 2] = [
        ("ffmpeg-5.1", "ffmpeg-5.1 play", PathBuf::from("ffmpeg")),
        ("ffmpeg-9.0.2", "ffmpeg-9.0.2 play", support::ffmpeg9()),
    ];
    for (publish_name, play_name, path) in ffmpegs {
        let p = path.clone();
        clients.push(RealClient {
            name: publish_name,
            role: Role::Publish,
            profile: "ffmpeg",
            command: Box::new(move |url| ffmpeg_publish(&p, url)),
        });
        clients.push(RealClient {
            name: play_name,
            role: Role::Play,
            profile: "ffmpeg-play",
            command: Box::new(move |url| ffmpeg_play(&path, url)),
        });
    }
    clients.push(RealClient {
        name: "librtmp rtmpsink",
        role: Role::Publish,
        profile: "obs",
        command: Box::new(|url| gst_publish("rtmpsink", &clip(), url)),
    });
    clients.push(RealClient {
        name: "gst rtmp2sink",
        role: Role::Publish,
        profile: "gstreamer",
        command: Box::new(|url| gst_publish("rtmp2sink", &clip(), url)),
    });
    clients.push(RealClient {
        name: "gst rtmp2src",
        role: Role::Play,
        profile: "gstreamer-play",
        command: Box::new(|url| {
            let mut c = Command::new("gst-launch-1.0");
            c.args(["-q", "rtmp2src", &format!("location={url}")])
                .args(["num-buffers=20", "!", "fakesink"]);
            c
        }),
    });
    clients.push(RealClient {
        name: "librtmp rtmpdump",
        role: Role::Play,
        profile: "rtmpdump",
        command: Box::new(|url| {
            let mut c = Command::new("rtmpdump");
            c.args(["-q", "--live", "-r", url, "-o", "/dev/null"]);
            c
        }),
    });
    clients
}

fn server(personality_name: &str) -> Running {
    let mut options = ServeOptions::default();
    options.personality = personality::by_name(personality_name).expect("personality");
    options.handshake_timeout = HANDSHAKE_TIMEOUT;
    Running::start(options)
}

fn emulator_options(media: Duration) -> CaseOptions {
    let mut options = CaseOptions::default();
    options.media_duration = media;
    options.handshake_timeout = Duration::from_secs(5);
    options.reply_timeout = Duration::from_secs(5);
    options
}

/// The publisher whose stream a play case plays under `personality_name`: `obs`, as the
/// emulated play cases use by default, unless the emulated `obs` cannot publish to that server
/// (as librtmp cannot to one that omits extended timestamps); then the first other checked
/// publish profile that can, in memory. None: `obs` stays, and no publisher gets through.
fn companion(personality_name: &str) -> Option<profile::Profile> {
    let personality = personality::by_name(personality_name).expect("personality");
    let publishes = |p: &profile::Profile| {
        !memory::run_case(p, Variant::Default, &personality, &CaseOptions::default())
            .status
            .is_failure()
    };
    let obs = profile::by_name("obs").expect("obs profile");
    if publishes(&obs) {
        return Some(obs);
    }
    ["gstreamer", "ffmpeg"]
        .into_iter()
        .map(|name| profile::by_name(name).expect("profile"))
        .find(|p| publishes(p))
}

/// The real program against a fresh server; a player gets the emulated companion publisher
/// ([`companion`]) on its key first, as the emulated play cases do, so both sides play the same
/// stream. Under a personality that leaves players no publisher (every publish refused, or none
/// confirmed) the player runs all the same, and what it got is checked: the companion failed
/// and no connection sent the server any media, so the player received none.
fn run_real(client: &RealClient, personality_name: &str) -> (Verdict, String, bool) {
    let no_publisher = leaves_players_no_publisher(personality_name);
    let server = server(personality_name);
    let key = "differential";
    let companion = (client.role == Role::Play).then(|| {
        let (target, _) = Target::parse(&server.url("")).expect("url");
        let publisher = companion(personality_name)
            .unwrap_or_else(|| profile::by_name("obs").expect("obs profile"));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let outcome = rt.block_on(case::run(
                &publisher,
                Variant::Default,
                &target,
                key,
                &emulator_options(COMPANION_MEDIA),
            ));
            (publisher.name, outcome)
        });
        std::thread::sleep(Duration::from_millis(800));
        thread
    });
    let (exited_ok, stderr) = run_bounded((client.command)(&server.url(key)), REAL_BOUND);
    let publisher =
        companion.map(|thread| thread.join().expect("the companion publisher's thread"));
    let connections: Vec<Reached> = server.finish().iter().map(reached).collect();
    let verdict = real_verdict(client.role, exited_ok, &connections);
    if let Some((name, publisher)) = publisher {
        if no_publisher {
            assert!(
                publisher.status.is_failure(),
                "{personality_name} leaves players no publisher, yet the {name} companion of {} \
                 published",
                client.name
            );
            assert!(
                !connections.iter().any(|c| c.media_sent),
                "{personality_name}: no publisher got through, yet media reached the server, so \
                 {} may have received some",
                client.name
            );
        } else {
            // Without a live stream a player's failure would say nothing about the player,
            // unless it stopped before asking for the stream.
            let stopped_before_play =
                matches!(verdict, Verdict::Fail(Stage::Handshake | Stage::Connect));
            assert!(
                !publisher.status.is_failure() || stopped_before_play,
                "the {name} publisher for {} under {personality_name} failed ({} at {:?}), so \
                 there was nothing to play",
                client.name,
                publisher.status.label(),
                publisher.stage
            );
        }
    }
    let detail = stderr.lines().last().unwrap_or("").to_string();
    (verdict, detail, exited_ok)
}

/// Whether `personality_name` refuses every publish or confirms none, so a player has nothing
/// to play.
fn leaves_players_no_publisher(personality_name: &str) -> bool {
    personality::by_name(personality_name)
        .expect("personality")
        .leaves_players_no_publisher()
}

/// The client's profile against a fresh server with the same personality.
fn run_profile(client: &RealClient, personality_name: &str) -> (Verdict, String) {
    let profile_name = client.profile;
    let server = server(personality_name);
    let (target, _) = Target::parse(&server.url("")).expect("url");
    let profile = profile::by_name(profile_name).expect("profile");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut options = emulator_options(Duration::from_secs(1));
    options.companion = companion(personality_name);
    let r = rt.block_on(run_case(
        &profile,
        Variant::Default,
        &target,
        Some("differential"),
        1,
        &options,
    ));
    let failed_at = r.status.is_failure().then(|| r.stage.unwrap_or(Stage::Tcp));
    if client.role == Role::Play && leaves_players_no_publisher(personality_name) {
        // The emulated companion fails as the real one did; the player's own verdict is kept.
        assert!(
            r.diagnosis
                .iter()
                .any(|f| f.id == DiagnosticId::CaseCompanionFailed),
            "{personality_name}: the emulated companion of {profile_name} published: {:?}",
            r.diagnosis
        );
    }
    let verdict = emulated_verdict(client.role, failed_at);
    let detail = r
        .diagnosis
        .first()
        .map(|f| f.id.to_string())
        .unwrap_or_default();
    (verdict, detail)
}

struct Row {
    personality: &'static str,
    /// A play case under a personality that leaves it no publisher.
    no_publisher: bool,
    client: &'static str,
    profile: &'static str,
    real: Verdict,
    real_detail: String,
    /// Whether the real program exited with status 0 within the bound.
    real_exited_ok: bool,
    emulated: Verdict,
    emulated_detail: String,
}

fn snapshot(name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, value));
}

fn real_clients_and_their_profiles_agree_under_every_personality() {
    let clients = Arc::new(real_clients());
    assert_eq!(clients.len(), EVERY_CLIENT);
    let personalities: Vec<&'static str> = personality::all().iter().map(|p| p.name).collect();
    let jobs: Vec<(usize, usize)> = (0..personalities.len())
        .flat_map(|p| (0..clients.len()).map(move |c| (p, c)))
        .collect();
    let queue = Arc::new(Mutex::new(jobs.clone()));
    let rows = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, rows, clients, personalities) = (
                queue.clone(),
                rows.clone(),
                clients.clone(),
                personalities.clone(),
            );
            std::thread::spawn(move || loop {
                let Some((p, c)) = queue.lock().expect("queue").pop() else {
                    return;
                };
                let client = &clients[c];
                let (real, real_detail, real_exited_ok) = run_real(client, personalities[p]);
                let (emulated, emulated_detail) = run_profile(client, personalities[p]);
                rows.lock().expect("rows").push((
                    (p, c),
                    Row {
                        personality: personalities[p],
                        no_publisher: client.role == Role::Play
                            && leaves_players_no_publisher(personalities[p]),
                        client: client.name,
                        profile: client.profile,
                        real,
                        real_detail,
                        real_exited_ok,
                        emulated,
                        emulated_detail,
                    },
                ));
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a worker panicked");
    }
    let mut rows = std::mem::take(&mut *rows.lock().expect("rows"));
    rows.sort_by_key(|(order, _)| *order);
    assert_eq!(rows.len(), jobs.len(), "every case ran");

    let line = |r: &Row| {
        format!(
            "{:<17} {:<18} {:<18} {:<15} {:<18}{}{}",
            r.personality,
            r.client,
            r.real.to_string(),
            r.profile,
            r.emulated.to_string(),
            if r.real == r.emulated {
                ""
            } else {
                "  DISAGREE"
            },
            match (r.no_publisher, r.real_exited_ok) {
                (false, _) => "",
                (true, true) => "  no publisher; the real player exited 0 with nothing",
                (true, false) => "  no publisher; the real player did not finish",
            }
        )
        .trim_end()
        .to_string()
    };
    let agreements = rows.iter().filter(|(_, r)| r.real == r.emulated).count();
    let no_publisher = rows.iter().filter(|(_, r)| r.no_publisher).count();
    let mut table = format!(
        "{:<17} {:<18} {:<18} {:<15} PROFILE VERDICT\n",
        "PERSONALITY", "REAL CLIENT", "REAL", "PROFILE"
    );
    for (_, r) in &rows {
        table.push_str(&line(r));
        table.push('\n');
    }
    table.push_str(&format!(
        "agreements: {agreements} of {} cases\n",
        rows.len()
    ));
    if no_publisher > 0 {
        table.push_str(&format!(
            "no publisher: {no_publisher} play cases under a personality that refuses every \
             publish or confirms none: the companion publisher failed (real run and emulated \
             alike, checked); the real player ran all the same and received no media (none \
             reached the server), then exited 0 when the unconfirmed publisher left or did not \
             finish within {REAL_BOUND:?}; the emulated player failed alike\n"
        ));
    }
    assert!(agreements > 0, "no case could be compared");
    println!("{table}");
    let disagreements: Vec<String> = rows
        .iter()
        .filter(|(_, r)| r.real != r.emulated)
        .map(|(_, r)| {
            format!(
                "{} under {}: real {} ({}), profile {} {} ({})",
                r.client,
                r.personality,
                r.real,
                r.real_detail,
                r.profile,
                r.emulated,
                r.emulated_detail
            )
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "real clients and profiles disagree:\n{}",
        disagreements.join("\n")
    );
    snapshot("differential-real-vs-profile", &table);
}

fn main() {
    support::trials::run(vec![trial!(
        real_clients_and_their_profiles_agree_under_every_personality,
        needs()
    )]);
}
