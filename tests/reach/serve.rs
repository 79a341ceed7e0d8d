//! serve's session in memory, with a client that writes what a scenario asks: the core's client
//! connection for well-formed messages, raw bytes for what no client library writes.

use bytes::{Bytes, BytesMut};
use rtmp_probe::protocol::amf0::Amf0Value;
use rtmp_probe::protocol::chunk::{ExtendedTimestampConvention, RawMessage};
use rtmp_probe::protocol::connection::{Connection, ConnectionConfig};
use rtmp_probe::protocol::handshake::ClientConfig;
use rtmp_probe::protocol::message;
use rtmp_probe::protocol::random::RandomSource;
use rtmp_probe::serve::personality;
use rtmp_probe::serve::session::{Action, ServerSession, SessionConfig};
use rtmp_probe::transcript::{DiagnosticId, EventKind};
use std::time::Duration;

/// The most rounds of writes and reads one step takes: a bound a step that settles never meets.
const ROUNDS: usize = 1_000;

/// A server session under a personality and the client talking to it.
pub struct Wire {
    pub server: ServerSession,
    pub client: Connection,
    now_us: u64,
    /// The server's writes reach the client (false: the client has stopped reading).
    pub client_reads: bool,
    ids: Vec<DiagnosticId>,
}

impl Wire {
    /// A session under `personality` and a client that has not started its handshake.
    pub fn new(personality: &str) -> Wire {
        Wire::with_client(
            personality,
            ConnectionConfig::client(ClientConfig::default()),
        )
    }

    pub fn with_client(personality: &str, client: ConnectionConfig) -> Wire {
        let mut config = SessionConfig::default();
        config.personality = personality::by_name(personality).expect("a personality");
        Wire {
            server: ServerSession::new(config, RandomSource::seeded(1)),
            client: Connection::new(client, RandomSource::seeded(2)),
            now_us: 0,
            client_reads: true,
            ids: Vec::new(),
        }
    }

    /// A session under `personality` whose handshake is done.
    pub fn established(personality: &str) -> Wire {
        let mut wire = Wire::new(personality);
        wire.settle();
        assert!(!wire.client.is_handshaking(), "the handshake completes");
        wire
    }

    /// After a connect to app "live" (answered).
    pub fn connected(personality: &str) -> Wire {
        let mut wire = Wire::established(personality);
        wire.send(connect(1.0, true));
        wire
    }

    fn advance(&mut self) -> Duration {
        self.now_us += 1_000;
        Duration::from_micros(self.now_us)
    }

    /// Moves bytes both ways until neither side has anything to write, answering the session's
    /// actions as a hub with no other connection would (publish accepted, nothing to play).
    pub fn settle(&mut self) {
        for _ in 0..ROUNDS {
            let mut moved = false;
            while let Some(write) = self
                .client
                .poll_transmit(Duration::from_micros(self.now_us))
            {
                moved = true;
                let now = self.now_us;
                self.server.handle_read(now, write.bytes);
            }
            while let Some(action) = self.server.poll_action() {
                match action {
                    Action::Publish { stream_id, .. } => {
                        self.server.publish_result(stream_id, true)
                    }
                    Action::Play { stream_id, .. } => self
                        .server
                        .play_started(stream_id, None::<std::iter::Empty<&RawMessage>>),
                    _ => {}
                }
            }
            loop {
                let Some(bytes) = self.server.poll_transmit(self.now_us) else {
                    // A personality's pause before its next handshake write passes.
                    match self.server.next_transmit_at_us() {
                        Some(due) => {
                            self.now_us = self.now_us.max(due);
                            continue;
                        }
                        None => break,
                    }
                };
                // A client that does not read leaves the bytes in the socket (moved on, not
                // taken in).
                if self.client_reads {
                    moved = true;
                    let now = self.advance();
                    self.client.handle_read(now, bytes);
                }
            }
            while self.client.poll_event().is_some() {}
            self.collect();
            if !moved {
                return;
            }
        }
        panic!("the wire did not settle within {ROUNDS} rounds");
    }

    /// The client sends `message`, and the wire settles.
    pub fn send(&mut self, message: RawMessage) {
        self.client.send(message);
        self.settle();
    }

    /// Bytes the client's connection would not write, straight to the server.
    pub fn raw(&mut self, bytes: &[u8]) {
        let now = self.advance().as_micros() as u64;
        self.server.handle_read(now, Bytes::copy_from_slice(bytes));
        self.collect();
    }

    /// The client closes its side.
    pub fn eof(&mut self) {
        let now = self.advance().as_micros() as u64;
        self.server.handle_eof(now);
        self.collect();
    }

    /// The session's timer fires at its deadline.
    pub fn deadline(&mut self) {
        let at = self.server.deadline_us().expect("a deadline");
        self.now_us = self.now_us.max(at);
        self.server.handle_timer(at);
        self.collect();
    }

    fn collect(&mut self) {
        while let Some((_, kind)) = self.server.poll_event() {
            match kind {
                EventKind::Diagnostic { id, .. } | EventKind::Handshake { id, .. } => {
                    self.ids.push(id)
                }
                _ => {}
            }
        }
    }

    /// Every id the session has reported so far.
    pub fn ids(&mut self) -> Vec<DiagnosticId> {
        self.collect();
        self.ids.clone()
    }
}

/// connect with transaction id `txn`, and with app "live" or without an app.
pub fn connect(txn: f64, with_app: bool) -> RawMessage {
    let mut fields = vec![("tcUrl", Amf0Value::string("rtmp://127.0.0.1/live"))];
    if with_app {
        fields.insert(0, ("app", Amf0Value::string("live")));
    }
    message::command(0, "connect", txn, Amf0Value::object(fields), vec![])
}

pub fn create_stream(txn: f64) -> RawMessage {
    message::command(0, "createStream", txn, Amf0Value::Null, vec![])
}

/// `publish` or `play` of `name` on message stream `stream_id`.
pub fn stream_command(command: &str, stream_id: u32, name: &str) -> RawMessage {
    message::command(
        stream_id,
        command,
        0.0,
        Amf0Value::Null,
        vec![Amf0Value::string(name)],
    )
}

/// A small video message (an H.264 inter frame) on `stream_id`, at `timestamp`, `len` bytes.
pub fn video(stream_id: u32, timestamp: u32, len: usize) -> RawMessage {
    let mut payload = BytesMut::from(&[0x27u8, 1, 0, 0, 0][..]);
    payload.resize(len.max(5), 0);
    RawMessage {
        csid: 6,
        timestamp,
        type_id: 9,
        stream_id,
        payload: payload.freeze(),
    }
}

/// A client whose continuation chunks follow `convention` for extended timestamps.
pub fn client_writing(convention: ExtendedTimestampConvention) -> ConnectionConfig {
    let mut config = ConnectionConfig::client(ClientConfig::default());
    config.tolerance.extended_timestamp = convention;
    config
}

/// A type-0 chunk header on chunk stream `csid` (2 to 63) for a message of `len` bytes of
/// `type_id` on message stream 1, timestamp 0.
pub fn type0_header(csid: u8, len: u32, type_id: u8) -> Vec<u8> {
    let l = len.to_be_bytes();
    vec![csid, 0, 0, 0, l[1], l[2], l[3], type_id, 1, 0, 0, 0]
}
