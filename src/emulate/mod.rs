//! Client emulators: `rtmp-probe probe` and `rtmp-probe matrix`.
//!
//! A case is a [`profile::Profile`] (what a real encoder or player does) cut by a
//! [`variant::Variant`] (how its bytes are segmented), played by the sans-IO
//! [`client::EmulatorClient`] and driven either over TCP by [`case::run`] or, against the
//! built-in server, in memory on a simulated clock by [`memory::run_case`]. Over TCP some
//! outcomes depend on scheduling, so a case can be repeated and its verdict says how many
//! attempts failed; in memory every run gives the same verdict.
//!
//! Each profile carries how its real client reacts to each server deviation ([`tolerance`],
//! one table per built-in profile); the client follows those rows where it meets each
//! deviation, and [`consistency`] predicts from them what a case against a personality must
//! give, which the consistency test checks for every profile and personality.
//!
//! [`infer`] reads a captured client (replay's report of its flow) in these terms: the closest
//! built-in profile, or a profile of its own for `replay --export-profile`.

pub mod case;
pub mod client;
pub mod clip;
pub mod consistency;
pub mod infer;
pub mod memory;
pub mod profile;
pub mod profile_file;
pub mod reach;
pub mod report;
pub mod tolerance;
pub mod variant;

use crate::transcript::DiagnosticId;
use case::{CaseOptions, Finding, Observations, Outcome, Stage, Status, Target};
use profile::{Profile, Role};
use serde::Serialize;
use std::time::Duration;
use variant::Variant;

/// A case's result over all its attempts.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CaseResult {
    pub id: String,
    pub profile: String,
    pub variant: String,
    /// The worst attempt's status.
    pub status: Status,
    pub stage: Option<Stage>,
    pub attempts: u32,
    pub failed_attempts: u32,
    /// Findings of the worst attempt.
    pub diagnosis: Vec<Finding>,
    /// Observations of the worst attempt.
    pub observations: Observations,
    pub duration_ms: u64,
    /// Ctrl-C or SIGTERM stopped the run: the attempts are those that finished (or, when none
    /// had, the one under way, with its verdict so far).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    #[serde(skip)]
    pub worst: Option<Outcome>,
}

impl CaseResult {
    /// The result of a case run once.
    pub fn single(profile: &Profile, variant: Variant, outcome: Outcome) -> Self {
        Self {
            id: format!("{}/{}", profile.name, variant),
            profile: profile.name.to_string(),
            variant: variant.to_string(),
            status: outcome.status,
            stage: outcome.stage,
            attempts: 1,
            failed_attempts: u32::from(outcome.status.is_failure()),
            diagnosis: outcome.diagnosis.clone(),
            observations: outcome.observations.clone(),
            duration_ms: outcome.duration.as_millis() as u64,
            interrupted: false,
            worst: Some(outcome),
        }
    }

    /// "pass", "fail 3/3", "fail 1/3 — intermittent", ...
    pub fn verdict(&self) -> String {
        let label = self.status.label().to_lowercase();
        if self.attempts <= 1 {
            return label;
        }
        if self.status.is_failure() {
            let mut v = format!("{label} {}/{}", self.failed_attempts, self.attempts);
            if self.failed_attempts < self.attempts {
                v.push_str(" — intermittent");
            }
            v
        } else {
            format!("{label} ({} attempts)", self.attempts)
        }
    }
}

/// A stream key unique to this run, so repeated and parallel cases never collide.
fn key_for(profile: &str, variant: Variant, attempt: u32) -> String {
    let salt = crate::protocol::random::RandomSource::from_entropy().next_u32();
    format!("rp-{profile}-{variant}-{attempt}-{salt:08x}")
}

