//! What a client hears of its server, as both the captured and the live side are read: the
//! handshake bytes, then the command replies a client waits for.

use crate::protocol::chunk::{ChunkError, ReadEvent};
use crate::protocol::connection::Side;
use crate::protocol::message::{Command, Message};
use crate::protocol::observe::{capture_limits, FlowObserver};
use std::collections::HashMap;

/// One reply a client may wait for.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// `_result #4`, `onStatus NetStream.Publish.Start`.
    pub key: String,
    /// 1 for the first reply with this key, 2 for the second, ...
    pub nth: usize,
    pub transaction_id: f64,
    /// The stream id a `_result` carries (createStream's answer).
    pub stream_id: Option<u32>,
}

/// The server's side of one connection, read as it arrives.
pub struct ServerReplies {
    /// Frames S0, S1 and S2, then reads the server's chunk stream.
    observer: FlowObserver,
    failed: Option<ChunkError>,
    counts: HashMap<String, usize>,
}

impl Default for ServerReplies {
    fn default() -> Self {
        Self {
            observer: FlowObserver::new(capture_limits()),
            failed: None,
            counts: HashMap::new(),
        }
    }
}

impl ServerReplies {
    /// The server's next bytes; each reply they complete goes to `on_reply`, in order.
    pub fn feed(&mut self, bytes: &[u8], mut on_reply: impl FnMut(Reply)) {
        if self.failed.is_some() {
            return;
        }
        self.observer.feed(Side::Server, bytes);
        loop {
            match self.observer.poll_chunk(Side::Server) {
                Ok(Some(ReadEvent::Message(raw))) if matches!(raw.type_id, 17 | 20) => {
                    let Ok(Message::Command(c)) = Message::decode(&raw) else {
                        continue;
                    };
                    let Some(key) = reply_key(&c) else {
                        continue;
                    };
                    let nth = self.counts.entry(key.clone()).or_default();
                    *nth += 1;
                    on_reply(Reply {
                        key,
                        nth: *nth,
                        transaction_id: c.transaction_id,
                        stream_id: (c.name == "_result")
                            .then(|| c.arguments.first()?.as_number().and_then(as_stream_id))
                            .flatten(),
                    });
                }
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(e) => {
                    self.failed = Some(e);
                    return;
                }
            }
        }
    }

    /// The handshake bytes so far.
    pub fn handshake(&self) -> &[u8] {
        self.observer.handshake(Side::Server)
    }

    /// Why the chunk stream could not be read further, once it could not.
    pub fn failed(&self) -> Option<&ChunkError> {
        self.failed.as_ref()
    }

    /// How many replies with `key` have arrived.
    pub fn count(&self, key: &str) -> usize {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

/// The replies a client waits for: `_result` / `_error` by transaction, `onStatus` by code.
fn reply_key(c: &Command) -> Option<String> {
    match c.name.as_str() {
        "_result" | "_error" => Some(format!("{} #{}", c.name, c.transaction_id)),
        "onStatus" => {
            let code = c
                .arguments
                .first()
                .and_then(|info| info.get("code"))
                .and_then(|code| code.as_str())
                .unwrap_or("?");
            Some(format!("onStatus {code}"))
        }
        _ => None,
    }
}

/// An AMF0 number that can be a message stream id: whole, and within u32.
pub fn as_stream_id(n: f64) -> Option<u32> {
    (n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0).then_some(n as u32)
}
