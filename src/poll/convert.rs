//! The SDK's answer turned into the model: a `GetLogDeliveryConfiguration` output into a
//! [`LogDelivery`], refusing what cannot be understood whole; a `DescribeUserPool` output
//! into the pool's name and [`Features`].

use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolOutput;
use aws_sdk_cognitoidentityprovider::operation::get_log_delivery_configuration::GetLogDeliveryConfigurationOutput;
use aws_sdk_cognitoidentityprovider::types::{EventSourceName, LogConfigurationType, LogLevel};

use crate::model::{
    Destination, Features, Kind, Level, LogDelivery, Plan, Source, ThreatProtection,
};

/// What `DescribeUserPool` says of a pool.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Description {
    /// `None` when the answer names none.
    pub(super) name: Option<Arc<str>>,
    pub(super) features: Features,
}

/// Converts a describe's answer. An unknown plan or mode is kept as written (the metrics
/// export it); a pool without `UserPoolAddOns` has threat protection off, and one
/// without `UserPoolTier` no known plan.
pub(super) fn description(out: &DescribeUserPoolOutput) -> Description {
    // The client refuses answers without `UserPool` (`aws::members`).
    let pool = out.user_pool();
    Description {
        name: pool.and_then(|p| p.name()).map(Arc::from),
        features: Features {
            plan: pool
                .and_then(|p| p.user_pool_tier())
                .map(|t| Plan::parse(t.as_str())),
            threat_protection: pool
                .and_then(|p| p.user_pool_add_ons())
                .map_or(ThreatProtection::Off, |a| {
                    ThreatProtection::parse(a.advanced_security_mode().as_str())
                }),
        },
    }
}

/// Converts an answer into the model. An unknown enum value or a destination without its
/// ARN makes the whole answer unusable: exporting the part we understand would report 0
/// for a destination that may well be configured, and raise false alerts. So does an
/// answer without its configuration (the client refuses those before they get here:
/// see `aws::members`); only an empty list of configurations means "none".
pub(super) fn delivery(out: &GetLogDeliveryConfigurationOutput) -> Result<LogDelivery, String> {
    let Some(config) = out.log_delivery_configuration() else {
        return Err("no LogDeliveryConfiguration".to_owned());
    };
    let mut destinations = Vec::new();
    for entry in config.log_configurations() {
        destinations.extend(entry_destinations(entry)?);
    }
    Ok(LogDelivery::new(destinations))
}

fn entry_destinations(entry: &LogConfigurationType) -> Result<Vec<Destination>, String> {
    let source = match entry.event_source() {
        EventSourceName::UserNotification => Source::UserNotification,
        EventSourceName::UserAuthEvents => Source::UserAuthEvents,
        other => return Err(format!("unknown EventSource {:?}", other.as_str())),
    };
    let level = match entry.log_level() {
        LogLevel::Error => Level::Error,
        LogLevel::Info => Level::Info,
        other => return Err(format!("unknown LogLevel {:?}", other.as_str())),
    };
    let arns = [
        (
            Kind::CloudwatchLogs,
            entry
                .cloud_watch_logs_configuration()
                .map(|c| c.log_group_arn()),
        ),
        (Kind::S3, entry.s3_configuration().map(|c| c.bucket_arn())),
        (
            Kind::Firehose,
            entry.firehose_configuration().map(|c| c.stream_arn()),
        ),
    ];
    let mut out = Vec::new();
    for (kind, arn) in arns {
        match arn {
            None => {}
            Some(Some(arn)) if !arn.is_empty() => out.push(Destination {
                source,
                level,
                kind,
                arn: arn.to_string(),
            }),
            Some(_) => return Err(format!("a {} destination without its ARN", kind.as_str())),
        }
    }
    if out.is_empty() {
        return Err(format!(
            "a {} configuration with no destination",
            source.as_str()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_make_the_answer_unusable() {
        let entry = LogConfigurationType::builder()
            .log_level(LogLevel::from("DEBUG"))
            .event_source(EventSourceName::UserNotification)
            .build()
            .expect("required fields set");
        let err = entry_destinations(&entry).expect_err("unknown level");
        assert!(err.contains("DEBUG"), "{err}");
    }

    #[test]
    fn a_description_without_add_ons_has_threat_protection_off() {
        use aws_sdk_cognitoidentityprovider::types::{
            AdvancedSecurityModeType, UserPoolAddOnsType, UserPoolTierType, UserPoolType,
        };
        let answer = |pool: UserPoolType| {
            description(&DescribeUserPoolOutput::builder().user_pool(pool).build())
        };
        let bare = answer(UserPoolType::builder().name("prod").build());
        assert_eq!(bare.name.as_deref(), Some("prod"));
        assert_eq!(
            bare.features,
            Features {
                plan: None,
                threat_protection: ThreatProtection::Off
            }
        );
        let plus = answer(
            UserPoolType::builder()
                .user_pool_tier(UserPoolTierType::Plus)
                .user_pool_add_ons(
                    UserPoolAddOnsType::builder()
                        .advanced_security_mode(AdvancedSecurityModeType::from("PARANOID"))
                        .build()
                        .expect("required fields set"),
                )
                .build(),
        );
        assert_eq!(plus.features.plan, Some(Plan::Plus));
        assert_eq!(
            plus.features.threat_protection,
            ThreatProtection::Other(Arc::from("PARANOID"))
        );
    }

    #[test]
    fn only_an_empty_list_means_nothing_configured() {
        let empty = GetLogDeliveryConfigurationOutput::builder()
            .log_delivery_configuration(
                aws_sdk_cognitoidentityprovider::types::LogDeliveryConfigurationType::builder()
                    .user_pool_id("eu-west-1_a")
                    .set_log_configurations(Some(Vec::new()))
                    .build()
                    .expect("required fields set"),
            )
            .build();
        assert_eq!(delivery(&empty), Ok(LogDelivery::default()));
        let absent = GetLogDeliveryConfigurationOutput::builder().build();
        assert!(delivery(&absent).is_err());
    }
}
