//! The media the emulated publishers send: a two-second H.264 + AAC clip (160x120, 25 fps,
//! made with FFmpeg's test sources) bundled as FLV, so a case publishes media that decodes with
//! nothing installed.

use bytes::Bytes;

static CLIP: &[u8] = include_bytes!("clip.flv");

/// One FLV tag of the clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// 8 audio, 9 video, 18 script data.
    pub type_id: u8,
    pub timestamp: u32,
    pub payload: Bytes,
}

/// The clip's tags in file order.
pub fn tags() -> Vec<Tag> {
    parse(&Bytes::from_static(CLIP)).expect("the bundled clip is a valid FLV file")
}

/// The clip's length in ms (the last tag's timestamp plus one frame).
pub fn duration_ms(tags: &[Tag]) -> u32 {
    tags.iter().map(|t| t.timestamp).max().unwrap_or(0) + 40
}

/// Parses FLV tags (payloads are slices of `flv`, not copies); None when the bytes are not FLV
/// or a tag is cut short.
pub fn parse(flv: &Bytes) -> Option<Vec<Tag>> {
    if flv.get(..3)? != b"FLV" {
        return None;
    }
    let header_len = u32::from_be_bytes(flv.get(5..9)?.try_into().ok()?) as usize;
    let mut at = header_len + 4;
    let mut tags = Vec::new();
    while at + 11 <= flv.len() {
        let h = &flv[at..at + 11];
        let len = (h[1] as usize) << 16 | (h[2] as usize) << 8 | h[3] as usize;
        let timestamp =
            (h[7] as u32) << 24 | (h[4] as u32) << 16 | (h[5] as u32) << 8 | h[6] as u32;
        let body = at + 11;
        if body + len > flv.len() {
            return None;
        }
        tags.push(Tag {
            type_id: h[0],
            timestamp,
            payload: flv.slice(body..body + len),
        });
        at = body + len + 4;
    }
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{AudioInfo, VideoInfo, VideoPacket};

    #[test]
    fn the_clip_is_two_seconds_of_h264_and_aac_with_headers_first() {
        let tags = tags();
        assert_eq!(tags[0].type_id, 18, "metadata first");
        let video: Vec<&Tag> = tags.iter().filter(|t| t.type_id == 9).collect();
        let audio: Vec<&Tag> = tags.iter().filter(|t| t.type_id == 8).collect();
        assert_eq!(
            VideoInfo::parse(&video[0].payload).packet,
            VideoPacket::SequenceHeader
        );
        assert!(AudioInfo::parse(&audio[0].payload).is_sequence_header());
        assert_eq!(
            video.len(),
            52,
            "sequence header + 51 frames (2.04 s at 25 fps)"
        );
        assert!((1900..=2100).contains(&duration_ms(&tags)));
        assert!(parse(&Bytes::from_static(b"not flv")).is_none());
    }
}
