//! Recordings of sessions: FLV files of published streams, pcap files of what was read and written.

pub mod flv;
pub mod pcap;
