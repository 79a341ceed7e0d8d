use super::UsageError;
use anyhow::Context;
use clap::Args;
use rtmp_probe::emulate::tolerance::{self, Reaction};
use rtmp_probe::emulate::{profile, variant::Variant};

/// List the client profiles (with their behaviour, source and how it is known) and the
/// segmentation variants; or print one profile's tolerance table.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Print how PROFILE's real client reacts to each server deviation, with sources.
    #[arg(long, value_name = "PROFILE")]
    pub tolerance: Option<String>,
}

pub fn run(args: ProfilesArgs) -> anyhow::Result<i32> {
    if let Some(name) = args.tolerance {
        return print_tolerance(&name);
    }
    for p in profile::all() {
        outln!(
            "{}\n    {}\n    source: {}",
            p.name,
            p.description,
            p.source
        )?;
        let table = tolerance::table(&p.name)?;
        for b in &table.basis {
            outln!("    {b}")?;
        }
        outln!(
            "    tolerance: {} of {} deviations known (rtmp-probe profiles --tolerance {})\n",
            table.known_rows(),
            table.row.len(),
            p.name
        )?;
    }
    let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
    outln!("variants: {}", names.join(", "))?;
    Ok(0)
}

fn print_tolerance(name: &str) -> anyhow::Result<i32> {
    if profile::by_name(name).is_none() {
        let names: Vec<String> = profile::all().into_iter().map(|p| p.name).collect();
        return Err(UsageError(format!(
            "no profile {name:?}; the profiles are: {}",
            names.join(", ")
        ))
        .into());
    }
    let table = tolerance::table(name).with_context(|| format!("profile {name}"))?;
    outln!("{name}: how the real client reacts to each server deviation")?;
    for b in &table.basis {
        outln!("  {b}")?;
    }
    outln!()?;
    for r in table.rows_in_order() {
        let reaction = match r.stage {
            Some(stage) => format!("{} ({stage})", r.reaction),
            None => r.reaction.to_string(),
        };
        outln!("{:<38} {reaction}", r.deviation.key())?;
        outln!("    {}", r.deviation.describe())?;
        if r.reaction != Reaction::Unknown || !r.source.eq_ignore_ascii_case("unknown") {
            outln!("    source: {}", r.source)?;
        }
        if let Some(note) = &r.note {
            outln!("    note: {note}")?;
        }
    }
    outln!(
        "\n{} of {} deviations rest on a source; the others are unknown.",
        table.known_rows(),
        table.row.len()
    )?;
    Ok(0)
}
