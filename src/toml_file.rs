//! The TOML files a user can read and write: client profiles (`--profile-file`) and server
//! personalities (`--personality-file`), the built-in ones embedded in the binary in the same
//! form. One reader for both, so that every error names the file, the line and the field the
//! same way.
//!
//! A file is read in two steps: serde turns the text into its file form (wrong types, unknown
//! fields and unknown words are caught there, located by the span TOML reports), then the
//! form's own checks turn it into the value, reporting an [`Invalid`] (table, key, message)
//! that is located by searching the text for the key.

use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};

/// What is wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// What kind of file: "profile file", "personality file".
    pub kind: &'static str,
    pub file: Option<PathBuf>,
    /// 1-based; None when the problem has no line (the file cannot be read).
    pub line: Option<usize>,
    /// `table.key`, or the table, or empty when the whole file is concerned.
    pub field: String,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind)?;
        if let Some(file) = &self.file {
            write!(f, " {}", file.display())?;
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FileError {}

/// A problem the file form's checks found: the table it is in (`""` at the top level,
/// `tolerance.s0-version-not-3` for a sub-table), the key, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub table: String,
    pub key: String,
    pub message: String,
}

impl Invalid {
    pub fn new(
        table: impl Into<String>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Invalid {
            table: table.into(),
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Parses `text` into its file form `F`, then `check`s the form into the value; an error of
/// either step names the line and the field.
pub fn parse<F: DeserializeOwned, T>(
    kind: &'static str,
    text: &str,
    check: impl FnOnce(F) -> Result<T, Invalid>,
) -> Result<T, FileError> {
    let form: F = toml::from_str(text).map_err(|e| {
        let (line, field) = match e.span() {
            Some(span) => field_at(text, span.start),
            None => (None, String::new()),
        };
        FileError {
            kind,
            file: None,
            line,
            field,
            message: e.message().trim_end().to_string(),
        }
    })?;
    check(form).map_err(|invalid| locate(kind, text, invalid))
}

/// An [`Invalid`] found in `text`, with its line.
pub fn locate(kind: &'static str, text: &str, invalid: Invalid) -> FileError {
    let Invalid {
        table,
        key,
        message,
    } = invalid;
    FileError {
        kind,
        file: None,
        line: line_of(text, &table, &key),
        field: match (table.is_empty(), key.is_empty()) {
            (true, _) => key,
            (false, true) => table,
            (false, false) => format!("{table}.{key}"),
        },
        message,
    }
}

/// Reads the file at `path` and parses it with `parse`; the error names the file.
pub fn load<T>(
    kind: &'static str,
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, FileError>,
) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        kind,
        file: Some(path.to_path_buf()),
        line: None,
        field: String::new(),
        message: format!("cannot read it: {e}"),
    })?;
    parse(&text).map_err(|e| FileError {
        file: Some(path.to_path_buf()),
        ..e
    })
}

/// "9.0.124.2" as four bytes (a handshake packet's version field).
pub fn parse_version(text: &str) -> Result<[u8; 4], String> {
    let parts: Vec<&str> = text.split('.').collect();
    let bytes: Option<Vec<u8>> = parts.iter().map(|p| p.trim().parse::<u8>().ok()).collect();
    match bytes {
        Some(b) if b.len() == 4 => Ok([b[0], b[1], b[2], b[3]]),
        _ => Err(format!(
            "\"{text}\" is not four numbers 0..255 separated by dots, like \"9.0.124.2\""
        )),
    }
}

/// Four version bytes as a file writes them: "9.0.124.2".
pub fn version_text(version: [u8; 4]) -> String {
    version.map(|b| b.to_string()).join(".")
}

/// One line of a file's text, as the error locators read it.
struct Entry<'a> {
    /// 1-based.
    number: usize,
    /// The byte offset just past the line.
    end: usize,
    /// The `[table]` the line is in ("" at the top level); a header is in its own table.
    table: &'a str,
    header: bool,
    /// The key of a `key = value` line.
    key: Option<String>,
}

