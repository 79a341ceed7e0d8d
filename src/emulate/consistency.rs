//! Whether an emulator does what its tolerance table says: for a profile and a server
//! personality, the verdict and stage the table predicts from the deviations the personality
//! exercises ([`predict`]), and whether a case's result is that ([`Prediction::check`]).
//!
//! The rows a personality reaches (some only reach digest or simple C1s, or FMLE publishers)
//! are taken in stage order: the first `fail` or `stall` decides, unless a row nobody knows
//! (`unknown`) comes at an earlier stage, which leaves the case unpredicted (listed, not
//! asserted: the emulator keeps the strict reading there). Rows that all go on predict a
//! pass, with a `tolerance.client-warns` finding for each `warn` row the emulator can see.
//! Two server behaviours outside the deviation classes also decide a case, from the data of
//! both sides: a server that closes on a C2 that does not echo S1 (strict-c2) against a client
//! that signs its C2, and S0 written before C1 is read (FFmpeg's listen mode) against a client
//! that crashes then (VideoCore, docs/videocore-6453.md).

use super::client::Status;
use super::profile::{Profile, PublishSequence, Role};
use super::tolerance::{Reaction, Stage};
use super::CaseResult;
use crate::deviation::{Deviation, Toward};
use crate::protocol::handshake::{C1Body, C1Style, C2Style, ServerDigest};
use crate::serve::personality::{C2Check, FirstWrite, Personality};
use crate::transcript::DiagnosticId;
use std::fmt;

/// What decides a predicted failure or stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The profile's row for this deviation.
    Row(Deviation),
    /// A server behaviour outside the deviation classes, in words.
    Beyond(&'static str),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Row(d) => f.write_str(d.key()),
            Cause::Beyond(why) => f.write_str(why),
        }
    }
}

/// What the table predicts for one profile against one personality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prediction {
    /// Every row met goes on; `warns` are the `warn` rows the emulator can see.
    Passes {
        warns: Vec<Deviation>,
    },
    Fails {
        stage: Stage,
        by: Cause,
    },
    Stalls {
        stage: Stage,
        by: Cause,
    },
    /// A row met is `unknown` before anything decides: not asserted.
    Unknown {
        rows: Vec<Deviation>,
    },
    /// A player whose companion `obs` publisher is predicted to fail or stall: nothing to
    /// play, an error of the case.
    CompanionFails,
}

/// One row the personality's deviations reach, where it is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Met {
    pub deviation: Deviation,
    pub reaction: Reaction,
    pub stage: Stage,
}

/// A prediction and the rows whose reaction the case then checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub prediction: Prediction,
    /// The rows met (in stage order).
    pub met: Vec<Met>,
    /// The rows a case agreeing with the prediction confirms: every row met before the deciding
    /// one, and that one (none when unpredicted).
    pub checked: Vec<Deviation>,
}

impl Expectation {
    /// The deviations a case of `profile` that agrees with the prediction must have met where
    /// it consults its rows ([`super::client::Outcome::met`]): the rows it confirms (`checked`)
    /// that `profile`'s emulator meets at a point of its own ([`met_at_a_point`]).
    pub fn must_meet(&self, profile: &Profile) -> Vec<Deviation> {
        self.checked
            .iter()
            .copied()
            .filter(|d| met_at_a_point(*d, profile))
            .collect()
    }

    /// Of [`Self::must_meet`], those the emulator did not record in `met`.
    pub fn unmet(&self, profile: &Profile, met: &[Deviation]) -> Vec<Deviation> {
        self.must_meet(profile)
            .into_iter()
            .filter(|d| !met.contains(d))
            .collect()
    }
}

/// Whether `toward` reaches `profile`'s client.
pub fn reaches(toward: Toward, profile: &Profile) -> bool {
    match toward {
        Toward::Every => true,
        Toward::DigestC1 => matches!(profile.handshake.c1, C1Style::Digest { .. }),
        Toward::SimpleC1 => matches!(profile.handshake.c1, C1Style::Simple { .. }),
        Toward::FmlePublishers => matches!(
            profile.role,
            Role::Publish {
                sequence: PublishSequence::Fmle,
                ..
            }
        ),
        Toward::Publishers => matches!(profile.role, Role::Publish { .. }),
        Toward::Players => matches!(profile.role, Role::Play),
    }
}

