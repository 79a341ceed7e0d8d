//! Human text: one line per event, every sentence rendered from the event's fields.

use crate::protocol::handshake::{HANDSHAKE_LEN, PACKET_LEN};
use crate::transcript::{
    EchoChecks, Event, EventKind, HandshakeMode, HandshakeObservation, HandshakePacket,
    HandshakeSegment, MessageEvent, Severity, Side, Transcript,
};
use std::fmt::{self, Write as _};

/// Renders events as human text, one line each, with times relative to the connection's start.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextRenderer {
    pub colour: bool,
}

impl TextRenderer {
    pub fn line(&self, event: &Event) -> String {
        let millis = event.at_us as f64 / 1000.0;
        format!(
            "{millis:>10.3} ms  {}{}",
            self.body(&event.kind),
            frames_suffix(&event.frames)
        )
    }

    fn body(&self, kind: &EventKind) -> String {
        match kind {
            EventKind::Diagnostic {
                id, severity, text, ..
            } => {
                let label = match severity {
                    Severity::Info => "info",
                    Severity::Warning => "WARN",
                    Severity::Error => "ERROR",
                };
                let label = if self.colour {
                    let code = match severity {
                        Severity::Info => "36",
                        Severity::Warning => "33",
                        Severity::Error => "1;31",
                    };
                    format!("\x1b[{code}m{label}\x1b[0m")
                } else {
                    label.to_string()
                };
                format!("{label}  {id}: {text}")
            }
            other => plain_body(other, Detail::Full),
        }
    }

    /// Every event's line but each media message's (replay's `media` events; the media
    /// summary says what they add up to).
    pub fn render(&self, transcript: &Transcript) -> String {
        self.render_with_media(transcript, false)
    }

    /// [`Self::render`], with each media message's line when `media` (`replay --media`).
    pub fn render_with_media(&self, transcript: &Transcript, media: bool) -> String {
        let mut out = String::new();
        for event in &transcript.events {
            if !media && matches!(event.kind, EventKind::Media(_)) {
                continue;
            }
            out.push_str(&self.line(event));
            out.push('\n');
        }
        out
    }
}

/// The capture frames an event rests on, as a line's end: `  [#961]`, `  [#3107,3110]`, or
/// for more than three `  [#962-1004, 12 frames]` (first and last); nothing without frames.
pub fn frames_suffix(frames: &[u64]) -> String {
    match frames {
        [] => String::new(),
        [one] => format!("  [#{one}]"),
        few if few.len() <= 3 => {
            let list: Vec<String> = few.iter().map(u64::to_string).collect();
            format!("  [#{}]", list.join(","))
        }
        [first, .., last] => format!("  [#{first}-{last}, {} frames]", frames.len()),
    }
}

/// `line` without a [`frames_suffix`]: lines of a transcript rendered with frames compare with
/// those of one without (a live re-enactment has none).
pub fn without_frames(line: &str) -> &str {
    match line.rfind("  [#") {
        Some(at) if line.ends_with(']') => &line[..at],
        _ => line,
    }
}

/// How much of what changes from run to run a rendering keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Detail {
    /// Everything (text output).
    Full,
    /// Without peers' clocks and delays between segments (snapshots).
    Stable,
}

/// The body of an event line without its time: shared by the text and snapshot forms so that
/// both always say the same thing.
pub(super) fn plain_body(kind: &EventKind, detail: Detail) -> String {
    match kind {
        EventKind::Connected { client, server } => format!("connected {client} -> {server}"),
        EventKind::Segment { direction, len } => format!("{}  {len} B", direction.arrow()),
        EventKind::Handshake { id, observation } => {
            format!("hs    {id}: {}", Observation(observation, detail))
        }
        EventKind::Message(m) => message_line(m),
        EventKind::Diagnostic {
            id, severity, text, ..
        } => format!("{severity}  {id}: {text}"),
        EventKind::MediaSummary { stream, media } => format!("media {stream}: {media}"),
        EventKind::Media(m) => m.to_string(),
        EventKind::Closed { reason } => format!("closed: {reason}"),
    }
}

/// The sentence an event's fields say, for the JSON form's `text`: only for events whose words
/// are rendered, not stored.
pub(super) fn derived_text(kind: &EventKind) -> Option<String> {
    match kind {
        EventKind::Handshake { observation, .. } => Some(observation.to_string()),
        EventKind::MediaSummary { media, .. } => Some(media.to_string()),
        _ => None,
    }
}

fn message_line(m: &MessageEvent) -> String {
    let mut line = String::new();
    let _ = write!(
        line,
        "{}  msg csid={} ts={} type={} msid={} len={}  {}",
        m.direction.arrow(),
        m.csid,
        m.timestamp,
        m.type_id,
        m.stream_id,
        m.len,
        m.content
    );
    line
}

