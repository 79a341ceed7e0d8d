//! The diagnostics catalogue: every id the tool puts in a transcript or a verdict, defined once.
//!
//! An id names one event whatever reads the bytes (serve, the emulators, replay), so an entry
//! says what the event means, how much it matters and what it rests on: a section of the RTMP
//! specification (Adobe, December 2012) in our words, or the behaviour of a real peer we model.
//! `rtmp-probe explain ID` prints an entry.
//!
//! An id is a [`DiagnosticId`], an enum generated from the one table in `entries.rs`: only
//! the catalogue makes one, so an id the table lacks does not compile, and an event's severity
//! and stage are its entry's. Transcripts write an id as its dotted string
//! (`chunk.ext-ts-type3-omitted`) and read it back from that string; a string the table lacks
//! is an error naming it. The table's entries are held to a test by `tests/catalogue.rs`: each
//! is reached by a test (a snapshot, or a scenario there that asserts it) or says in its
//! `unreached` field why no test here can make it happen.
//!
//! # Example
//!
//! ```rust
//! use rtmp_probe::transcript::catalogue::{self, DiagnosticId};
//! use rtmp_probe::transcript::Severity;
//!
//! let id = DiagnosticId::ChunkExtTsType3Omitted;
//! assert_eq!(id.as_str(), "chunk.ext-ts-type3-omitted");
//! assert_eq!(id.severity(), Severity::Warning);
//! let entry = catalogue::lookup("chunk.ext-ts-type3-omitted").expect("a catalogued id");
//! assert_eq!(entry.stage.to_string(), "chunk");
//! assert!(entry.source.contains("RTMP specification 5.3.1.3"));
//! // `rtmp-probe explain ID` prints the entry's Display:
//! let explained = entry.to_string();
//! assert!(explained.starts_with("id:       chunk.ext-ts-type3-omitted\nkind:     diagnostic\n"));
//! // A mistyped id is not in the catalogue; the closest ones are what it probably meant.
//! assert!(catalogue::lookup("chunk.ext-ts-omitted").is_none());
//! assert_eq!(catalogue::closest("chunk.ext-ts-type3-omited", 1), ["chunk.ext-ts-type3-omitted"]);
//! ```

mod entries;

pub use entries::DiagnosticId;

use super::{Severity, Stage};
use serde::{Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Whether an id is a diagnostic (a `diagnostic` event or an emulator finding) or an
/// observation (a `handshake` event: a fact about the peer, judged by whoever reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Diagnostic,
    Observation,
    /// Both: an observation that an emulated client which insists on the opposite also reports
    /// as a diagnostic.
    Both,
}

/// One id and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Entry {
    pub id: DiagnosticId,
    pub kind: Kind,
    /// The severity the tool gives it. Observations are `info`: they state a fact.
    pub severity: Severity,
    /// Raised to `error` when the emulated client's profile insists (it then stops the case).
    pub escalates: bool,
    pub stage: Stage,
    /// What it means, in one line.
    pub meaning: &'static str,
    /// The requirement or the real implementation it rests on.
    pub source: &'static str,
    /// Why no test here can make it happen; None for the entries a test reaches
    /// (`tests/catalogue.rs` holds each entry to one or the other).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreached: Option<&'static str>,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "id:       {}", self.id)?;
        let kind = match self.kind {
            Kind::Diagnostic => "diagnostic",
            Kind::Observation => "observation",
            Kind::Both => "observation and diagnostic",
        };
        writeln!(f, "kind:     {kind}")?;
        let escalates = if self.escalates {
            " (error when the emulated client's profile insists)"
        } else {
            ""
        };
        writeln!(f, "severity: {}{escalates}", self.severity)?;
        writeln!(f, "stage:    {}", self.stage)?;
        writeln!(f, "meaning:  {}", self.meaning)?;
        write!(f, "source:   {}", self.source)
    }
}

/// An entry without its id: what the table writes after each id.
#[derive(Clone, Copy)]
struct Spec {
    kind: Kind,
    severity: Severity,
    escalates: bool,
    stage: Stage,
    meaning: &'static str,
    source: &'static str,
    unreached: Option<&'static str>,
}

impl Spec {
    /// Says why no test here can make the entry happen.
    const fn unreached(self, why: &'static str) -> Spec {
        Spec {
            unreached: Some(why),
            ..self
        }
    }
}

