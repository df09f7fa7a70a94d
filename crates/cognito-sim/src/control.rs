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
//! - `GET /_sim/organization`: the organization's ID, management account, root and OUs
//!   (each with its parent).
//! - `GET /_sim/accounts`: the member accounts ([`AccountInfo`]s), in `ListAccounts` order.
//! - `POST /_sim/accounts`: add one, `{"name": ..., "parent": ..., "pools": N}` (parent
//!   default the root, pools default the seeded count); 201 with the account.
//! - `PUT /_sim/accounts/{id}`: change one, any of `{"parent": ..., "state": "SUSPENDED",
//!   "refuse_assume_role": true}`; 200 with the account, 404 if it is not a member.
//! - `DELETE /_sim/accounts/{id}`: remove it from the organization (its pools stay); 204,
//!   or 404.
//! - `PUT /_sim/destinations/{arn}`: make sure the log group, bucket or delivery stream
//!   with this ARN exists, with any of `{"kms_key_id": ...}` (a new log group),
//!   `{"region": ..., "account": ...}` (a new bucket; default `us-east-1` and the default
//!   account), `{"status": "CREATING"}` (a stream), `{"refuse": true}` (its checks are
//!   refused); 200 with `{"arn": ..., "created": bool}`.
//! - `DELETE /_sim/destinations/{arn}`: delete it; 204, or 404.
//! - `PUT /_sim/pools/{id}/plan`: `{"tier": "PLUS", "threat_protection": "AUDIT",
//!   "account": ...}` (no `threat_protection`: no add-ons; `account` default the default
//!   account), as `UpdateUserPool`; 200 with the plan, 404, or 400 when threat protection
//!   needs `PLUS`.
//!
//! A bad request body or parent gets a 400 with `{"error": ...}`.

use http::header::ALLOW;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::body::{Body, full, read_body, text};
use super::faults::FaultSet;
use super::organization::{AccountInfo, AccountState, OrganizationError};
use super::state::SimState;

mod destinations;

/// The body of `POST /_sim/accounts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    name: String,
    parent: Option<String>,
    pools: Option<usize>,
}

/// The body of `PUT /_sim/accounts/{id}`: the changes to make.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountChange {
    parent: Option<String>,
    state: Option<AccountState>,
    refuse_assume_role: Option<bool>,
}

pub(crate) async fn handle(state: &SimState, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if let Some(arn) = path.strip_prefix("/_sim/destinations/") {
        return match method {
            Method::PUT => match read_body(req.into_body()).await {
                Ok(body) => destinations::put(state, arn, &body),
                Err(response) => response,
            },
            Method::DELETE => destinations::delete(state, arn),
            _ => not_allowed("PUT, DELETE"),
        };
    }
    if let Some(id) = path
        .strip_prefix("/_sim/pools/")
        .and_then(|rest| rest.strip_suffix("/plan"))
    {
        return match method {
            Method::PUT => match read_body(req.into_body()).await {
                Ok(body) => destinations::put_plan(state, id, &body),
                Err(response) => response,
            },
            _ => not_allowed("PUT"),
        };
    }
    if let Some(id) = path.strip_prefix("/_sim/accounts/") {
        return match method {
            Method::PUT => match read_body(req.into_body()).await {
                Ok(body) => put_account(state, id, &body),
                Err(response) => response,
            },
            Method::DELETE if state.remove_account(id) => no_content(),
            Method::DELETE => text(StatusCode::NOT_FOUND, "no such member account\n"),
            _ => not_allowed("PUT, DELETE"),
        };
    }
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
        ("/_sim/organization", Method::GET) => organization(state),
        ("/_sim/accounts", Method::GET) => json_response(StatusCode::OK, &state.accounts()),
        ("/_sim/accounts", Method::POST) => match read_body(req.into_body()).await {
            Ok(body) => post_account(state, &body),
            Err(response) => response,
        },
        ("/_sim/health", _) => not_allowed("GET"),
        ("/_sim/organization", _) => not_allowed("GET"),
        ("/_sim/accounts", _) => not_allowed("GET, POST"),
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

fn organization(state: &SimState) -> Response<Body> {
    let answer = json!({
        "id": state.organization_id(),
        "management_account": state.management_account(),
        "root": {"id": state.root_id(), "name": "Root"},
        "organizational_units": state.organizational_units(),
    });
    json_response(StatusCode::OK, &answer)
}

fn post_account(state: &SimState, body: &[u8]) -> Response<Body> {
    let new: NewAccount = match serde_json::from_slice(body) {
        Ok(new) => new,
        Err(e) => return bad_request(&e.to_string()),
    };
    let pools = new.pools.unwrap_or(state.seeded_pools);
    match state.add_account(&new.name, new.parent.as_deref(), pools) {
        Ok(account) => json_response(StatusCode::CREATED, &account),
        Err(e) => bad_request(&e.to_string()),
    }
}

fn put_account(state: &SimState, id: &str, body: &[u8]) -> Response<Body> {
    let change: AccountChange = match serde_json::from_slice(body) {
        Ok(change) => change,
        Err(e) => return bad_request(&e.to_string()),
    };
    match change_account(state, id, &change) {
        Ok(account) => json_response(StatusCode::OK, &account),
        Err(e @ OrganizationError::UnknownAccount(_)) => {
            json_response(StatusCode::NOT_FOUND, &json!({"error": e.to_string()}))
        }
        Err(e) => bad_request(&e.to_string()),
    }
}

/// Applies `change` to member `id`, the move first: a move to a missing OU is refused
/// before anything else changes.
fn change_account(
    state: &SimState,
    id: &str,
    change: &AccountChange,
) -> Result<AccountInfo, OrganizationError> {
    let mut account = state
        .account(id)
        .ok_or_else(|| OrganizationError::UnknownAccount(id.to_owned()))?;
    if let Some(parent) = &change.parent {
        account = state.move_account(id, parent)?;
    }
    if let Some(new_state) = change.state {
        account = state.set_account_state(id, new_state)?;
    }
    if let Some(refuse) = change.refuse_assume_role {
        state.refuse_assume_role(id, refuse);
        account.refuse_assume_role = refuse;
    }
    Ok(account)
}

fn bad_request(error: &str) -> Response<Body> {
    json_response(StatusCode::BAD_REQUEST, &json!({"error": error}))
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