impl fmt::Display for HandshakeObservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Observation(self, Detail::Full).fmt(f)
    }
}

/// An observation in words, at a level of detail.
struct Observation<'a>(&'a HandshakeObservation, Detail);

impl fmt::Display for Observation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HandshakeObservation::*;
        let Observation(observation, detail) = self;
        match observation {
            Version { packet, version } => {
                write!(f, "{packet} version {version}")?;
                // Only a server answers; a client just goes on (or stops, if strict).
                let answered = if *packet == HandshakePacket::C0 {
                    "; answered as version 3"
                } else {
                    ""
                };
                match version {
                    3 => Ok(()),
                    0..=2 => write!(f, " (deprecated{answered})"),
                    _ => write!(f, " (reserved{answered})"),
                }
            }
            Fields {
                packet,
                time,
                version_field: v,
            } => {
                // A peer's clock changes from run to run; zero is a fact worth keeping.
                if *detail == Detail::Stable && *time != 0 {
                    write!(f, "{packet} time <clock>")?;
                } else {
                    write!(f, "{packet} time {time}")?;
                }
                write!(
                    f,
                    ", version field {}.{}.{}.{}{}",
                    v[0],
                    v[1],
                    v[2],
                    v[3],
                    if *v == [0; 4] { " (zero, as the spec asks)" } else { "" }
                )
            }
            DigestValid { packet, layout } => {
                write!(f, "{packet} carries a valid digest ({layout} layout)")
            }
            NoDigest {
                packet,
                version_field_set: true,
            } => write!(
                f,
                "{packet}'s version field is set but no digest validates in either layout: simple handshake"
            ),
            NoDigest { packet, .. } => write!(f, "{packet} carries no digest (simple handshake)"),
            ModeChosen {
                mode: HandshakeMode::Simple,
            } => f.write_str("simple handshake"),
            ModeChosen {
                mode: HandshakeMode::Digest { layout },
            } => write!(f, "digest handshake ({layout} layout)"),
            Answer { packet, echo } => answer(f, *packet, echo),
            C2SignedWithoutS1Digest => f.write_str(
                "S1 has no valid digest; C2 is signed anyway with the bytes where C1's layout puts one",
            ),
            Segments { side, segments } => {
                f.write_str(&describe_segments(*side, segments, *detail == Detail::Full))
            }
            Described { text } => f.write_str(text),
        }
    }
}

impl fmt::Display for crate::transcript::DigestScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            crate::transcript::DigestScheme::Base8 => "base 8",
            crate::transcript::DigestScheme::Base772 => "base 772",
        })
    }
}

fn answer(f: &mut fmt::Formatter<'_>, packet: HandshakePacket, echo: &EchoChecks) -> fmt::Result {
    let answered = if packet == HandshakePacket::C2 {
        "S1"
    } else {
        "C1"
    };
    match (echo.signed, echo.exact, echo.random_matches, echo.all_zero) {
        (Some(true), ..) => write!(f, "{packet} is signed for {answered}'s digest"),
        (_, true, ..) => write!(f, "{packet} is an exact echo of {answered}"),
        (_, _, true, _) => write!(
            f,
            "{packet} echoes {answered}'s random part (from byte 8); time fields differ"
        ),
        (_, _, _, true) => write!(f, "{packet} is all zero bytes, not an echo of {answered}"),
        _ => write!(
            f,
            "{packet} neither echoes {answered} nor is signed for it{}",
            if echo.time_matches {
                " (only the time field matches)"
            } else {
                ""
            }
        ),
    }
}

