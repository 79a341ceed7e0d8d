//! Server personalities: the handshake behaviours of known servers, as data.
//!
//! A personality says what the handshake packets contain (through the core's
//! [`ServerConfig`]), when they may be written and how they are grouped into writes, and how
//! strictly C2 is checked, and which of the deviation classes of [`crate::deviation`] it
//! exercises. Adding a server's behaviour means adding one entry here with its source and the
//! one line of what it exercises (a test fails for an entry that declares nothing).

use super::personality_file;
use crate::deviation::{every, toward, Deviation::*, Exercise, Toward};
use crate::protocol::chunk::{ChunkOpening, ExtendedTimestampConvention};
use crate::protocol::handshake::{Packet, ServerConfig};
use serde::Deserialize;
use std::sync::LazyLock;
use std::time::Duration;

/// When the server lets its first handshake bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirstWrite {
    /// S0 is written as soon as C0 has been read, before C1 (FFmpeg listen mode; spec-legal).
    AfterC0,
    /// Nothing is written until C1 is complete (the spec allows a server to wait for C1).
    AfterC1,
}

/// What the server does with a C2 that does not echo S1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum C2Check {
    /// Report it as a warning and go on (what nearly every real server does).
    Warn,
    /// Close the connection (breaks FFmpeg playback, whose C2 is signed rather than an echo).
    Strict,
}

/// One server behaviour to imitate.
#[derive(Debug, Clone)]
pub struct Personality {
    pub name: &'static str,
    pub description: &'static str,
    /// Where the behaviour was observed or read.
    pub source: &'static str,
    pub handshake: ServerConfig,
    pub first_write: FirstWrite,
    /// How S0, S1 and S2 are grouped into writes, in order. Each group is one `write` call, sent
    /// as soon as all its packets exist (and, for a group holding S2, when [`Self::s2_after_c2`]
    /// allows).
    pub write_groups: &'static [&'static [Packet]],
    /// The pause before each write group after the first, as measured from the real server
    /// (how long it spends between its writes); the driver sleeps that long. With FFmpeg the
    /// 1.8 ms between S0 and S1 is what makes an encoder's first read hold S0 alone.
    pub group_pauses: &'static [Duration],
    /// Holds S2 back until C2 has arrived (a server that waits for the client first).
    pub s2_after_c2: bool,
    /// Disables Nagle's algorithm; FFmpeg's listen mode leaves it on, which is part of why its
    /// S0 and S1 travel apart.
    pub nodelay: bool,
    pub c2_check: C2Check,
    /// How the server's chunk writer opens a chunk stream (a type-0 header, or type 1 as some
    /// servers do).
    pub chunk_opening: ChunkOpening,
    /// How the server answers after the handshake (Set Chunk Size, releaseStream/FCPublish).
    pub replies: Replies,
    /// The deviation classes this personality exercises beyond what the reference server does
    /// ([`BASELINE`]); see [`Personality::exercised`].
    pub exercises: &'static [Exercise],
    /// The timestamps the server's chunk writer puts on everything it writes.
    pub chunk_timestamps: ChunkTimestamps,
}

/// What the reference server does that a tolerance table has a row for: S1 with a digest to a
/// digest C1 and without to a simple one, and Set Chunk Size before connect's `_result`.
pub const BASELINE: &[Exercise] = &[
    toward(S1DigestPresent, Toward::DigestC1),
    toward(S1DigestAbsent, Toward::SimpleC1),
    every(SetChunkSizeBeforeResult),
];

impl Personality {
    /// Every deviation a client meets from this personality: its own, and the reference's
    /// where it does not replace them (its own S1 or Set Chunk Size timing replaces the
    /// reference's).
    pub fn exercised(&self) -> Vec<Exercise> {
        let mut out = self.exercises.to_vec();
        for base in BASELINE {
            let family = base.deviation.family();
            if !out.iter().any(|e| e.deviation.family() == family) {
                out.push(*base);
            }
        }
        out
    }
}

impl Personality {
    /// Whether no client can publish here, so a player has nothing to play.
    pub fn refuses_every_publish(&self) -> bool {
        self.replies.publish_answer == PublishAnswer::BadName
    }

    /// Whether no publisher's media gets through here: every publish is refused, or it is never
    /// confirmed and the encoders wait for NetStream.Publish.Start before sending media (as
    /// FFmpeg, librtmp and GStreamer rtmp2 do). A player then has nothing to play.
    pub fn leaves_players_no_publisher(&self) -> bool {
        self.refuses_every_publish() || self.replies.publish_answer == PublishAnswer::NoStatus
    }
}

/// How a server's chunk writer stamps its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkTimestamps {
    /// Added to the timestamp of every message, commands and relayed media alike (a server
    /// clocked by an epoch rather than by the session).
    pub offset: u32,
    /// Every message starts with a type-0 header (absolute timestamp), as SRS writes; with an
    /// offset past 0xFFFFFF every message then carries an extended timestamp.
    pub full_headers: bool,
    /// Whether the type-3 continuation chunks of such a message repeat the extended timestamp.
    pub type3: ExtendedTimestampConvention,
}

