//! Progress of a run of cases on stderr: the indicatif bar on a terminal; on a pipe or a log
//! file, one line per finished case once the run is long enough to leave someone waiting
//! (as `cargo test` does); nothing for a short run.

use rtmp_probe::emulate::CaseResult;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Runs of more cases than this print a line per case when stderr is not a terminal.
const LINES_ABOVE: usize = 4;

#[derive(Clone)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// Lines instead of the bar: the total, and how many cases have finished.
    lines: Option<(usize, Arc<AtomicUsize>)>,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} cases {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            return Self {
                bar: Some(bar),
                lines: None,
            };
        }
        Self {
            bar: None,
            lines: (total > LINES_ABOVE).then(|| (total, Arc::new(AtomicUsize::new(0)))),
        }
    }

    pub fn case_done(&self, result: &CaseResult) {
        if let Some(bar) = &self.bar {
            bar.set_message(result.id.clone());
            bar.inc(1);
        }
        if let Some((total, done)) = &self.lines {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            let width = total.to_string().len();
            eprintln!(
                "[{n:>width$}/{total}] {} ... {}",
                result.id,
                result.verdict()
            );
        }
    }

    /// Clears the bar before the results are printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
