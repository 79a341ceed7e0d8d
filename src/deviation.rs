//! The ways a server can deviate from what a strict client expects: the vocabulary shared by
//! the server's personalities (which deviations each one exercises) and the emulators'
//! tolerance tables (how each real client reacts to each one).
//!
//! It lives at the crate root because both sides name it and neither may depend on the other:
//! `serve` must not import the emulators, and a tolerance table is about clients, not servers.

use serde::Deserialize;

/// A way a server can deviate from what a strict client expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Deviation {
    #[serde(rename = "s0-version-not-3")]
    S0VersionNot3,
    S1DigestAbsent,
    S1DigestInvalid,
    S1DigestPresent,
    #[serde(rename = "s2-echo-from-8-only")]
    S2EchoFrom8Only,
    S2NotEcho,
    S2AllZero,
    S0S1S2SplitInTime,
    S2WithheldUntilC2,
    #[serde(rename = "chunk-stream-opened-type-1")]
    ChunkStreamOpenedType1,
    #[serde(rename = "chunk-stream-opened-type-2")]
    ChunkStreamOpenedType2,
    #[serde(rename = "chunk-stream-opened-type-3")]
    ChunkStreamOpenedType3,
    MessageStreamIdInheritedZero,
    #[serde(rename = "extended-timestamp-repeated-on-type-3")]
    ExtendedTimestampRepeatedOnType3,
    #[serde(rename = "extended-timestamp-omitted-on-type-3")]
    ExtendedTimestampOmittedOnType3,
    SetChunkSizeHuge,
    SetChunkSizeBeforeResult,
    SetChunkSizeAfterResult,
    WindowAckTinyStrict,
    AbortUnknownChunkStream,
    ReleaseFcPublishResultMissing,
    ReleaseFcPublishError,
    OnStatusMissing,
    #[serde(rename = "on-status-on-stream-0")]
    OnStatusOnStream0,
    OnStatusUnexpectedCode,
    ResultExtraFields,
    ResultMissingFields,
}

impl Deviation {
    /// Every class, in the order tables are printed.
    pub const ALL: [Deviation; 27] = [
        Deviation::S0VersionNot3,
        Deviation::S1DigestAbsent,
        Deviation::S1DigestInvalid,
        Deviation::S1DigestPresent,
        Deviation::S2EchoFrom8Only,
        Deviation::S2NotEcho,
        Deviation::S2AllZero,
        Deviation::S0S1S2SplitInTime,
        Deviation::S2WithheldUntilC2,
        Deviation::ChunkStreamOpenedType1,
        Deviation::ChunkStreamOpenedType2,
        Deviation::ChunkStreamOpenedType3,
        Deviation::MessageStreamIdInheritedZero,
        Deviation::ExtendedTimestampRepeatedOnType3,
        Deviation::ExtendedTimestampOmittedOnType3,
        Deviation::SetChunkSizeHuge,
        Deviation::SetChunkSizeBeforeResult,
        Deviation::SetChunkSizeAfterResult,
        Deviation::WindowAckTinyStrict,
        Deviation::AbortUnknownChunkStream,
        Deviation::ReleaseFcPublishResultMissing,
        Deviation::ReleaseFcPublishError,
        Deviation::OnStatusMissing,
        Deviation::OnStatusOnStream0,
        Deviation::OnStatusUnexpectedCode,
        Deviation::ResultExtraFields,
        Deviation::ResultMissingFields,
    ];

    /// The class a file names `key`, if any.
    pub fn from_key(key: &str) -> Option<Deviation> {
        Deviation::ALL.into_iter().find(|d| d.key() == key)
    }

