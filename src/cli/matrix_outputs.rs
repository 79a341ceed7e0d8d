//! Where `matrix` puts its results: the --json and --junit files (created before the run, `-`
//! for standard output) and the table for people; and the finished cases of an interrupted
//! run in the order a whole run reports them.

use super::exit::UsageError;
use super::output::OutputFile;
use rtmp_probe::emulate::profile::Profile;
use rtmp_probe::emulate::variant::Variant;
use rtmp_probe::emulate::{report, CaseResult};
use std::path::Path;

/// The --json and --junit files, created before the run so that a bad path fails at once.
pub struct MatrixOutputs {
    json: Option<OutputFile>,
    junit: Option<OutputFile>,
}

impl MatrixOutputs {
    pub fn create(json: Option<&Path>, junit: Option<&Path>) -> anyhow::Result<Self> {
        let stdout_taken = |p: Option<&Path>| p == Some(Path::new("-"));
        if stdout_taken(json) && stdout_taken(junit) {
            return Err(UsageError(
                "--json and --junit - both want standard output; give one a file name (--json=FILE)"
                    .into(),
            )
            .into());
        }
        let open =
            |flag: &str, path: Option<&Path>| path.map(|p| OutputFile::create(flag, p)).transpose();
        Ok(MatrixOutputs {
            json: open("--json", json)?,
            junit: open("--junit", junit)?,
        })
    }

    /// Whether a FILE option took standard output (the table then goes to standard error).
    pub fn stdout_taken(&self) -> bool {
        [&self.json, &self.junit]
            .iter()
            .any(|f| f.as_ref().is_some_and(OutputFile::is_stdout))
    }

    /// Prints text for people: on standard output, or on standard error when a FILE option
    /// took standard output.
    pub fn say(&self, text: &str) -> anyhow::Result<()> {
        if self.stdout_taken() {
            eprint!("{text}");
            Ok(())
        } else {
            super::output::print(text)
        }
    }

    /// Writes the files; an interrupted run's JSON says `"interrupted": true`.
    pub fn write(
        &self,
        shown: &str,
        results: &[CaseResult],
        interrupted: bool,
    ) -> anyhow::Result<()> {
        if let Some(file) = &self.json {
            file.write("--json", &report::json(shown, results, interrupted))?;
        }
        if let Some(file) = &self.junit {
            file.write("--junit", &report::junit(shown, results))?;
        }
        Ok(())
    }
}

/// The finished cases of an interrupted run, in the order a whole run reports them.
pub fn in_case_order(mut done: Vec<CaseResult>, cases: &[(Profile, Variant)]) -> Vec<CaseResult> {
    let order: Vec<String> = cases
        .iter()
        .map(|(p, v)| format!("{}/{v}", p.name))
        .collect();
    done.sort_by_key(|r| order.iter().position(|id| *id == r.id));
    done
}
