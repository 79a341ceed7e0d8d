//! Ctrl-C and SIGTERM. Commands that measure (matrix, probe --repeat, load, replay --against)
//! stop on either, print and write what finished, marked "interrupted", and exit 130; serve
//! stops cleanly on either and exits 0.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// The two signals' handlers, installed when this is made: from then on a signal is seen here
/// instead of killing the process.
pub struct Interrupt {
    interrupt: Signal,
    terminate: Signal,
}

impl Interrupt {
    /// Installs the handlers; call inside the runtime, before the work starts.
    pub fn install() -> anyhow::Result<Self> {
        let install = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| anyhow::anyhow!("installing the {name} handler: {e}"))
        };
        Ok(Interrupt {
            interrupt: install(SignalKind::interrupt(), "SIGINT")?,
            terminate: install(SignalKind::terminate(), "SIGTERM")?,
        })
    }

    /// Completes at the first SIGINT or SIGTERM.
    pub async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// The exit status of a command whose output was cut short: 130 when it was interrupted, even
/// if standard output has closed too (Ctrl-C in a pipeline reaches `head` as well).
pub fn finish(interrupted: bool, printed: anyhow::Result<()>, verdict: i32) -> anyhow::Result<i32> {
    if interrupted {
        return Ok(super::exit::INTERRUPTED);
    }
    printed.map(|()| verdict)
}
