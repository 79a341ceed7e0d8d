//! Personality files: a [`Personality`] as TOML. The built-in personalities are files of this
//! form (`personalities/`, embedded in the binary), and `serve --personality-file` reads a
//! user's own.
//!
//! A file says how its server differs from the reference server: every field it leaves out
//! takes the reference's behaviour (the protocol's defaults), and an unknown field is an error.
//! The file form is its own set of types, so that the protocol core stays free of serde and the
//! file reads as words ("after-c0", "echo-c1-zero-time2"); errors name the file, the line and
//! the field ([`crate::toml_file`]).

use super::personality::{
    C2Check, ChunkTimestamps, CommandAnswer, ConnectResultShape, FirstWrite, Personality,
    PlayAnswer, PublishAnswer, Replies,
};
use crate::deviation::{Deviation, Exercise, Toward};
use crate::protocol::chunk::{ChunkOpening, ExtendedTimestampConvention};
use crate::protocol::handshake::{Packet, ServerConfig, ServerDigest, SimpleS1Body, SimpleS2Style};
use crate::toml_file::{self, parse_version, FileError, Invalid};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

const KIND: &str = "personality file";

/// Reads and checks the personality file at `path`.
pub fn load(path: &Path) -> Result<Personality, FileError> {
    toml_file::load(KIND, path, parse)
}

