//! One poll cycle of one target: learn the account, find the pools, read each pool's
//! log-delivery configuration, and fold the answers into the pool records, built aside
//! from what scrapes currently see.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cognitoidentityprovider::operation::get_log_delivery_configuration::GetLogDeliveryConfigurationOutput;
use aws_sdk_cognitoidentityprovider::types::{EventSourceName, LogConfigurationType, LogLevel};
use futures_util::{StreamExt, stream};
use tokio::time::Instant;

use crate::aws::{Clients, is_throttling, label, sdk_error_label};
use crate::config::{PollConfig, TargetConfig};
use crate::model::{Destination, Kind, Level, LogDelivery, PoolRecord, Source, TargetSnapshot};
use crate::selfmetrics::{ApiMetrics, ErrorLabels};

const NOT_FOUND: &str = "ResourceNotFoundException";

/// What a target remembers between cycles.
#[derive(Debug, Default)]
pub struct TargetState {
    /// Pools of the last cycle by ID, with the instant of their last successful read.
    pools: BTreeMap<Arc<str>, (PoolRecord, Option<Instant>)>,
    /// Whether GetCallerIdentity has answered.
    identified: bool,
}

/// The result of reading one pool.
#[derive(Debug)]
enum PoolOutcome {
    Read(LogDelivery),
    Gone,
    /// With the error label.
    Failed(&'static str),
}

/// Counts of a cycle, for its log line.
#[derive(Debug, Default)]
pub struct CycleSummary {
    pub pools: usize,
    pub errors: usize,
}

/// Runs one cycle and returns the snapshot to publish.
pub async fn run(
    target: &TargetConfig,
    poll: &PollConfig,
    clients: &Clients,
    metrics: &ApiMetrics,
    state: &mut TargetState,
) -> (TargetSnapshot, CycleSummary) {
    let started = Instant::now();
    let mut summary = CycleSummary::default();
    let discovered = match identify(clients, state).await {
        Ok(()) => discover(target, clients, state).await,
        Err(e) => Err(e),
    };
    let up;
    match discovered {
        Ok(pools) => {
            let pools: Vec<(Arc<str>, Arc<str>)> = pools
                .into_iter()
                .filter(|(_, name)| target.wants(name))
                .collect();
            let mut outcomes = read_pools(clients, metrics, pools, poll.concurrency).await;
            // Pools still throttled after the SDK's retries get one more pass at the end
            // of the cycle, when the limiter has slowed down: slower, but every pool read.
            let (throttled, mut done): (Vec<_>, Vec<_>) = outcomes
                .into_iter()
                .partition(|(_, _, o)| matches!(o, PoolOutcome::Failed(l) if is_throttling(l)));
            if !throttled.is_empty() {
                let again = throttled
                    .into_iter()
                    .map(|(id, name, _)| (id, name))
                    .collect();
                done.extend(read_pools(clients, metrics, again, poll.concurrency).await);
            }
            outcomes = done;
            let any_read = outcomes
                .iter()
                .any(|(_, _, o)| !matches!(o, PoolOutcome::Failed(_)));
            up = outcomes.is_empty() || any_read;
            summary.errors = outcomes
                .iter()
                .filter(|(_, _, o)| matches!(o, PoolOutcome::Failed(_)))
                .count();
            fold(state, outcomes, poll.max_staleness);
        }
        Err(()) => {
            up = false;
            summary.errors += 1;
            // Nothing was read: every pool ages toward staleness, none is dropped.
            let outcomes = state
                .pools
                .iter()
                .map(|(id, (r, _))| {
                    (
                        id.clone(),
                        r.name.clone(),
                        PoolOutcome::Failed(label::OTHER),
                    )
                })
                .collect();
            fold(state, outcomes, poll.max_staleness);
        }
    }
    summary.pools = state.pools.len();
    let labels = clients.identity.labels();
    let snapshot = TargetSnapshot {
        account_id: labels.aws_account_id.clone(),
        region: labels.aws_region.clone(),
        up,
        duration_seconds: started.elapsed().as_secs_f64(),
        finished_at: unix_now(),
        pools: state.pools.values().map(|(r, _)| r.clone()).collect(),
    };
    (snapshot, summary)
}

/// Learns the account ID once, from GetCallerIdentity.
async fn identify(clients: &Clients, state: &mut TargetState) -> Result<(), ()> {
    if state.identified {
        return Ok(());
    }
    match clients.sts.get_caller_identity().send().await {
        Ok(out) => {
            if let Some(account) = out.account() {
                clients.identity.set_account_id(account);
            }
            state.identified = true;
            Ok(())
        }
        Err(e) => {
            tracing::warn!(
                operation = "GetCallerIdentity",
                error_code = sdk_error_label(&e),
                region = %clients.region,
                error = %aws_sdk_sts::error::DisplayErrorContext(&e),
                "cannot learn the target's account"
            );
            Err(())
        }
    }
}

/// The target's pools as (ID, name): listed, or the configured IDs with names from
/// DescribeUserPool (remembered, since a pool's name never changes).
async fn discover(
    target: &TargetConfig,
    clients: &Clients,
    state: &TargetState,
) -> Result<Vec<(Arc<str>, Arc<str>)>, ()> {
    let Some(ids) = &target.user_pools else {
        return list_pools(clients).await;
    };
    let mut pools = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some((record, _)) = state.pools.get(id.as_str()) {
            pools.push((record.id.clone(), record.name.clone()));
            continue;
        }
        match clients
            .cognito
            .describe_user_pool()
            .user_pool_id(id)
            .send()
            .await
        {
            Ok(out) => {
                let name = out.user_pool().and_then(|p| p.name()).unwrap_or(id);
                pools.push((Arc::from(id.as_str()), Arc::from(name)));
            }
            Err(e) => {
                let code = sdk_error_label(&e);
                tracing::warn!(
                    operation = "DescribeUserPool",
                    error_code = code,
                    pool = %id,
                    error = %aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e),
                    "cannot describe a configured user pool"
                );
                if code != NOT_FOUND {
                    // Poll it anyway under its ID; its own call will say what is wrong.
                    pools.push((Arc::from(id.as_str()), Arc::from(id.as_str())));
                }
            }
        }
    }
    Ok(pools)
}

