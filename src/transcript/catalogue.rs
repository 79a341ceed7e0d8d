//! The diagnostics catalogue: every id the tool puts in a transcript or a verdict, defined once.
//!
//! An id names one event whatever reads the bytes (serve, the emulators, replay), so an entry
//! says what the event means, how much it matters and what it rests on: a section of the RTMP
//! specification (Adobe, December 2012) in our words, or the behaviour of a real peer we model.
//! `rtmp-probe explain ID` prints an entry. Debug builds check every event's id against this
//! list where the event is made ([`super::EventKind::diagnostic`],
//! [`super::EventKind::handshake`]), and a test scans `src/` for ids the list lacks and for
//! entries nothing emits.
//!
//! This file is long because it is one table of data; the code is the few functions at its top.
//!
//! # Example
//!
//! ```rust
//! use rtmp_probe::transcript::{catalogue, Severity};
//!
//! let entry = catalogue::lookup("chunk.ext-ts-type3-omitted").expect("a catalogued id");
//! assert_eq!(entry.severity, Severity::Warning);
//! assert_eq!(entry.stage.to_string(), "chunk");
//! assert!(entry.source.contains("RTMP specification 5.3.1.3"));
//! // `rtmp-probe explain ID` prints the entry's Display:
//! let explained = entry.to_string();
//! assert!(explained.starts_with("id:       chunk.ext-ts-type3-omitted\nkind:     diagnostic\n"));
//! // A mistyped id is not in the catalogue; the closest ones are what it probably meant.
//! assert!(catalogue::lookup("chunk.ext-ts-omitted").is_none());
//! assert_eq!(catalogue::closest("chunk.ext-ts-type3-omited", 1), ["chunk.ext-ts-type3-omitted"]);
//! ```

use super::Severity;
use serde::Serialize;
use std::fmt;

/// Where in a session an id arises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// TCP: connecting, writing, the peer closing or resetting.
    Connection,
    /// C0/C1/C2 and S0/S1/S2.
    Handshake,
    /// The chunk stream: headers, chunk sizes, extended timestamps.
    Chunk,
    /// Messages as such: decoding, the chunk stream protocol control travels on.
    Message,
    /// NetConnection and NetStream commands (connect, createStream, publish, play, onStatus).
    Command,
    /// Audio and video.
    Media,
    /// The capture a replay reads (missing bytes, reassembly).
    Capture,
    /// The tool's own running of a case or a server (budgets, pcap files, companions).
    Run,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connection => "connection",
            Stage::Handshake => "handshake",
            Stage::Chunk => "chunk",
            Stage::Message => "message",
            Stage::Command => "command",
            Stage::Media => "media",
            Stage::Capture => "capture",
            Stage::Run => "run",
        })
    }
}

/// Whether an id is a diagnostic (a `diagnostic` event or an emulator finding) or an
/// observation (a `handshake` event: a fact about the peer, judged by whoever reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Diagnostic,
    Observation,
    /// Both: an observation that an emulated client which insists on the opposite also reports
    /// as a diagnostic.
    Both,
}

/// One id and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: &'static str,
    pub kind: Kind,
    /// The severity the tool gives it. Observations are `info`: they state a fact.
    pub severity: Severity,
    /// Raised to `error` when the emulated client's profile insists (it then stops the case).
    pub escalates: bool,
    pub stage: Stage,
    /// What it means, in one line.
    pub meaning: &'static str,
    /// The requirement or the real implementation it rests on.
    pub source: &'static str,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "id:       {}", self.id)?;
        let kind = match self.kind {
            Kind::Diagnostic => "diagnostic",
            Kind::Observation => "observation",
            Kind::Both => "observation and diagnostic",
        };
        writeln!(f, "kind:     {kind}")?;
        let escalates = if self.escalates {
            " (error when the emulated client's profile insists)"
        } else {
            ""
        };
        writeln!(f, "severity: {}{escalates}", self.severity)?;
        writeln!(f, "stage:    {}", self.stage)?;
        writeln!(f, "meaning:  {}", self.meaning)?;
        write!(f, "source:   {}", self.source)
    }
}

