//! Why a connection ended, as a transcript's `closed` event says it.

use crate::protocol::connection::Timeout;
use crate::protocol::Side;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a connection ended: who ended it and how, with what the text names (a limit, an
/// error). It is what a driver decided or saw, so it says more than the connection's own
/// [`crate::protocol::connection::CloseReason`] (why the core stopped reading): a socket that
/// failed, a server shutting down, a personality that closes, an RST in a capture.
///
/// Text and JSON write it as one sentence (its [`fmt::Display`]: `the client closed the
/// connection`, `idle timeout (30 s)`), and a JSON transcript reads back from that sentence
/// ([`FromStr`], the one place that reads the words); code matches on the variants.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CloseCause {
    /// One side closed its end of the connection (a FIN) or reset it (an RST), as the other
    /// side or a capture saw it; `during_handshake` where the one who saw it knows the
    /// handshake was not complete.
    Peer {
        side: Side,
        reset: bool,
        during_handshake: bool,
    },
    /// A captured flow's FINs and resets, more than one, in the order the capture shows them:
    /// the first said as [`CloseCause::Peer`] says it, each later one as `, then reset it` (the
    /// same side) or `, then the server closed it` (see [`CloseCause::flags`]).
    Flags(Vec<Flag>),
    /// The client's handshake could not be answered (the handshake error, in words).
    HandshakeFailed(String),
    /// The client's chunk stream could not be read on (the chunk stream error, in words).
    ChunkStreamError(String),
    /// One of the connection's limits ran out: the handshake's, the idle one, or the wait for
    /// an Acknowledgement.
    Timeout(Timeout),
    /// The client did not take a write of `len` bytes within `limit`.
    WriteTimeout { len: usize, limit: Duration },
    /// Reading from the client failed (the operating system's error, in words).
    ReadError(String),
    /// Writing to the client failed.
    WriteError(String),
    /// Reading from the server failed (a re-enactment's connection).
    ConnectionFailed(String),
    /// The server was stopped (a signal, Ctrl-C) and closed every connection.
    Shutdown,
    /// The strict-c2 personality closes on a C2 that does not echo S1.
    C2NotEcho,
    /// The personality answered play with NetStream.Play.StreamNotFound, then closed.
    StreamNotFound { personality: String },
    /// All connections together held more than the server allows; this one was closed.
    HeldTotal,
    /// `serve --strict` closed on a violation the default reading goes on after: its id and
    /// the diagnostic's sentence.
    Strict {
        id: crate::transcript::DiagnosticId,
        text: String,
    },
}

/// One FIN (or, `reset`, one RST) a side sent, as a capture shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    pub side: Side,
    pub reset: bool,
}

impl CloseCause {
    /// The close of a captured flow with these flags, in capture order (at least one): one
    /// flag is [`CloseCause::Peer`], more are [`CloseCause::Flags`].
    pub fn flags(flags: Vec<Flag>) -> CloseCause {
        match flags.as_slice() {
            [one] => CloseCause::Peer {
                side: one.side,
                reset: one.reset,
                during_handshake: false,
            },
            _ => CloseCause::Flags(flags),
        }
    }
}

/// Seconds as the words write them: `10`, `0.25`.
fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl fmt::Display for CloseCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseCause::Peer {
                side,
                reset,
                during_handshake,
            } => {
                let how = if *reset { "reset" } else { "closed" };
                let when = if *during_handshake {
                    " during the handshake"
                } else {
                    ""
                };
                write!(f, "the {side} {how} the connection{when}")
            }
            CloseCause::Flags(flags) => {
                for (i, flag) in flags.iter().enumerate() {
                    let what = if flag.reset { "reset" } else { "closed" };
                    if i == 0 {
                        write!(f, "the {} {what} the connection", flag.side)?;
                    } else if flag.side == flags[0].side {
                        write!(f, ", then {what} it")?;
                    } else {
                        write!(f, ", then the {} {what} it", flag.side)?;
                    }
                }
                Ok(())
            }
            CloseCause::HandshakeFailed(error) => write!(f, "handshake failed: {error}"),
            CloseCause::ChunkStreamError(error) => write!(f, "chunk stream error: {error}"),
            CloseCause::Timeout(Timeout::Handshake(after)) => {
                write!(f, "handshake timeout ({} s)", seconds(*after))
            }
            CloseCause::Timeout(Timeout::Idle(after)) => {
                write!(f, "idle timeout ({} s)", seconds(*after))
            }
            CloseCause::Timeout(Timeout::Unacknowledged(after)) => write!(
                f,
                "no acknowledgement for {} s while output waited for one",
                seconds(*after)
            ),
            CloseCause::WriteTimeout { len, limit } => write!(
                f,
                "write timeout: the client did not take {len} bytes within {} s",
                seconds(*limit)
            ),
            CloseCause::ReadError(error) => write!(f, "read error: {error}"),
            CloseCause::WriteError(error) => write!(f, "write error: {error}"),
            CloseCause::ConnectionFailed(error) => write!(f, "the connection failed: {error}"),
            CloseCause::Shutdown => f.write_str("server shutting down"),
            CloseCause::C2NotEcho => f.write_str("C2 does not echo S1 (strict-c2)"),
            CloseCause::StreamNotFound { personality } => write!(
                f,
                "play answered NetStream.Play.StreamNotFound ({personality})"
            ),
            CloseCause::HeldTotal => f.write_str("server-wide partial-message budget exceeded"),
            CloseCause::Strict { id, text } => {
                write!(f, "--strict: {id} ({text}); the session goes no further")
            }
        }
    }
}

