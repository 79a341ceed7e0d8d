//! Agreement with Wireshark: for every capture, the RTMP messages replay decodes (type id, chunk
//! stream id, message stream id, length, command name) are the ones tshark's RTMPT dissector
//! reports, flow by flow and direction by direction, in order.
//!
//! tshark shows one RTMPT tree per reassembled message, under the header of the chunk that
//! started it; a type 1-3 header leaves out what it inherits, so the fields are carried forward
//! per chunk stream as the chunk reader does. The command name is the body's first AMF string.

mod support;

use rtmp_probe::capture::CaptureReader;
use rtmp_probe::protocol::message::Message;
use rtmp_probe::replay::{replay_each_message, FlowReport};
use rtmp_probe::transcript::{DiagnosticId, Direction};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::trials::{every_shared_capture, Need};

/// One message as both decoders can list it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    csid: u32,
    type_id: u8,
    stream_id: u32,
    len: u32,
    /// The command or data name (types 15, 17, 18, 20); empty for the others.
    name: String,
}

impl fmt::Display for Listed {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "csid={} type={} msid={} len={} {}",
            self.csid, self.type_id, self.stream_id, self.len, self.name
        )
    }
}

/// Whether the message type carries a name both sides report.
fn named(type_id: u8) -> bool {
    matches!(type_id, 15 | 17 | 18 | 20)
}

/// Messages by (source port, destination port), in stream order.
type Lists = BTreeMap<(u16, u16), Vec<Listed>>;

/// replay's view: every message of every RTMP flow, and the flows.
fn ours(path: &Path) -> (Lists, Vec<FlowReport>) {
    let reader = CaptureReader::new(std::fs::File::open(path).expect("open")).expect("a capture");
    // By flow id and whether the client sent it.
    let mut by_flow: BTreeMap<(usize, bool), Vec<Listed>> = BTreeMap::new();
    let (flows, error) = replay_each_message(
        reader,
        |_| {},
        |seen| {
            let raw = seen.message;
            let name = if named(raw.type_id) {
                match Message::decode(raw) {
                    Ok(Message::Command(c)) => c.name,
                    Ok(Message::Data { values, .. }) => values
                        .first()
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string(),
                    _ => String::new(),
                }
            } else {
                String::new()
            };
            by_flow
                .entry((seen.flow, seen.direction == Direction::ClientToServer))
                .or_default()
                .push(Listed {
                    csid: raw.csid,
                    type_id: raw.type_id,
                    stream_id: raw.stream_id,
                    len: raw.payload.len() as u32,
                    name,
                });
        },
    );
    assert!(error.is_none(), "{}: {error:?}", path.display());
    let mut lists = Lists::new();
    for flow in flows.iter().filter(|f| f.rtmp) {
        let (c, s) = (flow.client.port(), flow.server.port());
        for (key, from_client, counted) in [
            ((c, s), true, flow.messages.0),
            ((s, c), false, flow.messages.1),
        ] {
            let list = by_flow.remove(&(flow.id, from_client)).unwrap_or_default();
            assert_eq!(
                list.len() as u64,
                counted,
                "{}: every message the flow counts is handed over",
                path.display()
            );
            assert!(
                lists.insert(key, list).is_none(),
                "{}: two RTMP flows between ports {key:?}",
                path.display()
            );
        }
    }
    (lists, flows)
}