/// The entry of `id`, if the catalogue has one.
pub fn lookup(id: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.id == id)
}

/// Every entry, in catalogue order (by stage, then as the session meets them).
pub fn entries() -> &'static [Entry] {
    ENTRIES
}

/// The catalogue's ids closest to `id` (by edit distance, then by a shared prefix), best first:
/// what a mistyped id probably meant.
pub fn closest(id: &str, at_most: usize) -> Vec<&'static str> {
    let mut scored: Vec<(f64, &'static str)> = ENTRIES
        .iter()
        .map(|e| (strsim::normalized_damerau_levenshtein(id, e.id), e.id))
        .filter(|(score, other)| *score >= 0.5 || other.contains(id))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(at_most).map(|(_, id)| id).collect()
}

/// The severity the catalogue gives `id`; `warning` for an id it lacks (debug builds refuse
/// those where the event is made).
pub fn severity(id: &str) -> Severity {
    lookup(id).map_or(Severity::Warning, |e| e.severity)
}

/// Panics in debug builds when `id` is not in the catalogue: an id that is emitted must be
/// explainable. Release builds emit it anyway rather than lose the event.
#[track_caller]
pub fn debug_check(id: &str) {
    debug_assert!(
        lookup(id).is_some(),
        "id '{id}' is not in the diagnostics catalogue (src/transcript/catalogue.rs)"
    );
}

/// [`debug_check`] of an event's id, if it has one, and of a diagnostic's severity (the
/// catalogue's, or `error` where the entry escalates): for the places events are collected,
/// which also see events made as struct literals rather than with the constructors.
#[track_caller]
pub fn debug_check_event(kind: &super::EventKind) {
    match kind {
        super::EventKind::Handshake { id, .. } => debug_check(id),
        super::EventKind::Diagnostic { id, severity, .. } => {
            debug_check(id);
            if let Some(entry) = lookup(id) {
                debug_assert!(
                    *severity == entry.severity || (entry.escalates && *severity == Error),
                    "diagnostic '{id}' emitted as {severity}; the catalogue says {}",
                    entry.severity
                );
            }
        }
        _ => {}
    }
}

const fn diag(
    id: &'static str,
    severity: Severity,
    stage: Stage,
    meaning: &'static str,
    source: &'static str,
) -> Entry {
    Entry {
        id,
        kind: Kind::Diagnostic,
        severity,
        escalates: false,
        stage,
        meaning,
        source,
    }
}

const fn seen(id: &'static str, meaning: &'static str, source: &'static str) -> Entry {
    Entry {
        id,
        kind: Kind::Observation,
        severity: Severity::Info,
        escalates: false,
        stage: Stage::Handshake,
        meaning,
        source,
    }
}

use Severity::{Error, Info, Warning};
use Stage::{Capture, Chunk, Command, Connection, Handshake, Media, Message, Run};

const SPEC_HS: &str = "RTMP specification 5.2 (handshake): C0/S0 carry the version, C1/S1 a time, \
                       zeros and random bytes, C2/S2 echo the peer's C1/S1";
const DIGEST: &str = "the digest handshake of Flash Player and FMS, as FFmpeg rtmpproto.c and \
                      librtmp handshake.h implement it (HMAC-SHA256 over C1/S1 at one of two \
                      offsets); not in the published specification";

