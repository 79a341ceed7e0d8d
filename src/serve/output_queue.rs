//! serve's printed output, off the sessions' path: sessions put lines in a bounded queue and one
//! writer thread writes them out. A reader that stops reading (a pipe nobody drains) then costs
//! lines, never a stalled RTMP session: when the queue is full a line is dropped and counted by
//! where it came from, and once there is room again a notice of what was dropped takes the
//! gap's place in the output. Files given by flags (--record, --pcap) are written by the
//! sessions themselves and never pass through here.

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// Where a line came from: a connection (numbered from 1) or the server itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Connection(u64),
    Server,
}

/// Lines dropped, by where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped(pub BTreeMap<Source, u64>);

impl Dropped {
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn add(&mut self, source: Source, lines: u64) {
        *self.0.entry(source).or_default() += lines;
    }
}

/// How much the queue holds before it drops.
#[derive(Debug, Clone, Copy)]
pub struct Capacity {
    pub lines: usize,
    pub bytes: usize,
}

impl Default for Capacity {
    /// Some seconds of a busy server's text: far more than a reader that keeps up ever lets
    /// pile up, and little memory.
    fn default() -> Self {
        Capacity {
            lines: 8192,
            bytes: 4 << 20,
        }
    }
}

/// What the writer thread writes: a line as it is, or a notice rendered when its turn comes.
enum Item {
    Line(String),
    Notice(Dropped),
}

struct State {
    items: VecDeque<Item>,
    bytes: usize,
    /// Dropped since the last notice.
    pending: Dropped,
    /// Dropped in the whole run.
    total: Dropped,
    finished: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep printing.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sessions' side of the queue; the writer thread drains it into `out`.
pub struct OutputQueue {
    shared: Arc<Shared>,
    capacity: Capacity,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl OutputQueue {
    /// Starts the writer thread. It writes each line with a newline and flushes; `notice`
    /// renders a notice of the lines dropped since the previous one; when a write fails,
    /// `on_error` is called once and the rest is discarded.
    pub fn start(
        mut out: impl Write + Send + 'static,
        capacity: Capacity,
        notice: impl Fn(&Dropped) -> String + Send + 'static,
        on_error: impl FnOnce() + Send + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                items: VecDeque::new(),
                bytes: 0,
                pending: Dropped::default(),
                total: Dropped::default(),
                finished: false,
            }),
            ready: Condvar::new(),
        });
        let writer_shared = shared.clone();
        let writer = std::thread::spawn(move || {
            let mut on_error = Some(on_error);
            let mut failed = false;
            while let Some(item) = next_item(&writer_shared) {
                let line = match item {
                    Item::Line(line) => line,
                    Item::Notice(dropped) => notice(&dropped),
                };
                if failed {
                    continue;
                }
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    failed = true;
                    if let Some(f) = on_error.take() {
                        f();
                    }
                }
            }
        });
        OutputQueue {
            shared,
            capacity,
            writer: Mutex::new(Some(writer)),
        }
    }

    /// Queues `line`, or drops and counts it when the queue is full. Never waits for the
    /// writer.
    pub fn push(&self, source: Source, line: String) {
        let mut state = self.shared.lock();
        if state.finished {
            return;
        }
        let full = state.items.len() >= self.capacity.lines
            || state.bytes + line.len() > self.capacity.bytes;
        if full {
            state.pending.add(source, 1);
            state.total.add(source, 1);
            return;
        }
        // The notice goes where the gap is: before the first line that found room again.
        if !state.pending.is_empty() {
            let dropped = std::mem::take(&mut state.pending);
            state.items.push_back(Item::Notice(dropped));
        }
        state.bytes += line.len();
        state.items.push_back(Item::Line(line));
        self.shared.ready.notify_one();
    }

    /// Lines dropped in the whole run so far.
    pub fn dropped(&self) -> Dropped {
        self.shared.lock().total.clone()
    }

    /// Queues `last` whatever the queue holds (the last lines a run prints must not be lost),
    /// then waits until the writer has written everything (or failed) and stops it.
    pub fn finish(&self, last: Vec<String>) {
        {
            let mut state = self.shared.lock();
            if state.finished {
                return;
            }
            if !state.pending.is_empty() {
                let dropped = std::mem::take(&mut state.pending);
                state.items.push_back(Item::Notice(dropped));
            }
            for line in last {
                state.bytes += line.len();
                state.items.push_back(Item::Line(line));
            }
            state.finished = true;
            self.shared.ready.notify_one();
        }
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(writer) = writer {
            let _ = writer.join();
        }
    }
}

