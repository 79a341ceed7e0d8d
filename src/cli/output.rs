//! Where the commands' output goes: standard output written without panicking when its
//! reader has gone, and output files opened before any work so that a bad path fails at once.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe returns EPIPE; we turn that into
//! [`PipeClosed`] (exit 141) rather than restore SIGPIPE's default, which would also let a
//! TCP peer's reset kill the server.

use super::exit::{PipeClosed, UsageError};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `text` to standard output; a closed pipe becomes [`PipeClosed`].
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(PipeClosed.into()),
        Err(e) => Err(e).context("writing to standard output"),
    }
}

/// `print!` that returns an error instead of panicking on a closed pipe: use with `?`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::print(&format!($($arg)*))
    };
}

/// `println!` that returns an error instead of panicking on a closed pipe: use with `?`.
macro_rules! outln {
    () => {
        $crate::cli::output::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::output::print(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// A FILE option's destination, opened (created, truncated) before the run.
pub enum OutputFile {
    Stdout,
    File { path: PathBuf, file: std::fs::File },
}

impl OutputFile {
    /// Opens `path` for `flag`; `-` is standard output.
    pub fn create(flag: &str, path: &Path) -> anyhow::Result<Self> {
        if path == Path::new("-") {
            return Ok(OutputFile::Stdout);
        }
        let file = std::fs::File::create(path)
            .with_context(|| format!("{flag} {}: cannot create", path.display()))?;
        Ok(OutputFile::File {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self, OutputFile::Stdout)
    }

    /// Removes a created file that will not get its content.
    pub fn discard(self) {
        if let OutputFile::File { path, file } = self {
            drop(file);
            let _ = std::fs::remove_file(path);
        }
    }

    /// Writes the whole content (once: the file was created empty).
    pub fn write(&self, flag: &str, content: &str) -> anyhow::Result<()> {
        match self {
            OutputFile::Stdout => print(content),
            OutputFile::File { path, file } => {
                let mut file: &std::fs::File = file;
                file.write_all(content.as_bytes())
                    .and_then(|()| file.flush())
                    .with_context(|| format!("{flag} {}: writing", path.display()))
            }
        }
    }
}

/// Checks, before any work, that a file the library will write at `path` can be created: a
/// missing directory or a read-only one fails now, naming the path. Standard output cannot
/// take these files as the transcript goes there.
pub fn check_creatable(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path == Path::new("-") {
        return Err(UsageError(format!(
            "{flag} -: standard output carries the transcript; give {flag} a file name"
        ))
        .into());
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("{flag} {}: cannot create", path.display()))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Creates the directory `dir` for `flag` (with its parents) before any work.
pub fn create_dir(flag: &str, dir: &Path) -> anyhow::Result<()> {
    if dir == Path::new("-") {
        return Err(UsageError(format!(
            "{flag} -: a directory is needed, not standard output"
        ))
        .into());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("{flag} {}: cannot create", dir.display()))
}
