//! The two [`EventSink`]s: printing events as they happen (the CLI) and collecting them in
//! memory (tests and the built-in matrix server).

use super::EventSink;
use crate::transcript::{Event, EventKind, Severity};
use std::sync::Mutex;

/// Prints events as they happen: human text (prefixed with the connection number) or JSON lines.
/// A write that fails (standard output's reader has gone) never panics: it sets `closed`, and
/// nothing more is printed; the owner of the server decides whether to stop.
pub struct PrintSink {
    pub json: bool,
    /// Print only error diagnostics of connections (and server lines): a load test's thousands
    /// of connections would otherwise cost more in printing than in serving.
    pub quiet: bool,
    pub text: crate::transcript::render::TextRenderer,
    pub lock: Mutex<()>,
    /// Becomes true when a write to standard output fails.
    pub closed: tokio::sync::watch::Sender<bool>,
}

impl PrintSink {
    fn print(&self, line: &str) {
        use std::io::Write;
        let _guard = self.lock.lock();
        if *self.closed.borrow() {
            return;
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            self.closed.send_replace(true);
        }
    }
}

impl EventSink for PrintSink {
    fn event(&self, conn: u64, event: &Event) {
        let is_error = matches!(
            &event.kind,
            EventKind::Diagnostic {
                severity: Severity::Error,
                ..
            }
        );
        if self.quiet && !is_error {
            return;
        }
        if self.json {
            self.print(&crate::transcript::render::json_event_line(conn, event));
        } else {
            self.print(&format!("[{conn}] {}", self.text.line(event)));
        }
    }

    fn wants_detail(&self) -> bool {
        !self.quiet
    }

    fn server_line(&self, line: &str) {
        if self.json {
            let line = serde_json::json!({ "text": line });
            self.print(&crate::transcript::render::json_record_line(
                "server", &line,
            ));
        } else {
            self.print(line);
        }
    }
}

/// Collects every connection's transcript in memory (for tests and the built-in matrix server).
#[derive(Default)]
pub struct CollectSink {
    pub transcripts: Mutex<std::collections::BTreeMap<u64, crate::transcript::Transcript>>,
    pub lines: Mutex<Vec<String>>,
}

impl EventSink for CollectSink {
    fn event(&self, conn: u64, event: &Event) {
        if let Ok(mut t) = self.transcripts.lock() {
            t.entry(conn).or_default().events.push(event.clone());
        }
    }

    fn server_line(&self, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line.to_string());
        }
    }
}

impl CollectSink {
    /// Whether connection `conn`'s transcript has an error diagnostic.
    pub fn has_error(&self, conn: u64) -> bool {
        self.transcripts
            .lock()
            .map(|t| {
                t.get(&conn).is_some_and(|t| {
                    t.events.iter().any(|e| {
                        matches!(
                            &e.kind,
                            EventKind::Diagnostic {
                                severity: Severity::Error,
                                ..
                            }
                        )
                    })
                })
            })
            .unwrap_or(false)
    }
}
