//! The layout fuzz inputs are read in, and a writer for it (for seeds and tests).
//!
//! Everything is read from the front: libFuzzer's mutations then keep the meaning of the bytes
//! they do not touch, and a seed is a plain concatenation of its fields.

use arbitrary::Unstructured;

/// The most cuts an input can ask for (`cuts` reads a count modulo one more than this).
pub const MAX_CUTS: usize = 32;

pub fn u8(u: &mut Unstructured) -> u8 {
    fixed::<1>(u)[0]
}

pub fn u16(u: &mut Unstructured) -> u16 {
    u16::from_le_bytes(fixed(u))
}

pub fn u32(u: &mut Unstructured) -> u32 {
    u32::from_le_bytes(fixed(u))
}

pub fn u64(u: &mut Unstructured) -> u64 {
    u64::from_le_bytes(fixed(u))
}

/// `N` bytes, zero-padded when the input ends first.
fn fixed<const N: usize>(u: &mut Unstructured) -> [u8; N] {
    let mut buf = [0u8; N];
    // fill_buffer never fails: it zero-fills what the input lacks.
    let _ = u.fill_buffer(&mut buf);
    buf
}

/// A byte string with a 16-bit little-endian length, cut short when the input ends first.
pub fn byte_string<'a>(u: &mut Unstructured<'a>) -> &'a [u8] {
    let len = (u16(u) as usize).min(u.len());
    u.bytes(len).unwrap_or_default()
}

/// A count (modulo `MAX_CUTS + 1`) and that many 16-bit cut lengths.
pub fn cuts(u: &mut Unstructured) -> Vec<u16> {
    let n = u8(u) as usize % (MAX_CUTS + 1);
    (0..n).map(|_| u16(u)).collect()
}

/// Writes fields in the layout the readers above read them.
#[derive(Debug, Default, Clone)]
pub struct InputWriter {
    pub bytes: Vec<u8>,
}

impl InputWriter {
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes.push(v);
        self
    }

    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// At most 65535 bytes of `v` (the length field's limit).
    pub fn byte_string(&mut self, v: &[u8]) -> &mut Self {
        let v = &v[..v.len().min(u16::MAX as usize)];
        self.u16(v.len() as u16);
        self.bytes.extend_from_slice(v);
        self
    }

    /// At most [`MAX_CUTS`] cuts.
    pub fn cuts(&mut self, cuts: &[u16]) -> &mut Self {
        let cuts = &cuts[..cuts.len().min(MAX_CUTS)];
        self.u8(cuts.len() as u8);
        for &c in cuts {
            self.u16(c);
        }
        self
    }

    pub fn rest(&mut self, v: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(v);
        self
    }
}

/// Cut lengths that reproduce `sizes` as the pieces (see `pieces` in the harness); sizes of
/// zero are skipped and sizes over 65536 cannot be expressed, so they end the list.
pub fn cuts_for(sizes: impl IntoIterator<Item = usize>) -> Vec<u16> {
    sizes
        .into_iter()
        .filter(|&s| s > 0)
        .take_while(|&s| s <= 1 << 16)
        .map(|s| (s - 1) as u16)
        .take(MAX_CUTS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_writes_what_the_readers_read() {
        let mut w = InputWriter::default();
        w.u8(7)
            .u16(0x1234)
            .u32(0xDEAD_BEEF)
            .u64(u64::MAX - 1)
            .byte_string(b"abc")
            .cuts(&[1, 65535])
            .rest(b"tail");
        let mut u = Unstructured::new(&w.bytes);
        assert_eq!(u8(&mut u), 7);
        assert_eq!(u16(&mut u), 0x1234);
        assert_eq!(u32(&mut u), 0xDEAD_BEEF);
        assert_eq!(u64(&mut u), u64::MAX - 1);
        assert_eq!(byte_string(&mut u), b"abc");
        assert_eq!(cuts(&mut u), vec![1, 65535]);
        assert_eq!(u.take_rest(), b"tail");
    }

    #[test]
    fn short_input_reads_as_zeros_and_truncated_strings() {
        let mut u = Unstructured::new(&[5, 0, b'x']);
        assert_eq!(byte_string(&mut u), b"x");
        assert_eq!(u32(&mut u), 0);
        assert!(cuts(&mut u).is_empty());
    }

    #[test]
    fn cuts_for_sizes_give_those_pieces_back() {
        let sizes = [1537usize, 1536, 40, 1];
        let cuts = cuts_for(sizes);
        let data = vec![0u8; sizes.iter().sum()];
        let got: Vec<usize> = super::super::pieces(&cuts, &data)
            .map(<[u8]>::len)
            .collect();
        assert_eq!(got, sizes);
    }
}