/// A sentence that is no close reason this tool writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown close reason '{0}'")]
pub struct UnknownCloseReason(pub String);

/// `text` between `prefix` and `suffix`, if it is there.
fn between<'a>(text: &'a str, prefix: &str, suffix: &str) -> Option<&'a str> {
    text.strip_prefix(prefix)?.strip_suffix(suffix)
}

fn duration(text: &str) -> Option<Duration> {
    Duration::try_from_secs_f64(text.parse().ok()?).ok()
}

/// A reason that carries an error's words.
type WithText = fn(String) -> CloseCause;
/// A timeout of some length.
type WithLimit = fn(Duration) -> Timeout;

/// Reads back what [`fmt::Display`] wrote (a transcript's JSON `reason`).
impl FromStr for CloseCause {
    type Err = UnknownCloseReason;

    fn from_str(text: &str) -> Result<Self, UnknownCloseReason> {
        let unknown = || UnknownCloseReason(text.to_string());
        let prefixed: [(&str, WithText); 5] = [
            ("handshake failed: ", CloseCause::HandshakeFailed),
            ("chunk stream error: ", CloseCause::ChunkStreamError),
            ("read error: ", CloseCause::ReadError),
            ("write error: ", CloseCause::WriteError),
            ("the connection failed: ", CloseCause::ConnectionFailed),
        ];
        for (prefix, cause) in prefixed {
            if let Some(rest) = text.strip_prefix(prefix) {
                return Ok(cause(rest.to_string()));
            }
        }
        let timeouts: [(&str, &str, WithLimit); 3] = [
            ("handshake timeout (", " s)", Timeout::Handshake),
            ("idle timeout (", " s)", Timeout::Idle),
            (
                "no acknowledgement for ",
                " s while output waited for one",
                Timeout::Unacknowledged,
            ),
        ];
        for (prefix, suffix, timeout) in timeouts {
            if let Some(s) = between(text, prefix, suffix) {
                return Ok(CloseCause::Timeout(timeout(
                    duration(s).ok_or_else(unknown)?,
                )));
            }
        }
        if let Some(rest) = between(text, "write timeout: the client did not take ", " s") {
            let (len, limit) = rest.split_once(" bytes within ").ok_or_else(unknown)?;
            return Ok(CloseCause::WriteTimeout {
                len: len.parse().map_err(|_| unknown())?,
                limit: duration(limit).ok_or_else(unknown)?,
            });
        }
        if let Some(rest) = between(text, "--strict: ", "); the session goes no further") {
            let (id, text) = rest.split_once(" (").ok_or_else(unknown)?;
            return Ok(CloseCause::Strict {
                id: crate::transcript::DiagnosticId::from_name(id).ok_or_else(unknown)?,
                text: text.to_string(),
            });
        }
        if let Some(p) = between(text, "play answered NetStream.Play.StreamNotFound (", ")") {
            return Ok(CloseCause::StreamNotFound {
                personality: p.to_string(),
            });
        }
        if let Some((first, later)) = text
            .split_once(", then ")
            .filter(|_| text.starts_with("the "))
        {
            let first = match first.parse::<CloseCause>() {
                Ok(CloseCause::Peer {
                    side,
                    reset,
                    during_handshake: false,
                }) => Flag { side, reset },
                _ => return Err(unknown()),
            };
            let mut flags = vec![first];
            for step in later.split(", then ") {
                let (side, what) = match step.strip_prefix("the ") {
                    Some(r) => {
                        let (who, what) = r.split_once(' ').ok_or_else(unknown)?;
                        let side = match who {
                            "client" => Side::Client,
                            "server" => Side::Server,
                            _ => return Err(unknown()),
                        };
                        (side, what)
                    }
                    None => (first.side, step),
                };
                let reset = match what {
                    "reset it" => true,
                    "closed it" => false,
                    _ => return Err(unknown()),
                };
                flags.push(Flag { side, reset });
            }
            return Ok(CloseCause::Flags(flags));
        }
        if let Some(rest) = text.strip_prefix("the ") {
            let (side, rest) = if let Some(r) = rest.strip_prefix("client ") {
                (Side::Client, r)
            } else if let Some(r) = rest.strip_prefix("server ") {
                (Side::Server, r)
            } else {
                return Err(unknown());
            };
            let (reset, rest) = if let Some(r) = rest.strip_prefix("reset the connection") {
                (true, r)
            } else if let Some(r) = rest.strip_prefix("closed the connection") {
                (false, r)
            } else {
                return Err(unknown());
            };
            let during_handshake = match rest {
                "" => false,
                " during the handshake" => true,
                _ => return Err(unknown()),
            };
            return Ok(CloseCause::Peer {
                side,
                reset,
                during_handshake,
            });
        }
        Ok(match text {
            "server shutting down" => CloseCause::Shutdown,
            "C2 does not echo S1 (strict-c2)" => CloseCause::C2NotEcho,
            "server-wide partial-message budget exceeded" => CloseCause::HeldTotal,
            // How serve said it before the close reason was typed (transcripts on disk).
            "client closed the connection" => CloseCause::Peer {
                side: Side::Client,
                reset: false,
                during_handshake: false,
            },
            "client closed during the handshake" => CloseCause::Peer {
                side: Side::Client,
                reset: false,
                during_handshake: true,
            },
            _ => return Err(unknown()),
        })
    }
}

