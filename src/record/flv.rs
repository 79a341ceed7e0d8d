//! One FLV file per published stream, written as the media arrives.
//!
//! Tags are written through as they come, so a process that dies leaves a file that plays up to
//! its last complete tag. [`FlvRecorder::finish`] then makes it tidy: the header's audio/video
//! flags say what was really written, and the metadata's `duration` and `filesize` are patched
//! in place (live encoders send 0 for both).

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// FLV tag types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    Audio = 8,
    Video = 9,
    Script = 18,
}

impl TagKind {
    /// The tag kind of an RTMP message type (data 18 and AMF3 data 15 are both script data).
    pub fn from_message_type(type_id: u8) -> Option<TagKind> {
        match type_id {
            8 => Some(TagKind::Audio),
            9 => Some(TagKind::Video),
            15 | 18 => Some(TagKind::Script),
            _ => None,
        }
    }
}

/// `@setDataFrame` as an AMF0 string: RTMP publishers wrap metadata in it; FLV files do not.
const SET_DATA_FRAME: &[u8] = b"\x02\x00\x0d@setDataFrame";

/// Strips a leading `@setDataFrame` from a script payload.
pub fn strip_set_data_frame(payload: &[u8]) -> &[u8] {
    payload.strip_prefix(SET_DATA_FRAME).unwrap_or(payload)
}

/// Writes an FLV file tag by tag.
pub struct FlvRecorder<W: Write + Seek> {
    out: BufWriter<W>,
    first_timestamp: Option<u32>,
    last_timestamp: u32,
    has_audio: bool,
    has_video: bool,
    bytes: u64,
    /// File offset of the first onMetaData tag's data, and the data itself as written.
    metadata: Option<(u64, Vec<u8>)>,
}

/// What has been recorded; the writer is left out.
impl<W: Write + Seek> std::fmt::Debug for FlvRecorder<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlvRecorder")
            .field("bytes", &self.bytes)
            .field("has_audio", &self.has_audio)
            .field("has_video", &self.has_video)
            .field("first_timestamp", &self.first_timestamp)
            .field("last_timestamp", &self.last_timestamp)
            .finish_non_exhaustive()
    }
}

impl FlvRecorder<File> {
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::new(File::create(path)?)
    }
}

impl<W: Write + Seek> FlvRecorder<W> {
    pub fn new(out: W) -> io::Result<Self> {
        let mut out = BufWriter::new(out);
        // Signature, version 1, flags (patched on finish), header size 9, PreviousTagSize0.
        out.write_all(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")?;
        Ok(Self {
            out,
            first_timestamp: None,
            last_timestamp: 0,
            has_audio: false,
            has_video: false,
            bytes: 13,
            metadata: None,
        })
    }

    /// Appends one tag; timestamps are rebased so the first tag is at 0.
    pub fn write_tag(&mut self, kind: TagKind, timestamp: u32, payload: &[u8]) -> io::Result<()> {
        let payload = if kind == TagKind::Script {
            strip_set_data_frame(payload)
        } else {
            payload
        };
        if payload.len() > 0xFF_FFFF {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a tag of {} bytes does not fit FLV's 24-bit size",
                    payload.len()
                ),
            ));
        }
        let first = *self.first_timestamp.get_or_insert(timestamp);
        let ts = timestamp.wrapping_sub(first);
        self.last_timestamp = self.last_timestamp.max(ts);
        match kind {
            TagKind::Audio => self.has_audio = true,
            TagKind::Video => self.has_video = true,
            TagKind::Script => {
                if self.metadata.is_none() && payload.starts_with(b"\x02\x00\x0aonMetaData") {
                    self.metadata = Some((self.bytes + 11, payload.to_vec()));
                }
            }
        }
        let len = payload.len() as u32;
        let mut header = [0u8; 11];
        header[0] = kind as u8;
        header[1..4].copy_from_slice(&len.to_be_bytes()[1..]);
        header[4..7].copy_from_slice(&ts.to_be_bytes()[1..]);
        header[7] = (ts >> 24) as u8;
        self.out.write_all(&header)?;
        self.out.write_all(payload)?;
        self.out.write_all(&(11 + len).to_be_bytes())?;
        self.bytes += 11 + len as u64 + 4;
        Ok(())
    }

    /// Finalises the file (header flags, metadata duration and size) and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        let duration = self.last_timestamp as f64 / 1000.0;
        let flags = (self.has_audio as u8) << 2 | self.has_video as u8;
        let (bytes, metadata) = (self.bytes, self.metadata);
        let mut out = self.out.into_inner().map_err(|e| e.into_error())?;
        out.seek(SeekFrom::Start(4))?;
        out.write_all(&[flags])?;
        if let Some((offset, data)) = metadata {
            for (key, value) in [("duration", duration), ("filesize", bytes as f64)] {
                if let Some(at) = number_field(&data, key) {
                    out.seek(SeekFrom::Start(offset + at as u64))?;
                    out.write_all(&value.to_be_bytes())?;
                }
            }
        }
        out.seek(SeekFrom::End(0))?;
        out.flush()?;
        Ok(out)
    }
}

