//! The RTMP handshake, server and client roles, simple and digest ("complex").
//!
//! A [`Handshake`] takes the peer's bytes in any segmentation ([`Handshake::feed`]), hands out
//! each packet it wants to send as soon as the protocol allows ([`Handshake::poll_transmit`]),
//! and reports what it saw ([`Handshake::poll_event`]). How the packets are grouped into writes
//! and when they are written is left to the driver, because that is exactly where real servers
//! and clients differ (FFmpeg ticket 6453). Everything a peer may do differently is an
//! observation; only what makes the handshake impossible is an error.
//! An observation prints (`Display`) in the transcript's words
//! (`transcript::render::core_words`).
//!
//! One file past 600 lines: both roles share the packet state machine, the echo analysis and the
//! digest choice; split apart, each role would need the other's private state (see digest.rs and
//! reanswer.rs for the parts that stand alone).

mod digest;
mod reanswer;

pub use digest::{DigestLayout, KeyOwner};
pub use reanswer::{C2Answer, Fallback};

use crate::protocol::random::RandomSource;
use crate::protocol::Side;
use bytes::{Bytes, BytesMut};
use digest::{DIGEST_LEN, PACKET_LEN as LEN};
use std::collections::VecDeque;
use std::fmt;

/// Length of C1, C2, S1 and S2.
pub const PACKET_LEN: usize = LEN;
/// The bytes each side sends in its handshake: the version byte and two 1536-byte packets.
pub const HANDSHAKE_LEN: usize = 1 + 2 * PACKET_LEN;

/// The six handshake packets (serializable: the transcript names them by these variants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Packet {
    C0,
    C1,
    C2,
    S0,
    S1,
    S2,
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A packet ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub packet: Packet,
    pub bytes: Bytes,
}

/// Which handshake the two peers ended up doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Simple,
    Digest(DigestLayout),
}

/// Whether the server answers a digest C1 in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerDigest {
    /// Digest S1 and signed S2 when C1 carries a valid digest, the simple handshake otherwise
    /// (also when C1's version bytes are set but no digest validates, as YouTube-like and
    /// GStreamer peers do).
    #[default]
    AnswerInKind,
    /// Always the simple handshake (FFmpeg's listen mode).
    SimpleOnly,
}

/// What a simple-handshake S1 carries after its time and zero fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SimpleS1Body {
    #[default]
    Random,
    /// S1 is a copy of C1 (nginx-rtmp's old-style handshake, joy4).
    EchoC1,
    /// Random, with these version bytes set but no digest: a client that takes version byte
    /// 4 >= 3 as the promise of a digest (FFmpeg playing) finds none that validates.
    RandomWithVersion([u8; 4]),
}

/// What a simple-handshake S2 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SimpleS2Style {
    /// An exact copy of C1.
    #[default]
    EchoC1,
    /// C1 with bytes 4..8 zeroed (FFmpeg's listen mode).
    EchoC1ZeroTime2,
    /// 1536 zero bytes (joy4 / datarhei: S2 copied from a C2 not yet read).
    Zero,
    /// Random bytes: an echo of C1 neither from byte 0 nor from byte 8.
    Random,
}

/// How a server builds its side of the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The version byte S0 carries: 3, unless imitating a server that answers otherwise.
    pub s0_version: u8,
    pub digest: ServerDigest,
    /// S1's time field (and S2's time2 in the simple handshake is left as the style says).
    pub time: u32,
    /// Put C1's time into S1's time field instead of [`Self::time`] (FFmpeg's listen mode).
    pub s1_echo_c1_time: bool,
    /// S1's version bytes in the digest handshake.
    pub digest_version: [u8; 4],
    pub simple_s1: SimpleS1Body,
    pub simple_s2: SimpleS2Style,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            s0_version: 3,
            digest: ServerDigest::AnswerInKind,
            time: 0,
            s1_echo_c1_time: false,
            // What nginx-rtmp sends; any non-zero value tells clients a digest is present.
            digest_version: [0x0D, 0x0E, 0x0A, 0x0D],
            simple_s1: SimpleS1Body::Random,
            simple_s2: SimpleS2Style::EchoC1,
        }
    }
}

