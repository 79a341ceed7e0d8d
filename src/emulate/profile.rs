//! Client profiles: the handshake and publish behaviours of real encoders and players, as data.
//!
//! Each entry says what the client sends, how it cuts it into writes, what it waits for and
//! what it insists on, with the source of each behaviour. Adding an encoder means adding one
//! entry here.

use crate::protocol::amf0::Amf0Value;
use crate::protocol::handshake::{
    C1Body, C1Style, C2Style, ClientConfig, DigestLayout, ServerValidation,
};
use serde::{Deserialize, Serialize};
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

/// What the client does when S2 is not an echo of C1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum S2Check {
    Ignore,
    /// Logs a warning and goes on (librtmp, GStreamer).
    Warn,
    /// Gives up unless S2 echoes C1 from byte 8 (Streamlabs mobile, StreamPack).
    RequireEchoFrom8,
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

/// What the case does after connect.
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

/// One client behaviour to reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    pub description: String,
    pub source: String,
    pub handshake: ClientConfig,
    pub c0c1: C0C1Writes,
    /// The first read after C0+C1 must hold S0 and S1 complete (1537 bytes), or the client
    /// resets the connection: the behaviour reported in FFmpeg ticket 6453.
    pub first_read_needs_s0_s1: bool,
    /// Every write-ready notification before the handshake completes re-enters the client's
    /// handshake steps, and the step after S0 builds C2 from the S1 buffer whether S1 is in or
    /// not (VideoCore: `RTMPSession::streamStatusChanged` → `handshake` → `handshake2`). If S0
    /// has arrived alone by the time C1's write is followed by that notification, C2 is built
    /// from an empty buffer through a null pointer and the app crashes. Modelled as one
    /// notification handled as C1 is written: bytes already received then, S0 but not all of
    /// S1, end the case with a reset. See docs/videocore-6453.md.
    pub write_ready_reenters_handshake: bool,
    pub c2_timing: C2Timing,
    pub s2_check: S2Check,
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
    /// Accept NetStream.Publish.Start / Play.Start only on the stream createStream gave, and
    /// media only on the play stream (GStreamer rtmp2).
    pub strict_stream_ids: bool,
    /// A chunk stream the server opens with a type 1, 2 or 3 header (no type 0 before it) takes
    /// the fields it lacks from zeroed state (message stream 0, timestamp 0) instead of being a
    /// broken chunk stream, as the specification would have it.
    pub zeroed_chunk_opening: bool,
}

const SIMPLE_ZERO_VERSION: C1Style = C1Style::Simple {
    time: 0,
    version: [0; 4],
    body: C1Body::Random,
};

const FFMPEG_DIGEST: C1Style = C1Style::Digest {
    time: 0,
    version: [9, 0, 124, 2],
    layout: DigestLayout::Base8,
};

/// rtmp2's C2 echoes S1's random bytes with its own clock as time2 (seen on the wire: 0x00528cda).
const GSTREAMER_HANDSHAKE: ClientConfig = ClientConfig {
    c0_version: 3,
    c1: SIMPLE_ZERO_VERSION,
    c2: C2Style::EchoS1WithTime2(0x0052_8cda),
    validation: ServerValidation::None,
    strict_s0: false,
};

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

/// What players put in connect: FFmpeg's fields when playing.
fn play_connect(flash_ver: &str) -> Vec<(String, Amf0Value)> {
    vec![
        ("app".into(), Amf0Value::string(APP_PLACEHOLDER)),
        ("flashVer".into(), Amf0Value::string(flash_ver)),
        ("tcUrl".into(), Amf0Value::string(TC_URL_PLACEHOLDER)),
        ("fpad".into(), Amf0Value::Boolean(false)),
        ("capabilities".into(), Amf0Value::Number(15.0)),
        ("audioCodecs".into(), Amf0Value::Number(4071.0)),
        ("videoCodecs".into(), Amf0Value::Number(252.0)),
        ("videoFunction".into(), Amf0Value::Number(1.0)),
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
        handshake: ClientConfig::default(),
        c0c1: C0C1Writes::Together,
        first_read_needs_s0_s1: false,
        write_ready_reenters_handshake: false,
        c2_timing: C2Timing::AfterS1,
        s2_check: S2Check::Warn,
        role: FMLE,
        connect: publish_connect(FMLE_FLASH_VER),
        echo_chunk_size: false,
        own_chunk_size: None,
        nodelay: true,
        answer_peer_bandwidth: false,
        strict_stream_ids: false,
        zeroed_chunk_opening: false,
    }
}

