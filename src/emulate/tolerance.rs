//! How each profile's real client reacts to each way a server can deviate, as data with
//! sources.
//!
//! One TOML file per profile under `src/emulate/tolerance/`, embedded at build time. Each row
//! names a [`Deviation`], the client's [`Reaction`] (and the stage, for a failure or a stall),
//! and where that is known from: a file and function of the client's code, a capture, or a
//! measured run. Where nothing supports a claim the row says `unknown`. Each table also says
//! which of the profile's behaviours are modelled from a source and which are checked against
//! the real program by a test.
//!
//! The emulators follow their table: a built-in profile carries its table's rows as
//! [`Reactions`], a profile file its `[tolerance]` section, and the emulated client asks
//! [`crate::emulate::profile::Profile::reaction`] where it meets each deviation. A row that
//! says `unknown` leaves the emulator to [`strict_reading`]. `rtmp-probe profiles --tolerance
//! NAME` prints the table, and which personality exercises each row
//! ([`crate::emulate::consistency`]).

pub use crate::deviation::Deviation;
use serde::Deserialize;
use std::fmt;

/// What the real client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reaction {
    /// Goes on without a word.
    Accept,
    /// Goes on, logging a warning or an error.
    Warn,
    /// Gives up (closes, resets or crashes) at `stage`.
    Fail,
    /// Waits for something that does not come, at `stage`.
    Stall,
    /// Nothing found supports a claim.
    Unknown,
}

impl Reaction {
    fn needs_stage(self) -> bool {
        matches!(self, Reaction::Fail | Reaction::Stall)
    }
}

impl fmt::Display for Reaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reaction::Accept => "accept",
            Reaction::Warn => "warn",
            Reaction::Fail => "fail",
            Reaction::Stall => "stall",
            Reaction::Unknown => "unknown",
        })
    }
}

/// Where a reaction happens: one of [`TABLE_STAGES`].
pub use crate::transcript::Stage;

/// The stages a table's failure or stall can be at.
pub const TABLE_STAGES: [Stage; 5] = [
    Stage::Handshake,
    Stage::Connect,
    Stage::Publish,
    Stage::Play,
    Stage::Media,
];

/// A table's stage written as `text`.
fn table_stage(text: &str) -> Option<Stage> {
    Stage::from_name(text).filter(|s| TABLE_STAGES.contains(s))
}

/// A row's `stage`, which must be one of [`TABLE_STAGES`].
fn deserialize_table_stage<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Stage>, D::Error> {
    let text = String::deserialize(d)?;
    table_stage(&text).map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{text:?} is not a stage: handshake, connect, publish, play or media"
        ))
    })
}

/// A reaction and, for a failure or a stall, where: what one emulator does on meeting a
/// deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub reaction: Reaction,
    pub stage: Option<Stage>,
}

impl Rule {
    pub const UNKNOWN: Rule = Rule {
        reaction: Reaction::Unknown,
        stage: None,
    };
    pub const ACCEPT: Rule = Rule {
        reaction: Reaction::Accept,
        stage: None,
    };

    pub fn new(reaction: Reaction, stage: Option<Stage>) -> Rule {
        Rule { reaction, stage }
    }

    /// `accept`, `warn`, `unknown`, `fail:STAGE` or `stall:STAGE`, as a profile file's
    /// `[tolerance]` section writes it.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let (word, stage) = match text.split_once(':') {
            Some((w, s)) => (w.trim(), Some(s.trim())),
            None => (text.trim(), None),
        };
        let reaction = match word {
            "accept" => Reaction::Accept,
            "warn" => Reaction::Warn,
            "fail" => Reaction::Fail,
            "stall" => Reaction::Stall,
            "unknown" => Reaction::Unknown,
            other => {
                return Err(format!(
                    "{other:?} is not a reaction: write accept, warn, unknown, fail:STAGE or stall:STAGE"
                ))
            }
        };
        let stage = match stage {
            None => None,
            Some(s) => Some(table_stage(s).ok_or_else(|| {
                format!("{s:?} is not a stage: handshake, connect, publish, play or media")
            })?),
        };
        if reaction.needs_stage() != stage.is_some() {
            return Err(if reaction.needs_stage() {
                format!("{word} needs a stage, as in \"{word}:handshake\"")
            } else {
                format!("{word} takes no stage")
            });
        }
        Ok(Rule { reaction, stage })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stage {
            Some(stage) => write!(f, "{}:{stage}", self.reaction),
            None => write!(f, "{}", self.reaction),
        }
    }
}

