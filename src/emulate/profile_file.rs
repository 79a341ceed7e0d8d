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
use removed::Removed;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

mod removed;

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

/// What every written profile file starts with: how to run it, and what each field means.
const HEADER: &str = include_str!("profile_file/header.txt");

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
mod tests;
