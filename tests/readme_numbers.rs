//! The README's numbers and lists that describe the code, checked against the code: each is
//! found by a phrase that stays put while the prose around it changes, so a README that drifts
//! from the code (a new id, fuzz target, profile or personality) fails here.

mod support;

use rtmp_probe::deviation::Deviation;
use rtmp_probe::emulate::consistency::{self, Prediction};
use rtmp_probe::emulate::{profile, variant::Variant};
use rtmp_probe::fuzz_harness;
use rtmp_probe::serve::personality;
use rtmp_probe::transcript::catalogue;
use support::rtmp_probe;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

/// Where `phrase` occurs in the README, exactly once.
fn at(text: &str, phrase: &str) -> usize {
    let found: Vec<usize> = text.match_indices(phrase).map(|(i, _)| i).collect();
    assert_eq!(
        found.len(),
        1,
        "README.md has {} occurrences of {phrase:?}, expected one",
        found.len()
    );
    found[0]
}

/// A number written as digits (with thousands commas) or as an English word up to twenty.
fn number(word: &str) -> usize {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    let lower = word.to_lowercase();
    WORDS
        .iter()
        .position(|w| *w == lower)
        .or_else(|| lower.replace(',', "").parse().ok())
        .unwrap_or_else(|| panic!("{word:?} is not a number"))
}

/// The word right before `phrase` ("(85 of them" with phrase " of them" gives 85).
fn number_before(text: &str, phrase: &str) -> usize {
    let before = &text[..at(text, phrase)];
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '`')
        .next()
        .unwrap_or_default();
    number(word)
}

/// The word right after `phrase` ("all 84 cases" with phrase "for all " gives 84).
fn number_after(text: &str, phrase: &str) -> usize {
    let after = &text[at(text, phrase) + phrase.len()..];
    let word = after
        .split(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '`' | ','))
        .next()
        .unwrap_or_default();
    number(word)
}

/// The `name`s quoted between `from` and the next `to`, in order.
fn quoted_names(text: &str, from: &str, to: &str) -> Vec<String> {
    let start = at(text, from) + from.len();
    let end = start + text[start..].find(to).expect("the end of the list");
    text[start..end]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn profile_names() -> Vec<String> {
    profile::all().into_iter().map(|p| p.name.clone()).collect()
}

#[test]
fn the_counts_of_ids_fuzz_targets_and_deviation_classes_are_the_codes() {
    let text = readme();
    let ids = catalogue::entries().len();
    assert_eq!(
        number_before(&text, " of them: diagnostics, handshake"),
        ids,
        "README's count of catalogue ids ({} entries in src/transcript/catalogue.rs)",
        ids
    );
    assert_eq!(
        number_before(&text, " cargo-fuzz targets cover"),
        fuzz_harness::TARGETS.len(),
        "README's count of fuzz targets"
    );
    assert_eq!(
        number_before(&text, " classes: S0 version"),
        Deviation::ALL.len(),
        "README's count of deviation classes (src/deviation.rs)"
    );
}

#[test]
fn the_profiles_personalities_and_variants_listed_are_the_codes() {
    let text = readme();
    assert_eq!(
        quoted_names(
            &text,
            "The emulators reproduce what real encoders and players do",
            "(`rtmp-probe profiles` prints"
        ),
        profile_names(),
        "README's list of profiles"
    );
    let personalities: Vec<String> = personality::all()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    let table_start = at(
        &text,
        "Personalities (`rtmp-probe serve --list-personalities`",
    );
    let listed: Vec<String> = text[table_start..]
        .lines()
        .skip_while(|l| !l.starts_with("| name |"))
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
        .map(|l| l.split('`').nth(1).expect("a quoted name").to_string())
        .collect();
    assert_eq!(
        listed,
        personalities,
        "README's table of personalities ({} in the code)",
        personalities.len()
    );
    let variants: Vec<String> = Variant::ALL.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        quoted_names(&text, "can be cut by a segmentation variant:", "\n\n"),
        variants,
        "README's list of variants"
    );
}