/// Every profile, in the order `rtmp-probe profiles` lists them.
pub fn all() -> Vec<Profile> {
    let wirecast = Profile {
        name: "wirecast".into(),
        description: "C0+C1 in one write; the first read must hold S0 and S1 complete (1537 bytes), \
                      else it resets the connection; C2 echoes S1; FMLE-style publish; stops with a \
                      second publish with an empty name, then closes.".into(),
        source: "FFmpeg ticket 6453 (handshake); nginx-rtmp issues arut#538, #789 (empty-name \
                 publish on stop)".into(),
        first_read_needs_s0_s1: true,
        s2_check: S2Check::Ignore,
        role: Role::Publish {
            sequence: PublishSequence::Fmle,
            stop: StopStyle::EmptyPublish,
        },
        ..base()
    };
    vec![
        wirecast.clone(),
        Profile {
            name: "elemental".into(),
            description: "AWS Elemental Live: the same handshake strictness as wirecast; FMLE-style \
                          publish; FCUnpublish and deleteStream on stop.".into(),
            source: "FFmpeg ticket 6453".into(),
            role: FMLE,
            ..wirecast
        },
        Profile {
            name: "videocore".into(),
            description: "iOS VideoCore 0.3.2 (the CocoaPods release; master 859dc77 reads the \
                          handshake the same way): C0 and C1 as two writes (modelled 10 ms apart); \
                          C1 is 8 zero bytes and an uninitialised body (zero here); C2 (S1 with \
                          bytes 4..7 zeroed) goes as soon as S1 is in, S2 is not looked at; connect \
                          only after S2; a write-ready notification after S0 arrived alone and \
                          before S1 is complete builds C2 from an empty S1 and crashes (the FFmpeg \
                          listen server writes S0 before it reads C1, so it opens that window); \
                          stops if S0 is not 3.".into(),
            source: "jgh-/VideoCore tag 0.3.2 (6582a21) and master 859dc77: rtmp/RTMPSession.cpp \
                     dataReceived, streamStatusChanged, handshake0/1/2; system/Buffer.hpp; \
                     stream/Apple/StreamSession.mm; docs/videocore-6453.md".into(),
            handshake: ClientConfig {
                c1: C1Style::Simple {
                    time: 0,
                    version: [0; 4],
                    body: C1Body::Zero,
                },
                c2: C2Style::EchoS1ZeroTime2,
                strict_s0: true,
                ..ClientConfig::default()
            },
            c0c1: C0C1Writes::Apart(Duration::from_millis(10)),
            write_ready_reenters_handshake: true,
            s2_check: S2Check::Ignore,
            // sendConnectPacket: no flashVer; FFmpeg-player-like capabilities with VideoCore's
            // own codec masks.
            connect: vec![
                ("app".into(), Amf0Value::string(APP_PLACEHOLDER)),
                ("type".into(), Amf0Value::string("nonprivate")),
                ("tcUrl".into(), Amf0Value::string(TC_URL_PLACEHOLDER)),
                ("fpad".into(), Amf0Value::Boolean(false)),
                ("capabilities".into(), Amf0Value::Number(15.0)),
                ("audioCodecs".into(), Amf0Value::Number(10.0)),
                ("videoCodecs".into(), Amf0Value::Number(7.0)),
                ("videoFunction".into(), Amf0Value::Number(1.0)),
            ],
            role: Role::Publish {
                sequence: PublishSequence::Fmle,
                stop: StopStyle::DeleteStream,
            },
            ..base()
        },
        Profile {
            name: "obs".into(),
            description: "OBS (bundled librtmp): C0+C1 in one write, C1 version 0; C2 echoes S1 and goes \
                          right after S1, before S2 is read; S2 not echoing C1 is only warned; sets \
                          its chunk size to 4096 before connect.".into(),
            source: "obs-studio plugins/obs-outputs/librtmp/handshake.h; capture \
                     obs27-publish-to-nginx-rtmp.pcap".into(),
            handshake: ClientConfig {
                c1: SIMPLE_ZERO_VERSION,
                ..ClientConfig::default()
            },
            own_chunk_size: Some((ChunkSizeWhen::BeforeConnect, 4096)),
            // librtmp rtmp.c RTMP_ReadPacket(): a header shorter than type 0 copies the chunk
            // stream's previous packet only if there is one, else the zeroed packet stands.
            zeroed_chunk_opening: true,
            ..base()
        },
        Profile {
            name: "ffmpeg".into(),
            description: "FFmpeg (libavformat): C0+C1 in one write, C1 version 9.0.124.2 with a digest \
                          (base 8, FP key); waits for S0+S1+S2 before C2 (echo of S1); releaseStream, \
                          FCPublish, createStream, publish; echoes the server's Set Chunk Size.".into(),
            source: "FFmpeg libavformat/rtmpproto.c rtmp_handshake(), gen_connect(); captures in \
                     shared/captures/peers; checked against FFmpeg 5.1 on loopback \
                     (tests/profiles_vs_real.rs)".into(),
            handshake: ClientConfig {
                c1: FFMPEG_DIGEST,
                c2: C2Style::EchoS1,
                ..ClientConfig::default()
            },
            c2_timing: C2Timing::AfterS2,
            s2_check: S2Check::Ignore,
            connect: publish_connect("FMLE/3.0 (compatible; Lavf59.27.100)"),
            echo_chunk_size: true,
            nodelay: false,
            // rtmppkt.c: ff_rtmp_check_alloc_array() zeroes new prev_pkt entries, and
            // rtmp_packet_read_one_chunk() takes a short header's missing fields from them.
            zeroed_chunk_opening: true,
            ..base()
        },
        Profile {
            name: "ffmpeg-play".into(),
            description: "FFmpeg playing: as ffmpeg, but when S1's version byte 4 is >= 3 it validates \
                          the S1 digest (both layouts, FMS key) and the S2 signature and fails hard \
                          otherwise; its C2 is then signed.".into(),
            source: "FFmpeg libavformat/rtmpproto.c rtmp_handshake() (is_input branch)".into(),
            handshake: ClientConfig {
                c1: FFMPEG_DIGEST,
                c2: C2Style::Auto,
                validation: ServerValidation::FfmpegPlay,
                ..ClientConfig::default()
            },
            c2_timing: C2Timing::AfterS2,
            s2_check: S2Check::Ignore,
            connect: play_connect("LNX 9,0,124,2"),
            echo_chunk_size: true,
            nodelay: false,
            // rtmppkt.c, as for ffmpeg.
            zeroed_chunk_opening: true,
            role: Role::Play,
            ..base()
        },
        Profile {
            name: "gstreamer".into(),
            description: "GStreamer rtmp2sink: C0+C1 in one write, version 0; waits for all 3073 bytes \
                          of S0+S1+S2 before C2; S2 not echoing C1 is only warned; accepts \
                          NetStream.Publish.Start only on the stream createStream gave it; C2 echoes \
                          S1 with its own clock as time2; answers Set Peer Bandwidth with Window \
                          Acknowledgement Size; sends Set Chunk Size 128 after publish; Nagle on.".into(),
            source: "gst-plugins-bad gst/rtmp2/rtmp/rtmphandshake.c, rtmpclient.c; checked \
                     against rtmp2sink 1.22 on loopback (tests/profiles_vs_real.rs)".into(),
            handshake: GSTREAMER_HANDSHAKE,
            c2_timing: C2Timing::AfterS2,
            connect: publish_connect("LNX 10,0,32,18"),
            nodelay: false,
            answer_peer_bandwidth: true,
            strict_stream_ids: true,
            own_chunk_size: Some((ChunkSizeWhen::AfterPublish, 128)),
            // rtmpchunkstream.c gst_rtmp_chunk_stream_parse_header(): a chunk stream with no
            // buffer yet starts from a fresh zeroed meta whatever the header type.
            zeroed_chunk_opening: true,
            ..base()
        },
        Profile {
            name: "gstreamer-play".into(),
            description: "GStreamer rtmp2src: the same handshake; plays; ignores media and metadata \
                          whose message stream id is not the play stream's.".into(),
            source: "gst-plugins-bad gst/rtmp2/rtmp/rtmpclient.c".into(),
            handshake: GSTREAMER_HANDSHAKE,
            c2_timing: C2Timing::AfterS2,
            connect: play_connect("LNX 10,0,32,18"),
            nodelay: false,
            answer_peer_bandwidth: true,
            strict_stream_ids: true,
            // rtmpchunkstream.c, as for gstreamer.
            zeroed_chunk_opening: true,
            role: Role::Play,
            ..base()
        },
        Profile {
            name: "flash".into(),
            description: "Flash Player 9: digest C1; C2 and connect in one write; createStream, publish.".into(),
            source: "capture flash9-play-wireshark-sample.cap (C2 and connect in one segment)".into(),
            handshake: ClientConfig {
                c1: C1Style::Digest {
                    time: 0,
                    version: [9, 0, 47, 0],
                    layout: DigestLayout::Base8,
                },
                ..ClientConfig::default()
            },
            c2_timing: C2Timing::WithConnect,
            s2_check: S2Check::Ignore,
            connect: publish_connect("WIN 9,0,47,0"),
            role: Role::Publish {
                sequence: PublishSequence::Flash,
                stop: StopStyle::DeleteStream,
            },
            ..base()
        },
        Profile {
            name: "streamlabs".into(),
            description: "Streamlabs mobile: simple C1; S2 must echo C1 exactly from byte 8, else it \
                          gives up.".into(),
            source: "bluenviron/mediamtx#1244 and PR #1398; StreamPack#284".into(),
            handshake: ClientConfig {
                c1: SIMPLE_ZERO_VERSION,
                ..ClientConfig::default()
            },
            s2_check: S2Check::RequireEchoFrom8,
            ..base()
        },
        Profile {
            name: "srs-forward".into(),
            description: "SRS forwarding to another server: digest C1 (base 8) with version \
                          0x80000702; never checks S1 and has no simple fallback, so C2 is random \
                          bytes signed for S1's digest, or for the bytes where a digest would be \
                          when S1 has none; never an echo.".into(),
            source: "ossrs/srs 101382a trunk/src/protocol/srs_protocol_rtmp_handshake.cpp \
                     SrsComplexHandshake::handshake_with_server, c2s2::c2_create; \
                     srs_protocol_rtmp_stack.cpp SrsRtmpClient::handshake (no fallback); \
                     yutopp/go-rtmp#51".into(),
            handshake: ClientConfig {
                c1: C1Style::Digest {
                    time: 0,
                    version: [0x80, 0x00, 0x07, 0x02],
                    layout: DigestLayout::Base8,
                },
                c2: C2Style::Signed,
                ..ClientConfig::default()
            },
            c2_timing: C2Timing::AfterS2,
            s2_check: S2Check::Ignore,
            ..base()
        },
        Profile {
            name: "rtmpdump".into(),
            description: "rtmpdump (librtmp 2.4) playing: simple C1 with version 0 (no digest on \
                          plain rtmp://); C2 echoes S1 and goes right after S1, before S2 is read; \
                          S2 not echoing C1 is only warned; TCP_NODELAY; createStream, play.".into(),
            source: "rtmpdump librtmp/handshake.h HandShake() (FP9HandShake only for RTMPE or SWF \
                     verification), rtmp.c SendConnectPacket(); checked against rtmpdump 2.4 on \
                     loopback (snapshots/serve-reference-rtmpdump-play.snap, tests/differential.rs)"
                .into(),
            handshake: ClientConfig {
                c1: SIMPLE_ZERO_VERSION,
                ..ClientConfig::default()
            },
            connect: vec![
                ("app".into(), Amf0Value::string(APP_PLACEHOLDER)),
                ("flashVer".into(), Amf0Value::string("LNX 10,0,32,18")),
                ("tcUrl".into(), Amf0Value::string(TC_URL_PLACEHOLDER)),
                ("fpad".into(), Amf0Value::Boolean(false)),
                ("capabilities".into(), Amf0Value::Number(15.0)),
                ("audioCodecs".into(), Amf0Value::Number(3191.0)),
                ("videoCodecs".into(), Amf0Value::Number(252.0)),
                ("videoFunction".into(), Amf0Value::Number(1.0)),
            ],
            role: Role::Play,
            // librtmp rtmp.c RTMP_ReadPacket(), as for obs.
            zeroed_chunk_opening: true,
            ..base()
        },
    ]
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
}
