//! The test runner of the suites that need real peers or the shared captures (`harness = false`
//! in Cargo.toml, run by libtest-mimic): each test declares what it needs from this machine, and
//! one whose need is missing is reported as *ignored, with the reason*, in `cargo test`'s own
//! output and summary line instead of passing without having run. CI sets
//! `RTMP_PROBE_REQUIRE_PEERS=1` (programs) and `RTMP_PROBE_REQUIRE_SHARED=1` (captures), which
//! make a missing need a failure. The usual arguments work (a name filter, `--exact`,
//! `--skip`, `--list`, `--test-threads`, `--nocapture`: libtest-mimic never captures output).

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Something a test needs from this machine beyond the build.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// A program on PATH.
    Program(&'static str),
    /// FFmpeg 9.0.2, named by `RTMP_PROBE_FFMPEG9` (see [`super::ffmpeg9`]).
    Ffmpeg9,
    /// nginx and its RTMP module (libnginx-mod-rtmp).
    NginxRtmp,
    /// A GStreamer element, as `gst-inspect-1.0` finds it.
    GstElement(&'static str),
    /// A capture under the shared folder's `captures/` (see [`super::shared_dir`]).
    SharedCapture(&'static str),
}

/// The nginx RTMP module as Debian installs it.
pub const NGINX_RTMP_MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// Every shared capture ([`super::SHARED_CAPTURES`]), for the tests that read them all.
pub fn every_shared_capture() -> Vec<Need> {
    super::SHARED_CAPTURES
        .iter()
        .map(|c| Need::SharedCapture(c))
        .collect()
}

/// Whether `program` is on PATH.
pub fn installed(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Need {
    /// Why this need is not met here, or None when it is.
    pub fn missing(&self) -> Option<String> {
        match *self {
            Need::Program(program) => {
                (!installed(program)).then(|| format!("`{program}` is not installed"))
            }
            Need::Ffmpeg9 => match std::env::var_os("RTMP_PROBE_FFMPEG9").map(PathBuf::from) {
                None => Some("FFmpeg 9.0.2 is not configured: RTMP_PROBE_FFMPEG9 is unset".into()),
                Some(path) if !path.is_file() => Some(format!(
                    "FFmpeg 9.0.2 is not at RTMP_PROBE_FFMPEG9={}",
                    path.display()
                )),
                Some(_) => None,
            },
            Need::NginxRtmp if !installed("nginx") => Some("`nginx` is not installed".into()),
            Need::NginxRtmp => (!Path::new(NGINX_RTMP_MODULE).exists()).then(|| {
                format!("the nginx RTMP module (libnginx-mod-rtmp) is not at {NGINX_RTMP_MODULE}")
            }),
            Need::GstElement(element) if !installed("gst-inspect-1.0") => Some(format!(
                "GStreamer element `{element}`: `gst-inspect-1.0` is not installed"
            )),
            Need::GstElement(element) => {
                let found = Command::new("gst-inspect-1.0")
                    .arg(element)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                (!found).then(|| format!("GStreamer element `{element}` is not installed"))
            }
            Need::SharedCapture(relative) => {
                let path = super::shared_dir().join("captures").join(relative);
                (!path.is_file()).then(|| format!("shared capture {} is absent", path.display()))
            }
        }
    }

    /// The variable that makes this need's absence a failure (CI sets it).
    fn required_by(&self) -> &'static str {
        match self {
            Need::SharedCapture(_) => "RTMP_PROBE_REQUIRE_SHARED",
            _ => "RTMP_PROBE_REQUIRE_PEERS",
        }
    }
}

/// One test of a suite: its name (the function's, or one made for a generated test), what it
/// needs and its body.
pub struct Test {
    pub name: String,
    pub needs: Vec<Need>,
    pub body: Box<dyn FnOnce() + Send>,
}

/// `trial!(function)`, `trial!(function, [needs...])` or `trial!(function, vec_of_needs)`: a
/// [`Test`] named after its function, as `#[test]` would name it.
#[macro_export]
macro_rules! trial {
    ($body:ident) => {
        $crate::support::trials::Test {
            name: stringify!($body).to_string(),
            needs: Vec::new(),
            body: Box::new($body),
        }
    };
    ($body:ident, [$($need:expr),* $(,)?]) => {
        $crate::support::trials::Test {
            name: stringify!($body).to_string(),
            needs: vec![$($need),*],
            body: Box::new($body),
        }
    };
    ($body:ident, $needs:expr) => {
        $crate::support::trials::Test {
            name: stringify!($body).to_string(),
            needs: $needs,
            body: Box::new($body),
        }
    };
}

/// What a test's declared needs say before it runs: Ok(None) all are met, Ok(Some(reason)) it
/// is ignored, Err(reason) its absence is a failure here.
fn check(needs: &[Need]) -> Result<Option<String>, String> {
    let mut reasons = Vec::new();
    let mut required = Vec::new();
    let mut note = |need: &Need, reason: String| {
        let variable = need.required_by();
        if std::env::var(variable).as_deref() == Ok("1") {
            required.push(format!("{reason}, and {variable}=1 requires it"));
        }
        reasons.push(reason);
    };
    let captures = super::shared_dir().join("captures");
    let mut absent_captures = Vec::new();
    for need in needs {
        match need {
            Need::SharedCapture(relative) if !captures.join(relative).is_file() => {
                absent_captures.push((need, *relative))
            }
            _ => {
                if let Some(reason) = need.missing() {
                    note(need, format!("{reason} (see .ci/run)"));
                }
            }
        }
    }
    if let Some((need, _)) = absent_captures.first() {
        let reason = if captures.is_dir() {
            let names: Vec<&str> = absent_captures.iter().map(|(_, r)| *r).collect();
            format!(
                "shared captures absent from {}: {}",
                captures.display(),
                names.join(", ")
            )
        } else {
            format!(
                "the shared captures are absent: no folder {}",
                captures.display()
            )
        };
        note(need, reason);
    }
    if !required.is_empty() {
        return Err(required.join("; "));
    }
    Ok((!reasons.is_empty()).then(|| reasons.join("; ")))
}

/// Runs `tests` with libtest's arguments and exits as libtest does. `RUST_TEST_THREADS` is
/// honoured as libtest honours it.
pub fn run(tests: Vec<Test>) -> ! {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|n| n.parse().ok());
    }
    let trials = tests
        .into_iter()
        .map(|test| {
            Trial::ignorable_test(test.name, move || match check(&test.needs) {
                Err(reason) => Err(Failed::from(reason)),
                Ok(Some(reason)) => Ok(Completion::ignored_with(reason)),
                Ok(None) => {
                    (test.body)();
                    Ok(Completion::Completed)
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}
