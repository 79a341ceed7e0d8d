//! Shell completions and man pages, generated from the clap definitions so they never drift
//! from the real flags.

use super::{exit, UsageError};
use std::path::{Path, PathBuf};

/// Print a completion script for a shell to stdout. Profile, personality, variant, case and
/// catalogue-id names are completed as well as flags.
///
/// Example: source <(rtmp-probe completions bash)
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    shell: clap_complete::Shell,
}

/// Print a man page (roff) to stdout: the tool's, or one subcommand's; or write them all.
///
/// Each page ends with the command's exit statuses (EXIT STATUS).
///
/// Example: rtmp-probe man --out man/ && man -l man/rtmp-probe-matrix.1
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A subcommand whose page to print (rtmp-probe-SUBCOMMAND(1)); without it, rtmp-probe(1).
    #[arg(value_name = "SUBCOMMAND")]
    subcommand: Option<String>,
    /// Write every page into DIR (created if missing): rtmp-probe.1 and one
    /// rtmp-probe-SUBCOMMAND.1 per subcommand.
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<i32> {
    let mut command = super::command();
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    super::output::print(&String::from_utf8_lossy(&script))?;
    Ok(0)
}

pub fn man(args: ManArgs) -> anyhow::Result<i32> {
    let mut root = super::command();
    root.build();
    let visible: Vec<String> = root
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect();
    if let Some(dir) = &args.out {
        super::output::create_dir("--out", dir)?;
        let mut written = vec![write_page(dir, &root, None)?];
        for name in &visible {
            written.push(write_page(dir, &root, Some(name))?);
        }
        outln!(
            "wrote {} to {}: {}",
            super::plural(written.len() as u64, "man page"),
            dir.display(),
            written.join(", ")
        )?;
        return Ok(0);
    }
    if let Some(name) = &args.subcommand {
        if !visible.contains(name) {
            return Err(super::names::unknown("subcommand", name, &visible).into());
        }
    }
    let page = render(&root, args.subcommand.as_deref())?;
    super::output::print(&page)?;
    Ok(0)
}

/// Writes the page of `subcommand` (None: the tool's) into `dir`; returns its file name.
fn write_page(
    dir: &Path,
    root: &clap::Command,
    subcommand: Option<&str>,
) -> anyhow::Result<String> {
    let name = match subcommand {
        None => format!("{}.1", root.get_name()),
        Some(sub) => format!("{}-{sub}.1", root.get_name()),
    };
    let path = dir.join(&name);
    std::fs::write(&path, render(root, subcommand)?)
        .map_err(|e| anyhow::anyhow!("--out {}: writing: {e}", path.display()))?;
    Ok(name)
}

/// The roff page of `subcommand` (None: the tool's), from a built `root`: clap_mangen's sections
/// with the exit statuses in their own EXIT STATUS section before VERSION, in place of the
/// `--help` text that lists them.
fn render(root: &clap::Command, subcommand: Option<&str>) -> anyhow::Result<String> {
    let page = match subcommand {
        None => root.clone(),
        // rtmp-probe-matrix(1), as git names its subcommands' pages (clap's display name).
        Some(name) => root
            .find_subcommand(name)
            .ok_or_else(|| UsageError(format!("no subcommand '{name}'")))?
            .clone()
            .version(env!("CARGO_PKG_VERSION")),
    };
    let page = page.after_help(None::<&str>).after_long_help(None::<&str>);
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    let roff = String::from_utf8_lossy(&roff).into_owned();
    let status = exit_status_section(subcommand);
    Ok(match roff.find("\n.SH VERSION") {
        Some(at) => format!("{}\n{}{}", &roff[..at], status.trim_end(), &roff[at..]),
        None => format!("{roff}{status}"),
    })
}

/// `.SH "EXIT STATUS"` with a tagged paragraph per code.
fn exit_status_section(subcommand: Option<&str>) -> String {
    let mut roff = roff::Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit::codes(subcommand) {
        roff.control("TP", []);
        roff.text([roff::bold(code.to_string())]);
        roff.text([roff::roman(meaning)]);
    }
    roff.to_roff()
}
