//! The families a cycle produces, each declared once: its name, its help, how it renders
//! and what it fingerprints, side by side, so that adding a family is one entry here.
//!
//! [`POOL_FAMILIES`] have series per pool; [`TARGET_FAMILIES`] one per target. The render
//! cache ([`crate::exposition`]) re-renders a block of pools only when its fingerprint
//! changes, so a value a family renders but does not fingerprint would be served stale
//! with no error: the tests below render every family over pools that differ in each
//! field and check that different lines always come with different fingerprints.
//!
//! A family is a gauge or a counter ([`MetricType`]). Their samples are written alike in
//! the Prometheus text format 0.0.4 and in OpenMetrics 1.0 (a counter's samples are named
//! with `_total` in both), so one rendering of the samples serves both formats; only a
//! counter's HELP and TYPE lines differ, and the exposition keeps those per format. An
//! OpenMetrics `info` family would need its samples rendered per format too.

use std::fmt::{Display, Write as _};
use std::hash::Hasher;

use crate::model::{Features, Plan, PoolRecord, TargetSnapshot, ThreatProtection};

/// What a family's `# TYPE` line says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MetricType {
    Gauge,
    /// Its declared name is its samples' name, which ends in `_total`.
    Counter,
}

impl MetricType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
        }
    }

    /// The name the HELP and TYPE lines give a family whose samples are named `name`:
    /// OpenMetrics names a counter family without its samples' `_total`, the 0.0.4
    /// format names every family as its samples.
    pub(crate) fn family_name(self, name: &str, openmetrics: bool) -> &str {
        match self {
            MetricType::Counter if openmetrics => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        }
    }
}

/// A family with series per pool.
#[derive(Debug)]
pub(crate) struct PoolFamily {
    /// The samples' name.
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) metric_type: MetricType,
    /// Appends the family's samples for one pool.
    pub(crate) render: fn(&mut Samples<'_>, &PoolRecord),
    /// Feeds the hasher every value of the pool `render` reads, except its ID, which the
    /// cache always feeds.
    pub(crate) fingerprint: fn(&PoolRecord, &mut dyn Hasher),
}

/// A family with one series per target; its value is its fingerprint.
#[derive(Debug)]
pub(crate) struct TargetFamily {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) value: fn(&TargetSnapshot) -> f64,
}

/// The per-pool families, in exposition order.
pub(crate) static POOL_FAMILIES: [PoolFamily; 9] = [
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

/// The per-target families, in exposition order, after the per-pool ones.
pub(crate) static TARGET_FAMILIES: [TargetFamily; 5] = [
    TargetFamily {
        name: "cognito_exporter_target_up",
        help: "Whether the last poll cycle of the target completed: ListUserPools (or DescribeUserPool) answered and at least one pool's GetLogDeliveryConfiguration did, 1 yes, 0 no; from a poll on an interval",
        value: |s| f64::from(u8::from(s.up)),
    },
    TargetFamily {
        name: "cognito_exporter_poll_duration_seconds",
        help: "Seconds the last poll cycle of the target took, all Cognito calls included; from a poll on an interval",
        value: |s| s.duration_seconds,
    },
    TargetFamily {
        name: "cognito_exporter_last_poll_timestamp_seconds",
        help: "Unix time the last poll cycle of the target ended; from a poll on an interval",
        value: |s| s.finished_at,
    },
    TargetFamily {
        name: "cognito_exporter_pools",
        help: "User pools the last poll cycle of the target covered, after the include and exclude filters; from a poll on an interval",
        value: |s| s.pools.len() as f64,
    },
    TargetFamily {
        name: "cognito_exporter_stale_pools",
        help: "User pools whose GetLogDeliveryConfiguration has failed for longer than poll.max_staleness (or never succeeded), so their log series are withheld; from a poll on an interval",
        value: |s| s.stale_pools() as f64,
    },
];

/// Samples' name, help and type of every family, in exposition order.
pub(crate) fn headers() -> impl Iterator<Item = (&'static str, &'static str, MetricType)> {
    let pools = POOL_FAMILIES
        .iter()
        .map(|f| (f.name, f.help, f.metric_type));
    pools.chain(
        TARGET_FAMILIES
            .iter()
            .map(|f| (f.name, f.help, MetricType::Gauge)),
    )
}

/// One sample per known value, 1 for `value` and 0 for the others, then `value` with 1
/// when it is none of them: a series never changes identity when the value changes, and
/// nothing the API says is hidden.
fn one_of<T: PartialEq>(
    out: &mut Samples<'_>,
    label: &str,
    known: &[T],
    value: &T,
    name: fn(&T) -> &str,
) {
    for k in known {
        out.sample(&[(label, name(k))], u8::from(k == value));
    }
    if !known.contains(value) {
        out.sample(&[(label, name(value))], 1);
    }
}

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

/// Writes the samples of one family for one series owner (a pool, or a target).
pub(crate) struct Samples<'a> {
    out: &'a mut String,
    name: &'static str,
    /// The owner's labels, escaped: `aws_account_id="…",aws_region="…"[,pool="…"]`.
    labels: &'a str,
}