/// Where a deviation is met when its row names no stage.
fn met_at(deviation: Deviation, profile: &Profile) -> Stage {
    use Deviation::*;
    let waiting_status = match profile.role {
        Role::Play => Stage::Play,
        Role::Publish { .. } => Stage::Publish,
    };
    match deviation {
        S0VersionNot3 | S1DigestAbsent | S1DigestInvalid | S1DigestPresent | S2EchoFrom8Only
        | S2NotEcho | S2AllZero | S0S1S2SplitInTime | S2WithheldUntilC2 => Stage::Handshake,
        ChunkStreamOpenedType1
        | ChunkStreamOpenedType2
        | ChunkStreamOpenedType3
        | SetChunkSizeHuge
        | SetChunkSizeBeforeResult
        | SetChunkSizeAfterResult
        | WindowAckTinyStrict
        | AbortUnknownChunkStream
        | ResultExtraFields
        | ResultMissingFields => Stage::Connect,
        ReleaseFcPublishResultMissing | ReleaseFcPublishError => Stage::Publish,
        MessageStreamIdInheritedZero
        | OnStatusMissing
        | OnStatusOnStream0
        | OnStatusUnexpectedCode => waiting_status,
        ExtendedTimestampRepeatedOnType3 | ExtendedTimestampOmittedOnType3 => Stage::Media,
    }
}

/// Whether the emulator has a point where it meets `deviation` (and so can show a warning);
/// the others act through the client's own waits (S2 withheld until C2, onStatus missing), its
/// acknowledgement cadence (a strictly enforced tiny window stalls the clients that acknowledge
/// too rarely), or are seen only as the onStatus they carry (a stream id inherited as 0; an
/// unexpected code ends the client when it is one of the profile's fatal codes).
pub fn detected(deviation: Deviation) -> bool {
    use Deviation::*;
    !matches!(
        deviation,
        S2WithheldUntilC2
            | MessageStreamIdInheritedZero
            | OnStatusMissing
            | OnStatusUnexpectedCode
            | WindowAckTinyStrict
    )
}

/// Whether `profile`'s emulator meets `deviation` at a point where it consults the row: one
/// that is [`detected`], unless the client's own reading decides it first: FFmpeg and librtmp
/// read type-3 chunks after an extended timestamp by their own convention
/// (`extended_timestamp_reading`), so a server's convention is read as theirs or misread, never
/// seen.
pub fn met_at_a_point(deviation: Deviation, profile: &Profile) -> bool {
    use Deviation::*;
    let reads_its_own_way =
        profile.extended_timestamp_reading != super::profile::ExtendedTimestampReading::Detect;
    detected(deviation)
        && !(reads_its_own_way
            && matches!(
                deviation,
                ExtendedTimestampRepeatedOnType3 | ExtendedTimestampOmittedOnType3
            ))
}

/// Whether a deviation the personality exercises toward `profile` is one to it: an all-zero S2
/// is an exact echo of an all-zero C1 (VideoCore's), so it is no deviation there.
fn deviates_for(deviation: Deviation, profile: &Profile) -> bool {
    let zero_c1 = matches!(
        profile.handshake.c1,
        C1Style::Simple {
            time: 0,
            version: [0, 0, 0, 0],
            body: C1Body::Zero
        }
    );
    !(deviation == Deviation::S2AllZero && zero_c1)
}

/// The server behaviours outside the deviation classes that stop `profile`'s client.
fn beyond_the_table(profile: &Profile, personality: &Personality) -> Option<(Stage, Cause)> {
    let digest_s1 = personality.handshake.digest != ServerDigest::SimpleOnly
        && matches!(profile.handshake.c1, C1Style::Digest { .. });
    let signs_c2 = match profile.handshake.c2 {
        C2Style::Signed => true,
        C2Style::Auto => digest_s1,
        _ => false,
    };
    if personality.c2_check == C2Check::Strict && signs_c2 {
        return Some((
            Stage::Connect,
            Cause::Beyond("the server closes on a C2 that does not echo S1; this client signs it"),
        ));
    }
    let c1_late = matches!(profile.c0c1, super::profile::C0C1Writes::Apart(_));
    if personality.first_write == FirstWrite::AfterC0
        && profile.write_ready_reenters_handshake
        && c1_late
    {
        return Some((
            Stage::Handshake,
            Cause::Beyond("S0 arrives before C1 is written; this client crashes then"),
        ));
    }
    None
}

