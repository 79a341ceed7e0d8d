//! A stream's media summary in one line, and one media message in one line, rendered from
//! their fields.

use crate::transcript::{FrameType, MediaEvent, MediaKind, StreamMedia};
use std::fmt;

/// `C->S  media video ts=1040 (+40) csid=6 msid=1 len=4321  h264 key, cts 80` (the delta is
/// since the previous message of the kind on the stream; `sequence header` when it is one).
impl fmt::Display for MediaEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        };
        write!(
            f,
            "{}  media {kind} ts={}",
            self.direction.arrow(),
            self.timestamp
        )?;
        if let Some(delta) = self.delta {
            write!(f, " ({delta:+})")?;
        }
        write!(
            f,
            " csid={} msid={} len={}  {}",
            self.csid, self.stream_id, self.len, self.codec
        )?;
        if let Some(frame_type) = self.frame_type {
            f.write_str(match frame_type {
                FrameType::Key => " key",
                FrameType::Inter => " inter",
                FrameType::Disposable => " disposable",
                FrameType::GeneratedKey => " generated key",
                FrameType::Command => " command",
                FrameType::Other => " (unknown frame type)",
            })?;
        }
        if self.sequence_header {
            f.write_str(" sequence header")?;
        }
        if let Some(cts) = self.composition_time {
            write!(f, ", cts {cts}")?;
        }
        Ok(())
    }
}

/// `video h264 50 frames (2 key, every 1000 ms), audio aac 50 frames, 1960 ms, 12 kbit/s, A/V
/// drift -3 ms, 0 backwards timestamps, largest gap 40 ms`.
impl fmt::Display for StreamMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "video {} {} frames ({} key",
            self.video_codec.as_deref().unwrap_or("none"),
            self.video_frames,
            self.keyframes
        )?;
        if let Some(gop) = self.keyframe_interval_ms {
            write!(f, ", every {gop} ms")?;
        }
        write!(
            f,
            "), audio {} {} frames, {} ms",
            self.audio_codec.as_deref().unwrap_or("none"),
            self.audio_frames,
            self.duration_ms
        )?;
        if let Some(kbps) = self.bitrate_kbps {
            write!(f, ", {kbps} kbit/s")?;
        }
        if let Some(drift) = self.av_drift_ms {
            write!(f, ", A/V drift {drift} ms")?;
        }
        write!(
            f,
            ", {} backwards timestamps, largest gap {} ms",
            self.backwards_timestamps, self.largest_gap_ms
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::media::MediaStats;
    use crate::transcript::StreamMedia;
    use bytes::Bytes;

    fn b(x: &[u8]) -> Bytes {
        Bytes::copy_from_slice(x)
    }

    /// The line rendered from the fields is the one the statistics always gave, with and without the figures
    /// that need two keyframes, a timestamp span or both tracks.
    #[test]
    fn the_summary_from_fields_is_the_statistics_own_line() {
        let mut cases = vec![MediaStats::default()];
        let mut s = MediaStats::default();
        s.add(9, 0, &b(&[0x17, 0, 0, 0, 0, 1]));
        s.add(8, 0, &b(&[0xaf, 0, 0x12, 0x10]));
        for i in 0..50u32 {
            let key = i % 25 == 0;
            s.add(
                9,
                i * 40,
                &b(&[if key { 0x17 } else { 0x27 }, 1, 0, 0, 0, 9]),
            );
            s.add(8, i * 40 + 3, &b(&[0xaf, 1, 7, 7]));
        }
        s.add(9, 10, &b(&[0x27, 1, 0, 0, 0, 9])); // backwards
        cases.push(s);
        let mut audio_only = MediaStats::default();
        audio_only.add(8, 5, &b(&[0x2f, 1]));
        cases.push(audio_only);
        // The words serve and replay printed before the summary had fields.
        let lines = [
            "video none 0 frames (0 key), audio none 0 frames, 0 ms, 0 backwards timestamps, largest gap 0 ms",
            "video h264 51 frames (2 key, every 1000 ms), audio aac 50 frames, 1963 ms, 2 kbit/s, A/V drift -1953 ms, 1 backwards timestamps, largest gap 40 ms",
            "video none 0 frames (0 key), audio mp3 1 frames, 0 ms, 0 backwards timestamps, largest gap 0 ms",
        ];
        for (stats, line) in cases.iter().zip(lines) {
            assert_eq!(StreamMedia::from(stats).to_string(), line);
        }
        let media = StreamMedia::from(&cases[1]);
        assert_eq!(
            (media.video_frames, media.keyframes, media.audio_frames),
            (51, 2, 50)
        );
        assert_eq!(media.keyframe_interval_ms, Some(1000));
        assert_eq!(media.backwards_timestamps, 1);
        assert_eq!(media.video_codec.as_deref(), Some("h264"));
        let json = serde_json::to_value(&media).unwrap();
        assert_eq!(json["av_drift_ms"], serde_json::json!(media.av_drift_ms));
        assert!(StreamMedia::from(&cases[0]).bitrate_kbps.is_none());
    }
}