#[test]
fn the_matrix_case_counts_are_profiles_times_variants() {
    let text = readme();
    let cases = profile::all().len() * Variant::ALL.len();
    let counts = [
        ("s for all ", number_after(&text, "s for all ")),
        (
            "(`rtmp-probe matrix`: ",
            number_after(&text, "(`rtmp-probe matrix`: "),
        ),
        (
            " verdicts take about",
            number_before(&text, " verdicts take about"),
        ),
    ];
    for (phrase, count) in counts {
        assert_eq!(
            count,
            cases,
            "README's {phrase:?}: {} profiles x {} variants",
            profile::all().len(),
            Variant::ALL.len()
        );
    }
    // The progress lines of one variant count the profiles.
    assert_eq!(
        number_after(&text, "[ 1/"),
        profile::all().len(),
        "README's progress example runs one case per profile"
    );
}

/// The last line `rtmp-probe ARGS` prints (its summary).
fn summary(args: &[&str]) -> String {
    let (code, out, err) = rtmp_probe(args);
    assert!(code == 0 || code == 1, "{args:?}: {err}");
    out.lines().last().expect("a summary line").to_string()
}

/// The summary lines README quotes are what the binary prints for the same command.
#[test]
fn the_matrix_summaries_quoted_are_what_the_binary_prints() {
    let text = readme();
    // The first example's output ends with its summary, after the profiles' sources.
    let printed = summary(&["matrix", "--personality", "ffmpeg", "--variant", "default"]);
    let example = &text[at(
        &text,
        "$ rtmp-probe matrix --personality ffmpeg --variant default\n",
    )..];
    let quoted = example
        .lines()
        .find(|l| l.contains(" cases: "))
        .expect("a quoted summary line");
    assert_eq!(quoted, printed, "README's first example");
    // The full default matrix, quoted twice.
    let printed = summary(&["matrix"]);
    for phrase in ["ends with `", "counts each status that occurred (`"] {
        let quoted = &text[at(&text, phrase) + phrase.len()..];
        assert!(
            quoted.starts_with(&format!("{printed}`")),
            "README's {phrase:?} quotes {:?}; the binary prints {printed:?}",
            quoted.lines().next()
        );
    }
}

#[test]
fn the_consistency_counts_are_what_the_predictions_give() {
    let text = readme();
    let profiles = profile::all();
    let personalities = personality::all();
    let predicted = personalities
        .iter()
        .flat_map(|s| profiles.iter().map(move |p| consistency::predict(p, s)))
        .filter(|e| !matches!(e.prediction, Prediction::Unknown { .. }))
        .count();
    let total = profiles.len() * personalities.len();
    let phrase = " cases are asserted today";
    let before = &text[..at(&text, phrase)];
    let claim: Vec<&str> = before.rsplit(' ').take(3).collect();
    assert_eq!(
        (number(claim[2]), claim[1], number(claim[0])),
        (predicted, "of", total),
        "README's consistency count"
    );
}

#[test]
fn the_differential_counts_are_the_snapshots() {
    let text = readme();
    let snapshot = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/snapshots/differential-real-vs-profile.snap"
    ))
    .expect("the differential snapshot");
    let agreements = number_after(&snapshot, "agreements: ");
    let cases = number_after(&snapshot, &format!("agreements: {agreements} of "));
    let no_publisher = number_after(&snapshot, "no publisher: ");
    assert_eq!(agreements, cases, "the snapshot has a disagreement");
    assert_eq!(
        number_after(&text, "Today all "),
        cases,
        "README's differential count"
    );
    assert_eq!(
        number_after(&text, "agree. In "),
        no_publisher,
        "README's count of no-publisher cases"
    );
    // Every personality against every real client: the snapshot's rows.
    let rows = snapshot
        .lines()
        .skip_while(|l| !l.starts_with("PERSONALITY"))
        .skip(1)
        .take_while(|l| !l.starts_with("agreements:"))
        .count();
    assert_eq!(rows, cases);
    assert_eq!(rows % personality::all().len(), 0, "every personality");
}

