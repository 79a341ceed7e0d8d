use clap::Args;
use rtmp_probe::emulate::{profile, variant::Variant};

/// List the client profiles (with their behaviour and source) and the segmentation variants.
#[derive(Debug, Args)]
pub struct ProfilesArgs {}

pub fn run(_: ProfilesArgs) -> anyhow::Result<i32> {
    for p in profile::all() {
        outln!(
            "{}\n    {}\n    source: {}\n",
            p.name,
            p.description,
            p.source
        )?;
    }
    let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
    outln!("variants: {}", names.join(", "))?;
    Ok(0)
}
