use anyhow::Context;
use clap::Args;
use rtmp_probe::emulate::consistency;
use rtmp_probe::emulate::tolerance::{self, Reaction};
use rtmp_probe::emulate::{profile, variant::Variant};
use rtmp_probe::serve::personality;

/// List the client profiles (with their behaviour, source and how it is known) and the
/// segmentation variants; or print one profile's tolerance table.
#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// Print how PROFILE's real client reacts to each server deviation, with sources.
    #[arg(long, value_name = "PROFILE", value_parser = super::names::profiles(), hide_possible_values = true)]
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
    let profile = super::names::profile_named(name)?;
    let table = tolerance::table(name).with_context(|| format!("profile {name}"))?;
    let coverage = consistency::coverage(&profile, &personality::all());
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
        let row = coverage.iter().find(|c| c.deviation == r.deviation);
        let exercised = row.map(|c| c.exercised_by.join(", ")).unwrap_or_default();
        let checked = row.map(|c| c.checked_by.join(", ")).unwrap_or_default();
        if exercised.is_empty() {
            outln!("    exercised by: no personality")?;
        } else {
            outln!("    exercised by: {exercised}")?;
        }
        let emulator = if !checked.is_empty() {
            format!(
                "checked by the consistency test (tests/tolerance_consistency.rs) under {checked}"
            )
        } else if !consistency::detected(r.deviation) {
            "has no point where it meets this (its own waits decide), not checked".to_string()
        } else if r.reaction == Reaction::Unknown {
            format!(
                "keeps the specification's strict reading ({}), not checked",
                tolerance::strict_reading(r.deviation)
            )
        } else if exercised.is_empty() {
            "not checked (no personality exercises it)".to_string()
        } else {
            "not checked (an earlier row, or an unknown one, decides every case that meets it)"
                .to_string()
        };
        outln!("    emulator: {emulator}")?;
    }
    let checked = coverage.iter().filter(|c| !c.checked_by.is_empty()).count();
    outln!(
        "\n{} of {} deviations rest on a source; the others are unknown. {checked} rows are \
         checked against the emulator by the consistency test (every personality, in memory).",
        table.known_rows(),
        table.row.len()
    )?;
    Ok(0)
}