/// tshark's view, with the RTMPT dissector also on `ports` besides 1935.
fn tsharks(path: &Path, ports: &BTreeSet<u16>) -> TsharkLists {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        // The dissector reassembles no message over its maximum packet size, a preference of
        // 32 KiB by default: OBS's 720p keyframes are larger, and after the port 6002 server's
        // Set Chunk Size 60000 it loses the connect _result too.
        .args(["-o", "rtmpt.max_packet_size:16777216"])
        // tshark's TCP layer passes out-of-order segments up as they come unless told to wait
        // for the hole to fill, and then the dissector reads a later segment as the next
        // chunk (the 500 ms delay capture has 34 such segments); replay's reassembly waits.
        .args(["-o", "tcp.reassemble_out_of_order:TRUE"]);
    for port in ports.iter().filter(|&&p| p != 1935) {
        cmd.args(["-d", &format!("tcp.port=={port},rtmpt")]);
    }
    cmd.arg("-r").arg(path).args(["-Y", "rtmpt", "-T", "pdml"]);
    let out = cmd.output().expect("running tshark");
    assert!(
        out.status.success(),
        "tshark on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_pdml(&String::from_utf8_lossy(&out.stdout))
}

/// One RTMPT tree's header as tshark shows it: only the fields its chunk header carried.
#[derive(Default)]
struct Header {
    format: Option<u8>,
    csid: Option<u32>,
    type_id: Option<u8>,
    stream_id: Option<u32>,
    len: Option<u32>,
    name: Option<String>,
}

/// Where tshark met a chunk header it could not complete.
#[derive(Debug)]
struct Lost {
    /// How many messages of that direction came before.
    at: usize,
    text: String,
}

/// tshark's messages, and where in each direction (if anywhere) it met a header it could not
/// complete.
#[derive(Default)]
struct TsharkLists {
    messages: Lists,
    lost: BTreeMap<(u16, u16), Lost>,
}

/// Reads tshark's PDML line by line: every `<field>` is one line, in tree order.
fn parse_pdml(pdml: &str) -> TsharkLists {
    let mut lists = TsharkLists::default();
    // What each chunk stream's last header said, per direction.
    let mut inherited: BTreeMap<(u16, u16, u32), Listed> = BTreeMap::new();
    let (mut src, mut dst) = (0u16, 0u16);
    let mut current: Option<Header> = None;
    let mut finish = |h: Option<Header>, src: u16, dst: u16, lists: &mut TsharkLists| {
        let Some(h) = h else { return };
        // Handshake trees have no chunk header.
        let (Some(format), Some(csid)) = (h.format, h.csid) else {
            return;
        };
        let key = (src, dst, csid);
        let before = inherited.get(&key);
        // A type 1 header opening a chunk stream carries all but the message stream, which
        // tshark (like FFmpeg and replay) then takes from zeroed state: 0.
        let opened = before.is_none() && h.type_id.is_some() && h.len.is_some();
        let (Some(type_id), Some(stream_id), Some(len)) = (
            h.type_id.or(before.map(|b| b.type_id)),
            h.stream_id
                .or(before.map(|b| b.stream_id))
                .or(opened.then_some(0)),
            h.len.or(before.map(|b| b.len)),
        ) else {
            // A header that inherits from nothing: tshark read a chunk header where there is
            // none. Noted once per direction, as where tshark lost its way.
            let list = lists.messages.entry((src, dst)).or_default();
            let at = list.len();
            lists.lost.entry((src, dst)).or_insert(Lost {
                at,
                text: format!(
                    "a type {format} header on chunk stream {csid} with nothing to inherit"
                ),
            });
            return;
        };
        let listed = Listed {
            csid,
            type_id,
            stream_id,
            len,
            name: String::new(),
        };
        inherited.insert(key, listed.clone());
        let name = if named(listed.type_id) {
            h.name.unwrap_or_default()
        } else {
            String::new()
        };
        lists
            .messages
            .entry((src, dst))
            .or_default()
            .push(Listed { name, ..listed });
    };
    for line in pdml.lines() {
        let line = line.trim_start();
        if line.starts_with("<packet>") || line.starts_with("<proto ") {
            finish(current.take(), src, dst, &mut lists);
            if line.starts_with("<proto name=\"rtmpt\"") {
                current = Some(Header::default());
            }
            continue;
        }
        let Some((name, show)) = field(line) else {
            continue;
        };
        match (name, current.as_mut()) {
            ("tcp.srcport", _) => src = show.parse().expect("tcp.srcport"),
            ("tcp.dstport", _) => dst = show.parse().expect("tcp.dstport"),
            ("rtmpt.header.format", Some(h)) => h.format = Some(number(show) as u8),
            ("rtmpt.header.csid", Some(h)) => h.csid = Some(csid(line, show)),
            ("rtmpt.header.typeid", Some(h)) => h.type_id = Some(number(show) as u8),
            ("rtmpt.header.streamid", Some(h)) => h.stream_id = Some(number(show)),
            ("rtmpt.header.bodysize", Some(h)) => h.len = Some(number(show)),
            ("amf.string", Some(h)) if h.name.is_none() => h.name = Some(unescape(show)),
            _ => {}
        }
    }
    finish(current.take(), src, dst, &mut lists);
    lists
}

/// A `<field name="..." ... show="..."/>` line's name and shown value.
fn field(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("<field name=\"")?;
    let name = &rest[..rest.find('"')?];
    let at = rest.find(" show=\"")? + 7;
    let show = &rest[at..at + rest[at..].find('"')?];
    Some((name, show))
}

/// A chunk stream id from its field's bytes (`unmaskedvalue`): tshark shows the two-byte form's
/// id without its 64 and the three-byte form's as 1, so `show` is only the one-byte form's.
fn csid(line: &str, show: &str) -> u32 {
    let bytes = line
        .split(" unmaskedvalue=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|hex| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .unwrap_or_default();
    match bytes.as_slice() {
        [first, b1, ..] if first & 0x3f == 0 => 64 + u32::from(*b1),
        [first, b1, b2, ..] if first & 0x3f == 1 => 64 + u32::from(*b1) + 256 * u32::from(*b2),
        _ => number(show),
    }
}

fn number(show: &str) -> u32 {
    match show.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => show.parse(),
    }
    .unwrap_or_else(|_| panic!("tshark field value {show:?} is not a number"))
}

fn unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Both views of one capture.
struct Compared {
    ours: Lists,
    tshark: TsharkLists,
    flows: Vec<FlowReport>,
}

fn compare(path: &Path) -> Compared {
    let (ours, flows) = ours(path);
    let ports = flows
        .iter()
        .filter(|f| f.rtmp)
        .map(|f| f.server.port())
        .collect();
    let tshark = tsharks(path, &ports);
    Compared {
        ours,
        tshark,
        flows,
    }
}

/// The first difference between two lists, as a readable sentence, or None.
fn first_difference(ours: &[Listed], theirs: &[Listed]) -> Option<String> {
    let at = ours.iter().zip(theirs).position(|(a, b)| a != b);
    match at {
        Some(i) => Some(format!(
            "message {i} differs: replay {}, tshark {}",
            ours[i], theirs[i]
        )),
        None if ours.len() > theirs.len() => Some(format!(
            "replay has {} messages, tshark stops at {}; replay's next: {}",
            ours.len(),
            theirs.len(),
            ours[theirs.len()]
        )),
        None if ours.len() < theirs.len() => Some(format!(
            "tshark has {} messages, replay stops at {}; tshark's next: {}",
            theirs.len(),
            ours.len(),
            theirs[ours.len()]
        )),
        None => None,
    }
}

/// Asserts full agreement: the same flows and directions, and in each the same messages.
fn assert_agreement(name: &str, c: &Compared) {
    assert!(
        c.tshark.lost.is_empty(),
        "{name}: tshark lost its way: {:?}",
        c.tshark.lost
    );
    let keys: BTreeSet<_> = c.ours.keys().chain(c.tshark.messages.keys()).collect();
    for key in keys {
        let empty = Vec::new();
        let ours = c.ours.get(key);
        let theirs = c.tshark.messages.get(key).unwrap_or(&empty);
        let ours = ours.unwrap_or_else(|| {
            panic!(
                "{name}: tshark reports {} messages {}->{} where replay finds no RTMP flow",
                theirs.len(),
                key.0,
                key.1
            )
        });
        if let Some(d) = first_difference(ours, theirs) {
            panic!("{name} {}->{}: {d}", key.0, key.1);
        }
        eprintln!("{name} {}->{}: {} messages agree", key.0, key.1, ours.len());
    }
}

/// The capture files in a directory, in name order.
fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
        })
        .collect();
    files.sort();
    files
}

