//! Media statistics of one published stream: what a person checking an encoder wants to know
//! (codecs, frame counts, keyframe interval, bitrate, timestamp behaviour, audio/video drift).
//!
//! Timestamps keep all 32 bits (RTMP specification 5.3.1.3) and are compared by serial number
//! arithmetic (RFC 1982), as the specification asks: 0x00000010 comes 32 ms after 0xFFFFFFF0,
//! it does not go back 49 days. Some implementations keep 31 bits: SRS masks extended
//! timestamps with 0x7FFFFFFF (srs_protocol_rtmp_stack.cpp), and FFmpeg's FLV muxer writes the
//! top byte masked with 0x7F ("timestamps are 32 bits _signed_", flvenc.c), so a stream past
//! 2^31 ms (24.8 days) recorded by `ffmpeg -c copy -f flv` jumps back by 2^31 ms.

use crate::protocol::message::{AudioInfo, VideoInfo, VideoPacket};
use bytes::Bytes;

/// Accumulates statistics from the FLV tag bytes of audio (8) and video (9) messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaStats {
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub video_frames: u64,
    pub keyframes: u64,
    pub audio_frames: u64,
    pub video_sequence_headers: u64,
    pub audio_sequence_headers: u64,
    /// End-of-sequence markers (FFmpeg's FLV muxer ends an H.264 stream with one).
    pub video_end_of_sequence: u64,
    pub media_bytes: u64,
    first_ts: Option<u32>,
    last_video_ts: Option<u32>,
    last_audio_ts: Option<u32>,
    last_keyframe_ts: Option<u32>,
    keyframe_intervals_ms: Vec<u32>,
    /// Timestamps that went backwards on the same track (a decoder may drop or reorder).
    pub backwards_timestamps: u64,
    /// Largest forward jump between consecutive frames of one track, in ms.
    pub largest_gap_ms: u32,
}

impl MediaStats {
    /// Takes one audio or video message (`type_id` 8 or 9) with its absolute timestamp; the
    /// tag header is read by the message layer's parsers.
    pub fn add(&mut self, type_id: u8, timestamp: u32, payload: &Bytes) {
        if payload.is_empty() {
            return;
        }
        self.media_bytes += payload.len() as u64;
        self.first_ts.get_or_insert(timestamp);
        match type_id {
            9 => self.add_video(timestamp, &VideoInfo::parse(payload)),
            8 => self.add_audio(timestamp, &AudioInfo::parse(payload)),
            _ => {}
        }
    }

    fn add_video(&mut self, timestamp: u32, v: &VideoInfo) {
        if v.packet == VideoPacket::SequenceHeader {
            self.video_sequence_headers += 1;
            self.video_codec = Some(v.codec.name());
            return;
        }
        if self.video_codec.is_none() {
            self.video_codec = Some(v.codec.name());
        }
        if v.packet == VideoPacket::EndOfSequence {
            // Marked as a keyframe but carries no picture.
            self.video_end_of_sequence += 1;
            return;
        }
        if v.frame_type == 5 {
            return; // video info / command frame, not a picture
        }
        self.video_frames += 1;
        track_timing(
            &mut self.last_video_ts,
            timestamp,
            &mut self.backwards_timestamps,
            &mut self.largest_gap_ms,
        );
        if v.is_keyframe() {
            self.keyframes += 1;
            if let Some(last) = self.last_keyframe_ts {
                self.keyframe_intervals_ms
                    .push(timestamp.wrapping_sub(last));
            }
            self.last_keyframe_ts = Some(timestamp);
        }
    }

    fn add_audio(&mut self, timestamp: u32, a: &AudioInfo) {
        self.audio_codec.get_or_insert_with(|| a.codec_name());
        if a.is_sequence_header() {
            self.audio_sequence_headers += 1;
            return;
        }
        self.audio_frames += 1;
        track_timing(
            &mut self.last_audio_ts,
            timestamp,
            &mut self.backwards_timestamps,
            &mut self.largest_gap_ms,
        );
    }

    /// Span of media timestamps seen, in ms.
    pub fn duration_ms(&self) -> u32 {
        let last = match (self.last_video_ts, self.last_audio_ts) {
            (Some(v), Some(a)) => Some(if serial_delta(a, v) > 0 { v } else { a }),
            (v, a) => v.or(a),
        };
        match (self.first_ts, last) {
            (Some(first), Some(last)) => last.wrapping_sub(first),
            _ => 0,
        }
    }

    /// Mean interval between keyframes, in ms.
    pub fn keyframe_interval_ms(&self) -> Option<u32> {
        let n = self.keyframe_intervals_ms.len();
        (n > 0).then(|| {
            (self
                .keyframe_intervals_ms
                .iter()
                .map(|&i| i as u64)
                .sum::<u64>()
                / n as u64) as u32
        })
    }