/// The long flags `rtmp-probe ARGS --help` lists (not --help and --version).
fn flags_in_help(args: &[&str]) -> std::collections::BTreeSet<String> {
    let (code, out, err) = rtmp_probe(&[args, &["--help"]].concat());
    assert_eq!(code, 0, "{args:?}: {err}");
    out.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix("-")
                .filter(|r| r.len() > 3 && &r[1..3] == ", ")
                .map_or(l, |r| &r[3..]);
            l.strip_prefix("--")
        })
        .map(|rest| {
            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .filter(|f| !f.is_empty() && f != "help" && f != "version")
        .collect()
}

/// The README's synopses (the lines of a block that start `rtmp-probe COMMAND`, with their
/// continuation lines and the TIMEOUTS they name) name exactly the flags each command takes.
#[test]
fn the_synopses_name_every_flag_and_only_those() {
    let text = readme();
    let mut synopses: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    let mut timeouts = std::collections::BTreeSet::new();
    let mut uses_timeouts = std::collections::BTreeSet::new();
    let mut in_block = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            current = None;
            continue;
        }
        if !in_block {
            continue;
        }
        let flags = |l: &str| -> Vec<String> {
            l.split("--")
                .skip(1)
                .map(|f| {
                    f.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                        .next()
                        .unwrap_or_default()
                        .to_string()
                })
                .filter(|f| !f.is_empty())
                .collect()
        };
        let synopsis = line.strip_prefix("rtmp-probe ").filter(|rest| {
            rest.split_whitespace()
                .next()
                .is_some_and(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        });
        if let Some(rest) = synopsis {
            let command = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            current = Some(command.clone());
            if line.contains("[TIMEOUTS]") {
                uses_timeouts.insert(command.clone());
            }
            synopses.entry(command).or_default().extend(flags(line));
        } else if let Some(rest) = line.strip_prefix("TIMEOUTS:") {
            timeouts.extend(flags(rest));
            current = None;
        } else if line.starts_with(' ') {
            if let Some(command) = &current {
                if line.contains("[TIMEOUTS]") {
                    uses_timeouts.insert(command.clone());
                }
                let named = flags(line);
                synopses.get_mut(command).unwrap().extend(named);
            }
        } else {
            current = None;
        }
    }
    assert!(!timeouts.is_empty(), "README's TIMEOUTS line");
    let named: Vec<&String> = synopses.keys().collect();
    assert_eq!(
        named,
        ["diff", "explain", "load", "matrix", "probe", "profiles", "replay", "serve"],
        "the commands README gives a synopsis of"
    );
    for (command, mut named) in synopses {
        // The TIMEOUTS placeholder stands for the three.
        if uses_timeouts.contains(&command) {
            named.extend(timeouts.iter().cloned());
        }
        let takes = flags_in_help(&[&command]);
        assert_eq!(
            named, takes,
            "README's synopsis of `rtmp-probe {command}` against its --help"
        );
    }
}

/// The codes each subcommand's --help lists.
fn exit_codes_of(args: &[&str]) -> Vec<u32> {
    let (code, out, err) = rtmp_probe(&[args, &["--help"]].concat());
    assert_eq!(code, 0, "{args:?}: {err}");
    out.split("Exit status:\n")
        .nth(1)
        .expect("an exit status list")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

/// README's exit-code table says, per code, which commands give it: the same as the commands'
/// own --help lists.
#[test]
fn the_exit_code_table_is_what_each_command_lists() {
    let text = readme();
    let table = &text[at(&text, "## Exit codes\n")..];
    let (code, out, _) = rtmp_probe(&["--help"]);
    assert_eq!(code, 0);
    let commands: Vec<String> = out
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the commands in --help")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    let rows: Vec<(u32, String)> = table
        .lines()
        .skip_while(|l| !l.starts_with("| code |"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let code = cells[0].trim_start_matches("| ").parse().expect("a code");
            let by = cells.last().unwrap().trim_end_matches(" |").to_string();
            (code, by)
        })
        .collect();
    assert_eq!(
        rows.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        exit_codes_of(&[]),
        "README's codes against the top-level --help"
    );
    for command in &commands {
        let listed: Vec<u32> = rows
            .iter()
            .filter(|(_, by)| by == "every command" || by.split(", ").any(|c| c == command))
            .map(|(c, _)| *c)
            .collect();
        assert_eq!(
            listed,
            exit_codes_of(&[command]),
            "README's exit-code table for `{command}` against its --help"
        );
    }
}
