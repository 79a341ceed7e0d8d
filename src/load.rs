//! `rtmp-probe load`: many emulated clients at once against one server, to compare servers on
//! one machine: handshakes per second, time to connect's `_result`, and failures by stage.
//!
//! Each client is one [`crate::emulate::case::run`] of a profile, so the load is made of the
//! same bytes and timing a real encoder sends; without `publish` a client stops after connect's
//! `_result`, which measures connection setup and nothing else.

use crate::emulate::case::{self, CaseOptions, Stage, Target};
use crate::emulate::profile::{Profile, Role};
use crate::emulate::variant::Variant;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to run: start from [`LoadOptions::new`] and set what differs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadOptions {
    /// The clients to emulate, taken in turn: client N runs profile N modulo their number.
    pub profiles: Vec<Profile>,
    /// Clients in flight at once.
    pub connections: usize,
    /// New clients per second; None starts them as fast as `connections` allows.
    pub rate: Option<f64>,
    /// New clients are started for this long; those in flight then finish.
    pub duration: Duration,
    /// Stop starting clients after this many, even before `duration`.
    pub total: Option<u64>,
    /// Publish (createStream, publish, media, unpublish) after connect.
    pub publish: bool,
    /// Media each publishing client sends.
    pub media_duration: Duration,
    /// How long a client's TCP connect and handshake may take together.
    pub handshake_timeout: Duration,
    /// How long each reply a client waits for may take.
    pub reply_timeout: Duration,
    /// How long one client may take in all; None: no limit.
    pub client_timeout: Option<Duration>,
    /// Stream key prefix for publishing clients (client N publishes `<key>-N`).
    pub key: String,
    /// Record the first [`Self::pcap_clients`] clients' connections into this file, one flow
    /// each; the caller closes it after the run.
    pub pcap: Option<Arc<crate::record::pcap::PcapFile>>,
    pub pcap_clients: u64,
    /// Shared by the clients: the first connects alone, and a target it cannot reach ends the
    /// run before any other client starts (see [`crate::emulate::reach`]).
    pub reach: Option<Arc<crate::emulate::reach::Reach>>,
}

impl LoadOptions {
    pub fn new(profile: Profile) -> Self {
        Self {
            profiles: vec![profile],
            connections: 50,
            rate: None,
            duration: Duration::from_secs(10),
            total: None,
            publish: false,
            media_duration: Duration::from_secs(1),
            handshake_timeout: CaseOptions::default().handshake_timeout,
            reply_timeout: CaseOptions::default().reply_timeout,
            client_timeout: None,
            key: "load".into(),
            pcap: None,
            pcap_clients: Self::PCAP_CLIENTS,
            reach: None,
        }
    }

    /// The most clients in flight at once: each holds a descriptor, and far below what the
    /// semaphore that bounds them could count.
    pub const MAX_CONNECTIONS: usize = 1_000_000;

    /// How many clients `pcap` records by default: enough to see how connections went at
    /// the start of a run, few enough that a run of thousands of clients a second does not
    /// write hundreds of megabytes.
    pub const PCAP_CLIENTS: u64 = 100;

    /// Why these options cannot run, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=Self::MAX_CONNECTIONS).contains(&self.connections) {
            return Err(format!(
                "--connections must be from 1 to {}, not {}",
                Self::MAX_CONNECTIONS,
                self.connections
            ));
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(format!(
                    "--rate must be a positive number of clients per second, not {rate}"
                ));
            }
        }
        if self.profiles.is_empty() {
            return Err("no profile to emulate".into());
        }
        if let Some(player) = self.profiles.iter().find(|p| p.role == Role::Play) {
            if self.publish {
                return Err(format!(
                    "profile '{}' plays; --publish needs a publishing profile",
                    player.name
                ));
            }
        }
        Ok(())
    }
}

/// How one client ended.
#[derive(Debug, Clone)]
pub struct ClientResult {
    /// From the start of the client to connect's `_result`.
    pub connected_after: Option<Duration>,
    /// The stage and finding of a failed client.
    pub failure: Option<(Stage, String)>,
}

impl ClientResult {
    /// Whether the client got past the handshake: it did unless it failed in TCP or there.
    pub fn handshake_done(&self) -> bool {
        !matches!(self.failure, Some((Stage::Tcp | Stage::Handshake, _)))
    }
}

