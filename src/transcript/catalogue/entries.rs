//! The catalogue's one table: each id's variant, its dotted string and its entry. The
//! [`table!`](super::table) macro makes [`DiagnosticId`] and the entries from it, so this is
//! the only place an id is written down.
//!
//! This file is long because it is one table of data.

use super::Kind;
use super::{diag, seen, Spec};
use crate::transcript::Severity::{Error, Info, Warning};
use crate::transcript::Stage::{Capture, Chunk, Command, Handshake, Media, Message, Run, Tcp};

const SPEC_HS: &str = "RTMP specification 5.2 (handshake): C0/S0 carry the version, C1/S1 a time, \
                       zeros and random bytes, C2/S2 echo the peer's C1/S1";
const DIGEST: &str = "the digest handshake of Flash Player and FMS, as FFmpeg rtmpproto.c and \
                      librtmp handshake.h implement it (HMAC-SHA256 over C1/S1 at one of two \
                      offsets); not in the published specification";

super::table! {
    // ----- connection -----
    TcpConnectTimeout "tcp.connect-timeout" => diag(Error, Tcp,
        "the TCP connection to the server was not established within the handshake timeout",
        "the emulated client's own limit (--handshake-timeout)"),
    TcpConnectFailed "tcp.connect-failed" => diag(Error, Tcp,
        "the TCP connection to the server was refused or failed",
        "the operating system's answer to connect()"),
    TcpStoppedAccepting "tcp.stopped-accepting" => diag(Error, Tcp,
        "the server refused (or did not answer) a connection after accepting earlier ones of the \
         same run: it was there and stopped accepting",
        "the operating system's answer to connect(), against the run's own count of accepted \
         connections; `ffmpeg -listen 1` serves one connection and exits"),
    TcpWriteFailed "tcp.write-failed" => diag(Error, Tcp,
        "writing to the server failed: the connection was already closed or reset",
        "the operating system's answer to write()")
        .unreached("the emulator reads what has arrived before each write, so a server's \
            close or reset ends the case at that read (tcp.closed, tcp.reset); a write fails only \
            if the reset lands between that read and the write, or while a write waits on a full \
            send buffer, which a case's paced media never fills on loopback: no test can make \
            either happen on purpose"),
    TcpClosed "tcp.closed" => diag(Error, Tcp,
        "the server closed the connection while the client still expected an answer",
        "a read of 0 bytes (FIN from the server)"),
    TcpReset "tcp.reset" => diag(Error, Tcp,
        "the server reset the connection while the client still expected an answer",
        "a read that failed with ECONNRESET (RST from the server)"),
    // ----- handshake: what the tool's drivers decide -----
    HsFailed "hs.failed" => diag(Error, Handshake,
        "the client's handshake bytes could not be answered; the server closed",
        SPEC_HS),
    HsPeerClosed "hs.peer-closed" => diag(Error, Handshake,
        "the client closed the connection before the handshake was complete",
        SPEC_HS),
    HsC2NotEchoStrict "hs.c2-not-echo-strict" => diag(Error, Handshake,
        "C2 does not echo S1 and the server personality closes on that",
        "the strict-c2 personality: a server that checks C2 against S1 as the specification's \
         5.2.4 describes, where most servers ignore C2"),
    HsS0BeforeC1 "hs.s0-before-c1" => diag(Info, Handshake,
        "the server wrote S0 after C0 alone, before the client sent C1",
        "RTMP specification 5.2.1: a server may send S0 and S1 once C0 has arrived"),
    HsServerWaitsForC1 "hs.server-waits-for-c1" => diag(Info, Handshake,
        "the server waited for C1 before writing S0; the specification allows it",
        "RTMP specification 5.2.1: the server MUST wait for C0 and MAY wait for C1 before S0/S1"),
    HsClosedAfterC0 "hs.closed-after-c0" => diag(Error, Handshake,
        "the server closed the connection after C0, before C1 was sent",
        SPEC_HS),
    HsTimeout "hs.timeout" => diag(Error, Handshake,
        "S0/S1/S2 did not arrive within the handshake timeout",
        "the emulated client's own limit (--handshake-timeout)"),
    HsReset "hs.reset" => diag(Error, Handshake,
        "the server reset the connection during the handshake",
        SPEC_HS),
    HsClosed "hs.closed" => diag(Error, Handshake,
        "the server closed the connection during the handshake",
        SPEC_HS),
    HsFirstReadShort "hs.first-read-short" => diag(Error, Handshake,
        "the first read after C0+C1 held less than S0+S1 (1537 bytes); the modelled client resets then",
        "encoders that need S0+S1 in one read and reset otherwise (FFmpeg ticket 6453)"),
    HsC2FromEmptyS1 "hs.c2-from-empty-s1" => diag(Error, Handshake,
        "S0 arrived before C1 was written; the modelled client builds C2 from its still-empty S1 \
         buffer on the next write-ready notification, crashes, and the connection is reset",
        "VideoCore 0.3.2 RTMPSession::streamStatusChanged -> handshake -> handshake2 \
         (docs/videocore-6453.md)"),
    HsClientRejected "hs.client-rejected" => diag(Error, Handshake,
        "the emulated client rejected the server's S0/S1 as the modelled client does",
        "the profile's server validation (VideoCore's S0 check, FFmpeg rtmpproto.c \
         rtmp_handshake's S1 digest check when it plays)"),
    HsS0Not3 "hs.s0-not-3" => diag(Warning, Handshake,
        "S0 is not version 3; the client went on, or gave up where its profile's tolerance table \
         says its real client does",
        "RTMP specification 5.2.2: the version is 3; other values are deprecated or not \
         recognised"),
    HsS2NotEcho "hs.s2-not-echo" => Spec {
        escalates: true,
        kind: Kind::Both,
        severity: Warning,
        ..seen(
            "S2 does not echo C1's random bytes (as an observation); as a diagnostic, the client \
             warns, or stops if its profile insists",
            "RTMP specification 5.2.4 (S2 echoes C1); clients that insist on it: mediamtx#1244, \
             StreamPack#284")
    },
    HsC2SignedRejected "hs.c2-signed-rejected" => diag(Error, Handshake,
        "the server closed right after the client's signed C2: it expected an echo of S1",
        "FFmpeg rtmpproto.c signs C2 when S1's digest validates; servers that insist on an echo \
         close then (go-rtmp before its PR #51)"),
    // ----- handshake: observations (protocol/handshake) -----
    HsC0Version "hs.c0-version" => seen("C0 carries version 3", SPEC_HS),
    HsC0VersionUnusual "hs.c0-version-unusual" => seen("C0 carries a version other than 3", SPEC_HS),
    HsS0Version "hs.s0-version" => seen("S0 carries version 3", SPEC_HS),
    HsS0VersionUnusual "hs.s0-version-unusual" => seen("S0 carries a version other than 3", SPEC_HS),
    HsC1Fields "hs.c1-fields" => seen("C1's time and version fields (the version names the client's build)", SPEC_HS),
    HsS1Fields "hs.s1-fields" => seen("S1's time and version fields (the version names the server's build)", SPEC_HS),
    HsC1DigestValid "hs.c1-digest-valid" => seen("C1 carries a valid client digest, in the layout named", DIGEST),
    HsS1DigestValid "hs.s1-digest-valid" => seen("S1 carries a valid server digest, in the layout named", DIGEST),
    HsC1DigestInvalid "hs.c1-digest-invalid" => seen("C1's version bytes claim a digest but none validates; servers fall back to the simple handshake",
        DIGEST),
    HsS1DigestInvalid "hs.s1-digest-invalid" => seen("S1's version bytes claim a digest but none validates",
        DIGEST),
    HsC1NoDigest "hs.c1-no-digest" => seen("C1 has zero version bytes and no digest: the simple handshake", SPEC_HS),
    HsS1NoDigest "hs.s1-no-digest" => seen("S1 has zero version bytes and no digest: the simple handshake", SPEC_HS),
    HsModeSimple "hs.mode-simple" => seen("the server answered with the simple handshake", SPEC_HS),
    HsModeDigest "hs.mode-digest" => seen("the server answered with the digest handshake", DIGEST),
    HsC2SignedWithoutS1Digest "hs.c2-signed-without-s1-digest" => seen("S1 has no valid digest, yet the client signs C2 with the bytes where C1's layout puts one",
        "SRS srs_protocol_handshake.cpp (client side): it never checks S1 and always signs C2"),
    HsC2Signed "hs.c2-signed" => seen("C2 is signed with a digest keyed by S1's digest", DIGEST),
    HsS2Signed "hs.s2-signed" => seen("S2 is signed with a digest keyed by C1's digest", DIGEST),
    HsC2Echo "hs.c2-echo" => seen("C2 echoes S1 exactly", SPEC_HS),
    HsS2Echo "hs.s2-echo" => seen("S2 echoes C1 exactly", SPEC_HS),
    HsC2EchoFrom8 "hs.c2-echo-from-8" => seen("C2 echoes S1 from byte 8 on; its time fields differ",
        "RTMP specification 5.2.4: C2's time2 is when S1 was read, so only the random part must match"),
    HsS2EchoFrom8 "hs.s2-echo-from-8" => seen("S2 echoes C1 from byte 8 on; its time fields differ",
        "RTMP specification 5.2.4: S2's time2 is when C1 was read, so only the random part must match"),
    HsC2Zero "hs.c2-zero" => seen("C2 is all zero bytes", SPEC_HS),
    HsS2Zero "hs.s2-zero" => seen("S2 is all zero bytes", "servers that never fill S2 (joy4-like)"),
    HsC2NotEcho "hs.c2-not-echo" => seen("C2 does not echo S1's random bytes", SPEC_HS),
    HsClientSegments "hs.client-segments" => seen("how the client's handshake bytes were split into TCP segments, with the delays between them",
        "what the capture shows; servers that read C0+C1 in one read depend on it"),
    HsServerSegments "hs.server-segments" => seen("how the server's handshake bytes were split into TCP segments, with the delays between them",
        "what the capture shows; clients that read S0+S1 in one read depend on it"),
    // ----- chunk stream -----
    ChunkError "chunk.error" => diag(Error, Chunk,
        "the chunk stream could not be parsed (or broke a limit); reading that direction stops",
        "RTMP specification 5.3 (chunk format) and the reader's limits"),
    ChunkSizeChanged "chunk.size-changed" => diag(Info, Chunk,
        "the peer changed its chunk size with Set Chunk Size",
        "RTMP specification 5.4.1 (Set Chunk Size)"),
    ChunkExtTsType3Repeated "chunk.ext-ts-type3-repeated" => diag(Info, Chunk,
        "type-3 chunks of a message with an extended timestamp repeat the 4-byte extended timestamp",
        "RTMP specification 5.3.1.3 (2012 text); FFmpeg rtmppkt.c and FMLE do the same"),
    ChunkExtTsType3Omitted "chunk.ext-ts-type3-omitted" => diag(Warning, Chunk,
        "type-3 chunks of a message with an extended timestamp omit it; readers that follow the 2012 \
         text lose sync once timestamps pass 0xFFFFFF (about 4 h 40 min)",
        "RTMP specification 5.3.1.3 has it repeated; rtmpdump (librtmp rtmp.c) and OBS before \
         2024 omit it"),
    ChunkOpenedFromZeroState "chunk.opened-from-zero-state" => diag(Warning, Chunk,
        "a chunk stream's first chunk had a type 1, 2 or 3 header; its missing fields were read as zero",
        "RTMP specification 5.3.1.2: a stream's first chunk carries a type 0 header; FFmpeg \
         rtmppkt.c, librtmp rtmp.c and GStreamer rtmp2 read such a chunk from zeroed state"),
    ChunkAborted "chunk.aborted" => diag(Info, Chunk,
        "the peer sent Abort Message: the partial message on a chunk stream was discarded",
        "RTMP specification 5.4.2 (Abort Message)"),
    ChunkPartialDropped "chunk.partial-dropped" => diag(Warning, Chunk,
        "a new message header arrived on a chunk stream before its previous message was complete; the partial message was dropped",
        "RTMP specification 5.3.1: a message's chunks continue until its length is complete, and \
         5.3.1.2.4: a type 0, 1 or 2 header should not come in the middle of one (nothing says it \
         discards; Abort, 5.4.2, does). Receivers differ when the length changes: librtmp \
         (rtmp.c RTMP_ReadPacket) restarts the message, FFmpeg (rtmppkt.c: 'RTMP packet size \
         mismatch') fails the connection, nginx-rtmp goes on with the new length"),
    ChunkHeaderMidMessage "chunk.header-mid-message" => diag(Warning, Chunk,
        "a type 0, 1 or 2 header came in the middle of a message and repeated its length; the \
         message went on with its first header's fields, as FFmpeg and nginx-rtmp read it",
        "RTMP specification 5.3.1.2.4: only type 3 headers should continue a message; FFmpeg \
         rtmppkt.c rtmp_packet_read_one_chunk() and nginx-rtmp ngx_rtmp_recv() continue the \
         partial message, librtmp rtmp.c RTMP_ReadPacket() restarts it on a type 0 or 1 header"),
    // ----- messages -----
    MsgUndecodable "msg.undecodable" => diag(Warning, Message,
        "a complete message could not be decoded as its type says; it was skipped",
        "RTMP specification 5.4 and 7 (message formats), AMF0 specification"),
    MsgControlOffCsid2 "msg.control-off-csid2" => diag(Warning, Message,
        "a protocol control message arrived on a chunk stream other than 2 or a message stream other than 0",
        "RTMP specification 5.4: protocol control messages use chunk stream 2 and message stream 0"),
    MsgTimeout "msg.timeout" => diag(Error, Message,
        "the server sent nothing the client was waiting for within the reply timeout",
        "the emulated client's own limit (--reply-timeout)"),
    AckOutputWithheld "ack.output-withheld" => diag(Info, Message,
        "the client's unacknowledged bytes exceed the window this server announced, so its output \
         waits for an Acknowledgement (reported the first time)",
        "RTMP specification 5.4.3 and 5.4.4: the peer acknowledges every window's worth of bytes; \
         personality window-ack-tiny-strict enforces it"),
    AckStale "ack.stale" => diag(Warning, Message,
        "an Acknowledgement lower than the previous one by less than 2^31: a stale or bogus value, \
         not the 32-bit sequence number wrapping; it was ignored",
        "RTMP specification 5.4.3 (Acknowledgement: the bytes received so far, 32 bits, so it \
         wraps); as in serial number arithmetic (RFC 1982), only a drop past half the range is \
         a wrap"),
    AckStalled "ack.stalled" => diag(Error, Message,
        "the connection ended with output still waiting for the client's Acknowledgement: the \
         client did not acknowledge as the announced window asks",
        "RTMP specification 5.4.3 and 5.4.4; librtmp acknowledges by a tenth of Set Peer Bandwidth \
         whatever the window (rtmp.c ReadN)"),
    // ----- commands -----
    CmdConnectTxn "cmd.connect-txn" => diag(Warning, Command,
        "connect used a transaction id other than 1",
        "RTMP specification 7.2.1.1: connect's transaction id is always 1"),
    CmdConnectNoApp "cmd.connect-no-app" => diag(Warning, Command,
        "connect's command object has no 'app' field",
        "RTMP specification 7.2.1.1: 'app' names the application to connect to"),
    CmdConnectRejected "cmd.connect-rejected" => diag(Error, Command,
        "the server answered connect with _error",
        "RTMP specification 7.2.1.1 (connect's _result / _error)"),
    CmdCreatestreamRejected "cmd.createstream-rejected" => diag(Error, Command,
        "the server answered createStream with _error",
        "RTMP specification 7.2.1.3 (createStream)"),
    CmdCreatestreamNoId "cmd.createstream-no-id" => diag(Error, Command,
        "createStream's _result carries no stream id",
        "RTMP specification 7.2.1.3: the result's fourth value is the stream id"),
    CmdStatusError "cmd.status-error" => diag(Error, Command,
        "the server answered publish or play with an error onStatus (replay: any error-level \
         onStatus, or an _error answering publish or play)",
        "RTMP specification 7.2.2 (NetStream onStatus codes)"),
    CmdUnanswered "cmd.unanswered" => diag(Warning, Command,
        "a command the client waits for (connect, createStream, publish, play) got no answer \
         from the peer before the connection ended",
        "RTMP specification 7.2.1.1 and 7.2.1.3 (_result or _error with the transaction id), \
         7.2.2.3 and 7.2.2.6 (onStatus answers play and publish); other commands (releaseStream, \
         FCPublish, getStreamLength) often go unanswered and their senders do not wait"),
    CmdStatusMissing "cmd.status-missing" => diag(Warning, Command,
        "media arrived on the play stream before any onStatus NetStream.Play.Start; a client \
         that plays on media (FFmpeg) goes on, one that waits for the status ignores it",
        "RTMP specification 7.2.2: the server answers play with onStatus before the stream's media"),
    CmdStatusWrongStream "cmd.status-wrong-stream" => diag(Warning, Command,
        "onStatus arrived on a message stream other than the one the client publishes or plays on; \
         a client that tolerates it goes on, one that does not ignores it and waits",
        "RTMP specification 7.2.2: NetStream answers go to the stream the command was sent on"),
    CmdStreamNotCreated "cmd.stream-not-created" => diag(Warning, Command,
        "a stream command used a message stream id that createStream did not give out",
        "RTMP specification 7.2.1.3 and 7.2.2: NetStream commands use a created stream"),
    CmdPublishBadName "cmd.publish-bad-name" => diag(Warning, Command,
        "publish named a stream that is already being published; answered NetStream.Publish.BadName",
        "nginx-rtmp ngx_rtmp_live_module (one publisher per name), FMS's BadName status"),
    CmdPublishEmptyName "cmd.publish-empty-name" => diag(Info, Command,
        "publish with an empty name: the client stops publishing",
        "Wirecast stops publishing this way"),
    CmdUnknown "cmd.unknown" => diag(Info, Command,
        "a command this server does not know; no answer was sent",
        "servers ignore commands they do not implement (nginx-rtmp, FFmpeg -listen)"),
    PlayWaiting "play.waiting" => diag(Info, Command,
        "play named a stream that is not published yet; the player waits for a publisher",
        "nginx-rtmp's live module (players wait, idle streams)"),
    // ----- media -----
    MediaNotPublishing "media.not-publishing" => diag(Warning, Media,
        "audio or video arrived while the client publishes nothing",
        "RTMP specification 7.2.2.6: media follows a successful publish"),
    MediaWrongStream "media.wrong-stream" => diag(Error, Media,
        "media arrived on another message stream than the play stream; the modelled client ignores it",
        "RTMP specification 7.2.2.1: media for a play follows on the stream play was sent on"),
    // ----- capture -----
    CaptureGap "capture.gap" => diag(Warning, Capture,
        "bytes of one direction are missing from the capture; decoding of that direction stops there",
        "TCP reassembly of the capture (sequence numbers with no segment carrying them)"),
    CaptureTimeBackwards "capture.time-backwards" => diag(Info, Capture,
        "a frame of the flow was captured earlier than the frame before it; its events are shown \
         at the later time, so the transcript's time never runs backwards",
        "the capture's own timestamps (a capture merged from several interfaces, or a clock \
         stepped while capturing)"),
    CaptureCloseIgnored "capture.close-ignored" => diag(Warning, Capture,
        "a segment carries a FIN or RST, yet the peer that sent it went on sending past it: the \
         flag was not acted on (a damaged or out-of-window segment), and the flow is decoded on",
        "RFC 9293 (a connection ends at an accepted FIN or RST; a damaged segment is dropped \
         and retransmitted) and the capture's sequence numbers"),
    CaptureAfterClose "capture.after-close" => diag(Info, Capture,
        "one side went on sending after the other had closed or reset the connection; those \
         bytes are decoded, but nothing shows that the closed side read them",
        "RFC 9293 (after a FIN the peer may still send; after a close the bytes meet a reset)"),
    // ----- the tool's own running -----
    ServeHeldTotal "serve.held-total" => diag(Error, Run,
        "all connections together hold more partial-message bytes than the server allows; this one was closed",
        "rtmp-probe serve's max_held_total budget (one peer cannot exhaust the server's memory)"),
    ServeOutputDropped "serve.output-dropped" => diag(Warning, Run,
        "standard output was not read fast enough, so serve dropped lines of its output (counted by connection) rather than stall its connections; files given by --record and --pcap never drop",
        "rtmp-probe serve's bounded output queue (a reader that stops reading must not stop the server)"),
    CasePanicked "case.panicked" => diag(Error, Run,
        "the emulator itself failed on this case (a bug of rtmp-probe's, not the server's); the case is reported as an error instead of being lost",
        "rtmp-probe's own invariant checks")
        .unreached("only a bug of the emulator's makes a case task panic, and none is known \
            (the fuzz targets look for one); a test could only make one on purpose by adding a \
            way to panic to the emulator"),
    CaseTimeout "case.timeout" => diag(Error, Run,
        "the case did not finish within its whole-case limit",
        "the emulated client's own limit (--case-timeout)"),
    CaseInterrupted "case.interrupted" => diag(Warning, Run,
        "Ctrl-C or SIGTERM stopped the attempt before it ended; its verdict (TIMEOUT) is of what \
         happened until then, and says at which stage and for what the client was waiting",
        "the user (SIGINT or SIGTERM to probe)"),
    CasePcapFailed "case.pcap-failed" => diag(Warning, Run,
        "writing the case's pcap file failed; the verdict stands",
        "the emulator's --pcap option"),
    CaseCompanionFailed "case.companion-failed" => diag(Error, Run,
        "the publisher a play case needs failed too, so there was nothing to play",
        "play cases run an obs publisher alongside"),
    // ----- the emulated client's tolerance (emulate/client/tolerate.rs) -----
    ToleranceClientWarns "tolerance.client-warns" => diag(Warning, Run,
        "the server deviated in a way the profile's real client logs a warning about, and goes on",
        "the profile's tolerance table, row `warn` (rtmp-probe profiles --tolerance NAME)"),
    ToleranceClientStalls "tolerance.client-stalls" => diag(Error, Run,
        "the server deviated in a way that leaves the profile's real client waiting for what \
         never comes; the case times out",
        "the profile's tolerance table, row `stall` (rtmp-probe profiles --tolerance NAME)"),
    ToleranceClientGivesUp "tolerance.client-gives-up" => diag(Error, Run,
        "the server deviated in a way the profile's real client gives up on",
        "the profile's tolerance table, row `fail` (rtmp-probe profiles --tolerance NAME)"),
}