/// Completes once `interrupt` says so; never if its sender goes without saying it.
async fn interrupted(mut interrupt: tokio::sync::watch::Receiver<bool>) {
    if interrupt.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Runs one attempt until `interrupt` says to stop (true when it did); a play profile gets a
/// companion publisher (`obs` unless the options name another) on the same key.
async fn attempt(
    profile: &Profile,
    variant: Variant,
    target: &Target,
    key: &str,
    options: &CaseOptions,
    interrupt: tokio::sync::watch::Receiver<bool>,
) -> (Outcome, bool) {
    if profile.role != Role::Play {
        return case::run_until(
            profile,
            variant,
            target,
            key,
            options,
            interrupted(interrupt),
        )
        .await;
    }
    let companion_profile = options
        .companion
        .clone()
        .unwrap_or_else(memory::default_companion);
    let companion_name = companion_profile.name.clone();
    let companion_options = CaseOptions {
        media_duration: options.media_duration + Duration::from_secs(3),
        // The pcap file and the live transcript are the player's: two cases writing one file
        // would interleave garbage, and a file the cases share holds the cases' own
        // connections.
        pcap: None,
        pcap_shared: None,
        live: None,
        ..options.clone()
    };
    let (t, k) = (target.clone(), key.to_string());
    let companion = tokio::spawn(async move {
        case::run(
            &companion_profile,
            Variant::Default,
            &t,
            &k,
            &companion_options,
        )
        .await
    });
    // Give the publisher time to be live before the player asks for the stream (an interrupt
    // meanwhile stops the player before it connects).
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(800)) => {}
        () = interrupted(interrupt.clone()) => {}
    }
    let (mut outcome, stopped) = case::run_until(
        profile,
        variant,
        target,
        key,
        options,
        interrupted(interrupt),
    )
    .await;
    companion.abort();
    if let (Ok(publisher), false) = (companion.await, stopped) {
        memory::companion_failed(&mut outcome, &companion_name, &publisher);
    }
    (outcome, stopped)
}

/// Runs `profile` × `variant` `repeat` times against `target` and aggregates the verdict.
pub async fn run_case(
    profile: &Profile,
    variant: Variant,
    target: &Target,
    key: Option<&str>,
    repeat: u32,
    options: &CaseOptions,
) -> CaseResult {
    run_case_until(
        profile,
        variant,
        target,
        key,
        repeat,
        options,
        std::future::pending(),
    )
    .await
    .finished
    .expect("without a stop every attempt runs")
}

/// What [`run_case_until`] ran: the verdict of the attempts that finished, and the attempt a
/// stop interrupted.
#[derive(Debug)]
#[non_exhaustive]
pub struct CaseRun {
    /// Over the attempts that finished (`attempts` says how many); None when none had.
    pub finished: Option<CaseResult>,
    pub interrupted: Option<InterruptedAttempt>,
}

/// The attempt under way when a stop came, ended there.
#[derive(Debug)]
#[non_exhaustive]
pub struct InterruptedAttempt {
    /// Its number, from 1.
    pub attempt: u32,
    /// Its verdict so far (TIMEOUT, `case.interrupted` saying where it stood).
    pub result: CaseResult,
}