/// Milliseconds at the 50th and 99th percentile (nearest rank) and the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(mut values_ms: Vec<f64>) -> Option<Percentiles> {
        if values_ms.is_empty() {
            return None;
        }
        values_ms.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let i = (p * values_ms.len() as f64).ceil() as usize;
            values_ms[i.clamp(1, values_ms.len()) - 1]
        };
        Some(Percentiles {
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: values_ms[values_ms.len() - 1],
        })
    }
}

/// Failed clients of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageFailures {
    pub stage: Stage,
    pub count: u64,
    /// The first failure's finding, as an example.
    pub example: String,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LoadReport {
    pub target: String,
    /// The profile's name; several, comma-separated, when clients took turns.
    pub profile: String,
    pub publish: bool,
    pub connections: usize,
    pub rate: Option<f64>,
    pub clients: u64,
    pub handshakes: u64,
    pub connected: u64,
    pub failed: u64,
    pub elapsed_s: f64,
    /// Completed handshakes over the whole run's wall time.
    pub handshakes_per_s: f64,
    pub time_to_connect_result: Option<Percentiles>,
    pub failures: Vec<StageFailures>,
    /// Stopped by [`run_until`]'s stop before the end: the counts are of finished clients.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// How long a new client waits while the last one could not connect.
const TCP_FAILURE_PAUSE: Duration = Duration::from_millis(100);

/// Runs the load; `done` is called as each client finishes (for a progress bar).
pub async fn run(
    target: &Target,
    options: &LoadOptions,
    done: impl Fn(&ClientResult) + Send + Sync + 'static,
) -> LoadReport {
    run_until(target, options, std::future::pending(), done).await
}

/// [`run`] that stops when `stop` completes (Ctrl-C, say): no client starts after it, those in
/// flight are dropped, and the report counts the clients that finished (`interrupted` set).
pub async fn run_until(
    target: &Target,
    options: &LoadOptions,
    stop: impl std::future::Future<Output = ()>,
    done: impl Fn(&ClientResult) + Send + Sync + 'static,
) -> LoadReport {
    tokio::pin!(stop);
    let mut interrupted = false;
    let permits = options
        .connections
        .clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(permits));
    let case_options = CaseOptions {
        media_duration: options.media_duration,
        handshake_timeout: options.handshake_timeout,
        reply_timeout: options.reply_timeout,
        case_timeout: options.client_timeout,
        stop_after_connect: !options.publish,
        reach: options.reach.clone(),
        ..CaseOptions::default()
    };
    let done = Arc::new(done);
    let mut tasks = tokio::task::JoinSet::new();
    let mut results = Vec::new();
    let start = Instant::now();
    let mut started = 0u64;
    // Whether the last client to finish failed to connect at all.
    let tcp_failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The loop's waits, each also ended by `stop`.
    macro_rules! or_stop {
        ($wait:expr) => {
            tokio::select! {
                got = $wait => got,
                () = &mut stop => {
                    interrupted = true;
                    break;
                }
            }
        };
    }
    let unreachable = || {
        options
            .reach
            .as_ref()
            .is_some_and(|r| r.unreachable().is_some())
    };
    loop {
        if start.elapsed() >= options.duration
            || options.total.is_some_and(|t| started >= t)
            || unreachable()
        {
            break;
        }
        if let Some(rate) = options.rate {
            // At a rate so low that the next client is due past any representable time, no
            // further client starts.
            let Some(due) = Duration::try_from_secs_f64(started as f64 / rate)
                .ok()
                .and_then(|after| start.checked_add(after))
            else {
                break;
            };
            or_stop!(tokio::time::sleep_until(due.into()));
            if start.elapsed() >= options.duration {
                break;
            }
        }
        let Ok(permit) = or_stop!(semaphore.clone().acquire_owned()) else {
            break;
        };
        // A server that refuses connections answers at once: without a pause the loop would
        // make thousands of attempts a second against it.
        if tcp_failing.load(std::sync::atomic::Ordering::Relaxed) {
            or_stop!(tokio::time::sleep(TCP_FAILURE_PAUSE));
        }
        if start.elapsed() >= options.duration {
            break;
        }
        started += 1;
        let mut case_options = case_options.clone();
        if started <= options.pcap_clients {
            case_options.pcap_shared = options.pcap.clone();
        }
        let turn = (started - 1) as usize % options.profiles.len().max(1);
        let (profile, target, done, tcp_failing) = (
            options.profiles[turn].clone(),
            target.clone(),
            done.clone(),
            tcp_failing.clone(),
        );
        let key = format!("{}-{started}", options.key);
        tasks.spawn(async move {
            let outcome = case::run(&profile, Variant::Default, &target, &key, &case_options).await;
            drop(permit);
            let failure = outcome.status.is_failure().then(|| {
                let stage = outcome.stage.unwrap_or(Stage::Tcp);
                let finding = outcome
                    .diagnosis
                    .last()
                    .map(|f| format!("{}: {}", f.id, f.message))
                    .unwrap_or_else(|| outcome.status.label().to_string());
                (stage, finding)
            });
            let at_tcp = matches!(failure, Some((Stage::Tcp, _)));
            tcp_failing.store(at_tcp, std::sync::atomic::Ordering::Relaxed);
            let result = ClientResult {
                connected_after: outcome.connected_after,
                failure,
            };
            done(&result);
            result
        });
        while let Some(joined) = tasks.try_join_next() {
            results.extend(joined.ok());
        }
    }
    while !interrupted {
        match or_stop!(tasks.join_next()) {
            Some(joined) => results.extend(joined.ok()),
            None => break,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if interrupted {
        // The clients still in flight are dropped, not counted as failures.
        tasks.abort_all();
        let mut report = summarise(target, options, results.len() as u64, elapsed, &results);
        report.interrupted = true;
        return report;
    }
    summarise(target, options, started, elapsed, &results)
}

fn summarise(
    target: &Target,
    options: &LoadOptions,
    clients: u64,
    elapsed_s: f64,
    results: &[ClientResult],
) -> LoadReport {
    let handshakes = results.iter().filter(|r| r.handshake_done()).count() as u64;
    let times: Vec<f64> = results
        .iter()
        .filter_map(|r| r.connected_after)
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let connected = times.len() as u64;
    let mut by_stage: BTreeMap<u8, StageFailures> = BTreeMap::new();
    for (stage, finding) in results.iter().filter_map(|r| r.failure.as_ref()) {
        by_stage
            .entry(*stage as u8)
            .or_insert_with(|| StageFailures {
                stage: *stage,
                count: 0,
                example: finding.clone(),
            })
            .count += 1;
    }
    // A client that never ended (its task panicked) counts as a failure too.
    let lost = clients - results.len() as u64;
    let failed = by_stage.values().map(|f| f.count).sum::<u64>() + lost;
    LoadReport {
        target: target.tc_url(),
        profile: options
            .profiles
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(","),
        publish: options.publish,
        connections: options.connections,
        rate: options.rate,
        clients,
        handshakes,
        connected,
        failed,
        elapsed_s,
        handshakes_per_s: if elapsed_s > 0.0 {
            handshakes as f64 / elapsed_s
        } else {
            0.0
        },
        time_to_connect_result: Percentiles::of(times),
        failures: by_stage.into_values().collect(),
        interrupted: false,
    }
}

impl LoadReport {
    /// The human-readable table.
    pub fn table(&self) -> String {
        let what = if self.publish {
            "handshake, connect, publish"
        } else {
            "handshake and connect"
        };
        let rate = match self.rate {
            Some(r) => format!("{r} new/s"),
            None => "unpaced".into(),
        };
        let profiles = match self.profile.split(',').collect::<Vec<_>>()[..] {
            [one] => format!("profile {one}"),
            ref several => format!("profiles {} in turn", several.join(", ")),
        };
        let mut out = format!(
            "target       {} ({profiles}, {what})\n\
             load         {} at once, {rate}\n\
             clients      {} started, {}, {} connected, {} failed\n\
             elapsed      {:.2} s\n\
             handshakes   {:.1} /s\n",
            self.target,
            self.connections,
            self.clients,
            match self.handshakes {
                1 => "1 handshake".to_string(),
                n => format!("{n} handshakes"),
            },
            self.connected,
            self.failed,
            self.elapsed_s,
            self.handshakes_per_s,
        );
        match &self.time_to_connect_result {
            Some(p) => out.push_str(&format!(
                "_result      p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (from TCP connect)\n",
                p.p50_ms, p.p99_ms, p.max_ms
            )),
            None => out.push_str("_result      none arrived\n"),
        }
        if self.failures.is_empty() {
            out.push_str("failures     none\n");
        } else {
            out.push_str("failures     stage      count  first finding\n");
            for f in &self.failures {
                out.push_str(&format!(
                    "             {:<10} {:>5}  {}\n",
                    f.stage.to_string(),
                    f.count,
                    f.example
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulate::profile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let p = Percentiles::of((1..=200).map(f64::from).collect()).unwrap();
        assert_eq!((p.p50_ms, p.p99_ms, p.max_ms), (100.0, 198.0, 200.0));
        let one = Percentiles::of(vec![7.0]).unwrap();
        assert_eq!((one.p50_ms, one.p99_ms, one.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(Percentiles::of(vec![]), None);
    }

    #[test]
    fn failures_are_grouped_by_stage_with_the_first_finding() {
        let (target, _) = Target::parse("rtmp://127.0.0.1:1935/live").unwrap();
        let options = LoadOptions::new(profile::by_name("obs").unwrap());
        let fail = |stage, text: &str| ClientResult {
            connected_after: None,
            failure: Some((stage, text.to_string())),
        };
        let ok = ClientResult {
            connected_after: Some(Duration::from_millis(4)),
            failure: None,
        };
        let results = [
            fail(Stage::Connect, "msg.timeout: first"),
            ok.clone(),
            fail(Stage::Handshake, "hs.closed: x"),
            fail(Stage::Connect, "msg.timeout: second"),
        ];
        let report = summarise(&target, &options, 5, 2.0, &results);
        assert_eq!(
            (report.handshakes, report.connected, report.failed),
            (3, 1, 4),
            "one client never ended and counts as failed"
        );
        assert_eq!(report.handshakes_per_s, 1.5);
        let stages: Vec<(Stage, u64, &str)> = report
            .failures
            .iter()
            .map(|f| (f.stage, f.count, f.example.as_str()))
            .collect();
        assert_eq!(
            stages,
            [
                (Stage::Handshake, 1, "hs.closed: x"),
                (Stage::Connect, 2, "msg.timeout: first")
            ]
        );
        assert!(report
            .table()
            .contains("connect        2  msg.timeout: first"));
    }

    #[tokio::test]
    async fn a_rate_too_low_for_a_second_client_stops_instead_of_panicking() {
        let (target, _) = Target::parse("rtmp://127.0.0.1:1/live").unwrap();
        let mut options = LoadOptions::new(profile::by_name("obs").unwrap());
        options.rate = Some(1e-300);
        options.duration = Duration::from_secs(5);
        let report = run(&target, &options, |_| {}).await;
        assert_eq!(report.clients, 1);
    }

    #[tokio::test]
    async fn a_refusing_server_gets_a_few_attempts_a_second_not_thousands() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let (target, _) = Target::parse(&format!("rtmp://127.0.0.1:{port}/live")).unwrap();
        let mut options = LoadOptions::new(profile::by_name("obs").unwrap());
        options.connections = 50;
        options.duration = Duration::from_secs(1);
        let report = run(&target, &options, |_| {}).await;
        // The first 50 go at once; after the first refusal each start waits 100 ms.
        assert!(
            (1..=70).contains(&report.clients),
            "{} attempts in 1 s",
            report.clients
        );
        assert_eq!(report.failed, report.clients);
    }

    #[test]
    fn a_play_profile_cannot_publish() {
        let mut options = LoadOptions::new(profile::by_name("ffmpeg-play").unwrap());
        assert!(options.check().is_ok());
        options.publish = true;
        assert!(options.check().unwrap_err().contains("ffmpeg-play"));
        options.publish = false;
        options.rate = Some(0.0);
        assert!(options.check().unwrap_err().contains("--rate"));
        options.rate = None;
        options.connections = usize::MAX;
        assert!(options
            .check()
            .unwrap_err()
            .contains("--connections must be from 1 to 1000000"));
    }
}