/// The body of a simple C1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum C1Body {
    #[default]
    Random,
    /// All zero (VideoCore's uninitialised buffer, as seen in practice).
    Zero,
}

/// How a client builds C1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum C1Style {
    /// librtmp/OBS/GStreamer: version 0 and random bytes; VideoCore: all zero.
    Simple {
        time: u32,
        version: [u8; 4],
        body: C1Body,
    },
    /// FFmpeg (9.0.124.2, base 8), Flash Player 9, SRS forwarding (0x80000702).
    Digest {
        time: u32,
        version: [u8; 4],
        layout: DigestLayout,
    },
}

/// How a client builds C2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum C2Style {
    /// A copy of S1 (librtmp, OBS, FFmpeg when publishing).
    #[default]
    EchoS1,
    /// S1 with bytes 4..8 zeroed (VideoCore).
    EchoS1ZeroTime2,
    /// S1 with bytes 4..8 set to the client's own clock, the spec's "time2" (GStreamer rtmp2).
    EchoS1WithTime2(u32),
    /// Random bytes signed with S1's digest, whether S1 carries a valid one or not: without
    /// one, the 32 bytes at C1's layout offset in S1 stand in (SRS as a client:
    /// `SrsComplexHandshake::handshake_with_server` never verifies S1 and has no simple
    /// fallback).
    Signed,
    /// FFmpeg: signed when S1's byte 4 is at least 3 and its digest validated, an echo otherwise.
    Auto,
}

/// What a client checks of the server's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerValidation {
    #[default]
    None,
    /// FFmpeg when it plays: if S1's byte 4 is at least 3, S1 must carry a valid server digest
    /// (either layout) and S2 must be signed for our C1 digest; either failing ends the handshake.
    /// FFmpeg always sends a digest C1; with a simple C1 there is no digest to check S2 against,
    /// so only S1 is checked.
    FfmpegPlay,
}

/// How a client builds its side of the handshake and what it insists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    pub c0_version: u8,
    pub c1: C1Style,
    pub c2: C2Style,
    pub validation: ServerValidation,
    /// Give up when S0 is not 3 (VideoCore does); otherwise only observe it.
    pub strict_s0: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            c0_version: 3,
            c1: C1Style::Simple {
                time: 0,
                version: [0; 4],
                body: C1Body::Random,
            },
            c2: C2Style::EchoS1,
            validation: ServerValidation::None,
            strict_s0: false,
        }
    }
}

/// How a C2 or S2 relates to the packet it answers (S1 or C1 respectively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    /// Identical from byte 0.
    pub exact: bool,
    /// Bytes 0..4 equal the answered packet's time.
    pub time_matches: bool,
    /// Bytes 8.. (the random part) are identical.
    pub random_matches: bool,
    pub all_zero: bool,
    /// Signed for the answered packet's digest; None when that packet had no digest.
    pub signed: Option<bool>,
}

/// Something the handshake revealed about the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeEvent {
    /// C0 or S0 arrived with this version.
    Version { packet: Packet, version: u8 },
    /// C1 or S1 arrived: its time and version fields.
    Hello {
        packet: Packet,
        time: u32,
        version: [u8; 4],
    },
    /// C1 or S1 carries a valid digest in this layout.
    DigestValid {
        packet: Packet,
        layout: DigestLayout,
    },
    /// C1 or S1 carries no valid digest; `version_set` tells whether its version bytes claimed
    /// one (then the peers fall back to the simple handshake).
    NoDigest { packet: Packet, version_set: bool },
    /// The handshake the server answered with.
    ModeChosen(Mode),
    /// C2 or S2 arrived; how it answers S1 or C1.
    Answer { packet: Packet, echo: Echo },
    /// S1 has no valid digest, and the client signed C2 anyway with the 32 bytes at its C1
    /// layout's digest offset in S1 (SRS as a client never checks S1).
    C2SignedWithoutS1Digest,
}

/// What a first byte that is not an RTMP version looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForeignProtocol {
    Http,
    Tls,
    Rtmpe,
    ProxyPrefix,
    NotRtmp,
}

