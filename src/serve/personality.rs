//! Server personalities: the handshake behaviours of known servers, as data.
//!
//! A personality says what the handshake packets contain (through the core's
//! [`ServerConfig`]), when they may be written and how they are grouped into writes, how
//! strictly C2 is checked, how the server answers commands, and which of the deviation classes
//! of [`crate::deviation`] it exercises. The built-in ones are files in `personalities/`, in
//! the form `serve --personality-file` reads ([`super::personality_file`]), embedded in the
//! binary: adding a server's behaviour means adding one file there, with its source and the
//! line of what it exercises (a test fails for a file that declares nothing), and its line in
//! `BUILT_IN`.

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
///
/// Its text and lists are `'static`, as the protocol core's write plan needs: a personality is
/// read once for the life of the process (the built-in ones at first use, a user's file at
/// start-up), so [`super::personality_file`] leaks what it read.
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
}