/// [`run_case`] that stops when `stop` completes (Ctrl-C, say): the attempt under way ends
/// there with the verdict of what happened until then (its transcript and pcap file kept), and
/// the case's verdict is that of the attempts that finished.
pub async fn run_case_until(
    profile: &Profile,
    variant: Variant,
    target: &Target,
    key: Option<&str>,
    repeat: u32,
    options: &CaseOptions,
    stop: impl std::future::Future<Output = ()>,
) -> CaseRun {
    tokio::pin!(stop);
    let (interrupt, interrupted) = tokio::sync::watch::channel(false);
    let mut stopped = None;
    let mut finished = 0;
    let mut worst: Option<Outcome> = None;
    let mut failed = 0;
    let mut total = Duration::ZERO;
    let repeat = repeat.max(1);
    for n in 1..=repeat {
        let key = match key {
            Some(k) if repeat == 1 => k.to_string(),
            Some(k) => format!("{k}-{n}"),
            None => key_for(&profile.name, variant, n),
        };
        // With several attempts, each one's pcap gets its own file: name-1.pcap, name-2.pcap...
        let per_attempt;
        let options = match (&options.pcap, repeat) {
            (Some(path), r) if r > 1 => {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let ext = path
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_default();
                per_attempt = CaseOptions {
                    pcap: Some(path.with_file_name(format!("{stem}-{n}{ext}"))),
                    ..options.clone()
                };
                &per_attempt
            }
            _ => options,
        };
        let options = &CaseOptions {
            live: options.live.as_ref().map(|l| l.for_attempt(n)),
            ..options.clone()
        };
        let run = attempt(profile, variant, target, &key, options, interrupted.clone());
        tokio::pin!(run);
        let (outcome, was_interrupted) = tokio::select! {
            ran = &mut run => ran,
            () = &mut stop => {
                // The attempt ends itself, with what it has, at once.
                let _ = interrupt.send(true);
                run.await
            }
        };
        if was_interrupted {
            let mut result = CaseResult::single(profile, variant, outcome);
            result.interrupted = true;
            stopped = Some(InterruptedAttempt { attempt: n, result });
            break;
        }
        finished += 1;
        total += outcome.duration;
        if outcome.status.is_failure() {
            failed += 1;
        }
        if worst.as_ref().is_none_or(|w| outcome.status > w.status) {
            worst = Some(outcome);
        }
    }
    let finished = worst.map(|worst| CaseResult {
        id: format!("{}/{}", profile.name, variant),
        profile: profile.name.to_string(),
        variant: variant.to_string(),
        status: worst.status,
        stage: worst.stage,
        attempts: finished,
        failed_attempts: failed,
        diagnosis: worst.diagnosis.clone(),
        observations: worst.observations.clone(),
        duration_ms: total.as_millis() as u64,
        interrupted: stopped.is_some(),
        worst: Some(worst),
    });
    CaseRun {
        finished,
        interrupted: stopped,
    }
}

/// Runs every profile × variant with at most `jobs` cases at once; `done` is called as each
/// case finishes (for a progress bar). Results come back in profile, then variant, order.
pub async fn run_matrix(
    target: &Target,
    profiles: &[Profile],
    variants: &[Variant],
    repeat: u32,
    jobs: usize,
    options: &CaseOptions,
    done: impl Fn(&CaseResult) + Send + Sync + 'static,
) -> Vec<CaseResult> {
    let cases: Vec<(Profile, Variant)> = profiles
        .iter()
        .flat_map(|p| variants.iter().map(move |&v| (p.clone(), v)))
        .collect();
    run_cases(target, &cases, repeat, jobs, options, done).await
}

