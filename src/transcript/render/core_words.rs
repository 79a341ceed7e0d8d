//! The protocol core's values print in the transcript's words: an AMF0 value, a message, a
//! handshake observation converts to its transcript mirror, whose rendering is the only one.
//! The core keeps no words of its own, so an error naming a value, an emulator's finding and a
//! transcript line always say it the same way.

use crate::protocol::amf0::Amf0Value;
use crate::protocol::handshake::HandshakeEvent;
use crate::protocol::message::{AudioInfo, Message, UserControl, VideoInfo};
use crate::transcript::{
    AmfValue, AudioTag, HandshakeObservation, MessageContent, UserControlEvent, VideoTag,
};
use std::fmt;

/// Compact, JSON-like: `{app: "live", capabilities: 15}`.
impl fmt::Display for Amf0Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        AmfValue::from(self).fmt(f)
    }
}

/// The one-line summary: `command connect #1 {app: "live"}`, `video key h264 seq-header 45 B`.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        MessageContent::of(Ok(self)).fmt(f)
    }
}

impl fmt::Display for UserControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        UserControlEvent::from(self).fmt(f)
    }
}

impl fmt::Display for AudioInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        AudioTag::from(self).fmt(f)
    }
}

impl fmt::Display for VideoInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        VideoTag::from(self).fmt(f)
    }
}

/// The observation in one sentence: `C0 version 0 (deprecated; answered as version 3)`.
impl fmt::Display for HandshakeEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        HandshakeObservation::from(self).fmt(f)
    }
}
