//! Profile files: a [`Profile`] as TOML a user can read and edit, written by
//! `replay --export-profile` and read by `probe --profile-file` and `matrix --profile-file`.
//!
//! The file form is its own set of types so the protocol core stays free of serde and the file
//! reads as words ("digest", "after-s1") rather than Rust enums. Fields a file leaves out take
//! the behaviour of [`Profile::default`]; unknown fields are errors, so a typo is not silently
//! ignored. The file's `[[basis]]` and `[tolerance]` sections are the profile's tolerance
//! table ([`crate::emulate::tolerance::Table`] reads and writes the rows): the one place that
//! says how the client reacts to a server's deviations. A field of older files that said the
//! same as a row is refused, naming the row that replaces it. Errors name the file, the line and
//! the field ([`crate::toml_file`]).

use super::profile::{
    C0C1Writes, C2Timing, ChunkSizeWhen, ClientHandshake, ExtendedTimestampReading, Profile,
    PublishSequence, Role, StopStyle,
};
use super::tolerance::{Basis, Table};
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::AckCadence;
use crate::protocol::handshake::{C1Body, C1Style, C2Style, DigestLayout};
use crate::toml_file::{self, parse_version, FileError, Invalid};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// What is wrong with a profile file, and where.
pub type ProfileFileError = FileError;

const KIND: &str = "profile file";

/// Reads and checks the profile file at `path`.
pub fn load(path: &Path) -> Result<Profile, ProfileFileError> {
    toml_file::load(KIND, path, parse)
}

/// Parses and checks a profile file's text.
pub fn parse(text: &str) -> Result<Profile, ProfileFileError> {
    toml_file::parse(KIND, text, FileForm::into_profile)
}

/// The profile as a file: a comment explaining every field, `notes` (what the writer could not
/// tell, say) as comments, then the TOML.
pub fn to_toml(profile: &Profile, notes: &[String]) -> String {
    let mut out = String::from(HEADER);
    if !notes.is_empty() {
        out.push_str("#\n# Notes on this profile:\n");
        for note in notes {
            out.push_str(&format!("#   - {note}\n"));
        }
    }
    out.push('\n');
    let body = toml::to_string(&FileForm::from_profile(profile))
        .expect("a profile's file form always serialises");
    out.push_str(&body);
    out
}