impl ChunkTimestamps {
    /// The session's own clock from 0, compressed headers, the specification's convention.
    pub const STANDARD: ChunkTimestamps = ChunkTimestamps {
        offset: 0,
        full_headers: false,
        type3: ExtendedTimestampConvention::Repeat,
    };
}

/// What a server's answers to commands differ in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replies {
    /// The chunk size announced after connect in place of the server's setting.
    pub chunk_size: Option<u32>,
    /// Set Chunk Size goes after connect's `_result` instead of before it (so the `_result` is
    /// written at the default chunk size of 128).
    pub chunk_size_after_result: bool,
    /// The answer to releaseStream and FCPublish.
    pub release_and_fc_publish: CommandAnswer,
    /// What connect's `_result` carries.
    pub connect_result: ConnectResultShape,
    /// An Abort message sent right after connect's `_result`, naming this chunk stream.
    pub abort_after_connect: Option<u32>,
    /// A Window Acknowledgement Size announced in place of the server's, enforced: nothing more
    /// goes to the client while its unacknowledged bytes exceed it. Set Peer Bandwidth keeps
    /// the server's size.
    pub strict_ack_window: Option<u32>,
    /// The answer to publish.
    pub publish_answer: PublishAnswer,
    /// The answer to play.
    pub play_answer: PlayAnswer,
}

/// How the server answers publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublishAnswer {
    /// NetStream.Publish.Start once the name is free (BadName when another connection has it).
    Start,
    /// NetStream.Publish.BadName (level error) to every publish, as nginx-rtmp answers a name
    /// already published; the connection stays open.
    BadName,
    /// No onStatus at all: the stream is published on the server side (StreamBegin is sent and
    /// media is relayed to players), but NetStream.Publish.Start never comes.
    NoStatus,
}

/// How the server answers play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlayAnswer {
    /// NetStream.Play.Reset, then NetStream.Play.Start (both level status), as Flash Media
    /// Server 5 answers (capture ffmpeg-player-play-from-adobe-fms5.pcapng).
    ResetThenStart,
    /// NetStream.Play.StreamNotFound (level error), then the connection is closed.
    StreamNotFound,
    /// StreamBegin and the stream's media, but no onStatus (neither Reset nor Start) and no
    /// RtmpSampleAccess.
    NoStatus,
}

/// The fields of connect's `_result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectResultShape {
    /// A properties object (fmsVer, capabilities) and an information object (level, code,
    /// description, objectEncoding).
    Standard,
    /// As SRS answers: `mode` in the properties, and a `data` ECMA array of server details in
    /// the information object.
    ExtraFields,
    /// Null in place of the properties object; the information object as usual.
    NoProperties,
}

impl Replies {
    /// What the reference server does.
    pub const STANDARD: Replies = Replies {
        chunk_size: None,
        chunk_size_after_result: false,
        release_and_fc_publish: CommandAnswer::Result,
        connect_result: ConnectResultShape::Standard,
        abort_after_connect: None,
        strict_ack_window: None,
        publish_answer: PublishAnswer::Start,
        play_answer: PlayAnswer::ResetThenStart,
    };
}

/// How a server answers a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandAnswer {
    /// `_result` (FCPublish also gets onFCPublish first).
    Result,
    /// `_error` with NetConnection.Call.Failed, and nothing else.
    Error,
    /// No answer at all.
    Nothing,
}

/// The built-in personalities' files, the reference first, in the order
/// `serve --list-personalities` prints them.
const BUILT_IN: [(&str, &str); 29] = [
    (
        "reference.toml",
        include_str!("personalities/reference.toml"),
    ),
    ("ffmpeg.toml", include_str!("personalities/ffmpeg.toml")),
    ("nginx.toml", include_str!("personalities/nginx.toml")),
    ("twitch.toml", include_str!("personalities/twitch.toml")),
    (
        "joy4-zero-s2.toml",
        include_str!("personalities/joy4-zero-s2.toml"),
    ),
    (
        "strict-c2.toml",
        include_str!("personalities/strict-c2.toml"),
    ),
    ("wait-c2.toml", include_str!("personalities/wait-c2.toml")),
    (
        "s0-after-c1.toml",
        include_str!("personalities/s0-after-c1.toml"),
    ),
    (
        "type1-open.toml",
        include_str!("personalities/type1-open.toml"),
    ),
    (
        "status-on-stream0.toml",
        include_str!("personalities/status-on-stream0.toml"),
    ),
    (
        "s1-digest-invalid.toml",
        include_str!("personalities/s1-digest-invalid.toml"),
    ),
    (
        "s0-version-6.toml",
        include_str!("personalities/s0-version-6.toml"),
    ),
    (
        "s2-random.toml",
        include_str!("personalities/s2-random.toml"),
    ),
    (
        "chunk-size-huge.toml",
        include_str!("personalities/chunk-size-huge.toml"),
    ),
    (
        "chunk-size-after-result.toml",
        include_str!("personalities/chunk-size-after-result.toml"),
    ),
    (
        "release-fcpublish-error.toml",
        include_str!("personalities/release-fcpublish-error.toml"),
    ),
    (
        "release-fcpublish-silent.toml",
        include_str!("personalities/release-fcpublish-silent.toml"),
    ),
    (
        "result-extra-fields.toml",
        include_str!("personalities/result-extra-fields.toml"),
    ),
    (
        "result-no-properties.toml",
        include_str!("personalities/result-no-properties.toml"),
    ),
    (
        "abort-unknown-csid.toml",
        include_str!("personalities/abort-unknown-csid.toml"),
    ),
    (
        "window-ack-tiny-strict.toml",
        include_str!("personalities/window-ack-tiny-strict.toml"),
    ),
    (
        "play-stream-not-found.toml",
        include_str!("personalities/play-stream-not-found.toml"),
    ),
    (
        "publish-bad-name.toml",
        include_str!("personalities/publish-bad-name.toml"),
    ),
    (
        "type2-open.toml",
        include_str!("personalities/type2-open.toml"),
    ),
    (
        "type3-open.toml",
        include_str!("personalities/type3-open.toml"),
    ),
    (
        "ext-timestamp-repeated.toml",
        include_str!("personalities/ext-timestamp-repeated.toml"),
    ),
    (
        "ext-timestamp-omitted.toml",
        include_str!("personalities/ext-timestamp-omitted.toml"),
    ),
    (
        "publish-status-missing.toml",
        include_str!("personalities/publish-status-missing.toml"),
    ),
    (
        "play-status-missing.toml",
        include_str!("personalities/play-status-missing.toml"),
    ),
];