/// The writer's next item, waiting for one; a notice of what was dropped when the queue has
/// drained and lines were dropped since the last notice; None once finished and drained.
fn next_item(shared: &Shared) -> Option<Item> {
    let mut state = shared.lock();
    loop {
        if let Some(item) = state.items.pop_front() {
            if let Item::Line(line) = &item {
                state.bytes -= line.len();
            }
            return Some(item);
        }
        if !state.pending.is_empty() {
            return Some(Item::Notice(std::mem::take(&mut state.pending)));
        }
        if state.finished {
            return None;
        }
        state = shared.ready.wait(state).unwrap_or_else(|e| e.into_inner());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A writer that blocks until the test lets it go, like a pipe nobody reads.
    struct Gated {
        gate: mpsc::Receiver<()>,
        open: bool,
        written: Arc<Mutex<Vec<String>>>,
        /// A line's text and its newline may come in separate writes.
        partial: String,
    }

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.open {
                self.gate.recv().map_err(std::io::Error::other)?;
                self.open = true;
            }
            self.partial.push_str(&String::from_utf8_lossy(buf));
            while let Some(end) = self.partial.find('\n') {
                let line: String = self.partial.drain(..=end).collect();
                self.written
                    .lock()
                    .unwrap()
                    .push(line.trim_end().to_string());
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn notice(d: &Dropped) -> String {
        format!("dropped {} {:?}", d.total(), d.0)
    }

    /// Waits (bounded) until the writer holds the first line, blocked on writing it.
    fn wait_until_writer_took_it(queue: &OutputQueue) {
        let started = std::time::Instant::now();
        while !queue.shared.lock().items.is_empty() {
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            std::thread::yield_now();
        }
    }

    /// A queue of `lines` lines whose writer holds `line 0`, blocked on writing it until the
    /// test sends on the gate; and what it wrote.
    fn gated(lines: usize) -> (OutputQueue, mpsc::Sender<()>, Arc<Mutex<Vec<String>>>) {
        let (open, gate) = mpsc::channel();
        let written = Arc::new(Mutex::new(Vec::new()));
        let out = Gated {
            gate,
            open: false,
            written: written.clone(),
            partial: String::new(),
        };
        let capacity = Capacity {
            lines,
            bytes: 1 << 20,
        };
        let queue = OutputQueue::start(out, capacity, notice, || {});
        queue.push(Source::Server, "line 0".into());
        wait_until_writer_took_it(&queue);
        (queue, open, written)
    }

    #[test]
    fn a_full_queue_drops_counts_and_says_so_where_the_gap_was() {
        let capacity = 3;
        let (queue, open, written) = gated(capacity);
        // The writer holds line 0, blocked on it; 1..=3 fill the queue; 4..=9 are dropped.
        let started = std::time::Instant::now();
        for i in 1..10 {
            let source = if i % 2 == 0 {
                Source::Connection(2)
            } else {
                Source::Connection(1)
            };
            queue.push(source, format!("line {i}"));
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "push waited for the writer"
        );
        let expected = Dropped(BTreeMap::from([
            (Source::Connection(1), 3),
            (Source::Connection(2), 3),
        ]));
        assert_eq!(queue.dropped(), expected);
        open.send(()).unwrap();
        let drained = std::time::Instant::now();
        while queue.shared.lock().items.len() >= capacity {
            assert!(drained.elapsed() < std::time::Duration::from_secs(5));
            std::thread::yield_now();
        }
        queue.push(Source::Connection(1), "line 10".into());
        queue.finish(vec!["last".into()]);
        let written = written.lock().unwrap().clone();
        let gap_notice = notice(&expected);
        assert_eq!(
            written,
            [
                "line 0",
                "line 1",
                "line 2",
                "line 3",
                &gap_notice,
                "line 10",
                "last"
            ]
        );
        assert_eq!(queue.dropped(), expected, "the run's count stays");
    }

    #[test]
    fn dropped_lines_are_told_once_the_queue_drains_even_when_nothing_follows() {
        let (queue, open, written) = gated(1);
        for i in 1..5 {
            queue.push(Source::Server, format!("line {i}"));
        }
        assert_eq!(queue.dropped().total(), 3);
        open.send(()).unwrap();
        let started = std::time::Instant::now();
        while !written
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("dropped"))
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "no notice after the queue drained: {:?}",
                written.lock().unwrap()
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        queue.finish(Vec::new());
        let written = written.lock().unwrap().clone();
        assert_eq!(
            written,
            ["line 0", "line 1", &notice(&queue.dropped())],
            "one notice, after what was queued"
        );
    }

    #[test]
    fn a_failed_write_is_reported_once_and_finish_still_returns() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let errors = Arc::new(Mutex::new(0));
        let counted = errors.clone();
        let queue = OutputQueue::start(Broken, Capacity::default(), notice, move || {
            *counted.lock().unwrap() += 1
        });
        for i in 0..20 {
            queue.push(Source::Server, format!("line {i}"));
        }
        queue.finish(vec!["last".into()]);
        assert_eq!(*errors.lock().unwrap(), 1);
    }
}
