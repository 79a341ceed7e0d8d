//! Which capture frame carried which bytes of one direction, so that every transcript line can
//! name the frames a person looks up in Wireshark.

use std::collections::VecDeque;
use std::ops::Range;

/// One direction's delivered bytes, piece by piece, with the frame each piece came in.
#[derive(Debug, Default)]
pub(super) struct FrameMap {
    /// (stream offset where the piece starts, its frame), ascending; a piece ends where the
    /// next one starts, the last one at `end`.
    pieces: VecDeque<(u64, u64)>,
    end: u64,
}

impl FrameMap {
    /// The next `len` bytes of the direction came in frame `frame` (0: no frame, a live
    /// connection's read).
    pub(super) fn push(&mut self, len: usize, frame: u64) {
        if len == 0 {
            return;
        }
        match self.pieces.back() {
            // Consecutive pieces of one frame (a segment cut by a gap) are one.
            Some(&(_, last)) if last == frame => {}
            _ => self.pieces.push_back((self.end, frame)),
        }
        self.end += len as u64;
    }

    /// The frames that carried any byte of `ranges`, ascending, each once.
    pub(super) fn frames<'a>(&self, ranges: impl IntoIterator<Item = &'a Range<u64>>) -> Vec<u64> {
        let mut out = Vec::new();
        for range in ranges {
            if range.start >= range.end {
                continue;
            }
            // The piece holding the range's first byte, then every piece up to its end.
            let first = self
                .pieces
                .partition_point(|&(start, _)| start <= range.start)
                .saturating_sub(1);
            for &(start, frame) in self.pieces.range(first..) {
                if start >= range.end {
                    break;
                }
                if frame != 0 {
                    out.push(frame);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The frames that carried any byte of `range`.
    pub(super) fn frames_in(&self, range: Range<u64>) -> Vec<u64> {
        self.frames(std::iter::once(&range))
    }

    /// The frames of the `len` bytes before `offset`.
    pub(super) fn frames_before(&self, offset: u64, len: u64) -> Vec<u64> {
        self.frames_in(offset.saturating_sub(len.max(1))..offset)
    }

    /// Bytes before `offset` will not be asked about again.
    pub(super) fn forget_before(&mut self, offset: u64) {
        while self.pieces.len() > 1 && self.pieces[1].0 <= offset {
            self.pieces.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_the_frames_that_carried_them() {
        let mut map = FrameMap::default();
        map.push(10, 4); // 0..10
        map.push(5, 6); // 10..15
        map.push(5, 6); // 15..20, the same frame
        map.push(30, 9); // 20..50
        assert_eq!(map.frames_in(0..3), [4]);
        assert_eq!(map.frames_in(9..11), [4, 6]);
        assert_eq!(map.frames(&[2..4, 30..40]), [4, 9]);
        assert_eq!(map.frames_in(12..20), [6]);
        assert_eq!(map.frames_before(20, 1), [6]);
        map.forget_before(21);
        assert_eq!(map.frames_in(25..26), [9]);
        // What was forgotten is not made up.
        assert!(map.frames_in(0..3).is_empty());
    }

    #[test]
    fn a_live_connection_has_no_frames() {
        let mut map = FrameMap::default();
        map.push(10, 0);
        assert!(map.frames_in(0..10).is_empty());
    }
}