/// One profile's reactions, at most one per deviation: a built-in profile's are its table's
/// rows, a profile file's its `[tolerance]` section.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Reactions(Vec<(Deviation, Rule)>);

impl Reactions {
    /// Every row of `table`, `unknown` ones included (so a built-in profile never falls back
    /// to the fields a profile file may use instead).
    pub fn from_table(table: &Table) -> Reactions {
        Reactions(
            table
                .rows_in_order()
                .into_iter()
                .map(|r| (r.deviation, Rule::new(r.reaction, r.stage)))
                .collect(),
        )
    }

    pub fn get(&self, deviation: Deviation) -> Option<Rule> {
        self.0
            .iter()
            .find(|(d, _)| *d == deviation)
            .map(|(_, rule)| *rule)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rows in [`Deviation::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Deviation, Rule)> + '_ {
        Deviation::ALL
            .into_iter()
            .filter_map(|d| self.get(d).map(|rule| (d, rule)))
    }

    /// A `[tolerance]` section: deviation keys to rules. Err: the key and what is wrong.
    pub fn from_section(section: &toml::Table) -> Result<Reactions, (String, String)> {
        let mut rows = Vec::new();
        for (key, value) in section {
            let deviation = Deviation::ALL
                .into_iter()
                .find(|d| d.key() == key)
                .ok_or_else(|| {
                    (
                        key.clone(),
                        "is not a deviation class (rtmp-probe profiles --tolerance ffmpeg lists them)"
                            .to_string(),
                    )
                })?;
            let text = value.as_str().ok_or_else(|| {
                (
                    key.clone(),
                    "must be a string such as \"fail:handshake\"".into(),
                )
            })?;
            let rule = Rule::parse(text).map_err(|m| (key.clone(), m))?;
            rows.push((deviation, rule));
        }
        Ok(Reactions(rows))
    }

    /// The `[tolerance]` section of a profile file.
    pub fn to_section(&self) -> toml::Table {
        self.iter()
            .map(|(d, rule)| (d.key().to_string(), toml::Value::String(rule.to_string())))
            .collect()
    }
}

/// One line, so that a profile's `{:#?}` stays readable.
impl fmt::Debug for Reactions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<String> = self
            .iter()
            .map(|(d, rule)| format!("{}={rule}", d.key()))
            .collect();
        write!(f, "Reactions({:?})", rows.join(", "))
    }
}

/// How an emulator reacts to `deviation` when nothing says how its real client does: the
/// specification's strict reading. A chunk stream must open with a type-0 header; a Set Chunk
/// Size past what any message can need (16 MiB) is refused by the emulator's reader; the other
/// deviations break no requirement a client must enforce, so the emulator goes on (noting the
/// server's deviation where the specification has one).
pub fn strict_reading(deviation: Deviation) -> Reaction {
    use Deviation::*;
    match deviation {
        ChunkStreamOpenedType1
        | ChunkStreamOpenedType2
        | ChunkStreamOpenedType3
        | SetChunkSizeHuge => Reaction::Fail,
        _ => Reaction::Accept,
    }
}

/// How a profile's behaviours are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BasisKind {
    /// Read from the client's code, a capture or a report; no test runs the real program.
    Modelled,
    /// A test compares the profile with the real program.
    Checked,
}

/// One statement of how the profile's behaviours are known.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Basis {
    pub kind: BasisKind,
    /// For `modelled`, what it is modelled from; for `checked`, the program version and test.
    pub source: String,
    /// Which behaviours this covers.
    pub covers: String,
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            BasisKind::Modelled => write!(f, "modelled from {} ({})", self.source, self.covers),
            BasisKind::Checked => write!(f, "checked against {} ({})", self.source, self.covers),
        }
    }
}

/// One deviation and the client's reaction to it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub deviation: Deviation,
    pub reaction: Reaction,
    #[serde(default, deserialize_with = "deserialize_table_stage")]
    pub stage: Option<Stage>,
    /// Client file and function, capture or measured run; `unknown` with reaction `unknown`.
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// A profile's tolerance table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub profile: String,
    pub basis: Vec<Basis>,
    pub row: Vec<Row>,
}

