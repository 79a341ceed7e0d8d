//! The session's transcript in the order and at the time of the wire: a read's events at the
//! read's time, a write's when the driver takes it and at the driver's time, the close after the
//! last write.

use super::tests::{chunks, client, client_read, connect_to_live, established, playing, session};
use super::*;
use crate::protocol::handshake::PACKET_LEN;

/// Every event with its time: (µs, line) as the text transcript would say it without times.
fn timed(s: &mut ServerSession) -> Vec<(u64, String)> {
    std::iter::from_fn(|| s.poll_event())
        .map(|(at, kind)| {
            let line = match &kind {
                EventKind::Segment { direction, len } => format!("{} {len}", direction.arrow()),
                EventKind::Message(m) => format!("{} {}", m.direction.arrow(), m.name()),
                EventKind::Handshake { id, .. } => format!("hs {id}"),
                EventKind::Diagnostic { id, .. } => format!("diag {id}"),
                EventKind::Closed { .. } => "closed".into(),
                other => format!("{other:?}"),
            };
            (at, line)
        })
        .collect()
}

#[test]
fn a_personalitys_paced_writes_are_recorded_when_they_are_made() {
    // ffmpeg: S0 once C0 is in, S1 1760 µs after S0's write or C1's arrival (whichever is
    // later: the pause is the real server's work between the two), S2 24 µs after S1.
    let mut s = session("ffmpeg");
    let (_, c0, c1) = client();
    client_read(&mut s, 100, &c0);
    assert_eq!(s.poll_transmit(150).map(|b| b.len()), Some(1));
    client_read(&mut s, 200, &c1);
    assert_eq!(s.poll_transmit(300), None, "S1 waits for its pause");
    assert_eq!(s.next_transmit_at_us(), Some(200 + 1760));
    // The driver wakes late: S2's pause counts from S1's write.
    assert_eq!(s.poll_transmit(2000).map(|b| b.len()), Some(PACKET_LEN));
    assert_eq!(s.next_transmit_at_us(), Some(2024));
    assert_eq!(s.poll_transmit(2024).map(|b| b.len()), Some(PACKET_LEN));
    let segments: Vec<(u64, String)> = timed(&mut s)
        .into_iter()
        .filter(|(_, line)| line.starts_with("C->S") || line.starts_with("S->C"))
        .collect();
    assert_eq!(
        segments,
        [
            (100, "C->S 1".to_string()),
            (150, "S->C 1".into()),
            (200, format!("C->S {PACKET_LEN}")),
            (2000, format!("S->C {PACKET_LEN}")),
            (2024, format!("S->C {PACKET_LEN}")),
        ]
    );
}

#[test]
fn answers_are_recorded_when_written_after_every_message_of_the_read() {
    let mut s = established("reference");
    let create = super::tests::cmd(0, "createStream", 2.0, vec![]);
    client_read(&mut s, 1000, &chunks(&[connect_to_live(), create]));
    // Nothing the session sent is in the transcript before the driver takes the write.
    let read = timed(&mut s);
    assert_eq!(
        read,
        [
            (1000, "C->S connect".into()),
            (1000, "C->S createStream".into())
        ]
    );
    assert!(s.poll_transmit(1500).is_some());
    assert_eq!(s.poll_transmit(1500), None, "one write carries them all");
    let written = timed(&mut s);
    assert!(
        written
            .iter()
            .all(|(at, line)| *at == 1500 && line.starts_with("S->C")),
        "{written:?}"
    );
    let names: Vec<&str> = written.iter().map(|(_, l)| &l[5..]).collect();
    assert_eq!(
        names,
        [
            "Window Acknowledgement Size",
            "Set Peer Bandwidth",
            "Set Chunk Size",
            "_result",
            "_result"
        ]
    );
}

#[test]
fn the_close_comes_after_the_last_answer_crossed_the_wire() {
    // nginx-rtmp (idle_streams off) answers StreamNotFound and closes.
    let (mut s, _) = playing("play-stream-not-found");
    timed(&mut s);
    s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
    assert!(s.close_reason().is_some());
    assert_eq!(timed(&mut s), [], "the answer has not been written yet");
    assert!(s.has_transmit());
    assert!(s.poll_transmit(40).is_some());
    assert_eq!(
        timed(&mut s),
        [(40, "S->C onStatus".into()), (40, "closed".into())]
    );
}

#[test]
fn a_failed_write_closes_at_once_and_drops_what_was_left() {
    let (mut s, _) = playing("play-stream-not-found");
    timed(&mut s);
    s.play_started(1, None::<std::iter::Empty<&RawMessage>>);
    s.write_failed(
        50,
        CloseCause::WriteError("Broken pipe (os error 32)".into()),
    );
    // The session had closed already (stream not found): that close stands, reported now.
    assert_eq!(timed(&mut s), [(50, "closed".into())]);
    assert!(matches!(
        s.close_reason(),
        Some(CloseCause::StreamNotFound { .. })
    ));
}
