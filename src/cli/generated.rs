//! Shell completions and man pages, generated from the clap definitions so they never drift
//! from the real flags.

use super::UsageError;
use clap::{Args, CommandFactory};
use std::io::Write;

/// Print a completion script for a shell to stdout.
///
/// Example: source <(rtmp-probe completions bash)
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    shell: clap_complete::Shell,
}

/// Print a man page (roff) to stdout: the tool's, or one subcommand's.
///
/// Example: rtmp-probe man matrix > rtmp-probe-matrix.1 && man -l rtmp-probe-matrix.1
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand whose page to print (rtmp-probe-SUBCOMMAND(1)); without it, rtmp-probe(1).
    subcommand: Option<String>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<i32> {
    let mut command = super::Cli::command();
    let name = command.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    std::io::stdout().write_all(&script)?;
    Ok(0)
}

pub fn man(args: ManArgs) -> anyhow::Result<i32> {
    let mut command = super::Cli::command();
    command.build();
    let page = match &args.subcommand {
        None => command,
        Some(name) => {
            let visible = || command.get_subcommands().filter(|s| !s.is_hide_set());
            let Some(sub) = visible().find(|s| s.get_name() == name) else {
                let names: Vec<&str> = visible().map(|s| s.get_name()).collect();
                return Err(UsageError(format!(
                    "no subcommand '{name}'; choose one of: {}",
                    names.join(", ")
                ))
                .into());
            };
            // rtmp-probe-matrix(1), as git names its subcommands' pages.
            let title = format!("{}-{name}", command.get_name());
            sub.clone().name(title).version(env!("CARGO_PKG_VERSION"))
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page).render(&mut roff)?;
    std::io::stdout().write_all(&roff)?;
    Ok(0)
}
