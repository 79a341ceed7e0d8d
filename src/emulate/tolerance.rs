//! How each profile's real client reacts to each way a server can deviate, as data with
//! sources.
//!
//! A profile's tolerance table is part of its file (`src/emulate/profiles/NAME.toml` for the
//! built-in ones): a `[tolerance]` row per [`Deviation`] with the client's [`Reaction`] (and the
//! stage, for a failure or a stall) and where that is known from: a file and function of the
//! client's code, a capture, or a measured run. Where nothing supports a claim the row says
//! `unknown`. `[[basis]]` entries say which of the profile's behaviours are modelled from a
//! source and which are checked against the real program by a test.
//!
//! The table is the one place that says how the client reacts: the emulated client asks
//! [`crate::emulate::profile::Profile::reaction`] where it meets each deviation, and a row
//! that says `unknown`, or is missing from a user's file, leaves it to [`strict_reading`].
//! `rtmp-probe profiles --tolerance NAME` prints the table, and which personality exercises
//! each row ([`crate::emulate::consistency`]).

pub use crate::deviation::Deviation;
use crate::toml_file::Invalid;
use serde::{Deserialize, Serialize};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BasisKind {
    /// Read from the client's code, a capture or a report; no test runs the real program.
    Modelled,
    /// A test compares the profile with the real program.
    Checked,
}

/// One statement of how the profile's behaviours are known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub deviation: Deviation,
    pub reaction: Reaction,
    pub stage: Option<Stage>,
    /// Client file and function, capture or measured run; `unknown` with reaction `unknown`;
    /// empty where a user's file gives none.
    pub source: String,
    pub note: Option<String>,
}

impl Row {
    pub fn rule(&self) -> Rule {
        Rule::new(self.reaction, self.stage)
    }
}

/// A profile's tolerance table: how its real client reacts to each server deviation (at most
/// one row each), and how the profile's behaviours are known. A built-in profile's has a row
/// for every deviation class ([`Table::check_complete`]); a user's file may give any.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub basis: Vec<Basis>,
    pub row: Vec<Row>,
}

impl Table {
    /// The rule of `deviation`'s row, if the table has one.
    pub fn get(&self, deviation: Deviation) -> Option<Rule> {
        self.row
            .iter()
            .find(|r| r.deviation == deviation)
            .map(Row::rule)
    }

    pub fn is_empty(&self) -> bool {
        self.basis.is_empty() && self.row.is_empty()
    }

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

    /// The rows of a profile file's `[tolerance]` section: each key a deviation class, each
    /// value its rule (`s2-not-echo = "fail:handshake"`), or a table with the rule as
    /// `reaction` and its `source` and `note` (`[tolerance.s2-not-echo]`).
    pub fn rows_from_section(section: &toml::Table) -> Result<Vec<Row>, Invalid> {
        section
            .iter()
            .map(|(key, value)| {
                let deviation = Deviation::from_key(key).ok_or_else(|| {
                    Invalid::new(
                        "tolerance",
                        key.clone(),
                        "is not a deviation class (rtmp-probe profiles --tolerance ffmpeg lists them)",
                    )
                })?;
                match value {
                    toml::Value::String(text) => {
                        let rule =
                            Rule::parse(text).map_err(|m| Invalid::new("tolerance", key.clone(), m))?;
                        Ok(Row {
                            deviation,
                            reaction: rule.reaction,
                            stage: rule.stage,
                            source: String::new(),
                            note: None,
                        })
                    }
                    toml::Value::Table(fields) => row_from_table(deviation, key, fields),
                    _ => Err(Invalid::new(
                        "tolerance",
                        key.clone(),
                        "must be a string such as \"fail:handshake\", or a table with reaction, source and note",
                    )),
                }
            })
            .collect()
    }