/// What is wrong with a table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ToleranceError {
    #[error("no tolerance table for profile {0:?}")]
    NoTable(String),
    #[error("tolerance table for {profile:?} does not parse: {message}")]
    Parse { profile: String, message: String },
    #[error("tolerance table for {profile:?}: {message}")]
    Invalid { profile: String, message: String },
}

/// The embedded tables, by profile name.
const TABLES: &[(&str, &str)] = &[
    ("wirecast", include_str!("tolerance/wirecast.toml")),
    ("elemental", include_str!("tolerance/elemental.toml")),
    ("videocore", include_str!("tolerance/videocore.toml")),
    ("obs", include_str!("tolerance/obs.toml")),
    ("ffmpeg", include_str!("tolerance/ffmpeg.toml")),
    ("ffmpeg-play", include_str!("tolerance/ffmpeg-play.toml")),
    ("gstreamer", include_str!("tolerance/gstreamer.toml")),
    (
        "gstreamer-play",
        include_str!("tolerance/gstreamer-play.toml"),
    ),
    ("flash", include_str!("tolerance/flash.toml")),
    ("streamlabs", include_str!("tolerance/streamlabs.toml")),
    ("srs-forward", include_str!("tolerance/srs-forward.toml")),
    ("rtmpdump", include_str!("tolerance/rtmpdump.toml")),
];

/// The tolerance table of profile `name`, parsed and checked.
pub fn table(name: &str) -> Result<Table, ToleranceError> {
    let text = TABLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| ToleranceError::NoTable(name.to_string()))?;
    parse(name, text)
}

/// Parses and checks `text` as the table of profile `name`: the profile field names it,
/// there is a basis, every deviation class has exactly one row, a failure or stall says
/// where, and every row has a source, or says `unknown` for both reaction and source.
pub fn parse(name: &str, text: &str) -> Result<Table, ToleranceError> {
    let invalid = |message: String| ToleranceError::Invalid {
        profile: name.to_string(),
        message,
    };
    let table: Table = toml::from_str(text).map_err(|e| ToleranceError::Parse {
        profile: name.to_string(),
        message: e.to_string(),
    })?;
    if table.profile != name {
        return Err(invalid(format!(
            "its profile field says {:?}",
            table.profile
        )));
    }
    if table.basis.is_empty() {
        return Err(invalid("no basis says how its behaviours are known".into()));
    }
    for b in &table.basis {
        if b.source.trim().is_empty() || b.covers.trim().is_empty() {
            return Err(invalid("a basis has no source or covers nothing".into()));
        }
    }
    for d in Deviation::ALL {
        let n = table.row.iter().filter(|r| r.deviation == d).count();
        if n != 1 {
            return Err(invalid(format!(
                "{n} rows for deviation {d:?} ({}), expected 1",
                d.describe()
            )));
        }
    }
    for r in &table.row {
        let source = r.source.trim();
        let unknown_source = source.eq_ignore_ascii_case("unknown");
        match (r.reaction, unknown_source) {
            (Reaction::Unknown, _) => {}
            (_, true) => {
                return Err(invalid(format!(
                    "{:?} claims {} with source \"unknown\"",
                    r.deviation, r.reaction
                )))
            }
            _ if source.is_empty() => {
                return Err(invalid(format!("{:?} has no source", r.deviation)))
            }
            _ => {}
        }
        if source.is_empty() {
            return Err(invalid(format!(
                "{:?} has an empty source; write \"unknown\"",
                r.deviation
            )));
        }
        if r.reaction.needs_stage() != r.stage.is_some() {
            return Err(invalid(format!(
                "{:?}: reaction {} {} a stage",
                r.deviation,
                r.reaction,
                if r.reaction.needs_stage() {
                    "needs"
                } else {
                    "takes no"
                }
            )));
        }
    }
    Ok(table)
}

impl Table {
    /// The rows in [`Deviation::ALL`]'s order.
    pub fn rows_in_order(&self) -> Vec<&Row> {
        Deviation::ALL
            .iter()
            .filter_map(|d| self.row.iter().find(|r| r.deviation == *d))
            .collect()
    }

