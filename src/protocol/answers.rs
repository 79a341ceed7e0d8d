//! Which commands the peer answered, and how: the failures a session shows only in its commands
//! (an error-level onStatus, a rejected connect, a publish nobody answered), found the same way
//! whichever driver reads the messages. Sans-IO: it is given the decoded commands of both sides
//! in order, and the end of the connection.
//!
//! Only the commands a client waits for are expected to be answered: connect and createStream
//! (by `_result` or `_error` with their transaction id), publish and play (by onStatus on their
//! message stream, or one whose code names them; or `_error`). Servers commonly leave
//! releaseStream, FCPublish, getStreamLength and _checkbw unanswered, and the clients that send
//! them do not wait (FFmpeg rtmpproto.c, librtmp rtmp.c), so their silence is no failure.

use crate::protocol::amf0::Amf0Value;
use crate::protocol::connection::{DiagnosticKind, Side};
use crate::protocol::message::Command;

/// A command still waiting for its answer, with what the caller noted about it (where it was).
#[derive(Debug, Clone, PartialEq)]
struct Pending<T> {
    from: Side,
    name: String,
    transaction_id: f64,
    stream_id: u32,
    note: T,
}

/// Follows the commands of one connection, both directions. `T` is what the caller notes with
/// each command and gets back with an unanswered one (replay: its capture frames).
#[derive(Debug, Clone)]
pub struct CommandLedger<T = ()> {
    pending: Vec<Pending<T>>,
}

impl<T> Default for CommandLedger<T> {
    fn default() -> Self {
        Self {
            pending: Vec::new(),
        }
    }
}

/// What `answer` (a `_result`, `_error` or onStatus) answers of `pending`.
fn answers<T>(pending: &Pending<T>, answer: &Command, stream_id: u32) -> bool {
    match answer.name.as_str() {
        "_result" | "_error" => {
            !answer.transaction_id_missing && answer.transaction_id == pending.transaction_id
        }
        "onStatus" => {
            let family = match pending.name.as_str() {
                "publish" => "NetStream.Publish.",
                "play" => "NetStream.Play.",
                _ => return false,
            };
            stream_id == pending.stream_id || status_field(answer, "code").starts_with(family)
        }
        _ => false,
    }
}

/// A field of a status answer's info object (the first argument), or "".
fn status_field<'a>(command: &'a Command, field: &str) -> &'a str {
    command
        .arguments
        .first()
        .and_then(|info| info.get(field))
        .and_then(Amf0Value::as_str)
        .unwrap_or("")
}

