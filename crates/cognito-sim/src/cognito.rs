//! The Cognito operations: a parsed JSON request in, a JSON answer or an [`ApiError`]
//! out, against one (account, region) namespace.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::error::{ApiError, ErrorCode, Violations};
use super::ids::epoch_seconds;
use super::model::LogConfiguration;
use super::pagination;
use super::state::{PoolInfo, SimState};
use super::validation::{self, opt_str};

/// Where a request's pools live.
pub(crate) struct Scope<'a> {
    pub(crate) account: &'a str,
    pub(crate) region: &'a str,
}

/// Runs Cognito operation `op` on `input`.
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
        "ListUserPools" => list_user_pools(state, scope, input),
        "DescribeUserPool" => {
            let id = pool_id(input)?;
            let pool = state
                .pool(scope.account, scope.region, id)
                .ok_or_else(|| ApiError::pool_not_found(id))?;
            Ok(json!({ "UserPool": describe(&pool) }))
        }
        "CreateUserPool" => {
            let name = pool_name(input)?;
            let pool = state.create_pool(scope.account, scope.region, name);
            Ok(json!({ "UserPool": describe(&pool) }))
        }
        "DeleteUserPool" => {
            let id = pool_id(input)?;
            if state.delete_pool(scope.account, scope.region, id) {
                Ok(json!({}))
            } else {
                Err(ApiError::pool_not_found(id))
            }
        }
        "GetLogDeliveryConfiguration" => {
            let id = pool_id(input)?;
            let configs = state
                .log_configurations(scope.account, scope.region, id)
                .ok_or_else(|| ApiError::pool_not_found(id))?;
            Ok(log_delivery(id, &configs))
        }
        "SetLogDeliveryConfiguration" => {
            let id = pool_id(input)?;
            let wire = validation::parse_log_configurations(input)?;
            if state.pool(scope.account, scope.region, id).is_none() {
                return Err(ApiError::pool_not_found(id));
            }
            let configs = validation::resolve(wire)?;
            state.set_log_configurations(scope.account, scope.region, id, configs.clone())?;
            Ok(log_delivery(id, &configs))
        }
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {op}"),
        )),
    }
}

fn list_user_pools(state: &SimState, scope: &Scope<'_>, input: &Value) -> Result<Value, ApiError> {
    let request = pagination::parse_request(input, scope.account, scope.region)?;
    let (pools, next) = state.list_page(scope.account, scope.region, &request);
    let items: Vec<Value> = pools
        .iter()
        .map(|p| {
            json!({
                "Id": p.id,
                "Name": p.name,
                "LambdaConfig": {},
                "CreationDate": epoch_seconds(p.creation_date),
                "LastModifiedDate": epoch_seconds(p.last_modified_date),
            })
        })
        .collect();
    let mut out = json!({ "UserPools": items });
    if let Some(after) = next {
        out["NextToken"] = json!(pagination::encode_token(scope.account, scope.region, after));
    }
    Ok(out)
}

fn log_delivery(pool_id: &str, configs: &[LogConfiguration]) -> Value {
    let configs: Vec<Value> = configs.iter().map(LogConfiguration::to_json).collect();
    json!({
        "LogDeliveryConfiguration": {
            "UserPoolId": pool_id,
            "LogConfigurations": configs,
        }
    })
}

fn describe(p: &PoolInfo) -> Value {
    let mut out = json!({
        "Id": p.id,
        "Name": p.name,
        "Arn": p.arn,
        "CreationDate": epoch_seconds(p.creation_date),
        "LastModifiedDate": epoch_seconds(p.last_modified_date),
        "LambdaConfig": {},
        "Policies": {
            "PasswordPolicy": {
                "MinimumLength": 8,
                "RequireUppercase": true,
                "RequireLowercase": true,
                "RequireNumbers": true,
                "RequireSymbols": true,
                "TemporaryPasswordValidityDays": 7
            }
        },
        "DeletionProtection": "INACTIVE",
        "MfaConfiguration": "OFF",
        "EstimatedNumberOfUsers": 0,
        "UserPoolTier": p.tier,
        "AdminCreateUserConfig": { "AllowAdminCreateUserOnly": false },
    });
    if let Some(mode) = &p.advanced_security_mode {
        out["UserPoolAddOns"] = json!({ "AdvancedSecurityMode": mode });
    }
    out
}

static POOL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w-]+_[0-9a-zA-Z]+$").expect("static regex is valid"));
static POOL_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w\s+=,.@-]+$").expect("static regex is valid"));

/// `UserPoolId`: required, 1–55 characters, `REGION_ID`.
fn pool_id(input: &Value) -> Result<&str, ApiError> {
    let mut v = Violations::default();
    let id = opt_str(input, "UserPoolId")?;
    match id {
        None => v.null("userPoolId"),
        Some(id) if id.is_empty() || id.chars().count() > 55 => {
            v.constraint("userPoolId", id, "have length between 1 and 55");
        }
        Some(id) if !POOL_ID.is_match(id) => {
            v.constraint(
                "userPoolId",
                id,
                r"satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+",
            );
        }
        Some(_) => {}
    }
    v.into_result()?;
    Ok(id.unwrap_or_default())
}

