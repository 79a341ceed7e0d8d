//! The protocol core's values print in the transcript's words: a message or a handshake
//! observation converts to the transcript's form of it, whose rendering is the only one (an
//! AMF0 value, which the transcript carries as it is, prints in `render::message`).
//! The core keeps no words of its own, so an error naming a value, an emulator's finding and a
//! transcript line always say it the same way.

use crate::protocol::handshake::HandshakeEvent;
use crate::protocol::message::{AudioInfo, Message, UserControl, VideoInfo};
use crate::transcript::{
    AudioTag, HandshakeObservation, MessageContent, UserControlEvent, VideoTag,
};
use std::fmt;

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