    /// How many rows rest on a source (not `unknown`).
    pub fn known_rows(&self) -> usize {
        self.row
            .iter()
            .filter(|r| r.reaction != Reaction::Unknown)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulate::profile;

    #[test]
    fn every_profile_has_a_table_that_parses_and_covers_every_deviation() {
        let profiles = profile::all();
        assert!(!profiles.is_empty());
        for p in &profiles {
            let t = table(&p.name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t.row.len(), Deviation::ALL.len(), "{}", p.name);
            for r in &t.row {
                assert!(
                    !r.source.trim().is_empty(),
                    "{}: {:?} has no source",
                    p.name,
                    r.deviation
                );
                if r.reaction != Reaction::Unknown {
                    assert!(
                        !r.source.eq_ignore_ascii_case("unknown"),
                        "{}: {:?}",
                        p.name,
                        r.deviation
                    );
                }
            }
        }
        // No table for a profile that does not exist.
        for (name, _) in TABLES {
            assert!(
                profiles.iter().any(|p| p.name == *name),
                "table for unknown profile {name}"
            );
        }
    }

    const ONE_ROW: &str = r#"
profile = "x"
[[basis]]
kind = "modelled"
source = "somewhere"
covers = "everything"
[[row]]
deviation = "s0-version-not-3"
reaction = "accept"
source = "a file"
"#;

    #[test]
    fn a_table_missing_rows_or_sources_is_refused_with_the_reason() {
        let e = parse("x", ONE_ROW).unwrap_err();
        assert!(
            matches!(&e, ToleranceError::Invalid { message, .. } if message.contains("0 rows for deviation S1DigestAbsent")),
            "{e}"
        );
        let full = |row_for_s0: &str| -> String {
            let mut text = String::from(
                "profile = \"x\"\n[[basis]]\nkind = \"checked\"\nsource = \"p 1.0\"\ncovers = \"all\"\n",
            );
            text.push_str(row_for_s0);
            for d in &Deviation::ALL[1..] {
                let key = d.key();
                text.push_str(&format!(
                    "[[row]]\ndeviation = \"{key}\"\nreaction = \"unknown\"\nsource = \"unknown\"\n"
                ));
            }
            text
        };
        let ok = full("[[row]]\ndeviation = \"s0-version-not-3\"\nreaction = \"fail\"\nstage = \"handshake\"\nsource = \"f.c g()\"\n");
        let t = parse("x", &ok).expect("a complete table");
        assert_eq!(t.known_rows(), 1);
        assert_eq!(t.rows_in_order()[0].deviation, Deviation::S0VersionNot3);
        for (row, why) in [
            (
                "[[row]]\ndeviation = \"s0-version-not-3\"\nreaction = \"fail\"\nsource = \"f.c\"\n",
                "needs a stage",
            ),
            (
                "[[row]]\ndeviation = \"s0-version-not-3\"\nreaction = \"accept\"\nsource = \"unknown\"\n",
                "with source \"unknown\"",
            ),
            (
                "[[row]]\ndeviation = \"s0-version-not-3\"\nreaction = \"accept\"\nsource = \" \"\n",
                "no source",
            ),
            // A stage of the session, but not one a table's client fails at.
            (
                "[[row]]\ndeviation = \"s0-version-not-3\"\nreaction = \"fail\"\nstage = \"tcp\"\nsource = \"f.c\"\n",
                "\"tcp\" is not a stage: handshake, connect, publish, play or media",
            ),
        ] {
            let e = parse("x", &full(row)).unwrap_err();
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
        let e = parse("y", &ok).unwrap_err();
        assert!(e.to_string().contains("profile field"), "{e}");
        let e = parse("x", "profile = 3").unwrap_err();
        assert!(matches!(e, ToleranceError::Parse { .. }), "{e}");
        assert_eq!(
            table("nope").unwrap_err(),
            ToleranceError::NoTable("nope".into())
        );
    }

    #[test]
    fn every_key_names_its_deviation() {
        for d in Deviation::ALL {
            let t: toml::Table = toml::from_str(&format!("d = \"{}\"", d.key())).unwrap();
            let back: Deviation = t["d"]
                .clone()
                .try_into()
                .unwrap_or_else(|e| panic!("{d:?}: {e}"));
            assert_eq!(back, d);
        }
    }

    #[test]
    fn a_built_in_profile_carries_every_row_of_its_table() {
        for p in profile::all() {
            let t = table(&p.name).unwrap();
            for r in &t.row {
                assert_eq!(
                    p.reaction(r.deviation),
                    Rule::new(r.reaction, r.stage),
                    "{}: {}",
                    p.name,
                    r.deviation.key()
                );
            }
        }
        assert_eq!(
            profile::by_name("gstreamer")
                .unwrap()
                .reaction(Deviation::SetChunkSizeHuge),
            Rule::ACCEPT
        );
    }
}
