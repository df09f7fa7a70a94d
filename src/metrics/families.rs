//! The families a cycle produces, each declared once: its name, its help, how it renders
//! and what it fingerprints, side by side, so that adding a family is one entry here.
//!
//! [`POOL_FAMILIES`] have series per pool; [`TARGET_FAMILIES`] one per target. The render
//! cache ([`crate::exposition`]) re-renders a block of pools only when its fingerprint
//! changes, so a value a family renders but does not fingerprint would be served stale
//! with no error: the tests below render every family over pools that differ in each
//! field and check that different lines always come with different fingerprints.
//!
//! Every family is a gauge: gauge lines are the same in the Prometheus text format 0.0.4
//! and in OpenMetrics 1.0, which lets one rendering serve both formats. A counter or an
//! OpenMetrics `info` family would need a rendering per format.

use std::fmt::{Display, Write as _};
use std::hash::Hasher;

use crate::model::{PoolRecord, TargetSnapshot};

/// A family with series per pool.
#[derive(Debug)]
pub(crate) struct PoolFamily {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
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
pub(crate) static POOL_FAMILIES: [PoolFamily; 5] = [
    PoolFamily {
        name: "cognito_log_destination_configured",
        help: "Whether GetLogDeliveryConfiguration returns a LogConfigurations entry for this EventSource, LogLevel and destination (CloudWatchLogsConfiguration, S3Configuration or FirehoseConfiguration): 1 yes, 0 no; from a poll on an interval",
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
        render: |out, pool| out.sample(&[("name", &pool.name)], 1),
        fingerprint: |pool, h| {
            h.write(pool.name.as_bytes());
            h.write_u8(0xff);
        },
    },
    PoolFamily {
        name: "cognito_pool_poll_success",
        help: "Whether the last GetLogDeliveryConfiguration call for the pool succeeded: 1 yes, 0 no; from a poll on an interval",
        render: |out, pool| out.sample(&[], u8::from(pool.success)),
        fingerprint: |pool, h| h.write_u8(u8::from(pool.success)),
    },
    PoolFamily {
        name: "cognito_pool_last_success_timestamp_seconds",
        help: "Unix time of the last successful GetLogDeliveryConfiguration call for the pool; from a poll on an interval",
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

/// Name and help of every family, in exposition order.
pub(crate) fn headers() -> impl Iterator<Item = (&'static str, &'static str)> {
    let pools = POOL_FAMILIES.iter().map(|f| (f.name, f.help));
    pools.chain(TARGET_FAMILIES.iter().map(|f| (f.name, f.help)))
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
                        });
                    }
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
        for (name, help) in headers() {
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
    fn label_values_are_escaped() {
        let mut s = String::new();
        push_label(&mut s, "name", "a\\b\"c\nd");
        assert_eq!(s, r#"name="a\\b\"c\nd""#);
    }
}
