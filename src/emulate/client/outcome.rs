//! What a case yields: its status, the stage it stopped at, the findings that explain the
//! verdict and what the client observed of the server.

use crate::deviation::Deviation;
use crate::transcript::{DiagnosticId, Transcript};
use serde::Serialize;
use std::time::Duration;

/// The stage of a case at which something went wrong: one of the session's (`tcp`,
/// `handshake`, `connect`, `publish`, `media`, `close`).
pub use crate::transcript::Stage;

/// A case's result, most severe last (a repeated case reports its worst attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    Pass,
    /// Passed, but the server deviated from the specification.
    NonStrict,
    /// Outside what the specification requires either way (e.g. a server that waits for C1).
    Informational,
    Fail,
    Timeout,
    Error,
}

impl Status {
    /// Every status, least severe first.
    pub const ALL: [Status; 6] = [
        Status::Pass,
        Status::NonStrict,
        Status::Informational,
        Status::Fail,
        Status::Timeout,
        Status::Error,
    ];

    /// FAIL, TIMEOUT and ERROR fail a case (and `matrix`'s exit status).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::Timeout | Status::Error)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::NonStrict => "NON-STRICT",
            Status::Informational => "INFORMATIONAL",
            Status::Fail => "FAIL",
            Status::Timeout => "TIMEOUT",
            Status::Error => "ERROR",
        }
    }
}

/// One finding that explains a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: DiagnosticId,
    pub message: String,
}

/// What the client saw of the server, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Observations {
    /// Sizes of the reads that made up S0+S1+S2, in order.
    pub handshake_reads: Vec<usize>,
    /// Milliseconds between consecutive handshake reads (the first from the C0+C1 write).
    pub handshake_read_gaps_ms: Vec<f64>,
    pub s1_version: Option<String>,
    pub s1_digest: Option<bool>,
    /// How S2 answered C1 (`hs.s2-echo`, `hs.s2-echo-from-8`, `hs.s2-signed`, ...).
    pub s2: Option<DiagnosticId>,
    /// Whether all of S2 arrived before the client wrote C2.
    pub s2_before_c2: Option<bool>,
    pub connect_result_ms: Option<f64>,
    pub server_chunk_size: Option<u32>,
    /// Protocol control and user control messages from the server, in order.
    pub control: Vec<String>,
}

/// The result of one attempt.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub stage: Option<Stage>,
    pub diagnosis: Vec<Finding>,
    pub observations: Observations,
    pub transcript: Transcript,
    pub duration: Duration,
    /// From the start of the attempt (before the TCP connect) to connect's `_result`.
    pub connected_after: Option<Duration>,
    /// The server deviations the client met, each once, in the order it met them: where it
    /// consulted its profile's row (whatever the row said). The deviations that act only through
    /// the client's own waits or its acknowledgement cadence are not met at a point and are not
    /// here ([`crate::emulate::consistency::detected`]).
    pub met: Vec<Deviation>,
}

/// Why a case stopped early: the verdict, the stage and the finding that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop {
    pub status: Status,
    pub stage: Stage,
    pub id: DiagnosticId,
    pub message: String,
}

pub fn stop(status: Status, stage: Stage, id: DiagnosticId, message: impl Into<String>) -> Stop {
    Stop {
        status,
        stage,
        id,
        message: message.into(),
    }
}
