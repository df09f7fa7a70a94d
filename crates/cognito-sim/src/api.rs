//! One AWS API request, start to finish: recognise the protocol, service and operation,
//! find the caller, count it, apply the fault plan, run the operation, shape the answer.
//! The service is told by the `X-Amz-Target` prefix (Cognito, Organizations, CloudWatch
//! Logs, Firehose), by an `s3` credential scope without one (S3, see [`super::s3`]), or
//! by a form body (STS).
//!
//! Order matters and mirrors AWS: authentication problems are answered before any fault;
//! the rate limit and injected errors before the body is parsed; damage to an answer
//! (`truncated_json`, `unknown_enum`, `looping_token`, ...) after the operation ran, so
//! its effects stick.

use std::collections::HashMap;
use std::io;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::auth;
use super::body::{Body, full, read_body};
use super::cognito::{self, Scope};
use super::error::{ApiError, ErrorCode};
use super::faults::{
    COGNITO_OPERATIONS, FIREHOSE_OPERATIONS, Fault, LOGS_OPERATIONS, ORGANIZATIONS_OPERATIONS,
    STS_OPERATIONS,
};
use super::firehose;
use super::inject::{Outcome, Request as FaultRequest};
use super::logs;
use super::mangle;
use super::organizations;
use super::protocol::{self, Protocol};
use super::s3;
use super::state::SimState;
use super::stats::Event;
use super::sts;

const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const XML_CONTENT_TYPE: &str = "text/xml";
/// Stats key for requests refused before their account was known.
const NO_ACCOUNT: &str = "-";

/// The request as far as it has been understood, and how to answer it.
struct Call<'a> {
    state: &'a SimState,
    protocol: Protocol,
    op: String,
    account: String,
    request_id: String,
    /// S3: the bucket the path names, and whether the method is `HEAD` (no body).
    bucket: String,
    head: bool,
}

impl Call<'_> {
    fn record(&self, event: Event<'_>) {
        self.state.stats.record(&self.account, &self.op, event);
    }

    /// The status, code, content type and body of an AWS-shaped error answer.
    fn error_parts(&self, err: &ApiError) -> (StatusCode, &'static str, &'static str, Bytes) {
        match self.protocol {
            Protocol::S3 => {
                let e = s3::S3Error::from_api(err);
                let reply = e.render(self.head, &self.bucket, &self.request_id);
                (e.status, e.code, XML_CONTENT_TYPE, reply.body)
            }
            Protocol::Json
            | Protocol::OrganizationsJson
            | Protocol::LogsJson
            | Protocol::FirehoseJson => {
                let mut body = json!({"__type": err.code.as_str(), "message": err.message});
                if let Some(reason) = err.reason {
                    body["Reason"] = json!(reason);
                }
                let bytes = Bytes::from(body.to_string());
                (
                    err.code.http_status(),
                    err.code.as_str(),
                    JSON_CONTENT_TYPE,
                    bytes,
                )
            }
            Protocol::Query => {
                let (status, code, xml) = sts::error_response(err, &self.request_id);
                (status, code, XML_CONTENT_TYPE, Bytes::from(xml))
            }
        }
    }

    /// An error answer, counted under the code actually sent.
    fn error(&self, err: &ApiError) -> Response<Body> {
        let (status, code, content_type, body) = self.error_parts(err);
        self.record(Event::Error(code));
        self.respond(status, content_type, Some(code), body)
    }

    fn respond(
        &self,
        status: StatusCode,
        content_type: &'static str,
        error_code: Option<&'static str>,
        body: Bytes,
    ) -> Response<Body> {
        let mut response = full(status, content_type, body);
        let headers = response.headers_mut();
        if let Ok(id) = HeaderValue::from_str(&self.request_id) {
            headers.insert("x-amzn-RequestId", id);
        }
        if let (Some(code), true) = (error_code, self.protocol.is_json()) {
            headers.insert("x-amzn-ErrorType", HeaderValue::from_static(code));
        }
        if self.protocol == Protocol::S3
            && let Ok(id) = HeaderValue::from_str(&self.request_id)
        {
            headers.insert("x-amz-request-id", id);
        }
        response
    }
}

