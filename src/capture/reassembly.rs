//! TCP reassembly of one direction of a flow, from sequence numbers.
//!
//! Retransmissions and overlaps keep the first copy; segments that arrive early wait (within a
//! bound) for the bytes before them; bytes that never arrive become a reported gap and the
//! stream goes on after it. Each delivered piece keeps the capture segment it came from, so the
//! way a peer wrote its bytes stays visible.

use bytes::Bytes;
use std::collections::BTreeMap;

/// A segment further ahead than this cannot be in any TCP window (the largest scaled window is
/// 1 GiB, and real ones are far smaller); such a sequence number is corruption, not data.
const MAX_AHEAD: u64 = 64 << 20;
use std::time::Duration;

/// What comes out of one direction, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes of one captured segment (the part not already delivered), with its capture time
    /// and the number of the capture frame that carried it (1-based; 0 when not known).
    Data {
        time: Duration,
        frame: u64,
        bytes: Vec<u8>,
    },
    /// `len` bytes at stream offset `offset` never appeared in the capture.
    Gap { offset: u64, len: u64 },
}

/// A [`Piece`] lent to a callback: an in-order segment's bytes are a slice of the caller's
/// frame, not a copy, which the callee may keep (a chunk reader does) by cloning it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceRef<'a> {
    Data {
        time: Duration,
        frame: u64,
        bytes: &'a Bytes,
    },
    Gap {
        offset: u64,
        len: u64,
    },
}

impl PieceRef<'_> {
    pub fn to_piece(self) -> Piece {
        match self {
            PieceRef::Data { time, frame, bytes } => Piece::Data {
                time,
                frame,
                bytes: bytes.to_vec(),
            },
            PieceRef::Gap { offset, len } => Piece::Gap { offset, len },
        }
    }
}

/// One direction of a TCP flow.
#[derive(Debug)]
pub struct Reassembler {
    /// Sequence number of the next byte to deliver; unknown until the first SYN or data.
    next: Option<u32>,
    /// Bytes delivered so far (stream offset of `next`).
    offset: u64,
    /// Early segments by the stream offset they start at, copied out of their frames so that
    /// waiting does not hold the caller's read buffers.
    pending: BTreeMap<u64, (Duration, u64, Bytes)>,
    pending_bytes: usize,
    max_pending: usize,
    /// Segments whose overlap with data waiting here disagreed with it (first copy kept).
    pub conflicting_overlaps: u64,
    pub retransmitted_bytes: u64,
    /// Segments dropped because their sequence number was implausibly far ahead.
    pub out_of_window: u64,
}

impl Reassembler {
    /// `max_pending`: how many early bytes may wait for a hole to fill before it is declared a gap.
    pub fn new(max_pending: usize) -> Self {
        Self {
            next: None,
            offset: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            max_pending,
            conflicting_overlaps: 0,
            retransmitted_bytes: 0,
            out_of_window: 0,
        }
    }