impl fmt::Display for ForeignProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForeignProtocol::Http => "an HTTP request (was the stream pushed to an http:// URL?)",
            ForeignProtocol::Tls => "a TLS ClientHello (RTMPS aimed at a plain RTMP port?)",
            ForeignProtocol::Rtmpe => "RTMPE (encrypted RTMP), which is not supported",
            ForeignProtocol::ProxyPrefix => "an SRS RTMP-proxy prefix",
            ForeignProtocol::NotRtmp => "another protocol (RTMP versions are below 32)",
        })
    }
}

/// Classifies a C0 the server cannot go on with; None for the other versions up to 31, which
/// are answered as 3. 0x16 (22) is inside that range but is the first byte of every TLS record.
fn foreign_protocol(byte: u8) -> Option<ForeignProtocol> {
    match byte {
        0x16 => Some(ForeignProtocol::Tls),
        6 | 8 | 9 => Some(ForeignProtocol::Rtmpe),
        0..=31 => None,
        b'G' | b'P' | b'H' => Some(ForeignProtocol::Http),
        0xF3 => Some(ForeignProtocol::ProxyPrefix),
        _ => Some(ForeignProtocol::NotRtmp),
    }
}

/// Why the handshake cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    #[error("first byte 0x{byte:02x} is not an RTMP version: it looks like {looks_like}")]
    NotRtmp {
        byte: u8,
        looks_like: ForeignProtocol,
    },
    #[error("S0 is {byte}, not 3, and this client gives up on any other version")]
    UnexpectedS0 { byte: u8 },
    #[error("S1 claims a digest (version byte 4 is {version}) but none validates with the server key in either layout")]
    S1DigestInvalid { version: u8 },
    #[error("S2 is not signed for our C1 digest")]
    S2SignatureInvalid,
    #[error("the handshake already failed: {0}")]
    Failed(Box<HandshakeError>),
}

/// The packet the handshake's state machine waits for next: its state, not a stage of the
/// session (that is `transcript::Stage`, whose `handshake` spans all of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// C0 (server) or S0 (client).
    Version,
    /// C1 or S1.
    Hello,
    /// C2 or S2.
    Answer,
    /// Nothing more: the handshake is done.
    Nothing,
}

/// Accumulates one 1536-byte packet across any number of feeds.
struct PacketBuf {
    bytes: Box<[u8; LEN]>,
    filled: usize,
}

impl PacketBuf {
    fn new() -> Self {
        Self {
            bytes: Box::new([0; LEN]),
            filled: 0,
        }
    }

    /// Takes what it needs from `input`; returns the bytes taken.
    fn fill(&mut self, input: &[u8]) -> usize {
        let n = (LEN - self.filled).min(input.len());
        self.bytes[self.filled..self.filled + n].copy_from_slice(&input[..n]);
        self.filled += n;
        n
    }

    fn is_full(&self) -> bool {
        self.filled == LEN
    }
}

/// One side of an RTMP handshake.
pub struct Handshake {
    side: Side,
    server: ServerConfig,
    client: ClientConfig,
    rng: RandomSource,
    awaiting: Awaiting,
    incoming: PacketBuf,
    /// Our C1 or S1, kept to compare the peer's answer with.
    our_hello: Box<[u8; LEN]>,
    /// The digest in our C1/S1, when it has one.
    our_digest: Option<[u8; DIGEST_LEN]>,
    /// The digest in the peer's C1/S1, when it had a valid one.
    peer_digest: Option<[u8; DIGEST_LEN]>,
    /// The peer's S1 byte 4 (FFmpeg's test for "the server speaks digest").
    s1_version_major: u8,
    mode: Option<Mode>,
    /// Our C2 was signed rather than an echo of S1 (clients only).
    answer_signed: bool,
    transmits: VecDeque<Transmit>,
    events: VecDeque<HandshakeEvent>,
    remaining: BytesMut,
    error: Option<HandshakeError>,
}

