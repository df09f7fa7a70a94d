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

use crate::model::{PoolRecord, TargetSnapshot};

mod pool;

pub(crate) use pool::POOL_FAMILIES;

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
mod tests;