#[rustfmt::skip]
static ENTRIES: &[Entry] = &[
    // ----- connection -----
    diag("tcp.connect-timeout", Error, Connection,
        "the TCP connection to the server was not established within the step timeout",
        "the emulated client's own limit (--step-timeout)"),
    diag("tcp.connect-failed", Error, Connection,
        "the TCP connection to the server was refused or failed",
        "the operating system's answer to connect()"),
    diag("tcp.stopped-accepting", Error, Connection,
        "the server refused (or did not answer) a connection after accepting earlier ones of the \
         same run: it was there and stopped accepting",
        "the operating system's answer to connect(), against the run's own count of accepted \
         connections; `ffmpeg -listen 1` serves one connection and exits"),
    diag("tcp.write-failed", Error, Connection,
        "writing to the server failed: the connection was already closed or reset",
        "the operating system's answer to write()"),
    diag("tcp.closed", Error, Connection,
        "the server closed the connection while the client still expected an answer",
        "a read of 0 bytes (FIN from the server)"),
    diag("tcp.reset", Error, Connection,
        "the server reset the connection while the client still expected an answer",
        "a read that failed with ECONNRESET (RST from the server)"),
    // ----- handshake: what the tool's drivers decide -----
    diag("hs.failed", Error, Handshake,
        "the client's handshake bytes could not be answered; the server closed",
        SPEC_HS),
    diag("hs.peer-closed", Error, Handshake,
        "the client closed the connection before the handshake was complete",
        SPEC_HS),
    diag("hs.c2-not-echo-strict", Error, Handshake,
        "C2 does not echo S1 and the server personality closes on that",
        "the strict-c2 personality: a server that checks C2 against S1 as the specification's \
         5.2.4 describes, where most servers ignore C2"),
    diag("hs.s0-before-c1", Info, Handshake,
        "the server wrote S0 after C0 alone, before the client sent C1",
        "RTMP specification 5.2.1: a server may send S0 and S1 once C0 has arrived"),
    diag("hs.server-waits-for-c1", Info, Handshake,
        "the server waited for C1 before writing S0; the specification allows it",
        "RTMP specification 5.2.1: the server MUST wait for C0 and MAY wait for C1 before S0/S1"),
    diag("hs.closed-after-c0", Error, Handshake,
        "the server closed the connection after C0, before C1 was sent",
        SPEC_HS),
    diag("hs.timeout", Error, Handshake,
        "S0/S1/S2 did not arrive within the step timeout",
        "the emulated client's own limit (--step-timeout)"),
    diag("hs.reset", Error, Handshake,
        "the server reset the connection during the handshake",
        SPEC_HS),
    diag("hs.closed", Error, Handshake,
        "the server closed the connection during the handshake",
        SPEC_HS),
    diag("hs.first-read-short", Error, Handshake,
        "the first read after C0+C1 held less than S0+S1 (1537 bytes); the modelled client resets then",
        "encoders that need S0+S1 in one read and reset otherwise (FFmpeg ticket 6453)"),
    diag("hs.c2-from-empty-s1", Error, Handshake,
        "S0 arrived before C1 was written; the modelled client builds C2 from its still-empty S1 \
         buffer on the next write-ready notification, crashes, and the connection is reset",
        "VideoCore 0.3.2 RTMPSession::streamStatusChanged -> handshake -> handshake2 \
         (docs/videocore-6453.md)"),
    diag("hs.client-rejected", Error, Handshake,
        "the emulated client rejected the server's S0/S1 as the modelled client does",
        "the profile's server validation (VideoCore's S0 check, FFmpeg rtmpproto.c \
         rtmp_handshake's S1 digest check when it plays)"),
    diag("hs.s0-not-3", Warning, Handshake,
        "S0 is not version 3; the client went on, or gave up where its profile's tolerance table \
         says its real client does",
        "RTMP specification 5.2.2: the version is 3; other values are deprecated or not \
         recognised"),
    Entry {
        escalates: true,
        kind: Kind::Both,
        severity: Warning,
        ..seen("hs.s2-not-echo",
            "S2 does not echo C1's random bytes (as an observation); as a diagnostic, the client \
             warns, or stops if its profile insists",
            "RTMP specification 5.2.4 (S2 echoes C1); clients that insist on it: mediamtx#1244, \
             StreamPack#284")
    },
    diag("hs.c2-signed-rejected", Error, Handshake,
        "the server closed right after the client's signed C2: it expected an echo of S1",
        "FFmpeg rtmpproto.c signs C2 when S1's digest validates; servers that insist on an echo \
         close then (go-rtmp before its PR #51)"),
    // ----- handshake: observations (protocol/handshake) -----
    seen("hs.c0-version", "C0 carries version 3", SPEC_HS),
    seen("hs.c0-version-unusual", "C0 carries a version other than 3", SPEC_HS),
    seen("hs.s0-version", "S0 carries version 3", SPEC_HS),
    seen("hs.s0-version-unusual", "S0 carries a version other than 3", SPEC_HS),
    seen("hs.c1-fields", "C1's time and version fields (the version names the client's build)", SPEC_HS),
    seen("hs.s1-fields", "S1's time and version fields (the version names the server's build)", SPEC_HS),
    seen("hs.c1-digest-valid", "C1 carries a valid client digest, in the layout named", DIGEST),
    seen("hs.s1-digest-valid", "S1 carries a valid server digest, in the layout named", DIGEST),
    seen("hs.c1-digest-invalid",
        "C1's version bytes claim a digest but none validates; servers fall back to the simple handshake",
        DIGEST),
    seen("hs.s1-digest-invalid",
        "S1's version bytes claim a digest but none validates",
        DIGEST),
    seen("hs.c1-no-digest", "C1 has zero version bytes and no digest: the simple handshake", SPEC_HS),
    seen("hs.s1-no-digest", "S1 has zero version bytes and no digest: the simple handshake", SPEC_HS),
    seen("hs.mode-simple", "the server answered with the simple handshake", SPEC_HS),
    seen("hs.mode-digest", "the server answered with the digest handshake", DIGEST),
    seen("hs.c2-signed-without-s1-digest",
        "S1 has no valid digest, yet the client signs C2 with the bytes where C1's layout puts one",
        "SRS srs_protocol_handshake.cpp (client side): it never checks S1 and always signs C2"),
    seen("hs.c2-signed", "C2 is signed with a digest keyed by S1's digest", DIGEST),
    seen("hs.s2-signed", "S2 is signed with a digest keyed by C1's digest", DIGEST),
    seen("hs.c2-echo", "C2 echoes S1 exactly", SPEC_HS),
    seen("hs.s2-echo", "S2 echoes C1 exactly", SPEC_HS),
    seen("hs.c2-echo-from-8",
        "C2 echoes S1 from byte 8 on; its time fields differ",
        "RTMP specification 5.2.4: C2's time2 is when S1 was read, so only the random part must match"),
    seen("hs.s2-echo-from-8",
        "S2 echoes C1 from byte 8 on; its time fields differ",
        "RTMP specification 5.2.4: S2's time2 is when C1 was read, so only the random part must match"),
    seen("hs.c2-zero", "C2 is all zero bytes", SPEC_HS),
    seen("hs.s2-zero", "S2 is all zero bytes", "servers that never fill S2 (joy4-like)"),
    seen("hs.c2-not-echo", "C2 does not echo S1's random bytes", SPEC_HS),
    seen("hs.client-segments",
        "how the client's handshake bytes were split into TCP segments, with the delays between them",
        "what the capture shows; servers that read C0+C1 in one read depend on it"),
    seen("hs.server-segments",
        "how the server's handshake bytes were split into TCP segments, with the delays between them",
        "what the capture shows; clients that read S0+S1 in one read depend on it"),
    // ----- chunk stream -----
    diag("chunk.error", Error, Chunk,
        "the chunk stream could not be parsed (or broke a limit); reading that direction stops",
        "RTMP specification 5.3 (chunk format) and the reader's limits"),
    diag("chunk.size-changed", Info, Chunk,
        "the peer changed its chunk size with Set Chunk Size",
        "RTMP specification 5.4.1 (Set Chunk Size)"),
    diag("chunk.ext-ts-type3-repeated", Info, Chunk,
        "type-3 chunks of a message with an extended timestamp repeat the 4-byte extended timestamp",
        "RTMP specification 5.3.1.3 (2012 text); FFmpeg rtmppkt.c and FMLE do the same"),
    diag("chunk.ext-ts-type3-omitted", Warning, Chunk,
        "type-3 chunks of a message with an extended timestamp omit it; readers that follow the 2012 \
         text lose sync once timestamps pass 0xFFFFFF (about 4 h 40 min)",
        "RTMP specification 5.3.1.3 has it repeated; rtmpdump (librtmp rtmp.c) and OBS before \
         2024 omit it"),
    diag("chunk.opened-from-zero-state", Warning, Chunk,
        "a chunk stream's first chunk had a type 1, 2 or 3 header; its missing fields were read as zero",
        "RTMP specification 5.3.1.2: a stream's first chunk carries a type 0 header; FFmpeg \
         rtmppkt.c, librtmp rtmp.c and GStreamer rtmp2 read such a chunk from zeroed state"),
    diag("chunk.aborted", Info, Chunk,
        "the peer sent Abort Message: the partial message on a chunk stream was discarded",
        "RTMP specification 5.4.2 (Abort Message)"),
    diag("chunk.partial-dropped", Warning, Chunk,
        "a new message header arrived on a chunk stream before its previous message was complete; the partial message was dropped",
        "RTMP specification 5.3.1: a message's chunks continue until its length is complete, and \
         5.3.1.2.4: a type 0, 1 or 2 header should not come in the middle of one (nothing says it \
         discards; Abort, 5.4.2, does). Receivers differ when the length changes: librtmp \
         (rtmp.c RTMP_ReadPacket) restarts the message, FFmpeg (rtmppkt.c: 'RTMP packet size \
         mismatch') fails the connection, nginx-rtmp goes on with the new length"),
    diag("chunk.header-mid-message", Warning, Chunk,
        "a type 0, 1 or 2 header came in the middle of a message and repeated its length; the \
         message went on with its first header's fields, as FFmpeg and nginx-rtmp read it",
        "RTMP specification 5.3.1.2.4: only type 3 headers should continue a message; FFmpeg \
         rtmppkt.c rtmp_packet_read_one_chunk() and nginx-rtmp ngx_rtmp_recv() continue the \
         partial message, librtmp rtmp.c RTMP_ReadPacket() restarts it on a type 0 or 1 header"),
    // ----- messages -----
    diag("msg.undecodable", Warning, Message,
        "a complete message could not be decoded as its type says; it was skipped",
        "RTMP specification 5.4 and 7 (message formats), AMF0 specification"),
    diag("msg.control-off-csid2", Warning, Message,
        "a protocol control message arrived on a chunk stream other than 2 or a message stream other than 0",
        "RTMP specification 5.4: protocol control messages use chunk stream 2 and message stream 0"),
    diag("msg.timeout", Error, Message,
        "the server sent nothing the client was waiting for within the step timeout",
        "the emulated client's own limit (--step-timeout)"),
    diag("ack.output-withheld", Info, Message,
        "the client's unacknowledged bytes exceed the window this server announced, so its output \
         waits for an Acknowledgement (reported the first time)",
        "RTMP specification 5.4.3 and 5.4.4: the peer acknowledges every window's worth of bytes; \
         personality window-ack-tiny-strict enforces it"),
    diag("ack.stale", Warning, Message,
        "an Acknowledgement lower than the previous one by less than 2^31: a stale or bogus value, \
         not the 32-bit sequence number wrapping; it was ignored",
        "RTMP specification 5.4.3 (Acknowledgement: the bytes received so far, 32 bits, so it \
         wraps); as in serial number arithmetic (RFC 1982), only a drop past half the range is \
         a wrap"),
    diag("ack.stalled", Error, Message,
        "the connection ended with output still waiting for the client's Acknowledgement: the \
         client did not acknowledge as the announced window asks",
        "RTMP specification 5.4.3 and 5.4.4; librtmp acknowledges by a tenth of Set Peer Bandwidth \
         whatever the window (rtmp.c ReadN)"),
    // ----- commands -----
    diag("cmd.connect-txn", Warning, Command,
        "connect used a transaction id other than 1",
        "RTMP specification 7.2.1.1: connect's transaction id is always 1"),
    diag("cmd.connect-no-app", Warning, Command,
        "connect's command object has no 'app' field",
        "RTMP specification 7.2.1.1: 'app' names the application to connect to"),
    diag("cmd.connect-rejected", Error, Command,
        "the server answered connect with _error",
        "RTMP specification 7.2.1.1 (connect's _result / _error)"),
    diag("cmd.createstream-rejected", Error, Command,
        "the server answered createStream with _error",
        "RTMP specification 7.2.1.3 (createStream)"),
    diag("cmd.createstream-no-id", Error, Command,
        "createStream's _result carries no stream id",
        "RTMP specification 7.2.1.3: the result's fourth value is the stream id"),
    diag("cmd.status-error", Error, Command,
        "the server answered publish or play with an error onStatus (replay: any error-level \
         onStatus, or an _error answering publish or play)",
        "RTMP specification 7.2.2 (NetStream onStatus codes)"),
    diag("cmd.unanswered", Warning, Command,
        "a command the client waits for (connect, createStream, publish, play) got no answer \
         from the peer before the connection ended",
        "RTMP specification 7.2.1.1 and 7.2.1.3 (_result or _error with the transaction id), \
         7.2.2.3 and 7.2.2.6 (onStatus answers play and publish); other commands (releaseStream, \
         FCPublish, getStreamLength) often go unanswered and their senders do not wait"),
    diag("cmd.status-missing", Warning, Command,
        "media arrived on the play stream before any onStatus NetStream.Play.Start; a client \
         that plays on media (FFmpeg) goes on, one that waits for the status ignores it",
        "RTMP specification 7.2.2: the server answers play with onStatus before the stream's media"),
    diag("cmd.status-wrong-stream", Warning, Command,
        "onStatus arrived on a message stream other than the one the client publishes or plays on; \
         a client that tolerates it goes on, one that does not ignores it and waits",
        "RTMP specification 7.2.2: NetStream answers go to the stream the command was sent on"),
    diag("cmd.stream-not-created", Warning, Command,
        "a stream command used a message stream id that createStream did not give out",
        "RTMP specification 7.2.1.3 and 7.2.2: NetStream commands use a created stream"),
    diag("cmd.publish-bad-name", Warning, Command,
        "publish named a stream that is already being published; answered NetStream.Publish.BadName",
        "nginx-rtmp ngx_rtmp_live_module (one publisher per name), FMS's BadName status"),
    diag("cmd.publish-empty-name", Info, Command,
        "publish with an empty name: the client stops publishing",
        "Wirecast stops publishing this way"),
    diag("cmd.unknown", Info, Command,
        "a command this server does not know; no answer was sent",
        "servers ignore commands they do not implement (nginx-rtmp, FFmpeg -listen)"),
    diag("play.waiting", Info, Command,
        "play named a stream that is not published yet; the player waits for a publisher",
        "nginx-rtmp's live module (players wait, idle streams)"),
    // ----- media -----
    diag("media.not-publishing", Warning, Media,
        "audio or video arrived while the client publishes nothing",
        "RTMP specification 7.2.2.6: media follows a successful publish"),
    diag("media.wrong-stream", Error, Media,
        "media arrived on another message stream than the play stream; the modelled client ignores it",
        "RTMP specification 7.2.2.1: media for a play follows on the stream play was sent on"),
    // ----- capture -----
    diag("capture.gap", Warning, Capture,
        "bytes of one direction are missing from the capture; decoding of that direction stops there",
        "TCP reassembly of the capture (sequence numbers with no segment carrying them)"),
    diag("capture.time-backwards", Info, Capture,
        "a frame of the flow was captured earlier than the frame before it; its events are shown \
         at the later time, so the transcript's time never runs backwards",
        "the capture's own timestamps (a capture merged from several interfaces, or a clock \
         stepped while capturing)"),
    diag("capture.close-ignored", Warning, Capture,
        "a segment carries a FIN or RST, yet the peer that sent it went on sending past it: the \
         flag was not acted on (a damaged or out-of-window segment), and the flow is decoded on",
        "RFC 9293 (a connection ends at an accepted FIN or RST; a damaged segment is dropped \
         and retransmitted) and the capture's sequence numbers"),
    diag("capture.after-close", Info, Capture,
        "one side went on sending after the other had closed or reset the connection; those \
         bytes are decoded, but nothing shows that the closed side read them",
        "RFC 9293 (after a FIN the peer may still send; after a close the bytes meet a reset)"),
    // ----- the tool's own running -----
    diag("serve.held-total", Error, Run,
        "all connections together hold more partial-message bytes than the server allows; this one was closed",
        "rtmp-probe serve's max_held_total budget (one peer cannot exhaust the server's memory)"),
    diag("serve.output-dropped", Warning, Run,
        "standard output was not read fast enough, so serve dropped lines of its output (counted by connection) rather than stall its connections; files given by --record and --pcap never drop",
        "rtmp-probe serve's bounded output queue (a reader that stops reading must not stop the server)"),
    diag("case.panicked", Error, Run,
        "the emulator itself failed on this case (a bug of rtmp-probe's, not the server's); the case is reported as an error instead of being lost",
        "rtmp-probe's own invariant checks"),
    diag("case.timeout", Error, Run,
        "the case did not finish within its whole-case limit",
        "the emulated client's own limit (--case-timeout)"),
    diag("case.pcap-failed", Warning, Run,
        "writing the case's pcap file failed; the verdict stands",
        "the emulator's --pcap option"),
    diag("case.companion-failed", Error, Run,
        "the publisher a play case needs failed too, so there was nothing to play",
        "play cases run an obs publisher alongside"),
    // ----- the emulated client's tolerance (emulate/client/tolerate.rs) -----
    diag("tolerance.client-warns", Warning, Run,
        "the server deviated in a way the profile's real client logs a warning about, and goes on",
        "the profile's tolerance table, row `warn` (rtmp-probe profiles --tolerance NAME)"),
    diag("tolerance.client-stalls", Error, Run,
        "the server deviated in a way that leaves the profile's real client waiting for what \
         never comes; the case times out",
        "the profile's tolerance table, row `stall` (rtmp-probe profiles --tolerance NAME)"),
    diag("tolerance.client-gives-up", Error, Run,
        "the server deviated in a way the profile's real client gives up on",
        "the profile's tolerance table, row `fail` (rtmp-probe profiles --tolerance NAME)"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_with_a_dotted_prefix() {
        assert!(ENTRIES.len() > 50, "only {} entries", ENTRIES.len());
        let mut seen = std::collections::HashSet::new();
        for e in ENTRIES {
            assert!(seen.insert(e.id), "{} twice", e.id);
            let (prefix, rest) = e.id.split_once('.').expect(e.id);
            assert!(prefix.chars().all(|c| c.is_ascii_lowercase()), "{}", e.id);
            assert!(
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                e.id
            );
            assert!(!e.meaning.is_empty() && !e.source.is_empty(), "{}", e.id);
            if e.kind == Kind::Observation {
                assert_eq!(e.severity, Severity::Info, "{}", e.id);
            }
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "is not in the diagnostics catalogue")]
    fn a_diagnostic_with_an_unknown_id_fails_in_debug_builds() {
        // Built at run time so that the source scan does not take it for an emitted id.
        let id = ["nosuch", "diagnostic-id"].join(".");
        let _ = crate::transcript::EventKind::diagnostic(&id, Severity::Info, "x");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "is not in the diagnostics catalogue")]
    fn a_transcript_refuses_an_unknown_observation_in_debug_builds() {
        let id = ["hs", "nosuch-observation"].join(".");
        let mut t = crate::transcript::Transcript::new();
        t.push(
            0,
            crate::transcript::EventKind::Handshake {
                id,
                observation: crate::transcript::HandshakeObservation::Described {
                    text: "x".into(),
                },
            },
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the catalogue says warning")]
    fn a_diagnostic_with_another_severity_than_the_catalogues_fails_in_debug_builds() {
        let mut t = crate::transcript::Transcript::new();
        t.push(
            0,
            crate::transcript::EventKind::diagnostic("msg.undecodable", Error, "x"),
        );
    }

    #[test]
    fn catalogued_diagnostics_take_the_catalogue_severity() {
        for entry in ENTRIES {
            match crate::transcript::EventKind::catalogued(entry.id, "x") {
                crate::transcript::EventKind::Diagnostic { id, severity, .. } => {
                    assert_eq!((id.as_str(), severity), (entry.id, entry.severity))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_mistyped_id_suggests_the_right_one() {
        assert_eq!(
            closest("chunk.ext-ts-type3-omited", 3)[0],
            "chunk.ext-ts-type3-omitted"
        );
        assert_eq!(closest("hs.s2-echo-from8", 3)[0], "hs.s2-echo-from-8");
        assert!(closest("zzzzzzzz", 3).is_empty());
    }
}
