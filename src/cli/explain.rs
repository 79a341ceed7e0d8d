use super::UsageError;
use clap::Args;
use rtmp_probe::transcript::catalogue;

/// Explain a diagnostic or observation id: its severity, stage, meaning and what it rests on.
///
/// Example: rtmp-probe explain chunk.ext-ts-type3-omitted
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The id, as a transcript shows it (e.g. hs.s2-echo-from-8).
    #[arg(
        required_unless_present = "list",
        conflicts_with = "list",
        value_parser = super::names::catalogue_ids(),
        hide_possible_values = true
    )]
    id: Option<String>,
    /// List every id with its severity and meaning, one per line.
    #[arg(long)]
    list: bool,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<i32> {
    if args.list {
        let width = catalogue::entries()
            .iter()
            .map(|e| e.id.as_str().len())
            .max()
            .unwrap_or(0);
        for e in catalogue::entries() {
            outln!(
                "{:<width$}  {:<7}  {}",
                e.id,
                e.severity.to_string(),
                e.meaning
            )?;
        }
        return Ok(0);
    }
    let id = args.id.unwrap_or_default();
    match catalogue::lookup(&id) {
        Some(entry) => {
            outln!("{entry}")?;
            Ok(0)
        }
        None => {
            let close = catalogue::closest(&id, 3);
            let hint = if close.is_empty() {
                "`rtmp-probe explain --list` lists them all".to_string()
            } else {
                format!("did you mean {}?", close.join(", "))
            };
            Err(UsageError(format!("no id '{id}' in the catalogue; {hint}")).into())
        }
    }
}
