//! Replays, on stable and without cargo-fuzz, every input that ever crashed a fuzz target
//! (`fuzz/regressions/<target>/`, minimised) and every seed (`fuzz/seeds/<target>/`), through
//! the same library functions the targets call.

use rtmp_probe::fuzz_harness;
use std::path::Path;

/// Runs every file under `dir/<target>/`; returns how many ran.
fn replay_all(dir: &Path) -> usize {
    let mut ran = 0;
    let Ok(targets) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in targets {
        let entry = entry.expect("listing a fuzz input directory");
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_dir() {
            continue;
        }
        let run = fuzz_harness::target(&name).unwrap_or_else(|| {
            panic!(
                "{} names no fuzz target (known: {:?})",
                entry.path().display(),
                fuzz_harness::TARGETS
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>()
            )
        });
        let mut files: Vec<_> = std::fs::read_dir(entry.path())
            .expect("listing a target's inputs")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).expect("reading a fuzz input");
            eprintln!("replaying {}", file.display());
            run(&bytes);
            ran += 1;
        }
    }
    ran
}

fn fuzz_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz"))
}

#[test]
fn every_minimised_crash_stays_fixed() {
    let ran = replay_all(&fuzz_dir().join("regressions"));
    println!("{ran} regression inputs replayed");
}

#[test]
fn every_seed_runs_clean() {
    let ran = replay_all(&fuzz_dir().join("seeds"));
    assert!(
        ran > 0,
        "fuzz/seeds holds no seeds (rtmp-probe fuzz-seeds makes them)"
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
    let mut known: Vec<String> = fuzz_harness::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
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
