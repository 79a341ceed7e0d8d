use super::*;
use crate::emulate::{profile, profile_file};

#[test]
fn every_built_in_profile_has_a_complete_table() {
    let profiles = profile::all();
    assert!(!profiles.is_empty());
    for p in &profiles {
        let t = table(&p.name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.check_complete(), Ok(()), "{}", p.name);
        assert_eq!(t.row.len(), Deviation::ALL.len(), "{}", p.name);
        for r in &t.row {
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
    assert_eq!(
        table("nope").unwrap_err(),
        ToleranceError::NoTable("nope".into())
    );
}

/// A profile file whose `[tolerance]` has a row for `s0-version-not-3` as `row_for_s0`
/// says and an unknown one for every other class.
fn with_rows(basis: &str, row_for_s0: &str) -> String {
    let mut text = format!("name = \"x\"\n{basis}\n{row_for_s0}\n");
    for d in &Deviation::ALL[1..] {
        let key = d.key();
        text.push_str(&format!(
            "[tolerance.{key}]\nreaction = \"unknown\"\nsource = \"unknown\"\n"
        ));
    }
    text
}

const BASIS: &str = "[[basis]]\nkind = \"checked\"\nsource = \"p 1.0\"\ncovers = \"all\"\n";

#[test]
fn a_table_missing_rows_basis_or_sources_is_incomplete_with_the_reason() {
    let s0 = "[tolerance.s0-version-not-3]\nreaction = \"fail:handshake\"\nsource = \"f.c g()\"";
    let t = profile_file::parse(&with_rows(BASIS, s0))
        .unwrap()
        .tolerance;
    assert_eq!(t.check_complete(), Ok(()));
    assert_eq!(t.known_rows(), 1);
    assert_eq!(t.rows_in_order()[0].deviation, Deviation::S0VersionNot3);
    for (basis, row, why) in [
        (BASIS, "", "no row for deviation s0-version-not-3"),
        (
            BASIS,
            "[tolerance]\ns0-version-not-3 = \"accept\"",
            "s0-version-not-3 has no source",
        ),
        ("", s0, "no basis"),
    ] {
        let t = profile_file::parse(&with_rows(basis, row))
            .unwrap()
            .tolerance;
        let e = t.check_complete().unwrap_err();
        assert!(e.contains(why), "{why}: {e}");
    }
}

#[test]
fn a_row_is_a_rule_or_a_table_and_its_errors_name_the_line_and_field() {
    let t = profile_file::parse(
        "name = \"x\"\n[tolerance]\ns2-not-echo = \"warn\"\n\n[tolerance.s2-all-zero]\n\
         reaction = \"stall:handshake\"\nsource = \"a.c f()\"\nnote = \"n\"\n",
    )
    .unwrap()
    .tolerance;
    assert_eq!(
        t.get(Deviation::S2NotEcho),
        Some(Rule::new(Reaction::Warn, None))
    );
    let zero = t.rows_in_order()[1];
    assert_eq!(
        (zero.rule(), zero.source.as_str(), zero.note.as_deref()),
        (
            Rule::new(Reaction::Stall, Some(Stage::Handshake)),
            "a.c f()",
            Some("n")
        )
    );
    for (row, line, field, why) in [
        (
            "[tolerance]\ns2-all-zero = 3",
            3,
            "tolerance.s2-all-zero",
            "must be a string",
        ),
        (
            "[tolerance.s2-all-zero]\nsource = \"x\"",
            2,
            "tolerance.s2-all-zero",
            "has no reaction",
        ),
        (
            "[tolerance.s2-all-zero]\nreaction = \"fail\"",
            3,
            "tolerance.s2-all-zero.reaction",
            "needs a stage",
        ),
        (
            "[tolerance.s2-all-zero]\nreaction = \"accept\"\nsource = \"unknown\"",
            4,
            "tolerance.s2-all-zero.source",
            "with source \"unknown\"",
        ),
        (
            "[tolerance.s2-all-zero]\nreaction = \"accept\"\nsorce = \"a\"",
            4,
            "tolerance.s2-all-zero.sorce",
            "is not a field of a row",
        ),
        (
            "[tolerance.s2-all-zero]\nreaction = \"accept\"\nnote = 1",
            4,
            "tolerance.s2-all-zero.note",
            "must be a string",
        ),
        (
            "[tolerance.s2-all-zeros]\nreaction = \"accept\"",
            2,
            "tolerance.s2-all-zeros",
            "is not a deviation class",
        ),
        (
            "[[basis]]\nkind = \"modelled\"\nsource = \"\"\ncovers = \"all\"",
            4,
            "basis.source",
            "is empty",
        ),
        (
            "[tolerance]\ns2-all-zero = \"accept:handshake\"",
            3,
            "tolerance.s2-all-zero",
            "takes no stage",
        ),
        (
            "[tolerance]\ns2-all-zero = \"stall:later\"",
            3,
            "tolerance.s2-all-zero",
            "is not a stage",
        ),
        // A stage of the session, but not one a table's client fails at.
        (
            "[tolerance]\ns2-all-zero = \"fail:tcp\"",
            3,
            "tolerance.s2-all-zero",
            "\"tcp\" is not a stage: handshake, connect, publish, play or media",
        ),
        (
            "[tolerance]\ns2-all-zero = \"shrug\"",
            3,
            "tolerance.s2-all-zero",
            "is not a reaction",
        ),
        (
            "[[basis]]\nkind = \"guessed\"",
            3,
            "basis.kind",
            "unknown variant `guessed`",
        ),
    ] {
        let e = profile_file::parse(&format!("name = \"x\"\n{row}\n")).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_str()),
            (Some(line), field),
            "{row}: {e}"
        );
        assert!(e.message.contains(why), "{row}: {e}");
    }
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
        assert_eq!(Deviation::from_key(d.key()), Some(d));
    }
}

#[test]
fn a_built_in_profile_reacts_by_every_row_of_its_table() {
    for p in profile::all() {
        for r in &p.tolerance.row {
            assert_eq!(
                p.reaction(r.deviation),
                r.rule(),
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
