//! Reading captures: pcap (micro- and nanosecond, either byte order) and pcapng, told apart by
//! their magic number, streamed frame by frame.
//!
//! [`link`] takes a frame down through its link layer, VLAN tags and tunnels to the TCP segment
//! inside. A truncated or corrupt file is an error that names the byte offset; what was read
//! before it has already been handed out.

mod blocks;
pub mod link;
pub mod reassembly;

pub use blocks::slice_of;
use blocks::Blocks;
use bytes::Bytes;
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::{Block, PcapNgParser};
use std::borrow::Cow;
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
/// replay uses: its bytes are a slice of the block the file was read into, which the decoders
/// slice further instead of copying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    pub index: u64,
    pub offset: u64,
    pub time: Duration,
    pub link_type: u32,
    pub data: &'a Bytes,
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
#[non_exhaustive]
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

/// pcap-file's parsers over the file's blocks (its readers copy each record out of an 8 MB
/// buffer of their own, which replay's zero-copy path cannot lend from).
enum Inner {
    Pcap(PcapParser),
    PcapNg {
        parser: Box<PcapNgParser>,
        /// Link type and timestamp unit (in nanoseconds) of each interface, by interface id.
        link_types: Vec<(u32, u64)>,
    },
}

/// One pcapng block, as far as frames are concerned.
enum NgBlock {
    Interface(u32, u64),
    Packet {
        interface: u32,
        timestamp: Duration,
        data: Bytes,
    },
    Simple(Bytes),
    Other,
}

/// Frames of a capture, one at a time, in constant memory.
pub struct CaptureReader<R: Read> {
    blocks: Blocks<Source<R>>,
    inner: Inner,
    next_index: u64,
    /// pcap: where the next record starts (exact). pcapng: the end of the last frame as far as
    /// it can be told without the block reader's buffer (approximate).
    offset: u64,
    failed: bool,
    /// The frame last handed out.
    current: Bytes,
}

/// Where the reader stands in the file; its blocks and parser are left out.
impl<R: Read> std::fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format())
            .field("next_index", &self.next_index)
            .field("offset", &self.offset)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
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
        let mut blocks = Blocks::new(std::io::Cursor::new(magic).chain(reader));
        let damaged = |e: pcap_file::PcapError| CaptureError::Damaged {
            format: format.name(),
            offset: 0,
            index: 0,
            problem: format!("bad file header: {e}"),
        };
        let (inner, offset) = match format {
            Format::Pcap => {
                let parser = blocks
                    .parse_with(|_, unparsed| header(unparsed, PcapParser::new))
                    .map_err(damaged)?;
                (Inner::Pcap(parser), 24)
            }
            Format::PcapNg => {
                let parser = blocks
                    .parse_with(|_, unparsed| header(unparsed, PcapNgParser::new))
                    .map_err(damaged)?;
                (
                    Inner::PcapNg {
                        parser: Box::new(parser),
                        link_types: Vec::new(),
                    },
                    0,
                )
            }
        };
        Ok(Self {
            blocks,
            inner,
            next_index: 0,
            offset,
            failed: false,
            current: Bytes::new(),
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
        let (index, at) = (self.next_index, self.offset);
        // Let go of the last frame first, so that its block can be read into again.
        self.current = Bytes::new();
        let result = self.read_frame()?;
        match result {
            Ok((time, link_type, data)) => {
                self.next_index += 1;
                self.offset += match format {
                    Format::Pcap => 16 + data.len() as u64,
                    // An enhanced packet block: 28 bytes of header and trailer, padded data.
                    Format::PcapNg => 32 + data.len().div_ceil(4) as u64 * 4,
                };
                self.current = data;
                Some(Ok(FrameRef {
                    index,
                    offset: at,
                    time,
                    link_type,
                    data: &self.current,
                }))
            }
            Err(problem) => {
                self.failed = true;
                Some(Err(CaptureError::Damaged {
                    format: format.name(),
                    offset: at,
                    index,
                    problem,
                }))
            }
        }
    }

    /// The next frame's time, link type and bytes; `None` at the end.
    fn read_frame(&mut self) -> Option<Result<(Duration, u32, Bytes), String>> {
        match self.blocks.has_data_left() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => return Some(Err(pcap_file::PcapError::IoError(e).to_string())),
        }
        let Self { blocks, inner, .. } = self;
        Some(match inner {
            Inner::Pcap(parser) => {
                let link_type = u32::from(parser.header().datalink);
                blocks
                    .parse_with(|block, unparsed| {
                        let (rest, packet) = parser.next_packet(unparsed)?;
                        let data = lend(block, packet.data);
                        Ok((unparsed.len() - rest.len(), (packet.timestamp, data)))
                    })
                    .map(|(time, data)| (time, link_type, data))
                    .map_err(|e| e.to_string())
            }
            Inner::PcapNg { parser, link_types } => loop {
                // The file may end after any block.
                match blocks.has_data_left() {
                    Ok(true) => {}
                    Ok(false) => return None,
                    Err(e) => break Err(pcap_file::PcapError::IoError(e).to_string()),
                }
                let parsed = blocks.parse_with(|block, unparsed| {
                    let (rest, parsed) = parser.next_block(unparsed)?;
                    let parsed = match parsed {
                        Block::InterfaceDescription(idb) => NgBlock::Interface(
                            u32::from(idb.linktype),
                            timestamp_unit_ns(&idb.options),
                        ),
                        Block::EnhancedPacket(epb) => NgBlock::Packet {
                            interface: epb.interface_id,
                            timestamp: epb.timestamp,
                            data: lend(block, epb.data),
                        },
                        Block::SimplePacket(spb) => NgBlock::Simple(lend(block, spb.data)),
                        _ => NgBlock::Other,
                    };
                    Ok((unparsed.len() - rest.len(), parsed))
                });
                match parsed {
                    Err(e) => break Err(e.to_string()),
                    Ok(NgBlock::Interface(link_type, unit_ns)) => {
                        link_types.push((link_type, unit_ns))
                    }
                    Ok(NgBlock::Packet {
                        interface,
                        timestamp,
                        data,
                    }) => {
                        let Some(&(link_type, unit_ns)) = link_types.get(interface as usize) else {
                            break Err(format!(
                                "a packet names interface {interface} but only {} are described",
                                link_types.len()
                            ));
                        };
                        // pcap-file reads the raw count as nanoseconds; scale it by the
                        // interface's real unit.
                        let time = Duration::from_nanos(
                            (timestamp.as_nanos() as u64).saturating_mul(unit_ns),
                        );
                        break Ok((time, link_type, data));
                    }
                    Ok(NgBlock::Simple(data)) => {
                        let link_type = link_types.first().map_or(1, |l| l.0);
                        break Ok((Duration::ZERO, link_type, data));
                    }
                    Ok(NgBlock::Other) => continue,
                }
            },
        })
    }
}

/// A file header parsed by `parse`, as [`Blocks::parse_with`] wants it.
fn header<'a, P>(
    unparsed: &'a [u8],
    parse: impl FnOnce(&'a [u8]) -> Result<(&'a [u8], P), pcap_file::PcapError>,
) -> Result<(usize, P), pcap_file::PcapError> {
    let (rest, parser) = parse(unparsed)?;
    Ok((unparsed.len() - rest.len(), parser))
}

/// A record's data as a slice of its block (a copy only if the parser made one).
fn lend(block: &Bytes, data: Cow<'_, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(data) => slice_of(block, data),
        Cow::Owned(data) => Bytes::from(data),
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