/// 10 % of this session's segments were corrupted on the wire; the capture holds the damaged
/// copies and, after them, the retransmissions the receiver asked for.
const CORRUPT: &str = "vlc-play-from-nginx-rtmp-corrupt10pct.pcapng";

/// tshark and every shared capture.
fn tshark_and_every_shared_capture() -> Vec<Need> {
    let mut needs = vec![Need::Program("tshark")];
    needs.extend(every_shared_capture());
    needs
}

fn every_shared_capture_lists_the_messages_tshark_lists() {
    let mut seen = 0;
    for name in support::SHARED_CAPTURES {
        if name.ends_with(CORRUPT) {
            continue; // its own test, below
        }
        let path = support::shared_capture(name);
        let c = compare(&path);
        assert!(
            c.ours.values().any(|l| !l.is_empty()),
            "{name}: replay decoded no message"
        );
        assert_agreement(name, &c);
        seen += 1;
    }
    assert!(seen >= 11, "only {seen} shared captures were compared");
}

fn on_the_corrupted_capture_tshark_loses_the_server_stream_where_replay_refuses_a_damaged_header() {
    let path = support::shared_capture(&format!("public/{CORRUPT}"));
    let c = compare(&path);
    let flow = c.flows.iter().find(|f| f.rtmp).expect("the VLC session");
    let (client, server) = (flow.client.port(), flow.server.port());
    // The client's side: full agreement.
    assert_eq!(
        first_difference(
            &c.ours[&(client, server)],
            &c.tshark.messages[&(client, server)]
        ),
        None
    );
    assert!(!c.tshark.lost.contains_key(&(client, server)));
    // The server's side: the same messages up to frame 2379, a segment whose TCP data offset
    // was damaged (12 words instead of 8), so that 16 payload bytes read as malformed options
    // and the payload seems to start 16 bytes late. The client's duplicate ACKs show it threw
    // that copy away; frame 2387 brings the bytes again. tshark takes the damaged copy and,
    // 16 bytes off, reads a type 2 header on a chunk stream that never had a full one; what
    // it lists after that is read at guessed offsets, no evidence either way, and is not
    // compared. replay refuses the damaged header, takes the retransmission and decodes the
    // rest of the session whole, to nginx's StreamEOF.
    let ours = &c.ours[&(server, client)];
    let theirs = &c.tshark.messages[&(server, client)];
    let lost = &c.tshark.lost[&(server, client)];
    assert_eq!(
        lost.text,
        "a type 2 header on chunk stream 61 with nothing to inherit"
    );
    assert_eq!(lost.at, 377, "tshark loses its way after 377 messages");
    assert_eq!(first_difference(&ours[..lost.at], &theirs[..lost.at]), None);
    assert_eq!(ours.len(), 417, "replay decodes on");
    let last_control = ours.iter().rev().find(|m| !matches!(m.type_id, 8 | 9));
    assert_eq!(
        last_control.map(|m| (m.type_id, m.len)),
        Some((4, 6)),
        "the stream ends with User Control StreamEOF"
    );
    let diagnostics = flow.transcript.diagnostic_ids();
    assert!(
        !diagnostics
            .iter()
            .any(|d| matches!(d, DiagnosticId::ChunkError | DiagnosticId::CaptureGap)),
        "{diagnostics:?}"
    );
    // One damaged segment carries a corrupted port, which makes it a flow of its own: replay
    // does not take it for RTMP (its first byte is no C0), tshark reads it from port 1935 and
    // finds only a header with nothing to inherit.
    let stray: BTreeSet<_> = c
        .tshark
        .messages
        .keys()
        .chain(c.tshark.lost.keys())
        .filter(|&&k| k != (client, server) && k != (server, client))
        .collect();
    assert_eq!(stray.len(), 1, "{stray:?}");
    let stray = **stray.first().expect("one");
    assert!(c.tshark.messages.get(&stray).is_none_or(|l| l.is_empty()));
    assert_eq!(c.tshark.lost[&stray].at, 0);
    let ours_stray = c
        .flows
        .iter()
        .find(|f| {
            (f.server.port(), f.client.port()) == stray
                || (f.client.port(), f.server.port()) == stray
        })
        .expect("replay has the stray segment's flow");
    assert!(!ours_stray.rtmp);
}

