//! The Organizations operations (AWS JSON 1.1, `AWSOrganizationsV20161128.*`): a parsed
//! JSON request from an account in, a JSON answer or an [`ApiError`] out, against the
//! organization.
//!
//! As AWS has it: only the management account may list (others get
//! `AccessDeniedException`); `DescribeOrganization` works from any member and answers
//! `AWSOrganizationsNotInUseException` outside the organization. `MaxResults` is optional,
//! 1–20, default 20; a `NextToken` is opaque and works only for the operation and parent
//! that issued it. Invalid input is `InvalidInputException` with its `Reason`.

use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regex::Regex;
use serde_json::{Value, json};

use super::error::{ApiError, ErrorCode};
use super::ids::epoch_seconds;
use super::organization::{AccountInfo, Organization, OrganizationalUnit};
use super::state::SimState;
use super::validation::opt_str;

/// The most a page holds, and the default.
const MAX_RESULTS: usize = 20;
const TOKEN_PREFIX: &str = "org1";

static PARENT_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$")
        .expect("static regex is valid")
});

/// Runs Organizations operation `op` on `input` for a caller acting in `account`.
pub(crate) fn call(
    state: &SimState,
    account: &str,
    op: &str,
    input: &Value,
) -> Result<Value, ApiError> {
    if !input.is_object() {
        return Err(ApiError::serialization(
            "The request body must be a JSON object",
        ));
    }
    let org = &state.org;
    if op == "DescribeOrganization" {
        if !org.is_member(account) {
            return Err(ApiError::new(
                ErrorCode::AWSOrganizationsNotInUseException,
                ErrorCode::AWSOrganizationsNotInUseException.default_message(),
            ));
        }
        let management_email = org
            .account(&org.management)
            .map(|a| a.email)
            .unwrap_or_default();
        return Ok(json!({"Organization": {
            "Id": org.id,
            "Arn": org.organization_arn(),
            "FeatureSet": "ALL",
            "MasterAccountArn": format!(
                "arn:aws:organizations::{m}:account/{}/{m}", org.id, m = org.management
            ),
            "MasterAccountId": org.management,
            "MasterAccountEmail": management_email,
            "AvailablePolicyTypes": [],
        }}));
    }
    if account != org.management {
        return Err(ApiError::new(
            ErrorCode::AccessDeniedException,
            "You don't have permissions to access this resource.",
        ));
    }
    match op {
        "ListRoots" => {
            // One root: any valid page size holds it, but the request is still checked.
            page_request(input, op, "")?;
            Ok(json!({"Roots": [{
                "Id": org.root_id,
                "Arn": org.root_arn(),
                "Name": "Root",
                "PolicyTypes": [],
            }]}))
        }
        "ListAccounts" => {
            let (max, after) = page_request(input, op, "")?;
            let (accounts, next) = org.accounts_page(None, after, max);
            Ok(listing(
                "Accounts",
                accounts.iter().map(account_json),
                op,
                "",
                next,
            ))
        }
        "ListAccountsForParent" => {
            let parent = parent_id(org, input)?;
            let (max, after) = page_request(input, op, parent)?;
            let (accounts, next) = org.accounts_page(Some(parent), after, max);
            Ok(listing(
                "Accounts",
                accounts.iter().map(account_json),
                op,
                parent,
                next,
            ))
        }
        "ListOrganizationalUnitsForParent" => {
            let parent = parent_id(org, input)?;
            let (max, after) = page_request(input, op, parent)?;
            let (ous, next) = org.ous_page(parent, after, max);
            let items = ous.iter().map(ou_json);
            Ok(listing("OrganizationalUnits", items, op, parent, next))
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {op}"),
        )),
    }
}

fn account_json(a: &AccountInfo) -> Value {
    json!({
        "Id": a.id,
        "Arn": a.arn,
        "Email": a.email,
        "Name": a.name,
        "Status": a.state.status(),
        "State": a.state.as_str(),
        "JoinedMethod": a.joined_method,
        "JoinedTimestamp": epoch_seconds(a.joined),
    })
}

fn ou_json(ou: &OrganizationalUnit) -> Value {
    json!({"Id": ou.id, "Arn": ou.arn, "Name": ou.name})
}

/// `{member: [items], "NextToken": ...}`, the token only when more remain.
fn listing(
    member: &str,
    items: impl Iterator<Item = Value>,
    op: &str,
    parent: &str,
    next: Option<u64>,
) -> Value {
    let mut out = json!({ member: items.collect::<Vec<_>>() });
    if let Some(after) = next {
        out["NextToken"] = json!(encode_token(op, parent, after));
    }
    out
}

/// `ParentId`: required, a root or OU ID, and one that exists.
fn parent_id<'a>(org: &Organization, input: &'a Value) -> Result<&'a str, ApiError> {
    let Some(id) = opt_str(input, "ParentId")? else {
        return Err(ApiError::invalid_input(
            "INPUT_REQUIRED",
            "You must specify a value for ParentId.",
        ));
    };
    if id.len() > 100 || !PARENT_ID.is_match(id) {
        return Err(ApiError::invalid_input(
            "INVALID_PATTERN",
            format!("ParentId {id:?} is not a root ID (r-...) or an OU ID (ou-...-...)."),
        ));
    }
    if !org.parent_exists(id) {
        return Err(ApiError::new(
            ErrorCode::ParentNotFoundException,
            ErrorCode::ParentNotFoundException.default_message(),
        ));
    }
    Ok(id)
}