async fn list_pools(clients: &Clients) -> Result<Vec<(Arc<str>, Arc<str>)>, ()> {
    let mut pools = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .cognito
            .list_user_pools()
            .max_results(60)
            .set_next_token(token.take())
            .send()
            .await;
        match page {
            Ok(out) => {
                pools.extend(out.user_pools().iter().filter_map(|p| {
                    let id = p.id()?;
                    Some((Arc::from(id), Arc::from(p.name().unwrap_or(id))))
                }));
                match out.next_token() {
                    Some(next) if !next.is_empty() => token = Some(next.to_string()),
                    _ => return Ok(pools),
                }
            }
            Err(e) => {
                tracing::warn!(
                    operation = "ListUserPools",
                    error_code = sdk_error_label(&e),
                    region = %clients.region,
                    error = %aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e),
                    "cannot list user pools"
                );
                return Err(());
            }
        }
    }
}

async fn read_pools(
    clients: &Clients,
    metrics: &ApiMetrics,
    pools: Vec<(Arc<str>, Arc<str>)>,
    concurrency: usize,
) -> Vec<(Arc<str>, Arc<str>, PoolOutcome)> {
    stream::iter(pools)
        .map(|(id, name)| async move {
            let outcome = read_pool(clients, metrics, &id).await;
            (id, name, outcome)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

async fn read_pool(clients: &Clients, metrics: &ApiMetrics, id: &str) -> PoolOutcome {
    let result = clients
        .cognito
        .get_log_delivery_configuration()
        .user_pool_id(id)
        .send()
        .await;
    match result {
        Ok(out) => match delivery(&out) {
            Ok(delivery) => PoolOutcome::Read(delivery),
            Err(problem) => {
                // The SDK accepted the answer, so its interceptor counted no error; this
                // is one, and it is counted here.
                let labels = clients.identity.labels();
                metrics
                    .errors
                    .get_or_create(&ErrorLabels {
                        aws_account_id: labels.aws_account_id.clone(),
                        aws_region: labels.aws_region.clone(),
                        operation: "GetLogDeliveryConfiguration",
                        exception: label::MALFORMED,
                    })
                    .inc();
                tracing::warn!(
                    operation = "GetLogDeliveryConfiguration",
                    error_code = label::MALFORMED,
                    pool = %id,
                    problem,
                    "unusable log-delivery configuration"
                );
                PoolOutcome::Failed(label::MALFORMED)
            }
        },
        Err(e) => {
            let code = sdk_error_label(&e);
            if code == NOT_FOUND {
                tracing::info!(pool = %id, "user pool no longer exists; dropping its series");
                return PoolOutcome::Gone;
            }
            tracing::warn!(
                operation = "GetLogDeliveryConfiguration",
                error_code = code,
                pool = %id,
                error = %aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e),
                "cannot read the log-delivery configuration"
            );
            PoolOutcome::Failed(code)
        }
    }
}

/// Converts an answer into the model. An unknown enum value or a destination without its
/// ARN makes the whole answer unusable: exporting the part we understand would report 0
/// for a destination that may well be configured, and raise false alerts.
fn delivery(out: &GetLogDeliveryConfigurationOutput) -> Result<LogDelivery, String> {
    let Some(config) = out.log_delivery_configuration() else {
        return Ok(LogDelivery::default());
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

/// Folds a cycle's outcomes into the records: read pools take their new configuration,
/// gone pools and pools no longer listed leave, failed pools keep their last known
/// configuration through their first failure and then until it is older than
/// `max_staleness`.
fn fold(
    state: &mut TargetState,
    outcomes: Vec<(Arc<str>, Arc<str>, PoolOutcome)>,
    max_staleness: Duration,
) {
    let now = Instant::now();
    let unix = unix_now();
    let mut previous = std::mem::take(&mut state.pools);
    for (id, name, outcome) in outcomes {
        let (before, last_read) = previous
            .remove(&id)
            .map_or((None, None), |(r, at)| (Some(r), at));
        let entry = match outcome {
            PoolOutcome::Gone => continue,
            PoolOutcome::Read(delivery) => (
                PoolRecord {
                    id: id.clone(),
                    name,
                    delivery: Some(delivery),
                    success: true,
                    last_success: Some(unix),
                },
                Some(now),
            ),
            PoolOutcome::Failed(_) => {
                // A first failure never hides the matrix, even when a cycle lasts longer
                // than max_staleness; a run of failures does once it outlasts it.
                let first_failure = before.as_ref().is_some_and(|b| b.success);
                let fresh = first_failure
                    || last_read.is_some_and(|at| now.duration_since(at) <= max_staleness);
                (
                    PoolRecord {
                        id: id.clone(),
                        name,
                        delivery: before
                            .as_ref()
                            .and_then(|b| b.delivery.clone())
                            .filter(|_| fresh),
                        success: false,
                        last_success: before.and_then(|b| b.last_success),
                    },
                    last_read,
                )
            }
        };
        state.pools.insert(id, entry);
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read() -> PoolOutcome {
        PoolOutcome::Read(LogDelivery::default())
    }

    fn outcome(id: &str, o: PoolOutcome) -> (Arc<str>, Arc<str>, PoolOutcome) {
        (Arc::from(id), Arc::from(format!("name-{id}")), o)
    }

    #[tokio::test(start_paused = true)]
    async fn failed_pools_keep_their_matrix_until_stale() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", read())],
            staleness,
        );

        tokio::time::advance(Duration::from_secs(600)).await;
        fold(
            &mut state,
            vec![
                outcome("a", PoolOutcome::Failed("timeout")),
                outcome("b", read()),
            ],
            staleness,
        );
        let a = &state.pools["a"].0;
        assert!(!a.success && a.delivery.is_some() && !a.is_stale());

        tokio::time::advance(Duration::from_secs(301)).await;
        fold(
            &mut state,
            vec![
                outcome("a", PoolOutcome::Failed("timeout")),
                outcome("b", read()),
            ],
            staleness,
        );
        let a = &state.pools["a"].0;
        assert!(a.is_stale(), "{a:?}");
        assert!(a.last_success.is_some(), "the last success time stays");
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_failure_keeps_the_matrix_even_past_max_staleness() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(5);
        fold(&mut state, vec![outcome("a", read())], staleness);
        tokio::time::advance(Duration::from_secs(20)).await; // a slow cycle
        fold(
            &mut state,
            vec![outcome("a", PoolOutcome::Failed("timeout"))],
            staleness,
        );
        assert!(!state.pools["a"].0.is_stale());
        fold(
            &mut state,
            vec![outcome("a", PoolOutcome::Failed("timeout"))],
            staleness,
        );
        assert!(state.pools["a"].0.is_stale());
    }

    #[tokio::test(start_paused = true)]
    async fn gone_and_unlisted_pools_leave_at_once() {
        let mut state = TargetState::default();
        let staleness = Duration::from_secs(900);
        fold(
            &mut state,
            vec![
                outcome("a", read()),
                outcome("b", read()),
                outcome("c", read()),
            ],
            staleness,
        );
        fold(
            &mut state,
            vec![outcome("a", read()), outcome("b", PoolOutcome::Gone)],
            staleness,
        );
        assert_eq!(state.pools.keys().map(|k| &**k).collect::<Vec<_>>(), ["a"]);
    }

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
}