impl Entry {
    const fn new(id: DiagnosticId, spec: Spec) -> Entry {
        Entry {
            id,
            kind: spec.kind,
            severity: spec.severity,
            escalates: spec.escalates,
            stage: spec.stage,
            meaning: spec.meaning,
            source: spec.source,
            unreached: spec.unreached,
        }
    }
}

/// A diagnostic of this severity and stage.
const fn diag(
    severity: Severity,
    stage: Stage,
    meaning: &'static str,
    source: &'static str,
) -> Spec {
    Spec {
        kind: Kind::Diagnostic,
        severity,
        escalates: false,
        stage,
        meaning,
        source,
        unreached: None,
    }
}

/// A handshake observation.
const fn seen(meaning: &'static str, source: &'static str) -> Spec {
    Spec {
        kind: Kind::Observation,
        severity: Severity::Info,
        escalates: false,
        stage: Stage::Handshake,
        meaning,
        source,
        unreached: None,
    }
}

/// The table: `Variant "dotted.id" => spec,` for each entry. It generates [`DiagnosticId`]
/// (one variant per entry, in table order), its string for each, and the entries in the same
/// order, so that an id's entry is found by its position.
macro_rules! table {
    ($( $variant:ident $id:literal => $spec:expr, )*) => {
        /// A diagnostic or observation id: one of the catalogue's entries, and nothing else.
        ///
        /// Written as the entry's dotted string in text and JSON (`chunk.ext-ts-type3-omitted`),
        /// read back from it ([`std::str::FromStr`], serde); [`DiagnosticId::entry`] says what it
        /// means.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum DiagnosticId {
            $( #[doc = concat!("`", $id, "`")] $variant, )*
        }

        impl DiagnosticId {
            /// Every id, in catalogue order.
            pub const ALL: &'static [DiagnosticId] = &[ $( DiagnosticId::$variant, )* ];

            /// The id as transcripts write it: `hs.s2-echo-from-8`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( DiagnosticId::$variant => $id, )*
                }
            }

            /// The id written as `text`, if the catalogue has it.
            pub fn from_name(text: &str) -> Option<DiagnosticId> {
                match text {
                    $( $id => Some(DiagnosticId::$variant), )*
                    _ => None,
                }
            }
        }

        pub(super) static ENTRIES: &[super::Entry] = &[ $( super::Entry::new(DiagnosticId::$variant, $spec), )* ];
    };
}
use table;

impl DiagnosticId {
    /// What the catalogue says of this id.
    pub fn entry(self) -> &'static Entry {
        &entries::ENTRIES[self as usize]
    }

    /// The severity the catalogue gives it.
    pub fn severity(self) -> Severity {
        self.entry().severity
    }

    /// Where in a session it arises.
    pub fn stage(self) -> Stage {
        self.entry().stage
    }
}

impl fmt::Display for DiagnosticId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A string that is no catalogue id, with the ids it probably meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown diagnostic id '{id}'{}", hint(.suggestions))]
pub struct UnknownId {
    pub id: String,
    pub suggestions: Vec<&'static str>,
}

fn hint(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", suggestions.join(", "))
    }
}

impl FromStr for DiagnosticId {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, UnknownId> {
        DiagnosticId::from_name(s).ok_or_else(|| UnknownId {
            id: s.to_string(),
            suggestions: closest(s, 3),
        })
    }
}

impl Serialize for DiagnosticId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DiagnosticId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = DiagnosticId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a diagnostic id of the catalogue")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DiagnosticId, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(IdVisitor)
    }
}

/// The entry of the id written as `id`, if the catalogue has one.
pub fn lookup(id: &str) -> Option<&'static Entry> {
    DiagnosticId::from_name(id).map(DiagnosticId::entry)
}

/// Every entry, in catalogue order (by stage, then as the session meets them).
pub fn entries() -> &'static [Entry] {
    entries::ENTRIES
}

