//! Reading captures: pcap (micro- and nanosecond, either byte order) and pcapng, told apart by
//! their magic number, streamed frame by frame.
//!
//! [`link`] takes a frame down through its link layer, VLAN tags and tunnels to the TCP segment
//! inside. A truncated or corrupt file is an error that names the byte offset; what was read
//! before it has already been handed out.

pub mod link;
pub mod reassembly;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use std::io::Read;
use std::time::Duration;

/// One captured frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// 0-based position in the capture.
    pub index: u64,
    /// Byte offset of the frame's record in the file.
    pub offset: u64,
    /// Capture time since the Unix epoch.
    pub time: Duration,
    /// The link type (DLT/LINKTYPE number) of the interface it was captured on.
    pub link_type: u32,
    pub data: Vec<u8>,
}

/// One captured frame, borrowed from the reader until its next call; what the hot path of
/// replay uses, so a frame's bytes are not copied out of the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    pub index: u64,
    pub offset: u64,
    pub time: Duration,
    pub link_type: u32,
    pub data: &'a [u8],
}

impl FrameRef<'_> {
    pub fn to_frame(&self) -> Frame {
        Frame {
            index: self.index,
            offset: self.offset,
            time: self.time,
            link_type: self.link_type,
            data: self.data.to_vec(),
        }
    }
}

/// What is wrong with a capture file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("not a pcap or pcapng file: it starts with {magic:02x?} (pcap starts a1b2c3d4 or a1b23c4d in either byte order, pcapng 0a0d0d0a)")]
    UnknownFormat { magic: Vec<u8> },
    #[error("{format} file is damaged at byte {offset} (frame {index}): {problem}")]
    Damaged {
        format: &'static str,
        offset: u64,
        index: u64,
        problem: String,
    },
    #[error("reading the capture: {0}")]
    Io(#[from] std::io::Error),
}

/// The container format, from the first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap,
    PcapNg,
}

/// Tells pcap from pcapng by the magic number.
pub fn sniff(first: &[u8]) -> Option<Format> {
    match first.get(..4)? {
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => Some(Format::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Format::PcapNg),
        _ => None,
    }
}

/// The bytes after the magic number, with the magic put back in front.
type Source<R> = std::io::Chain<std::io::Cursor<[u8; 4]>, R>;

enum Inner<R: Read> {
    Pcap(PcapReader<Source<R>>),
    PcapNg {
        reader: PcapNgReader<Source<R>>,
        /// Link type and timestamp unit (in nanoseconds) of each interface, by interface id.
        link_types: Vec<(u32, u64)>,
    },
}

/// Frames of a capture, one at a time, in constant memory.
pub struct CaptureReader<R: Read> {
    inner: Inner<R>,
    next_index: u64,
    /// pcap: where the next record starts (exact). pcapng: the end of the last frame as far as
    /// it can be told without the block reader's buffer (approximate).
    offset: u64,
    failed: bool,
    /// Holds a frame's bytes when they cannot be lent straight from the format reader (pcapng,
    /// whose blocks are read in a loop); reused, so it costs a copy but no allocation.
    scratch: Vec<u8>,
}

impl<R: Read> CaptureReader<R> {
    /// Opens a capture, reading its magic number to choose the format.
    pub fn new(mut reader: R) -> Result<Self, CaptureError> {
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = reader.read(&mut magic[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let format = sniff(&magic[..got]).ok_or_else(|| CaptureError::UnknownFormat {
            magic: magic[..got].to_vec(),
        })?;
        let source = std::io::Cursor::new(magic).chain(reader);
        let damaged = |e: pcap_file::PcapError| CaptureError::Damaged {
            format: format.name(),
            offset: 0,
            index: 0,
            problem: format!("bad file header: {e}"),
        };
        let (inner, offset) = match format {
            Format::Pcap => (Inner::Pcap(PcapReader::new(source).map_err(damaged)?), 24),
            Format::PcapNg => (
                Inner::PcapNg {
                    reader: PcapNgReader::new(source).map_err(damaged)?,
                    link_types: Vec::new(),
                },
                0,
            ),
        };
        Ok(Self {
            inner,
            next_index: 0,
            offset,
            failed: false,
            scratch: Vec::new(),
        })
    }

    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Pcap(_) => Format::Pcap,
            Inner::PcapNg { .. } => Format::PcapNg,
        }
    }

