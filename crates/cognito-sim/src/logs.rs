//! The CloudWatch Logs operations (AWS JSON 1.1, `X-Amz-Target: Logs_20140328.<Op>`) a
//! destination check needs: `CreateLogGroup`, `DeleteLogGroup`, `DescribeLogGroups`,
//! against one (account, region) namespace.

use std::sync::LazyLock;
use std::time::UNIX_EPOCH;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regex::Regex;
use serde_json::{Value, json};

use super::cognito::Scope;
use super::destinations::{LogGroup, log_group_arn};
use super::error::{ApiError, ErrorCode, Violations};
use super::state::SimState;
use super::validation::opt_str;

/// `X-Amz-Target` prefix of CloudWatch Logs.
pub(crate) const TARGET_PREFIX: &str = "Logs_20140328.";

/// The most `DescribeLogGroups` answers at once, and its default.
const MAX_LIMIT: u64 = 50;

static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[.\-_/#A-Za-z0-9]+$").expect("static regex is valid"));

/// Runs CloudWatch Logs operation `op` on `input`.
pub(crate) fn call(
    state: &SimState,
    scope: &Scope<'_>,
    op: &str,
    input: &Value,
) -> Result<Value, ApiError> {
    if !input.is_object() {
        return Err(ApiError::serialization(
            "The request body must be a JSON object",
        ));
    }
    match op {
        "CreateLogGroup" => {
            let name = group_name(input)?;
            let kms = opt_str(input, "kmsKeyId")?;
            if state.create_log_group(scope.account, scope.region, name, kms) {
                Ok(json!({}))
            } else {
                Err(ApiError::new(
                    ErrorCode::ResourceAlreadyExistsException,
                    "The specified log group already exists",
                ))
            }
        }
        "DeleteLogGroup" => {
            let name = group_name(input)?;
            if state.delete_log_group(scope.account, scope.region, name) {
                Ok(json!({}))
            } else {
                Err(not_found())
            }
        }
        "DescribeLogGroups" => describe(state, scope, input),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {op}"),
        )),
    }
}

fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        "The specified log group does not exist.",
    )
}

/// `logGroupName`: required, 1–512 characters of `[.-_/#A-Za-z0-9]`.
fn group_name(input: &Value) -> Result<&str, ApiError> {
    let mut v = Violations::default();
    let name = opt_str(input, "logGroupName")?;
    match name {
        None => v.null("logGroupName"),
        Some(n) if n.is_empty() || n.len() > 512 => {
            v.constraint("logGroupName", n, "have length between 1 and 512");
        }
        Some(n) if !NAME.is_match(n) => {
            v.constraint(
                "logGroupName",
                n,
                r"satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+",
            );
        }
        Some(_) => {}
    }
    v.into_result()?;
    Ok(name.unwrap_or_default())
}

/// Which groups a `DescribeLogGroups` request selects.
enum Filter {
    Prefix(String),
    /// Names in the caller's namespace; identifiers of other namespaces select nothing.
    Names(Vec<String>),
}

fn filter(input: &Value, scope: &Scope<'_>) -> Result<Filter, ApiError> {
    let prefix = opt_str(input, "logGroupNamePrefix")?;
    let ids = match input.get("logGroupIdentifiers") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items),
        Some(_) => {
            return Err(ApiError::serialization(
                "logGroupIdentifiers must be a list",
            ));
        }
    };
    match (prefix, ids) {
        (Some(_), Some(_)) => Err(ApiError::invalid_parameter(
            "LogGroupIdentifiers and LogGroupNamePrefix are mutually exclusive",
        )),
        (Some(p), None) => Ok(Filter::Prefix(p.to_owned())),
        (None, None) => Ok(Filter::Prefix(String::new())),
        (None, Some(items)) => {
            if items.is_empty() || items.len() > 50 {
                let mut v = Violations::default();
                let c = "have length between 1 and 50";
                v.constraint("logGroupIdentifiers", format!("[{} items]", items.len()), c);
                v.into_result()?;
            }
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                let id = item
                    .as_str()
                    .ok_or_else(|| ApiError::serialization("logGroupIdentifiers holds strings"))?;
                if let Some(name) = own_name(id, scope) {
                    names.push(name);
                }
            }
            Ok(Filter::Names(names))
        }
    }
}

