//! How case results are shown: a console table, JSON and JUnit XML.

use super::case::{Finding, Status};
use super::CaseResult;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

/// The console table, one line per case. A case that did not simply pass refers to its first
/// finding by number, `[1] hs.first-read-short`, and each distinct finding is written out once
/// below the table: a matrix against a broken server would otherwise repeat one long
/// explanation on dozens of rows.
pub fn table(results: &[CaseResult]) -> String {
    Table::default().render(results)
}

/// How the table is drawn; [`table`] is the plain form.
#[derive(Debug, Clone, Copy, Default)]
pub struct Table {
    /// ANSI colour for the verdicts (for a terminal).
    pub colour: bool,
}

impl Table {
    pub fn render(&self, results: &[CaseResult]) -> String {
        // Distinct first findings in order of first appearance; a row holds its note's index.
        let mut notes: Vec<&Finding> = Vec::new();
        let rows: Vec<(&CaseResult, String, String)> = results
            .iter()
            .map(|r| {
                let note = r.diagnosis.first().map(|f| {
                    let n = match notes.iter().position(|known| *known == f) {
                        Some(i) => i + 1,
                        None => {
                            notes.push(f);
                            notes.len()
                        }
                    };
                    format!("[{n}] {}", f.id)
                });
                let stage = r.stage.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                (r, stage, note.unwrap_or_default())
            })
            .collect();
        let id_width = results.iter().map(|r| r.id.len()).max().unwrap_or(4).max(4);
        let verdict_width = results
            .iter()
            .map(|r| r.verdict().chars().count())
            .max()
            .unwrap_or(7)
            .max(7);
        let mut out = format!(
            "{:<id_width$}  {:<verdict_width$}  {:<9}  DIAGNOSIS\n",
            "CASE", "VERDICT", "STAGE"
        );
        for (r, stage, note) in rows {
            let verdict = r.verdict();
            let pad = verdict_width - verdict.chars().count();
            let verdict = paint(self.colour, r.status, &verdict);
            let line = format!(
                "{:<id_width$}  {verdict}{:pad$}  {stage:<9}  {note}",
                r.id, ""
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if !notes.is_empty() {
            out.push('\n');
            for (i, f) in notes.iter().enumerate() {
                out.push_str(&format!("[{}] {}: {}\n", i + 1, f.id, f.message));
            }
        }
        out
    }
}

/// How each profile in `results` is known, one line each, so that a reader of a verdict sees
/// whether it rests on a model or was checked against the real program: the checked bases of
/// its tolerance table (program and version), else what it is modelled from.
pub fn basis(results: &[CaseResult]) -> String {
    use super::tolerance::{self, BasisKind};
    let mut profiles: Vec<&str> = Vec::new();
    for r in results {
        if !profiles.contains(&r.profile.as_str()) {
            profiles.push(&r.profile);
        }
    }
    let width = profiles.iter().map(|p| p.len()).max().unwrap_or(0);
    let mut out =
        String::from("how each profile is known (rtmp-probe profiles --tolerance NAME):\n");
    for name in profiles {
        let known = match tolerance::table(name) {
            Ok(table) => {
                let sources = |kind| -> Vec<&str> {
                    table
                        .basis
                        .iter()
                        .filter(|b| b.kind == kind)
                        .map(|b| b.source.as_str())
                        .collect()
                };
                let checked = sources(BasisKind::Checked);
                if checked.is_empty() {
                    format!("modelled from {}", sources(BasisKind::Modelled).join("; "))
                } else {
                    format!("checked against {}", checked.join("; "))
                }
            }
            Err(_) => "a profile file (no tolerance table): modelled from what it says".into(),
        };
        out.push_str(&format!("  {name:<width$}  {known}\n"));
    }
    out
}

/// `text` in the colour of `status` when `colour` is on.
pub fn paint(colour: bool, status: Status, text: &str) -> String {
    if !colour {
        return text.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::NonStrict => "33",
        Status::Informational => "36",
        Status::Fail | Status::Timeout | Status::Error => "1;31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// `77 cases: 66 pass, 11 informational, 0 fail`: the count of every status that occurs, in
/// the order of [`Status`]; `0 fail` when nothing failed, so the line always says so.
pub fn summary(results: &[CaseResult]) -> String {
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    let none_failed = !results.iter().any(|r| r.status.is_failure());
    let mut parts: Vec<String> = Vec::new();
    for status in Status::ALL {
        let n = count(status);
        if n > 0 || (status == Status::Fail && none_failed) {
            parts.push(format!("{n} {}", status.label().to_lowercase()));
        }
    }
    let cases = if results.len() == 1 { "case" } else { "cases" };
    format!("{} {cases}: {}", results.len(), parts.join(", "))
}

#[derive(Serialize)]
struct MatrixSummary<'a> {
    target: &'a str,
    cases: usize,
    failed: usize,
    /// Ctrl-C or SIGTERM stopped the run: the case lines are the cases that finished.
    interrupted: bool,
}

/// JSON lines: one `case` line per case (statuses in lower case), then a `matrix` line with the
/// target, the counts and whether the run was interrupted.
pub fn json(target: &str, results: &[CaseResult], interrupted: bool) -> String {
    use crate::transcript::render::json_record_line;
    let mut out = String::new();
    for r in results {
        out.push_str(&json_record_line("case", r));
        out.push('\n');
    }
    let summary = MatrixSummary {
        target,
        cases: results.len(),
        failed: results.iter().filter(|r| r.status.is_failure()).count(),
        interrupted,
    };
    out.push_str(&json_record_line("matrix", &summary));
    out.push('\n');
    out
}

/// JUnit XML, one test case per case: FAIL/TIMEOUT/ERROR are failures or errors; the others
/// pass, with their status in the output.
pub fn junit(target: &str, results: &[CaseResult]) -> String {
    let mut suite = TestSuite::new(format!("rtmp-probe matrix {target}"));
    for r in results {
        let mut status = match r.status {
            s if !s.is_failure() => TestCaseStatus::success(),
            Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
            _ => TestCaseStatus::non_success(NonSuccessKind::Failure),
        };
        let text: Vec<String> = r
            .diagnosis
            .iter()
            .map(|f| format!("{}: {}", f.id, f.message))
            .collect();
        status.set_message(format!(
            "{} at {}",
            r.verdict(),
            r.stage.map(|s| s.to_string()).unwrap_or_default()
        ));
        status.set_description(text.join("\n"));
        let mut case = TestCase::new(r.id.clone(), status);
        case.set_time(std::time::Duration::from_millis(r.duration_ms));
        case.set_system_out(format!("{}\n{}", r.verdict(), text.join("\n")));
        suite.add_test_case(case);
    }
    let mut report = Report::new("rtmp-probe");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::DiagnosticId;

    fn result(id: &str, status: Status, finding: Option<(DiagnosticId, &str)>) -> CaseResult {
        CaseResult {
            id: id.into(),
            profile: id.split('/').next().unwrap_or_default().into(),
            variant: id.split('/').nth(1).unwrap_or_default().into(),
            status,
            stage: finding.map(|_| super::super::case::Stage::Handshake),
            attempts: 1,
            failed_attempts: u32::from(status.is_failure()),
            diagnosis: finding
                .map(|(id, message)| Finding {
                    id,
                    message: message.into(),
                })
                .into_iter()
                .collect(),
            observations: Default::default(),
            duration_ms: 1,
            interrupted: false,
            worst: None,
        }
    }

    const LONG: &str = "the server wrote S0, S1 and S2 in one segment and the client gave up";

    #[test]
    fn a_diagnosis_shared_by_rows_is_written_once_and_referred_to_by_number() {
        let results = [
            result(
                "wirecast/default",
                Status::Fail,
                Some((DiagnosticId::HsFirstReadShort, LONG)),
            ),
            result("obs/default", Status::Pass, None),
            result(
                "elemental/default",
                Status::Fail,
                Some((DiagnosticId::HsFirstReadShort, LONG)),
            ),
            result(
                "obs/bytewise",
                Status::Timeout,
                Some((DiagnosticId::MsgTimeout, "no reply")),
            ),
        ];
        let text = table(&results);
        assert_eq!(text.matches(LONG).count(), 1, "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("wirecast/default "), "{text}");
        assert!(
            lines[1].ends_with("handshake  [1] hs.first-read-short"),
            "{text}"
        );
        assert!(lines[2].ends_with("-"), "a pass has no note: {text}");
        assert!(lines[3].ends_with("[1] hs.first-read-short"), "{text}");
        assert!(lines[4].ends_with("[2] msg.timeout"), "{text}");
        assert_eq!(lines[5], "");
        assert_eq!(lines[6], format!("[1] hs.first-read-short: {LONG}"));
        assert_eq!(lines[7], "[2] msg.timeout: no reply");
        assert_eq!(lines.len(), 8, "{text}");
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colour_marks_verdicts_only_when_asked_and_keeps_the_columns() {
        let results = [
            result("obs/default", Status::Pass, None),
            result(
                "wirecast/default",
                Status::Fail,
                Some((DiagnosticId::HsFirstReadShort, LONG)),
            ),
        ];
        let coloured = Table { colour: true }.render(&results);
        assert!(coloured.contains("\x1b[32mpass\x1b[0m"), "{coloured}");
        assert!(coloured.contains("\x1b[1;31mfail\x1b[0m"), "{coloured}");
        let stripped = coloured
            .replace("\x1b[32m", "")
            .replace("\x1b[1;31m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, table(&results));
    }

    #[test]
    fn the_summary_counts_every_status_that_occurs_in_a_fixed_order() {
        let mut results = vec![result("a/default", Status::Pass, None); 66];
        results.extend(vec![result("b/default", Status::Informational, None); 11]);
        assert_eq!(
            summary(&results),
            "77 cases: 66 pass, 11 informational, 0 fail"
        );
        results.push(result(
            "c/default",
            Status::Error,
            Some((DiagnosticId::CaseTimeout, "y")),
        ));
        results.insert(
            0,
            result(
                "d/default",
                Status::Timeout,
                Some((DiagnosticId::CaseTimeout, "y")),
            ),
        );
        assert_eq!(
            summary(&results),
            "79 cases: 66 pass, 11 informational, 1 timeout, 1 error"
        );
        assert_eq!(summary(&results[..1]), "1 case: 1 timeout");
    }

    #[test]
    fn the_basis_says_which_profiles_were_checked_against_the_real_program() {
        let results = [
            result("obs/default", Status::Pass, None),
            result("wirecast/default", Status::Pass, None),
            result("obs/bytewise", Status::Pass, None),
            result("from-a-file/default", Status::Pass, None),
        ];
        let text = basis(&results);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "one line per profile: {text}");
        assert!(
            lines[1].starts_with("  obs ") && lines[1].contains("checked against librtmp"),
            "{text}"
        );
        assert!(
            lines[2].contains("wirecast") && lines[2].contains("modelled from"),
            "{text}"
        );
        assert!(!lines[2].contains("checked"), "{text}");
        assert!(
            lines[3].contains("from-a-file") && lines[3].contains("no tolerance table"),
            "{text}"
        );
    }
}