/// `PoolName`: required, 1–128 characters of `[\w\s+=,.@-]`.
fn pool_name(input: &Value) -> Result<&str, ApiError> {
    let mut v = Violations::default();
    let name = opt_str(input, "PoolName")?;
    match name {
        None => v.null("poolName"),
        Some(n) if n.is_empty() || n.chars().count() > 128 => {
            v.constraint("poolName", n, "have length between 1 and 128");
        }
        Some(n) if !POOL_NAME.is_match(n) => {
            v.constraint(
                "poolName",
                n,
                r"satisfy regular expression pattern: [\w\s+=,.@-]+",
            );
        }
        Some(_) => {}
    }
    v.into_result()?;
    Ok(name.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const ACCOUNT: &str = "123456789012";

    fn run(state: &SimState, op: &str, input: Value) -> Result<Value, ApiError> {
        let scope = Scope {
            account: ACCOUNT,
            region: "us-east-1",
        };
        call(state, &scope, op, &input)
    }

    #[test]
    fn round_trip_through_the_operations() {
        let s = SimState::new(ACCOUNT.into(), 0, Duration::from_secs(3600));
        let created = run(&s, "CreateUserPool", json!({"PoolName": "prod one"})).expect("create");
        let id = created["UserPool"]["Id"].as_str().expect("id").to_owned();
        let got = run(&s, "GetLogDeliveryConfiguration", json!({"UserPoolId": id})).expect("get");
        assert_eq!(
            got["LogDeliveryConfiguration"]["LogConfigurations"],
            json!([])
        );
        let config = json!({"LogLevel": "ERROR", "EventSource": "userNotification",
            "CloudWatchLogsConfiguration": {"LogGroupArn":
                "arn:aws:logs:us-east-1:123456789012:log-group:g"}});
        let set = json!({"UserPoolId": id, "LogConfigurations": [config]});
        let answer = run(&s, "SetLogDeliveryConfiguration", set).expect("set");
        let got = run(&s, "GetLogDeliveryConfiguration", json!({"UserPoolId": id})).expect("get");
        assert_eq!(answer, got);
        assert_eq!(
            got["LogDeliveryConfiguration"]["LogConfigurations"][0],
            config
        );
        let listed = run(&s, "ListUserPools", json!({"MaxResults": 60})).expect("list");
        assert_eq!(listed["UserPools"][0]["Name"], "prod one");
        assert!(listed.get("NextToken").is_none());
        run(&s, "DeleteUserPool", json!({"UserPoolId": id})).expect("delete");
        let err = run(&s, "DescribeUserPool", json!({"UserPoolId": id})).expect_err("gone");
        assert_eq!(err.code, ErrorCode::ResourceNotFoundException);
    }

    #[test]
    fn describe_answers_the_tier_and_add_ons_a_test_set() {
        let s = SimState::new(ACCOUNT.into(), 0, Duration::from_secs(3600));
        let pool = s.create_pool(ACCOUNT, "us-east-1", "prod");
        let describe = |s: &SimState| {
            run(s, "DescribeUserPool", json!({"UserPoolId": pool.id})).expect("describe")
                ["UserPool"]
                .clone()
        };
        let before = describe(&s);
        assert_eq!(before["UserPoolTier"], "ESSENTIALS");
        assert!(before.get("UserPoolAddOns").is_none());
        assert!(s.set_pool_tier(ACCOUNT, "us-east-1", &pool.id, "PLUS", Some("ENFORCED")));
        let after = describe(&s);
        assert_eq!(after["UserPoolTier"], "PLUS");
        assert_eq!(after["UserPoolAddOns"]["AdvancedSecurityMode"], "ENFORCED");
        assert!(
            after["LastModifiedDate"].as_f64() > before["LastModifiedDate"].as_f64(),
            "{before} {after}"
        );
        assert!(!s.set_pool_tier(ACCOUNT, "us-east-1", "us-east-1_nope", "LITE", None));
    }

    #[test]
    fn model_errors_come_before_existence() {
        let s = SimState::new(ACCOUNT.into(), 0, Duration::from_secs(3600));
        let bad = json!({"UserPoolId": "us-east-1_nope", "LogConfigurations": [
            {"LogLevel": "DEBUG", "EventSource": "userNotification"}]});
        let err = run(&s, "SetLogDeliveryConfiguration", bad).expect_err("invalid");
        assert_eq!(err.code, ErrorCode::InvalidParameterException);
        let ok_shape = json!({"UserPoolId": "us-east-1_nope", "LogConfigurations": []});
        let err = run(&s, "SetLogDeliveryConfiguration", ok_shape).expect_err("missing");
        assert_eq!(err.code, ErrorCode::ResourceNotFoundException);
        for bad_id in [json!({}), json!({"UserPoolId": "nounderscore"})] {
            let err = run(&s, "DescribeUserPool", bad_id).expect_err("bad id");
            assert_eq!(err.code, ErrorCode::InvalidParameterException);
        }
        let err = run(&s, "CreateUserPool", json!({"PoolName": "a/b"})).expect_err("bad name");
        assert_eq!(err.code, ErrorCode::InvalidParameterException);
        let err = run(&s, "ListUserPools", json!([])).expect_err("not an object");
        assert_eq!(err.code, ErrorCode::SerializationException);
    }
}
