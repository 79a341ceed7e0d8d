//! The FLV-style tag headers at the start of audio (8) and video (9) messages, read without
//! copying the payload. Covers the legacy codec ids and Enhanced RTMP's FourCC headers.

use bytes::Bytes;

/// What an audio message's first bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioInfo {
    /// Sound format (10 AAC, 2 MP3, 11 Speex, 9 Enhanced RTMP ex-header, ...).
    pub format: u8,
    /// Rate index 0..=3 (5.5, 11, 22, 44 kHz).
    pub rate: u8,
    pub sixteen_bit: bool,
    pub stereo: bool,
    /// AAC: 0 sequence header, 1 raw frame.
    pub aac_packet_type: Option<u8>,
    /// Enhanced RTMP audio: packet type and FourCC (`mp4a`, `Opus`, `fLaC`, `ac-3`, ...).
    pub ex_header: Option<(u8, [u8; 4])>,
    /// The whole payload, header included (a cheap reference, not a copy).
    pub payload: Bytes,
}

impl AudioInfo {
    pub fn parse(payload: &Bytes) -> AudioInfo {
        let first = payload.first().copied().unwrap_or(0);
        let format = first >> 4;
        let ex_header = (format == 9)
            .then(|| {
                payload
                    .get(1..5)
                    .map(|f| (first & 0x0f, [f[0], f[1], f[2], f[3]]))
            })
            .flatten();
        AudioInfo {
            format,
            rate: (first >> 2) & 3,
            sixteen_bit: first & 2 != 0,
            stereo: first & 1 != 0,
            aac_packet_type: (format == 10).then(|| payload.get(1).copied()).flatten(),
            ex_header,
            payload: payload.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    pub fn is_sequence_header(&self) -> bool {
        self.aac_packet_type == Some(0) || matches!(self.ex_header, Some((0, _)))
    }

    pub fn codec_name(&self) -> String {
        if let Some((_, fourcc)) = self.ex_header {
            return String::from_utf8_lossy(&fourcc).into_owned();
        }
        match self.format {
            0 | 3 => "pcm",
            1 => "adpcm",
            2 | 14 => "mp3",
            4..=6 => "nellymoser",
            7 => "g711a",
            8 => "g711u",
            10 => "aac",
            11 => "speex",
            _ => "other",
        }
        .to_string()
    }
}

/// The codec of a video message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoCodec {
    /// The FLV codec id (7 AVC, 12 HEVC as some Chinese CDNs use it, 2 Sorenson, ...).
    Legacy(u8),
    /// Enhanced RTMP: `avc1`, `hvc1`, `av01`, `vp09`, ...
    FourCc([u8; 4]),
}

impl VideoCodec {
    pub fn name(&self) -> String {
        match self {
            VideoCodec::Legacy(2) => "h263".into(),
            VideoCodec::Legacy(3) => "screen".into(),
            VideoCodec::Legacy(4) => "vp6".into(),
            VideoCodec::Legacy(5) => "vp6a".into(),
            VideoCodec::Legacy(6) => "screen2".into(),
            VideoCodec::Legacy(7) => "h264".into(),
            VideoCodec::Legacy(12) => "hevc".into(),
            VideoCodec::Legacy(id) => format!("codec-{id}"),
            VideoCodec::FourCc(f) => String::from_utf8_lossy(f).into_owned(),
        }
    }
}

/// What kind of video packet it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoPacket {
    /// Codec configuration (AVC packet type 0, E-RTMP SequenceStart).
    SequenceHeader,
    /// Coded frames with a composition time offset in ms (AVC packet type 1, E-RTMP CodedFrames).
    Coded {
        composition_time: i32,
    },
    /// Coded frames without a composition time (E-RTMP CodedFramesX).
    CodedNoCompositionTime,
    EndOfSequence,
    /// E-RTMP Metadata (4) or MPEG2-TS SequenceStart (5).
    Metadata,
    Mpeg2TsSequenceStart,
    /// A codec without packet types (Sorenson, VP6, ...).
    Frame,
    Other(u8),
}

/// What a video message's first bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    /// 1 key frame, 2 inter frame, 3 disposable, 4 generated key, 5 info/command.
    pub frame_type: u8,
    pub codec: VideoCodec,
    pub packet: VideoPacket,
    pub payload: Bytes,
}

fn si24(b: &[u8]) -> i32 {
    let v = (b[0] as i32) << 16 | (b[1] as i32) << 8 | b[2] as i32;
    (v << 8) >> 8
}

impl VideoInfo {
    pub fn parse(payload: &Bytes) -> VideoInfo {
        let p = &payload[..];
        let first = p.first().copied().unwrap_or(0);
        let frame_type = (first >> 4) & 0x07;
        let (codec, packet) = if first & 0x80 != 0 {
            let fourcc = p.get(1..5).map_or([0; 4], |f| [f[0], f[1], f[2], f[3]]);
            let packet = match first & 0x0f {
                0 => VideoPacket::SequenceHeader,
                1 => {
                    // Only AVC and HEVC carry a composition time in CodedFrames.
                    let has_cts = matches!(&fourcc, b"avc1" | b"hvc1");
                    match (has_cts, p.get(5..8)) {
                        (true, Some(b)) => VideoPacket::Coded {
                            composition_time: si24(b),
                        },
                        _ => VideoPacket::CodedNoCompositionTime,
                    }
                }
                2 => VideoPacket::EndOfSequence,
                3 => VideoPacket::CodedNoCompositionTime,
                4 => VideoPacket::Metadata,
                5 => VideoPacket::Mpeg2TsSequenceStart,
                other => VideoPacket::Other(other),
            };
            (VideoCodec::FourCc(fourcc), packet)
        } else {
            let id = first & 0x0f;
            let packet = if matches!(id, 7 | 12) {
                match p.get(1) {
                    Some(0) => VideoPacket::SequenceHeader,
                    Some(1) => VideoPacket::Coded {
                        composition_time: p.get(2..5).map_or(0, si24),
                    },
                    Some(2) => VideoPacket::EndOfSequence,
                    Some(&other) => VideoPacket::Other(other),
                    None => VideoPacket::Frame,
                }
            } else {
                VideoPacket::Frame
            };
            (VideoCodec::Legacy(id), packet)
        };
        VideoInfo {
            frame_type,
            codec,
            packet,
            payload: payload.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    pub fn is_keyframe(&self) -> bool {
        self.frame_type == 1
    }
}
