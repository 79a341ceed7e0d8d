//! How case results are shown: a console table, JSON and JUnit XML.

use super::CaseResult;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

/// The console table, one line per case, with the first finding of each non-pass.
pub fn table(results: &[CaseResult]) -> String {
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
    for r in results {
        let verdict = r.verdict();
        let pad = verdict_width - verdict.chars().count();
        let stage = r.stage.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        let diagnosis = r
            .diagnosis
            .first()
            .map(|f| f.message.as_str())
            .unwrap_or("");
        out.push_str(&format!(
            "{:<id_width$}  {verdict}{:pad$}  {stage:<9}  {diagnosis}\n",
            r.id, ""
        ));
    }
    out
}

#[derive(Serialize)]
struct MatrixSummary<'a> {
    target: &'a str,
    cases: usize,
    failed: usize,
}

/// JSON lines: one `case` line per case (statuses in lower case), then a `matrix` line with the
/// target and the counts.
pub fn json(target: &str, results: &[CaseResult]) -> String {
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
            super::case::Status::Error => TestCaseStatus::non_success(NonSuccessKind::Error),
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
