//! The per-pool families, each with its rendering and its fingerprint.

use std::hash::Hasher;

use super::{MetricType, PoolFamily, one_of};
use crate::model::{Destination, DestinationStatus, Features, Plan, PoolRecord, ThreatProtection};

/// The per-pool families, in exposition order.
pub(crate) static POOL_FAMILIES: [PoolFamily; 11] = [
    PoolFamily {
        name: "cognito_log_destination_configured",
        help: "Whether GetLogDeliveryConfiguration returns a LogConfigurations entry for this EventSource, LogLevel and destination (CloudWatchLogsConfiguration, S3Configuration or FirehoseConfiguration): 1 yes, 0 no; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            for ((source, level, kind), on) in pool.delivery.iter().flat_map(|d| d.matrix()) {
                out.sample(
                    &[
                        ("source", source.as_str()),
                        ("level", level.as_str()),
                        ("kind", kind.as_str()),
                    ],
                    u8::from(on),
                );
            }
        },
        fingerprint: hash_delivery,
    },
    PoolFamily {
        name: "cognito_log_destination_info",
        help: "A log destination of the user pool, from GetLogDeliveryConfiguration LogConfigurations (LogGroupArn, BucketArn or StreamArn in the arn label); from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            for d in pool.delivery.iter().flat_map(|d| d.destinations()) {
                out.sample(
                    &[
                        ("source", d.source.as_str()),
                        ("level", d.level.as_str()),
                        ("kind", d.kind.as_str()),
                        ("arn", &d.arn),
                    ],
                    1,
                );
            }
        },
        fingerprint: hash_delivery,
    },
    PoolFamily {
        name: "cognito_user_pool_info",
        help: "A user pool polled by the exporter, with UserPoolType.Name from ListUserPools or DescribeUserPool; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| out.sample(&[("name", &pool.name)], 1),
        fingerprint: |pool, h| {
            h.write(pool.name.as_bytes());
            h.write_u8(0xff);
        },
    },
    PoolFamily {
        name: "cognito_pool_poll_success",
        help: "Whether the last GetLogDeliveryConfiguration call for the pool succeeded: 1 yes, 0 no; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| out.sample(&[], u8::from(pool.success)),
        fingerprint: |pool, h| h.write_u8(u8::from(pool.success)),
    },
    PoolFamily {
        name: "cognito_pool_last_success_timestamp_seconds",
        help: "Unix time of the last successful GetLogDeliveryConfiguration call for the pool; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            if let Some(at) = pool.last_success {
                out.sample(&[], at);
            }
        },
        fingerprint: |pool, h| match pool.last_success {
            None => h.write_u8(0),
            Some(at) => {
                h.write_u8(1);
                h.write_u64(at.to_bits());
            }
        },
    },
    PoolFamily {
        name: "cognito_user_pool_feature_plan",
        help: "The user pool's feature plan, DescribeUserPool UserPoolType.UserPoolTier: 1 for the pool's plan, 0 for the others (a plan outside LITE, ESSENTIALS and PLUS is exported with 1); absent until DescribeUserPool answered; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            if let Some(plan) = pool.features.as_ref().and_then(|f| f.plan.as_ref()) {
                one_of(out, "plan", &Plan::KNOWN, plan, Plan::as_str);
            }
        },
        fingerprint: hash_features,
    },
    PoolFamily {
        name: "cognito_user_pool_threat_protection",
        help: "The user pool's threat protection, DescribeUserPool UserPoolType.UserPoolAddOns.AdvancedSecurityMode (OFF without UserPoolAddOns): 1 for the pool's mode, 0 for the others (a mode outside OFF, AUDIT and ENFORCED is exported with 1); absent until DescribeUserPool answered; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            if let Some(features) = &pool.features {
                one_of(
                    out,
                    "mode",
                    &ThreatProtection::KNOWN,
                    &features.threat_protection,
                    ThreatProtection::as_str,
                );
            }
        },
        fingerprint: hash_features,
    },
    PoolFamily {
        name: "cognito_log_destination_status",
        help: "What the check of a configured log destination found (checks.destinations: DescribeLogGroups, HeadBucket or DescribeDeliveryStream, results kept checks.interval): 1 for the destination's status, 0 for the others; ok, not_found, kms_encrypted (a log group with a KMS key), other_account (not the pool's account), not_active (a Firehose stream not ACTIVE), access_denied (the check was refused), check_failed; absent while checks are off; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            for (d, status) in checked(pool) {
                let labels = [
                    ("source", d.source.as_str()),
                    ("level", d.level.as_str()),
                    ("kind", d.kind.as_str()),
                ];
                for known in DestinationStatus::ALL {
                    let [source, level, kind] = labels;
                    out.sample(
                        &[source, level, kind, ("status", known.as_str())],
                        u8::from(known == status),
                    );
                }
            }
        },
        fingerprint: |pool, h| {
            hash_delivery(pool, h);
            for (_, status) in checked(pool) {
                h.write_u8(status as u8);
            }
            h.write_u8(0xff);
        },
    },
    PoolFamily {
        name: "cognito_pool_policy_compliant",
        help: "Whether the pool complies with the rule of policy.rules (a destination of the required source and kind, checked ok when status_ok): 1 yes, 0 no; only for the pools the rule selects; a pool whose reads fail keeps its last verdict, a stale pool has none; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            for verdict in &pool.verdicts {
                out.sample(&[("rule", &verdict.rule)], u8::from(verdict.compliant));
            }
        },
        fingerprint: |pool, h| {
            h.write_usize(pool.verdicts.len());
            for verdict in &pool.verdicts {
                h.write(verdict.rule.as_bytes());
                h.write_u8(u8::from(verdict.compliant));
            }
        },
    },
    PoolFamily {
        name: "cognito_log_configuration_changes_total",
        help: "Times GetLogDeliveryConfiguration returned a configuration different from the pool's previous successful read, since the exporter started (0 from the pool's first read on); from a poll on an interval",
        metric_type: MetricType::Counter,
        render: |out, pool| {
            if let Some(changes) = pool.log_changes {
                out.sample(&[], changes);
            }
        },
        fingerprint: |pool, h| match pool.log_changes {
            None => h.write_u8(0),
            Some(n) => {
                h.write_u8(1);
                h.write_u64(n);
            }
        },
    },
    PoolFamily {
        name: "cognito_log_configuration_last_change_timestamp_seconds",
        help: "Unix time the exporter saw the pool's GetLogDeliveryConfiguration answer change from its previous successful read; absent until it did; from a poll on an interval",
        metric_type: MetricType::Gauge,
        render: |out, pool| {
            if let Some(at) = pool.last_change {
                out.sample(&[], at);
            }
        },
        fingerprint: |pool, h| match pool.last_change {
            None => h.write_u8(0),
            Some(at) => {
                h.write_u8(1);
                h.write_u64(at.to_bits());
            }
        },
    },
];

