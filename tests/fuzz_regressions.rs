//! Replays, on stable and without cargo-fuzz, every input that ever crashed a fuzz target
//! (`fuzz/regressions/<target>/`, minimised) and every seed (`fuzz/seeds/<target>/`), through
//! the same library functions the targets call. Each test counts the files on disk itself and
//! requires that every one was replayed: a missing or empty folder, a file outside a target's
//! folder or a target without seeds fails.

use rtmp_probe::fuzz_harness;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz"))
}

/// The fuzz targets' names, in `fuzz_harness::TARGETS` order.
fn targets() -> Vec<&'static str> {
    fuzz_harness::TARGETS.iter().map(|(n, _)| *n).collect()
}

/// The files under `dir`, by the target folder they are in, every one of them: a file directly
/// under `dir`, or in a folder that names no target, fails (no harness would replay it).
fn inputs(dir: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the fuzz inputs must be there)", dir.display()));
    let mut by_target = BTreeMap::new();
    for entry in entries {
        let path = entry.expect("listing a fuzz input directory").path();
        assert!(
            path.is_dir(),
            "{} is not in a target's folder, so no harness replays it",
            path.display()
        );
        let name = path
            .file_name()
            .expect("a folder name")
            .to_string_lossy()
            .into_owned();
        assert!(
            fuzz_harness::target(&name).is_some(),
            "{} names no fuzz target (known: {:?})",
            path.display(),
            targets()
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .expect("listing a target's inputs")
            .map(|e| e.expect("a directory entry").path())
            .collect();
        for file in &files {
            assert!(file.is_file(), "{} is not a file", file.display());
        }
        files.sort();
        by_target.insert(name, files);
    }
    by_target
}

/// Runs every input through its target's harness; returns how many ran, by target.
fn replay_all(inputs: &BTreeMap<String, Vec<PathBuf>>) -> BTreeMap<String, usize> {
    inputs
        .iter()
        .map(|(name, files)| {
            let run = fuzz_harness::target(name).expect("checked by inputs()");
            let mut ran = 0;
            for file in files {
                let bytes = std::fs::read(file).expect("reading a fuzz input");
                eprintln!("replaying {}", file.display());
                run(&bytes);
                ran += 1;
            }
            (name.clone(), ran)
        })
        .collect()
}

/// How many files each target's folder holds.
fn counts(inputs: &BTreeMap<String, Vec<PathBuf>>) -> BTreeMap<String, usize> {
    inputs
        .iter()
        .map(|(name, files)| (name.clone(), files.len()))
        .collect()
}

/// Every file anywhere under `dir`, counted apart from [`inputs`].
fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("listing a fuzz folder")
        .map(|e| e.expect("a directory entry").path())
        .map(|p| if p.is_dir() { files_under(&p) } else { 1 })
        .sum()
}

#[test]
fn every_minimised_crash_stays_fixed() {
    let regressions = inputs(&fuzz_dir().join("regressions"));
    let total: usize = regressions.values().map(Vec::len).sum();
    assert!(
        total > 0,
        "fuzz/regressions holds no input: the crashes the fuzzers found are gone"
    );
    for (name, files) in &regressions {
        assert!(!files.is_empty(), "fuzz/regressions/{name} is empty");
    }
    let ran = replay_all(&regressions);
    assert_eq!(
        ran,
        counts(&regressions),
        "every regression input was replayed"
    );
    assert_eq!(
        ran.values().sum::<usize>(),
        files_under(&fuzz_dir().join("regressions")),
        "every file under fuzz/regressions was replayed"
    );
}

#[test]
fn every_seed_runs_clean() {
    let seeds = inputs(&fuzz_dir().join("seeds"));
    let with_seeds: Vec<&str> = seeds
        .iter()
        .filter(|(_, files)| !files.is_empty())
        .map(|(name, _)| name.as_str())
        .collect();
    let mut expected = targets();
    expected.sort();
    assert_eq!(
        with_seeds, expected,
        "every fuzz target has seeds in fuzz/seeds/<target> (cargo run --example fuzz-seeds makes them)"
    );
    let ran = replay_all(&seeds);
    assert_eq!(ran, counts(&seeds), "every seed was replayed");
    assert_eq!(
        ran.values().sum::<usize>(),
        files_under(&fuzz_dir().join("seeds")),
        "every file under fuzz/seeds was replayed"
    );
}

#[test]
fn every_fuzz_target_has_a_harness_and_seeds() {
    let sources = std::fs::read_dir(fuzz_dir().join("fuzz_targets")).expect("fuzz/fuzz_targets");
    let mut names: Vec<String> = sources
        .map(|e| e.expect("entry").path())
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let mut known: Vec<String> = targets().into_iter().map(str::to_string).collect();
    known.sort();
    assert_eq!(
        names, known,
        "fuzz/fuzz_targets and fuzz_harness::TARGETS differ"
    );
    for name in &names {
        assert!(
            fuzz_dir().join("seeds").join(name).is_dir(),
            "no seeds for {name}"
        );
    }
}