/// The handshake's progress; its packets' bytes are left out.
impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handshake")
            .field("side", &self.side)
            .field("awaiting", &self.awaiting)
            .field("mode", &self.mode)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Handshake {
    /// A server waiting for C0.
    pub fn server(config: ServerConfig, rng: RandomSource) -> Self {
        Self::new(Side::Server, config, ClientConfig::default(), rng)
    }

    /// A client whose C0 and C1 are ready to be written at once.
    pub fn client(config: ClientConfig, rng: RandomSource) -> Self {
        let mut hs = Self::new(Side::Client, ServerConfig::default(), config, rng);
        hs.start_client();
        hs
    }

    fn new(side: Side, server: ServerConfig, client: ClientConfig, rng: RandomSource) -> Self {
        Self {
            side,
            server,
            client,
            rng,
            awaiting: Awaiting::Version,
            incoming: PacketBuf::new(),
            our_hello: Box::new([0; LEN]),
            our_digest: None,
            peer_digest: None,
            s1_version_major: 0,
            mode: None,
            answer_signed: false,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            remaining: BytesMut::new(),
            error: None,
        }
    }

    /// Consumes all of `input`. Bytes after the handshake's last packet are kept for
    /// [`Self::take_remaining`]; they are the start of the chunk stream.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), HandshakeError> {
        if let Some(error) = &self.error {
            return Err(HandshakeError::Failed(Box::new(error.clone())));
        }
        while !input.is_empty() {
            let used = match self.awaiting {
                Awaiting::Nothing => {
                    self.remaining.extend_from_slice(input);
                    input.len()
                }
                Awaiting::Version => {
                    if let Err(e) = self.version(input[0]) {
                        self.error = Some(e.clone());
                        return Err(e);
                    }
                    1
                }
                Awaiting::Hello | Awaiting::Answer => {
                    let used = self.incoming.fill(input);
                    if self.incoming.is_full() {
                        self.incoming.filled = 0;
                        let result = if self.awaiting == Awaiting::Hello {
                            self.hello()
                        } else {
                            self.answer()
                        };
                        if let Err(e) = result {
                            self.error = Some(e.clone());
                            return Err(e);
                        }
                    }
                    used
                }
            };
            input = &input[used..];
        }
        Ok(())
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<HandshakeEvent> {
        self.events.pop_front()
    }

    pub fn is_complete(&self) -> bool {
        self.awaiting == Awaiting::Nothing
    }

    /// The bytes that followed the handshake (e.g. the first chunk sent together with C2).
    pub fn take_remaining(&mut self) -> Bytes {
        self.remaining.split().freeze()
    }

    /// Whether our C2 was signed (for S1's digest, or for the bytes where one would be)
    /// rather than an echo of S1; false until C2 exists, and for a server.
    pub fn answer_signed(&self) -> bool {
        self.answer_signed
    }

    /// The handshake the peers are doing, once known.
    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    fn push(&mut self, packet: Packet, bytes: &[u8]) {
        self.transmits.push_back(Transmit {
            packet,
            bytes: Bytes::copy_from_slice(bytes),
        });
    }

    fn random(&mut self, buf: &mut [u8]) {
        self.rng.fill(buf);
    }

    // ----- the client -----

    fn start_client(&mut self) {
        let mut c1 = [0u8; LEN];
        match self.client.c1 {
            C1Style::Simple {
                time,
                version,
                body,
            } => {
                c1[..4].copy_from_slice(&time.to_be_bytes());
                c1[4..8].copy_from_slice(&version);
                if body == C1Body::Random {
                    self.random(&mut c1[8..]);
                }
            }
            C1Style::Digest {
                time,
                version,
                layout,
            } => {
                c1[..4].copy_from_slice(&time.to_be_bytes());
                c1[4..8].copy_from_slice(&version);
                self.random(&mut c1[8..]);
                digest::imprint(&mut c1, layout, KeyOwner::Client);
                let offset = layout.offset(&c1);
                let mut d = [0u8; DIGEST_LEN];
                d.copy_from_slice(&c1[offset..offset + DIGEST_LEN]);
                self.our_digest = Some(d);
            }
        }
        *self.our_hello = c1;
        self.push(Packet::C0, &[self.client.c0_version]);
        self.push(Packet::C1, &c1);
    }

    fn version(&mut self, byte: u8) -> Result<(), HandshakeError> {
        match self.side {
            Side::Server => {
                if let Some(looks_like) = foreign_protocol(byte) {
                    return Err(HandshakeError::NotRtmp { byte, looks_like });
                }
                self.events.push_back(HandshakeEvent::Version {
                    packet: Packet::C0,
                    version: byte,
                });
                // The spec: a server that sees a version it does not know answers with 3.
                self.push(Packet::S0, &[self.server.s0_version]);
            }
            Side::Client => {
                self.events.push_back(HandshakeEvent::Version {
                    packet: Packet::S0,
                    version: byte,
                });
                if byte != 3 && self.client.strict_s0 {
                    return Err(HandshakeError::UnexpectedS0 { byte });
                }
            }
        }
        self.awaiting = Awaiting::Hello;
        Ok(())
    }

    fn hello(&mut self) -> Result<(), HandshakeError> {
        let peer = *self.incoming.bytes;
        let packet = if self.side == Side::Server {
            Packet::C1
        } else {
            Packet::S1
        };
        let time = u32::from_be_bytes([peer[0], peer[1], peer[2], peer[3]]);
        let version = [peer[4], peer[5], peer[6], peer[7]];
        self.events.push_back(HandshakeEvent::Hello {
            packet,
            time,
            version,
        });
        // Which layout is tried first only matters for speed (a packet valid in both layouts
        // would need two colliding HMACs). Servers answer in the layout of our C1, so a client
        // with a digest C1 tries that one first; FFmpeg's own order (772, then 8) is the
        // fallback, and servers try FFmpeg's and librtmp's default layout (8) first.
        let (owner, order) = match (self.side, self.client.c1) {
            (Side::Server, _) => (
                KeyOwner::Client,
                [DigestLayout::Base8, DigestLayout::Base772],
            ),
            (
                Side::Client,
                C1Style::Digest {
                    layout: DigestLayout::Base8,
                    ..
                },
            ) => (
                KeyOwner::Server,
                [DigestLayout::Base8, DigestLayout::Base772],
            ),
            (Side::Client, _) => (
                KeyOwner::Server,
                [DigestLayout::Base772, DigestLayout::Base8],
            ),
        };
        // A digest is only looked for when the version field says there may be one: peers
        // with a zero version field never carry one, and this spares two HMACs.
        let found = if version != [0; 4] {
            digest::find(&peer, owner, order)
        } else {
            None
        };
        match found {
            Some((layout, d)) => {
                self.peer_digest = Some(d);
                self.events
                    .push_back(HandshakeEvent::DigestValid { packet, layout });
            }
            None => self.events.push_back(HandshakeEvent::NoDigest {
                packet,
                version_set: version != [0; 4],
            }),
        }
        match self.side {
            Side::Server => self.answer_c1(&peer, time, found.map(|f| f.0)),
            Side::Client => self.answer_s1(&peer)?,
        }
        self.awaiting = Awaiting::Answer;
        Ok(())
    }

    fn answer_c1(&mut self, c1: &[u8; LEN], c1_time: u32, layout: Option<DigestLayout>) {
        let layout = match self.server.digest {
            ServerDigest::AnswerInKind => layout,
            ServerDigest::SimpleOnly => None,
        };
        let mode = layout.map_or(Mode::Simple, Mode::Digest);
        self.mode = Some(mode);
        self.events.push_back(HandshakeEvent::ModeChosen(mode));
        let s1_time = if self.server.s1_echo_c1_time {
            c1_time
        } else {
            self.server.time
        };
        let mut s1 = [0u8; LEN];
        let mut s2 = [0u8; LEN];
        match (layout, self.peer_digest) {
            (Some(layout), Some(c1_digest)) => {
                s1[..4].copy_from_slice(&s1_time.to_be_bytes());
                s1[4..8].copy_from_slice(&self.server.digest_version);
                self.random(&mut s1[8..]);
                digest::imprint(&mut s1, layout, KeyOwner::Server);
                let offset = layout.offset(&s1);
                let mut d = [0u8; DIGEST_LEN];
                d.copy_from_slice(&s1[offset..offset + DIGEST_LEN]);
                self.our_digest = Some(d);
                self.random(&mut s2);
                digest::sign(&mut s2, &c1_digest, KeyOwner::Server);
            }
            _ => {
                match self.server.simple_s1 {
                    SimpleS1Body::Random => {
                        s1[..4].copy_from_slice(&s1_time.to_be_bytes());
                        self.random(&mut s1[8..]);
                    }
                    SimpleS1Body::EchoC1 => s1 = *c1,
                    SimpleS1Body::RandomWithVersion(version) => {
                        s1[..4].copy_from_slice(&s1_time.to_be_bytes());
                        s1[4..8].copy_from_slice(&version);
                        self.random(&mut s1[8..]);
                    }
                }
                match self.server.simple_s2 {
                    SimpleS2Style::EchoC1 => s2 = *c1,
                    SimpleS2Style::EchoC1ZeroTime2 => {
                        s2 = *c1;
                        s2[4..8].fill(0);
                    }
                    SimpleS2Style::Zero => {}
                    SimpleS2Style::Random => self.random(&mut s2),
                }
            }
        }
        *self.our_hello = s1;
        self.push(Packet::S1, &s1);
        self.push(Packet::S2, &s2);
    }

    fn answer_s1(&mut self, s1: &[u8; LEN]) -> Result<(), HandshakeError> {
        self.s1_version_major = s1[4];
        let server_claims_digest = s1[4] >= 3;
        if self.client.validation == ServerValidation::FfmpegPlay
            && server_claims_digest
            && self.peer_digest.is_none()
        {
            return Err(HandshakeError::S1DigestInvalid { version: s1[4] });
        }
        let sign = match self.client.c2 {
            C2Style::Signed => true,
            C2Style::Auto => server_claims_digest && self.peer_digest.is_some(),
            _ => false,
        };
        self.answer_signed = sign;
        let mut c2 = *s1;
        match (sign, self.peer_digest) {
            (true, Some(s1_digest)) => {
                self.random(&mut c2);
                digest::sign(&mut c2, &s1_digest, KeyOwner::Client);
            }
            (true, None) => {
                let layout = match self.client.c1 {
                    C1Style::Digest { layout, .. } => layout,
                    C1Style::Simple { .. } => DigestLayout::Base8,
                };
                let at = layout.offset(s1);
                let mut stand_in = [0u8; DIGEST_LEN];
                stand_in.copy_from_slice(&s1[at..at + DIGEST_LEN]);
                self.random(&mut c2);
                digest::sign(&mut c2, &stand_in, KeyOwner::Client);
                self.events
                    .push_back(HandshakeEvent::C2SignedWithoutS1Digest);
            }
            _ => {}
        }
        match self.client.c2 {
            C2Style::EchoS1ZeroTime2 => c2[4..8].fill(0),
            C2Style::EchoS1WithTime2(time2) => c2[4..8].copy_from_slice(&time2.to_be_bytes()),
            _ => {}
        }
        self.mode = Some(
            match (self.our_digest.is_some(), self.peer_digest.is_some()) {
                (true, true) => match self.client.c1 {
                    C1Style::Digest { layout, .. } => Mode::Digest(layout),
                    C1Style::Simple { .. } => Mode::Simple,
                },
                _ => Mode::Simple,
            },
        );
        self.push(Packet::C2, &c2);
        Ok(())
    }

    /// C2 (server) or S2 (client) is complete: compare it with what it answers.
    fn answer(&mut self) -> Result<(), HandshakeError> {
        let got = &*self.incoming.bytes;
        let ours = &*self.our_hello;
        let (packet, signer) = match self.side {
            Side::Server => (Packet::C2, KeyOwner::Client),
            Side::Client => (Packet::S2, KeyOwner::Server),
        };
        let exact = got[..] == ours[..];
        // An exact echo of our packet cannot also carry a valid signature for it (that would
        // take our own random bytes to end in their HMAC), so the HMAC is spared.
        let signed = self
            .our_digest
            .map(|d| !exact && digest::is_signed(got, &d, signer));
        let echo = Echo {
            exact,
            time_matches: got[..4] == ours[..4],
            random_matches: got[8..] == ours[8..],
            all_zero: got.iter().all(|&b| b == 0),
            signed,
        };
        self.events
            .push_back(HandshakeEvent::Answer { packet, echo });
        if self.side == Side::Client
            && self.client.validation == ServerValidation::FfmpegPlay
            && self.s1_version_major >= 3
            && signed == Some(false)
        {
            return Err(HandshakeError::S2SignatureInvalid);
        }
        self.awaiting = Awaiting::Nothing;
        Ok(())
    }
}