/// The group name an identifier (a name, or an ARN with or without `:*`) means in the
/// caller's namespace; `None` for an ARN of another account or region.
fn own_name(id: &str, scope: &Scope<'_>) -> Option<String> {
    if !id.starts_with("arn:") {
        return Some(id.to_owned());
    }
    let id = id.strip_suffix(":*").unwrap_or(id);
    let mut parts = id.splitn(7, ':');
    let (_, _, service, region, account, kind, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (service == "logs" && kind == "log-group" && region == scope.region && account == scope.account)
        .then(|| name.to_owned())
}

fn describe(state: &SimState, scope: &Scope<'_>, input: &Value) -> Result<Value, ApiError> {
    let filter = filter(input, scope)?;
    let limit = match input.get("limit") {
        None | Some(Value::Null) => MAX_LIMIT,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(l @ 1..=MAX_LIMIT) => l,
            _ => {
                let mut v = Violations::default();
                v.constraint("limit", n, "have value between 1 and 50");
                v.into_result()?;
                MAX_LIMIT
            }
        },
        Some(_) => return Err(ApiError::serialization("limit must be a number")),
    };
    let after =
        match opt_str(input, "nextToken")? {
            None => None,
            Some(t) => Some(decode_token(t, scope).ok_or_else(|| {
                ApiError::invalid_parameter("The specified nextToken is invalid.")
            })?),
        };
    let data = state.destinations.lock();
    let empty = Default::default();
    let groups = data
        .log_groups
        .get(&(scope.account.to_owned(), scope.region.to_owned()))
        .unwrap_or(&empty);
    let selected: Vec<(&String, &LogGroup)> = match &filter {
        Filter::Prefix(p) => groups
            .iter()
            .filter(|(n, _)| n.starts_with(p.as_str()))
            .collect(),
        Filter::Names(names) => groups.iter().filter(|(n, _)| names.contains(n)).collect(),
    };
    let named: Vec<String> = match &filter {
        Filter::Names(names) => names.clone(),
        Filter::Prefix(_) => selected.iter().map(|(n, _)| (*n).clone()).collect(),
    };
    if let Some(denied) = named
        .iter()
        .map(|n| log_group_arn(scope.account, scope.region, n))
        .find(|arn| data.refused.contains(arn))
    {
        return Err(ApiError::new(
            ErrorCode::AccessDeniedException,
            format!(
                "User: arn:aws:iam::{}:user/sim is not authorized to perform: logs:DescribeLogGroups on resource: {denied}:*",
                scope.account
            ),
        ));
    }
    let page: Vec<Value> = selected
        .iter()
        .filter(|(n, _)| after.as_deref().is_none_or(|a| n.as_str() > a))
        .take(usize::try_from(limit + 1).unwrap_or(usize::MAX))
        .map(|(n, g)| group_json(scope, n, g))
        .collect();
    let mut out = json!({});
    let more = page.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    let page: Vec<Value> = page
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    if more && let Some(last) = page.last().and_then(|g| g["logGroupName"].as_str()) {
        out["nextToken"] = json!(encode_token(last, scope));
    }
    out["logGroups"] = Value::Array(page);
    Ok(out)
}

fn group_json(scope: &Scope<'_>, name: &str, g: &LogGroup) -> Value {
    let arn = log_group_arn(scope.account, scope.region, name);
    let millis = g
        .created
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut out = json!({
        "logGroupName": name,
        "creationTime": u64::try_from(millis).unwrap_or(u64::MAX),
        "metricFilterCount": 0,
        "arn": format!("{arn}:*"),
        "storedBytes": 0,
        "logGroupClass": "STANDARD",
        "logGroupArn": arn,
    });
    if let Some(kms) = &g.kms_key_id {
        out["kmsKeyId"] = json!(kms);
    }
    out
}

/// A token names the last group answered; it works only in the namespace that issued it.
fn encode_token(last: &str, scope: &Scope<'_>) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}\n{}\n{last}", scope.account, scope.region))
}

fn decode_token(token: &str, scope: &Scope<'_>) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.splitn(3, '\n');
    let (account, region, last) = (parts.next()?, parts.next()?, parts.next()?);
    (account == scope.account && region == scope.region).then(|| last.to_owned())
}
