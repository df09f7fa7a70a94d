//! Log-delivery configurations: their types and their JSON wire form. How sent
//! configurations are checked is the business of the `validation` module, which builds
//! on these types.

use serde_json::{Map, Value, json};

/// `LogLevel` of a log configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum LogLevel {
    Error,
    Info,
}

impl LogLevel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "ERROR",
            LogLevel::Info => "INFO",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "ERROR" => Some(LogLevel::Error),
            "INFO" => Some(LogLevel::Info),
            _ => None,
        }
    }
}

/// `EventSource` of a log configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum EventSource {
    UserNotification,
    UserAuthEvents,
}

impl EventSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventSource::UserNotification => "userNotification",
            EventSource::UserAuthEvents => "userAuthEvents",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "userNotification" => Some(EventSource::UserNotification),
            "userAuthEvents" => Some(EventSource::UserAuthEvents),
            _ => None,
        }
    }
}

/// Where a configuration delivers its logs, with the destination's ARN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    /// `CloudWatchLogsConfiguration.LogGroupArn`.
    CloudWatchLogs(String),
    /// `S3Configuration.BucketArn`.
    S3(String),
    /// `FirehoseConfiguration.StreamArn`.
    Firehose(String),
}

impl Destination {
    /// The wire member holding this destination, and the ARN field inside it.
    pub(crate) fn members(&self) -> (&'static str, &'static str) {
        match self {
            Destination::CloudWatchLogs(_) => ("CloudWatchLogsConfiguration", "LogGroupArn"),
            Destination::S3(_) => ("S3Configuration", "BucketArn"),
            Destination::Firehose(_) => ("FirehoseConfiguration", "StreamArn"),
        }
    }

    pub(crate) fn arn(&self) -> &str {
        match self {
            Destination::CloudWatchLogs(a) | Destination::S3(a) | Destination::Firehose(a) => a,
        }
    }
}

/// One entry of a pool's `LogConfigurations`.
///
/// Build one with [`LogConfiguration::user_notification`] or
/// [`LogConfiguration::user_auth_events`]: the two shapes Cognito accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogConfiguration {
    pub(crate) event_source: EventSource,
    pub(crate) log_level: LogLevel,
    pub(crate) destination: Destination,
}

impl LogConfiguration {
    /// `userNotification` at `ERROR` to a CloudWatch log group: the only valid form.
    pub fn user_notification(log_group_arn: impl Into<String>) -> Self {
        LogConfiguration {
            event_source: EventSource::UserNotification,
            log_level: LogLevel::Error,
            destination: Destination::CloudWatchLogs(log_group_arn.into()),
        }
    }

    /// `userAuthEvents` at `INFO` to the given destination.
    pub fn user_auth_events(destination: Destination) -> Self {
        LogConfiguration {
            event_source: EventSource::UserAuthEvents,
            log_level: LogLevel::Info,
            destination,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let (member, arn_field) = self.destination.members();
        let mut obj = Map::new();
        obj.insert("LogLevel".into(), json!(self.log_level.as_str()));
        obj.insert("EventSource".into(), json!(self.event_source.as_str()));
        obj.insert(member.into(), json!({ arn_field: self.destination.arn() }));
        Value::Object(obj)
    }
}