/// What `profile`'s table predicts against `personality` (a player's case also needs its
/// companion `obs` publisher to get through).
pub fn predict(profile: &Profile, personality: &Personality) -> Expectation {
    let own = predict_alone(profile, personality);
    if profile.role != Role::Play {
        return own;
    }
    let companion = super::profile::by_name("obs").map(|obs| predict_alone(&obs, personality));
    match companion.map(|c| c.prediction) {
        Some(Prediction::Fails { .. } | Prediction::Stalls { .. }) => Expectation {
            prediction: Prediction::CompanionFails,
            met: own.met,
            checked: Vec::new(),
        },
        _ => own,
    }
}

fn predict_alone(profile: &Profile, personality: &Personality) -> Expectation {
    let mut met: Vec<Met> = personality
        .exercised()
        .into_iter()
        .filter(|e| reaches(e.toward, profile) && deviates_for(e.deviation, profile))
        .map(|e| {
            let rule = profile.reaction(e.deviation);
            Met {
                deviation: e.deviation,
                reaction: rule.reaction,
                stage: rule.stage.unwrap_or_else(|| met_at(e.deviation, profile)),
            }
        })
        .collect();
    met.sort_by_key(|m| stage_order(m.stage));
    let beyond = beyond_the_table(profile, personality);
    let mut checked = Vec::new();
    let mut unknown: Vec<Deviation> = Vec::new();
    let mut earliest_unknown: Option<Stage> = None;
    for m in &met {
        // A behaviour beyond the table stops the client before the rows of its own stage: the
        // strict-c2 close comes on C2, before anything of connect; the crash on S0, before S1.
        if let Some((stage, by)) = beyond {
            if stage_order(stage) <= stage_order(m.stage) {
                return decided(
                    Prediction::Fails { stage, by },
                    met,
                    checked,
                    earliest_unknown,
                );
            }
        }
        match m.reaction {
            Reaction::Accept | Reaction::Warn => checked.push(m.deviation),
            Reaction::Unknown => {
                unknown.push(m.deviation);
                earliest_unknown.get_or_insert(m.stage);
            }
            Reaction::Fail | Reaction::Stall => {
                checked.push(m.deviation);
                let by = Cause::Row(m.deviation);
                let prediction = if m.reaction == Reaction::Fail {
                    Prediction::Fails { stage: m.stage, by }
                } else {
                    Prediction::Stalls { stage: m.stage, by }
                };
                return decided(prediction, met, checked, earliest_unknown);
            }
        }
    }
    if let Some((stage, by)) = beyond {
        return decided(
            Prediction::Fails { stage, by },
            met,
            checked,
            earliest_unknown,
        );
    }
    if !unknown.is_empty() {
        return Expectation {
            prediction: Prediction::Unknown { rows: unknown },
            met,
            checked: Vec::new(),
        };
    }
    let warns = met
        .iter()
        .filter(|m| m.reaction == Reaction::Warn && met_at_a_point(m.deviation, profile))
        .map(|m| m.deviation)
        .collect();
    Expectation {
        prediction: Prediction::Passes { warns },
        met,
        checked,
    }
}

/// A failure or stall decides, unless a row nobody knows came at an earlier stage.
fn decided(
    prediction: Prediction,
    met: Vec<Met>,
    mut checked: Vec<Deviation>,
    earliest_unknown: Option<Stage>,
) -> Expectation {
    let stage = match prediction {
        Prediction::Fails { stage, .. } | Prediction::Stalls { stage, .. } => stage,
        _ => Stage::Media,
    };
    if earliest_unknown.is_some_and(|u| stage_order(u) < stage_order(stage)) {
        let rows = met
            .iter()
            .filter(|m| m.reaction == Reaction::Unknown)
            .map(|m| m.deviation)
            .collect();
        return Expectation {
            prediction: Prediction::Unknown { rows },
            met,
            checked: Vec::new(),
        };
    }
    checked.dedup();
    Expectation {
        prediction,
        met,
        checked,
    }
}

