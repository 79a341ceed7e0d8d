//! The exit statuses, the same for every subcommand, and the error categories that choose
//! them. `main` is the one place an error becomes a number; subcommands return a verdict code
//! or an error of one of these kinds.

/// Ran, and every case passed (informational results count as passes).
pub const PASSED: i32 = 0;
/// Ran, and found failures.
pub const FAILED: i32 = 1;
/// The command line was wrong (clap's own errors use this too).
pub const USAGE: i32 = 2;
/// Could not run: I/O, an unreachable target, an unreadable capture.
pub const CANNOT_RUN: i32 = 3;
/// Stopped by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: i32 = 130;
/// Standard output was closed by its reader (128 + SIGPIPE, as a Unix tool killed by SIGPIPE).
pub const PIPE_CLOSED: i32 = 141;

/// The vocabulary above as printed at the end of the top-level `--help`.
pub const HELP: &str = "\
Exit status (every subcommand):
  0    ran, and every case passed (informational counts as pass)
  1    ran, and found failures
  2    usage error
  3    could not run (I/O, unreachable target, unreadable capture)
  130  interrupted (Ctrl-C, SIGTERM): what finished is printed, marked \"interrupted\", and
       written to --json/--junit first; `serve` stops cleanly and exits 0 instead
  141  standard output closed (e.g. `| head`): --json/--junit/--pcap/--record outputs are
       written first; `serve` logs one line on stderr, stops listening, finalises recordings

--json FILE, --junit FILE and --export-profile FILE take `-` for standard output.";

/// The verdict of a run that finished: 0 when nothing failed.
pub fn verdict(failed: bool) -> i32 {
    if failed {
        FAILED
    } else {
        PASSED
    }
}

/// An argument that parsed but makes no sense (an unknown personality, say); exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Standard output closed under us; exits 141 with nothing more said (as `| head` users expect).
#[derive(Debug, thiserror::Error)]
#[error("standard output closed")]
pub struct PipeClosed;

/// The exit status for an error a subcommand returned: usage errors 2, a closed pipe 141,
/// anything else (I/O, unreachable target, unreadable capture) 3.
pub fn code_for(error: &anyhow::Error) -> i32 {
    if error.downcast_ref::<UsageError>().is_some() {
        USAGE
    } else if error
        .chain()
        .any(|c| c.downcast_ref::<PipeClosed>().is_some())
    {
        PIPE_CLOSED
    } else {
        CANNOT_RUN
    }
}