/// The catalogue's ids closest to `id` (by edit distance, then by a shared prefix), best first:
/// what a mistyped id probably meant.
pub fn closest(id: &str, at_most: usize) -> Vec<&'static str> {
    let mut scored: Vec<(f64, &'static str)> = DiagnosticId::ALL
        .iter()
        .map(|e| e.as_str())
        .map(|other| (strsim::normalized_damerau_levenshtein(id, other), other))
        .filter(|(score, other)| *score >= 0.5 || other.contains(id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(at_most).map(|(_, id)| id).collect()
}

/// Panics in debug builds when a diagnostic built as a struct literal (rather than with
/// [`super::EventKind::diagnostic`], which takes the catalogue's) carries another severity than
/// its entry's, or `error` where the entry escalates.
#[track_caller]
pub fn debug_check_event(kind: &super::EventKind) {
    if let super::EventKind::Diagnostic { id, severity, .. } = kind {
        let entry = id.entry();
        debug_assert!(
            *severity == entry.severity || (entry.escalates && *severity == Severity::Error),
            "diagnostic '{id}' emitted as {severity}; the catalogue says {}",
            entry.severity
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_with_a_dotted_prefix() {
        assert!(entries().len() > 50, "only {} entries", entries().len());
        let mut seen = std::collections::HashSet::new();
        for e in entries() {
            let id = e.id.as_str();
            assert!(seen.insert(id), "{id} twice");
            let (prefix, rest) = id.split_once('.').expect(id);
            assert!(prefix.chars().all(|c| c.is_ascii_lowercase()), "{id}");
            assert!(
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id}"
            );
            assert!(!e.meaning.is_empty() && !e.source.is_empty(), "{id}");
            if e.kind == Kind::Observation {
                assert_eq!(e.severity, Severity::Info, "{id}");
            }
            if let Some(why) = e.unreached {
                assert!(why.len() > 20, "{id}: say why it cannot be reached");
            }
        }
    }

    const ENTRIES_LEN: usize = DiagnosticId::ALL.len();

    /// The variant's name is the id in CamelCase (`hs.s2-echo-from-8`: `HsS2EchoFrom8`), so
    /// code that names a variant names the id a transcript shows.
    #[test]
    fn each_variant_is_named_after_its_id_and_finds_its_own_entry() {
        assert_eq!(entries().len(), ENTRIES_LEN);
        for (i, id) in DiagnosticId::ALL.iter().enumerate() {
            assert_eq!(entries()[i].id, *id);
            assert_eq!(id.entry().id, *id);
            let camel: String = id
                .as_str()
                .split(['.', '-'])
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect();
            assert_eq!(format!("{id:?}"), camel);
            assert_eq!(id.as_str().parse::<DiagnosticId>(), Ok(*id));
            assert_eq!(lookup(id.as_str()), Some(id.entry()));
        }
    }

    #[test]
    fn an_id_serializes_as_its_string_and_an_unknown_one_does_not_deserialize() {
        let json = serde_json::to_string(&DiagnosticId::HsS2EchoFrom8).unwrap();
        assert_eq!(json, "\"hs.s2-echo-from-8\"");
        let back: DiagnosticId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, DiagnosticId::HsS2EchoFrom8);
        let err = serde_json::from_str::<DiagnosticId>("\"hs.s2-echo-from8\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown diagnostic id 'hs.s2-echo-from8'")
                && err.contains("did you mean hs.s2-echo-from-8"),
            "{err}"
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the catalogue says warning")]
    fn a_diagnostic_with_another_severity_than_the_catalogues_fails_in_debug_builds() {
        let mut t = crate::transcript::Transcript::new();
        t.push(
            0,
            crate::transcript::EventKind::Diagnostic {
                id: DiagnosticId::MsgUndecodable,
                severity: Severity::Error,
                fields: None,
                text: "x".into(),
            },
        );
    }

    #[test]
    fn diagnostics_take_the_catalogue_severity() {
        for entry in entries() {
            match crate::transcript::EventKind::diagnostic(entry.id, "x") {
                crate::transcript::EventKind::Diagnostic { id, severity, .. } => {
                    assert_eq!((id, severity), (entry.id, entry.severity))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// The schema lists the stages a diagnostic can have; each is a [`Stage`], and each entry's
    /// stage is listed.
    #[test]
    fn the_schema_names_every_stage_the_catalogue_gives() {
        let schema: serde_json::Value =
            serde_json::from_str(crate::transcript::render::JSON_SCHEMA).unwrap();
        let listed: Vec<Stage> = schema["$defs"]["diagnostic_stage"]["enum"]
            .as_array()
            .expect("the schema lists diagnostic stages")
            .iter()
            .map(|v| serde_json::from_value(v.clone()).expect("a stage"))
            .collect();
        for e in entries() {
            assert!(listed.contains(&e.stage), "{}: {}", e.id, e.stage);
        }
    }

    #[test]
    fn a_mistyped_id_suggests_the_right_one() {
        assert_eq!(
            closest("chunk.ext-ts-type3-omited", 3)[0],
            "chunk.ext-ts-type3-omitted"
        );
        assert_eq!(closest("hs.s2-echo-from8", 3)[0], "hs.s2-echo-from-8");
        assert!(closest("zzzzzzzz", 3).is_empty());
    }
}
