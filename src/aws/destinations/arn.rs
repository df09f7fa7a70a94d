//! The resource a destination's ARN names, as a check calls it: a CloudWatch Logs log
//! group (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, `:*` after it or not), an S3
//! bucket (`arn:aws:s3:::NAME`, no region, no account), a Firehose stream
//! (`arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME`). Every part is checked before
//! it goes into a request, so an odd ARN fails its check without a call.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::is_valid_region;
use crate::model::Kind;

static PARTITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^aws(-[a-z]+)*$").expect("a valid pattern"));
static ACCOUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{12}$").expect("a valid pattern"));
/// CloudWatch Logs' own rule for log group names.
static LOG_GROUP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[.\-_/#A-Za-z0-9]{1,512}$").expect("a valid pattern"));
/// S3's rule for bucket names (general purpose buckets).
static BUCKET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$").expect("a valid pattern"));
/// Firehose's rule for stream names.
static STREAM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9_.-]{1,64}$").expect("a valid pattern"));

/// What a destination ARN names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resource<'a> {
    LogGroup {
        region: &'a str,
        account: &'a str,
        name: &'a str,
    },
    Bucket {
        name: &'a str,
    },
    Stream {
        region: &'a str,
        account: &'a str,
        name: &'a str,
    },
}

impl Resource<'_> {
    /// The account the ARN names; buckets' ARNs name none.
    pub(super) fn account(&self) -> Option<&str> {
        match self {
            Resource::LogGroup { account, .. } | Resource::Stream { account, .. } => Some(account),
            Resource::Bucket { .. } => None,
        }
    }
}

/// An ARN that is not one of the `kind` of destination it is configured as.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not {expected}")]
pub(super) struct BadArn {
    expected: &'static str,
}

/// The resource `arn` names, as a destination of `kind`.
pub(super) fn parse(kind: Kind, arn: &str) -> Result<Resource<'_>, BadArn> {
    let expected = match kind {
        Kind::CloudwatchLogs => "a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)",
        Kind::S3 => "a bucket ARN (arn:aws:s3:::NAME)",
        Kind::Firehose => {
            "a delivery stream ARN (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME)"
        }
    };
    let bad = BadArn { expected };
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad);
    };
    if !PARTITION.is_match(partition) {
        return Err(bad);
    }
    let located = is_valid_region(region) && ACCOUNT.is_match(account);
    let resource = match (kind, service) {
        (Kind::CloudwatchLogs, "logs") if located => {
            let name = rest.strip_prefix("log-group:").ok_or(bad.clone())?;
            // The ARN of a log group's streams, as DescribeLogGroups gives it.
            let name = name.strip_suffix(":*").unwrap_or(name);
            LOG_GROUP.is_match(name).then_some(Resource::LogGroup {
                region,
                account,
                name,
            })
        }
        (Kind::S3, "s3") if region.is_empty() && account.is_empty() => BUCKET
            .is_match(rest)
            .then_some(Resource::Bucket { name: rest }),
        (Kind::Firehose, "firehose") if located => {
            let name = rest.strip_prefix("deliverystream/").ok_or(bad.clone())?;
            STREAM.is_match(name).then_some(Resource::Stream {
                region,
                account,
                name,
            })
        }
        _ => None,
    };
    resource.ok_or(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns_with_and_without_the_star() {
        let expected = Resource::LogGroup {
            region: "eu-west-1",
            account: "111111111111",
            name: "/aws/cognito/errors",
        };
        for arn in [
            "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/cognito/errors",
            "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/cognito/errors:*",
        ] {
            assert_eq!(parse(Kind::CloudwatchLogs, arn), Ok(expected), "{arn}");
        }
        let china = parse(
            Kind::CloudwatchLogs,
            "arn:aws-cn:logs:cn-north-1:111111111111:log-group:g",
        );
        assert!(matches!(
            china,
            Ok(Resource::LogGroup {
                region: "cn-north-1",
                ..
            })
        ));
    }

    #[test]
    fn bucket_arns_have_no_region_or_account() {
        assert_eq!(
            parse(Kind::S3, "arn:aws:s3:::user-activity.logs"),
            Ok(Resource::Bucket {
                name: "user-activity.logs"
            })
        );
        let bucket = parse(Kind::S3, "arn:aws:s3:::user-activity.logs").expect("valid");
        assert_eq!(bucket.account(), None);
        for bad in [
            "arn:aws:s3:::bucket/prefix",
            "arn:aws:s3:eu-west-1:111111111111:bucket",
            "arn:aws:s3:::Upper",
            "arn:aws:s3:::",
        ] {
            assert!(parse(Kind::S3, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn firehose_arns_name_a_delivery_stream() {
        let arn = "arn:aws:firehose:us-east-1:222222222222:deliverystream/auth-events";
        let resource = parse(Kind::Firehose, arn).expect("valid");
        assert_eq!(
            resource,
            Resource::Stream {
                region: "us-east-1",
                account: "222222222222",
                name: "auth-events",
            }
        );
        assert_eq!(resource.account(), Some("222222222222"));
    }

    #[test]
    fn anything_else_is_refused_before_a_call() {
        for (kind, arn) in [
            (Kind::CloudwatchLogs, "arn:aws:s3:::bucket"),
            (
                Kind::CloudwatchLogs,
                "arn:aws:logs:eu-west-1:111111111111:group:g",
            ),
            (
                Kind::CloudwatchLogs,
                "arn:aws:logs:eu-west-1:1111:log-group:g",
            ),
            (
                Kind::CloudwatchLogs,
                "arn:aws:logs:mars:111111111111:log-group:g",
            ),
            (
                Kind::CloudwatchLogs,
                "arn:aws:logs:eu-west-1:111111111111:log-group:a b",
            ),
            (
                Kind::CloudwatchLogs,
                "arn:aws:logs:eu-west-1:111111111111:log-group:",
            ),
            (
                Kind::Firehose,
                "arn:aws:firehose:eu-west-1:111111111111:deliverystream/",
            ),
            (
                Kind::Firehose,
                "arn:aws:firehose:eu-west-1:111111111111:stream/s",
            ),
            (
                Kind::Firehose,
                "arn:aws:logs:eu-west-1:111111111111:log-group:g",
            ),
            (Kind::S3, "s3://bucket"),
            (Kind::S3, "arn:other:s3:::bucket"),
            (Kind::S3, ""),
        ] {
            assert!(parse(kind, arn).is_err(), "{kind:?} {arn}");
        }
        assert_eq!(
            parse(Kind::S3, "x").map_err(|e| e.to_string()),
            Err("not a bucket ARN (arn:aws:s3:::NAME)".to_owned())
        );
    }
}
