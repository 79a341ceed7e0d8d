//! The commands a client sends after the handshake (connect, createStream, publish, play, ...)
//! and what the server answers, with the media of a published stream.

use super::{Action, Publishing, ServerSession};
use crate::media::MediaStats;
use crate::protocol::amf0::Amf0Value;
use crate::protocol::chunk::RawMessage;
use crate::protocol::message::{self, Command, LimitType};
use crate::serve::personality::{CommandAnswer, ConnectResultShape, PublishAnswer};
use crate::transcript::DiagnosticId;
use crate::transcript::{EventKind, StreamMedia};

impl ServerSession {
    pub(super) fn handle_command(&mut self, raw: &RawMessage, command: Command) {
        let txn = command.transaction_id;
        let first_arg = || {
            command
                .arguments
                .first()
                .and_then(Amf0Value::as_str)
                .map(str::to_string)
        };
        match command.name.as_str() {
            "connect" => {
                if txn != 1.0 {
                    self.diagnostic(
                        DiagnosticId::CmdConnectTxn,
                        format!("connect used transaction id {txn}; the spec says it is always 1"),
                    );
                }
                let app = command
                    .command_object
                    .as_ref()
                    .and_then(|o| o.get("app"))
                    .and_then(Amf0Value::as_str);
                if app.is_none() {
                    self.diagnostic(
                        DiagnosticId::CmdConnectNoApp,
                        "connect carries no 'app' field".into(),
                    );
                }
                // The connection acknowledges by this window until the client announces one
                // (a strict personality's window is only enforced on our output).
                let window = (self.config.personality.replies.strict_ack_window)
                    .unwrap_or(self.config.window_ack_size);
                self.send(message::window_ack_size(window));
                self.send(message::set_peer_bandwidth(
                    self.config.window_ack_size,
                    LimitType::Dynamic,
                ));
                let replies = self.config.personality.replies;
                let chunk_size = replies.chunk_size.unwrap_or(self.config.chunk_size);
                // The connection writes what follows Set Chunk Size at that size.
                if replies.chunk_size_after_result {
                    self.send(match replies.connect_result {
                        ConnectResultShape::Standard => message::connect_result(txn),
                        shape => connect_result(txn, shape),
                    });
                    self.send(message::set_chunk_size(chunk_size));
                } else {
                    self.send(message::set_chunk_size(chunk_size));
                    self.send(match replies.connect_result {
                        ConnectResultShape::Standard => message::connect_result(txn),
                        shape => connect_result(txn, shape),
                    });
                }
                if let Some(csid) = replies.abort_after_connect {
                    self.send(message::abort(csid));
                }
            }
            "releaseStream" | "FCPublish"
                if self.config.personality.replies.release_and_fc_publish
                    != CommandAnswer::Result =>
            {
                if self.config.personality.replies.release_and_fc_publish == CommandAnswer::Error {
                    self.send(message::command(
                        0,
                        "_error",
                        txn,
                        Amf0Value::Null,
                        vec![call_failed(&command.name)],
                    ));
                }
            }
            "releaseStream" | "FCSubscribe" | "getStreamLength" | "_checkbw" => {
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Undefined],
                ));
            }
            "FCPublish" => {
                let name = first_arg().unwrap_or_default();
                self.send(message::on_fc_publish(&name));
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Undefined],
                ));
            }
            "createStream" => {
                let id = self.next_stream_id;
                self.next_stream_id += 1;
                self.created_streams.push(id);
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Number(id as f64)],
                ));
            }
            "publish" => {
                let name = first_arg().unwrap_or_default();
                if name.is_empty() {
                    // Wirecast stops this way instead of FCUnpublish/deleteStream.
                    self.diagnostic(
                        DiagnosticId::CmdPublishEmptyName,
                        "publish with an empty name: the client stops publishing (Wirecast does this)".into(),
                    );
                    self.stop_publishing();
                    return;
                }
                self.check_stream_created(raw.stream_id, "publish");
                self.stop_publishing();
                if self.config.personality.replies.publish_answer == PublishAnswer::BadName {
                    self.diagnostic(
                        DiagnosticId::CmdPublishBadName,
                        format!(
                            "'{name}' refused: this personality ({}) answers every publish with \
                             NetStream.Publish.BadName",
                            self.config.personality.name
                        ),
                    );
                    self.send(message::on_status(
                        raw.stream_id,
                        "error",
                        "NetStream.Publish.BadName",
                        &format!("{name} is already being published."),
                    ));
                    return;
                }
                self.publishing = Some(Publishing {
                    name: name.clone(),
                    stats: MediaStats::default(),
                    accepted: false,
                });
                self.actions.push_back(Action::Publish {
                    name,
                    stream_id: raw.stream_id,
                });
            }
            "play" => {
                let name = first_arg().unwrap_or_default();
                self.check_stream_created(raw.stream_id, "play");
                self.playing = Some((name.clone(), raw.stream_id));
                self.actions.push_back(Action::Play {
                    name,
                    stream_id: raw.stream_id,
                });
            }
            "FCUnpublish" => {
                self.send(message::command(
                    0,
                    "_result",
                    txn,
                    Amf0Value::Null,
                    vec![Amf0Value::Undefined],
                ));
                self.stop_publishing();
            }
            "deleteStream" | "closeStream" => {
                self.stop_publishing();
                if self.playing.take().is_some() {
                    self.actions.push_back(Action::StopPlaying);
                }
            }
            other => self.diagnostic(
                DiagnosticId::CmdUnknown,
                format!("command '{other}' is not one this server knows; no answer was sent"),
            ),
        }
    }

    fn check_stream_created(&mut self, stream_id: u32, command: &str) {
        if !self.created_streams.contains(&stream_id) {
            self.diagnostic(
                DiagnosticId::CmdStreamNotCreated,
                format!(
                    "{command} on message stream {stream_id}, which createStream did not give out"
                ),
            );
        }
    }

    pub(super) fn handle_data(&mut self, raw: RawMessage) {
        if let Some(p) = &self.publishing {
            let name = p.name.clone();
            self.actions.push_back(Action::Media { name, message: raw });
        }
    }

    pub(super) fn handle_media(&mut self, raw: RawMessage) {
        let Some(p) = self.publishing.as_mut() else {
            self.diagnostic(
                DiagnosticId::MediaNotPublishing,
                format!(
                    "media (type {}) arrived while nothing is being published",
                    raw.type_id
                ),
            );
            return;
        };
        p.stats.add(raw.type_id, raw.timestamp, &raw.payload);
        let name = p.name.clone();
        self.actions.push_back(Action::Media { name, message: raw });
    }

    pub(super) fn stop_publishing(&mut self) {
        if let Some(p) = self.publishing.take() {
            self.event(EventKind::MediaSummary {
                stream: p.name.clone(),
                media: StreamMedia::from(&p.stats),
            });
            if p.accepted {
                self.actions.push_back(Action::Unpublish { name: p.name });
            } else {
                self.withdraw_publish(&p.name);
            }
        }
    }

    /// Takes back a Publish action the driver has not answered yet, with the media queued after
    /// it: the publication is over, and the hub must not claim the name for a connection that
    /// no longer publishes it (or has closed: the name would stay taken for good).
    fn withdraw_publish(&mut self, name: &str) {
        let request = self
            .actions
            .iter()
            .rposition(|a| matches!(a, Action::Publish { name: n, .. } if n == name));
        if let Some(at) = request {
            let later = self.actions.split_off(at);
            self.actions.extend(
                later
                    .into_iter()
                    .skip(1)
                    .filter(|a| !matches!(a, Action::Media { name: n, .. } if n == name)),
            );
        }
    }
}