    /// The name a table file uses for it.
    pub fn key(self) -> &'static str {
        use Deviation::*;
        match self {
            S0VersionNot3 => "s0-version-not-3",
            S1DigestAbsent => "s1-digest-absent",
            S1DigestInvalid => "s1-digest-invalid",
            S1DigestPresent => "s1-digest-present",
            S2EchoFrom8Only => "s2-echo-from-8-only",
            S2NotEcho => "s2-not-echo",
            S2AllZero => "s2-all-zero",
            S0S1S2SplitInTime => "s0-s1-s2-split-in-time",
            S2WithheldUntilC2 => "s2-withheld-until-c2",
            ChunkStreamOpenedType1 => "chunk-stream-opened-type-1",
            ChunkStreamOpenedType2 => "chunk-stream-opened-type-2",
            ChunkStreamOpenedType3 => "chunk-stream-opened-type-3",
            MessageStreamIdInheritedZero => "message-stream-id-inherited-zero",
            ExtendedTimestampRepeatedOnType3 => "extended-timestamp-repeated-on-type-3",
            ExtendedTimestampOmittedOnType3 => "extended-timestamp-omitted-on-type-3",
            SetChunkSizeHuge => "set-chunk-size-huge",
            SetChunkSizeBeforeResult => "set-chunk-size-before-result",
            SetChunkSizeAfterResult => "set-chunk-size-after-result",
            WindowAckTinyStrict => "window-ack-tiny-strict",
            AbortUnknownChunkStream => "abort-unknown-chunk-stream",
            ReleaseFcPublishResultMissing => "release-fc-publish-result-missing",
            ReleaseFcPublishError => "release-fc-publish-error",
            OnStatusMissing => "on-status-missing",
            OnStatusOnStream0 => "on-status-on-stream-0",
            OnStatusUnexpectedCode => "on-status-unexpected-code",
            ResultExtraFields => "result-extra-fields",
            ResultMissingFields => "result-missing-fields",
        }
    }

    /// Classes that are alternatives of one server behaviour (what S1 carries; when Set Chunk
    /// Size goes): a personality's own member replaces the reference's.
    pub fn family(self) -> &'static str {
        use Deviation::*;
        match self {
            S1DigestAbsent | S1DigestInvalid | S1DigestPresent => "s1-digest",
            SetChunkSizeBeforeResult | SetChunkSizeAfterResult => "set-chunk-size-timing",
            other => other.key(),
        }
    }

    /// What the server does, in a few words.
    pub fn describe(self) -> &'static str {
        use Deviation::*;
        match self {
            S0VersionNot3 => "S0 version is not 3",
            S1DigestAbsent => "S1 carries no digest",
            S1DigestInvalid => "S1 claims a digest (version bytes set) that does not validate",
            S1DigestPresent => "S1 carries a valid digest",
            S2EchoFrom8Only => "S2 echoes C1 from byte 8 only (bytes 0..8 differ)",
            S2NotEcho => "S2 does not echo C1, even from byte 8",
            S2AllZero => "S2 is 1536 zero bytes",
            S0S1S2SplitInTime => "S0, S1 and S2 arrive split in time (S0 alone first)",
            S2WithheldUntilC2 => "S2 is withheld until C2 has arrived",
            ChunkStreamOpenedType1 => "a chunk stream opens with a type-1 header",
            ChunkStreamOpenedType2 => "a chunk stream opens with a type-2 header",
            ChunkStreamOpenedType3 => "a chunk stream opens with a type-3 header",
            MessageStreamIdInheritedZero => {
                "a message's stream id is inherited as 0 (no type-0 header before it)"
            }
            ExtendedTimestampRepeatedOnType3 => {
                "the extended timestamp is repeated on type-3 continuation chunks"
            }
            ExtendedTimestampOmittedOnType3 => {
                "the extended timestamp is omitted on type-3 continuation chunks"
            }
            SetChunkSizeHuge => "Set Chunk Size above 16 MiB",
            SetChunkSizeBeforeResult => "Set Chunk Size before connect's _result",
            SetChunkSizeAfterResult => "Set Chunk Size after connect's _result",
            WindowAckTinyStrict => {
                "a tiny Window Acknowledgement Size, and the server waits for each acknowledgement"
            }
            AbortUnknownChunkStream => "Abort for a chunk stream the client never saw",
            ReleaseFcPublishResultMissing => "no _result for releaseStream / FCPublish",
            ReleaseFcPublishError => "_error for releaseStream / FCPublish",
            OnStatusMissing => "no onStatus after publish / play",
            OnStatusOnStream0 => "onStatus on message stream 0 instead of the created stream",
            OnStatusUnexpectedCode => "onStatus with an unexpected code",
            ResultExtraFields => "_result with extra fields",
            ResultMissingFields => "_result with fields missing",
        }
    }
}

/// Which clients a personality's deviation reaches: some depend on what the client sent or
/// does (a digest S1 only answers a digest C1; releaseStream is only answered if sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Toward {
    /// Every client.
    Every,
    /// Clients whose C1 carries a valid digest.
    DigestC1,
    /// Clients whose C1 carries no digest.
    SimpleC1,
    /// Publishers that send releaseStream and FCPublish (FMLE style).
    FmlePublishers,
    /// Every publisher.
    Publishers,
    /// Every player.
    Players,
}

impl Toward {
    pub const ALL: [Toward; 6] = [
        Toward::Every,
        Toward::DigestC1,
        Toward::SimpleC1,
        Toward::FmlePublishers,
        Toward::Publishers,
        Toward::Players,
    ];

    /// The name a personality file uses for it.
    pub fn key(self) -> &'static str {
        match self {
            Toward::Every => "every",
            Toward::DigestC1 => "digest-c1",
            Toward::SimpleC1 => "simple-c1",
            Toward::FmlePublishers => "fmle-publishers",
            Toward::Publishers => "publishers",
            Toward::Players => "players",
        }
    }
}

/// One deviation a personality exercises, and toward which clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exercise {
    pub deviation: Deviation,
    pub toward: Toward,
}

/// `deviation`, toward every client.
pub const fn every(deviation: Deviation) -> Exercise {
    Exercise {
        deviation,
        toward: Toward::Every,
    }
}

/// `deviation`, toward the clients `toward` names.
pub const fn toward(deviation: Deviation, toward: Toward) -> Exercise {
    Exercise { deviation, toward }
}