/// Where `stage` comes in the session (publish and play at the same point); a table's stages
/// are all the session's.
fn stage_order(stage: Stage) -> u8 {
    stage.session_order().unwrap_or(u8::MAX)
}

/// The emulator's stage for a table's (a player waits for its status at `publish`).
pub fn case_stage(stage: Stage) -> Stage {
    match stage {
        Stage::Play => Stage::Publish,
        other => other,
    }
}

impl Prediction {
    /// Whether `result` is what this predicts; Err says how it is not. An unknown prediction
    /// checks nothing (Ok).
    pub fn check(&self, result: &CaseResult) -> Result<(), String> {
        let got = format!(
            "{} {}",
            result.status.label(),
            result.stage.map(|s| s.to_string()).unwrap_or_default()
        );
        match self {
            Prediction::Unknown { .. } => Ok(()),
            Prediction::CompanionFails if result.status == Status::Error => Ok(()),
            Prediction::CompanionFails => Err(format!(
                "expected an error (the companion publisher fails), got {got}"
            )),
            Prediction::Passes { warns } => {
                if result.status.is_failure() {
                    return Err(format!("expected a pass, got {got}"));
                }
                for d in warns {
                    let shown = result.diagnosis.iter().any(|f| {
                        f.id == DiagnosticId::ToleranceClientWarns && f.message.contains(d.key())
                    });
                    if !shown {
                        return Err(format!(
                            "expected a tolerance.client-warns finding for {}",
                            d.key()
                        ));
                    }
                }
                Ok(())
            }
            Prediction::Fails { stage, .. } | Prediction::Stalls { stage, .. } => {
                let status = match self {
                    Prediction::Fails { .. } => Status::Fail,
                    _ => Status::Timeout,
                };
                if result.status == status && result.stage == Some(case_stage(*stage)) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected {} {}, got {got}",
                        status.label(),
                        case_stage(*stage)
                    ))
                }
            }
        }
    }
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Prediction::Passes { warns } if warns.is_empty() => f.write_str("pass"),
            Prediction::Passes { warns } => {
                let keys: Vec<&str> = warns.iter().map(|d| d.key()).collect();
                write!(f, "pass, warns {}", keys.join(" "))
            }
            Prediction::Fails { stage, by } => write!(f, "fail {stage} ({by})"),
            Prediction::Stalls { stage, by } => write!(f, "stall {stage} ({by})"),
            Prediction::Unknown { rows } => {
                let keys: Vec<&str> = rows.iter().map(|d| d.key()).collect();
                write!(f, "unknown ({})", keys.join(" "))
            }
            Prediction::CompanionFails => f.write_str("error (companion obs fails)"),
        }
    }
}

/// For one row of a profile's table: the personalities that exercise it toward this profile,
/// and those whose case confirms the row (the consistency test asserts those cases).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCoverage {
    pub deviation: Deviation,
    pub exercised_by: Vec<&'static str>,
    pub checked_by: Vec<&'static str>,
}