impl Serialize for CloseCause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CloseCause {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<CloseCause> {
        let mut all = Vec::new();
        for side in [Side::Client, Side::Server] {
            for reset in [false, true] {
                for during_handshake in [false, true] {
                    all.push(CloseCause::Peer {
                        side,
                        reset,
                        during_handshake,
                    });
                }
            }
        }
        let secs = [
            Duration::from_secs(10),
            Duration::from_millis(250),
            Duration::from_secs_f64(1.5),
        ];
        for d in secs {
            all.push(CloseCause::Timeout(Timeout::Handshake(d)));
            all.push(CloseCause::Timeout(Timeout::Idle(d)));
            all.push(CloseCause::Timeout(Timeout::Unacknowledged(d)));
            all.push(CloseCause::WriteTimeout {
                len: 4096,
                limit: d,
            });
        }
        all.extend([
            CloseCause::HandshakeFailed(
                "first byte 0x47 is not an RTMP version: it looks like an HTTP request".into(),
            ),
            CloseCause::ChunkStreamError("chunk size 0 at offset 3".into()),
            CloseCause::ReadError("Connection reset by peer (os error 104)".into()),
            CloseCause::WriteError("Broken pipe (os error 32)".into()),
            CloseCause::ConnectionFailed("Connection reset by peer (os error 104)".into()),
            CloseCause::Shutdown,
            CloseCause::C2NotEcho,
            CloseCause::StreamNotFound {
                personality: "play-stream-not-found".into(),
            },
            CloseCause::HeldTotal,
            CloseCause::Strict {
                id: crate::transcript::DiagnosticId::ChunkOpenedFromZeroState,
                text: "chunk stream 5 opened with a type 1 header; its missing fields were read as zero".into(),
            },
            CloseCause::Flags(vec![
                Flag {
                    side: Side::Server,
                    reset: false,
                },
                Flag {
                    side: Side::Server,
                    reset: true,
                },
            ]),
            CloseCause::Flags(vec![
                Flag {
                    side: Side::Client,
                    reset: false,
                },
                Flag {
                    side: Side::Server,
                    reset: false,
                },
                Flag {
                    side: Side::Client,
                    reset: true,
                },
            ]),
        ]);
        all
    }

    #[test]
    fn every_reason_reads_back_from_its_words() {
        for cause in every_kind() {
            let text = cause.to_string();
            assert_eq!(text.parse::<CloseCause>(), Ok(cause.clone()), "{text}");
            let json = serde_json::to_string(&cause).unwrap();
            assert_eq!(json, serde_json::to_string(&text).unwrap());
            let back: CloseCause = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cause);
        }
    }

    #[test]
    fn the_words_are_the_ones_transcripts_have() {
        let client = |reset, during_handshake| CloseCause::Peer {
            side: Side::Client,
            reset,
            during_handshake,
        };
        assert_eq!(
            client(false, false).to_string(),
            "the client closed the connection"
        );
        assert_eq!(
            client(true, true).to_string(),
            "the client reset the connection during the handshake"
        );
        assert_eq!(
            CloseCause::Timeout(Timeout::Idle(Duration::from_secs(30))).to_string(),
            "idle timeout (30 s)"
        );
        assert_eq!(
            CloseCause::WriteTimeout {
                len: 100,
                limit: Duration::from_secs(1)
            }
            .to_string(),
            "write timeout: the client did not take 100 bytes within 1 s"
        );
        // serve's words before they were typed still read.
        assert_eq!(
            "client closed during the handshake".parse(),
            Ok(client(false, true))
        );
    }

    #[test]
    fn a_sentence_no_reason_has_is_refused_naming_it() {
        for text in [
            "",
            "the peer closed the connection",
            "the client closed the connection later",
            "idle timeout (soon s)",
            "write timeout: the client did not take many bytes within 1 s",
        ] {
            assert_eq!(
                text.parse::<CloseCause>(),
                Err(UnknownCloseReason(text.into())),
                "{text}"
            );
        }
        let err = serde_json::from_str::<CloseCause>("\"it broke\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown close reason 'it broke'"), "{err}");
    }
}
