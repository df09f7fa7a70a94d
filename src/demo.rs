//! `--demo`: the simulator in-process on `--demo.simulator-address`, seeded with pools
//! and kept changing (log configurations, an occasional throttle), and the exporter
//! pointed at it through the same SDK path as for AWS, with destination checks on and,
//! unless the configuration declares its own, an example policy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cognito_sim::{
    DEFAULT_ACCOUNT_ID, Destination, ErrorCode, FaultRule, FaultSet, LogConfiguration, SimOptions,
    SimState, Simulator,
};
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::aws::ClientOptions;
use crate::config::{Config, PolicyRule, PoolSelector, Requirement, TargetConfig};
use crate::model::{Kind, Source};

/// Pools the demo seeds.
const DEMO_POOLS: usize = 24;
/// The region the demo's pools live in.
const DEMO_REGION: &str = "eu-west-1";
/// How often the demo changes something: about once per two of its poll cycles, so the
/// change, error and alert panels fill within minutes.
const CHANGE_EVERY: Duration = Duration::from_secs(60);
/// Pools whose log configuration each change rewrites.
const POOLS_PER_CHANGE: usize = 3;
/// Every this many changes, a few `GetLogDeliveryConfiguration` calls are throttled.
const THROTTLE_EVERY: u64 = 3;
/// How many calls a throttle answers with `TooManyRequestsException`: enough for the
/// SDK's retries to run out on one pool now and then, few enough to pass within a cycle.
const THROTTLED_CALLS: u64 = 4;

/// The running demo simulator; dropping it stops the server and the changes.
pub struct Demo {
    addr: SocketAddr,
    state: Arc<SimState>,
    _stop: DropGuard,
}

impl Demo {
    /// `http://ADDR`, the endpoint the exporter and the aws CLI use.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The simulator's state, as the changes see it.
    pub fn state(&self) -> Arc<SimState> {
        Arc::clone(&self.state)
    }
}

/// Starts the simulator on `listener` (bound to `--demo.simulator-address`), its changes
/// every minute, and rewrites `config` and `clients` to poll it.
pub async fn start(
    listener: TcpListener,
    config: &mut Config,
    clients: &mut ClientOptions,
) -> std::io::Result<Demo> {
    let addr = listener.local_addr()?;
    let simulator = Simulator::new(SimOptions {
        pools_per_region: DEMO_POOLS,
        regions: vec![DEMO_REGION.to_string()],
        ..SimOptions::default()
    });
    let state = simulator.state();
    let stop = CancellationToken::new();
    tokio::spawn(serve(simulator, listener, stop.clone()));
    tokio::spawn(keep_changing(
        Arc::clone(&state),
        CHANGE_EVERY,
        stop.clone(),
    ));
    let demo = Demo {
        addr,
        state,
        _stop: stop.drop_guard(),
    };
    point(config, &demo.endpoint_url());
    clients.credentials = Some(aws_credential_types::Credentials::new(
        "AKIDDEMO00000000",
        "demo-secret-not-a-real-key",
        None,
        None,
        "cognito-exporter-demo",
    ));
    tracing::info!(
        endpoint = %demo.endpoint_url(),
        pools = DEMO_POOLS,
        aws_cli = %aws_cli(&demo.endpoint_url()),
        "demo simulator started; drive it with the aws CLI (any credentials will do)"
    );
    Ok(demo)
}

/// The aws CLI command that lists the demo's pools, as a person would paste it.
pub fn aws_cli(endpoint: &str) -> String {
    format!(
        "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url {endpoint} \
         --region {DEMO_REGION} cognito-idp list-user-pools --max-results 10"
    )
}

async fn serve(simulator: Simulator, listener: TcpListener, stop: CancellationToken) {
    if let Err(e) = simulator.serve(listener, stop).await {
        tracing::error!(error = %e, "the demo simulator stopped serving");
    }
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
    // Its seeded destinations are in every state a check can find, so the checks and a
    // policy show what they are for; a configuration's own rules are kept.
    config.checks.destinations = true;
    if config.policy.rules.is_empty() {
        config.policy.rules = demo_policy();
    }
}

/// The rules the demo judges its pools by when the configuration has none: message
/// errors to a CloudWatch log group that checks ok, and user activity from every Plus
/// pool.
fn demo_policy() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            name: "errors-to-cloudwatch".into(),
            pools: PoolSelector::default(),
            require: Requirement {
                source: Source::UserNotification,
                kind: Some(Kind::CloudwatchLogs),
                status_ok: true,
            },
        },
        PolicyRule {
            name: "plus-user-activity".into(),
            pools: PoolSelector {
                plans: Some(vec!["PLUS".into()]),
                ..PoolSelector::default()
            },
            require: Requirement {
                source: Source::UserAuthEvents,
                kind: None,
                status_ok: false,
            },
        },
    ]
}

