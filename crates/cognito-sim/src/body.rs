//! HTTP bodies in and out, shared by the AWS API and the control endpoint: the one
//! response body type, whole-body answers, and request bodies read with a size cap.

use std::convert::Infallible;
use std::io;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;

/// Every response body: whole, or (for an injected reset) a stream that fails midway.
pub(crate) type Body = BoxBody<Bytes, io::Error>;

/// Larger request bodies are refused: no Cognito request comes near it.
const MAX_BODY: usize = 1 << 20;

/// Reads a request body of at most [`MAX_BODY`] bytes; a larger one gets a 413 answer.
pub(crate) async fn read_body(body: Incoming) -> Result<Bytes, Response<Body>> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large\n",
        )),
    }
}

/// A whole-body response.
pub(crate) fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(
        Full::new(body.into())
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    full(status, "text/plain; charset=utf-8", body)
}
