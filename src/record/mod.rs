//! Recordings of sessions: FLV files of published streams.

pub mod flv;
