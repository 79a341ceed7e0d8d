//! Every built-in profile against every personality, in memory: the emulator's verdict and
//! stage must be what the profile's tolerance table predicts from the deviations the
//! personality exercises (src/emulate/consistency.rs says how rows combine), and the emulator
//! must have met every deviation the prediction rests on (it records where it consults a row:
//! `Outcome::met`). Unpredicted cases (a row met is `unknown`) are listed, not asserted. The
//! whole table, with what each emulator met, is the snapshot `tolerance-consistency`; any
//! disagreement fails the test.

use rtmp_probe::deviation::Deviation;
use rtmp_probe::emulate::consistency::{self, Prediction};
use rtmp_probe::emulate::{memory, profile, variant::Variant};
use rtmp_probe::serve::personality;
use support::quick_case_options;

mod support;

fn keys(deviations: &[Deviation]) -> String {
    let keys: Vec<&str> = deviations.iter().map(|d| d.key()).collect();
    keys.join(" ")
}

#[test]
fn every_emulator_does_what_its_table_says_under_every_personality() {
    let profiles = profile::all();
    let personalities = personality::all();
    assert!(!profiles.is_empty() && !personalities.is_empty());
    let mut lines = vec![format!(
        "{:<26} {:<15} {:<44} {:<48} {:<9} {}",
        "PERSONALITY", "PROFILE", "TABLE PREDICTS", "EMULATOR", "CHECK", "MET"
    )];
    let (mut asserted, mut unknown) = (0, Vec::new());
    let mut must_meet = 0;
    let mut disagreements = Vec::new();
    for s in &personalities {
        for p in &profiles {
            let expectation = consistency::predict(p, s);
            let result = memory::run_case(p, Variant::Default, s, &quick_case_options());
            let met = &result
                .worst
                .as_ref()
                .expect("a case run once keeps its outcome")
                .met;
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
                    must_meet += expectation.must_meet(p).len();
                    let unmet = expectation.unmet(p, met);
                    match prediction.check(&result) {
                        Err(why) => {
                            disagreements.push(format!("{} under {}: {why}", p.name, s.name));
                            "DISAGREES"
                        }
                        Ok(()) if !unmet.is_empty() => {
                            disagreements.push(format!(
                                "{} under {}: predicted to meet {}, the emulator met [{}]",
                                p.name,
                                s.name,
                                keys(&unmet),
                                keys(met)
                            ));
                            "UNMET"
                        }
                        Ok(()) => "agrees",
                    }
                }
            };
            lines.push(
                format!(
                    "{:<26} {:<15} {:<44} {got:<48} {verdict:<9} {}",
                    s.name,
                    p.name,
                    expectation.prediction.to_string(),
                    keys(met)
                )
                .trim_end()
                .to_string(),
            );
        }
    }
    let total = profiles.len() * personalities.len();
    lines.push(String::new());
    lines.push(format!(
        "{asserted} of {total} cases predicted and asserted, {must_meet} predicted deviations \
         met; {} unpredicted (a row met is unknown; the emulator keeps the strict reading)",
        unknown.len()
    ));
    let table = lines.join("\n");
    println!("{table}");
    // Something must be checked, or this test proves nothing.
    assert!(
        asserted > profiles.len() * 2,
        "only {asserted} cases were predicted"
    );
    assert!(must_meet > 0, "no predicted case rests on a deviation met");
    assert!(
        disagreements.is_empty(),
        "{} emulators disagree with their tables:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("tolerance-consistency", table));
}
