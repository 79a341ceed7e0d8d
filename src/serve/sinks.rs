//! The two [`EventSink`]s: printing events as they happen (the CLI) and collecting them in
//! memory (tests and the built-in matrix server).

use super::output_queue::{Capacity, Dropped, OutputQueue, Source};
use super::EventSink;
use crate::transcript::DiagnosticId;
use crate::transcript::{Event, EventKind, Severity};
use serde::Serialize;
use std::sync::{Arc, Mutex};

/// The catalogue id of serve's account of the lines it dropped.
pub const OUTPUT_DROPPED: DiagnosticId = DiagnosticId::ServeOutputDropped;

/// Prints events as they happen: human text (prefixed with the connection number) or JSON lines.
/// Lines go through a bounded queue to a writer thread (`OutputQueue`), so a reader that
/// stops reading costs dropped lines, counted and reported, never a stalled session. A write
/// that fails (standard output's reader has gone) never panics: it sets `closed`, and nothing
/// more is printed; the owner of the server decides whether to stop.
pub struct PrintSink {
    json: bool,
    /// Print only error diagnostics of connections (and server lines): a load test's thousands
    /// of connections would otherwise cost more in printing than in serving.
    quiet: bool,
    text: crate::transcript::render::TextRenderer,
    queue: OutputQueue,
    /// Becomes true when a write to standard output fails.
    pub closed: Arc<tokio::sync::watch::Sender<bool>>,
}

impl std::fmt::Debug for PrintSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrintSink")
            .field("json", &self.json)
            .field("quiet", &self.quiet)
            .finish_non_exhaustive()
    }
}

impl PrintSink {
    /// Prints to standard output.
    pub fn stdout(
        json: bool,
        quiet: bool,
        text: crate::transcript::render::TextRenderer,
        closed: tokio::sync::watch::Sender<bool>,
    ) -> Self {
        Self::new(
            std::io::stdout(),
            Capacity::default(),
            json,
            quiet,
            text,
            closed,
        )
    }

    /// Prints to `out`, holding at most `capacity` unwritten.
    pub fn new(
        out: impl std::io::Write + Send + 'static,
        capacity: Capacity,
        json: bool,
        quiet: bool,
        text: crate::transcript::render::TextRenderer,
        closed: tokio::sync::watch::Sender<bool>,
    ) -> Self {
        let closed = Arc::new(closed);
        let on_error = {
            let closed = closed.clone();
            move || {
                closed.send_replace(true);
            }
        };
        let queue = OutputQueue::start(
            out,
            capacity,
            move |dropped| dropped_line(json, dropped, false),
            on_error,
        );
        PrintSink {
            json,
            quiet,
            text,
            queue,
            closed,
        }
    }

    fn print(&self, source: Source, line: String) {
        if *self.closed.borrow() {
            return;
        }
        self.queue.push(source, line);
    }

    /// Lines dropped so far because standard output was not read fast enough.
    pub fn dropped(&self) -> Dropped {
        self.queue.dropped()
    }

    /// Prints `last` (a server line) and, when lines were dropped, how many in all and from
    /// where, without dropping either; returns once everything queued is written.
    pub fn finish(&self, last: Option<&str>) {
        let mut lines: Vec<String> = last.map(|l| self.server_text(l)).into_iter().collect();
        let dropped = self.dropped();
        if !dropped.is_empty() {
            lines.push(dropped_line(self.json, &dropped, true));
        }
        if *self.closed.borrow() {
            lines.clear();
        }
        self.queue.finish(lines);
    }

    fn server_text(&self, line: &str) -> String {
        if self.json {
            let line = serde_json::json!({ "text": line });
            crate::transcript::render::json_record_line("server", &line)
        } else {
            line.to_string()
        }
    }
}

/// The `output_dropped` JSON line: lines dropped since the last such line, or in the whole run
/// (`in_all`), by connection.
#[derive(Serialize)]
struct OutputDroppedLine {
    id: DiagnosticId,
    severity: Severity,
    in_all: bool,
    lines: u64,
    connections: Vec<ConnectionLines>,
    server_lines: u64,
    text: String,
}

#[derive(Serialize)]
struct ConnectionLines {
    conn: u64,
    lines: u64,
}

/// `dropped 57 lines while standard output was not read (connection 1: 50, connection 3: 7)`.
fn dropped_words(dropped: &Dropped, in_all: bool) -> String {
    let sources: Vec<String> = dropped
        .0
        .iter()
        .map(|(source, lines)| match source {
            Source::Connection(conn) => format!("connection {conn}: {lines}"),
            Source::Server => format!("server: {lines}"),
        })
        .collect();
    let total = dropped.total();
    format!(
        "dropped {total} line{}{} while standard output was not read ({})",
        if total == 1 { "" } else { "s" },
        if in_all { " in all" } else { "" },
        sources.join(", ")
    )
}

fn dropped_line(json: bool, dropped: &Dropped, in_all: bool) -> String {
    let text = dropped_words(dropped, in_all);
    if !json {
        return format!("rtmp-probe serve: {text}");
    }
    let line = OutputDroppedLine {
        id: OUTPUT_DROPPED,
        severity: OUTPUT_DROPPED.severity(),
        in_all,
        lines: dropped.total(),
        connections: dropped
            .0
            .iter()
            .filter_map(|(source, &lines)| match source {
                Source::Connection(conn) => Some(ConnectionLines { conn: *conn, lines }),
                Source::Server => None,
            })
            .collect(),
        server_lines: dropped.0.get(&Source::Server).copied().unwrap_or(0),
        text,
    };
    crate::transcript::render::json_record_line("output_dropped", &line)
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
        let line = if self.json {
            crate::transcript::render::json_event_line(conn, event)
        } else {
            format!("[{conn}] {}", self.text.line(event))
        };
        self.print(Source::Connection(conn), line);
    }

    fn wants_detail(&self) -> bool {
        !self.quiet
    }

    fn server_line(&self, line: &str) {
        self.print(Source::Server, self.server_text(line));
    }
}

/// Collects every connection's transcript in memory (for tests and the built-in matrix server).
#[derive(Debug, Default)]
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