const HEADER: &str = "\
# rtmp-probe client profile. Run it with:  rtmp-probe probe rtmp://HOST/APP --profile-file THIS
# Fields left out take librtmp-like defaults; unknown fields are an error. The built-in
# profiles are files of this form (src/emulate/profiles/).
#
#   name                    the profile's name (required); description, source: what it
#                           models and where that behaviour was seen (shown by `profiles NAME`)
# [handshake]
#   c0_version              the C0 byte (3 is RTMP)
#   c0c1_writes             \"together\": C0+C1 in one write; \"apart\": C0, a pause, then C1
#   c0c1_pause_ms           with \"apart\": milliseconds between the two writes
#   write_ready_reenters_handshake  crash (reset) when S0 alone arrived before C1 was written
#                           (VideoCore; see docs/videocore-6453.md)
#   c1                      \"simple\" (no digest) or \"digest\" (Flash-style HMAC digest)
#   c1_time, c1_version     C1's time field and its version field (\"a.b.c.d\")
#   c1_body                 simple only: \"random\" or \"zero\"
#   c1_digest_layout        digest only: \"base8\" or \"base772\"
#   c2                      \"echo\" (a copy of S1), \"echo-zero-time2\" (S1, bytes 4..8 zeroed),
#                           \"echo-time2\" (S1, bytes 4..8 = c2_time2), \"signed\" (signed for
#                           S1's digest), \"auto\" (FFmpeg: signed only for a digest S1 >= 3.x)
#   c2_time2                with \"echo-time2\": the time2 value written into C2
#   c2_timing               \"after-s1\", \"after-s2\", or \"with-connect\" (C2 and connect in one write)
# [session]
#   role                    \"publish\" or \"play\"
#   publish_commands        publish only: \"fmle\" (releaseStream, FCPublish, createStream,
#                           publish) or \"flash\" (createStream, publish)
#   stop                    publish only: \"fc-unpublish-delete-stream\", \"empty-publish\"
#                           (publish with an empty name) or \"delete-stream\"
#   own_chunk_size          a Set Chunk Size the client sends on its own (omit for none) ...
#   own_chunk_size_when     ... \"before-connect\", \"after-connect\" or \"after-publish\"
#   echo_chunk_size         answer the server's Set Chunk Size with the same value
#   answer_peer_bandwidth   answer Set Peer Bandwidth with a Window Acknowledgement Size
#   tcp_nodelay             TCP_NODELAY (Nagle off)
#   ack_cadence             when the client acknowledges: \"window\" (every window, the spec),
#                           \"half-window\" (FFmpeg), \"peer-bandwidth-tenth\" (librtmp: a tenth
#                           of Set Peer Bandwidth, whatever the window) or \"never\"
#   fatal_status_codes      the onStatus codes that end the client, whatever their level
#                           (librtmp: four); omitted, any error-level onStatus does
#   extended_timestamp_reading  a type-3 chunk after an extended timestamp: detect (tell
#                           repeated from omitted), repeat (always read the 4 bytes: FFmpeg,
#                           librtmp) or omit (never read them)
# [connect]
#   the connect command object's fields, in order: strings, numbers, booleans, tables;
#   \"{app}\" and \"{tcUrl}\" stand for the probe URL's application and rtmp://host:port/app
# [[basis]]
#   how the profile's behaviours are known: kind (\"modelled\" or \"checked\"), source, covers
# [tolerance]
#   how the client reacts to each server deviation, the one place that says it
#   (`rtmp-probe profiles --tolerance ffmpeg` lists the classes): \"accept\", \"warn\",
#   \"fail:STAGE\", \"stall:STAGE\" or \"unknown\", STAGE one of handshake, connect, publish,
#   play, media; e.g. s2-not-echo = \"fail:handshake\", or with its source as a table
#   [tolerance.s2-not-echo] with reaction, source and note. A class without a row gets the
#   specification's strict reading. A fail row for s1-digest-invalid also has the client check
#   S2's signature (FFmpeg playing); a stall row for on-status-on-stream-0 has it take status
#   and media only on the stream createStream gave (GStreamer rtmp2)
";

