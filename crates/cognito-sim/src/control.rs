//! The control endpoint under `/_sim/`, for scripts and out-of-process tests. Never
//! faulted, never counted.
//!
//! - `GET /_sim/health`: `ok`.
//! - `GET /_sim/faults`: the fault set in force, as JSON.
//! - `PUT /_sim/faults`: replace it with the JSON body (a [`FaultSet`]); answers the set
//!   now in force, or 400 with `{"error": ..., "problems": [...]}`.
//! - `DELETE /_sim/faults`: remove every fault.
//! - `GET /_sim/stats`: the counters ([`Stats`](super::Stats)) as JSON.
//! - `DELETE /_sim/stats`: zero them.

use http::header::ALLOW;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::json;

use super::body::{Body, full, read_body, text};
use super::faults::FaultSet;
use super::state::SimState;

pub(crate) async fn handle(state: &SimState, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    match (path.as_str(), method) {
        ("/_sim/health", Method::GET) => text(StatusCode::OK, "ok\n"),
        ("/_sim/faults", Method::GET) => json_response(StatusCode::OK, &state.faults()),
        ("/_sim/faults", Method::PUT) => {
            let body = match read_body(req.into_body()).await {
                Ok(b) => b,
                Err(response) => return response,
            };
            put_faults(state, &body)
        }
        ("/_sim/faults", Method::DELETE) => {
            state.clear_faults();
            no_content()
        }
        ("/_sim/stats", Method::GET) => json_response(StatusCode::OK, &state.stats()),
        ("/_sim/stats", Method::DELETE) => {
            state.reset_stats();
            no_content()
        }
        ("/_sim/health", _) => not_allowed("GET"),
        ("/_sim/faults", _) => not_allowed("GET, PUT, DELETE"),
        ("/_sim/stats", _) => not_allowed("GET, DELETE"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn put_faults(state: &SimState, body: &[u8]) -> Response<Body> {
    let set: FaultSet = match serde_json::from_slice(body) {
        Ok(set) => set,
        Err(e) => {
            let error = json!({"error": e.to_string(), "problems": [e.to_string()]});
            return json_response(StatusCode::BAD_REQUEST, &error);
        }
    };
    match state.set_faults(set) {
        Ok(()) => json_response(StatusCode::OK, &state.faults()),
        Err(e) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": e.to_string(), "problems": e.0}),
        ),
    }
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_vec_pretty(value) {
        Ok(mut body) => {
            body.push(b'\n');
            full(status, "application/json", body)
        }
        Err(e) => {
            tracing::error!(error = %e, "control answer did not serialise");
            text(StatusCode::INTERNAL_SERVER_ERROR, "serialisation failed\n")
        }
    }
}

fn no_content() -> Response<Body> {
    let mut response = text(StatusCode::NO_CONTENT, "");
    response.headers_mut().remove(http::header::CONTENT_TYPE);
    response
}

fn not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}