/// Every built-in personality, the reference first, parsed from its embedded file once.
pub fn all() -> Vec<Personality> {
    built_in().to_vec()
}

fn built_in() -> &'static [Personality] {
    static PARSED: LazyLock<Vec<Personality>> = LazyLock::new(|| {
        BUILT_IN
            .iter()
            .map(|(file, text)| {
                // The files are part of the binary and every one is parsed by the tests.
                personality_file::parse(text)
                    .unwrap_or_else(|e| panic!("built-in personality {file} is broken: {e}"))
            })
            .collect()
    });
    &PARSED
}

/// The built-in personality called `name`, if there is one.
pub fn by_name(name: &str) -> Option<Personality> {
    built_in().iter().find(|p| p.name == name).cloned()
}

/// The personalities as the Rust data they were before they became files, kept only until the
/// test `the_files_say_what_the_rust_data_said` has shown that the files say the same.
#[cfg(test)]
mod before_files {
    use super::*;
    use crate::protocol::handshake::{ServerDigest, SimpleS1Body, SimpleS2Style};

    const S0_S1_S2: &[&[Packet]] = &[&[Packet::S0, Packet::S1, Packet::S2]];
    const S0_S1_THEN_S2: &[&[Packet]] = &[&[Packet::S0, Packet::S1], &[Packet::S2]];
    const S0_THEN_S1_THEN_S2: &[&[Packet]] = &[&[Packet::S0], &[Packet::S1], &[Packet::S2]];

    /// S0 -> S1 1.76 ms, S1 -> S2 0.02 ms in shared/captures/peers/ffmpeg-publish-to-ffmpeg-listen.pcap.
    const FFMPEG_PAUSES: &[Duration] = &[Duration::from_micros(1760), Duration::from_micros(24)];
    /// S0 -> S1 0.44 ms, S1 -> S2 0.79 ms in shared/captures/public/twinx-client-publish-to-twitch-ingest.pcap.
    const TWITCH_PAUSES: &[Duration] = &[Duration::from_micros(440), Duration::from_micros(790)];
    /// The epoch offset of the extended-timestamp personalities: 2^30 ms, a server clock about
    /// 12.4 days in, so every timestamp written needs the extended field.
    const EPOCH_OFFSET: u32 = 0x4000_0000;
    /// What keeps the extended-timestamp personalities at 128-byte chunks: connect's `_result`
    /// (190 bytes) and most media then need continuation chunks.
    const DEFAULT_CHUNK_SIZE_ANNOUNCED: Replies = Replies {
        chunk_size: Some(crate::protocol::chunk::DEFAULT_CHUNK_SIZE),
        ..Replies::STANDARD
    };