/// Observes a handshake between two other peers, as a capture shows it: `client` holds C0, C1
/// and C2, `server` S0, S1 and S2 (3073 bytes each; shorter inputs give the events they can).
/// The events are those the two roles would report, C side first.
pub fn analyze(client: &[u8], server: &[u8]) -> Vec<HandshakeEvent> {
    let packet =
        |bytes: &[u8], at: usize| -> Option<[u8; LEN]> { bytes.get(at..at + LEN)?.try_into().ok() };
    let mut events = Vec::new();
    let hello =
        |events: &mut Vec<HandshakeEvent>, p: &[u8; LEN], packet: Packet, owner: KeyOwner| {
            let version = [p[4], p[5], p[6], p[7]];
            events.push(HandshakeEvent::Hello {
                packet,
                time: u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
                version,
            });
            let found = (version != [0; 4])
                .then(|| digest::find(p, owner, DigestLayout::BOTH))
                .flatten();
            match found {
                Some((layout, _)) => events.push(HandshakeEvent::DigestValid { packet, layout }),
                None => events.push(HandshakeEvent::NoDigest {
                    packet,
                    version_set: version != [0; 4],
                }),
            }
            found
        };
    if let Some(&v) = client.first() {
        events.push(HandshakeEvent::Version {
            packet: Packet::C0,
            version: v,
        });
    }
    let c1 = packet(client, 1);
    let c1_digest = c1
        .as_ref()
        .and_then(|c1| hello(&mut events, c1, Packet::C1, KeyOwner::Client));
    if let Some(&v) = server.first() {
        events.push(HandshakeEvent::Version {
            packet: Packet::S0,
            version: v,
        });
    }
    let s1 = packet(server, 1);
    let s1_digest = s1
        .as_ref()
        .and_then(|s1| hello(&mut events, s1, Packet::S1, KeyOwner::Server));
    if s1.is_some() {
        let mode = match (c1_digest, s1_digest) {
            (Some((layout, _)), Some(_)) => Mode::Digest(layout),
            _ => Mode::Simple,
        };
        events.push(HandshakeEvent::ModeChosen(mode));
    }
    let answer = |answer: &[u8; LEN],
                  to: &[u8; LEN],
                  digest: Option<[u8; DIGEST_LEN]>,
                  signer: KeyOwner| Echo {
        exact: answer[..] == to[..],
        time_matches: answer[..4] == to[..4],
        random_matches: answer[8..] == to[8..],
        all_zero: answer.iter().all(|&b| b == 0),
        signed: digest.map(|d| answer[..] != to[..] && digest::is_signed(answer, &d, signer)),
    };
    if let (Some(s2), Some(c1)) = (packet(server, 1 + LEN), c1.as_ref()) {
        let echo = answer(&s2, c1, c1_digest.map(|d| d.1), KeyOwner::Server);
        events.push(HandshakeEvent::Answer {
            packet: Packet::S2,
            echo,
        });
    }
    if let (Some(c2), Some(s1)) = (packet(client, 1 + LEN), s1.as_ref()) {
        let echo = answer(&c2, s1, s1_digest.map(|d| d.1), KeyOwner::Client);
        events.push(HandshakeEvent::Answer {
            packet: Packet::C2,
            echo,
        });
    }
    events
}

#[cfg(test)]
mod tests;
