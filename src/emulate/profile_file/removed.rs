//! The fields of older profile files that said what a `[tolerance]` row says, and the rows that
//! say it now.

/// A field of older profile files that said what a `[tolerance]` row says. A file that still
/// has one is refused with the rows that replace it rather than read as an alias, so that no
/// reaction can be said twice (and one of the two silently win).
pub(super) struct Removed {
    pub table: &'static str,
    pub key: &'static str,
    pub instead: &'static str,
}

impl Removed {
    pub const FIRST_READ_NEEDS_S0_S1: Removed = Removed {
        table: "handshake",
        key: "first_read_needs_s0_s1",
        instead: "write s0-s1-s2-split-in-time = \"fail:handshake\" there for true (the client \
                  resets unless its first read holds S0+S1), \"accept\" for false",
    };
    pub const S2_CHECK: Removed = Removed {
        table: "handshake",
        key: "s2_check",
        instead: "write s2-not-echo and s2-all-zero there: \"accept\" for \"ignore\", \"warn\" \
                  for \"warn\", \"fail:handshake\" for \"require-echo-from-8\"",
    };
    pub const SERVER_VALIDATION: Removed = Removed {
        table: "handshake",
        key: "server_validation",
        instead: "write s1-digest-invalid = \"fail:handshake\" there for \"ffmpeg-play\" (the \
                  client then also checks S2's signature, as FFmpeg playing does), \"accept\" for \
                  \"none\"",
    };
    pub const STRICT_S0: Removed = Removed {
        table: "handshake",
        key: "strict_s0",
        instead: "write s0-version-not-3 = \"fail:handshake\" there for true, \"accept\" for false",
    };
    pub const STRICT_STREAM_IDS: Removed = Removed {
        table: "session",
        key: "strict_stream_ids",
        instead: "write on-status-on-stream-0 = \"stall:publish\" (\"stall:play\" for a player) \
                  there for true (the client then takes status and media only on its own \
                  stream), \"accept\" for false",
    };
    pub const ZEROED_CHUNK_OPENING: Removed = Removed {
        table: "session",
        key: "zeroed_chunk_opening",
        instead: "write chunk-stream-opened-type-1, -2 and -3 = \"accept\" there for true; \
                  false was the specification's strict reading, which a class without a row \
                  gets",
    };
}