    /// A SYN fixes the initial sequence number.
    pub fn syn(&mut self, seq: u32) {
        if self.next.is_none() {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Takes one segment's payload (from no numbered frame); returns what can now be
    /// delivered, in order.
    pub fn segment(&mut self, seq: u32, time: Duration, payload: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        self.segment_with(seq, time, 0, Bytes::copy_from_slice(payload), |p| {
            out.push(p.to_piece())
        });
        out
    }

    /// Where the byte at sequence number `seq` is (or would be) in the stream: what a FIN or
    /// a reset is compared with. None before the first segment.
    pub fn offset_of(&self, seq: u32) -> Option<u64> {
        let next = self.next?;
        Some(
            self.offset
                .saturating_add_signed(i64::from(seq.wrapping_sub(next) as i32)),
        )
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.offset
    }

    /// Takes one segment's payload, captured at `time` in frame number `frame`; hands what can
    /// now be delivered to `out`, in order, as slices of `payload`.
    pub fn segment_with(
        &mut self,
        seq: u32,
        time: Duration,
        frame: u64,
        payload: Bytes,
        mut out: impl FnMut(PieceRef<'_>),
    ) {
        if payload.is_empty() {
            return;
        }
        // A capture that begins mid-flow starts at its first data segment.
        let next = *self.next.get_or_insert(seq);
        let ahead = seq.wrapping_sub(next) as i32;
        if ahead < 0 {
            // Starts before what was delivered: keep only the new tail, if any.
            let old = (-(ahead as i64)) as usize;
            self.retransmitted_bytes += old.min(payload.len()) as u64;
            if old >= payload.len() {
                return;
            }
            self.deliver(time, frame, payload.slice(old..), &mut out);
        } else if ahead == 0 {
            self.deliver(time, frame, payload, &mut out);
        } else if ahead as u64 > MAX_AHEAD {
            self.out_of_window += 1;
        } else {
            let at = self.offset + ahead as u64;
            match self.pending.get(&at) {
                Some((_, _, existing)) => {
                    let n = existing.len().min(payload.len());
                    if existing[..n] != payload[..n] {
                        self.conflicting_overlaps += 1;
                    }
                    self.retransmitted_bytes += n as u64;
                }
                None => {
                    self.pending_bytes += payload.len();
                    self.pending
                        .insert(at, (time, frame, Bytes::copy_from_slice(&payload)));
                }
            }
            if self.pending_bytes > self.max_pending {
                self.skip_to_first_pending(&mut out);
            }
        }
        self.drain(&mut out);
    }

    /// [`Self::finish_with`], the pieces collected.
    #[cfg(test)]
    pub fn finish(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        self.finish_with(|p| out.push(p.to_piece()));
        out
    }

    /// The end of the capture: whatever waits is delivered after a reported gap, each piece
    /// handed to `out`.
    pub fn finish_with(&mut self, mut out: impl FnMut(PieceRef<'_>)) {
        while !self.pending.is_empty() {
            self.skip_to_first_pending(&mut out);
            self.drain(&mut out);
        }
    }

    fn deliver(
        &mut self,
        time: Duration,
        frame: u64,
        bytes: Bytes,
        out: &mut impl FnMut(PieceRef<'_>),
    ) {
        let next = self.next.unwrap_or(0);
        self.next = Some(next.wrapping_add(bytes.len() as u32));
        self.offset += bytes.len() as u64;
        out(PieceRef::Data {
            time,
            frame,
            bytes: &bytes,
        });
    }

    /// Delivers waiting segments that now start at or before the delivered end, keeping only
    /// the part not yet delivered.
    fn drain(&mut self, out: &mut impl FnMut(PieceRef<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.offset {
                return;
            }
            let (time, frame, data) = entry.remove();
            self.pending_bytes -= data.len();
            let old = (self.offset - at) as usize;
            self.retransmitted_bytes += old.min(data.len()) as u64;
            if old < data.len() {
                self.deliver(time, frame, data.slice(old..), out);
            }
        }
    }

    fn skip_to_first_pending(&mut self, out: &mut impl FnMut(PieceRef<'_>)) {
        let Some((&at, _)) = self.pending.iter().next() else {
            return;
        };
        let len = at.saturating_sub(self.offset);
        out(PieceRef::Gap {
            offset: self.offset,
            len,
        });
        self.offset += len;
        self.next = Some(self.next.unwrap_or(0).wrapping_add(len as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pieces: &[Piece]) -> Vec<u8> {
        pieces
            .iter()
            .flat_map(|p| match p {
                Piece::Data { bytes, .. } => bytes.clone(),
                Piece::Gap { .. } => vec![],
            })
            .collect()
    }

    const T: Duration = Duration::ZERO;

    #[test]
    fn in_order_retransmitted_and_out_of_order_segments() {
        let mut r = Reassembler::new(1 << 20);
        r.syn(999);
        let mut got = r.segment(1000, T, b"abc");
        got.extend(r.segment(1000, T, b"abc")); // retransmission
        got.extend(r.segment(1006, T, b"ghi")); // early
        assert_eq!(data(&got), b"abc");
        got.extend(r.segment(1002, T, b"cdef")); // overlaps one delivered byte, fills the hole
        assert_eq!(data(&got), b"abcdefghi");
        assert_eq!(r.retransmitted_bytes, 4);
        assert!(r.finish().is_empty());
    }

    #[test]
    fn a_missing_segment_becomes_a_gap_with_its_position() {
        let mut r = Reassembler::new(4);
        let mut got = r.segment(u32::MAX - 1, T, b"ab"); // mid-flow start, across the wrap
        got.extend(r.segment(3, T, b"xyz")); // 3 bytes missing (seq 0..3)
        got.extend(r.segment(6, T, b"uvw")); // over the pending limit: the hole is given up
        assert_eq!(got[1], Piece::Gap { offset: 2, len: 3 });
        assert_eq!(data(&got), b"abxyzuvw");
    }

    #[test]
    fn in_order_bytes_are_lent_from_the_callers_segment() {
        let mut r = Reassembler::new(1 << 20);
        r.syn(0);
        let segment = Bytes::from_static(b"0123");
        let mut lent = Vec::new();
        r.segment_with(1, T, 1, segment.clone(), |p| match p {
            PieceRef::Data { bytes, .. } => lent.push(bytes.as_ptr()),
            PieceRef::Gap { .. } => panic!("no gap"),
        });
        assert_eq!(lent, [segment.as_ptr()]);
        // An early segment waits in a copy and comes out after the bytes that complete it.
        let mut got = Vec::new();
        let early = Bytes::from_static(b"89");
        r.segment_with(8, T, 2, early.clone(), |p| match p {
            PieceRef::Data { bytes, .. } => got.push(bytes.as_ptr()),
            PieceRef::Gap { .. } => panic!("no gap"),
        });
        assert!(got.is_empty());
        let mut got_pieces = Vec::new();
        r.segment_with(5, T, 3, Bytes::from_static(b"567"), |p| {
            got_pieces.push(p.to_piece());
            if let PieceRef::Data { bytes, .. } = p {
                got.push(bytes.as_ptr());
            }
        });
        assert_eq!(data(&got_pieces), b"56789");
        // Each piece keeps the frame that carried it, the early one its own.
        let frames: Vec<u64> = got_pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Data { frame, .. } => Some(*frame),
                Piece::Gap { .. } => None,
            })
            .collect();
        assert_eq!(frames, [3, 2]);
        assert_ne!(got[1], early.as_ptr(), "the early segment waited in a copy");
    }

    #[test]
    fn conflicting_copies_keep_the_first() {
        let mut r = Reassembler::new(1 << 20);
        r.syn(0);
        let _ = r.segment(5, T, b"AAAA");
        let _ = r.segment(5, T, b"BBBB");
        assert_eq!(r.conflicting_overlaps, 1);
        let got = r.segment(1, T, b"0123");
        assert_eq!(data(&got), b"0123AAAA");
    }
}