    /// The personalities as the Rust data they were before they became files (removed once the
    /// files are shown to say the same).
    pub fn all_in_rust() -> Vec<Personality> {
        let reference = Personality {
        name: "reference",
        description: "Strict and prompt: S0+S1+S2 in one write as soon as C0+C1 are complete \
                      (TCP_NODELAY); digest S1/S2 when C1 carries a valid digest, simple otherwise; \
                      a C2 that does not echo S1 is reported, not fatal.",
        source: "RTMP 1.0 specification (Adobe, 2012), sections 5.2.x; SRS writes S0+S1+S2 the same way",
        handshake: ServerConfig::default(),
        first_write: FirstWrite::AfterC1,
        write_groups: S0_S1_S2,
        group_pauses: &[],
        s2_after_c2: false,
        nodelay: true,
        c2_check: C2Check::Warn,
        chunk_opening: ChunkOpening::Type0,
        replies: Replies::STANDARD,
        // Empty here so that an entry built from this one declares its own (a test insists).
        exercises: &[],
        chunk_timestamps: ChunkTimestamps::STANDARD,
    };
        vec![
        Personality {
            exercises: BASELINE,
            ..reference.clone()
        },
        Personality {
            name: "ffmpeg",
            description: "libavformat listen mode (ffmpeg -listen 1): S0 written alone as soon as C0 \
                          is read, then S1 and S2 as separate writes with Nagle on; simple handshake \
                          only; S1 time = C1 time; S2 = C1 with bytes 4..7 zeroed; C2 mismatch only \
                          warned.",
            source: "FFmpeg libavformat/rtmpproto.c rtmp_server_handshake(); FFmpeg ticket 6453; \
                     measured with FFmpeg 5.1 on loopback (shared/captures/peers)",
            handshake: ServerConfig {
                digest: ServerDigest::SimpleOnly,
                s1_echo_c1_time: true,
                simple_s2: SimpleS2Style::EchoC1ZeroTime2,
                ..ServerConfig::default()
            },
            first_write: FirstWrite::AfterC0,
            write_groups: S0_THEN_S1_THEN_S2,
            group_pauses: FFMPEG_PAUSES,
            nodelay: false,
            // S2 = C1 with bytes 4..7 zeroed: an exact echo of a C1 whose version is 0.
            exercises: const { &[
                every(S0S1S2SplitInTime),
                every(S1DigestAbsent),
                toward(S2EchoFrom8Only, Toward::DigestC1),
            ] },
            ..reference.clone()
        },
        Personality {
            name: "nginx",
            description: "nginx-rtmp: S0+S1 in one write once C0+C1 are read, then S2 as a second \
                          write; digest answer when C1's version bytes are set and a digest \
                          validates, otherwise S1 echoes C1 (old-style handshake).",
            source: "arut/nginx-rtmp-module ngx_rtmp_handshake.c; measured with nginx 1.22 + \
                     libnginx-mod-rtmp 1.2.2 (shared/captures/peers)",
            handshake: ServerConfig {
                simple_s1: SimpleS1Body::EchoC1,
                ..ServerConfig::default()
            },
            write_groups: S0_S1_THEN_S2,
            // The reference's classes only; what differs is outside them.
            exercises: BASELINE,
            ..reference.clone()
        },
        Personality {
            name: "twitch",
            description: "Twitch ingest: once C0+C1 are in, S0 (1 byte), S1 and S2 as three \
                          separate segments about half a millisecond apart.",
            source: "capture twinx-client-publish-to-twitch-ingest.pcap (shared/captures/public), \
                     server FMS/3,5,7,7009",
            write_groups: S0_THEN_S1_THEN_S2,
            group_pauses: TWITCH_PAUSES,
            exercises: const { &[every(S0S1S2SplitInTime)] },
            ..reference.clone()
        },
        Personality {
            name: "joy4-zero-s2",
            description: "joy4 / datarhei Restreamer: in the simple handshake S1 is a copy of C1 and \
                          S2 is 1536 zero bytes (S2 was copied from C2 before C2 was read).",
            source: "nareix/joy4 format/rtmp/rtmp.go; datarhei/restreamer#966; StreamPack#284",
            handshake: ServerConfig {
                simple_s1: SimpleS1Body::EchoC1,
                simple_s2: SimpleS2Style::Zero,
                ..ServerConfig::default()
            },
            exercises: const { &[toward(S2AllZero, Toward::SimpleC1)] },
            ..reference.clone()
        },
        Personality {
            name: "strict-c2",
            description: "Closes the connection when C2's random part does not echo S1 (as go-rtmp \
                          did before its fix; breaks FFmpeg playback and SRS forwarding, whose C2 \
                          is signed).",
            source: "yutopp/go-rtmp#51; SRS handshake.cpp ('never verify c2, for ffmpeg will failed')",
            c2_check: C2Check::Strict,
            // The reference's classes only; what differs is outside them.
            exercises: BASELINE,
            ..reference.clone()
        },
        Personality {
            name: "wait-c2",
            description: "Writes S0+S1 once C1 is complete but holds S2 back until C2 has arrived; \
                          a client that waits for S2 before sending C2 deadlocks.",
            source: "not a known server: the specification lets a server wait for C1, not for \
                     C2; it tests whether a client waits for S2 before C2 (FFmpeg and GStreamer \
                     do, and stall)",
            write_groups: S0_S1_THEN_S2,
            s2_after_c2: true,
            exercises: const { &[every(S2WithheldUntilC2)] },
            ..reference.clone()
        },
        Personality {
            name: "s0-after-c1",
            description: "Writes nothing before C1 is complete, then S0, S1 and S2 as three writes \
                          (gortmplib / MediaMTX read C0 and C1 before writing S0).",
            source: "bluenviron/gortmplib pkg/handshake; the spec lets a server wait for C1",
            first_write: FirstWrite::AfterC1,
            write_groups: S0_THEN_S1_THEN_S2,
            // The reference's classes only; what differs is outside them.
            exercises: BASELINE,
            ..reference.clone()
        },
        Personality {
            name: "type1-open",
            description: "Opens a chunk stream with a type-1 header (no type-0 header before it on \
                          that chunk stream) when the message belongs to message stream 0: \
                          connect's _result arrives on chunk stream 3 as type 1, so a client must \
                          take the missing stream id and timestamp from zeroed state.",
            source: "Eittipat/pyrtmp pyrtmp/messages/__init__.py Chunk.to_raw_chunks() with \
                     session_manager.py write_chunk_to_stream(): the header type is chosen against \
                     the last chunk written on any chunk stream, so connect's _result (csid 3) \
                     written after Set Chunk Size (csid 2, stream 0) gets a type-1 header",
            chunk_opening: ChunkOpening::Type1OnStream0,
            exercises: const { &[every(ChunkStreamOpenedType1)] },
            ..reference.clone()
        },
        Personality {
            name: "status-on-stream0",
            description: "Opens every chunk stream with a type-1 header, so onStatus for publish or \
                          play (chunk stream 5, message stream 1) arrives on message stream 0 by \
                          inheritance from zeroed state, as do the messages compressed after it.",
            source: "not a known server: issue 12's deviation class 'message stream id inherited \
                     as 0' (onStatus on message stream 0), built from pyrtmp's type-1 opening \
                     (see type1-open) applied to every chunk stream",
            chunk_opening: ChunkOpening::Type1,
            exercises: const { &[
                every(ChunkStreamOpenedType1),
                every(MessageStreamIdInheritedZero),
                every(OnStatusOnStream0),
            ] },
            ..reference.clone()
        },
        Personality {
            name: "s1-digest-invalid",
            description: "Always the simple handshake, but S1 carries version bytes 13.14.10.13 \
                          (byte 4 >= 3) with no digest: a client that reads that version as the \
                          promise of a digest and checks it (FFmpeg playing) finds none.",
            source: "not a known server: issue 12's deviation class 'S1 digest invalid'; FFmpeg \
                     libavformat/rtmpproto.c rtmp_handshake() checks S1's digest only when \
                     playing and S1's version byte 4 is >= 3",
            handshake: ServerConfig {
                digest: ServerDigest::SimpleOnly,
                simple_s1: SimpleS1Body::RandomWithVersion([0x0D, 0x0E, 0x0A, 0x0D]),
                ..ServerConfig::default()
            },
            exercises: const { &[every(S1DigestInvalid)] },
            ..reference.clone()
        },
        Personality {
            name: "s0-version-6",
            description: "Answers a C0 of 3 with S0 = 6 (the RTMPE version byte), otherwise as \
                          reference: a client that insists on S0 = 3 stops there.",
            source: "not a known server: issue 12's deviation class 'S0 version != 3'; the \
                     specification has a server answer 3 when it does not know the client's \
                     version, and 6 is what an RTMPE server answers",
            handshake: ServerConfig {
                s0_version: 6,
                ..ServerConfig::default()
            },
            exercises: const { &[every(S0VersionNot3)] },
            ..reference.clone()
        },
        Personality {
            name: "s2-random",
            description: "In the simple handshake S2 is random bytes, an echo of C1 neither from \
                          byte 0 nor from byte 8; a client that checks the echo gives up.",
            source: "not a known server: issue 12's deviation class 'S2 not an echo of C1' (from \
                     byte 8; joy4-zero-s2 covers all zeros, ffmpeg an echo from byte 8 only)",
            handshake: ServerConfig {
                simple_s2: SimpleS2Style::Random,
                ..ServerConfig::default()
            },
            exercises: const { &[toward(S2NotEcho, Toward::SimpleC1)] },
            ..reference.clone()
        },
        Personality {
            name: "chunk-size-huge",
            description: "Announces Set Chunk Size 0x7FFFFFFF (the largest 31-bit value, far past \
                          the 16 MiB a message can hold) after connect: a client that bounds the \
                          chunk size it accepts stops at connect.",
            source: "not a known server: issue 12's deviation class 'Set Chunk Size huge (> 16 \
                     MiB)'; the specification allows any size up to 0x7FFFFFFF",
            replies: Replies {
                chunk_size: Some(0x7FFF_FFFF),
                ..Replies::STANDARD
            },
            exercises: const { &[every(SetChunkSizeHuge)] },
            ..reference.clone()
        },
        Personality {
            name: "chunk-size-after-result",
            description: "Sends Set Chunk Size after connect's _result instead of before it, so the \
                          _result travels in 128-byte chunks and the larger size applies from the \
                          next message.",
            source: "not a known server: issue 12's deviation class 'Set Chunk Size after \
                     _result' (nginx-rtmp and SRS send it before)",
            replies: Replies {
                chunk_size_after_result: true,
                ..Replies::STANDARD
            },
            exercises: const { &[every(SetChunkSizeAfterResult)] },
            ..reference.clone()
        },
        Personality {
            name: "release-fcpublish-error",
            description: "Answers releaseStream and FCPublish with _error \
                          (NetConnection.Call.Failed) and no onFCPublish, as a server that does \
                          not know those calls would; createStream and publish work.",
            source: "not a known server: issue 12's deviation class '_error for \
                     releaseStream/FCPublish'; both calls are Flash Media Server extensions \
                     outside the specification",
            replies: Replies {
                release_and_fc_publish: CommandAnswer::Error,
                ..Replies::STANDARD
            },
            exercises: const { &[toward(ReleaseFcPublishError, Toward::FmlePublishers)] },
            ..reference.clone()
        },
        Personality {
            name: "release-fcpublish-silent",
            description: "Sends no answer at all to releaseStream and FCPublish; createStream and \
                          publish work.",
            source: "not a known server: issue 12's deviation class '_result missing for \
                     releaseStream/FCPublish'",
            replies: Replies {
                release_and_fc_publish: CommandAnswer::Nothing,
                ..Replies::STANDARD
            },
            exercises: const { &[toward(ReleaseFcPublishResultMissing, Toward::FmlePublishers)] },
            ..reference.clone()
        },
        Personality {
            name: "result-extra-fields",
            description: "connect's _result carries more than the usual fields: mode in the \
                          properties object, and a data ECMA array (version, server name) in the \
                          information object, as SRS sends.",
            source: "ossrs/srs trunk/src/protocol/srs_protocol_rtmp_stack.cpp \
                     SrsRtmpServer::response_connect_app() (fmsVer, capabilities, mode; data \
                     with version and srs_* fields)",
            replies: Replies {
                connect_result: ConnectResultShape::ExtraFields,
                ..Replies::STANDARD
            },
            exercises: const { &[every(ResultExtraFields)] },
            ..reference.clone()
        },
        Personality {
            name: "result-no-properties",
            description: "connect's _result has null in place of the properties object (no \
                          fmsVer, no capabilities); the information object says \
                          NetConnection.Connect.Success as usual.",
            source: "not a known server: issue 12's deviation class '_result with missing \
                     fields'",
            replies: Replies {
                connect_result: ConnectResultShape::NoProperties,
                ..Replies::STANDARD
            },
            exercises: const { &[every(ResultMissingFields)] },
            ..reference.clone()
        },
        Personality {
            name: "abort-unknown-csid",
            description: "Sends an Abort message for chunk stream 9, which neither side has used, \
                          right after connect's _result: there is nothing to discard.",
            source: "not a known server: issue 12's deviation class 'Abort for an unknown chunk \
                     stream'",
            replies: Replies {
                abort_after_connect: Some(9),
                ..Replies::STANDARD
            },
            exercises: const { &[every(AbortUnknownChunkStream)] },
            ..reference.clone()
        },
        Personality {
            name: "window-ack-tiny-strict",
            description: "Announces a Window Acknowledgement Size of 512 bytes (Set Peer Bandwidth \
                          stays 2,500,000) and enforces it: nothing more goes to a client whose \
                          unacknowledged bytes exceed 512 until an Acknowledgement covers them. \
                          512 is above all a publisher gets before NetStream.Publish.Start \
                          (about 470 bytes with FMLE's calls and a 12-character key), below what \
                          a player gets before its first media message: a client that never \
                          acknowledges still publishes, but plays nothing. A client that never \
                          acknowledges is closed after the idle timeout (ack.stalled).",
            source: "not a known server: issue 12's deviation class 'Window Acknowledgement Size \
                     tiny and strict ack enforcement'; the specification (5.4.4) has the sender \
                     wait for an Acknowledgement after a window's worth of bytes",
            replies: Replies {
                strict_ack_window: Some(512),
                ..Replies::STANDARD
            },
            exercises: const { &[every(WindowAckTinyStrict)] },
            ..reference.clone()
        },
        Personality {
            name: "play-stream-not-found",
            description: "Answers every play with onStatus NetStream.Play.StreamNotFound (level \
                          error) and closes the connection, as nginx-rtmp does for a stream \
                          nobody publishes when idle_streams is off; publish works.",
            source: "arut/nginx-rtmp-module ngx_rtmp_live_module.c ngx_rtmp_live_play(): \
                     ngx_rtmp_send_status(\"NetStream.Play.StreamNotFound\", \"error\") then \
                     ngx_rtmp_finalize_session()",
            replies: Replies {
                play_answer: PlayAnswer::StreamNotFound,
                ..Replies::STANDARD
            },
            exercises: const { &[toward(OnStatusUnexpectedCode, Toward::Players)] },
            ..reference.clone()
        },
        Personality {
            name: "publish-bad-name",
            description: "Answers every publish with onStatus NetStream.Publish.BadName (level \
                          error), as nginx-rtmp answers a name another client already publishes; \
                          the connection stays open. No one can publish, so a player has nothing \
                          to play: play cases report that they could not be exercised.",
            source: "arut/nginx-rtmp-module ngx_rtmp_live_module.c ngx_rtmp_live_join(): \
                     ngx_rtmp_send_status(\"NetStream.Publish.BadName\", \"error\") when the \
                     stream is already being published",
            replies: Replies {
                publish_answer: PublishAnswer::BadName,
                ..Replies::STANDARD
            },
            exercises: const { &[toward(OnStatusUnexpectedCode, Toward::Publishers)] },
            ..reference.clone()
        },
        Personality {
            name: "type2-open",
            description: "Writes connect's _result as the first message on chunk stream 3 with a \
                          type-2 header (timestamp delta only), as a writer whose state for that \
                          chunk stream is stale from a message the client never got: a client \
                          starting from zeroed state takes length 0 and type 0, then reads \
                          _result's payload as chunk headers.",
            source: "not a known server: issue 12's deviation class 'chunk stream opened with \
                     type 2'. pyrtmp (see type1-open) can write it: Chunk.to_raw_chunks() \
                     picks type 2 whenever the last chunk written, on any chunk stream, had \
                     the same message stream, length and type",
            chunk_opening: ChunkOpening::Type2On(3),
            exercises: const { &[every(ChunkStreamOpenedType2)] },
            ..reference.clone()
        },
        Personality {
            name: "type3-open",
            description: "Writes connect's _result as the first message on chunk stream 3 with a \
                          type-3 header (no fields), as a writer whose state for that chunk stream \
                          is stale: a client starting from zeroed state takes length 0 and type 0, \
                          then reads _result's payload as chunk headers.",
            source: "not a known server: issue 12's deviation class 'chunk stream opened with \
                     type 3'. pyrtmp's Chunk.to_raw_chunks() never writes a type-3 first chunk \
                     (its test for type 3 is unreachable), so this is pyrtmp's type-2 case one \
                     step further",
            chunk_opening: ChunkOpening::Type3On(3),
            exercises: const { &[every(ChunkStreamOpenedType3)] },
            ..reference.clone()
        },
        Personality {
            name: "ext-timestamp-repeated",
            description: "Stamps everything it writes 2^30 ms on (an epoch clock), so every \
                          timestamp needs the 4-byte extended field; keeps 128-byte chunks (Set \
                          Chunk Size 128) and a type-0 header on every message, so connect's \
                          _result and media span chunks; each type-3 continuation chunk repeats \
                          the extended timestamp.",
            source: "RTMP 1.0 specification (2012) 5.3.1.3, as FFmpeg libavformat/rtmppkt.c \
                     ff_rtmp_packet_write() and SRS SrsProtocol::do_simple_send() write it (SRS \
                     starts every message with srs_chunk_header_c0() and continues with \
                     srs_chunk_header_c3(), which carries the extended timestamp)",
            replies: DEFAULT_CHUNK_SIZE_ANNOUNCED,
            chunk_timestamps: ChunkTimestamps {
                offset: EPOCH_OFFSET,
                full_headers: true,
                type3: ExtendedTimestampConvention::Repeat,
            },
            exercises: const { &[every(ExtendedTimestampRepeatedOnType3)] },
            ..reference.clone()
        },
        Personality {
            name: "ext-timestamp-omitted",
            description: "As ext-timestamp-repeated (every timestamp past 0xFFFFFF, 128-byte \
                          chunks, a type-0 header on every message), but type-3 continuation \
                          chunks carry no extended timestamp: a client that reads 4 bytes there \
                          takes them from the payload.",
            source: "iizukanao/node-rtsp-rtmp-server wrote type-3 chunks without it until PR \
                     #127 (FFmpeg recording from it failed after about 4 h 38 min); creytiv/re \
                     (libre's RTMP) until PR #183/#184; the 2009 specification said type-3 \
                     chunks have none (ossrs/srs PR #4365)",
            replies: DEFAULT_CHUNK_SIZE_ANNOUNCED,
            chunk_timestamps: ChunkTimestamps {
                offset: EPOCH_OFFSET,
                full_headers: true,
                type3: ExtendedTimestampConvention::Omit,
            },
            exercises: const { &[every(ExtendedTimestampOmittedOnType3)] },
            ..reference.clone()
        },
        Personality {
            name: "publish-status-missing",
            description: "Never answers publish with onStatus: the stream is published on the \
                          server side (StreamBegin is sent, media is relayed to players) but \
                          NetStream.Publish.Start never comes. An encoder that waits for it \
                          sends no media, so a player has nothing to play: play cases report \
                          that they could not be exercised.",
            source: "arut/nginx-rtmp-module ngx_rtmp_live_module.c ngx_rtmp_live_publish(): \
                     the stream is joined, and NetStream.Publish.Start is sent only when the \
                     publish is not silent (ngx_rtmp_relay_module.c publishes its own relay \
                     sessions with v.silent = 1); here every publish is treated so",
            replies: Replies {
                publish_answer: PublishAnswer::NoStatus,
                ..Replies::STANDARD
            },
            exercises: const { &[toward(OnStatusMissing, Toward::Publishers)] },
            ..reference.clone()
        },
        Personality {
            name: "play-status-missing",
            description: "Answers play with StreamBegin and the stream's media but no onStatus \
                          (neither NetStream.Play.Reset nor NetStream.Play.Start) and no \
                          RtmpSampleAccess; publish works.",
            source: "arut/nginx-rtmp-module ngx_rtmp_live_module.c ngx_rtmp_live_play() and \
                     ngx_rtmp_live_set_status(): StreamBegin always, the statuses only when the \
                     play is not silent (ngx_rtmp_relay_module.c plays its own relay sessions \
                     with v.silent = 1); here every play is treated so",
            replies: Replies {
                play_answer: PlayAnswer::NoStatus,
                ..Replies::STANDARD
            },
            exercises: const { &[toward(OnStatusMissing, Toward::Players)] },
            ..reference
        },
    ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deviation::Deviation;
    use crate::protocol::handshake::SimpleS2Style;

    #[test]
    fn names_are_unique_and_every_group_list_writes_each_packet_once() {
        let all = all();
        let mut names: Vec<_> = all.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for p in &all {
            let written: Vec<Packet> = p
                .write_groups
                .iter()
                .flat_map(|g| g.iter().copied())
                .collect();
            assert_eq!(written, [Packet::S0, Packet::S1, Packet::S2], "{}", p.name);
            assert!(!p.description.is_empty() && !p.source.is_empty());
        }
    }

    #[test]
    fn every_personality_declares_what_it_exercises_and_its_data_agrees() {
        for p in all() {
            assert!(
                !p.exercises.is_empty(),
                "personality {} declares no deviation class it exercises: add its `exercises` line",
                p.name
            );
            let declared: Vec<Deviation> = p.exercised().iter().map(|e| e.deviation).collect();
            let r = &p.replies;
            let s0_alone_first = p.write_groups.first() == Some(&&[Packet::S0][..])
                && (p.first_write == FirstWrite::AfterC0 || !p.group_pauses.is_empty());
            let implied = [
                (p.handshake.s0_version != 3, S0VersionNot3),
                (s0_alone_first, S0S1S2SplitInTime),
                (p.s2_after_c2, S2WithheldUntilC2),
                (p.handshake.simple_s2 == SimpleS2Style::Zero, S2AllZero),
                (p.handshake.simple_s2 == SimpleS2Style::Random, S2NotEcho),
                (
                    matches!(
                        p.chunk_opening,
                        ChunkOpening::Type1 | ChunkOpening::Type1OnStream0
                    ),
                    ChunkStreamOpenedType1,
                ),
                (
                    matches!(p.chunk_opening, ChunkOpening::Type2On(_)),
                    ChunkStreamOpenedType2,
                ),
                (
                    matches!(p.chunk_opening, ChunkOpening::Type3On(_)),
                    ChunkStreamOpenedType3,
                ),
                (
                    p.chunk_timestamps.offset >= 0xFF_FFFF
                        && p.chunk_timestamps.type3 == ExtendedTimestampConvention::Repeat,
                    ExtendedTimestampRepeatedOnType3,
                ),
                (
                    p.chunk_timestamps.offset >= 0xFF_FFFF
                        && p.chunk_timestamps.type3 == ExtendedTimestampConvention::Omit,
                    ExtendedTimestampOmittedOnType3,
                ),
                (
                    r.chunk_size.is_some_and(|n| n > 0xFF_FFFF),
                    SetChunkSizeHuge,
                ),
                (r.chunk_size_after_result, SetChunkSizeAfterResult),
                (!r.chunk_size_after_result, SetChunkSizeBeforeResult),
                (
                    r.release_and_fc_publish == CommandAnswer::Error,
                    ReleaseFcPublishError,
                ),
                (
                    r.release_and_fc_publish == CommandAnswer::Nothing,
                    ReleaseFcPublishResultMissing,
                ),
                (
                    r.connect_result == ConnectResultShape::ExtraFields,
                    ResultExtraFields,
                ),
                (
                    r.connect_result == ConnectResultShape::NoProperties,
                    ResultMissingFields,
                ),
                (r.abort_after_connect.is_some(), AbortUnknownChunkStream),
                (r.strict_ack_window.is_some(), WindowAckTinyStrict),
                (
                    r.play_answer == PlayAnswer::StreamNotFound
                        || r.publish_answer == PublishAnswer::BadName,
                    OnStatusUnexpectedCode,
                ),
                (
                    r.play_answer == PlayAnswer::NoStatus
                        || r.publish_answer == PublishAnswer::NoStatus,
                    OnStatusMissing,
                ),
            ];
            for (does, deviation) in implied {
                if does {
                    assert!(
                        declared.contains(&deviation),
                        "personality {} does {} but does not declare it",
                        p.name,
                        deviation.key()
                    );
                }
            }
        }
    }

    #[test]
    fn the_issue_names_are_all_there() {
        for name in [
            "reference",
            "ffmpeg",
            "nginx",
            "twitch",
            "joy4-zero-s2",
            "strict-c2",
            "wait-c2",
            "s0-after-c1",
            "type1-open",
            "status-on-stream0",
            "s1-digest-invalid",
            "s0-version-6",
            "s2-random",
            "chunk-size-huge",
            "chunk-size-after-result",
            "release-fcpublish-error",
            "release-fcpublish-silent",
            "result-extra-fields",
            "result-no-properties",
            "abort-unknown-csid",
            "window-ack-tiny-strict",
            "play-stream-not-found",
            "publish-bad-name",
            "type2-open",
            "type3-open",
            "ext-timestamp-repeated",
            "ext-timestamp-omitted",
            "publish-status-missing",
            "play-status-missing",
        ] {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert!(by_name("nope").is_none());
    }

    /// The files say exactly what the Rust data said: every field of every personality, in
    /// the same order ({:#?} prints every field, the pauses to the nanosecond).
    #[test]
    fn the_files_say_what_the_rust_data_said() {
        let files = all();
        let rust = before_files::all_in_rust();
        assert_eq!(files.len(), rust.len());
        for (file, rust) in files.iter().zip(&rust) {
            assert_eq!(format!("{file:#?}"), format!("{rust:#?}"), "{}", rust.name);
        }
    }
}
