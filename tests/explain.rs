//! `rtmp-probe explain`: the diagnostics catalogue as a user reads it.

mod support;

use rtmp_probe::transcript::catalogue;

fn explain(args: &[&str]) -> (i32, String, String) {
    support::rtmp_probe(&[&["explain"], args].concat())
}

#[test]
fn explain_prints_the_entry_of_an_id() {
    let (code, out, _) = explain(&["chunk.ext-ts-type3-omitted"]);
    assert_eq!(code, 0, "{out}");
    let entry = catalogue::lookup("chunk.ext-ts-type3-omitted").unwrap();
    for (field, value) in [
        ("id:", "chunk.ext-ts-type3-omitted".to_string()),
        ("severity:", "warning".to_string()),
        ("stage:", "chunk".to_string()),
        ("meaning:", entry.meaning.to_string()),
        ("source:", entry.source.to_string()),
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(field))
            .unwrap_or_else(|| panic!("no {field} line in\n{out}"));
        assert!(line.ends_with(&value), "{line}");
    }
}

#[test]
fn explain_list_has_one_line_per_catalogue_entry() {
    let (code, out, _) = explain(&["--list"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), catalogue::entries().len(), "{out}");
    for (line, entry) in lines.iter().zip(catalogue::entries()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], entry.id.as_str());
        assert_eq!(words[1], entry.severity.to_string());
        assert!(line.ends_with(entry.meaning), "{line}");
    }
}

#[test]
fn an_unknown_id_is_a_usage_error_that_suggests_close_ids() {
    let (code, out, err) = explain(&["hs.s2-echo-from8"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("'hs.s2-echo-from8'") && err.contains("did you mean hs.s2-echo-from-8"),
        "{err}"
    );
    let (code, _, err) = explain(&["nothing-like-any-id"]);
    assert_eq!(code, 2);
    assert!(err.contains("explain --list"), "{err}");
    let (code, _, _) = explain(&[]);
    assert_eq!(code, 2, "an id or --list is required");
}
