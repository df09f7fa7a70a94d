//! Log-delivery configurations: their types and their JSON wire form. How sent
//! configurations are checked lives in [`super::validation`].

use serde_json::{Map, Value, json};

/// `LogLevel` of a log configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogLevel {
    Error,
    Info,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
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
pub enum EventSource {
    UserNotification,
    UserAuthEvents,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
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

    pub fn arn(&self) -> &str {
        match self {
            Destination::CloudWatchLogs(a) | Destination::S3(a) | Destination::Firehose(a) => a,
        }
    }
}

/// One entry of a pool's `LogConfigurations`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LogConfiguration {
    pub event_source: EventSource,
    pub log_level: LogLevel,
    pub destination: Destination,
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
