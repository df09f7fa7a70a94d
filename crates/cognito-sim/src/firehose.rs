//! The Amazon Data Firehose operations (AWS JSON 1.1, `X-Amz-Target:
//! Firehose_20150804.<Op>`) a destination check needs: `CreateDeliveryStream` (its
//! destination configuration is accepted and ignored), `DeleteDeliveryStream`,
//! `DescribeDeliveryStream`, against one (account, region) namespace.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::cognito::Scope;
use super::destinations::stream_arn;
use super::error::{ApiError, ErrorCode, Violations};
use super::ids::epoch_seconds;
use super::state::SimState;
use super::validation::opt_str;

/// `X-Amz-Target` prefix of Firehose.
pub(crate) const TARGET_PREFIX: &str = "Firehose_20150804.";

static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.-]+$").expect("static regex is valid"));

/// Runs Firehose operation `op` on `input`.
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
    let name = stream_name(input)?;
    match op {
        "CreateDeliveryStream" => {
            if let Some(t) = opt_str(input, "DeliveryStreamType")?
                && ![
                    "DirectPut",
                    "KinesisStreamAsSource",
                    "MSKAsSource",
                    "DatabaseAsSource",
                ]
                .contains(&t)
            {
                let mut v = Violations::default();
                let c = "satisfy enum value set: [DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource]";
                v.constraint("deliveryStreamType", t, c);
                v.into_result()?;
            }
            match state.create_delivery_stream(scope.account, scope.region, name) {
                Some(arn) => Ok(json!({ "DeliveryStreamARN": arn })),
                None => Err(ApiError::new(
                    ErrorCode::ResourceInUseException,
                    format!(
                        "Firehose {name} under accountId {} already exists",
                        scope.account
                    ),
                )),
            }
        }
        "DeleteDeliveryStream" => {
            if state.delete_delivery_stream(scope.account, scope.region, name) {
                Ok(json!({}))
            } else {
                Err(not_found(name, scope))
            }
        }
        "DescribeDeliveryStream" => describe(state, scope, name),
        _ => Err(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation {op}"),
        )),
    }
}

fn not_found(name: &str, scope: &Scope<'_>) -> ApiError {
    ApiError::new(
        ErrorCode::ResourceNotFoundException,
        format!("Firehose {name} under account {} not found.", scope.account),
    )
}

/// `DeliveryStreamName`: required, 1–64 characters of `[a-zA-Z0-9_.-]`.
fn stream_name(input: &Value) -> Result<&str, ApiError> {
    let mut v = Violations::default();
    let name = opt_str(input, "DeliveryStreamName")?;
    match name {
        None => v.null("deliveryStreamName"),
        Some(n) if n.is_empty() || n.len() > 64 => {
            v.constraint("deliveryStreamName", n, "have length between 1 and 64");
        }
        Some(n) if !NAME.is_match(n) => {
            v.constraint(
                "deliveryStreamName",
                n,
                "satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
        Some(_) => {}
    }
    v.into_result()?;
    Ok(name.unwrap_or_default())
}

fn describe(state: &SimState, scope: &Scope<'_>, name: &str) -> Result<Value, ApiError> {
    let arn = stream_arn(scope.account, scope.region, name);
    let data = state.destinations.lock();
    if data.refused.contains(&arn) {
        return Err(ApiError::new(
            ErrorCode::AccessDeniedException,
            format!(
                "User: arn:aws:iam::{}:user/sim is not authorized to perform: firehose:DescribeDeliveryStream on resource: {arn}",
                scope.account
            ),
        ));
    }
    let stream = data
        .streams
        .get(&(scope.account.to_owned(), scope.region.to_owned()))
        .and_then(|streams| streams.get(name))
        .ok_or_else(|| not_found(name, scope))?;
    Ok(json!({
        "DeliveryStreamDescription": {
            "DeliveryStreamName": name,
            "DeliveryStreamARN": arn,
            "DeliveryStreamStatus": stream.status.as_str(),
            "DeliveryStreamType": "DirectPut",
            "VersionId": "1",
            "CreateTimestamp": epoch_seconds(stream.created),
            "Destinations": [],
            "HasMoreDestinations": false,
        }
    }))
}
