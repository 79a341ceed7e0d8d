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

/// The codes and what each means in one subcommand (`None`: the tool as a whole), for its
/// `--help`, its man page's EXIT STATUS section and README's table, which a test holds to
/// these. Every code is one of the six above, with the same meaning in every command; each
/// command lists the ones it can give.
pub fn codes(subcommand: Option<&str>) -> Vec<(i32, &'static str)> {
    const USAGE_TEXT: &str =
        "usage error: an unknown flag, value or name, a value out of its range";
    const PIPE_TEXT: &str =
        "standard output was closed by its reader (`| head`); the files its flags name are written first";
    const INTERRUPTED_TEXT: &str =
        "interrupted (Ctrl-C, SIGTERM): what finished is printed and written, marked interrupted";
    let mut codes = match subcommand {
        None => vec![
            (PASSED, "ran, and every case passed (informational and non-strict count as passed); serve: stopped by Ctrl-C or SIGTERM; diff: the transcripts are the same"),
            (FAILED, "ran, and found failures: a case that failed, timed out or erred, a load client that failed, a replay --against session the server cut short; diff: they differ"),
            (USAGE, USAGE_TEXT),
            (CANNOT_RUN, "could not run: an I/O error, a target that cannot be reached, an address serve cannot listen on, a capture that cannot be read, a file diff cannot read as a transcript"),
            (INTERRUPTED, "interrupted (Ctrl-C, SIGTERM) a command that measures (probe, matrix, load, replay --against): what finished is printed and written, marked interrupted; serve stops cleanly and exits 0"),
            (PIPE_CLOSED, PIPE_TEXT),
        ],
        Some("serve") => vec![
            (PASSED, "stopped by Ctrl-C or SIGTERM, after closing every connection and finishing recordings and the pcap file"),
            (USAGE, USAGE_TEXT),
            (CANNOT_RUN, "could not run: the address cannot be listened on, an output file or directory cannot be created"),
            (PIPE_CLOSED, "standard output was closed by its reader: serve stops listening, finishes its files and exits"),
        ],
        Some("probe" | "matrix") => vec![
            (PASSED, "ran, and every case passed (informational and non-strict count as passed)"),
            (FAILED, "ran, and a case failed, timed out or erred"),
            (USAGE, USAGE_TEXT),
            (CANNOT_RUN, "could not run: the target cannot be reached (found by the first case's own connection), an output file cannot be created"),
            (INTERRUPTED, INTERRUPTED_TEXT),
            (PIPE_CLOSED, PIPE_TEXT),
        ],
        Some("load") => vec![
            (PASSED, "ran, and no client failed"),
            (FAILED, "ran, and a client failed"),
            (USAGE, USAGE_TEXT),
            (CANNOT_RUN, "could not run: the target cannot be reached (found by the first client's own connection), an output file cannot be created"),
            (INTERRUPTED, INTERRUPTED_TEXT),
            (PIPE_CLOSED, PIPE_TEXT),
        ],
        Some("replay") => vec![
            (PASSED, "the capture was decoded; with --against: every captured write was sent"),
            (FAILED, "with --against: the live server closed or stalled the session first"),
            (USAGE, "usage error: an unknown flag or value, a flow the capture does not have"),
            (CANNOT_RUN, "could not run: the capture cannot be read, is damaged (after what was decoded) or holds no RTMP flow; with --against: the server cannot be reached"),
            (INTERRUPTED, "with --against: interrupted (Ctrl-C, SIGTERM); the live session up to there is printed"),
            (PIPE_CLOSED, PIPE_TEXT),
        ],
        Some("diff") => vec![
            (PASSED, "the transcripts are the same"),
            (FAILED, "the transcripts differ"),
            (USAGE, USAGE_TEXT),
            (CANNOT_RUN, "a file cannot be read, or is not a transcript (a capture, a command's text output, results, an empty file)"),
            (PIPE_CLOSED, PIPE_TEXT),
        ],
        Some(_) => vec![
            (PASSED, "done"),
            (USAGE, USAGE_TEXT),
            (CANNOT_RUN, "could not run: an I/O error"),
            (PIPE_CLOSED, "standard output was closed by its reader"),
        ],
    };
    codes.sort_by_key(|(code, _)| *code);
    codes
}

/// The codes of `subcommand` as `--help` ends with them.
pub fn help(subcommand: Option<&str>) -> String {
    let mut text = String::from("Exit status:\n");
    for (code, meaning) in codes(subcommand) {
        // Wrapped at 100 columns under the meaning's first word, as clap wraps the flags.
        let mut line = format!("  {code:<4}");
        for word in meaning.split(' ') {
            if line.len() + 1 + word.len() > 100 {
                text.push_str(&line);
                text.push('\n');
                line = " ".repeat(6);
            }
            line.push(' ');
            line.push_str(word);
        }
        text.push_str(&line);
        text.push('\n');
    }
    if subcommand.is_none() {
        text.push_str(
            "\nThe flags every command shares (--json[=FILE], --pcap FILE, --duration, the timeouts,\n\
             --profile) mean the same everywhere: README, \"Conventions\".",
        );
    }
    text.trim_end().to_string()
}

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
