//! Profile inference: what a captured client is, in the emulators' terms, read from what
//! `replay` reports of its flow ([`FlowReport`]). `replay` decodes and knows no profiles; this
//! module reads its output as one: the closest built-in profile ([`closest_profile`]), or a
//! profile of its own ([`export::derive`], `replay --export-profile`).

pub mod export;
pub mod family;

use super::profile::{
    self, connect_text, C0C1Writes, C2Timing, ChunkSizeWhen, PublishSequence, Role, StopStyle,
};
use crate::protocol::handshake::{C1Body, C1Style, C2Style};
use crate::replay::{ClientWire, FlowReport};
use crate::transcript::DiagnosticId;
use std::ops::{Deref, DerefMut};

/// What a captured client did, read in the terms the emulator profiles use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientFacts(pub ClientWire);

/// The captured facts stay readable (and, for tests that vary one, writable) as they are.
impl Deref for ClientFacts {
    type Target = ClientWire;
    fn deref(&self) -> &ClientWire {
        &self.0
    }
}

impl DerefMut for ClientFacts {
    fn deref_mut(&mut self) -> &mut ClientWire {
        &mut self.0
    }
}

impl ClientFacts {
    /// The facts of `flow`'s client.
    pub fn of(flow: &FlowReport) -> ClientFacts {
        ClientFacts(flow.client_wire.clone())
    }

    /// TCP_NODELAY as far as the segments show it: `Some(false)` when C2 shared a segment with
    /// connect (one write, or Nagle holding C2 back until connect joined it); `None` otherwise,
    /// since separate segments are what both settings produce on a fast link.
    pub fn nodelay(&self) -> Option<bool> {
        (self.c2_with_connect == Some(true)).then_some(false)
    }

    /// How C2 answered S1, as the emulator sends it; None when no emulator C2 reproduces it.
    pub fn c2_style(&self) -> Option<C2Style> {
        match (self.c2?, self.c2_time2) {
            (DiagnosticId::HsC2Echo, _) => Some(C2Style::EchoS1),
            (DiagnosticId::HsC2EchoFrom8, Some(0)) => Some(C2Style::EchoS1ZeroTime2),
            (DiagnosticId::HsC2EchoFrom8, Some(t)) => Some(C2Style::EchoS1WithTime2(t)),
            (DiagnosticId::HsC2Signed, _) => Some(C2Style::Signed),
            _ => None,
        }
    }

    /// FMLE's releaseStream/FCPublish before publish, or Flash's bare publish.
    pub fn publish_sequence(&self) -> PublishSequence {
        if self.has_command("releaseStream") || self.has_command("FCPublish") {
            PublishSequence::Fmle
        } else {
            PublishSequence::Flash
        }
    }

    /// How the client stopped publishing, if the capture shows it.
    pub fn stop_seen(&self) -> Option<StopStyle> {
        if self.has_command("publish(\"\")") {
            Some(StopStyle::EmptyPublish)
        } else if self.has_command("FCUnpublish") {
            Some(StopStyle::FcUnpublishDeleteStream)
        } else if self.has_command("deleteStream") {
            Some(StopStyle::DeleteStream)
        } else {
            None
        }
    }

    /// `flashVer` in the captured connect.
    pub fn flash_ver(&self) -> Option<&str> {
        connect_text(&self.connect, "flashVer")
    }

    /// A Set Chunk Size the client sent on its own, and when: before any command is before
    /// connect, after publish once publish was sent, else after connect.
    pub fn own_chunk_size(&self) -> Option<(ChunkSizeWhen, u32)> {
        let (before, size) = self.0.own_chunk_size?;
        let when = if before == 0 {
            ChunkSizeWhen::BeforeConnect
        } else if self.commands[..before.min(self.commands.len())]
            .iter()
            .any(|c| c == "publish")
        {
            ChunkSizeWhen::AfterPublish
        } else {
            ChunkSizeWhen::AfterConnect
        };
        Some((when, size))
    }
}