    /// The `[tolerance]` section of a profile file: a row with a source or a note as its own
    /// table, a bare rule as one line.
    pub fn to_section(&self) -> toml::Table {
        self.rows_in_order()
            .into_iter()
            .map(|r| {
                let rule = toml::Value::String(r.rule().to_string());
                let value = if r.source.is_empty() && r.note.is_none() {
                    rule
                } else {
                    let mut fields = toml::Table::new();
                    fields.insert("reaction".into(), rule);
                    fields.insert("source".into(), toml::Value::String(r.source.clone()));
                    if let Some(note) = &r.note {
                        fields.insert("note".into(), toml::Value::String(note.clone()));
                    }
                    toml::Value::Table(fields)
                };
                (r.deviation.key().to_string(), value)
            })
            .collect()
    }

    /// What a built-in profile's table must hold: a basis that says how its behaviours are
    /// known, and for every deviation class a row with a source (`unknown` for both reaction
    /// and source where nothing supports a claim). Err: what is missing.
    pub fn check_complete(&self) -> Result<(), String> {
        if self.basis.is_empty() {
            return Err("no basis says how its behaviours are known".into());
        }
        if let Some(b) = self
            .basis
            .iter()
            .find(|b| b.source.trim().is_empty() || b.covers.trim().is_empty())
        {
            return Err(format!("a basis has no source or covers nothing: {b}"));
        }
        for d in Deviation::ALL {
            let Some(r) = self.row.iter().find(|r| r.deviation == d) else {
                return Err(format!(
                    "no row for deviation {} ({})",
                    d.key(),
                    d.describe()
                ));
            };
            if r.source.trim().is_empty() {
                return Err(format!("{} has no source; write \"unknown\"", d.key()));
            }
        }
        Ok(())
    }
}

/// A `[tolerance.KEY]` table: `reaction`, and `source` and `note` if given.
fn row_from_table(deviation: Deviation, key: &str, fields: &toml::Table) -> Result<Row, Invalid> {
    let table = format!("tolerance.{key}");
    let text = |field: &str| -> Result<Option<String>, Invalid> {
        match fields.get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Invalid::new(table.clone(), field, "must be a string")),
        }
    };
    if let Some(other) = fields
        .keys()
        .find(|k| !["reaction", "source", "note"].contains(&k.as_str()))
    {
        return Err(Invalid::new(
            table.clone(),
            other.clone(),
            "is not a field of a row: reaction, source, note",
        ));
    }
    let reaction = text("reaction")?.ok_or_else(|| {
        Invalid::new(
            table.clone(),
            "",
            "has no reaction, such as reaction = \"fail:handshake\"",
        )
    })?;
    let rule = Rule::parse(&reaction).map_err(|m| Invalid::new(table.clone(), "reaction", m))?;
    let source = text("source")?.unwrap_or_default();
    if rule.reaction != Reaction::Unknown && source.trim().eq_ignore_ascii_case("unknown") {
        return Err(Invalid::new(
            table,
            "source",
            format!(
                "claims {} with source \"unknown\": give where it is known from, or make the reaction unknown",
                rule.reaction
            ),
        ));
    }
    Ok(Row {
        deviation,
        reaction: rule.reaction,
        stage: rule.stage,
        source,
        note: text("note")?,
    })
}

/// The rows on one line, so that a profile's `{:#?}` stays readable.
impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<String> = self
            .rows_in_order()
            .iter()
            .map(|r| format!("{}={}", r.deviation.key(), r.rule()))
            .collect();
        write!(f, "Table({:?})", rows.join(", "))
    }
}

/// What is wrong with a table.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToleranceError {
    #[error("no tolerance table for profile {0:?}")]
    NoTable(String),
}

/// The tolerance table of the built-in profile `name`.
pub fn table(name: &str) -> Result<Table, ToleranceError> {
    super::profile::by_name(name)
        .map(|p| p.tolerance)
        .ok_or_else(|| ToleranceError::NoTable(name.to_string()))
}

#[cfg(test)]
mod tests;
