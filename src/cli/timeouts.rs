//! The emulated client's timeouts as flags, shared by probe, matrix and load; the defaults are
//! [`CaseOptions::default`]'s.

use clap::Args;
use rtmp_probe::emulate::case::CaseOptions;
use std::time::Duration;

/// The range every timeout flag accepts, in seconds: below a millisecond nothing could arrive,
/// above a day is a typo.
const RANGE: (f64, f64) = (0.001, 86_400.0);

/// Parses a timeout flag's value: seconds, fractions allowed, within [`RANGE`].
fn timeout_seconds(text: &str) -> Result<Duration, String> {
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
    /// Seconds the TCP connect and each read of the handshake may take.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = timeout_seconds)]
    pub handshake_timeout: Duration,
    /// Seconds the server may take to send each reply the client waits for.
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
