//! What a scrape serves: the [`Assembly`] of every target's segments, and the [`Body`]
//! that hands its chunks to the writer without copying them.

use std::io::{self, IoSlice};
use std::sync::Arc;

use bytes::{Buf, Bytes};

use super::Format;

/// The per-target families of all targets, interleaved so each family is contiguous.
/// Everything is kept per format, indexed by [`Format::index`].
#[derive(Debug, Default)]
pub(super) struct Assembly {
    /// The text, as the segments (shared with the renders, not copied); none while the
    /// renders have dropped it.
    pub(super) text: Option<[Vec<Bytes>; 2]>,
    /// The gzip header and every segment's deflate blocks: what both formats share is
    /// copied into one buffer at publish (it is small), cut only where a counter's
    /// header differs between the formats, so that a gzip scrape is a few slices, not
    /// hundreds.
    pub(super) gzip: [Vec<Bytes>; 2],
    /// CRC-32 and length of the concatenated text, for the gzip trailer.
    pub(super) crc: [crc32fast::Hasher; 2],
    pub(super) len: [u64; 2],
}

/// The body of one scrape: the assembly's chunks, then the tail. A `Buf` whose
/// `chunks_vectored` lists every remaining chunk, so the HTTP writer sends many chunks
/// per `writev` and nothing is copied; it keeps the assembly it was built from alive
/// until it has been sent.
#[derive(Debug)]
pub struct Body {
    assembly: Arc<Assembly>,
    /// The [`Format::index`] of the body's format.
    format: usize,
    gzip: bool,
    /// Chunks before the tail: the text segments, or the gzip pieces.
    pieces: usize,
    tail: Bytes,
    /// The current chunk (`pieces` is the tail) and the position in it.
    index: usize,
    offset: usize,
    remaining: usize,
}

impl Body {
    /// The body of `assembly`'s gzip pieces (or text chunks) in `format`, then `tail`.
    pub(super) fn new(
        assembly: Arc<Assembly>,
        format: Format,
        gzip: bool,
        tail: Bytes,
    ) -> io::Result<Self> {
        let f = format.index();
        let pieces = if gzip {
            assembly.gzip[f].len()
        } else {
            assembly.text.as_ref().map_or(0, |t| t[f].len())
        };
        let remaining = if gzip {
            assembly.gzip[f].iter().map(Bytes::len).sum::<usize>()
        } else {
            usize::try_from(assembly.len[f]).map_err(io::Error::other)?
        } + tail.len();
        let mut body = Body {
            assembly,
            format: f,
            gzip,
            pieces,
            tail,
            index: 0,
            offset: 0,
            remaining,
        };
        body.skip_empty();
        Ok(body)
    }

    /// Bytes left to send.
    pub fn len(&self) -> u64 {
        self.remaining as u64
    }

    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    fn piece(&self, index: usize) -> &[u8] {
        if index == self.pieces {
            &self.tail
        } else if index > self.pieces {
            &[]
        } else if self.gzip {
            self.assembly.gzip[self.format]
                .get(index)
                .map_or(&[], |b| &b[..])
        } else {
            self.assembly
                .text
                .as_ref()
                .and_then(|t| t[self.format].get(index))
                .map_or(&[], |b| &b[..])
        }
    }

    /// Moves past exhausted chunks, so `chunk` is empty only at the end.
    fn skip_empty(&mut self) {
        while self.index <= self.pieces && self.offset >= self.piece(self.index).len() {
            self.index += 1;
            self.offset = 0;
        }
    }
}

impl Buf for Body {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        &self.piece(self.index)[self.offset..]
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advance past the end of a body");
        self.remaining -= cnt;
        while cnt > 0 {
            let left = self.piece(self.index).len() - self.offset;
            let step = left.min(cnt);
            self.offset += step;
            cnt -= step;
            self.skip_empty();
        }
        self.skip_empty();
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        let mut index = self.index;
        let mut offset = self.offset;
        while n < dst.len() && index <= self.pieces {
            let piece = &self.piece(index)[offset..];
            if !piece.is_empty() {
                dst[n] = IoSlice::new(piece);
                n += 1;
            }
            index += 1;
            offset = 0;
        }
        n
    }
}