impl<'a> Samples<'a> {
    pub(crate) fn new(out: &'a mut String, name: &'static str, labels: &'a str) -> Self {
        Self { out, name, labels }
    }

    /// Appends `name{labels,extra…} value`.
    pub(crate) fn sample(&mut self, extra: &[(&str, &str)], value: impl Display) {
        let out = &mut *self.out;
        out.push_str(self.name);
        out.push('{');
        out.push_str(self.labels);
        for (name, value) in extra {
            out.push(',');
            push_label(out, name, value);
        }
        let _ = writeln!(out, "}} {value}");
    }
}

/// Appends `name="value"` with the value escaped as both text formats require.
pub(crate) fn push_label(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::DefaultHasher;
    use std::sync::Arc;

    use super::*;
    use crate::model::{Destination, Kind, Level, LogDelivery, Source};

    /// Pools with the same ID that differ, one field at a time and together, in every
    /// value a family could show.
    fn variants() -> Vec<PoolRecord> {
        let dest = |source, level, kind, arn: &str| Destination {
            source,
            level,
            kind,
            arn: arn.into(),
        };
        let deliveries = [
            None,
            Some(LogDelivery::default()),
            Some(LogDelivery::new(vec![dest(
                Source::UserNotification,
                Level::Error,
                Kind::CloudwatchLogs,
                "arn:a",
            )])),
            Some(LogDelivery::new(vec![dest(
                Source::UserNotification,
                Level::Error,
                Kind::CloudwatchLogs,
                "arn:b",
            )])),
            Some(LogDelivery::new(vec![dest(
                Source::UserAuthEvents,
                Level::Info,
                Kind::S3,
                "arn:a",
            )])),
            Some(LogDelivery::new(vec![dest(
                Source::UserNotification,
                Level::Info,
                Kind::Firehose,
                "arn:a",
            )])),
        ];
        let mut out = Vec::new();
        for delivery in &deliveries {
            for name in ["prod", "prod \"2\""] {
                for success in [false, true] {
                    for last_success in [None, Some(1.0), Some(2.5)] {
                        out.push(PoolRecord {
                            id: Arc::from("eu-west-1_A"),
                            name: Arc::from(name),
                            delivery: delivery.clone(),
                            success,
                            last_success,
                            features: None,
                            log_changes: None,
                            last_change: None,
                        });
                    }
                }
            }
        }
        // The fields of the later families, on one base.
        let features = [
            None,
            Some(Features {
                plan: Some(Plan::Essentials),
                threat_protection: ThreatProtection::Off,
            }),
            Some(Features {
                plan: Some(Plan::Plus),
                threat_protection: ThreatProtection::Audit,
            }),
            Some(Features {
                plan: Some(Plan::Other(Arc::from("ULTRA"))),
                threat_protection: ThreatProtection::Other(Arc::from("STRICT")),
            }),
            Some(Features {
                plan: None,
                threat_protection: ThreatProtection::Enforced,
            }),
        ];
        for features in &features {
            for log_changes in [None, Some(0), Some(3)] {
                for last_change in [None, Some(5.0), Some(6.5)] {
                    out.push(PoolRecord {
                        id: Arc::from("eu-west-1_A"),
                        name: Arc::from("prod"),
                        delivery: Some(LogDelivery::default()),
                        success: true,
                        last_success: Some(1.0),
                        features: features.clone(),
                        log_changes,
                        last_change,
                    });
                }
            }
        }
        out
    }

    fn rendered(family: &PoolFamily, pool: &PoolRecord) -> String {
        let mut out = String::new();
        (family.render)(&mut Samples::new(&mut out, family.name, "t=\"1\""), pool);
        out
    }

    fn fingerprint(family: &PoolFamily, pool: &PoolRecord) -> u64 {
        let mut h = DefaultHasher::new();
        (family.fingerprint)(pool, &mut h);
        h.finish()
    }

    #[test]
    fn whatever_a_pool_family_renders_is_in_its_fingerprint() {
        let pools = variants();
        for family in &POOL_FAMILIES {
            let mut texts = HashSet::new();
            for a in &pools {
                for b in &pools {
                    let (ta, tb) = (rendered(family, a), rendered(family, b));
                    texts.insert(ta.clone());
                    assert!(
                        ta == tb || fingerprint(family, a) != fingerprint(family, b),
                        "{}: different lines, same fingerprint:\n{ta}{tb}",
                        family.name
                    );
                }
            }
            assert!(
                texts.len() > 1,
                "{}: the variants show no change",
                family.name
            );
        }
    }

    #[test]
    fn every_family_has_a_unique_prometheus_name_and_a_help_that_says_where_it_comes_from() {
        let mut names = HashSet::new();
        for (name, help, metric_type) in headers() {
            assert_eq!(
                metric_type == MetricType::Counter,
                name.ends_with("_total"),
                "{name}: counters, and only they, end in _total"
            );
            assert!(names.insert(name), "{name} twice");
            assert!(name.starts_with("cognito_"), "{name}");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert!(
                help.ends_with("from a poll on an interval"),
                "{name}: {help}"
            );
        }
        assert_eq!(names.len(), POOL_FAMILIES.len() + TARGET_FAMILIES.len());
    }

    #[test]
    fn a_plan_renders_as_a_matrix_and_an_unknown_one_is_added() {
        let family = POOL_FAMILIES
            .iter()
            .find(|f| f.name == "cognito_user_pool_feature_plan")
            .expect("declared");
        let mut pool = variants().pop().expect("variants");
        pool.features = Some(Features {
            plan: Some(Plan::Plus),
            threat_protection: ThreatProtection::Off,
        });
        assert_eq!(
            rendered(family, &pool),
            "cognito_user_pool_feature_plan{t=\"1\",plan=\"LITE\"} 0\n\
             cognito_user_pool_feature_plan{t=\"1\",plan=\"ESSENTIALS\"} 0\n\
             cognito_user_pool_feature_plan{t=\"1\",plan=\"PLUS\"} 1\n"
        );
        pool.features = Some(Features {
            plan: Some(Plan::parse("ULTRA")),
            threat_protection: ThreatProtection::Off,
        });
        let text = rendered(family, &pool);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.ends_with("plan=\"ULTRA\"} 1\n"), "{text}");
        assert_eq!(text.matches("} 1\n").count(), 1, "{text}");
        pool.features = None;
        assert_eq!(rendered(family, &pool), "", "never described: no series");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        push_label(&mut s, "name", "a\\b\"c\nd");
        assert_eq!(s, r#"name="a\\b\"c\nd""#);
    }
}
