//! The control routes for destinations and feature plans:
//! `PUT`/`DELETE /_sim/destinations/{arn}` and `PUT /_sim/pools/{id}/plan`.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::super::body::Body;
use super::super::destinations::{DeliveryStreamStatus, bucket_arn};
use super::super::plans::{AdvancedSecurityMode, UserPoolTier};
use super::super::state::SimState;
use super::{bad_request, json_response, no_content};
use http::Response;

/// The body of `PUT /_sim/destinations/{arn}`: every member optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DestinationChange {
    /// Log groups: the key a new group is encrypted with.
    kms_key_id: Option<String>,
    /// Buckets: the region of a new bucket (default `us-east-1`).
    region: Option<String>,
    /// Buckets: the owner of a new bucket (default the default account).
    account: Option<String>,
    /// Streams: the status to set.
    status: Option<DeliveryStreamStatus>,
    /// Any: refuse (or stop refusing) its checks.
    refuse: Option<bool>,
}

/// The body of `PUT /_sim/pools/{id}/plan`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanChange {
    /// The pool's account (default the default account).
    account: Option<String>,
    tier: UserPoolTier,
    /// `null` or absent: no add-ons.
    threat_protection: Option<AdvancedSecurityMode>,
}

/// A destination named by its ARN.
enum Target {
    LogGroup {
        account: String,
        region: String,
        name: String,
    },
    Bucket {
        name: String,
    },
    Stream {
        account: String,
        region: String,
        name: String,
    },
}

fn parse_arn(arn: &str) -> Option<Target> {
    let mut parts = arn.splitn(6, ':');
    let (_arn, _partition, service, region, account, resource) = (
        parts.next().filter(|a| *a == "arn")?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let (region, account) = (region.to_owned(), account.to_owned());
    match service {
        "logs" => {
            let name = resource.strip_prefix("log-group:")?;
            let name = name.strip_suffix(":*").unwrap_or(name).to_owned();
            Some(Target::LogGroup {
                account,
                region,
                name,
            })
        }
        "s3" if !resource.is_empty() && !resource.contains('/') => Some(Target::Bucket {
            name: resource.to_owned(),
        }),
        "firehose" => {
            let name = resource.strip_prefix("deliverystream/")?.to_owned();
            Some(Target::Stream {
                account,
                region,
                name,
            })
        }
        _ => None,
    }
}

/// `%XX` escapes in a path segment, so ARNs with `#` or spaces can be named.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `PUT /_sim/destinations/{arn}`: creates the destination if it is missing, then applies
/// the status and refusal given; 200 with `{"arn", "created"}`.
pub(super) fn put(state: &SimState, raw_arn: &str, body: &[u8]) -> Response<Body> {
    let Some(arn) = percent_decode(raw_arn) else {
        return bad_request("the ARN is not percent-encoded correctly");
    };
    let change: DestinationChange = if body.iter().all(u8::is_ascii_whitespace) {
        DestinationChange::default()
    } else {
        match serde_json::from_slice(body) {
            Ok(change) => change,
            Err(e) => return bad_request(&e.to_string()),
        }
    };
    let Some(target) = parse_arn(&arn) else {
        return bad_request("not the ARN of a log group, bucket or delivery stream");
    };
    let created = match &target {
        Target::LogGroup {
            account,
            region,
            name,
        } => state.create_log_group(account, region, name, change.kms_key_id.as_deref()),
        Target::Bucket { name } => {
            let account = change.account.as_deref().unwrap_or(state.default_account());
            let region = change.region.as_deref().unwrap_or("us-east-1");
            state.create_bucket(account, region, name).is_ok()
        }
        Target::Stream {
            account,
            region,
            name,
        } => {
            let created = state
                .create_delivery_stream(account, region, name)
                .is_some();
            if let Some(status) = change.status {
                state.set_delivery_stream_status(account, region, name, status);
            }
            created
        }
    };
    if let Some(refuse) = change.refuse {
        let key = match &target {
            Target::Bucket { name } => {
                bucket_arn(change.region.as_deref().unwrap_or("us-east-1"), name)
            }
            _ => arn.clone(),
        };
        state.refuse_destination(&key, refuse);
    }
    json_response(StatusCode::OK, &json!({"arn": arn, "created": created}))
}

/// `DELETE /_sim/destinations/{arn}`: 204, or 404 when there is none.
pub(super) fn delete(state: &SimState, raw_arn: &str) -> Response<Body> {
    let Some(target) = percent_decode(raw_arn).and_then(|arn| parse_arn(&arn)) else {
        return bad_request("not the ARN of a log group, bucket or delivery stream");
    };
    let deleted = match target {
        Target::LogGroup {
            account,
            region,
            name,
        } => state.delete_log_group(&account, &region, &name),
        Target::Bucket { name } => state.delete_bucket(&name),
        Target::Stream {
            account,
            region,
            name,
        } => state.delete_delivery_stream(&account, &region, &name),
    };
    if deleted {
        no_content()
    } else {
        json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "no such destination"}),
        )
    }
}

/// `PUT /_sim/pools/{id}/plan`: as `UpdateUserPool` (moves `LastModifiedDate`); 200 with
/// the pool's plan, 404 for no such pool, 400 when threat protection needs `PLUS`.
pub(super) fn put_plan(state: &SimState, pool_id: &str, body: &[u8]) -> Response<Body> {
    let change: PlanChange = match serde_json::from_slice(body) {
        Ok(change) => change,
        Err(e) => return bad_request(&e.to_string()),
    };
    let account = change.account.as_deref().unwrap_or(state.default_account());
    let region = pool_id.split('_').next().unwrap_or_default();
    if state.pool(account, region, pool_id).is_none() {
        return json_response(StatusCode::NOT_FOUND, &json!({"error": "no such pool"}));
    }
    match state.set_pool_plan(
        account,
        region,
        pool_id,
        change.tier,
        change.threat_protection,
    ) {
        Ok(pool) => json_response(
            StatusCode::OK,
            &json!({"id": pool.id, "tier": pool.tier, "threat_protection": pool.add_ons}),
        ),
        Err(e) => bad_request(&e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_destination() {
        let group = parse_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/a/b:*");
        assert!(matches!(group, Some(Target::LogGroup { ref name, .. }) if name == "/a/b"));
        assert!(matches!(
            parse_arn("arn:aws:s3:::bkt"),
            Some(Target::Bucket { .. })
        ));
        let stream = parse_arn("arn:aws:firehose:us-east-1:1:deliverystream/s");
        assert!(matches!(stream, Some(Target::Stream { ref name, .. }) if name == "s"));
        assert!(parse_arn("arn:aws:sqs:us-east-1:1:q").is_none());
        assert_eq!(percent_decode("a%23b").as_deref(), Some("a#b"));
        assert!(percent_decode("a%2").is_none());
    }
}