impl<T> CommandLedger<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// `from` sent `command` on message stream `stream_id` (`note`: the caller's, given back if
    /// it goes unanswered): what it shows, as diagnostics about its sender.
    pub fn command(
        &mut self,
        from: Side,
        stream_id: u32,
        command: &Command,
        note: T,
    ) -> Vec<DiagnosticKind> {
        let mut found = Vec::new();
        let answered = self
            .pending
            .iter()
            .position(|p| p.from != from && answers(p, command, stream_id))
            .map(|i| self.pending.remove(i));
        match command.name.as_str() {
            "_error" => match answered.as_ref().map(|p| p.name.as_str()) {
                Some("connect") | Some("createStream") => {
                    found.push(DiagnosticKind::CommandRejected {
                        command: answered
                            .as_ref()
                            .map(|p| p.name.clone())
                            .unwrap_or_default(),
                        code: status_field(command, "code").to_string(),
                        description: status_field(command, "description").to_string(),
                    })
                }
                _ => found.push(DiagnosticKind::StatusError {
                    stream_id,
                    code: status_field(command, "code").to_string(),
                    description: status_field(command, "description").to_string(),
                    answering: answered.map(|p| p.name),
                }),
            },
            "onStatus" if status_field(command, "level") == "error" => {
                found.push(DiagnosticKind::StatusError {
                    stream_id,
                    code: status_field(command, "code").to_string(),
                    description: status_field(command, "description").to_string(),
                    answering: answered.map(|p| p.name),
                })
            }
            "connect" | "createStream" | "publish" | "play" => self.pending.push(Pending {
                from,
                name: command.name.clone(),
                transaction_id: command.transaction_id,
                stream_id,
                note,
            }),
            _ => {}
        }
        found
    }

    /// The connection ended: the commands nobody answered, each as a diagnostic about the side
    /// that did not answer (the other side's), with the command's note.
    pub fn finish(self) -> Vec<(Side, DiagnosticKind, T)> {
        self.pending
            .into_iter()
            .map(|p| {
                (
                    p.from.other(),
                    DiagnosticKind::Unanswered {
                        command: p.name,
                        transaction_id: p.transaction_id,
                        stream_id: p.stream_id,
                    },
                    p.note,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(name: &str, txn: f64, info: Option<(&str, &str)>) -> Command {
        Command {
            name: name.into(),
            transaction_id: txn,
            transaction_id_missing: false,
            command_object: None,
            arguments: info
                .map(|(level, code)| {
                    vec![Amf0Value::object([
                        ("level", Amf0Value::string(level)),
                        ("code", Amf0Value::string(code)),
                        ("description", Amf0Value::string("why")),
                    ])]
                })
                .unwrap_or_default(),
            amf3: false,
        }
    }

    #[test]
    fn answered_commands_leave_nothing_and_an_error_status_is_named() {
        let mut l = CommandLedger::<()>::new();
        let c = Side::Client;
        let s = Side::Server;
        assert!(l
            .command(c, 0, &command("connect", 1.0, None), ())
            .is_empty());
        assert!(l
            .command(c, 0, &command("releaseStream", 2.0, None), ())
            .is_empty());
        assert!(l
            .command(c, 0, &command("createStream", 3.0, None), ())
            .is_empty());
        assert!(l
            .command(s, 0, &command("_result", 1.0, None), ())
            .is_empty());
        assert!(l
            .command(s, 0, &command("_result", 3.0, None), ())
            .is_empty());
        assert!(l.command(c, 1, &command("play", 4.0, None), ()).is_empty());
        assert_eq!(
            l.command(
                s,
                1,
                &command("onStatus", 0.0, Some(("error", "NetStream.Play.Failed"))),
                ()
            ),
            [DiagnosticKind::StatusError {
                stream_id: 1,
                code: "NetStream.Play.Failed".into(),
                description: "why".into(),
                answering: Some("play".into()),
            }]
        );
        // releaseStream was never answered, and needs not be.
        assert!(l.finish().is_empty());
    }

    #[test]
    fn a_publish_nobody_answers_is_named_at_the_end() {
        let mut l = CommandLedger::<()>::new();
        l.command(Side::Client, 0, &command("connect", 1.0, None), ());
        l.command(Side::Client, 0, &command("publish", 3.0, None), ());
        l.command(Side::Server, 0, &command("_result", 1.0, None), ());
        assert_eq!(
            l.finish(),
            [(
                Side::Server,
                DiagnosticKind::Unanswered {
                    command: "publish".into(),
                    transaction_id: 3.0,
                    stream_id: 0,
                },
                ()
            )]
        );
        // An onStatus on stream 0 whose code names publishing answers a publish on stream 1.
        let mut l = CommandLedger::<()>::new();
        l.command(Side::Client, 1, &command("publish", 5.0, None), ());
        let status = command("onStatus", 0.0, Some(("status", "NetStream.Publish.Start")));
        assert!(l.command(Side::Server, 0, &status, ()).is_empty());
        assert!(l.finish().is_empty());
    }

    #[test]
    fn a_rejected_connect_is_named_as_such() {
        let mut l = CommandLedger::<()>::new();
        l.command(Side::Client, 0, &command("connect", 1.0, None), ());
        let error = command(
            "_error",
            1.0,
            Some(("error", "NetConnection.Connect.Rejected")),
        );
        assert_eq!(
            l.command(Side::Server, 0, &error, ()),
            [DiagnosticKind::CommandRejected {
                command: "connect".into(),
                code: "NetConnection.Connect.Rejected".into(),
                description: "why".into(),
            }]
        );
        assert!(l.finish().is_empty());
    }
}