/// What the plan and threat-protection families show of a pool.
fn hash_features(pool: &PoolRecord, h: &mut dyn Hasher) {
    match &pool.features {
        None => h.write_u8(0),
        Some(Features {
            plan,
            threat_protection,
        }) => {
            h.write_u8(1);
            match plan {
                None => h.write_u8(0),
                Some(plan) => {
                    h.write_u8(1);
                    h.write(plan.as_str().as_bytes());
                    h.write_u8(0xff);
                }
            }
            h.write(threat_protection.as_str().as_bytes());
            h.write_u8(0xff);
        }
    }
}

/// What the two destination families show of a pool: its destinations, or that it has
/// none to show (a stale pool).
fn hash_delivery(pool: &PoolRecord, h: &mut dyn Hasher) {
    match &pool.delivery {
        None => h.write_u8(0),
        Some(delivery) => {
            h.write_u8(1);
            h.write_usize(delivery.destinations().len());
            for d in delivery.destinations() {
                h.write_u8(d.source as u8);
                h.write_u8(d.level as u8);
                h.write_u8(d.kind as u8);
                h.write(d.arn.as_bytes());
                h.write_u8(0xff);
            }
        }
    }
}

/// Each checked destination of a pool once per (source, level, kind), with its status:
/// the series have no `arn` label, so two destinations of one combination (which the
/// API does not configure) show as one, with the first status that is not `ok`.
fn checked(pool: &PoolRecord) -> Vec<(&Destination, DestinationStatus)> {
    let Some(delivery) = &pool.delivery else {
        return Vec::new();
    };
    let mut out: Vec<(&Destination, DestinationStatus)> = Vec::new();
    for (d, &status) in delivery.destinations().iter().zip(&pool.statuses) {
        match out
            .iter_mut()
            .find(|(o, _)| o.combination() == d.combination())
        {
            Some((_, kept)) if *kept == DestinationStatus::Ok => *kept = status,
            Some(_) => {}
            None => out.push((d, status)),
        }
    }
    out
}