pub(crate) async fn handle(
    state: &SimState,
    shutdown: &CancellationToken,
    req: Request<Incoming>,
) -> Result<Response<Body>, io::Error> {
    let (parts, body) = req.into_parts();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(response) => return Ok(response),
    };
    let (protocol, op, params) = protocol::recognise(&parts, &body);
    let call = Call {
        state,
        protocol,
        op,
        account: NO_ACCOUNT.to_owned(),
        request_id: state.next_request_id(),
        bucket: params.get("Bucket").cloned().unwrap_or_default(),
        head: parts.method == http::Method::HEAD,
    };
    answer(call, shutdown, &parts.headers, &params, &body).await
}

async fn answer(
    mut call: Call<'_>,
    shutdown: &CancellationToken,
    headers: &http::HeaderMap,
    params: &HashMap<String, String>,
    body: &[u8],
) -> Result<Response<Body>, io::Error> {
    let state = call.state;
    let op = call.op.clone();
    let known = match call.protocol {
        Protocol::Json => COGNITO_OPERATIONS.contains(&op.as_str()),
        Protocol::OrganizationsJson => ORGANIZATIONS_OPERATIONS.contains(&op.as_str()),
        Protocol::Query => STS_OPERATIONS.contains(&op.as_str()),
        Protocol::LogsJson => LOGS_OPERATIONS.contains(&op.as_str()),
        Protocol::FirehoseJson => FIREHOSE_OPERATIONS.contains(&op.as_str()),
        Protocol::S3 => s3::OPERATIONS.contains(&op.as_str()),
    };
    if !known {
        if op.is_empty() {
            call.op = "unknown".to_owned();
        }
        call.record(Event::Request);
        let message = format!("Unknown operation {op:?}");
        return Ok(call.error(&ApiError::new(
            ErrorCode::UnknownOperationException,
            message,
        )));
    }
    let found =
        auth::caller(headers).and_then(|c| state.keys.identity(&c.access_key).map(|i| (c, i)));
    let (caller, identity) = match found {
        Ok(found) => found,
        Err(err) => {
            call.record(Event::Request);
            return Ok(call.error(&err));
        }
    };
    call.account = match op.as_str() {
        "AssumeRole" => sts::role_account(params).unwrap_or_else(|| identity.account.clone()),
        _ => identity.account.clone(),
    };
    call.record(Event::Request);

    let request = FaultRequest {
        op: &op,
        account: &call.account,
        access_key: &caller.access_key,
        region: &caller.region,
    };
    let plan = state.faults.plan(&request, Instant::now());
    for kind in &plan.delays {
        call.record(Event::Injected(kind));
    }
    if !plan.delay.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(plan.delay) => {}
            () = shutdown.cancelled() => return Err(io::Error::other("shutting down")),
        }
    }
    let damage = match plan.outcome {
        None => None,
        Some(Outcome::RateLimited) => {
            call.record(Event::Injected("rate_limit"));
            let err = ApiError::new(ErrorCode::TooManyRequestsException, "Rate exceeded");
            return Ok(call.error(&err));
        }
        Some(Outcome::Fault(Fault::Error { code, message })) => {
            call.record(Event::Injected(code.as_str()));
            let message = message.unwrap_or_else(|| code.default_message().to_owned());
            return Ok(call.error(&ApiError::new(code, message)));
        }
        Some(Outcome::Fault(Fault::Html502)) => {
            call.record(Event::Injected("html_502"));
            let page = mangle::html_502();
            return Ok(call.respond(StatusCode::BAD_GATEWAY, "text/html", None, page));
        }
        Some(Outcome::Fault(Fault::Reset { after_bytes: None })) => {
            call.record(Event::Injected("reset"));
            return Err(io::Error::other("injected connection reset"));
        }
        Some(Outcome::Fault(other)) => Some(other),
    };

    let scope = Scope {
        account: &call.account,
        region: &caller.region,
    };
    let result = match call.protocol {
        Protocol::Json => {
            parse_json(body).and_then(|input| cognito::call(state, &scope, &op, &input))
        }
        Protocol::OrganizationsJson => parse_json(body)
            .and_then(|input| organizations::call(state, scope.account, &op, &input)),
        Protocol::Query => {
            sts::call(state, &identity, &op, params, &call.request_id).map(Value::String)
        }
        Protocol::LogsJson => {
            parse_json(body).and_then(|input| logs::call(state, &scope, &op, &input))
        }
        Protocol::FirehoseJson => {
            parse_json(body).and_then(|input| firehose::call(state, &scope, &op, &input))
        }
        Protocol::S3 => return Ok(s3_answer(&call, &scope, body)),
    };
    let (status, content_type, error_code, bytes) = match result {
        Err(err) => {
            let (status, code, content_type, bytes) = call.error_parts(&err);
            (status, content_type, Some(code), bytes)
        }
        Ok(Value::String(mut xml)) => {
            if let Some(Fault::MissingField { field }) = &damage {
                xml = mangle::missing_xml_element(&xml, field);
            }
            (StatusCode::OK, XML_CONTENT_TYPE, None, Bytes::from(xml))
        }
        Ok(mut value) => {
            match &damage {
                Some(Fault::DeleteAfterList) => {
                    if let Some(id) = value["UserPools"][0]["Id"].as_str() {
                        state.delete_pool(scope.account, scope.region, id);
                    }
                    call.record(Event::Injected("delete_after_list"));
                }
                Some(Fault::UnknownEnum { field }) => {
                    mangle::unknown_enum(&mut value, *field, &scope)
                }
                Some(Fault::MissingField { field }) => {
                    mangle::missing_field(&mut value, field, &scope)
                }
                Some(Fault::LoopingToken) => mangle::looping_token(&mut value, &scope),
                Some(Fault::EndlessToken) => {
                    mangle::endless_token(&mut value, &scope, &call.request_id)
                }
                _ => {}
            }
            (
                StatusCode::OK,
                JSON_CONTENT_TYPE,
                None,
                Bytes::from(value.to_string()),
            )
        }
    };
    // Transport damage hits error answers too; content damage only successful ones.
    let (event, bytes) = match (&damage, error_code) {
        (Some(Fault::TruncatedJson), _) => {
            (Event::Injected("truncated_json"), mangle::truncate(bytes))
        }
        (Some(Fault::Reset { .. }), _) => (Event::Injected("reset"), bytes),
        (
            Some(
                f @ (Fault::UnknownEnum { .. }
                | Fault::MissingField { .. }
                | Fault::LoopingToken
                | Fault::EndlessToken),
            ),
            None,
        ) => (Event::Injected(f.kind()), bytes),
        (_, Some(code)) => (Event::Error(code), bytes),
        (_, None) => (Event::Ok, bytes),
    };
    call.record(event);
    if let Some(Fault::Reset {
        after_bytes: Some(n),
    }) = damage
    {
        let mut response = call.respond(status, content_type, error_code, Bytes::new());
        *response.body_mut() = mangle::reset_after(bytes, n, response.headers_mut());
        return Ok(response);
    }
    Ok(call.respond(status, content_type, error_code, bytes))
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::serialization(format!("The request body is not valid JSON: {e}")))
}

/// Runs an S3 operation and shapes its answer; no damage applies to S3 but faults that
/// decide the answer before the operation runs.
fn s3_answer(call: &Call<'_>, scope: &Scope<'_>, body: &[u8]) -> Response<Body> {
    let reply = match s3::call(call.state, scope, &call.op, &call.bucket, body) {
        Ok(reply) => {
            call.record(Event::Ok);
            reply
        }
        Err(err) => {
            call.record(Event::Error(err.code));
            err.render(call.head, &call.bucket, &call.request_id)
        }
    };
    let mut response = call.respond(reply.status, XML_CONTENT_TYPE, None, reply.body);
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
