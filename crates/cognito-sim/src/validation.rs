//! The validation `SetLogDeliveryConfiguration` applies, in AWS's two stages: model
//! constraints first (nulls, enums, list length; answered before the pool is looked up),
//! then the rules about which level and destinations each event source takes, and the
//! shapes of destination ARNs.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::error::{ApiError, Violations};
use super::model::{Destination, EventSource, LogConfiguration, LogLevel};

static LOG_GROUP_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:logs:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:log-group:[A-Za-z0-9_/.#-]{1,512}(:\*)?$")
        .expect("static regex is valid")
});
static BUCKET_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
        .expect("static regex is valid")
});
static STREAM_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws[a-z-]*:firehose:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:deliverystream/[A-Za-z0-9_.-]{1,64}$")
        .expect("static regex is valid")
});

/// The expected shape of a destination's ARN, if the ARN does not have it.
fn arn_problem(d: &Destination) -> Option<&'static str> {
    let (re, shape) = match d {
        Destination::CloudWatchLogs(_) => (
            &*LOG_GROUP_ARN,
            "arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]",
        ),
        Destination::S3(_) => (&*BUCKET_ARN, "arn:aws:s3:::BUCKET"),
        Destination::Firehose(_) => (
            &*STREAM_ARN,
            "arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME",
        ),
    };
    (!re.is_match(d.arn())).then_some(shape)
}

/// A configuration as sent: it may name several destinations (or none), which only the
/// second stage of validation rejects.
#[derive(Debug)]
pub(crate) struct WireConfig {
    log_level: LogLevel,
    event_source: EventSource,
    destinations: Vec<Destination>,
}

impl From<&LogConfiguration> for WireConfig {
    fn from(c: &LogConfiguration) -> Self {
        WireConfig {
            log_level: c.log_level,
            event_source: c.event_source,
            destinations: vec![c.destination.clone()],
        }
    }
}

/// A destination's wire member, its ARN field, and how to build it.
type DestinationMember = (&'static str, &'static str, fn(String) -> Destination);

/// Reads a member that must be a string if present.
pub(crate) fn opt_str<'a>(obj: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::serialization(format!("{key} must be a string"))),
    }
}

/// Stage one for `SetLogDeliveryConfiguration`: the `LogConfigurations` member against the
/// model's constraints.
pub(crate) fn parse_log_configurations(input: &Value) -> Result<Vec<WireConfig>, ApiError> {
    let mut v = Violations::default();
    let items = match input.get("LogConfigurations") {
        None | Some(Value::Null) => {
            v.null("logConfigurations");
            return v.into_result().map(|()| Vec::new());
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::serialization("LogConfigurations must be a list")),
    };
    if items.len() > 2 {
        v.constraint(
            "logConfigurations",
            format!("[{} items]", items.len()),
            "have length less than or equal to 2",
        );
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("logConfigurations.{}.member", i + 1);
        if !item.is_object() {
            return Err(ApiError::serialization(format!(
                "{path} must be a structure"
            )));
        }
        let level = opt_str(item, "LogLevel")?;
        let source = opt_str(item, "EventSource")?;
        let log_level = match level {
            None => {
                v.null(&format!("{path}.logLevel"));
                None
            }
            Some(s) => LogLevel::parse(s).or_else(|| {
                let c = "satisfy enum value set: [ERROR, INFO]";
                v.constraint(&format!("{path}.logLevel"), s, c);
                None
            }),
        };
        let event_source = match source {
            None => {
                v.null(&format!("{path}.eventSource"));
                None
            }
            Some(s) => EventSource::parse(s).or_else(|| {
                let c = "satisfy enum value set: [userNotification, userAuthEvents]";
                v.constraint(&format!("{path}.eventSource"), s, c);
                None
            }),
        };
        let mut destinations = Vec::new();
        let kinds: [DestinationMember; 3] = [
            (
                "CloudWatchLogsConfiguration",
                "LogGroupArn",
                Destination::CloudWatchLogs,
            ),
            ("S3Configuration", "BucketArn", Destination::S3),
            ("FirehoseConfiguration", "StreamArn", Destination::Firehose),
        ];
        for (member, arn_field, make) in kinds {
            match item.get(member) {
                None | Some(Value::Null) => {}
                Some(dest @ Value::Object(_)) => match opt_str(dest, arn_field)? {
                    Some(arn) => destinations.push(make(arn.to_owned())),
                    None => v.null(&format!("{path}.{}.{}", camel(member), camel(arn_field))),
                },
                Some(_) => {
                    return Err(ApiError::serialization(format!(
                        "{member} must be a structure"
                    )));
                }
            }
        }
        if let (Some(log_level), Some(event_source)) = (log_level, event_source) {
            out.push(WireConfig {
                log_level,
                event_source,
                destinations,
            });
        }
    }
    v.into_result().map(|()| out)
}