// ----- the file form -----

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    handshake: HandshakeForm,
    #[serde(default)]
    session: SessionForm,
    /// Omitted: the default profile's connect fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    connect: Option<toml::Table>,
    /// How the profile's behaviours are known (every built-in profile says).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    basis: Vec<Basis>,
    /// Deviation keys to reactions (a rule, or a table with its source); a class without a
    /// row gets the strict reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tolerance: Option<toml::Table>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct HandshakeForm {
    c0_version: u8,
    c0c1_writes: C0C1Form,
    #[serde(skip_serializing_if = "Option::is_none")]
    c0c1_pause_ms: Option<f64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    write_ready_reenters_handshake: bool,
    c1: C1Form,
    c1_time: u32,
    c1_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    c1_body: Option<C1BodyForm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    c1_digest_layout: Option<LayoutForm>,
    c2: C2Form,
    #[serde(skip_serializing_if = "Option::is_none")]
    c2_time2: Option<u32>,
    c2_timing: C2Timing,
    // Removed: what a [tolerance] row says (see `Removed`).
    #[serde(skip_serializing)]
    first_read_needs_s0_s1: Option<toml::Value>,
    #[serde(skip_serializing)]
    s2_check: Option<toml::Value>,
    #[serde(skip_serializing)]
    server_validation: Option<toml::Value>,
    #[serde(skip_serializing)]
    strict_s0: Option<toml::Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SessionForm {
    role: RoleForm,
    #[serde(skip_serializing_if = "Option::is_none")]
    publish_commands: Option<PublishSequence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<StopStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    own_chunk_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    own_chunk_size_when: Option<ChunkSizeWhen>,
    echo_chunk_size: bool,
    answer_peer_bandwidth: bool,
    tcp_nodelay: bool,
    ack_cadence: AckCadence,
    #[serde(skip_serializing_if = "Option::is_none")]
    fatal_status_codes: Option<Vec<String>>,
    extended_timestamp_reading: ExtendedTimestampReading,
    // Removed: what a [tolerance] row says (see `Removed`).
    #[serde(skip_serializing)]
    strict_stream_ids: Option<toml::Value>,
    #[serde(skip_serializing)]
    zeroed_chunk_opening: Option<toml::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum C0C1Form {
    Together,
    Apart,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum C1Form {
    Simple,
    Digest,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum C1BodyForm {
    Random,
    Zero,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum LayoutForm {
    Base8,
    Base772,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum C2Form {
    Echo,
    EchoZeroTime2,
    EchoTime2,
    Signed,
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RoleForm {
    Publish,
    Play,
}

/// Omitted fields take the default profile's values, except those that apply to one choice
/// only (the C1 body to a simple C1, say): they stay unset, so setting one for the other choice
/// is caught, and the choice's own default applies.
impl Default for HandshakeForm {
    fn default() -> Self {
        let mut form = FileForm::from_profile(&Profile::default()).handshake;
        form.c0c1_pause_ms = None;
        form.c1_body = None;
        form.c1_digest_layout = None;
        form.c2_time2 = None;
        form
    }
}

impl Default for SessionForm {
    fn default() -> Self {
        let mut form = FileForm::from_profile(&Profile::default()).session;
        form.publish_commands = None;
        form.stop = None;
        form.own_chunk_size = None;
        form.own_chunk_size_when = None;
        form
    }
}

impl FileForm {
    fn from_profile(p: &Profile) -> FileForm {
        let hs = &p.handshake;
        let (c1, c1_time, version, c1_body, c1_digest_layout) = match hs.c1 {
            C1Style::Simple {
                time,
                version,
                body,
            } => (
                C1Form::Simple,
                time,
                version,
                Some(match body {
                    C1Body::Random => C1BodyForm::Random,
                    C1Body::Zero => C1BodyForm::Zero,
                }),
                None,
            ),
            C1Style::Digest {
                time,
                version,
                layout,
            } => (
                C1Form::Digest,
                time,
                version,
                None,
                Some(match layout {
                    DigestLayout::Base8 => LayoutForm::Base8,
                    DigestLayout::Base772 => LayoutForm::Base772,
                }),
            ),
        };
        let (c2, c2_time2) = match hs.c2 {
            C2Style::EchoS1 => (C2Form::Echo, None),
            C2Style::EchoS1ZeroTime2 => (C2Form::EchoZeroTime2, None),
            C2Style::EchoS1WithTime2(t) => (C2Form::EchoTime2, Some(t)),
            C2Style::Signed => (C2Form::Signed, None),
            C2Style::Auto => (C2Form::Auto, None),
        };
        let (c0c1_writes, c0c1_pause_ms) = match p.c0c1 {
            C0C1Writes::Together => (C0C1Form::Together, None),
            C0C1Writes::Apart(pause) => (C0C1Form::Apart, Some(pause.as_secs_f64() * 1000.0)),
        };
        let (role, publish_commands, stop) = match p.role {
            Role::Publish { sequence, stop } => (RoleForm::Publish, Some(sequence), Some(stop)),
            Role::Play => (RoleForm::Play, None, None),
        };
        FileForm {
            name: p.name.clone(),
            description: p.description.clone(),
            source: p.source.clone(),
            handshake: HandshakeForm {
                c0_version: hs.c0_version,
                c0c1_writes,
                c0c1_pause_ms,
                write_ready_reenters_handshake: p.write_ready_reenters_handshake,
                c1,
                c1_time,
                c1_version: toml_file::version_text(version),
                c1_body,
                c1_digest_layout,
                c2,
                c2_time2,
                c2_timing: p.c2_timing,
                first_read_needs_s0_s1: None,
                s2_check: None,
                server_validation: None,
                strict_s0: None,
            },
            session: SessionForm {
                role,
                publish_commands,
                stop,
                own_chunk_size: p.own_chunk_size.map(|(_, size)| size),
                own_chunk_size_when: p.own_chunk_size.map(|(when, _)| when),
                echo_chunk_size: p.echo_chunk_size,
                answer_peer_bandwidth: p.answer_peer_bandwidth,
                tcp_nodelay: p.nodelay,
                ack_cadence: p.ack_cadence,
                fatal_status_codes: p.fatal_status_codes.clone(),
                extended_timestamp_reading: p.extended_timestamp_reading,
                strict_stream_ids: None,
                zeroed_chunk_opening: None,
            },
            connect: Some(
                p.connect
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), to_toml_value(v)?)))
                    .collect(),
            ),
            basis: p.tolerance.basis.clone(),
            tolerance: (!p.tolerance.row.is_empty()).then(|| p.tolerance.to_section()),
        }
    }

    fn into_profile(self) -> Result<Profile, Invalid> {
        let h = self.handshake;
        let s = self.session;
        let removed = [
            (
                h.first_read_needs_s0_s1.is_some(),
                &Removed::FIRST_READ_NEEDS_S0_S1,
            ),
            (h.s2_check.is_some(), &Removed::S2_CHECK),
            (h.server_validation.is_some(), &Removed::SERVER_VALIDATION),
            (h.strict_s0.is_some(), &Removed::STRICT_S0),
            (s.strict_stream_ids.is_some(), &Removed::STRICT_STREAM_IDS),
            (
                s.zeroed_chunk_opening.is_some(),
                &Removed::ZEROED_CHUNK_OPENING,
            ),
        ];
        if let Some((_, r)) = removed.into_iter().find(|(present, _)| *present) {
            return Err(Invalid::new(
                r.table,
                r.key,
                format!(
                    "was removed: how the client reacts to a server is said once, in its \
                     [tolerance] rows; {}",
                    r.instead
                ),
            ));
        }
        let c0c1 = match (h.c0c1_writes, h.c0c1_pause_ms) {
            (C0C1Form::Together, None) => C0C1Writes::Together,
            (C0C1Form::Together, Some(_)) => {
                return Err(Invalid::new(
                    "handshake",
                    "c0c1_pause_ms",
                    "applies only with c0c1_writes = \"apart\"",
                ))
            }
            (C0C1Form::Apart, pause) => {
                let ms = pause.unwrap_or(0.0);
                if !(0.0..=10_000.0).contains(&ms) {
                    return Err(Invalid::new(
                        "handshake",
                        "c0c1_pause_ms",
                        format!("{ms} is not between 0 and 10000 milliseconds"),
                    ));
                }
                C0C1Writes::Apart(Duration::from_secs_f64(ms / 1000.0))
            }
        };
        let version =
            parse_version(&h.c1_version).map_err(|m| Invalid::new("handshake", "c1_version", m))?;
        let c1 = match h.c1 {
            C1Form::Simple => {
                if h.c1_digest_layout.is_some() {
                    return Err(Invalid::new(
                        "handshake",
                        "c1_digest_layout",
                        "applies only with c1 = \"digest\"",
                    ));
                }
                C1Style::Simple {
                    time: h.c1_time,
                    version,
                    body: match h.c1_body.unwrap_or(C1BodyForm::Random) {
                        C1BodyForm::Random => C1Body::Random,
                        C1BodyForm::Zero => C1Body::Zero,
                    },
                }
            }
            C1Form::Digest => {
                if h.c1_body.is_some() {
                    return Err(Invalid::new(
                        "handshake",
                        "c1_body",
                        "applies only with c1 = \"simple\" (a digest C1's body is random)",
                    ));
                }
                C1Style::Digest {
                    time: h.c1_time,
                    version,
                    layout: match h.c1_digest_layout.unwrap_or(LayoutForm::Base8) {
                        LayoutForm::Base8 => DigestLayout::Base8,
                        LayoutForm::Base772 => DigestLayout::Base772,
                    },
                }
            }
        };
        let c2 = match (h.c2, h.c2_time2) {
            (C2Form::EchoTime2, Some(t)) => C2Style::EchoS1WithTime2(t),
            (C2Form::EchoTime2, None) => {
                return Err(Invalid::new(
                    "handshake",
                    "c2",
                    "\"echo-time2\" needs c2_time2, the value of C2's bytes 4..8",
                ))
            }
            (_, Some(_)) => {
                return Err(Invalid::new(
                    "handshake",
                    "c2_time2",
                    "applies only with c2 = \"echo-time2\"",
                ))
            }
            (C2Form::Echo, None) => C2Style::EchoS1,
            (C2Form::EchoZeroTime2, None) => C2Style::EchoS1ZeroTime2,
            (C2Form::Signed, None) => C2Style::Signed,
            (C2Form::Auto, None) => C2Style::Auto,
        };
        let role = match s.role {
            RoleForm::Publish => Role::Publish {
                sequence: s.publish_commands.unwrap_or(PublishSequence::Fmle),
                stop: s.stop.unwrap_or(StopStyle::FcUnpublishDeleteStream),
            },
            RoleForm::Play => {
                if s.publish_commands.is_some() {
                    return Err(Invalid::new(
                        "session",
                        "publish_commands",
                        "applies only with role = \"publish\"",
                    ));
                }
                if s.stop.is_some() {
                    return Err(Invalid::new(
                        "session",
                        "stop",
                        "applies only with role = \"publish\"",
                    ));
                }
                Role::Play
            }
        };
        let own_chunk_size = match (s.own_chunk_size, s.own_chunk_size_when) {
            (None, None) => None,
            (Some(size), Some(when)) if (1..=0x7fff_ffff).contains(&size) => Some((when, size)),
            (Some(size), Some(_)) => {
                return Err(Invalid::new(
                    "session",
                    "own_chunk_size",
                    format!("{size} is not between 1 and 2147483647"),
                ))
            }
            (Some(_), None) => {
                return Err(Invalid::new(
                    "session",
                    "own_chunk_size",
                    "needs own_chunk_size_when to say when it is sent",
                ))
            }
            (None, Some(_)) => {
                return Err(Invalid::new(
                    "session",
                    "own_chunk_size_when",
                    "needs own_chunk_size, the size to send",
                ))
            }
        };
        let connect = match self.connect {
            None => Profile::default().connect,
            Some(table) => table
                .into_iter()
                .map(|(k, v)| {
                    let value =
                        from_toml_value(&v).map_err(|m| Invalid::new("connect", k.clone(), m))?;
                    Ok((k, value))
                })
                .collect::<Result<_, Invalid>>()?,
        };
        let row = match &self.tolerance {
            None => Vec::new(),
            Some(section) => Table::rows_from_section(section)?,
        };
        if let Some(b) = self
            .basis
            .iter()
            .find(|b| b.source.trim().is_empty() || b.covers.trim().is_empty())
        {
            let key = if b.source.trim().is_empty() {
                "source"
            } else {
                "covers"
            };
            return Err(Invalid::new(
                "basis",
                key,
                "is empty: say what the basis rests on and what it covers",
            ));
        }
        let tolerance = Table {
            basis: self.basis,
            row,
        };
        Ok(Profile {
            name: self.name,
            description: self.description,
            source: self.source,
            handshake: ClientHandshake {
                c0_version: h.c0_version,
                c1,
                c2,
            },
            c0c1,
            write_ready_reenters_handshake: h.write_ready_reenters_handshake,
            c2_timing: h.c2_timing,
            role,
            connect,
            echo_chunk_size: s.echo_chunk_size,
            nodelay: s.tcp_nodelay,
            answer_peer_bandwidth: s.answer_peer_bandwidth,
            own_chunk_size,
            tolerance,
            ack_cadence: s.ack_cadence,
            fatal_status_codes: s.fatal_status_codes,
            extended_timestamp_reading: s.extended_timestamp_reading,
        })
    }
}

/// A field of older profile files that said what a `[tolerance]` row says. A file that still
/// has one is refused with the rows that replace it rather than read as an alias, so that no
/// reaction can be said twice (and one of the two silently win).
struct Removed {
    table: &'static str,
    key: &'static str,
    instead: &'static str,
}

impl Removed {
    const FIRST_READ_NEEDS_S0_S1: Removed = Removed {
        table: "handshake",
        key: "first_read_needs_s0_s1",
        instead: "write s0-s1-s2-split-in-time = \"fail:handshake\" there for true (the client \
                  resets unless its first read holds S0+S1), \"accept\" for false",
    };
    const S2_CHECK: Removed = Removed {
        table: "handshake",
        key: "s2_check",
        instead: "write s2-not-echo and s2-all-zero there: \"accept\" for \"ignore\", \"warn\" \
                  for \"warn\", \"fail:handshake\" for \"require-echo-from-8\"",
    };
    const SERVER_VALIDATION: Removed = Removed {
        table: "handshake",
        key: "server_validation",
        instead: "write s1-digest-invalid = \"fail:handshake\" there for \"ffmpeg-play\" (the \
                  client then also checks S2's signature, as FFmpeg playing does), \"accept\" for \
                  \"none\"",
    };
    const STRICT_S0: Removed = Removed {
        table: "handshake",
        key: "strict_s0",
        instead: "write s0-version-not-3 = \"fail:handshake\" there for true, \"accept\" for false",
    };
    const STRICT_STREAM_IDS: Removed = Removed {
        table: "session",
        key: "strict_stream_ids",
        instead: "write on-status-on-stream-0 = \"stall:publish\" (\"stall:play\" for a player) \
                  there for true (the client then takes status and media only on its own \
                  stream), \"accept\" for false",
    };
    const ZEROED_CHUNK_OPENING: Removed = Removed {
        table: "session",
        key: "zeroed_chunk_opening",
        instead: "write chunk-stream-opened-type-1, -2 and -3 = \"accept\" there for true; \
                  false was the specification's strict reading, which a class without a row \
                  gets",
    };
}

/// An AMF0 value as TOML; None for what TOML cannot hold (null, undefined, arrays...).
pub fn to_toml_value(v: &Amf0Value) -> Option<toml::Value> {
    Some(match v {
        Amf0Value::String(s) | Amf0Value::LongString(s) => toml::Value::String(s.clone()),
        Amf0Value::Boolean(b) => toml::Value::Boolean(*b),
        // Whole numbers as integers, so "capabilities = 15" reads as it was meant.
        Amf0Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            toml::Value::Integer(*n as i64)
        }
        Amf0Value::Number(n) if n.is_finite() => toml::Value::Float(*n),
        Amf0Value::Object(fields) => toml::Value::Table(
            fields
                .iter()
                .map(|(k, v)| Some((k.clone(), to_toml_value(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

fn from_toml_value(v: &toml::Value) -> Result<Amf0Value, String> {
    Ok(match v {
        toml::Value::String(s) => Amf0Value::String(s.clone()),
        toml::Value::Integer(i) => Amf0Value::Number(*i as f64),
        toml::Value::Float(f) => Amf0Value::Number(*f),
        toml::Value::Boolean(b) => Amf0Value::Boolean(*b),
        toml::Value::Table(t) => Amf0Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), from_toml_value(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        toml::Value::Array(_) => {
            return Err("arrays cannot go into a connect object here; use a table".into())
        }
        toml::Value::Datetime(_) => return Err("dates cannot go into a connect object".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulate::profile;

    #[test]
    fn every_built_in_profile_survives_a_round_trip() {
        for p in profile::all() {
            let text = to_toml(&p, &[]);
            let back = parse(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", p.name));
            assert_eq!(back, p, "{text}");
        }
    }

    #[test]
    fn omitted_fields_take_the_defaults() {
        let p = parse("name = \"bare\"\n").unwrap();
        assert_eq!(
            p,
            Profile {
                name: "bare".into(),
                ..Profile::default()
            }
        );
    }

    fn error(text: &str) -> ProfileFileError {
        parse(text).expect_err("the file is wrong")
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let e = error("name = \"x\"\n\n[handshake]\nc1 = \"fancy\"\n");
        assert_eq!((e.line, e.field.as_str()), (Some(4), "handshake.c1"), "{e}");
        assert!(e.message.contains("fancy"), "{e}");

        let e = error("name = \"x\"\n[session]\ntcp_nodelay = true\nrole = \"watch\"\n");
        assert_eq!((e.line, e.field.as_str()), (Some(4), "session.role"), "{e}");

        let e = error("name = \"x\"\n[handshake]\nc1_verison = \"1.2.3.4\"\n");
        assert_eq!(
            (e.line, e.field.as_str()),
            (Some(3), "handshake.c1_verison")
        );
        assert!(e.message.contains("unknown field"), "{e}");

        let e = error("name = \"x\"\n[handshake]\nc1_version = \"9.0.124\"\n");
        assert_eq!(
            (e.line, e.field.as_str()),
            (Some(3), "handshake.c1_version")
        );
        assert!(e.message.contains("four numbers"), "{e}");

        let e = error("name = \"x\"\n[handshake]\nc1 = \"digest\"\nc1_body = \"zero\"\n");
        assert_eq!((e.line, e.field.as_str()), (Some(4), "handshake.c1_body"));

        let e = error("name = \"x\"\n[session]\nown_chunk_size = 4096\n");
        assert_eq!(
            (e.line, e.field.as_str()),
            (Some(3), "session.own_chunk_size")
        );

        let e = error("name = \"x\"\n[connect]\napp = \"{app}\"\ncodecs = [1, 2]\n");
        assert_eq!(
            (e.line, e.field.as_str()),
            (Some(4), "connect.codecs"),
            "{e}"
        );
        assert!(e.message.contains("arrays"), "{e}");

        let e = error("name = \"x\"\n[handshake]\nc0_version = 300\n");
        assert_eq!(
            (e.line, e.field.as_str()),
            (Some(3), "handshake.c0_version")
        );

        let e = error("description = \"no name\"\n");
        assert!(e.message.contains("missing field `name`"), "{e}");

        let e = error("name = \"x\"\n[handshake\n");
        assert_eq!(e.line, Some(2), "{e}");
    }

    /// A field of older files that said what a row says is refused, naming the row.
    #[test]
    fn a_removed_field_names_the_row_that_replaces_it() {
        for (text, line, field, row) in [
            (
                "[handshake]\nstrict_s0 = true",
                3,
                "handshake.strict_s0",
                "s0-version-not-3 = \"fail:handshake\"",
            ),
            (
                "[handshake]\ns2_check = \"warn\"",
                3,
                "handshake.s2_check",
                "s2-not-echo and s2-all-zero",
            ),
            (
                "[handshake]\nfirst_read_needs_s0_s1 = false",
                3,
                "handshake.first_read_needs_s0_s1",
                "s0-s1-s2-split-in-time",
            ),
            (
                "[handshake]\nserver_validation = \"ffmpeg-play\"",
                3,
                "handshake.server_validation",
                "s1-digest-invalid = \"fail:handshake\"",
            ),
            (
                "[session]\nrole = \"play\"\nstrict_stream_ids = true",
                4,
                "session.strict_stream_ids",
                "on-status-on-stream-0 = \"stall:publish\"",
            ),
            (
                "[session]\nzeroed_chunk_opening = true",
                3,
                "session.zeroed_chunk_opening",
                "chunk-stream-opened-type-1, -2 and -3 = \"accept\"",
            ),
        ] {
            let e = error(&format!("name = \"x\"\n{text}\n"));
            assert_eq!((e.line, e.field.as_str()), (Some(line), field), "{e}");
            assert!(
                e.message.starts_with("was removed: how the client reacts to a server is said once, in its [tolerance] rows")
                    && e.message.contains(row),
                "{e}"
            );
        }
    }

    #[test]
    fn the_error_message_reads_as_one_sentence() {
        let e = ProfileFileError {
            file: Some("p.toml".into()),
            ..error("name = \"x\"\n[handshake]\nc1 = \"fancy\"\n")
        };
        let text = e.to_string();
        assert!(
            text.starts_with(
                "profile file p.toml, line 3, field `handshake.c1`: unknown variant `fancy`"
            ),
            "{text}"
        );
    }

    #[test]
    fn connect_fields_keep_their_order_and_placeholders_become_the_url() {
        let p = parse(
            "name = \"x\"\n[connect]\nswfUrl = \"{tcUrl}\"\napp = \"{app}\"\ncapabilities = 239\n\
             fpad = false\naudioCodecs = 3575.5\n",
        )
        .unwrap();
        let object = p.connect_object("live", "rtmp://h:1935/live");
        assert_eq!(
            object,
            Amf0Value::object([
                ("swfUrl", Amf0Value::string("rtmp://h:1935/live")),
                ("app", Amf0Value::string("live")),
                ("capabilities", Amf0Value::Number(239.0)),
                ("fpad", Amf0Value::Boolean(false)),
                ("audioCodecs", Amf0Value::Number(3575.5)),
            ])
        );
    }
}