fn every_own_capture_lists_the_messages_tshark_lists() {
    let files = captures_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("captures"));
    assert!(files.len() >= 6, "captures/ holds {files:?}");
    for path in files {
        let c = compare(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            c.ours.values().any(|l| !l.is_empty()),
            "{name}: replay decoded no message"
        );
        assert_agreement(&name, &c);
    }
}

/// Issue 24: the hand-built sequences (tests/support/violations.rs) as tshark dissects them,
/// against replay's reading: tshark reads a type-1 opening, a length change mid-message (as a
/// new message), extended timestamps repeated, timestamps across 2^32 and interleaved chunks
/// as replay does; at a type-2 or type-3 opening, a type 1 or 2 header repeating the length in
/// the middle of a message, or type-3 chunks without the extended timestamp, it stops listing
/// the direction (replay reads on, as FFmpeg and nginx-rtmp do).
fn the_violation_sequences_as_tshark_dissects_them() {
    let dir = tempfile::tempdir().unwrap();
    for (i, sequence) in support::violations::sequences().iter().enumerate() {
        let name = &sequence.name;
        let path = dir.path().join(format!("sequence-{i}.pcap"));
        std::fs::write(&path, support::violations::pcap(sequence)).unwrap();
        let c = compare(&path);
        let flow = c.flows.iter().find(|f| f.rtmp).expect("the flow");
        let key = (flow.client.port(), flow.server.port());
        let ours = &c.ours[&key];
        let empty = Vec::new();
        let theirs = c.tshark.messages.get(&key).unwrap_or(&empty);
        let lost = c.tshark.lost.get(&key);
        let before = support::violations::PRELUDE + sequence.before;
        let agrees = lost.is_none() && first_difference(ours, theirs).is_none();
        eprintln!(
            "{name:45} | replay {} messages, tshark {}{}",
            ours.len(),
            theirs.len(),
            if agrees {
                " (the same)".to_string()
            } else {
                format!(", stops after the {before} before the violation")
            }
        );
        let stops = name.contains("type-2 opening")
            || name.contains("type-3 opening")
            || name.contains("same length")
            || name.contains("type-2 header")
            || name.contains("omitted");
        if stops {
            assert_eq!(lost.map(|l| l.at), None, "{name}");
            assert_eq!(theirs.len(), before, "{name}");
            assert_eq!(first_difference(&ours[..before], theirs), None, "{name}");
        } else {
            assert!(agrees, "{name}: {:?}", first_difference(ours, theirs));
        }
    }
}

fn main() {
    support::trials::run(vec![
        trial!(every_shared_capture_lists_the_messages_tshark_lists, tshark_and_every_shared_capture()),
        trial!(on_the_corrupted_capture_tshark_loses_the_server_stream_where_replay_refuses_a_damaged_header, [Need::Program("tshark"), Need::SharedCapture("public/vlc-play-from-nginx-rtmp-corrupt10pct.pcapng")]),
        trial!(every_own_capture_lists_the_messages_tshark_lists, [Need::Program("tshark")]),
        trial!(the_violation_sequences_as_tshark_dissects_them, [Need::Program("tshark")]),
    ]);
}