/// Makes one change every `period` until `stop`; the first after one period, so the
/// first cycles show the seeded pools.
async fn keep_changing(state: Arc<SimState>, period: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    for change in 1_u64.. {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => change_once(&state, change),
        }
    }
}

/// The `change`th change: [`POOLS_PER_CHANGE`] pools, taken in turn, move to another of
/// the four shapes a pool's logging takes (none, errors only, errors and user activity,
/// user activity only), and every [`THROTTLE_EVERY`]th change throttles a few reads.
fn change_once(state: &SimState, change: u64) {
    let pools = state.pools(DEFAULT_ACCOUNT_ID, DEMO_REGION);
    let count = pools.len() as u64;
    if count == 0 {
        return;
    }
    for k in 0..POOLS_PER_CHANGE as u64 {
        let index = (change * POOLS_PER_CHANGE as u64 + k) % count;
        let Some(pool) = usize::try_from(index).ok().and_then(|i| pools.get(i)) else {
            continue;
        };
        let shape = shape(&pool.id, change + k);
        if let Err(e) =
            state.set_log_configurations(DEFAULT_ACCOUNT_ID, DEMO_REGION, &pool.id, shape)
        {
            tracing::debug!(pool = %pool.id, error = %e, "demo change refused");
        }
    }
    if change.is_multiple_of(THROTTLE_EVERY) {
        let throttle = FaultSet {
            rules: vec![
                FaultRule::error(ErrorCode::TooManyRequestsException)
                    .operation("GetLogDeliveryConfiguration")
                    .count(THROTTLED_CALLS),
            ],
            ..FaultSet::default()
        };
        if let Err(e) = state.set_faults(throttle) {
            tracing::debug!(error = %e, "demo throttle refused");
        }
    }
    tracing::debug!(change, "demo simulator changed");
}

/// The `n`th of the four logging shapes, for pool `pool`.
fn shape(pool: &str, n: u64) -> Vec<LogConfiguration> {
    let prefix = format!("{DEMO_REGION}:{DEFAULT_ACCOUNT_ID}");
    let errors = || {
        LogConfiguration::user_notification(format!(
            "arn:aws:logs:{prefix}:log-group:/aws/cognito/{pool}"
        ))
    };
    let activity = || {
        LogConfiguration::user_auth_events(Destination::Firehose(format!(
            "arn:aws:firehose:{prefix}:deliverystream/cognito-{pool}"
        )))
    };
    match n % 4 {
        0 => Vec::new(),
        1 => vec![errors()],
        2 => vec![errors(), activity()],
        _ => vec![activity()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simulator() -> Arc<SimState> {
        Simulator::new(SimOptions {
            pools_per_region: DEMO_POOLS,
            regions: vec![DEMO_REGION.to_string()],
            ..SimOptions::default()
        })
        .state()
    }

    fn logging(state: &SimState) -> Vec<Vec<LogConfiguration>> {
        state
            .pools(DEFAULT_ACCOUNT_ID, DEMO_REGION)
            .iter()
            .map(|p| {
                state
                    .log_configurations(DEFAULT_ACCOUNT_ID, DEMO_REGION, &p.id)
                    .expect("the pool exists")
            })
            .collect()
    }

    #[test]
    fn each_change_moves_a_few_pools_and_some_throttle() {
        let state = simulator();
        let mut before = logging(&state);
        for change in 1..=THROTTLE_EVERY * 2 {
            change_once(&state, change);
            let after = logging(&state);
            let moved = before.iter().zip(&after).filter(|(b, a)| b != a).count();
            assert!(
                (1..=POOLS_PER_CHANGE).contains(&moved),
                "change {change} moved {moved} pools"
            );
            let throttled = !state.faults().rules.is_empty();
            assert_eq!(throttled, change >= THROTTLE_EVERY, "change {change}");
            before = after;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn changes_come_on_their_period_until_stopped() {
        let state = simulator();
        let seeded = logging(&state);
        let stop = CancellationToken::new();
        let task = tokio::spawn(keep_changing(
            Arc::clone(&state),
            CHANGE_EVERY,
            stop.clone(),
        ));
        tokio::time::sleep(CHANGE_EVERY / 2).await;
        assert_eq!(logging(&state), seeded, "nothing changes before one period");
        tokio::time::sleep(CHANGE_EVERY).await;
        assert_ne!(logging(&state), seeded, "a change after one period");
        stop.cancel();
        task.await.expect("the task ends when stopped");
    }

    #[test]
    fn the_aws_cli_line_lists_the_demo_pools() {
        assert_eq!(
            aws_cli("http://127.0.0.1:4566"),
            "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url \
             http://127.0.0.1:4566 --region eu-west-1 cognito-idp list-user-pools --max-results 10"
        );
    }
}
