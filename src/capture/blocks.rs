//! The capture file read in blocks, each record handed out as a [`Bytes`] slice of its block.
//!
//! A frame's bytes then reach the chunk reader without a copy. A block is read into again once
//! nothing holds a slice of it any more (the decoders keep none past a read), so a capture of
//! any size is read through about one block of memory that stays in the cache; a block that is
//! still held is left to its holders and a new one is allocated.

use bytes::{Bytes, BytesMut};
use pcap_file::PcapError;
use std::io::{ErrorKind, Read};

/// Bytes read from the file at a time: a dozen loopback frames, small enough to stay in cache.
const BLOCK: usize = 512 * 1024;
/// The largest record accepted, as pcap-file's own reader (a larger one is a damaged length).
const MAX_RECORD: usize = 8_000_000;

pub(crate) struct Blocks<R> {
    reader: R,
    /// The current block, all of it initialised: `block[pos..filled]` is read and not yet parsed.
    block: Bytes,
    pos: usize,
    filled: usize,
    eof: bool,
}

impl<R: Read> Blocks<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            block: Bytes::new(),
            pos: 0,
            filled: 0,
            eof: false,
        }
    }

    /// Whether any byte is left to parse.
    pub fn has_data_left(&mut self) -> std::io::Result<bool> {
        Ok(self.pos < self.filled || self.refill()?)
    }

    /// Parses the next record: `parse` gets the block and the unparsed bytes, and returns how
    /// many bytes it took and what it made of them (slicing the block for the bytes it keeps).
    /// More of the file is read while it answers [`PcapError::IncompleteBuffer`].
    pub fn parse_with<O>(
        &mut self,
        mut parse: impl FnMut(&Bytes, &[u8]) -> Result<(usize, O), PcapError>,
    ) -> Result<O, PcapError> {
        loop {
            match parse(&self.block, &self.block[self.pos..self.filled]) {
                Ok((used, value)) => {
                    self.pos += used;
                    return Ok(value);
                }
                Err(PcapError::IncompleteBuffer) => {
                    if !self.refill().map_err(PcapError::IoError)? {
                        return Err(PcapError::IoError(ErrorKind::UnexpectedEof.into()));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads more of the file after the unparsed bytes; false when nothing more came (the end
    /// of the file, or a record larger than [`MAX_RECORD`]).
    fn refill(&mut self) -> std::io::Result<bool> {
        let leftover = self.filled - self.pos;
        if self.eof || leftover >= MAX_RECORD {
            return Ok(false);
        }
        // A record longer than a block gets a block twice its unparsed length.
        let size = BLOCK.max(leftover * 2).min(MAX_RECORD + BLOCK);
        let (pos, filled) = (self.pos, self.filled);
        let mut next = match std::mem::take(&mut self.block).try_into_mut() {
            Ok(mut reused) if reused.len() >= size => {
                reused.copy_within(pos..filled, 0);
                reused
            }
            Ok(old) => fresh(size, &old[pos..filled]),
            Err(old) => fresh(size, &old[pos..filled]),
        };
        let mut end = leftover;
        while end < next.len() {
            match self.reader.read(&mut next[end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => end += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.block = next.freeze();
                    self.pos = 0;
                    self.filled = end;
                    return Err(e);
                }
            }
        }
        self.block = next.freeze();
        self.pos = 0;
        self.filled = end;
        Ok(end > leftover)
    }
}

/// A new zeroed block of `size` bytes starting with `leftover`.
fn fresh(size: usize, leftover: &[u8]) -> BytesMut {
    let mut block = BytesMut::zeroed(size);
    block[..leftover.len()].copy_from_slice(leftover);
    block
}

/// `part` as a slice of `whole` when it lies inside it, else a copy.
pub fn slice_of(whole: &Bytes, part: &[u8]) -> Bytes {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    if part.is_empty() || start > whole.len() || whole.len() - start < part.len() {
        return Bytes::copy_from_slice(part);
    }
    whole.slice(start..start + part.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Records of a 2-byte length and that many bytes.
    fn records(lens: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &len) in lens.iter().enumerate() {
            out.extend_from_slice(&(len as u16).to_be_bytes());
            out.extend(std::iter::repeat_n(i as u8, len));
        }
        out
    }

    fn next_record(blocks: &mut Blocks<impl Read>) -> Result<Bytes, PcapError> {
        blocks.parse_with(|block, unparsed| {
            let len = match unparsed {
                [a, b, ..] => u16::from_be_bytes([*a, *b]) as usize,
                _ => return Err(PcapError::IncompleteBuffer),
            };
            let body = unparsed
                .get(2..2 + len)
                .ok_or(PcapError::IncompleteBuffer)?;
            Ok((2 + len, slice_of(block, body)))
        })
    }

    #[test]
    fn records_across_reads_and_blocks_come_out_whole_and_a_released_block_is_reused() {
        let lens = [
            60_000, 1, 0, 65_535, 40_000, 65_535, 65_535, 65_535, 65_535, 3,
        ];
        let lens: Vec<usize> = lens.iter().cycle().take(60).copied().collect();
        let data = records(&lens);
        let mut blocks = Blocks::new(Trickle {
            data: &data,
            step: 7_777,
        });
        let mut blocks_seen = Vec::new();
        for (i, &len) in lens.iter().enumerate() {
            assert!(blocks.has_data_left().unwrap());
            let record = next_record(&mut blocks).unwrap();
            assert_eq!(record.len(), len, "record {i}");
            assert!(record.iter().all(|&b| b == i as u8), "record {i}");
            if len > 0 {
                let base = blocks.block.as_ptr();
                assert!(
                    record.as_ptr() >= base,
                    "record {i} is a slice of its block"
                );
                if !blocks_seen.contains(&base) {
                    blocks_seen.push(base);
                }
            }
        }
        assert!(!blocks.has_data_left().unwrap());
        // Over 2 MB went through blocks of 512 KiB, each released before the next read, so
        // the same memory was read into again.
        assert!(data.len() > 4 * BLOCK);
        assert_eq!(blocks_seen.len(), 1, "{} blocks", blocks_seen.len());
    }

    #[test]
    fn a_held_record_keeps_its_block_and_a_new_one_is_read_into() {
        let lens = vec![300_000; 4];
        let data = records(&lens);
        let mut blocks = Blocks::new(&data[..]);
        let held = next_record(&mut blocks).unwrap();
        let copy = held.to_vec();
        for _ in 1..4 {
            next_record(&mut blocks).unwrap();
        }
        assert_eq!(held, copy, "the held record was not overwritten");
    }

    #[test]
    fn a_truncated_record_ends_with_unexpected_eof() {
        let data = records(&[10, 20]);
        let mut blocks = Blocks::new(&data[..data.len() - 1]);
        assert_eq!(next_record(&mut blocks).unwrap().len(), 10);
        let err = next_record(&mut blocks).unwrap_err();
        assert!(
            matches!(&err, PcapError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof),
            "{err}"
        );
    }

    #[test]
    fn a_part_outside_the_block_is_copied() {
        let whole = Bytes::from_static(b"0123456789");
        assert_eq!(slice_of(&whole, &whole[2..5]).as_ptr(), whole[2..].as_ptr());
        let elsewhere = *b"abc";
        assert_eq!(slice_of(&whole, &elsewhere), &b"abc"[..]);
        assert_eq!(slice_of(&whole, &[]), Bytes::new());
    }
}
