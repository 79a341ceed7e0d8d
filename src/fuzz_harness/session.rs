//! The whole server session driven by a client, a clock and the other connections.

use super::input;
use crate::protocol::chunk::RawMessage;
use crate::protocol::handshake::{C2Style, ClientConfig, Handshake, Packet};
use crate::protocol::random::RandomSource;
use crate::serve::hub::Hub;
use crate::serve::personality;
use crate::serve::session::{Action, ServerSession, SessionConfig};
use crate::transcript::EventKind;
use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;

/// One thing that happens to a server connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The client's bytes, as one read.
    Client(Vec<u8>),
    /// The clock moves on by this many milliseconds and the driver's timer fires.
    Tick(u16),
    /// A client core answers the S1 the server has written so far with its C2 (one read), so
    /// the fuzzer gets past a server that checks C2; nothing when there is no S1 yet.
    ClientC2,
    /// Media (8, 9) or metadata (18) from another connection's publisher reaches this one,
    /// which matters when it plays that stream.
    PublisherMedia { type_id: u8, payload: Vec<u8> },
    /// The stream this connection plays stops being published.
    PublisherEnded,
    /// The client closes its side.
    Eof,
    /// The server shuts down.
    Shutdown,
}

const STEP_KINDS: u8 = 7;

impl<'a> Arbitrary<'a> for Step {
    /// A tag byte (modulo the number of kinds, in declaration order), then the step's fields.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match input::u8(u) % STEP_KINDS {
            0 => Step::Client(input::byte_string(u).to_vec()),
            1 => Step::Tick(input::u16(u)),
            2 => Step::ClientC2,
            3 => Step::PublisherMedia {
                type_id: [8, 9, 18][input::u8(u) as usize % 3],
                payload: input::byte_string(u).to_vec(),
            },
            4 => Step::PublisherEnded,
            5 => Step::Eof,
            _ => Step::Shutdown,
        })
    }
}

/// A session input: which personality, how the client core signs C2, and the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInput {
    /// Index into [`personality::all`] (modulo their number).
    pub personality: u8,
    /// The client core signs C2 (as FFmpeg playing does) instead of echoing S1.
    pub signed_c2: bool,
    pub steps: Vec<Step>,
}

impl SessionInput {
    /// Reads a personality byte, a flags byte and steps until the input ends.
    pub fn read(data: &[u8]) -> Self {
        let mut u = Unstructured::new(data);
        let personality = input::u8(&mut u);
        let signed_c2 = input::u8(&mut u) & 1 == 1;
        let mut steps = Vec::new();
        while !u.is_empty() {
            match Step::arbitrary(&mut u) {
                Ok(step) => steps.push(step),
                Err(_) => break,
            }
        }
        SessionInput {
            personality,
            signed_c2,
            steps,
        }
    }

    /// The bytes [`Self::read`] reads back as this input (client reads over 65535 bytes are
    /// split into several).
    pub fn write(&self) -> Vec<u8> {
        let mut w = input::InputWriter::default();
        w.u8(self.personality).u8(u8::from(self.signed_c2));
        for step in &self.steps {
            match step {
                Step::Client(bytes) => {
                    for piece in bytes.chunks(u16::MAX as usize) {
                        w.u8(0).byte_string(piece);
                    }
                }
                Step::Tick(ms) => {
                    w.u8(1).u16(*ms);
                }
                Step::ClientC2 => {
                    w.u8(2);
                }
                Step::PublisherMedia { type_id, payload } => {
                    let kind = match type_id {
                        8 => 0,
                        9 => 1,
                        _ => 2,
                    };
                    w.u8(3).u8(kind).byte_string(payload);
                }
                Step::PublisherEnded => {
                    w.u8(4);
                }
                Step::Eof => {
                    w.u8(5);
                }
                Step::Shutdown => {
                    w.u8(6);
                }
            }
        }
        w.bytes
    }
}

/// The connection number the harness's hub knows this session by.
const CONN: u64 = 1;

