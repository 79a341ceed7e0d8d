//! Where the commands' output goes: standard output written without panicking when its
//! reader has gone, and output files opened before any work so that a bad path fails at once.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe returns EPIPE; we turn that into
//! [`PipeClosed`] (exit 141) rather than restore SIGPIPE's default, which would also let a
//! TCP peer's reset kill the server.

use super::exit::{PipeClosed, UsageError};
use anyhow::Context;
use clap::Args;
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

    /// Writes `content` after what was written before.
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

/// `--json[=FILE]`, the same in every command that has JSON output: JSON Lines of the one
/// format schema/transcript.schema.json describes, on standard output in place of the text, or
/// into FILE with the text still on standard output. The file goes with `=`: an optional value
/// taken after a space would swallow the next argument (`--json rtmp://...`).
#[derive(Debug, Clone, Default, Args)]
pub struct JsonArg {
    /// JSON Lines (schema/transcript.schema.json) on standard output instead of text; with
    /// =FILE, into FILE while the text stays on standard output (--json=- is standard output).
    #[arg(
        id = "json",
        long = "json",
        value_name = "FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "-"
    )]
    pub path: Option<PathBuf>,
}

impl JsonArg {
    /// Whether the JSON takes standard output (and the text gives way).
    pub fn on_stdout(&self) -> bool {
        self.path.as_deref() == Some(Path::new("-"))
    }

    /// Whether the text goes to standard output: without --json, or with --json=FILE.
    pub fn text_on_stdout(&self) -> bool {
        !self.on_stdout()
    }

    /// Opens the destination before any work, so that a bad path fails at once.
    pub fn open(&self) -> anyhow::Result<Option<OutputFile>> {
        self.path
            .as_deref()
            .map(|p| OutputFile::create("--json", p))
            .transpose()
    }

    /// A usage error when `other` (another flag's file, `-`) also wants standard output.
    pub fn check_stdout_shared(
        &self,
        other: &str,
        other_path: Option<&Path>,
    ) -> anyhow::Result<()> {
        if self.on_stdout() && other_path == Some(Path::new("-")) {
            return Err(UsageError(format!(
                "--json and {other} - both want standard output; give one a file name (--json=FILE)"
            ))
            .into());
        }
        Ok(())
    }
}

/// The JSON destination opened by [`JsonArg::open`], written a line at a time.
pub struct JsonOut(pub Option<OutputFile>);

impl JsonOut {
    /// Writes one JSON line, when JSON was asked for.
    pub fn line(&self, line: &str) -> anyhow::Result<()> {
        match &self.0 {
            None => Ok(()),
            Some(file) => file.write("--json", &format!("{line}\n")),
        }
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

/// `--pcap FILE` of a command whose connections share one file (matrix, load, `replay
/// --against`): created before the run, closed after it.
pub fn create_pcap(
    path: Option<&Path>,
) -> anyhow::Result<Option<std::sync::Arc<rtmp_probe::record::pcap::PcapFile>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    check_creatable("--pcap", path)?;
    let file = rtmp_probe::record::pcap::PcapFile::create(path)
        .with_context(|| format!("--pcap {}: cannot create", path.display()))?;
    Ok(Some(file))
}

/// Writes out a shared pcap file once every connection is done; a failure is said on standard
/// error (the results stand).
pub fn close_pcap(file: Option<&rtmp_probe::record::pcap::PcapFile>, path: Option<&Path>) {
    if let (Some(file), Some(path)) = (file, path) {
        if let Err(e) = file.close() {
            eprintln!("rtmp-probe: --pcap {}: writing: {e}", path.display());
        }
    }
}