/// `S0 alone, then S1 (+1.759 ms), then S2 (+0.024 ms)`: which packets each segment carried and,
/// with `delays`, how long after the previous one it came.
fn describe_segments(side: Side, segments: &[HandshakeSegment], delays: bool) -> String {
    const BOUNDS: [usize; 4] = [0, 1, 1 + PACKET_LEN, HANDSHAKE_LEN];
    let names = match side {
        Side::Client => ["C0", "C1", "C2"],
        Side::Server => ["S0", "S1", "S2"],
    };
    let mut parts: Vec<String> = Vec::new();
    let mut start = 0;
    let mut previous_at = None;
    for &HandshakeSegment { at_us: at, len } in segments {
        let end = start + len;
        let mut carried: Vec<String> = Vec::new();
        let mut whole = 0;
        for (p, name) in names.iter().enumerate() {
            let (from, to) = (BOUNDS[p], BOUNDS[p + 1]);
            if start.max(from) < end.min(to) {
                if start <= from && end >= to {
                    whole += 1;
                    carried.push(name.to_string());
                } else {
                    carried.push(format!("part of {name}"));
                }
            }
        }
        let mut part = carried.join("+");
        if end > HANDSHAKE_LEN {
            part.push_str(&format!(
                " and {} more bytes",
                end - start.max(HANDSHAKE_LEN)
            ));
        }
        match previous_at {
            None if whole == 1 && carried.len() == 1 && segments.len() > 1 => {
                part.push_str(" alone")
            }
            None => {}
            Some(previous) if delays => {
                part = format!(
                    "{part} (+{:.3} ms)",
                    at.saturating_sub(previous) as f64 / 1000.0
                )
            }
            Some(_) => {}
        }
        parts.push(part);
        previous_at = Some(at);
        start = end;
    }
    match parts.len() {
        0 => "no segments".into(),
        1 => format!("{} in one segment", parts[0]),
        _ => parts.join(", then "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::handshake::{DigestLayout, Echo, HandshakeEvent, Mode, Packet};

    fn segments(side: Side, list: &[(u64, usize)], delays: bool) -> String {
        let list: Vec<HandshakeSegment> = list
            .iter()
            .map(|&(at_us, len)| HandshakeSegment { at_us, len })
            .collect();
        describe_segments(side, &list, delays)
    }

    #[test]
    fn each_segment_names_the_packets_it_carried_and_its_delay() {
        let s = Side::Server;
        assert_eq!(
            segments(s, &[(145, 1), (1904, 1536), (1928, 1536)], true),
            "S0 alone, then S1 (+1.759 ms), then S2 (+0.024 ms)"
        );
        assert_eq!(
            segments(s, &[(145, 1), (1904, 1536), (1928, 1536)], false),
            "S0 alone, then S1, then S2"
        );
        assert_eq!(
            segments(s, &[(0, 1537), (50, 1536)], true),
            "S0+S1, then S2 (+0.050 ms)"
        );
        assert_eq!(segments(s, &[(0, 3073)], true), "S0+S1+S2 in one segment");
        assert_eq!(
            segments(Side::Client, &[(0, 1537), (2000, 1676)], true),
            "C0+C1, then C2 and 140 more bytes (+2.000 ms)"
        );
        // A packet cut across segments (a small MSS, or a byte-wise writer).
        assert_eq!(
            segments(s, &[(0, 1000), (10, 2073)], true),
            "S0+part of S1, then part of S1+S2 (+0.010 ms)"
        );
        assert_eq!(segments(s, &[], true), "no segments");
    }

    /// Every kind of observation the handshake codec makes has its words (the codec's events
    /// print these too, through their mirror).
    #[test]
    fn every_handshake_observation_has_its_words() {
        let echo = |signed, exact, random_matches, all_zero, time_matches| Echo {
            exact,
            time_matches,
            random_matches,
            all_zero,
            signed,
        };
        let mut events = vec![
            HandshakeEvent::ModeChosen(Mode::Simple),
            HandshakeEvent::ModeChosen(Mode::Digest(DigestLayout::Base772)),
            HandshakeEvent::C2SignedWithoutS1Digest,
        ];
        for packet in [Packet::C0, Packet::S0] {
            for version in [0, 3, 6, 31, 200] {
                events.push(HandshakeEvent::Version { packet, version });
            }
        }
        for packet in [Packet::C1, Packet::S1] {
            events.push(HandshakeEvent::Hello {
                packet,
                time: 0,
                version: [0; 4],
            });
            events.push(HandshakeEvent::Hello {
                packet,
                time: 3_559_073,
                version: [9, 0, 124, 2],
            });
            for layout in DigestLayout::BOTH {
                events.push(HandshakeEvent::DigestValid { packet, layout });
            }
            for version_set in [true, false] {
                events.push(HandshakeEvent::NoDigest {
                    packet,
                    version_set,
                });
            }
        }
        for packet in [Packet::C2, Packet::S2] {
            for e in [
                echo(Some(true), false, false, false, false),
                echo(Some(false), true, true, false, true),
                echo(None, false, true, false, false),
                echo(None, false, false, true, false),
                echo(None, false, false, false, true),
                echo(Some(false), false, false, false, false),
            ] {
                events.push(HandshakeEvent::Answer { packet, echo: e });
            }
        }
        let mut words = String::new();
        for e in &events {
            let kind = EventKind::handshake_event(e);
            let _ = writeln!(words, "{e:?}\n    {}", plain_body(&kind, Detail::Full));
        }
        crate::transcript::render::words_snapshot("handshake-observation-words", &words);
    }
}