/// The lines of `text` with the table each is in.
fn entries(text: &str) -> impl Iterator<Item = Entry<'_>> {
    let (mut table, mut end) = ("", 0);
    text.split_inclusive('\n')
        .enumerate()
        .map(move |(n, line)| {
            end += line.len();
            let trimmed = line.trim();
            // `[table]` and `[[array-of-tables]]` alike.
            let header = trimmed
                .strip_prefix('[')
                .map(|t| t.trim_start_matches('['))
                .and_then(|t| t.split(']').next())
                .map(str::trim);
            if let Some(h) = header {
                table = h;
            }
            Entry {
                number: n + 1,
                end,
                table,
                header: header.is_some(),
                key: header.is_none().then(|| key_of(trimmed)).flatten(),
            }
        })
}

/// The 1-based line holding byte `offset` and the field written there (`table.key`).
fn field_at(text: &str, offset: usize) -> (Option<usize>, String) {
    entries(text)
        .find(|e| offset < e.end || e.end == text.len())
        .map_or((None, String::new()), |e| {
            let field = match e.key {
                Some(key) if e.table.is_empty() => key,
                Some(key) => format!("{}.{key}", e.table),
                None => e.table.to_string(),
            };
            (Some(e.number), field)
        })
}

/// The key of a `key = value` line, quotes removed.
fn key_of(line: &str) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    let (key, _) = line.split_once('=')?;
    Some(key.trim().trim_matches('"').to_string())
}

/// The 1-based line where `key` is set in `[table]` (top level for ""), or where its own
/// sub-table `[table.key]` starts, or else the table's header, if any.
fn line_of(text: &str, table: &str, key: &str) -> Option<usize> {
    let sub_table = format!("{table}.{key}");
    let mut table_line = None;
    for e in entries(text) {
        if e.table == table {
            if e.header {
                table_line = Some(e.number);
            } else if !key.is_empty() && e.key.as_deref() == Some(key) {
                return Some(e.number);
            }
        } else if e.header && !key.is_empty() && e.table == sub_table {
            return Some(e.number);
        }
    }
    table_line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Form {
        name: String,
        #[serde(default)]
        table: Option<toml::Table>,
    }

    fn check(form: Form) -> Result<String, Invalid> {
        if form.name.is_empty() {
            return Err(Invalid::new("", "name", "is empty"));
        }
        if let Some(table) = form.table {
            if let Some((key, _)) = table.iter().find(|(_, v)| v.is_table()) {
                return Err(Invalid::new(format!("table.{key}"), "x", "no x here"));
            }
            if let Some(key) = table.keys().next() {
                return Err(Invalid::new("table", key.clone(), "no keys here"));
            }
        }
        Ok(form.name)
    }

    fn error(text: &str) -> FileError {
        parse("test file", text, check).expect_err("wrong")
    }

    #[test]
    fn both_steps_name_the_line_and_the_field() {
        let e = error("name = \"a\"\nnmae = 1\n");
        assert_eq!((e.line, e.field.as_str()), (Some(2), "nmae"), "{e}");
        let e = error("# comment\nname = \"\"\n");
        assert_eq!((e.line, e.field.as_str()), (Some(2), "name"), "{e}");
        let e = error("name = \"a\"\n\n[table]\nkey = 3\n");
        assert_eq!((e.line, e.field.as_str()), (Some(4), "table.key"), "{e}");
        let e = error("name = \"a\"\n\n[table.row]\nx = 3\n");
        assert_eq!((e.line, e.field.as_str()), (Some(4), "table.row.x"), "{e}");
        // Set in a sub-table header but not as a key: the header's line.
        let e = error("name = \"a\"\n\n[table.row]\ny = 3\n");
        assert_eq!(e.line, Some(3), "{e}");
        let e = error("name = \"a\"\n[[list]]\nx = 1\n");
        assert_eq!((e.line, e.field.as_str()), (Some(2), "list"), "{e}");
    }

    #[test]
    fn the_message_reads_as_one_sentence_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(&path, "name = \"\"\n").unwrap();
        let e = load("test file", &path, |text| parse("test file", text, check)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "test file {}, line 1, field `name`: is empty",
                path.display()
            )
        );
        let e = load("test file", &dir.path().join("none.toml"), |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("none.toml: cannot read it"), "{e}");
    }

    #[test]
    fn versions_read_as_four_bytes() {
        assert_eq!(parse_version("9.0.124.2"), Ok([9, 0, 124, 2]));
        assert_eq!(version_text([13, 14, 10, 13]), "13.14.10.13");
        assert!(parse_version("9.0.124")
            .unwrap_err()
            .contains("four numbers"));
        assert!(parse_version("9.0.124.256").is_err());
    }
}
