//! RTMP messages.
