//! A [`Segment`]: a piece of exposition text with the same text as raw-deflate blocks,
//! and the gzip framing that turns segments into one gzip body.
//!
//! Each segment's deflate blocks end with a full flush, which byte-aligns the output and
//! forgets the history, so segments compressed at different times concatenate, in any
//! combination, into one valid deflate stream. A gzip body is then a header, the cached
//! segments, a tail and a trailer whose CRC is combined from the segments' CRCs: nothing
//! proportional to the pool count is compressed per scrape.

use std::io;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// One piece of the exposition: its text (unless dropped, see [`render_target`](super::render_target)), the same
/// text deflated, and the CRC-32 and length the gzip trailer needs.
#[derive(Clone, Debug, Default)]
pub struct Segment {
    pub(crate) text: Option<Bytes>,
    pub(crate) deflated: Bytes,
    pub(crate) crc: u32,
    len: u64,
}

impl Segment {
    /// Compresses `text` into raw-deflate blocks ended by a full flush. Level 6: the text
    /// compresses about 20:1 and this runs once per change, never per scrape.
    pub fn new(text: Vec<u8>) -> io::Result<Self> {
        let mut compress = Compress::new(Compression::default(), false);
        let mut out = Vec::new();
        Self::compressed(&text, &mut compress, &mut out, true)
    }

    /// Compresses `text` with `compress`, whose history the full flush leaves empty again,
    /// using `out` as scratch space. The segment's buffers are allocated at their exact
    /// size: they live until the pools change.
    pub(crate) fn compressed(
        text: &[u8],
        compress: &mut Compress,
        out: &mut Vec<u8>,
        keep_text: bool,
    ) -> io::Result<Self> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        out.clear();
        deflate_into(compress, text, FlushCompress::Full, out)?;
        Ok(Self {
            text: keep_text.then(|| Bytes::copy_from_slice(text)),
            deflated: Bytes::copy_from_slice(out),
            crc: crc32fast::hash(text),
            len: text.len() as u64,
        })
    }

    /// The deflate blocks of the text.
    pub fn deflated(&self) -> &[u8] {
        &self.deflated
    }

    /// Bytes of text.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the segment has no text.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text: kept, or inflated from the deflate blocks.
    pub fn text(&self) -> io::Result<Bytes> {
        match &self.text {
            Some(text) => Ok(text.clone()),
            None => self.inflated(&mut Decompress::new(false)),
        }
    }

    /// Inflates the deflate blocks with `decompress` (reset first), checking the length
    /// and CRC.
    pub(crate) fn inflated(&self, decompress: &mut Decompress) -> io::Result<Bytes> {
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        let mut out = Vec::with_capacity(len);
        decompress.reset(false);
        while out.len() < len {
            let consumed = usize::try_from(decompress.total_in()).map_err(io::Error::other)?;
            let before = out.len();
            decompress
                .decompress_vec(&self.deflated[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(io::Error::other)?;
            if out.len() == before {
                break;
            }
        }
        if out.len() != len || crc32fast::hash(&out) != self.crc {
            return Err(io::Error::other(
                "a cached segment does not inflate to its text",
            ));
        }
        Ok(Bytes::from(out))
    }
}

#[cfg(test)]
/// Deflates `input` as raw deflate, ended by `flush` (`Sync` or `Full` to continue the
/// stream with more blocks, `Finish` to end it).
pub(super) fn deflate(
    input: &[u8],
    flush: FlushCompress,
    level: Compression,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 8 + 64);
    deflate_into(&mut Compress::new(level, false), input, flush, &mut out)?;
    Ok(out)
}

/// Appends `input`, deflated by `compress` and ended by `flush`, to `out`.
fn deflate_into(
    compress: &mut Compress,
    input: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let start = compress.total_in();
    out.reserve(input.len() / 8 + 64);
    loop {
        let consumed = usize::try_from(compress.total_in() - start).map_err(io::Error::other)?;
        let status = compress
            .compress_vec(&input[consumed..], out, flush)
            .map_err(io::Error::other)?;
        let all_in = compress.total_in() - start == input.len() as u64;
        let done = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            // A flush is complete once the compressor stops filling the whole buffer.
            _ => all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(());
        }
        out.reserve(out.capacity().max(4096));
    }
}

/// Magic, deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952).
pub(super) const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The end of a gzip body whose text so far has CRC `crc` and length `len`: `tail` as stored (uncompressed) deflate blocks, the last one
/// final, then the trailer. The cached blocks end byte-aligned, so a stored block can
/// follow them; it costs no compressor (whose state is a few hundred kilobytes to set
/// up) for a tail of a few kilobytes.
pub(super) fn gzip_tail(crc: &crc32fast::Hasher, len: u64, tail: &[u8]) -> Bytes {
    const MAX_STORED: usize = 65_535;
    let blocks = tail.len().div_ceil(MAX_STORED).max(1);
    let mut out = Vec::with_capacity(tail.len() + 5 * blocks + 8);
    let mut pieces = tail.chunks(MAX_STORED).peekable();
    if tail.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(piece) = pieces.next() {
        let len = u16::try_from(piece.len()).unwrap_or(u16::MAX);
        out.push(u8::from(pieces.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(piece);
    }
    let mut crc = crc.clone();
    crc.combine(&{
        let mut h = crc32fast::Hasher::new();
        h.update(tail);
        h
    });
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE is the length modulo 2^32, as RFC 1952 defines it.
    let total = len + tail.len() as u64;
    out.extend_from_slice(&(total as u32).to_le_bytes());
    Bytes::from(out)
}
