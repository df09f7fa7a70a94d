//! `--demo`: the simulator in-process on a loopback port, seeded with pools, and the
//! exporter pointed at it through the same SDK path as for AWS.

use std::time::Duration;

use crate::aws::ClientOptions;
use crate::config::{Config, TargetConfig};
use cognito_sim::{RunningSim, SimOptions};

/// Pools the demo seeds.
const DEMO_POOLS: usize = 24;
/// The region the demo's pools live in.
const DEMO_REGION: &str = "eu-west-1";

/// Starts the simulator and rewrites `config` and `clients` to poll it.
pub async fn start(
    config: &mut Config,
    clients: &mut ClientOptions,
) -> std::io::Result<RunningSim> {
    let options = SimOptions {
        pools_per_region: DEMO_POOLS,
        regions: vec![DEMO_REGION.to_string()],
        ..SimOptions::default()
    };
    let sim = cognito_sim::spawn(options).await?;
    point(config, &sim.endpoint_url());
    clients.credentials = Some(aws_credential_types::Credentials::new(
        "AKIDDEMO00000000",
        "demo-secret-not-a-real-key",
        None,
        None,
        "cognito-exporter-demo",
    ));
    tracing::info!(endpoint = %sim.endpoint_url(), pools = DEMO_POOLS, "demo simulator started");
    Ok(sim)
}

/// Rewrites `config` to poll the simulator at `endpoint`: at start, and again on each
/// reload, so a reload in demo mode changes the `poll` settings and nothing else.
pub fn point(config: &mut Config, endpoint: &str) {
    config.targets = vec![TargetConfig {
        region: Some(DEMO_REGION.to_string()),
        endpoint_url: Some(endpoint.to_owned()),
        ..TargetConfig::default()
    }];
    config.discovery = None;
    // The simulator has no quota to share: poll it briskly so data shows within a second.
    config.poll.interval = config.poll.interval.min(Duration::from_secs(30));
    config.poll.requests_per_second = config.poll.requests_per_second.max(100.0);
}
