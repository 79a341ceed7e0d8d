//! The server meets each chunk stream violation a client's bytes can carry: named by its id
//! every time; read through by default, as nginx-rtmp reads it; closed on with `--strict`
//! (`SessionConfig::strict`); and bytes that cannot be framed close the session either way.

use super::tests::{
    client_read, diagnostic_ids, established, established_with, events, server_messages, writes,
};
use super::*;
use crate::protocol::amf0::Amf0Value;

/// A chunk header, its basic header in the form the chunk stream id asks for.
fn header(fmt: u8, csid: u32, ts: u32, len: usize, type_id: u8, msid: u32) -> Vec<u8> {
    let mut h = match csid {
        2..=63 => vec![fmt << 6 | csid as u8],
        64..=319 => vec![fmt << 6, (csid - 64) as u8],
        _ => vec![fmt << 6 | 1, (csid - 64) as u8, ((csid - 64) >> 8) as u8],
    };
    if fmt < 3 {
        h.extend_from_slice(&ts.min(0xFF_FFFF).to_be_bytes()[1..]);
    }
    if fmt < 2 {
        h.extend_from_slice(&(len as u32).to_be_bytes()[1..]);
        h.push(type_id);
    }
    if fmt == 0 {
        h.extend_from_slice(&msid.to_le_bytes());
    }
    if fmt < 3 && ts >= 0xFF_FFFF {
        h.extend_from_slice(&ts.to_be_bytes());
    }
    h
}

/// connect to "live", long enough (about 200 bytes) to take two chunks of 128.
fn connect_payload() -> Bytes {
    message::command(
        0,
        "connect",
        1.0,
        Amf0Value::object([
            ("app", Amf0Value::string("live")),
            (
                "tcUrl",
                Amf0Value::string(format!("rtmp://h/live/{}", "x".repeat(150))),
            ),
        ]),
        vec![],
    )
    .payload
}

/// connect in two chunks on chunk stream 3, its second chunk under `second` (a header of the
/// chunk's own making) instead of a type-3 header.
fn connect_with_second_header(second: &[u8]) -> Vec<u8> {
    let p = connect_payload();
    let mut b = header(0, 3, 0, p.len(), 20, 0);
    b.extend_from_slice(&p[..128]);
    b.extend_from_slice(second);
    b.extend_from_slice(&p[128..]);
    b
}

/// One class of violation: the client's bytes after the handshake, and whether the server can
/// read what they carry (the connect, or a createStream after it).
struct Class {
    name: &'static str,
    bytes: Vec<u8>,
    id: DiagnosticId,
    /// The answer the client gets when the server reads through.
    answer: &'static str,
}

