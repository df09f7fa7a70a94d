//! What every test here needs: a running simulator (with an organization, if asked), SDK
//! clients built as the exporter builds them, the codes and statuses of their errors, and a bounded wait on a condition.

use std::time::Duration;

use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_organizations as org;
use aws_sdk_sts as sts;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use cognito::config::retry::RetryConfig;
use cognito::config::timeout::TimeoutConfig;
use cognito::config::{BehaviorVersion, Credentials, Region};
use cognito::error::ProvideErrorMetadata;
use cognito::types::{
    CloudWatchLogsConfigurationType, EventSourceName, LogConfigurationType, LogLevel,
};
use cognito_sim::{self as sim, FaultRule, FaultSet, RunningSim, SimOptions};
use tokio::time::Instant;

/// The simulator's default account: static keys act in it.
pub(crate) const ACCOUNT: &str = "123456789012";
/// An account reached only through `AssumeRole`.
pub(crate) const OTHER: &str = "210987654321";
/// The region of [`client`]; pools are also seeded in `eu-west-1`.
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const LOG_GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cognito/t";

/// How long [`eventually`] waits: far beyond what any condition here needs on a quiet
/// machine, so only a real failure reaches it.
const PATIENCE: Duration = Duration::from_secs(30);
/// How often [`eventually`] checks.
const POLL: Duration = Duration::from_millis(20);

/// A simulator with `pools` seeded pools in each of `us-east-1` and `eu-west-1`.
pub(crate) async fn start(pools: usize) -> RunningSim {
    let options = SimOptions {
        pools_per_region: pools,
        regions: vec![REGION.into(), "eu-west-1".into()],
        ..SimOptions::default()
    };
    sim::spawn(options).await.expect("simulator starts")
}

/// A simulator with `accounts` member accounts and `pools` pools per account in each of
/// `us-east-1` and `eu-west-1`.
pub(crate) async fn start_org(accounts: usize, pools: usize) -> RunningSim {
    let options = SimOptions {
        accounts,
        pools_per_region: pools,
        regions: vec![REGION.into(), "eu-west-1".into()],
        ..SimOptions::default()
    };
    sim::spawn(options).await.expect("simulator starts")
}

pub(crate) fn org_client(sim: &RunningSim, creds: Credentials) -> org::Client {
    let conf = org::Config::builder()
        .behavior_version(org::config::BehaviorVersion::latest())
        .region(org::config::Region::new(REGION))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(org::config::retry::RetryConfig::disabled())
        .build();
    org::Client::from_conf(conf)
}

pub(crate) fn static_keys() -> Credentials {
    Credentials::new("AKIDTEST", "secret", None, None, "test")
}

fn config(sim: &RunningSim, region: &str, creds: Credentials) -> cognito::config::Builder {
    cognito::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
}

/// A client as the exporter builds one, without retries so each call is one request,
/// and with a 2 s operation timeout for stalls to outlast.
pub(crate) fn client_with(sim: &RunningSim, region: &str, creds: Credentials) -> cognito::Client {
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(Duration::from_secs(2))
        .build();
    cognito::Client::from_conf(config(sim, region, creds).timeout_config(timeouts).build())
}

pub(crate) fn client(sim: &RunningSim) -> cognito::Client {
    client_with(sim, REGION, static_keys())
}

/// A client that waits for an answer however long it takes: whatever ends its request,
/// it is not the client.
pub(crate) fn patient_client(sim: &RunningSim, region: &str) -> cognito::Client {
    let conf = config(sim, region, static_keys())
        .timeout_config(TimeoutConfig::disabled())
        .build();
    cognito::Client::from_conf(conf)
}

pub(crate) fn sts_client(sim: &RunningSim, creds: Credentials) -> sts::Client {
    let conf = sts::Config::builder()
        .behavior_version(sts::config::BehaviorVersion::latest())
        .region(sts::config::Region::new(REGION))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    sts::Client::from_conf(conf)
}

pub(crate) fn code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> String {
    err.code().unwrap_or("<none>").to_owned()
}

pub(crate) fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

pub(crate) fn faults(rules: Vec<FaultRule>) -> FaultSet {
    FaultSet {
        rules,
        ..FaultSet::default()
    }
}

pub(crate) fn cloudwatch(
    level: LogLevel,
    source: EventSourceName,
    arn: &str,
) -> LogConfigurationType {
    LogConfigurationType::builder()
        .log_level(level)
        .event_source(source)
        .cloud_watch_logs_configuration(
            CloudWatchLogsConfigurationType::builder()
                .log_group_arn(arn)
                .build(),
        )
        .build()
        .expect("required fields set")
}

/// The ID of the first pool `c` lists.
pub(crate) async fn first_pool(c: &cognito::Client) -> String {
    let page = c
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .expect("list");
    page.user_pools()[0].id().expect("id").to_owned()
}

/// Checks `condition` until it holds; fails the test if it does not within [`PATIENCE`].
pub(crate) async fn eventually(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition().await {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(POLL).await;
    }
}
