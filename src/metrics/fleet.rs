//! The fleet's own metrics: how many targets this process polls, its shard, the last
//! successful discovery, and whether the last configuration reload worked (named after
//! Prometheus' own `prometheus_config_last_reload_*`).

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;

/// Shared by the fleet and its discovery; cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct FleetMetrics {
    targets: Gauge,
    shard_ordinal: Gauge,
    total_shards: Gauge,
    discovery_success: Arc<DiscoverySuccess>,
    reload_successful: Gauge,
    reload_success: Gauge<f64, AtomicU64>,
}

impl FleetMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let fleet = Self::default();
        registry.register(
            "cognito_exporter_targets",
            "Targets (account and region) this process polls",
            fleet.targets.clone(),
        );
        registry.register(
            "cognito_exporter_shard_ordinal",
            "This process's shard (--shard), 0 when the work is not split",
            fleet.shard_ordinal.clone(),
        );
        registry.register(
            "cognito_exporter_total_shards",
            "Shards the targets are split across (--total-shards)",
            fleet.total_shards.clone(),
        );
        registry.register_collector(Box::new(Arc::clone(&fleet.discovery_success)));
        registry.register(
            "cognito_exporter_config_last_reload_successful",
            "Whether the last configuration reload succeeded (the start counts as one)",
            fleet.reload_successful.clone(),
        );
        registry.register(
            "cognito_exporter_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration reload (or of the start)",
            fleet.reload_success.clone(),
        );
        fleet
    }

    pub(crate) fn set_targets(&self, n: usize) {
        self.targets.set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    pub(crate) fn set_shard(&self, ordinal: u32, total: u32) {
        self.shard_ordinal.set(i64::from(ordinal));
        self.total_shards.set(i64::from(total));
    }

    /// Discovery is configured (`true`, its timestamp shows from now on, 0 until a
    /// success) or not (its series goes).
    pub(crate) fn set_discovery(&self, configured: bool) {
        let mut last = self.discovery_success.lock();
        match (configured, *last) {
            (true, None) => *last = Some(0.0),
            (false, _) => *last = None,
            (true, Some(_)) => {}
        }
    }

    /// The accounts were listed at Unix time `at`.
    pub(crate) fn discovered(&self, at: f64) {
        *self.discovery_success.lock() = Some(at);
    }

    /// A reload (or the start) ended: `ok` at Unix time `at`.
    pub(crate) fn reloaded(&self, ok: bool, at: f64) {
        self.reload_successful.set(i64::from(ok));
        if ok {
            self.reload_success.set(at);
        }
    }
}

/// `cognito_exporter_discovery_last_success_timestamp_seconds`: one sample while
/// discovery is configured, none otherwise, since a timestamp of 0 where nothing is
/// discovered would read as "failing since 1970".
#[derive(Debug, Default)]
struct DiscoverySuccess(Mutex<Option<f64>>);

impl DiscoverySuccess {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<f64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Collector for DiscoverySuccess {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some(at) = *self.lock() else {
            return Ok(());
        };
        let metric = encoder.encode_descriptor(
            "cognito_exporter_discovery_last_success_timestamp_seconds",
            "Unix time the organization's accounts were last listed successfully; 0 until then",
            None,
            MetricType::Gauge,
        )?;
        ConstGauge::new(at).encode(metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(registry: &Registry) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, registry).expect("encodes");
        out
    }

    #[test]
    fn discovery_timestamp_only_while_configured() {
        let mut registry = Registry::default();
        let fleet = FleetMetrics::register(&mut registry);
        assert!(!text(&registry).contains("discovery_last_success_timestamp_seconds "));
        fleet.set_discovery(true);
        let out = text(&registry);
        assert!(
            out.contains("discovery_last_success_timestamp_seconds 0.0"),
            "{out}"
        );
        fleet.discovered(1_700_000_000.5);
        assert!(text(&registry).contains("discovery_last_success_timestamp_seconds 1700000000.5"));
        fleet.set_discovery(false);
        assert!(!text(&registry).contains("discovery_last_success_timestamp_seconds "));
    }

    #[test]
    fn a_failed_reload_keeps_the_last_success_time() {
        let mut registry = Registry::default();
        let fleet = FleetMetrics::register(&mut registry);
        fleet.reloaded(true, 100.0);
        fleet.reloaded(false, 200.0);
        let out = text(&registry);
        assert!(
            out.contains("cognito_exporter_config_last_reload_successful 0"),
            "{out}"
        );
        assert!(
            out.contains("cognito_exporter_config_last_reload_success_timestamp_seconds 100.0"),
            "{out}"
        );
    }
}
