//! Client profiles: the handshake and publish behaviours of real encoders and players, as data.
//!
//! Each profile says what the client sends, how it cuts it into writes, what it waits for and
//! what it insists on, with the source of each behaviour. The built-in ones are files in
//! `profiles/`, in the form `--profile-file` reads, embedded in the binary: adding an encoder
//! means adding one file there and its line in `BUILT_IN`.

use super::profile_file;
use super::tolerance::{self, Reaction, Rule, Table};
use crate::deviation::Deviation;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::AckCadence;
use crate::protocol::handshake::{C1Style, C2Style, ClientConfig, ServerValidation};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Duration;

/// How C0 and C1 reach the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C0C1Writes {
    /// One write of 1537 bytes (almost everyone).
    Together,
    /// C0, then C1 after a pause (VideoCore writes them from two handshake steps).
    Apart(Duration),
}

/// When the client writes C2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum C2Timing {
    /// As soon as S1 is complete, before S2 is read (librtmp, OBS, VideoCore).
    AfterS1,
    /// Only once S0, S1 and S2 are all in (FFmpeg, GStreamer rtmp2).
    AfterS2,
    /// Together with connect, in one write, once S2 is in (Flash Player 9).
    WithConnect,
}

/// How the client reads a type-3 chunk of a chunk stream whose last header carried an
/// extended timestamp (a server's timestamps past 0xFFFFFF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtendedTimestampReading {
    /// Tells a repeated extended timestamp from an omitted one (this tool's reader).
    #[default]
    Detect,
    /// Always reads the 4 bytes, as the specification says (FFmpeg, librtmp): a server that
    /// omits them has its payload misread.
    Repeat,
    /// Never reads them: a server that repeats them has its payload misread.
    Omit,
}

/// The commands a publisher sends before `publish`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublishSequence {
    /// releaseStream, FCPublish, createStream, publish (FMLE, OBS, FFmpeg, Wirecast).
    Fmle,
    /// createStream, publish (Flash Player, GStreamer without FCPublish).
    Flash,
}

/// How a publisher stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopStyle {
    /// FCUnpublish, then deleteStream (OBS, FFmpeg, Elemental).
    FcUnpublishDeleteStream,
    /// A second `publish` with an empty name, then close (Wirecast).
    EmptyPublish,
    /// deleteStream only.
    DeleteStream,
}

/// When a client announces its own chunk size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChunkSizeWhen {
    /// Right after the handshake (OBS: 4096).
    BeforeConnect,
    /// Once connect's _result is in (a client seen doing so in a capture, no built-in profile).
    AfterConnect,
    /// Right after NetStream.Publish.Start (GStreamer rtmp2sink: its chunk-size property, 128).
    AfterPublish,
}

/// The client's role in RTMP, what it does after connect: publish a stream (with how it sets
/// it up and stops), or play one. (Which end of the connection it is, is a
/// [`crate::protocol::Side`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Publish {
        sequence: PublishSequence,
        stop: StopStyle,
    },
    /// Plays the stream a companion `obs` case publishes.
    Play,
}

/// Stands for the probe URL's application name in a connect field's value.
pub const APP_PLACEHOLDER: &str = "{app}";
/// Stands for the probe URL's `rtmp://host[:port]/app` in a connect field's value.
pub const TC_URL_PLACEHOLDER: &str = "{tcUrl}";

/// What the client writes in the handshake. How it takes what the server writes (S0's version,
/// S1's digest, S2's echo) is its tolerance table ([`Profile::client_config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHandshake {
    /// The C0 byte (3 is RTMP).
    pub c0_version: u8,
    pub c1: C1Style,
    pub c2: C2Style,
}

impl Default for ClientHandshake {
    fn default() -> Self {
        let config = ClientConfig::default();
        ClientHandshake {
            c0_version: config.c0_version,
            c1: config.c1,
            c2: config.c2,
        }
    }
}

