//! The diagnostics catalogue against the source: every id-looking string literal in `src/` is
//! in the catalogue, and every catalogue entry is something the (non-test) source can emit.

use rtmp_probe::transcript::catalogue;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Literals of the id shape that are not ids: profile- and personality-file field paths (named
/// in the files' error messages) and file names.
const NOT_IDS: &[&str] = &[
    "connect.codecs",
    "handshake.c1",
    "session.role",
    "basis.kind",
    "basis.source",
    "chunks.opening",
    "table.key",
    "tolerance.s2-all-zero",
    "tolerance.s2-all-zeros",
];
const FILE_EXTENSIONS: &[&str] = &[
    "flv", "toml", "pcap", "pcapng", "json", "jsonl", "snap", "txt", "md", "conf", "log", "xml",
    "rs",
];

/// `prefix.kebab-case`: lower-case letters, a dot, then lower-case words of letters and digits
/// joined by single hyphens.
fn looks_like_id(s: &str) -> bool {
    let Some((prefix, rest)) = s.split_once('.') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && !NOT_IDS.contains(&s)
        && !FILE_EXTENSIONS.contains(&rest)
}

/// The contents of the string literals of Rust source (comments, char literals and lifetimes
/// skipped; escapes kept as written, which an id never has).
fn string_literals(source: &str) -> Vec<String> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let mut hashes = 0;
                let mut j = i + 1;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let start = j + 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                let end = source[start..]
                    .find(std::str::from_utf8(&close).unwrap())
                    .map_or(b.len(), |e| start + e);
                out.push(source[start..end].to_string());
                i = end + close.len();
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                out.push(source[start..j.min(b.len())].to_string());
                i = j + 1;
            }
            // A char literal ('"', '\'', '\n'); a lifetime ('a) has no closing quote after one
            // character.
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                let mut j = i + 2;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                i = j + 1;
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 3,
            _ => i += 1,
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Where the test code of a file starts: a `tests.rs` file is all test code, otherwise the first
/// `#[cfg(test)]` module (test modules close the files here).
fn production_part(path: &Path, source: &str) -> usize {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return 0;
    }
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]" {
            let rest = source[offset + line.len()..].trim_start();
            if rest.starts_with("mod ") || rest.starts_with("pub mod ") {
                return offset;
            }
        }
        offset += line.len();
    }
    source.len()
}

/// Every id-looking literal in `src/`: where it occurs, and whether it occurs in production code
/// (outside the catalogue and outside tests).
fn ids_in_source() -> BTreeMap<String, (Vec<String>, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let catalogue_file = root.join("src/transcript/catalogue.rs");
    let mut ids: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
    for path in files {
        if path == catalogue_file {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        let split = production_part(&path, &source);
        let name = path.strip_prefix(root).unwrap().display().to_string();
        for (part, production) in [(&source[..split], true), (&source[split..], false)] {
            for literal in string_literals(part) {
                if looks_like_id(&literal) {
                    let (files, emitted) = ids.entry(literal).or_default();
                    if !files.contains(&name) {
                        files.push(name.clone());
                    }
                    *emitted |= production;
                }
            }
        }
    }
    ids
}

#[test]
fn every_id_in_the_source_is_in_the_catalogue_and_every_entry_is_emitted() {
    let ids = ids_in_source();
    // A scan that finds nothing checks nothing: the source has many dozens of ids.
    assert!(
        ids.len() >= 50,
        "the scan found only {} ids: {:?}",
        ids.len(),
        ids.keys().collect::<Vec<_>>()
    );
    let unknown: Vec<String> = ids
        .iter()
        .filter(|(id, _)| catalogue::lookup(id).is_none())
        .map(|(id, (files, _))| format!("{id} (in {})", files.join(", ")))
        .collect();
    assert!(
        unknown.is_empty(),
        "ids used in src/ but missing from src/transcript/catalogue.rs: {unknown:#?}"
    );
    let emitted: BTreeSet<&str> = ids
        .iter()
        .filter(|(_, (_, production))| *production)
        .map(|(id, _)| id.as_str())
        .collect();
    let dead: Vec<&str> = catalogue::entries()
        .iter()
        .map(|e| e.id)
        .filter(|id| !emitted.contains(id))
        .collect();
    assert!(
        dead.is_empty(),
        "catalogue entries nothing outside tests can emit: {dead:?}"
    );
}

#[test]
fn the_scanner_finds_ids_in_literals_and_nowhere_else() {
    let source = r##"
        // "hs.in-a-comment"
        /* "chunk.in-a-block" */
        let quote = '"'; let life: &'a str = "cmd.real-one";
        let escaped = "say \"msg.quoted\" aloud"; let raw = r#"media.raw-one"#;
        let file = "clip.flv"; let key = "connect.codecs"; let snake = "handshake.c1_body";
        f("tcp.after-char", 'x');
    "##;
    let found: Vec<String> = string_literals(source)
        .into_iter()
        .filter(|l| looks_like_id(l))
        .collect();
    assert_eq!(found, ["cmd.real-one", "media.raw-one", "tcp.after-char"]);
    let with_tests = "fn a() { x(\"hs.one\") }\n#[cfg(test)]\nmod tests {\n fn b() {}\n}\n";
    let split = production_part(Path::new("src/a.rs"), with_tests);
    assert!(with_tests[..split].contains("hs.one") && with_tests[split..].contains("mod tests"));
    assert_eq!(production_part(Path::new("src/x/tests.rs"), with_tests), 0);
}
