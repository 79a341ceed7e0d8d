//! The RTMP handshake.