/// One client behaviour to reproduce: what it does, and (its tolerance table) how it reacts to
/// what a server does, each said once.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub source: String,
    pub handshake: ClientHandshake,
    pub c0c1: C0C1Writes,
    /// Every write-ready notification before the handshake completes re-enters the client's
    /// handshake steps, and the step after S0 builds C2 from the S1 buffer whether S1 is in or
    /// not (VideoCore: `RTMPSession::streamStatusChanged` → `handshake` → `handshake2`). If S0
    /// has arrived alone by the time C1's write is followed by that notification, C2 is built
    /// from an empty buffer through a null pointer and the app crashes. Modelled as one
    /// notification handled as C1 is written: bytes already received then, S0 but not all of
    /// S1, end the case with a reset. See docs/videocore-6453.md.
    pub write_ready_reenters_handshake: bool,
    pub c2_timing: C2Timing,
    pub role: Role,
    /// The connect command object's fields, in the order sent. A string value that is exactly
    /// [`APP_PLACEHOLDER`] or [`TC_URL_PLACEHOLDER`] is replaced by the probe URL's.
    pub connect: Vec<(String, Amf0Value)>,
    /// Echo the server's Set Chunk Size and adopt it for sending (FFmpeg).
    pub echo_chunk_size: bool,
    /// TCP_NODELAY. FFmpeg (tcp_nodelay=0) and GStreamer (GIO's default) leave Nagle on, so
    /// their connect does not share a segment with C2; librtmp turns it off.
    pub nodelay: bool,
    /// Answers Set Peer Bandwidth with a Window Acknowledgement Size of the same value, as the
    /// specification suggests (GStreamer rtmp2 does).
    pub answer_peer_bandwidth: bool,
    /// A Set Chunk Size the client sends on its own, and when.
    pub own_chunk_size: Option<(ChunkSizeWhen, u32)>,
    /// How the client reacts to each server deviation, with sources, and how the profile's
    /// behaviours are known: the file's `[tolerance]` rows and `[[basis]]` (a built-in
    /// profile's has a row for every class). The emulator asks [`Profile::reaction`] where it
    /// meets each deviation.
    pub tolerance: Table,
    /// When the client acknowledges what the server sent (a server that waits for
    /// acknowledgements tells the clients apart).
    pub ack_cadence: AckCadence,
    /// The onStatus codes that end the client, whatever their level; None: any error-level
    /// onStatus does (FFmpeg, rtmp2). librtmp closes on four codes only and ignores other
    /// errors (NetStream.Publish.BadName among them), waiting on.
    pub fatal_status_codes: Option<Vec<String>>,
    /// How the client reads type-3 chunks after an extended timestamp.
    pub extended_timestamp_reading: ExtendedTimestampReading,
}

/// The text of connect field `key` in `connect`'s fields; None when absent or not a string.
pub fn connect_text<'a>(connect: &'a [(String, Amf0Value)], key: &str) -> Option<&'a str> {
    connect
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_str())
}

const FMLE: Role = Role::Publish {
    sequence: PublishSequence::Fmle,
    stop: StopStyle::FcUnpublishDeleteStream,
};

impl Profile {
    /// How this profile's client reacts to `deviation`: its row in [`Self::tolerance`], or
    /// unknown where it has none (the emulator then keeps [`tolerance::strict_reading`]).
    pub fn reaction(&self, deviation: Deviation) -> Rule {
        self.tolerance.get(deviation).unwrap_or(Rule::UNKNOWN)
    }

    /// The reaction to `deviation`, unknown read as the specification's strict reading.
    pub fn resolved(&self, deviation: Deviation) -> Reaction {
        match self.reaction(deviation).reaction {
            Reaction::Unknown => tolerance::strict_reading(deviation),
            known => known,
        }
    }

    /// Whether the client goes on after meeting `deviation`: accept and warn do.
    pub fn goes_on(&self, deviation: Deviation) -> bool {
        matches!(self.resolved(deviation), Reaction::Accept | Reaction::Warn)
    }

    /// The handshake codec's configuration for this client: its packets, and the checks its
    /// table makes fatal inside the codec. A client that fails on an S1 whose version bytes
    /// promise a digest that is not there (`s1-digest-invalid = "fail:handshake"`) is FFmpeg
    /// playing, which checks S1's digest and S2's signature both. S0's version is left to the
    /// emulator, which reacts to it by its row.
    pub fn client_config(&self) -> ClientConfig {
        let validation = if self.resolved(Deviation::S1DigestInvalid) == Reaction::Fail {
            ServerValidation::FfmpegPlay
        } else {
            ServerValidation::None
        };
        ClientConfig {
            c0_version: self.handshake.c0_version,
            c1: self.handshake.c1,
            c2: self.handshake.c2,
            validation,
            strict_s0: false,
        }
    }

