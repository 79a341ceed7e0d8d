//! The catalogue ids of the protocol core's events: what the handshake observed and what the
//! connection diagnosed, named.
//!
//! The mapping lives here, beside the catalogue, and not in `protocol`: the sans-IO core
//! reports typed facts (a [`HandshakeEvent`], a [`DiagnosticKind`]) and knows nothing of the
//! transcript, so it builds and can be read without it; naming a fact for a transcript is the
//! transcript's business, and the ids are the catalogue's type, which only the catalogue
//! makes. Every driver (serve, the emulators, replay) names the core's events through these
//! two conversions, so the same bytes get the same ids.

use super::DiagnosticId;
use crate::protocol::chunk::ExtendedTimestampConvention;
use crate::protocol::connection::{Diagnostic, DiagnosticKind};
use crate::protocol::handshake::{Echo, HandshakeEvent, Mode, Packet};

impl From<&HandshakeEvent> for DiagnosticId {
    fn from(event: &HandshakeEvent) -> Self {
        use DiagnosticId as Id;
        use HandshakeEvent::*;
        use Packet::*;
        match event {
            Version {
                packet: C0,
                version: 3,
            } => Id::HsC0Version,
            Version { packet: C0, .. } => Id::HsC0VersionUnusual,
            Version { version: 3, .. } => Id::HsS0Version,
            Version { .. } => Id::HsS0VersionUnusual,
            Hello { packet: C1, .. } => Id::HsC1Fields,
            Hello { .. } => Id::HsS1Fields,
            DigestValid { packet: C1, .. } => Id::HsC1DigestValid,
            DigestValid { .. } => Id::HsS1DigestValid,
            NoDigest {
                packet: C1,
                version_set: true,
            } => Id::HsC1DigestInvalid,
            NoDigest { packet: C1, .. } => Id::HsC1NoDigest,
            NoDigest {
                version_set: true, ..
            } => Id::HsS1DigestInvalid,
            NoDigest { .. } => Id::HsS1NoDigest,
            ModeChosen(Mode::Simple) => Id::HsModeSimple,
            ModeChosen(Mode::Digest(_)) => Id::HsModeDigest,
            Answer { packet, echo } => answer(*packet, echo),
            C2SignedWithoutS1Digest => Id::HsC2SignedWithoutS1Digest,
        }
    }
}

/// How a C2 or S2 answers: a signature first, then an exact echo, an echo of the random part,
/// all zeros, or none of those.
fn answer(packet: Packet, echo: &Echo) -> DiagnosticId {
    use DiagnosticId as Id;
    let c2 = packet == Packet::C2;
    let pick = |c2_id, s2_id| if c2 { c2_id } else { s2_id };
    match (echo.signed, echo.exact, echo.random_matches, echo.all_zero) {
        (Some(true), ..) => pick(Id::HsC2Signed, Id::HsS2Signed),
        (_, true, ..) => pick(Id::HsC2Echo, Id::HsS2Echo),
        (_, _, true, _) => pick(Id::HsC2EchoFrom8, Id::HsS2EchoFrom8),
        (_, _, _, true) => pick(Id::HsC2Zero, Id::HsS2Zero),
        _ => pick(Id::HsC2NotEcho, Id::HsS2NotEcho),
    }
}

impl From<&DiagnosticKind> for DiagnosticId {
    fn from(kind: &DiagnosticKind) -> Self {
        use DiagnosticId as Id;
        match kind {
            DiagnosticKind::PeerChunkSizeChanged { .. } => Id::ChunkSizeChanged,
            DiagnosticKind::ExtendedTimestamps { convention, .. } => match convention {
                ExtendedTimestampConvention::Repeat => Id::ChunkExtTsType3Repeated,
                ExtendedTimestampConvention::Omit => Id::ChunkExtTsType3Omitted,
            },
            DiagnosticKind::ControlOffCsid2 { .. } => Id::MsgControlOffCsid2,
            DiagnosticKind::Undecodable { .. } => Id::MsgUndecodable,
            DiagnosticKind::ClosedDuringHandshake => Id::HsPeerClosed,
            DiagnosticKind::OpenedFromZeroState { .. } => Id::ChunkOpenedFromZeroState,
            DiagnosticKind::Aborted { .. } => Id::ChunkAborted,
            DiagnosticKind::PartialMessageDropped { .. } => Id::ChunkPartialDropped,
            DiagnosticKind::StaleAcknowledgement { .. } => Id::AckStale,
            DiagnosticKind::MidMessageHeader { .. } => Id::ChunkHeaderMidMessage,
            DiagnosticKind::StatusError { .. } => Id::CmdStatusError,
            DiagnosticKind::CommandRejected { command, .. } => match command.as_str() {
                "createStream" => Id::CmdCreatestreamRejected,
                _ => Id::CmdConnectRejected,
            },
            DiagnosticKind::Unanswered { .. } => Id::CmdUnanswered,
        }
    }
}

impl From<&Diagnostic> for DiagnosticId {
    fn from(diagnostic: &Diagnostic) -> Self {
        (&diagnostic.kind).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_named_by_its_strongest_match() {
        let echo = |signed, exact, random_matches, all_zero| Echo {
            exact,
            time_matches: exact,
            random_matches,
            all_zero,
            signed,
        };
        let id = |packet, e: Echo| DiagnosticId::from(&HandshakeEvent::Answer { packet, echo: e });
        assert_eq!(
            id(Packet::S2, echo(Some(true), true, true, false)),
            DiagnosticId::HsS2Signed
        );
        assert_eq!(
            id(Packet::C2, echo(None, true, true, false)),
            DiagnosticId::HsC2Echo
        );
        assert_eq!(
            id(Packet::S2, echo(Some(false), false, true, false)),
            DiagnosticId::HsS2EchoFrom8
        );
        assert_eq!(
            id(Packet::C2, echo(None, false, false, true)),
            DiagnosticId::HsC2Zero
        );
        assert_eq!(
            id(Packet::S2, echo(None, false, false, false)),
            DiagnosticId::HsS2NotEcho
        );
    }
}
