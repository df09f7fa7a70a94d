//! The response body: a static page or a scrape's prepared chunks, sent as one frame of
//! exact length.

use std::convert::Infallible;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use hyper::body::{Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;

use crate::exposition;

/// A response body with an exact length, sent as one frame: a static page, or a scrape's
/// chunks (see [`exposition::Body`]).
#[derive(Debug)]
pub(crate) struct Body {
    data: Option<Data>,
}

/// The one frame of a [`Body`].
#[derive(Debug)]
pub(crate) enum Data {
    Static(Bytes),
    /// A scrape holds its `--web.max-requests` permit until the writer has sent it all
    /// and dropped it.
    Scrape {
        body: exposition::Body,
        _permit: OwnedSemaphorePermit,
    },
}

impl Body {
    /// A scrape's body, holding its `--web.max-requests` permit until it is sent.
    pub(super) fn scrape(body: exposition::Body, permit: OwnedSemaphorePermit) -> Self {
        Self {
            data: Some(Data::Scrape {
                body,
                _permit: permit,
            }),
        }
    }

    pub(super) fn one(bytes: Bytes) -> Self {
        Self {
            data: Some(Data::Static(bytes)),
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
        match self {
            Data::Static(b) => b.remaining(),
            Data::Scrape { body: b, .. } => b.remaining(),
        }
    }

    fn chunk(&self) -> &[u8] {
        match self {
            Data::Static(b) => b.chunk(),
            Data::Scrape { body: b, .. } => b.chunk(),
        }
    }

    fn advance(&mut self, cnt: usize) {
        match self {
            Data::Static(b) => b.advance(cnt),
            Data::Scrape { body: b, .. } => b.advance(cnt),
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        match self {
            Data::Static(b) => b.chunks_vectored(dst),
            Data::Scrape { body: b, .. } => b.chunks_vectored(dst),
        }
    }
}