fn camel(member: &str) -> String {
    let mut chars = member.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Stage two: which level and destinations each event source takes, one configuration per
/// event source, ARN shapes. Every problem is named in the one message.
pub(crate) fn resolve(configs: Vec<WireConfig>) -> Result<Vec<LogConfiguration>, ApiError> {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    let mut out = Vec::with_capacity(configs.len());
    for (i, c) in configs.into_iter().enumerate() {
        let at = format!("LogConfigurations[{i}]");
        let source = c.event_source.as_str();
        if seen.contains(&c.event_source) {
            problems.push(format!(
                "{at}: a second configuration for EventSource {source}; at most one per event source"
            ));
        }
        seen.push(c.event_source);
        let (level, allowed) = match c.event_source {
            EventSource::UserNotification => (LogLevel::Error, "CloudWatchLogsConfiguration"),
            EventSource::UserAuthEvents => (
                LogLevel::Info,
                "exactly one of CloudWatchLogsConfiguration, S3Configuration or FirehoseConfiguration",
            ),
        };
        if c.log_level != level {
            problems.push(format!(
                "{at}: EventSource {source} requires LogLevel {}, not {}",
                level.as_str(),
                c.log_level.as_str()
            ));
        }
        let only_cloudwatch = c.event_source == EventSource::UserNotification;
        let fits = c.destinations.len() == 1
            && (!only_cloudwatch || matches!(c.destinations[0], Destination::CloudWatchLogs(_)));
        if !fits {
            problems.push(format!("{at}: EventSource {source} requires {allowed}"));
        }
        for d in &c.destinations {
            if let Some(shape) = arn_problem(d) {
                let (member, field) = d.members();
                problems.push(format!(
                    "{at}: {member}.{field} '{}' is not of the form {shape}",
                    d.arn()
                ));
            }
        }
        if let Some(destination) = c.destinations.into_iter().next() {
            out.push(LogConfiguration {
                event_source: c.event_source,
                log_level: c.log_level,
                destination,
            });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::invalid_parameter(problems.join("; ")))
    }
}

/// Validates configurations built in Rust the way the API validates sent ones.
pub(crate) fn validate(configs: &[LogConfiguration]) -> Result<(), ApiError> {
    if configs.len() > 2 {
        return Err(ApiError::invalid_parameter(format!(
            "LogConfigurations has {} items; at most 2 are allowed",
            configs.len()
        )));
    }
    resolve(configs.iter().map(WireConfig::from).collect()).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    const LOGS: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cognito/pool";
    const BUCKET: &str = "arn:aws:s3:::cognito-logs";
    const STREAM: &str = "arn:aws:firehose:us-east-1:123456789012:deliverystream/cognito";

    fn check(input: Value) -> Result<Vec<LogConfiguration>, ApiError> {
        resolve(parse_log_configurations(&input)?)
    }

    #[test]
    fn accepts_every_valid_shape() {
        let got = check(json!({"LogConfigurations": [
            {"LogLevel": "ERROR", "EventSource": "userNotification",
             "CloudWatchLogsConfiguration": {"LogGroupArn": format!("{LOGS}:*")}},
            {"LogLevel": "INFO", "EventSource": "userAuthEvents",
             "FirehoseConfiguration": {"StreamArn": STREAM}},
        ]}))
        .expect("valid");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].destination, Destination::Firehose(STREAM.into()));
        assert!(
            check(json!({"LogConfigurations": []}))
                .expect("empty")
                .is_empty()
        );
        for d in [
            Destination::S3(BUCKET.into()),
            Destination::CloudWatchLogs(LOGS.into()),
        ] {
            validate(&[LogConfiguration::user_auth_events(d)]).expect("valid");
        }
        let cn = "arn:aws-cn:logs:cn-north-1:123456789012:log-group:x";
        validate(&[LogConfiguration::user_notification(cn)]).expect("other partition");
    }

    #[test]
    fn model_violations_are_all_reported() {
        let err = check(json!({"LogConfigurations": [
            {"LogLevel": "DEBUG", "EventSource": "userNotification"},
            {"EventSource": "adminEvents", "LogLevel": "INFO"},
            {"LogLevel": "INFO", "EventSource": "userAuthEvents"},
        ]}))
        .expect_err("invalid");
        assert_eq!(err.code, ErrorCode::InvalidParameterException);
        assert!(
            err.message.starts_with("3 validation errors detected"),
            "{}",
            err.message
        );
        assert!(
            err.message
                .contains("'DEBUG' at 'logConfigurations.1.member.logLevel'")
        );
        assert!(
            err.message
                .contains("'adminEvents' at 'logConfigurations.2.member.eventSource'")
        );
        let err = check(json!({})).expect_err("null");
        assert!(err.message.contains("Value null at 'logConfigurations'"));
        let err = check(json!({"LogConfigurations": [{"LogLevel": 3}]})).expect_err("type");
        assert_eq!(err.code, ErrorCode::SerializationException);
    }

    #[test]
    fn event_source_rules_are_enforced() {
        let cases = [
            (
                json!({"LogLevel": "INFO", "EventSource": "userNotification",
                    "CloudWatchLogsConfiguration": {"LogGroupArn": LOGS}}),
                "requires LogLevel ERROR",
            ),
            (
                json!({"LogLevel": "ERROR", "EventSource": "userNotification",
                    "S3Configuration": {"BucketArn": BUCKET}}),
                "requires CloudWatchLogsConfiguration",
            ),
            (
                json!({"LogLevel": "ERROR", "EventSource": "userAuthEvents",
                    "S3Configuration": {"BucketArn": BUCKET}}),
                "requires LogLevel INFO",
            ),
            (
                json!({"LogLevel": "INFO", "EventSource": "userAuthEvents",
                    "S3Configuration": {"BucketArn": BUCKET},
                    "FirehoseConfiguration": {"StreamArn": STREAM}}),
                "requires exactly one of",
            ),
            (
                json!({"LogLevel": "INFO", "EventSource": "userAuthEvents"}),
                "requires exactly one of",
            ),
        ];
        for (config, want) in cases {
            let err = check(json!({"LogConfigurations": [config]})).expect_err(want);
            assert_eq!(err.code, ErrorCode::InvalidParameterException);
            assert!(err.message.contains(want), "{} lacks {want}", err.message);
        }
        let twice = LogConfiguration::user_auth_events(Destination::S3(BUCKET.into()));
        let err = validate(&[twice.clone(), twice]).expect_err("duplicate");
        assert!(err.message.contains("at most one per event source"));
    }

    #[test]
    fn arn_shapes_are_checked() {
        let bad = [
            Destination::CloudWatchLogs("arn:aws:logs:us-east-1:12345:log-group:x".into()),
            Destination::CloudWatchLogs(BUCKET.into()),
            Destination::S3("arn:aws:s3:::Bad_Bucket".into()),
            Destination::S3("s3://bucket".into()),
            Destination::Firehose("arn:aws:firehose:us-east-1:123456789012:stream/x".into()),
        ];
        for d in bad {
            let err = validate(&[LogConfiguration::user_auth_events(d.clone())]).expect_err("bad");
            assert!(
                err.message.contains("is not of the form"),
                "{d:?}: {}",
                err.message
            );
        }
    }

    #[test]
    fn wire_form_round_trips() {
        let c = LogConfiguration::user_auth_events(Destination::S3(BUCKET.into()));
        assert_eq!(
            c.to_json(),
            json!({"LogLevel": "INFO", "EventSource": "userAuthEvents",
                   "S3Configuration": {"BucketArn": BUCKET}})
        );
        let back = check(json!({ "LogConfigurations": [c.to_json()] })).expect("valid");
        assert_eq!(back, vec![c]);
    }
}