/// The emulator profile whose traits match the captured client best, with the traits that
/// differ; None for a flow that is not RTMP or whose handshake was not seen.
pub fn closest_profile(facts: &ClientFacts) -> Option<ClosestProfile> {
    let version = facts.c1_version?;
    let mut best: Option<ClosestProfile> = None;
    for p in profile::all() {
        let mut traits: Vec<(bool, String)> = Vec::new();
        let mut build = None;
        let together = facts.c0c1_apart().is_none();
        let p_together = p.c0c1 == C0C1Writes::Together;
        traits.push((
            together == p_together,
            format!(
                "C0+C1: {} writes them {}, the capture's client {}",
                p.name,
                if p_together { "together" } else { "apart" },
                if together { "together" } else { "apart" }
            ),
        ));
        let (p_version, p_digest, p_zero) = match p.handshake.c1 {
            C1Style::Simple { version, body, .. } => (version, false, body == C1Body::Zero),
            C1Style::Digest { version, .. } => (version, true, false),
        };
        traits.push((
            p_version == version,
            format!(
                "C1 version: {} sends {:?}, the capture {:?}",
                p.name, p_version, version
            ),
        ));
        traits.push((
            p_digest == facts.c1_digest,
            format!(
                "C1 digest: {} {}, the capture {}",
                p.name,
                if p_digest { "has one" } else { "has none" },
                if facts.c1_digest {
                    "has one"
                } else {
                    "has none"
                }
            ),
        ));
        traits.push((
            p_zero == facts.c1_zero_body,
            format!(
                "C1 body: {} {}, the capture {}",
                p.name,
                if p_zero { "zero" } else { "random" },
                if facts.c1_zero_body { "zero" } else { "random" }
            ),
        ));
        if let Some(c2) = &facts.c2 {
            let p_c2 = match p.handshake.c2 {
                C2Style::EchoS1 => DiagnosticId::HsC2Echo,
                C2Style::EchoS1ZeroTime2 | C2Style::EchoS1WithTime2(_) => {
                    DiagnosticId::HsC2EchoFrom8
                }
                C2Style::Signed => DiagnosticId::HsC2Signed,
                // FFmpeg signs only for a digest S1 with version >= 3; otherwise it echoes.
                C2Style::Auto => {
                    if *c2 == DiagnosticId::HsC2Signed {
                        DiagnosticId::HsC2Signed
                    } else {
                        DiagnosticId::HsC2Echo
                    }
                }
            };
            traits.push((
                p_c2 == *c2,
                format!("C2: {} answers with {p_c2}, the capture {c2}", p.name),
            ));
        }
        if facts.c2_before_s2 == Some(true) {
            let ok = p.c2_timing == C2Timing::AfterS1;
            traits.push((
                ok,
                format!(
                    "C2 timing: the capture's client sent C2 before S2 was in; {} waits for S2",
                    p.name
                ),
            ));
        }
        if let Some(with) = facts.c2_with_connect {
            let p_with = p.c2_timing == C2Timing::WithConnect;
            traits.push((
                with == p_with,
                format!(
                    "C2 and connect: {} {}, the capture {}",
                    p.name,
                    if p_with { "in one write" } else { "apart" },
                    if with { "in one segment" } else { "apart" }
                ),
            ));
        }
        let set_chunk_first = facts.commands.first().map(String::as_str) == Some("Set Chunk Size");
        let p_set_chunk_first = matches!(p.own_chunk_size, Some((ChunkSizeWhen::BeforeConnect, _)));
        traits.push((
            set_chunk_first == p_set_chunk_first,
            format!(
                "Set Chunk Size before connect: {} {}, the capture {}",
                p.name,
                if p_set_chunk_first { "yes" } else { "no" },
                if set_chunk_first { "yes" } else { "no" }
            ),
        ));
        match p.role {
            Role::Publish { sequence, stop } => {
                traits.push((
                    !facts.has_command("play"),
                    format!("role: {} publishes, the capture's client plays", p.name),
                ));
                let fmle = facts.publish_sequence() == PublishSequence::Fmle;
                traits.push((
                    (sequence == PublishSequence::Fmle) == fmle,
                    format!(
                        "publish commands: {} {}, the capture {}",
                        p.name,
                        if sequence == PublishSequence::Fmle {
                            "sends releaseStream/FCPublish"
                        } else {
                            "does not"
                        },
                        if fmle { "does" } else { "does not" }
                    ),
                ));
                if let Some(seen) = facts.stop_seen() {
                    traits.push((
                        seen == stop,
                        format!("stop: {} {:?}, the capture {:?}", p.name, stop, seen),
                    ));
                }
            }
            Role::Play => traits.push((
                facts.has_command("play"),
                format!("role: {} plays, the capture's client does not", p.name),
            )),
        }
        if let Some(v) = facts.flash_ver() {
            let p_flash_ver = p.flash_ver().unwrap_or_default();
            // Another build of the same program matches; its version becomes a trait.
            let family = family::same_family(v, p_flash_ver);
            build = family.clone().filter(|b| !b.is_empty());
            traits.push((
                family.is_some(),
                format!(
                    "flashVer: {} sends {p_flash_ver:?}, the capture {v:?}",
                    p.name
                ),
            ));
        }
        let total = traits.len();
        let matching = traits.iter().filter(|t| t.0).count();
        let differences: Vec<String> = traits.into_iter().filter(|t| !t.0).map(|t| t.1).collect();
        if best.as_ref().is_none_or(|b| matching > b.matching) {
            best = Some(ClosestProfile {
                name: p.name,
                matching,
                total,
                differences,
                build,
            });
        }
    }
    best
}

/// The built-in profile a captured client is most like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosestProfile {
    pub name: String,
    /// How many of the compared traits match, of `total`.
    pub matching: usize,
    pub total: usize,
    /// The traits that differ, as sentences.
    pub differences: Vec<String>,
    /// When the capture's client is another build of the profile's program: how it differs,
    /// e.g. "Lavf 61.7.100 (profile: Lavf 59.27.100)".
    pub build: Option<String>,
}