/// Runs the given cases with at most `jobs` at once; `done` is called as each case finishes.
/// Results come back in the order of `cases`.
pub async fn run_cases(
    target: &Target,
    cases: &[(Profile, Variant)],
    repeat: u32,
    jobs: usize,
    options: &CaseOptions,
    done: impl Fn(&CaseResult) + Send + Sync + 'static,
) -> Vec<CaseResult> {
    let permits = jobs.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(permits));
    let done = std::sync::Arc::new(done);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (p, v)) in cases.iter().enumerate() {
        let (p, v, t, o, sem, done) = (
            p.clone(),
            *v,
            target.clone(),
            options.clone(),
            semaphore.clone(),
            done.clone(),
        );
        let (finished, first_finished) = tokio::sync::oneshot::channel::<()>();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let result = run_case(&p, v, &t, None, repeat, &o).await;
            done(&result);
            drop(finished);
            (i, result)
        });
        // The first case's connection is the run's scout (see `reach`): the others start once
        // it has taken that part, or once the first case has ended without connecting at all.
        if let (0, Some(reach)) = (i, &options.reach) {
            tokio::select! {
                () = reach.scout_chosen() => {}
                _ = first_finished => {}
            }
        }
    }
    let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(cases.len());
    while let Some(joined) = tasks.join_next().await {
        if let Ok(r) = joined {
            results.push(r);
        }
    }
    // A case whose task panicked (an emulator bug; debug builds check every diagnostic against
    // the catalogue) is an ERROR row, never a row silently missing from the table.
    for (i, (p, v)) in cases.iter().enumerate() {
        if !results.iter().any(|(j, _)| *j == i) {
            let result = panicked_case(p, *v, repeat);
            done(&result);
            results.push((i, result));
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The result of a case whose emulator task panicked.
fn panicked_case(profile: &Profile, variant: Variant, repeat: u32) -> CaseResult {
    CaseResult {
        id: format!("{}/{variant}", profile.name),
        profile: profile.name.clone(),
        variant: variant.to_string(),
        status: Status::Error,
        stage: None,
        attempts: repeat,
        failed_attempts: repeat,
        diagnosis: vec![case::Finding {
            id: DiagnosticId::CasePanicked,
            message:
                "the emulator panicked on this case (a bug of rtmp-probe's; its stderr says where)"
                    .into(),
        }],
        observations: Default::default(),
        duration_ms: 0,
        interrupted: false,
        worst: None,
    }
}

/// The number of attempts that makes a false pass improbable: a behaviour that shows with
/// probability `p` per attempt is missed by all `n` attempts with probability (1-p)^n.
pub fn attempts_for(p_per_attempt: f64, false_pass_at_most: f64) -> u32 {
    if p_per_attempt >= 1.0 {
        return 1;
    }
    (false_pass_at_most.ln() / (1.0 - p_per_attempt).ln()).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_say_how_many_attempts_failed() {
        let mut r = CaseResult {
            id: "wirecast/default".into(),
            profile: "wirecast".into(),
            variant: "default".into(),
            status: Status::Fail,
            stage: Some(Stage::Handshake),
            attempts: 3,
            failed_attempts: 3,
            diagnosis: vec![],
            observations: Observations::default(),
            duration_ms: 0,
            interrupted: false,
            worst: None,
        };
        assert_eq!(r.verdict(), "fail 3/3");
        r.failed_attempts = 1;
        assert_eq!(r.verdict(), "fail 1/3 — intermittent");
        r.status = Status::Pass;
        r.failed_attempts = 0;
        assert_eq!(r.verdict(), "pass (3 attempts)");
        r.attempts = 1;
        assert_eq!(r.verdict(), "pass");
    }

    #[test]
    fn enough_attempts_make_a_false_pass_improbable() {
        // ffmpeg -listen 1 wrote S0 alone in 14 of 15 runs measured here.
        let n = attempts_for(14.0 / 15.0, 1e-4);
        assert_eq!(n, 4);
        assert!((1.0f64 / 15.0).powi(n as i32) < 1e-4);
    }

    #[test]
    fn targets_parse_from_urls() {
        let (t, key) = Target::parse("rtmp://127.0.0.1:19350/live/abc").unwrap();
        assert_eq!(
            (t.addr.port(), t.app.as_str(), key.as_deref()),
            (19350, "live", Some("abc"))
        );
        assert_eq!(t.tc_url(), "rtmp://127.0.0.1:19350/live");
        let (t, key) = Target::parse("rtmp://127.0.0.1").unwrap();
        assert_eq!((t.addr.port(), t.app.as_str(), key), (1935, "live", None));
        assert!(Target::parse("http://x/live")
            .unwrap_err()
            .to_string()
            .contains("not an rtmp:// URL"));
        let (t, _) = Target::parse("rtmp://[::1]:1936/live").unwrap();
        assert_eq!(t.addr, "[::1]:1936".parse().unwrap());
        for (url, said) in [
            (
                "rtmp://127.0.0.1:70000/live",
                "port 70000 out of range (1-65535)",
            ),
            ("rtmp://127.0.0.1:0/live", "port 0 cannot be connected to"),
            ("rtmp://:1935/live", "empty host in ':1935'"),
            ("rtmp://127.0.0.1:x/live", "port 'x' is not a number"),
            (
                "rtmp://nosuch.invalid/live",
                "cannot resolve 'nosuch.invalid'",
            ),
        ] {
            let error = Target::parse(url).unwrap_err().to_string();
            assert!(error.contains(said), "{url}: {error}");
        }
    }
}