/// The information object of an `_error` for a call the server does not take.
fn call_failed(method: &str) -> Amf0Value {
    Amf0Value::Object(vec![
        ("level".into(), Amf0Value::String("error".into())),
        (
            "code".into(),
            Amf0Value::String("NetConnection.Call.Failed".into()),
        ),
        (
            "description".into(),
            Amf0Value::String(format!("{method} is not supported by this server.")),
        ),
    ])
}

/// connect's `_result` in the personality's shape.
fn connect_result(txn: f64, shape: ConnectResultShape) -> RawMessage {
    let mut properties = vec![
        ("fmsVer", Amf0Value::string("FMS/3,0,1,123")),
        ("capabilities", Amf0Value::Number(31.0)),
    ];
    let mut info = vec![
        ("level", Amf0Value::string("status")),
        ("code", Amf0Value::string("NetConnection.Connect.Success")),
        ("description", Amf0Value::string("Connection succeeded.")),
        ("objectEncoding", Amf0Value::Number(0.0)),
    ];
    let properties = match shape {
        ConnectResultShape::Standard => Amf0Value::object(properties),
        ConnectResultShape::NoProperties => Amf0Value::Null,
        ConnectResultShape::ExtraFields => {
            properties.push(("mode", Amf0Value::Number(1.0)));
            let data = vec![
                ("version".to_string(), Amf0Value::string("3,5,3,888")),
                ("srs_server".to_string(), Amf0Value::string("SRS/5.0.0")),
                ("srs_id".to_string(), Amf0Value::Number(1.0)),
            ];
            info.push((
                "data",
                Amf0Value::EcmaArray {
                    count_hint: data.len() as u32,
                    pairs: data,
                },
            ));
            Amf0Value::object(properties)
        }
    };
    message::command(0, "_result", txn, properties, vec![Amf0Value::object(info)])
}