fn classes() -> Vec<Class> {
    let len = connect_payload().len();
    let connect = connect_with_second_header(&[0xC3]);
    let create = message::command(0, "createStream", 2.0, Amf0Value::Null, vec![]).payload;
    let mut classes = Vec::new();
    for (fmt, csid) in [(1, 5), (1, 70), (1, 400), (2, 70), (3, 400)] {
        // connect as it should be, then createStream opening a chunk stream with a type
        // `fmt` header: a type 1 header carries what createStream needs; types 2 and 3 open
        // an empty message of type 0 (zeroed state) and createStream follows on its own.
        let mut bytes = connect.clone();
        if fmt == 1 {
            bytes.extend(header(1, csid, 0, create.len(), 20, 0));
        } else {
            bytes.extend(header(fmt, csid, 0, 0, 0, 0));
            bytes.extend(header(0, 3, 0, create.len(), 20, 0));
        }
        bytes.extend_from_slice(&create);
        classes.push(Class {
            name: ["", "type-1 opening", "type-2 opening", "type-3 opening"][fmt as usize],
            bytes,
            id: DiagnosticId::ChunkOpenedFromZeroState,
            answer: "_result #2",
        });
    }
    classes.push(Class {
        name: "type-1 header mid-message, same length",
        bytes: connect_with_second_header(&header(1, 3, 0, len, 20, 0)),
        id: DiagnosticId::ChunkHeaderMidMessage,
        answer: "_result #1",
    });
    classes.push(Class {
        name: "type-2 header mid-message",
        bytes: connect_with_second_header(&header(2, 3, 0, 0, 0, 0)),
        id: DiagnosticId::ChunkHeaderMidMessage,
        answer: "_result #1",
    });
    // A type 1 header saying another length starts another message: the partial connect is
    // dropped, and the whole connect that follows under it is answered.
    let p = connect_payload();
    let mut bytes = header(0, 3, 0, p.len() + 40, 20, 0);
    bytes.extend_from_slice(&[0; 128]);
    bytes.extend(header(1, 3, 0, p.len(), 20, 0));
    bytes.extend_from_slice(&p[..128]);
    bytes.push(0xC3);
    bytes.extend_from_slice(&p[128..]);
    classes.push(Class {
        name: "type-1 header mid-message, another length",
        bytes,
        id: DiagnosticId::ChunkPartialDropped,
        answer: "_result #1",
    });
    // connect stamped past 0xFFFFFF, its type-3 chunk without the extended timestamp.
    let mut bytes = header(0, 3, 0x0100_0000, p.len(), 20, 0);
    bytes.extend_from_slice(&p[..128]);
    bytes.push(0xC3);
    bytes.extend_from_slice(&p[128..]);
    classes.push(Class {
        name: "extended timestamp omitted on type 3",
        bytes,
        id: DiagnosticId::ChunkExtTsType3Omitted,
        answer: "_result #1",
    });
    classes
}

fn strict_session() -> ServerSession {
    established_with(SessionConfig {
        strict: true,
        ..SessionConfig::default()
    })
}

/// The commands the server wrote, as `name #txn`.
fn answers(written: &[Bytes]) -> Vec<String> {
    server_messages(written)
        .into_iter()
        .filter_map(|m| match m {
            Message::Command(c) => Some(format!("{} #{}", c.name, c.transaction_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn by_default_each_violation_is_named_and_read_through() {
    for class in classes() {
        let mut s = established("reference");
        client_read(&mut s, 20, &class.bytes);
        let ids = diagnostic_ids(&events(&mut s));
        assert!(ids.contains(&class.id), "{}: {ids:?}", class.name);
        assert!(
            !ids.contains(&DiagnosticId::ChunkError),
            "{}: {ids:?}",
            class.name
        );
        assert_eq!(s.close_reason(), None, "{}", class.name);
        let answers = answers(&writes(&mut s));
        assert!(
            answers.iter().any(|a| a == class.answer),
            "{}: {answers:?}",
            class.name
        );
    }
}

#[test]
fn strict_names_each_violation_and_closes() {
    for class in classes() {
        let mut s = strict_session();
        client_read(&mut s, 20, &class.bytes);
        let ids = diagnostic_ids(&events(&mut s));
        assert!(ids.contains(&class.id), "{}: {ids:?}", class.name);
        let reason = s.close_reason();
        assert!(
            matches!(reason, Some(CloseCause::Strict { id, .. }) if *id == class.id),
            "{}: {reason:?}",
            class.name
        );
        // What came after the violation was not read: the message it was in, or the
        // createStream after it, got no answer.
        let answers = answers(&writes(&mut s));
        assert!(
            !answers.iter().any(|a| a == class.answer),
            "{}: {answers:?}",
            class.name
        );
    }
}

#[test]
fn bytes_that_cannot_be_framed_close_the_session_either_way() {
    // Set Chunk Size 0: no chunk can be read at that size.
    let mut bytes = header(0, 2, 0, 4, 1, 0);
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    for strict in [false, true] {
        let mut s = if strict {
            strict_session()
        } else {
            established("reference")
        };
        client_read(&mut s, 20, &bytes);
        let ids = diagnostic_ids(&events(&mut s));
        assert_eq!(ids, [DiagnosticId::ChunkError], "strict: {strict}");
        assert!(
            matches!(s.close_reason(), Some(CloseCause::ChunkStreamError(_))),
            "strict: {strict}: {:?}",
            s.close_reason()
        );
    }
}
