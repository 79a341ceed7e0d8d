//! The two ends of a connection, named by protocol role.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The client or the server: whose bytes, whose handshake, who did something. The same type
/// names a connection's own end, its peer, a captured flow's two directions and, in a
/// transcript, whose bytes a diagnostic concerns (written `client` / `server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// `client` or `server`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}