/// Parses and checks a personality file's text.
pub fn parse(text: &str) -> Result<Personality, FileError> {
    toml_file::parse(KIND, text, FileForm::into_personality)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    /// "CLASS" or "CLASS toward CLIENTS".
    #[serde(default)]
    exercises: Vec<String>,
    #[serde(default)]
    handshake: HandshakeForm,
    #[serde(default)]
    chunks: ChunksForm,
    #[serde(default)]
    replies: RepliesForm,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct HandshakeForm {
    first_write: FirstWrite,
    write_groups: Vec<Vec<Packet>>,
    group_pauses_us: Vec<u64>,
    s2_after_c2: bool,
    tcp_nodelay: bool,
    c2_check: C2Check,
    s0_version: u8,
    digest: DigestForm,
    s1_time: u32,
    s1_echo_c1_time: bool,
    digest_version: String,
    simple_s1: SimpleS1Form,
    simple_s1_version: Option<String>,
    simple_s2: SimpleS2Form,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ChunksForm {
    opening: OpeningForm,
    opening_csid: Option<u32>,
    timestamp_offset: u32,
    full_headers: bool,
    type3_extended_timestamp: ConventionForm,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RepliesForm {
    chunk_size: Option<u32>,
    chunk_size_after_result: bool,
    release_and_fc_publish: CommandAnswer,
    connect_result: ConnectResultShape,
    abort_after_connect: Option<u32>,
    strict_ack_window: Option<u32>,
    publish_answer: PublishAnswer,
    play_answer: PlayAnswer,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DigestForm {
    AnswerInKind,
    SimpleOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SimpleS1Form {
    Random,
    EchoC1,
    RandomWithVersion,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SimpleS2Form {
    EchoC1,
    EchoC1ZeroTime2,
    Zero,
    Random,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
enum OpeningForm {
    #[serde(rename = "type-0")]
    Type0,
    #[serde(rename = "type-1-on-stream-0")]
    Type1OnStream0,
    #[serde(rename = "type-1")]
    Type1,
    #[serde(rename = "type-2")]
    Type2,
    #[serde(rename = "type-3")]
    Type3,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ConventionForm {
    Repeat,
    Omit,
}

/// The reference server: what every field a file leaves out takes.
impl Default for HandshakeForm {
    fn default() -> Self {
        let config = ServerConfig::default();
        HandshakeForm {
            first_write: FirstWrite::AfterC1,
            write_groups: vec![vec![Packet::S0, Packet::S1, Packet::S2]],
            group_pauses_us: Vec::new(),
            s2_after_c2: false,
            tcp_nodelay: true,
            c2_check: C2Check::Warn,
            s0_version: config.s0_version,
            digest: DigestForm::AnswerInKind,
            s1_time: config.time,
            s1_echo_c1_time: config.s1_echo_c1_time,
            digest_version: toml_file::version_text(config.digest_version),
            simple_s1: SimpleS1Form::Random,
            simple_s1_version: None,
            simple_s2: SimpleS2Form::EchoC1,
        }
    }
}

impl Default for ChunksForm {
    fn default() -> Self {
        let standard = ChunkTimestamps::STANDARD;
        ChunksForm {
            opening: OpeningForm::Type0,
            opening_csid: None,
            timestamp_offset: standard.offset,
            full_headers: standard.full_headers,
            type3_extended_timestamp: ConventionForm::Repeat,
        }
    }
}

impl Default for RepliesForm {
    fn default() -> Self {
        let standard = Replies::STANDARD;
        RepliesForm {
            chunk_size: standard.chunk_size,
            chunk_size_after_result: standard.chunk_size_after_result,
            release_and_fc_publish: standard.release_and_fc_publish,
            connect_result: standard.connect_result,
            abort_after_connect: standard.abort_after_connect,
            strict_ack_window: standard.strict_ack_window,
            publish_answer: standard.publish_answer,
            play_answer: standard.play_answer,
        }
    }
}

/// The chunk stream ids a basic header can carry.
const CSIDS: std::ops::RangeInclusive<u32> = 2..=65599;

impl FileForm {
    fn into_personality(self) -> Result<Personality, Invalid> {
        let exercises = self
            .exercises
            .iter()
            .enumerate()
            .map(|(i, text)| {
                exercise(text).map_err(|m| {
                    Invalid::new("", "exercises", format!("entry {} {text:?}: {m}", i + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let h = self.handshake;
        let c = self.chunks;
        let r = self.replies;
        let written: Vec<Packet> = h.write_groups.iter().flatten().copied().collect();
        if written != [Packet::S0, Packet::S1, Packet::S2]
            || h.write_groups.iter().any(Vec::is_empty)
        {
            return Err(Invalid::new(
                "handshake",
                "write_groups",
                "must write S0, S1 and S2 once each, in that order, in groups of one or more \
                 (as [[\"S0\"], [\"S1\", \"S2\"]])",
            ));
        }
        if h.group_pauses_us.len() >= h.write_groups.len() {
            return Err(Invalid::new(
                "handshake",
                "group_pauses_us",
                format!(
                    "{} pauses for {} write groups: one pause goes before each group after the first",
                    h.group_pauses_us.len(),
                    h.write_groups.len()
                ),
            ));
        }
        if let Some(&us) = h.group_pauses_us.iter().find(|&&us| us > 10_000_000) {
            return Err(Invalid::new(
                "handshake",
                "group_pauses_us",
                format!("{us} is more than 10 seconds (10000000 microseconds)"),
            ));
        }
        let digest_version = parse_version(&h.digest_version)
            .map_err(|m| Invalid::new("handshake", "digest_version", m))?;
        let simple_s1 =
            match (h.simple_s1, &h.simple_s1_version) {
                (SimpleS1Form::RandomWithVersion, Some(text)) => SimpleS1Body::RandomWithVersion(
                    parse_version(text)
                        .map_err(|m| Invalid::new("handshake", "simple_s1_version", m))?,
                ),
                (SimpleS1Form::RandomWithVersion, None) => return Err(Invalid::new(
                    "handshake",
                    "simple_s1",
                    "\"random-with-version\" needs simple_s1_version, the version bytes S1 carries",
                )),
                (_, Some(_)) => {
                    return Err(Invalid::new(
                        "handshake",
                        "simple_s1_version",
                        "applies only with simple_s1 = \"random-with-version\"",
                    ))
                }
                (SimpleS1Form::Random, None) => SimpleS1Body::Random,
                (SimpleS1Form::EchoC1, None) => SimpleS1Body::EchoC1,
            };
        let opening = match (c.opening, c.opening_csid) {
            (OpeningForm::Type2 | OpeningForm::Type3, None) => {
                return Err(Invalid::new(
                    "chunks",
                    "opening",
                    "\"type-2\" and \"type-3\" need opening_csid, the chunk stream opened so",
                ))
            }
            (OpeningForm::Type2 | OpeningForm::Type3, Some(csid)) if !CSIDS.contains(&csid) => {
                return Err(Invalid::new(
                    "chunks",
                    "opening_csid",
                    format!("{csid} is not a chunk stream id (2 to 65599)"),
                ))
            }
            (OpeningForm::Type2, Some(csid)) => ChunkOpening::Type2On(csid),
            (OpeningForm::Type3, Some(csid)) => ChunkOpening::Type3On(csid),
            (_, Some(_)) => {
                return Err(Invalid::new(
                    "chunks",
                    "opening_csid",
                    "applies only with opening = \"type-2\" or \"type-3\"",
                ))
            }
            (OpeningForm::Type0, None) => ChunkOpening::Type0,
            (OpeningForm::Type1OnStream0, None) => ChunkOpening::Type1OnStream0,
            (OpeningForm::Type1, None) => ChunkOpening::Type1,
        };
        if let Some(size) = r.chunk_size.filter(|s| !(1..=0x7fff_ffff).contains(s)) {
            return Err(Invalid::new(
                "replies",
                "chunk_size",
                format!("{size} is not between 1 and 2147483647"),
            ));
        }
        if let Some(csid) = r.abort_after_connect.filter(|c| !CSIDS.contains(c)) {
            return Err(Invalid::new(
                "replies",
                "abort_after_connect",
                format!("{csid} is not a chunk stream id (2 to 65599)"),
            ));
        }
        if r.strict_ack_window == Some(0) {
            return Err(Invalid::new(
                "replies",
                "strict_ack_window",
                "0 would let nothing through; the window is a number of bytes above 0",
            ));
        }
        Ok(Personality {
            name: leak(self.name),
            description: leak(self.description),
            source: leak(self.source),
            handshake: ServerConfig {
                s0_version: h.s0_version,
                digest: match h.digest {
                    DigestForm::AnswerInKind => ServerDigest::AnswerInKind,
                    DigestForm::SimpleOnly => ServerDigest::SimpleOnly,
                },
                time: h.s1_time,
                s1_echo_c1_time: h.s1_echo_c1_time,
                digest_version,
                simple_s1,
                simple_s2: match h.simple_s2 {
                    SimpleS2Form::EchoC1 => SimpleS2Style::EchoC1,
                    SimpleS2Form::EchoC1ZeroTime2 => SimpleS2Style::EchoC1ZeroTime2,
                    SimpleS2Form::Zero => SimpleS2Style::Zero,
                    SimpleS2Form::Random => SimpleS2Style::Random,
                },
            },
            first_write: h.first_write,
            write_groups: Box::leak(
                h.write_groups
                    .into_iter()
                    .map(|g| &*g.leak())
                    .collect::<Vec<_>>()
                    .into_boxed_slice(),
            ),
            group_pauses: h
                .group_pauses_us
                .into_iter()
                .map(Duration::from_micros)
                .collect::<Vec<_>>()
                .leak(),
            s2_after_c2: h.s2_after_c2,
            nodelay: h.tcp_nodelay,
            c2_check: h.c2_check,
            chunk_opening: opening,
            replies: Replies {
                chunk_size: r.chunk_size,
                chunk_size_after_result: r.chunk_size_after_result,
                release_and_fc_publish: r.release_and_fc_publish,
                connect_result: r.connect_result,
                abort_after_connect: r.abort_after_connect,
                strict_ack_window: r.strict_ack_window,
                publish_answer: r.publish_answer,
                play_answer: r.play_answer,
            },
            exercises: exercises.leak(),
            chunk_timestamps: ChunkTimestamps {
                offset: c.timestamp_offset,
                full_headers: c.full_headers,
                type3: match c.type3_extended_timestamp {
                    ConventionForm::Repeat => ExtendedTimestampConvention::Repeat,
                    ConventionForm::Omit => ExtendedTimestampConvention::Omit,
                },
            },
        })
    }
}

/// A personality lives as long as the process: the built-in ones are parsed once, a user's
/// file once at start-up, and the protocol core takes its write plan as `'static` slices.
fn leak(text: String) -> &'static str {
    text.leak()
}

/// "CLASS" (toward every client) or "CLASS toward CLIENTS".
fn exercise(text: &str) -> Result<Exercise, String> {
    let (class, clients) = match text.split_once(" toward ") {
        Some((class, clients)) => (class.trim(), Some(clients.trim())),
        None => (text.trim(), None),
    };
    let deviation = Deviation::from_key(class).ok_or_else(|| {
        format!("{class:?} is not a deviation class (rtmp-probe profiles --tolerance ffmpeg lists them)")
    })?;
    let toward = match clients {
        None => Toward::Every,
        Some(words) => Toward::ALL
            .into_iter()
            .find(|t| t.key() == words)
            .ok_or_else(|| {
                let all: Vec<&str> = Toward::ALL.iter().map(|t| t.key()).collect();
                format!("{words:?} is not a kind of client: {}", all.join(", "))
            })?,
    };
    Ok(Exercise { deviation, toward })
}

#[cfg(test)]
mod tests;
