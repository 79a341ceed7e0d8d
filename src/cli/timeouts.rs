//! The timeout flags, one meaning, placeholder, range and default wherever they apply:
//!
//! | flag | bounds | default | where |
//! |---|---|---|---|
//! | `--handshake-timeout` | the TCP connection and the whole handshake, from its start | 10 s | serve, probe, matrix, load, `replay --against` |
//! | `--reply-timeout` | each reply a client waits for (connect's `_result`, ...) | 5 s | probe, matrix, load, `replay --against` |
//! | `--case-timeout` | one attempt (load: one client) in all, media included | none | probe, matrix, load |
//! | `--idle-timeout` | a connection with nothing from its client | 30 s | serve |
//!
//! The client's defaults are [`CaseOptions::default`]'s, the server's `ServeOptions::default`'s.

use clap::Args;
use rtmp_probe::emulate::case::CaseOptions;
use std::time::Duration;

/// The range every timeout flag accepts, in seconds: below a millisecond nothing could arrive,
/// above a day is a typo.
const RANGE: (f64, f64) = (0.001, 86_400.0);

/// Parses a timeout flag's value: seconds, fractions allowed, within [`RANGE`].
pub fn timeout_seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    let (low, high) = RANGE;
    if !(low..=high).contains(&value) {
        return Err(format!("{value} is not in {low}..={high} seconds"));
    }
    Ok(Duration::from_secs_f64(value))
}

#[derive(Debug, Clone, Args)]
pub struct TimeoutArgs {
    /// Seconds the TCP connect and the whole handshake may take, counted from the connect.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = timeout_seconds)]
    pub handshake_timeout: Duration,
    /// Seconds the server may take to send each reply the client waits for (connect's
    /// `_result`, ...).
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = timeout_seconds)]
    pub reply_timeout: Duration,
    /// Seconds one attempt may take in all, media included [default: no limit].
    #[arg(long, value_name = "SECONDS", value_parser = timeout_seconds)]
    pub case_timeout: Option<Duration>,
}

impl TimeoutArgs {
    /// `options` with these timeouts.
    pub fn apply(&self, mut options: CaseOptions) -> CaseOptions {
        options.handshake_timeout = self.handshake_timeout;
        options.reply_timeout = self.reply_timeout;
        options.case_timeout = self.case_timeout;
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        timeouts: TimeoutArgs,
    }

    #[test]
    fn defaults_are_the_library_defaults() {
        let parsed = Cli::parse_from(["x"]).timeouts;
        let defaults = CaseOptions::default();
        assert_eq!(parsed.handshake_timeout, defaults.handshake_timeout);
        assert_eq!(parsed.reply_timeout, defaults.reply_timeout);
        assert_eq!(parsed.case_timeout, defaults.case_timeout);
    }

    #[test]
    fn values_outside_the_range_are_refused_with_the_range() {
        for bad in ["0", "-1", "1e-300", "1e9", "NaN", "inf", "soon"] {
            let error = Cli::try_parse_from(["x", &format!("--reply-timeout={bad}")])
                .err()
                .unwrap_or_else(|| panic!("{bad} was accepted"))
                .to_string();
            assert!(error.contains("invalid value"), "{error}");
            assert!(error.contains("--reply-timeout"), "{error}");
        }
        let error = Cli::try_parse_from(["x", "--case-timeout", "0"])
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("not in 0.001..=86400 seconds"), "{error}");
        let ok = Cli::parse_from(["x", "--handshake-timeout", "0.25"]).timeouts;
        assert_eq!(ok.handshake_timeout, Duration::from_millis(250));
    }
}