/// Input: see [`SessionInput::read`]. The session never panics; after its Closed event it
/// neither writes nor reports anything; its event times never go back; and the hub it asks
/// ends up holding nothing for it once it closed.
pub fn session(data: &[u8]) {
    let input = SessionInput::read(data);
    let all = personality::all();
    let personality = all[input.personality as usize % all.len()].clone();
    let config = SessionConfig {
        personality,
        ..SessionConfig::default()
    };
    let mut session = ServerSession::new(config, RandomSource::seeded(1));
    let mut client = Handshake::client(
        ClientConfig {
            c2: if input.signed_c2 {
                C2Style::Signed
            } else {
                C2Style::EchoS1
            },
            ..ClientConfig::default()
        },
        RandomSource::seeded(2),
    );
    // The client core's own C0 and C1 are not sent: only its answer to S1 is used.
    while client.poll_transmit().is_some() {}
    let mut client_failed = false;
    let mut hub: Hub<()> = Hub::default();
    let mut published = Vec::new();
    let mut now_us = 0u64;
    let mut closed = false;
    let mut last_at = 0u64;
    for step in &input.steps {
        let closed_before = closed;
        match step {
            Step::Client(bytes) => session.handle_read(now_us, Bytes::copy_from_slice(bytes)),
            Step::Tick(ms) => {
                now_us += u64::from(*ms) * 1000;
                session.handle_timer(now_us);
            }
            Step::ClientC2 => {
                let c2 =
                    std::iter::from_fn(|| client.poll_transmit()).find(|t| t.packet == Packet::C2);
                if let Some(c2) = c2 {
                    session.handle_read(now_us, c2.bytes.clone());
                }
            }
            Step::PublisherMedia { type_id, payload } => {
                let message = RawMessage {
                    csid: 6,
                    timestamp: (now_us / 1000) as u32,
                    type_id: *type_id,
                    stream_id: 1,
                    payload: Bytes::copy_from_slice(payload),
                };
                session.send_media(now_us, &message);
            }
            Step::PublisherEnded => session.stream_ended(now_us),
            Step::Eof => session.handle_eof(now_us),
            Step::Shutdown => session.close(crate::transcript::CloseCause::Shutdown),
        }
        resolve_actions(&mut session, &mut hub, &mut published);
        // Writes whose time has come (a personality's paced ones wait for a later tick).
        while let Some(bytes) = session.poll_transmit(now_us) {
            assert!(
                !closed_before,
                "a write after Closed ({} bytes)",
                bytes.len()
            );
            if !client_failed && !client.is_complete() {
                client_failed = client.feed(&bytes).is_err();
            }
        }
        while let Some((at, kind)) = session.poll_event() {
            assert!(!closed, "an event after Closed: {kind:?}");
            assert!(at >= last_at, "event time went back from {last_at} to {at}");
            last_at = at;
            closed = matches!(kind, EventKind::Closed { .. });
        }
        // The close is reported once the last write has gone.
        assert_eq!(
            closed,
            session.close_reason().is_some() && !session.has_transmit(),
            "Closed event and close reason disagree"
        );
    }
    if closed {
        // The driver's clean-up; a name this connection published must be free again.
        hub.leave(CONN);
        for name in &published {
            assert!(
                !hub.is_published(name),
                "'{name}' is still published after its publisher closed"
            );
        }
    }
}

/// Answers the session's actions from a hub, as the tokio driver does for one connection.
fn resolve_actions(session: &mut ServerSession, hub: &mut Hub<()>, published: &mut Vec<String>) {
    while let Some(action) = session.poll_action() {
        match action {
            Action::Publish { name, stream_id } => {
                let accepted = hub.publish(&name, CONN);
                if accepted {
                    published.push(name);
                }
                session.publish_result(stream_id, accepted);
            }
            Action::Unpublish { name } => {
                hub.unpublish(&name, CONN);
            }
            Action::Play { name, stream_id } => {
                let start = hub.play(&name, CONN, ());
                session.play_started(stream_id, start.as_ref().map(|s| s.messages()));
            }
            Action::StopPlaying => hub.leave(CONN),
            Action::Media { name, message } => {
                hub.media(&name, &message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_inputs_survive_writing_and_reading() {
        let input = SessionInput {
            personality: 5,
            signed_c2: true,
            steps: vec![
                Step::Client(vec![3; 70_000]),
                Step::Tick(30_001),
                Step::ClientC2,
                Step::PublisherMedia {
                    type_id: 9,
                    payload: vec![0x17, 0],
                },
                Step::PublisherEnded,
                Step::Eof,
                Step::Shutdown,
            ],
        };
        let read = SessionInput::read(&input.write());
        // The long read comes back as two.
        assert_eq!(read.steps[0], Step::Client(vec![3; 65535]));
        assert_eq!(read.steps[1], Step::Client(vec![3; 70_000 - 65535]));
        assert_eq!(read.steps[2..], input.steps[1..]);
        assert_eq!((read.personality, read.signed_c2), (5, true));
    }
}