    /// Whether the client takes NetStream.Publish.Start / Play.Start only on the stream
    /// createStream gave, and media only on the play stream (GStreamer rtmp2): the client
    /// whose table has it wait on for a status that came on stream 0
    /// (`on-status-on-stream-0 = "stall:..."`).
    pub fn strict_stream_ids(&self) -> bool {
        self.resolved(Deviation::OnStatusOnStream0) == Reaction::Stall
    }

    /// `flashVer` in connect, if the profile sends one.
    pub fn flash_ver(&self) -> Option<&str> {
        connect_text(&self.connect, "flashVer")
    }

    /// The connect command object for a server at `app` and `tc_url`.
    pub fn connect_object(&self, app: &str, tc_url: &str) -> Amf0Value {
        Amf0Value::Object(
            self.connect
                .iter()
                .map(|(k, v)| {
                    let v = match v.as_str() {
                        Some(APP_PLACEHOLDER) => Amf0Value::string(app),
                        Some(TC_URL_PLACEHOLDER) => Amf0Value::string(tc_url),
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }
}

/// What publishers put in connect: the fields FFmpeg's gen_connect() writes when publishing.
fn publish_connect(flash_ver: &str) -> Vec<(String, Amf0Value)> {
    vec![
        ("app".into(), Amf0Value::string(APP_PLACEHOLDER)),
        ("type".into(), Amf0Value::string("nonprivate")),
        ("flashVer".into(), Amf0Value::string(flash_ver)),
        ("tcUrl".into(), Amf0Value::string(TC_URL_PLACEHOLDER)),
    ]
}

const FMLE_FLASH_VER: &str = "FMLE/3.0 (compatible; FMSc/1.0)";

/// The behaviour a profile file's omitted fields take: librtmp-like, FMLE-style publishing.
impl Default for Profile {
    fn default() -> Self {
        base()
    }
}

fn base() -> Profile {
    Profile {
        name: String::new(),
        description: String::new(),
        source: String::new(),
        handshake: ClientHandshake::default(),
        c0c1: C0C1Writes::Together,
        write_ready_reenters_handshake: false,
        c2_timing: C2Timing::AfterS1,
        role: FMLE,
        connect: publish_connect(FMLE_FLASH_VER),
        echo_chunk_size: false,
        own_chunk_size: None,
        nodelay: true,
        answer_peer_bandwidth: false,
        tolerance: Table::default(),
        ack_cadence: AckCadence::Window,
        fatal_status_codes: None,
        extended_timestamp_reading: ExtendedTimestampReading::Detect,
    }
}

/// The built-in profiles' files, in the order `rtmp-probe profiles` lists them (matrix output
/// and its snapshots follow this order).
const BUILT_IN: [(&str, &str); 12] = [
    ("wirecast.toml", include_str!("profiles/wirecast.toml")),
    ("elemental.toml", include_str!("profiles/elemental.toml")),
    ("videocore.toml", include_str!("profiles/videocore.toml")),
    ("obs.toml", include_str!("profiles/obs.toml")),
    ("ffmpeg.toml", include_str!("profiles/ffmpeg.toml")),
    (
        "ffmpeg-play.toml",
        include_str!("profiles/ffmpeg-play.toml"),
    ),
    ("gstreamer.toml", include_str!("profiles/gstreamer.toml")),
    (
        "gstreamer-play.toml",
        include_str!("profiles/gstreamer-play.toml"),
    ),
    ("flash.toml", include_str!("profiles/flash.toml")),
    ("streamlabs.toml", include_str!("profiles/streamlabs.toml")),
    (
        "srs-forward.toml",
        include_str!("profiles/srs-forward.toml"),
    ),
    ("rtmpdump.toml", include_str!("profiles/rtmpdump.toml")),
];

/// Every built-in profile, in the order `rtmp-probe profiles` lists them, parsed from its
/// embedded file at first use.
pub fn all() -> Vec<Profile> {
    static PARSED: OnceLock<Vec<Profile>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            BUILT_IN
                .iter()
                .map(|(file, text)| {
                    // The files are part of the binary and every one is parsed by the tests.
                    let p = profile_file::parse(text)
                        .unwrap_or_else(|e| panic!("built-in profile {file} is broken: {e}"));
                    if let Err(e) = p.tolerance.check_complete() {
                        panic!("built-in profile {file}: its tolerance table is incomplete: {e}");
                    }
                    p
                })
                .collect()
        })
        .clone()
}

/// The built-in profile called `name`.
pub fn by_name(name: &str) -> Option<Profile> {
    all().into_iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_names_exist_once_each() {
        let names: Vec<_> = all().into_iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "wirecast",
                "elemental",
                "videocore",
                "obs",
                "ffmpeg",
                "ffmpeg-play",
                "gstreamer",
                "gstreamer-play",
                "flash",
                "streamlabs",
                "srs-forward",
                "rtmpdump"
            ]
        );
        assert!(all()
            .iter()
            .all(|p| !p.description.is_empty() && !p.source.is_empty()));
    }