/// Every row of `profile`'s table against `personalities`.
pub fn coverage(profile: &Profile, personalities: &[Personality]) -> Vec<RowCoverage> {
    let expectations: Vec<(&'static str, Expectation)> = personalities
        .iter()
        .map(|p| (p.name, predict(profile, p)))
        .collect();
    Deviation::ALL
        .into_iter()
        .map(|deviation| RowCoverage {
            deviation,
            exercised_by: expectations
                .iter()
                .filter(|(_, e)| e.met.iter().any(|m| m.deviation == deviation))
                .map(|(name, _)| *name)
                .collect(),
            checked_by: expectations
                .iter()
                .filter(|(_, e)| e.checked.contains(&deviation))
                .map(|(name, _)| *name)
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulate::profile;
    use crate::serve::personality;

    fn expect(profile: &str, personality: &str) -> Prediction {
        let p = profile::by_name(profile).expect("profile");
        let s = personality::by_name(personality).expect("personality");
        predict(&p, &s).prediction
    }

    #[test]
    fn rows_decide_by_stage_and_unknown_ones_are_not_predicted() {
        assert_eq!(
            expect("streamlabs", "joy4-zero-s2"),
            Prediction::Fails {
                stage: Stage::Handshake,
                by: Cause::Row(Deviation::S2AllZero)
            }
        );
        assert_eq!(
            expect("gstreamer", "status-on-stream0"),
            Prediction::Stalls {
                stage: Stage::Publish,
                by: Cause::Row(Deviation::OnStatusOnStream0)
            }
        );
        assert!(matches!(
            expect("wirecast", "type1-open"),
            Prediction::Unknown { .. }
        ));
        assert_eq!(
            expect("obs", "release-fcpublish-error"),
            Prediction::Passes {
                warns: vec![Deviation::ReleaseFcPublishError]
            }
        );
        // A player sends no releaseStream: the personality does not reach it.
        assert_eq!(
            expect("rtmpdump", "release-fcpublish-error"),
            Prediction::Passes { warns: vec![] }
        );
        assert!(matches!(
            expect("videocore", "ffmpeg"),
            Prediction::Fails {
                stage: Stage::Handshake,
                by: Cause::Beyond(_)
            }
        ));
        assert!(matches!(
            expect("ffmpeg-play", "strict-c2"),
            Prediction::Fails {
                stage: Stage::Connect,
                by: Cause::Beyond(_)
            }
        ));
    }

    #[test]
    fn a_player_whose_companion_publisher_fails_is_predicted_an_error() {
        // obs's row for an error status is stall (publish: librtmp ignores NetStream.Publish.
        // BadName and waits on): the companion of every player.
        let s = personality::Personality {
            exercises: const { &[crate::deviation::every(Deviation::OnStatusUnexpectedCode)] },
            ..personality::by_name("reference").unwrap()
        };
        let obs = profile::by_name("obs").unwrap();
        assert!(matches!(
            predict(&obs, &s).prediction,
            Prediction::Stalls {
                stage: Stage::Publish,
                ..
            }
        ));
        let player = profile::by_name("ffmpeg-play").unwrap();
        assert_eq!(predict(&player, &s).prediction, Prediction::CompanionFails);
    }

    #[test]
    fn what_a_case_must_have_met_leaves_out_what_the_client_cannot_see() {
        let ffmpeg = profile::by_name("ffmpeg").unwrap();
        let gstreamer = profile::by_name("gstreamer").unwrap();
        // FFmpeg reads type-3 chunks its own way; rtmp2 compares and so sees the convention.
        let omitted = Deviation::ExtendedTimestampOmittedOnType3;
        assert!(!met_at_a_point(omitted, &ffmpeg));
        assert!(met_at_a_point(omitted, &gstreamer));
        assert!(!met_at_a_point(Deviation::OnStatusMissing, &gstreamer));
        let s = personality::by_name("ext-timestamp-omitted").unwrap();
        assert!(!predict(&ffmpeg, &s).must_meet(&ffmpeg).contains(&omitted));
        let e = predict(&gstreamer, &s);
        assert!(e.must_meet(&gstreamer).contains(&omitted));
        assert!(e.unmet(&gstreamer, &[]).contains(&omitted));
        assert!(!e
            .unmet(&gstreamer, &e.must_meet(&gstreamer))
            .contains(&omitted));
        // An all-zero S2 echoes VideoCore's all-zero C1: not met, so not confirmed.
        let videocore = profile::by_name("videocore").unwrap();
        let joy4 = personality::by_name("joy4-zero-s2").unwrap();
        let e = predict(&videocore, &joy4);
        assert!(!e.met.iter().any(|m| m.deviation == Deviation::S2AllZero));
        let obs = profile::by_name("obs").unwrap();
        assert!(predict(&obs, &joy4)
            .met
            .iter()
            .any(|m| m.deviation == Deviation::S2AllZero));
    }

    #[test]
    fn coverage_names_the_personalities_of_each_row() {
        let obs = profile::by_name("obs").unwrap();
        let rows = coverage(&obs, &personality::all());
        let row = |d| rows.iter().find(|r| r.deviation == d).unwrap();
        assert!(row(Deviation::S2AllZero)
            .exercised_by
            .contains(&"joy4-zero-s2"));
        assert!(row(Deviation::S2AllZero)
            .checked_by
            .contains(&"joy4-zero-s2"));
        assert_eq!(
            row(Deviation::ExtendedTimestampOmittedOnType3).exercised_by,
            ["ext-timestamp-omitted"]
        );
        assert_eq!(
            row(Deviation::OnStatusMissing).exercised_by,
            ["publish-status-missing"]
        );
    }
}