    /// The next frame; `None` at the end; after an error, `None`.
    pub fn next_frame(&mut self) -> Option<Result<Frame, CaptureError>> {
        self.next_frame_ref().map(|r| r.map(|f| f.to_frame()))
    }

    /// The next frame, borrowed until the next call; `None` at the end; after an error, `None`.
    pub fn next_frame_ref(&mut self) -> Option<Result<FrameRef<'_>, CaptureError>> {
        if self.failed {
            return None;
        }
        let format = self.format();
        let Self {
            inner,
            next_index,
            offset,
            failed,
            scratch,
        } = self;
        let (index, at) = (*next_index, *offset);
        let result: Result<(Duration, u32, &[u8]), String> = match inner {
            Inner::Pcap(reader) => {
                let link_type = u32::from(reader.header().datalink);
                match reader.next_packet()? {
                    Ok(p) => Ok((
                        p.timestamp,
                        link_type,
                        match p.data {
                            std::borrow::Cow::Borrowed(data) => data,
                            std::borrow::Cow::Owned(data) => {
                                *scratch = data;
                                scratch.as_slice()
                            }
                        },
                    )),
                    Err(e) => Err(e.to_string()),
                }
            }
            Inner::PcapNg { reader, link_types } => loop {
                match reader.next_block()? {
                    Err(e) => break Err(e.to_string()),
                    Ok(Block::InterfaceDescription(idb)) => {
                        link_types.push((u32::from(idb.linktype), timestamp_unit_ns(&idb.options)))
                    }
                    Ok(Block::EnhancedPacket(epb)) => {
                        let Some(&(link_type, unit_ns)) = link_types.get(epb.interface_id as usize)
                        else {
                            break Err(format!(
                                "a packet names interface {} but only {} are described",
                                epb.interface_id,
                                link_types.len()
                            ));
                        };
                        scratch.clear();
                        scratch.extend_from_slice(&epb.data);
                        // pcap-file reads the raw count as nanoseconds; scale it by the
                        // interface's real unit.
                        let time = Duration::from_nanos(
                            (epb.timestamp.as_nanos() as u64).saturating_mul(unit_ns),
                        );
                        break Ok((time, link_type, scratch.as_slice()));
                    }
                    Ok(Block::SimplePacket(spb)) => {
                        let link_type = link_types.first().map_or(1, |l| l.0);
                        scratch.clear();
                        scratch.extend_from_slice(&spb.data);
                        break Ok((Duration::ZERO, link_type, scratch.as_slice()));
                    }
                    Ok(_) => continue,
                }
            },
        };
        match result {
            Ok((time, link_type, data)) => {
                *next_index += 1;
                *offset += match format {
                    Format::Pcap => 16 + data.len() as u64,
                    // An enhanced packet block: 28 bytes of header and trailer, padded data.
                    Format::PcapNg => 32 + data.len().div_ceil(4) as u64 * 4,
                };
                Some(Ok(FrameRef {
                    index,
                    offset: at,
                    time,
                    link_type,
                    data,
                }))
            }
            Err(problem) => {
                *failed = true;
                Some(Err(CaptureError::Damaged {
                    format: format.name(),
                    offset: at,
                    index,
                    problem,
                }))
            }
        }
    }
}

/// Nanoseconds per timestamp unit of a pcapng interface: if_tsresol is 10^-n seconds, or 2^-n
/// with the high bit set; microseconds when absent.
fn timestamp_unit_ns(
    options: &[pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption],
) -> u64 {
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
    let resol = options.iter().find_map(|o| match o {
        InterfaceDescriptionOption::IfTsResol(r) => Some(*r),
        _ => None,
    });
    match resol {
        None => 1_000,
        Some(r) if r & 0x80 == 0 && r <= 9 => 10u64.pow(9 - r as u32),
        // Finer than a nanosecond or a power of two: nanoseconds is the closest this keeps.
        Some(_) => 1,
    }
}

impl<R: Read> Iterator for CaptureReader<R> {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_frame()
    }
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }
}
