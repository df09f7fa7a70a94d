//! The exporter's metrics.
//!
//! - `families`: the per-pool and per-target families, each declared once with its
//!   name, help, rendering and fingerprint. They change once per cycle, so the
//!   exposition renders them once per change (see [`crate::exposition`]).
//! - The exporter's own metrics change continuously and are few (a handful per target):
//!   they live in a prometheus-client [`Registry`] made in [`crate::run`], each group
//!   registered by its own `register` ([`ApiMetrics`], `PollMetrics`, `FleetMetrics`,
//!   [`register_build_info`], [`process::register`]), and are encoded on each scrape by [`encode_openmetrics`] or
//!   [`encode_classic`].

pub(crate) mod api;
pub(crate) mod families;
pub(crate) mod fleet;
pub(crate) mod http;
pub(crate) mod poll;
pub mod process;

use std::fmt::Write as _;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub use api::ApiMetrics;
pub(crate) use fleet::FleetMetrics;
pub(crate) use poll::PollMetrics;

/// Registers `cognito_exporter_build_info` in `registry`.
pub fn register_build_info(registry: &mut Registry, version: &'static str, revision: &'static str) {
    build_info(registry, version, revision, None);
}

/// Registers `cognito_exporter_build_info` with `demo="true"`: every value served comes
/// from the built-in simulator.
pub fn register_demo_build_info(
    registry: &mut Registry,
    version: &'static str,
    revision: &'static str,
) {
    build_info(registry, version, revision, Some("true"));
}

fn build_info(
    registry: &mut Registry,
    version: &'static str,
    revision: &'static str,
    demo: Option<&'static str>,
) {
    // A list rather than a struct: `demo` is absent outside `--demo`, not empty.
    let mut labels = vec![("version", version), ("revision", revision)];
    labels.extend(demo.map(|d| ("demo", d)));
    let build = Family::<Vec<(&'static str, &'static str)>, Gauge>::default();
    build.get_or_create(&labels).set(1);
    registry.register(
        "cognito_exporter_build_info",
        "The exporter's version and source revision, value 1",
        build,
    );
}

/// OpenMetrics 1.0 text of `registry`, `# EOF` included.
pub fn encode_openmetrics(registry: &Registry, out: &mut String) -> std::fmt::Result {
    prometheus_client::encoding::text::encode(out, registry)
}

/// Prometheus text 0.0.4 of `registry`.
pub fn encode_classic(registry: &Registry, out: &mut String) -> std::fmt::Result {
    let mut om = String::new();
    prometheus_client::encoding::text::encode_registry(&mut om, registry)?;
    openmetrics_to_classic(&om, out);
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics() -> Registry {
        let mut registry = Registry::default();
        let api = ApiMetrics::register(&mut registry);
        register_build_info(&mut registry, "1.2.3", "abc");
        process::register(&mut registry);
        let id = crate::model::TargetId::new("123456789012", "eu-west-1");
        for _ in 0..3 {
            api.request(&id, "ListUserPools");
        }
        registry
    }

    #[test]
    fn classic_names_counter_families_with_total() {
        let mut out = String::new();
        encode_classic(&metrics(), &mut out).expect("encode");
        assert!(out.contains("# TYPE cognito_exporter_api_requests_total counter\n"));
        assert!(out.contains("# HELP cognito_exporter_api_requests_total Cognito"));
        assert!(out.contains(r#"cognito_exporter_api_requests_total{aws_account_id="123456789012",aws_region="eu-west-1",operation="ListUserPools"} 3"#));
        assert!(out.contains("# TYPE process_cpu_seconds_total counter\n"));
        assert!(out.contains(r#"cognito_exporter_build_info{version="1.2.3",revision="abc"} 1"#));
        assert!(!out.contains("# EOF"));
    }

    #[test]
    fn build_info_says_demo_only_in_demo_mode() {
        let mut registry = Registry::default();
        register_demo_build_info(&mut registry, "1.2.3", "abc");
        let mut out = String::new();
        encode_classic(&registry, &mut out).expect("encode");
        assert!(
            out.contains(
                r#"cognito_exporter_build_info{version="1.2.3",revision="abc",demo="true"} 1"#
            ),
            "{out}"
        );
        let mut out = String::new();
        encode_classic(&metrics(), &mut out).expect("encode");
        assert!(!out.contains("demo="), "{out}");
    }

    #[test]
    fn openmetrics_keeps_its_own_conventions() {
        let mut out = String::new();
        encode_openmetrics(&metrics(), &mut out).expect("encode");
        assert!(out.contains("# TYPE cognito_exporter_api_requests counter\n"));
        assert!(out.ends_with("# EOF\n"));
    }
}
