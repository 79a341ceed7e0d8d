//! The diagnostics catalogue from outside the crate. A mistyped id no longer compiles (an id is
//! a `DiagnosticId`, which only the catalogue makes), so what is left to check here is what a
//! reader of the output relies on: each id is written as its entry's string and read back from
//! it, and a string that is no id is refused by name.

use rtmp_probe::transcript::catalogue::{self, DiagnosticId};
use rtmp_probe::transcript::{Event, EventKind};

#[test]
fn every_id_reads_back_from_the_string_a_transcript_writes() {
    assert_eq!(DiagnosticId::ALL.len(), catalogue::entries().len());
    assert!(
        DiagnosticId::ALL.len() > 50,
        "the catalogue has dozens of ids"
    );
    for &id in DiagnosticId::ALL {
        let entry = id.entry();
        assert_eq!(entry.id, id);
        assert_eq!(catalogue::lookup(id.as_str()), Some(entry));
        let event = Event::new(1, EventKind::diagnostic(id, "x"));
        let line = rtmp_probe::transcript::render::json_line(&event);
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["id"], id.as_str(), "{line}");
        assert_eq!(value["severity"], entry.severity.to_string(), "{line}");
        assert_eq!(value["stage"], entry.stage.to_string(), "{line}");
        let back: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(back, event);
    }
}

#[test]
fn a_transcript_line_with_an_unknown_id_is_refused_naming_it() {
    let line = r#"{"at_us":5,"event":"diagnostic","id":"chunk.ext-ts-type3-omited","severity":"warning","text":"x"}"#;
    let err = serde_json::from_str::<Event>(line).unwrap_err().to_string();
    assert!(
        err.contains("unknown diagnostic id 'chunk.ext-ts-type3-omited'")
            && err.contains("chunk.ext-ts-type3-omitted"),
        "{err}"
    );
    let observation = r#"{"at_us":5,"event":"handshake","id":"hs.nosuch","observation":{"kind":"described","text":"x"}}"#;
    let err = serde_json::from_str::<Event>(observation)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown diagnostic id 'hs.nosuch'"), "{err}");
}

mod reach;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The catalogue ids written in `text`, each as a whole token (`hs.c2-echo` is not found in
/// `hs.c2-echo-from-8`).
fn ids_in(text: &str) -> BTreeSet<DiagnosticId> {
    let is_id_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    DiagnosticId::ALL
        .iter()
        .copied()
        .filter(|id| {
            text.match_indices(id.as_str()).any(|(at, found)| {
                let before = text[..at].chars().next_back();
                let after = text[at + found.len()..].chars().next();
                !before.is_some_and(is_id_char) && !after.is_some_and(|c| c != '.' && is_id_char(c))
            })
        })
        .collect()
}

/// The ids the snapshots under snapshots/ show (each snapshot is what a test asserts).
fn ids_in_snapshots() -> BTreeSet<DiagnosticId> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let mut ids = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("snapshots/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "snap") {
            files += 1;
            ids.extend(ids_in(&std::fs::read_to_string(&path).expect("a snapshot")));
        }
    }
    assert!(files > 20, "only {files} snapshots in {}", dir.display());
    ids
}

/// The body of test function `name` in `file` (from its `fn` line to the next line that closes
/// a top-level item).
fn test_body(file: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).ok()?;
    let start = text.find(&format!("\nfn {name}("))?;
    let head = &text[..start];
    // A test is a `#[test]` function or one a libtest-mimic suite registers with `trial!`.
    let registered = text
        .match_indices("trial!(")
        .any(|(at, found)| text[at + found.len()..].trim_start().starts_with(name));
    if !head.trim_end().ends_with("#[test]") && !registered {
        return None;
    }
    let end = text[start..]
        .find("\n}\n")
        .map_or(text.len(), |e| start + e);
    Some(text[start..end].to_string())
}

#[test]
fn the_snapshot_scan_finds_ids_as_whole_tokens() {
    assert_eq!(
        ids_in("hs    hs.c2-echo-from-8: ...\nWARN  chunk.ext-ts-type3-omitted."),
        BTreeSet::from([
            DiagnosticId::HsC2EchoFrom8,
            DiagnosticId::ChunkExtTsType3Omitted
        ])
    );
    assert!(ids_in("xhs.c2-echo hs.c2-echoes").is_empty());
    assert!(
        ids_in_snapshots().len() > 30,
        "the snapshots show dozens of ids"
    );
}

/// Every entry is reached by a test — a snapshot shows it, a scenario of `reach` makes it happen
/// (run here, and its ids checked), or a test named in `reach::ASSERTED_ELSEWHERE` asserts it —
/// or says in its `unreached` field why none can; never both.
#[test]
fn every_entry_is_reached_by_a_test_or_excused() {
    let mut reached: BTreeMap<DiagnosticId, String> = BTreeMap::new();
    for id in ids_in_snapshots() {
        reached.insert(id, "a snapshot".into());
    }
    let mut failures = Vec::new();
    for scenario in reach::SCENARIOS {
        let shown: BTreeSet<DiagnosticId> = (scenario.run)().into_iter().collect();
        for id in scenario.shows {
            if shown.contains(id) {
                reached
                    .entry(*id)
                    .or_insert_with(|| format!("scenario '{}'", scenario.name));
            } else {
                failures.push(format!(
                    "scenario '{}' did not show {id}; it showed {:?}",
                    scenario.name,
                    shown.iter().map(|i| i.as_str()).collect::<Vec<_>>()
                ));
            }
        }
    }
    for (id, file, name) in reach::ASSERTED_ELSEWHERE {
        let needle = format!("DiagnosticId::{id:?}");
        match test_body(file, name) {
            Some(body) if body.contains(&needle) => {
                reached
                    .entry(*id)
                    .or_insert_with(|| format!("{file} {name}"));
            }
            Some(_) => failures.push(format!("{file} {name} does not name {needle}")),
            None => failures.push(format!("no test {name} in {file} (for {id})")),
        }
    }
    let mut excused = 0;
    for entry in catalogue::entries() {
        match (reached.get(&entry.id), entry.unreached) {
            (Some(how), Some(why)) => failures.push(format!(
                "{} is reached ({how}) but excused (\"{why}\"): drop the excuse",
                entry.id
            )),
            (None, None) => failures.push(format!(
                "{} is reached by no test and not excused: make it happen in tests/reach, or \
                 say in its entry why it cannot be",
                entry.id
            )),
            (None, Some(_)) => excused += 1,
            (Some(_), None) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "catalogue: {} of {} ids reached by a test, {excused} excused",
        reached.len(),
        catalogue::entries().len()
    );
}