    /// Average bitrate over the timestamp span, in kbit/s.
    pub fn bitrate_kbps(&self) -> Option<u64> {
        let ms = self.duration_ms() as u64;
        (ms > 0).then(|| self.media_bytes * 8 / ms)
    }

    /// Last video timestamp minus last audio timestamp: how far the tracks have drifted apart.
    pub fn av_drift_ms(&self) -> Option<i64> {
        Some(serial_delta(self.last_audio_ts?, self.last_video_ts?))
    }
}

/// How far `to` is after `from` in ms, by serial number arithmetic on 32 bits (RFC 1982, as RTMP
/// specification 5.3.1.3 asks): negative when `to` is before `from`, and across the wrap at 2^32
/// the small step it is.
pub fn serial_delta(from: u32, to: u32) -> i64 {
    i64::from(to.wrapping_sub(from) as i32)
}

fn track_timing(last: &mut Option<u32>, ts: u32, backwards: &mut u64, largest_gap: &mut u32) {
    if let Some(prev) = *last {
        let delta = serial_delta(prev, ts);
        if delta < 0 {
            *backwards += 1;
        } else {
            *largest_gap = (*largest_gap).max(delta as u32);
        }
    }
    *last = Some(ts);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: &[u8]) -> Bytes {
        Bytes::copy_from_slice(x)
    }

    #[test]
    fn counts_frames_keyframes_and_headers_for_h264_and_aac() {
        let mut s = MediaStats::default();
        s.add(9, 0, &b(&[0x17, 0, 0, 0, 0, 1])); // AVC sequence header
        s.add(8, 0, &b(&[0xaf, 0, 0x12, 0x10])); // AAC sequence header
        for i in 0..50u32 {
            let key = i % 25 == 0;
            s.add(
                9,
                i * 40,
                &b(&[if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 9, 9]),
            );
            s.add(8, i * 40 + 3, &b(&[0xaf, 1, 7, 7]));
        }
        s.add(9, 1960, &b(&[0x17, 2, 0, 0, 0])); // AVC end of sequence: not a frame
        assert_eq!((s.video_frames, s.keyframes, s.audio_frames), (50, 2, 50));
        assert_eq!(s.video_end_of_sequence, 1);
        assert_eq!((s.video_sequence_headers, s.audio_sequence_headers), (1, 1));
        assert_eq!(s.video_codec.as_deref(), Some("h264"));
        assert_eq!(s.audio_codec.as_deref(), Some("aac"));
        assert_eq!(s.keyframe_interval_ms(), Some(1000));
        assert_eq!(s.av_drift_ms(), Some(-3));
        assert_eq!(s.backwards_timestamps, 0);
        assert_eq!(s.largest_gap_ms, 40);
        let text = crate::transcript::StreamMedia::from(&s).to_string();
        assert!(
            text.contains("h264 50 frames (2 key, every 1000 ms)"),
            "{text}"
        );
    }

    #[test]
    fn timestamps_wrap_at_2_pow_32_without_going_backwards() {
        let mut s = MediaStats::default();
        for i in 0..4u32 {
            let ts = 0xFFFF_FFD0u32.wrapping_add(i * 40);
            s.add(9, ts, &b(&[0x17, 1, 0, 0, 0, 9])); // 0xFFFFFFD0, 0xFFFFFFF8, 0x20, 0x48
            s.add(8, ts.wrapping_add(3), &b(&[0xaf, 1, 7]));
        }
        assert_eq!(s.backwards_timestamps, 0);
        assert_eq!(s.largest_gap_ms, 40);
        assert_eq!(
            s.duration_ms(),
            123,
            "audio last, 3 ms after the last video"
        );
        assert_eq!(s.av_drift_ms(), Some(-3));
        assert_eq!(s.keyframe_interval_ms(), Some(40));
        assert_eq!(serial_delta(0xFFFF_FFF0, 0x10), 32);
        assert_eq!(serial_delta(0x10, 0xFFFF_FFF0), -32);
    }

    #[test]
    fn notices_backwards_timestamps_and_enhanced_rtmp_fourcc() {
        let mut s = MediaStats::default();
        s.add(9, 0, &b(&[0x90, b'h', b'v', b'c', b'1', 1])); // E-RTMP SequenceStart
        s.add(9, 100, &b(&[0x93, b'h', b'v', b'c', b'1', 0])); // key, CodedFramesX
        s.add(9, 50, &b(&[0xa3, b'h', b'v', b'c', b'1', 0])); // inter, backwards
        assert_eq!(s.video_codec.as_deref(), Some("hvc1"));
        assert_eq!(
            (s.video_frames, s.keyframes, s.backwards_timestamps),
            (2, 1, 1)
        );
    }
}
