//! The response body: a static page or a scrape's prepared chunks, sent as one frame of
//! exact length.

use std::convert::Infallible;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use hyper::body::{Frame, SizeHint};

use super::limits::{InFlight, ScrapeSlot};
use crate::exposition;

/// A response body with an exact length, sent as one frame: a static page, or a scrape's
/// chunks (see [`exposition::Body`]).
#[derive(Debug)]
pub(crate) struct Body {
    data: Option<Data>,
}

/// The one frame of a [`Body`], with what it holds until it has been written.
#[derive(Debug)]
pub(crate) struct Data {
    chunks: Chunks,
    /// Its connection counts as busy until the last byte is handed to the writer: by
    /// then the connection is idle as far as the client can tell (it cannot have read
    /// the whole answer earlier), so the order connections went idle in is the order
    /// their clients saw.
    request: Option<InFlight>,
}

#[derive(Debug)]
enum Chunks {
    Static(Bytes),
    /// A scrape holds its `--web.max-requests` slot until the writer has sent it all
    /// and dropped it.
    Scrape {
        body: exposition::Body,
        _slot: ScrapeSlot,
    },
}

impl Body {
    /// A scrape's body, holding its `--web.max-requests` slot until it is sent.
    pub(super) fn scrape(body: exposition::Body, slot: ScrapeSlot) -> Self {
        Self::of(Chunks::Scrape { body, _slot: slot })
    }

    pub(super) fn one(bytes: Bytes) -> Self {
        Self::of(Chunks::Static(bytes))
    }

    fn of(chunks: Chunks) -> Self {
        Self {
            data: Some(Data {
                chunks,
                request: None,
            }),
        }
    }

    /// Keeps the request in flight until the body has been sent (or dropped).
    pub(super) fn hold(&mut self, request: InFlight) {
        if let Some(data) = &mut self.data {
            data.request = Some(request);
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Data;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Data>, Infallible>>> {
        // An empty frame would be sent as nothing; end the stream instead.
        let data = self.data.take().filter(Buf::has_remaining);
        Poll::Ready(data.map(|d| Ok(Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(|d| !d.has_remaining())
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.remaining() as u64))
    }
}

impl Buf for Data {
    fn remaining(&self) -> usize {
        match &self.chunks {
            Chunks::Static(b) => b.remaining(),
            Chunks::Scrape { body: b, .. } => b.remaining(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match &self.chunks {
            Chunks::Static(b) => b.chunk(),
            Chunks::Scrape { body: b, .. } => b.chunk(),
        }
    }

    fn advance(&mut self, cnt: usize) {
        match &mut self.chunks {
            Chunks::Static(b) => b.advance(cnt),
            Chunks::Scrape { body: b, .. } => b.advance(cnt),
        }
        if !self.has_remaining() {
            self.request = None;
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        match &self.chunks {
            Chunks::Static(b) => b.chunks_vectored(dst),
            Chunks::Scrape { body: b, .. } => b.chunks_vectored(dst),
        }
    }
}
