//! The media of one stream as fields: what serve (per published stream) and replay (per flow)
//! report at the end, rendered as one line of text from these fields.

use crate::media::MediaStats;
use serde::{Deserialize, Serialize};

/// Codecs, frame counts, keyframe interval, duration, bitrate, A/V drift and timestamp
/// anomalies of one stream. Optional figures are null when there was nothing to measure them
/// on (no two keyframes, no timestamp span, not both tracks).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StreamMedia {
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub video_frames: u64,
    pub keyframes: u64,
    /// Mean interval between keyframes.
    pub keyframe_interval_ms: Option<u32>,
    pub audio_frames: u64,
    pub video_sequence_headers: u64,
    pub audio_sequence_headers: u64,
    pub video_end_of_sequence: u64,
    /// Audio and video payload bytes, tag headers included.
    pub media_bytes: u64,
    /// Span of media timestamps seen.
    pub duration_ms: u32,
    /// Average over the timestamp span.
    pub bitrate_kbps: Option<u64>,
    /// Last video timestamp minus last audio timestamp.
    pub av_drift_ms: Option<i64>,
    /// Timestamps that went backwards on the same track.
    pub backwards_timestamps: u64,
    /// Largest forward jump between consecutive frames of one track.
    pub largest_gap_ms: u32,
}

impl From<&MediaStats> for StreamMedia {
    fn from(s: &MediaStats) -> Self {
        StreamMedia {
            video_codec: s.video_codec.clone(),
            audio_codec: s.audio_codec.clone(),
            video_frames: s.video_frames,
            keyframes: s.keyframes,
            keyframe_interval_ms: s.keyframe_interval_ms(),
            audio_frames: s.audio_frames,
            video_sequence_headers: s.video_sequence_headers,
            audio_sequence_headers: s.audio_sequence_headers,
            video_end_of_sequence: s.video_end_of_sequence,
            media_bytes: s.media_bytes,
            duration_ms: s.duration_ms(),
            bitrate_kbps: s.bitrate_kbps(),
            av_drift_ms: s.av_drift_ms(),
            backwards_timestamps: s.backwards_timestamps,
            largest_gap_ms: s.largest_gap_ms,
        }
    }
}
