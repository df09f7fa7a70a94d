//! The exporter's own metrics: Cognito API attempts and errors, time spent waiting on the
//! rate limiter, build information and the standard `process_*` metrics.
//!
//! These change continuously and are few (a handful per target), so they live in a
//! prometheus-client registry and are encoded on each scrape, unlike the per-pool
//! families that [`crate::render`] prepares once per cycle.

use std::fmt::Write as _;
use std::sync::atomic::AtomicU64;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

/// Labels of a target's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    pub aws_account_id: String,
    pub aws_region: String,
}

/// Labels of an API attempt counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    pub aws_account_id: String,
    pub aws_region: String,
    pub operation: &'static str,
}

/// Labels of an API error counter; `exception` comes from a fixed vocabulary.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub aws_account_id: String,
    pub aws_region: String,
    pub operation: &'static str,
    pub exception: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    revision: &'static str,
}

/// Counters shared by every target's AWS clients; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct ApiMetrics {
    pub requests: Family<OperationLabels, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub limiter_wait_seconds: Family<TargetLabels, Counter<f64, AtomicU64>>,
}

/// The registry encoded on every scrape.
#[derive(Debug)]
pub struct SelfMetrics {
    registry: Registry,
    pub api: ApiMetrics,
}

impl SelfMetrics {
    pub fn new(version: &'static str, revision: &'static str) -> Self {
        let mut registry = Registry::default();
        let api = ApiMetrics::default();
        registry.register(
            "cognito_exporter_api_requests",
            "Cognito and STS API attempts, each SDK retry counted, by operation",
            api.requests.clone(),
        );
        registry.register(
            "cognito_exporter_api_errors",
            "Failed Cognito and STS API attempts, each SDK retry counted, by operation and AWS error code (or timeout, connection, credentials, malformed_response, other)",
            api.errors.clone(),
        );
        registry.register(
            "cognito_exporter_rate_limiter_wait_seconds",
            "Seconds API attempts waited on the client-side limit of poll.requests_per_second",
            api.limiter_wait_seconds.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels { version, revision })
            .set(1);
        registry.register(
            "cognito_exporter_build_info",
            "The exporter's version and source revision, value 1",
            build,
        );
        registry.register_collector(Box::new(ProcessCollector));
        Self { registry, api }
    }

    /// OpenMetrics 1.0 text of the registry, `# EOF` included.
    pub fn encode_openmetrics(&self, out: &mut String) -> std::fmt::Result {
        prometheus_client::encoding::text::encode(out, &self.registry)
    }

    /// Prometheus text 0.0.4 of the registry.
    pub fn encode_classic(&self, out: &mut String) -> std::fmt::Result {
        let mut om = String::new();
        prometheus_client::encoding::text::encode_registry(&mut om, &self.registry)?;
        openmetrics_to_classic(&om, out);
        Ok(())
    }
}

/// Rewrites prometheus-client's OpenMetrics output as Prometheus text 0.0.4.
///
/// The two differ only in family metadata here: OpenMetrics names a counter family
/// without `_total` (samples carry it) while the classic format names the family as its
/// samples; the classic format has no `info` type, `# UNIT` or `# EOF`. Sample lines of
/// the registry's types are the same in both.
fn openmetrics_to_classic(om: &str, out: &mut String) {
    let counters: Vec<&str> = om
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    for line in om.lines() {
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ")
            && let Some(name) = rest.strip_suffix(" counter")
        {
            let _ = writeln!(out, "# TYPE {name}_total counter");
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let suffix = if counters.contains(&name) {
                "_total"
            } else {
                ""
            };
            let _ = writeln!(out, "# HELP {name}{suffix} {help}");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// The standard `process_*` metrics, read from /proc on each scrape.
#[derive(Debug)]
struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let Ok(me) = procfs::process::Process::myself() else {
            return Ok(());
        };
        if let Ok(stat) = me.stat() {
            let ticks = procfs::ticks_per_second() as f64;
            let cpu = (stat.utime + stat.stime) as f64 / ticks;
            let rss = stat.rss * procfs::page_size();
            encode(
                &mut encoder,
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                MetricType::Counter,
                ConstCounter::new(cpu),
            )?;
            encode_gauge(
                &mut encoder,
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                rss as f64,
            )?;
            encode_gauge(
                &mut encoder,
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                stat.vsize as f64,
            )?;
            if let Ok(boot) = procfs::boot_time_secs() {
                encode_gauge(
                    &mut encoder,
                    "process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds",
                    boot as f64 + stat.starttime as f64 / ticks,
                )?;
            }
        }
        if let Ok(fds) = me.fd_count() {
            encode_gauge(
                &mut encoder,
                "process_open_fds",
                "Number of open file descriptors",
                fds as f64,
            )?;
        }
        if let Ok(limits) = me.limits()
            && let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit
        {
            encode_gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                max as f64,
            )?;
        }
        Ok(())
    }
}

fn encode_gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: f64,
) -> std::fmt::Result {
    encode(
        encoder,
        name,
        help,
        MetricType::Gauge,
        ConstGauge::new(value),
    )
}

fn encode(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    metric: impl EncodeMetric,
) -> std::fmt::Result {
    metric.encode(encoder.encode_descriptor(name, help, None, kind)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> SelfMetrics {
        let m = SelfMetrics::new("1.2.3", "abc");
        m.api
            .requests
            .get_or_create(&OperationLabels {
                aws_account_id: "123456789012".into(),
                aws_region: "eu-west-1".into(),
                operation: "ListUserPools",
            })
            .inc_by(3);
        m
    }

    #[test]
    fn classic_names_counter_families_with_total() {
        let mut out = String::new();
        metrics().encode_classic(&mut out).expect("encode");
        assert!(out.contains("# TYPE cognito_exporter_api_requests_total counter\n"));
        assert!(out.contains("# HELP cognito_exporter_api_requests_total Cognito"));
        assert!(out.contains(r#"cognito_exporter_api_requests_total{aws_account_id="123456789012",aws_region="eu-west-1",operation="ListUserPools"} 3"#));
        assert!(out.contains("# TYPE process_cpu_seconds_total counter\n"));
        assert!(out.contains(r#"cognito_exporter_build_info{version="1.2.3",revision="abc"} 1"#));
        assert!(!out.contains("# EOF"));
    }

    #[test]
    fn openmetrics_keeps_its_own_conventions() {
        let mut out = String::new();
        metrics().encode_openmetrics(&mut out).expect("encode");
        assert!(out.contains("# TYPE cognito_exporter_api_requests counter\n"));
        assert!(out.ends_with("# EOF\n"));
    }
}