/// `MaxResults` (optional, 1–20, default 20) and the position a `NextToken` resumes
/// after, which must come from the same operation and parent.
fn page_request(input: &Value, op: &str, parent: &str) -> Result<(usize, Option<u64>), ApiError> {
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => MAX_RESULTS,
        Some(Value::Number(n)) => {
            let n = n
                .as_i64()
                .ok_or_else(|| ApiError::serialization("MaxResults must be an integer"))?;
            if n < 1 {
                return Err(ApiError::invalid_input(
                    "MIN_VALUE_EXCEEDED",
                    "MaxResults must be at least 1.",
                ));
            }
            if n > 20 {
                return Err(ApiError::invalid_input(
                    "MAX_VALUE_EXCEEDED",
                    "MaxResults must be at most 20.",
                ));
            }
            usize::try_from(n).unwrap_or(MAX_RESULTS)
        }
        Some(_) => return Err(ApiError::serialization("MaxResults must be an integer")),
    };
    let after = opt_str(input, "NextToken")?
        .map(|t| decode_token(t, op, parent))
        .transpose()?;
    Ok((max, after))
}

fn encode_token(op: &str, parent: &str, after: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}:{op}:{parent}:{after}"))
}

fn decode_token(token: &str, op: &str, parent: &str) -> Result<u64, ApiError> {
    let invalid = || ApiError::invalid_input("INVALID_NEXT_TOKEN", "The NextToken is invalid.");
    let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    match raw.split(':').collect::<Vec<_>>().as_slice() {
        [TOKEN_PREFIX, o, p, after] if *o == op && *p == parent => {
            after.parse().map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MANAGEMENT: &str = "123456789012";

    fn state() -> SimState {
        let s = SimState::new(MANAGEMENT.into(), 0, Duration::from_secs(3600));
        crate::seed::organization(&s, 30, 0);
        s
    }

    fn reason(err: &ApiError) -> (ErrorCode, Option<&'static str>) {
        (err.code, err.reason)
    }

    #[test]
    fn pages_cover_every_account_once() {
        let s = state();
        let mut seen = Vec::new();
        let mut input = json!({"MaxResults": 7});
        loop {
            let page = call(&s, MANAGEMENT, "ListAccounts", &input).expect("page");
            for a in page["Accounts"].as_array().expect("list") {
                seen.push(a["Id"].as_str().expect("id").to_owned());
            }
            match page.get("NextToken") {
                Some(t) => input["NextToken"] = t.clone(),
                None => break,
            }
        }
        assert_eq!(seen.len(), 31);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 31);
    }

    #[test]
    fn input_is_checked_as_aws_checks_it() {
        let s = state();
        let list = |input| call(&s, MANAGEMENT, "ListAccountsForParent", &input);
        let err = list(json!({})).expect_err("no parent");
        assert_eq!(
            reason(&err),
            (ErrorCode::InvalidInputException, Some("INPUT_REQUIRED"))
        );
        let err = list(json!({"ParentId": "root"})).expect_err("bad pattern");
        assert_eq!(reason(&err).1, Some("INVALID_PATTERN"));
        let err = list(json!({"ParentId": "ou-abcd-12345678"})).expect_err("no such OU");
        assert_eq!(err.code, ErrorCode::ParentNotFoundException);
        let root = s.root_id().to_owned();
        for (n, why) in [(0, "MIN_VALUE_EXCEEDED"), (21, "MAX_VALUE_EXCEEDED")] {
            let err = list(json!({"ParentId": root, "MaxResults": n})).expect_err("range");
            assert_eq!(reason(&err).1, Some(why));
        }
        let ous = json!({"ParentId": root, "MaxResults": 1});
        let page = call(&s, MANAGEMENT, "ListOrganizationalUnitsForParent", &ous).expect("ok");
        let token = page["NextToken"].clone();
        let foreign = json!({"NextToken": token});
        let err = call(&s, MANAGEMENT, "ListAccounts", &foreign).expect_err("other op");
        assert_eq!(reason(&err).1, Some("INVALID_NEXT_TOKEN"));
        let garbage = json!({"NextToken": "%%%"});
        let err = call(&s, MANAGEMENT, "ListRoots", &garbage).expect_err("garbage");
        assert_eq!(reason(&err).1, Some("INVALID_NEXT_TOKEN"));
    }

    #[test]
    fn only_the_management_account_lists() {
        let s = state();
        let member = s.accounts()[1].id.clone();
        let err = call(&s, &member, "ListAccounts", &json!({})).expect_err("member");
        assert_eq!(err.code, ErrorCode::AccessDeniedException);
        let described = call(&s, &member, "DescribeOrganization", &json!({})).expect("member");
        assert_eq!(described["Organization"]["MasterAccountId"], MANAGEMENT);
        let err = call(&s, "999999999999", "DescribeOrganization", &json!({})).expect_err("out");
        assert_eq!(err.code, ErrorCode::AWSOrganizationsNotInUseException);
    }
}
