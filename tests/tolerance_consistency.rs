//! Every built-in profile against every personality, in memory: the emulator's verdict and
//! stage must be what the profile's tolerance table predicts from the deviations the
//! personality exercises (src/emulate/consistency.rs says how rows combine). Unpredicted cases
//! (a row met is `unknown`) are listed, not asserted. The table is printed; any disagreement
//! fails the test.

use rtmp_probe::emulate::consistency::{self, Prediction};
use rtmp_probe::emulate::{memory, profile, variant::Variant};
use rtmp_probe::serve::personality;
use support::quick_case_options;

mod support;

#[test]
fn every_emulator_does_what_its_table_says_under_every_personality() {
    let profiles = profile::all();
    let personalities = personality::all();
    assert!(!profiles.is_empty() && !personalities.is_empty());
    let mut lines = vec![format!(
        "{:<26} {:<15} {:<44} {}",
        "PERSONALITY", "PROFILE", "TABLE PREDICTS", "EMULATOR"
    )];
    let (mut asserted, mut unknown) = (0, Vec::new());
    let mut disagreements = Vec::new();
    for s in &personalities {
        for p in &profiles {
            let expectation = consistency::predict(p, s);
            let result = memory::run_case(p, Variant::Default, s, &quick_case_options());
            let got = format!(
                "{} {}{}",
                result.status.label(),
                result.stage.map(|s| s.to_string()).unwrap_or_default(),
                result
                    .diagnosis
                    .first()
                    .map(|f| format!(" [{}]", f.id))
                    .unwrap_or_default()
            );
            let verdict = match &expectation.prediction {
                Prediction::Unknown { .. } => {
                    unknown.push(format!("{} x {}", p.name, s.name));
                    "listed"
                }
                prediction => {
                    asserted += 1;
                    match prediction.check(&result) {
                        Ok(()) => "agrees",
                        Err(why) => {
                            disagreements.push(format!("{} under {}: {why}", p.name, s.name));
                            "DISAGREES"
                        }
                    }
                }
            };
            lines.push(format!(
                "{:<26} {:<15} {:<44} {got}  {verdict}",
                s.name,
                p.name,
                expectation.prediction.to_string()
            ));
        }
    }
    println!("{}", lines.join("\n"));
    println!(
        "\n{asserted} cases predicted and asserted, {} unpredicted (a row met is unknown; the emulator keeps the strict reading)",
        unknown.len()
    );
    // Something must be checked, or this test proves nothing.
    assert!(
        asserted > profiles.len() * 2,
        "only {asserted} cases were predicted"
    );
    assert!(
        disagreements.is_empty(),
        "{} emulators disagree with their tables:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
