//! The emulator client driven by a server: arbitrary server bytes, cut arbitrarily, with clock
//! ticks, the end of the server's stream and resets, into any profile × variant.

use super::input;
use crate::emulate::client::{CasePlan, EmulatorClient};
use crate::emulate::profile;
use crate::emulate::variant::Variant;
use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use std::time::Duration;

/// One thing that happens to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientStep {
    /// The server's bytes, as one read.
    Server(Vec<u8>),
    /// The clock moves on by this many milliseconds and the client's timer fires if due.
    Tick(u16),
    /// The server closes its side.
    Eof,
    /// Reading fails: the server reset the connection.
    Reset,
}

const STEP_KINDS: u8 = 4;

impl<'a> Arbitrary<'a> for ClientStep {
    /// A tag byte (modulo the number of kinds, in declaration order), then the step's fields.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match input::u8(u) % STEP_KINDS {
            0 => ClientStep::Server(input::byte_string(u).to_vec()),
            1 => ClientStep::Tick(input::u16(u)),
            2 => ClientStep::Eof,
            _ => ClientStep::Reset,
        })
    }
}

/// A client input: which profile and variant, then the steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInput {
    /// Index into [`profile::all`] (modulo their number).
    pub profile: u8,
    /// Index into [`Variant::ALL`] (modulo their number).
    pub variant: u8,
    pub steps: Vec<ClientStep>,
}

impl ClientInput {
    /// Reads a profile byte, a variant byte and steps until the input ends.
    pub fn read(data: &[u8]) -> Self {
        let mut u = Unstructured::new(data);
        let profile = input::u8(&mut u);
        let variant = input::u8(&mut u);
        let mut steps = Vec::new();
        while !u.is_empty() {
            match ClientStep::arbitrary(&mut u) {
                Ok(step) => steps.push(step),
                Err(_) => break,
            }
        }
        ClientInput {
            profile,
            variant,
            steps,
        }
    }

    /// The bytes [`Self::read`] reads back as this input (server reads over 65535 bytes are
    /// split into several).
    pub fn write(&self) -> Vec<u8> {
        let mut w = input::InputWriter::default();
        w.u8(self.profile).u8(self.variant);
        for step in &self.steps {
            match step {
                ClientStep::Server(bytes) => {
                    for piece in bytes.chunks(u16::MAX as usize) {
                        w.u8(0).byte_string(piece);
                    }
                }
                ClientStep::Tick(ms) => {
                    w.u8(1).u16(*ms);
                }
                ClientStep::Eof => {
                    w.u8(2);
                }
                ClientStep::Reset => {
                    w.u8(3);
                }
            }
        }
        w.bytes
    }
}

/// Input: see [`ClientInput::read`]. The client never panics; once finished it writes nothing
/// and asks for no timer; a timer it asks for is never in the past of the time it was given;
/// and its outcome says why a failed case failed.
pub fn client(data: &[u8]) {
    let input = ClientInput::read(data);
    let all = profile::all();
    let profile = all[input.profile as usize % all.len()].clone();
    let variant = Variant::ALL[input.variant as usize % Variant::ALL.len()];
    let plan = CasePlan {
        app: "live".into(),
        tc_url: "rtmp://fuzz/live".into(),
        key: "k".into(),
        media_duration: Duration::from_millis(300),
        handshake_timeout: Duration::from_secs(5),
        reply_timeout: Duration::from_secs(5),
        stop_after_connect: false,
        seed: 1,
    };
    let mut client = EmulatorClient::new(profile, variant, plan);
    let mut now = Duration::ZERO;
    for step in &input.steps {
        let finished_before = client.is_finished();
        match step {
            ClientStep::Server(bytes) => client.handle_read(now, Bytes::copy_from_slice(bytes)),
            ClientStep::Tick(ms) => {
                now += Duration::from_millis(u64::from(*ms));
                client.handle_timeout(now);
            }
            ClientStep::Eof => client.handle_eof(now),
            ClientStep::Reset => client.handle_reset(now, "connection reset by peer"),
        }
        let mut writes = 0usize;
        while client.poll_transmit(now).is_some() {
            assert!(!finished_before, "a write after the case finished");
            writes += 1;
            // Media is paced and handshake bytes are cut one per write at most: bounded.
            assert!(writes < 100_000, "the client writes without end");
        }
        if client.is_finished() {
            assert_eq!(
                client.poll_timeout(),
                None,
                "a timer after the case finished"
            );
        }
    }
    let finished = client.is_finished();
    let outcome = client.outcome(now);
    if outcome.status.is_failure() {
        assert!(
            !outcome.diagnosis.is_empty(),
            "a failed case without a finding (finished: {finished})"
        );
    }
}