    /// The profiles as the Rust data they were before they became files, printed with `{:#?}`
    /// (every field, Durations and numbers exact): the files must say exactly that.
    #[test]
    fn the_files_say_what_the_rust_data_said() {
        // The reactions come from the tolerance tables, which have their own tests and change
        // as rows get sources; this record is of the profile files.
        let files: Vec<Profile> = all()
            .into_iter()
            .map(|p| Profile {
                tolerance: Table::default(),
                ..p
            })
            .collect();
        let now = format!("{files:#?}\n");
        let before = include_str!("testdata/built-in-profiles.debug");
        assert!(now == before, "the built-in profiles changed:\n{now}");
    }

    #[test]
    fn a_profile_file_reacts_by_its_rows_and_the_strict_reading_elsewhere() {
        let text = "name = \"x\"\n[tolerance]\ns0-version-not-3 = \"stall:handshake\"\n\
                    set-chunk-size-huge = \"warn\"\ns1-digest-invalid = \"fail:handshake\"\n";
        let p = profile_file::parse(text).unwrap();
        assert_eq!(
            p.reaction(Deviation::S0VersionNot3),
            Rule::new(Reaction::Stall, Some(tolerance::Stage::Handshake))
        );
        assert!(!p.goes_on(Deviation::S0VersionNot3));
        assert!(p.goes_on(Deviation::SetChunkSizeHuge));
        assert_eq!(p.reaction(Deviation::ChunkStreamOpenedType1), Rule::UNKNOWN);
        assert!(
            !p.goes_on(Deviation::ChunkStreamOpenedType1),
            "unknown is the strict reading"
        );
        // The codec checks what the rows make fatal in the handshake, nothing else.
        let config = p.client_config();
        assert_eq!(config.validation, ServerValidation::FfmpegPlay);
        assert!(!config.strict_s0, "the emulator reacts to S0 by its row");
        assert_eq!(
            profile_file::parse("name = \"x\"\n")
                .unwrap()
                .client_config(),
            ClientConfig::default()
        );
    }

    /// The behaviours a table decides are read from it: the codec's checks and the stream ids
    /// a client insists on (what the profiles' own fields said before they went; the built-in
    /// files said the same, as a test checked then).
    #[test]
    fn what_the_table_decides_is_read_from_the_table() {
        let validating: Vec<String> = all()
            .into_iter()
            .filter(|p| p.client_config().validation == ServerValidation::FfmpegPlay)
            .map(|p| p.name)
            .collect();
        assert_eq!(validating, ["ffmpeg-play"]);
        let strict: Vec<String> = all()
            .into_iter()
            .filter(|p| p.strict_stream_ids())
            .map(|p| p.name)
            .collect();
        assert_eq!(strict, ["gstreamer", "gstreamer-play"]);
    }

    #[test]
    fn every_file_round_trips_through_the_file_form_unchanged() {
        assert_eq!(BUILT_IN.len(), all().len());
        for (file, text) in BUILT_IN {
            let parsed = profile_file::parse(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(format!("{}.toml", parsed.name), file);
            let written = profile_file::to_toml(&parsed, &[]);
            let back = profile_file::parse(&written).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(back, parsed, "{file}:\n{written}");
        }
    }
}