/// Offset of the 8-byte value of the AMF0 number stored under `key` (key string, then the
/// number marker 0x00) inside a script payload.
fn number_field(data: &[u8], key: &str) -> Option<usize> {
    let mut pattern = (key.len() as u16).to_be_bytes().to_vec();
    pattern.extend_from_slice(key.as_bytes());
    pattern.push(0x00);
    let at = data
        .windows(pattern.len())
        .position(|w| w == pattern.as_slice())?;
    let value = at + pattern.len();
    (value + 8 <= data.len()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::amf0::{self, Amf0Value};
    use bytes::BytesMut;
    use std::io::Cursor;

    fn metadata() -> Vec<u8> {
        let mut out = BytesMut::new();
        amf0::encode_all(
            &[
                Amf0Value::string("@setDataFrame"),
                Amf0Value::string("onMetaData"),
                Amf0Value::EcmaArray {
                    count_hint: 2,
                    pairs: vec![
                        ("duration".into(), Amf0Value::Number(0.0)),
                        ("filesize".into(), Amf0Value::Number(0.0)),
                    ],
                },
            ],
            &mut out,
        );
        out.to_vec()
    }

    #[test]
    fn tags_are_laid_out_and_the_file_is_finalised() {
        let mut rec = FlvRecorder::new(Cursor::new(Vec::new())).unwrap();
        rec.write_tag(TagKind::Script, 5000, &metadata()).unwrap();
        rec.write_tag(TagKind::Video, 5000, b"\x17\x00\x00\x00\x00")
            .unwrap();
        rec.write_tag(TagKind::Video, 7500, b"\x27\x01\x00\x00\x00")
            .unwrap();
        let file = rec.finish().unwrap().into_inner();
        assert_eq!(&file[..3], b"FLV");
        assert_eq!(file[4], 0x01, "video only");
        // The first tag is the metadata, without @setDataFrame, at timestamp 0.
        assert_eq!(file[13], 18);
        assert_eq!(&file[17..21], &[0, 0, 0, 0]);
        let meta_len = u32::from_be_bytes([0, file[14], file[15], file[16]]) as usize;
        let meta = &file[24..24 + meta_len];
        let values = amf0::decode_all(meta).unwrap();
        assert_eq!(values[0].as_str(), Some("onMetaData"));
        assert_eq!(
            values[1].get("duration").and_then(Amf0Value::as_number),
            Some(2.5)
        );
        assert_eq!(
            values[1].get("filesize").and_then(Amf0Value::as_number),
            Some(file.len() as f64)
        );
        // The last tag's PreviousTagSize closes the file.
        let last = u32::from_be_bytes(file[file.len() - 4..].try_into().unwrap());
        assert_eq!(last, 11 + 5);
    }
}
