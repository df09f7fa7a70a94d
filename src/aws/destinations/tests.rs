//! What a target's checks decide before any call, and how their clients are made.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::aws::limiter::Limiter;
use crate::metrics::ApiMetrics;
use crate::model::{Kind, Level, Source, TargetId};

const POOL_ACCOUNT: &str = "111111111111";

/// Checks with no credentials and an endpoint nothing listens on: any call would fail
/// and be counted in `attempts`.
fn checks(endpoint: Option<&str>) -> (DestinationChecks, Arc<AtomicU64>) {
    let mut sdk = SdkConfig::builder()
        .region(Region::new("eu-west-1"))
        .behavior_version(aws_config::BehaviorVersion::latest());
    if let Some(url) = endpoint {
        sdk = sdk.endpoint_url(url);
    }
    let attempts = Arc::new(AtomicU64::new(0));
    let recorder = AttemptRecorder {
        id: Arc::new(TargetId::new(POOL_ACCOUNT, "eu-west-1")),
        metrics: ApiMetrics::default(),
        limiter: Arc::new(Limiter::new(1.0)),
        attempts: Arc::clone(&attempts),
    };
    let sdk = sdk.build();
    let checks = DestinationChecks::new(
        Arc::new(CheckClients::new(&sdk)),
        &sdk,
        recorder,
        "eu-west-1",
        &PollConfig::default(),
        Duration::from_secs(3600),
    );
    (checks, attempts)
}

fn destination(kind: Kind, arn: &str) -> Destination {
    Destination {
        source: Source::UserAuthEvents,
        level: Level::Info,
        kind,
        arn: arn.to_owned(),
    }
}

#[test]
fn every_status_has_its_own_label() {
    let labels: Vec<&str> = DestinationStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        labels,
        [
            "ok",
            "not_found",
            "kms_encrypted",
            "other_account",
            "not_active",
            "access_denied",
            "check_failed"
        ]
    );
}

#[tokio::test]
async fn a_destination_in_another_account_is_not_called() {
    let (checks, attempts) = checks(None);
    for (kind, arn) in [
        (
            Kind::CloudwatchLogs,
            "arn:aws:logs:eu-west-1:222222222222:log-group:/cognito/errors:*",
        ),
        (
            Kind::Firehose,
            "arn:aws:firehose:eu-west-1:222222222222:deliverystream/events",
        ),
    ] {
        let status = checks.status(POOL_ACCOUNT, &destination(kind, arn)).await;
        assert_eq!(status, DestinationStatus::OtherAccount, "{arn}");
    }
    assert_eq!(attempts.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn an_arn_of_the_wrong_shape_fails_its_check_without_a_call() {
    let (checks, attempts) = checks(None);
    for (kind, arn) in [
        (Kind::S3, "arn:aws:logs:eu-west-1:111111111111:log-group:g"),
        (Kind::CloudwatchLogs, "not an arn"),
        (
            Kind::Firehose,
            "arn:aws:firehose:eu-west-1:111111111111:deliverystream/a/b",
        ),
    ] {
        let status = checks.status(POOL_ACCOUNT, &destination(kind, arn)).await;
        assert_eq!(status, DestinationStatus::CheckFailed, "{arn}");
    }
    assert_eq!(attempts.load(Ordering::Relaxed), 0);
}

#[test]
fn clients_go_to_the_arn_region_and_an_endpoint_means_path_style() {
    let (plain, _) = checks(None);
    assert!(!plain.clients.path_style);
    let s3 = plain.clients.s3("ap-southeast-2");
    assert_eq!(
        s3.config().region().map(ToString::to_string).as_deref(),
        Some("ap-southeast-2")
    );
    let logs = plain.clients.logs("us-east-1");
    assert_eq!(
        logs.config().region().map(ToString::to_string).as_deref(),
        Some("us-east-1")
    );
    let (local, _) = checks(Some("http://127.0.0.1:9"));
    assert!(local.clients.path_style);
    let firehose = local.clients.firehose("eu-central-1");
    assert_eq!(
        firehose
            .config()
            .region()
            .map(ToString::to_string)
            .as_deref(),
        Some("eu-central-1")
    );
    // One client per service and region, kept across a reload: the time limits of the
    // new settings come with each call.
    local.clients.s3("eu-west-1");
    local.clients.s3("eu-west-1");
    assert_eq!(local.clients.made().s3.len(), 1);
    let poll = PollConfig {
        timeout: Duration::from_secs(7),
        ..PollConfig::default()
    };
    local.reconfigure(&poll, Duration::from_secs(60));
    assert_eq!(local.clients.made().s3.len(), 1);
    for timeouts in [
        local.own.logs().build().timeout_config().cloned(),
        local.own.firehose().build().timeout_config().cloned(),
        local.own.s3().build().timeout_config().cloned(),
    ] {
        assert_eq!(
            timeouts.and_then(|t| t.operation_timeout()),
            Some(Duration::from_secs(7))
        );
    }
}

#[test]
fn targets_share_the_clients_and_bring_their_own_counter() {
    let (first, first_attempts) = checks(None);
    let (second, _) = checks(None);
    let shared = Arc::clone(&first.clients);
    let second = DestinationChecks {
        clients: Arc::clone(&shared),
        ..second
    };
    first.clients.logs("eu-west-1");
    second.clients.logs("eu-west-1");
    assert_eq!(shared.made().logs.len(), 1, "one client for both targets");
    // The counter of each target's attempts rides on its calls, not on the client.
    let config = first.own.logs().build();
    assert_eq!(config.interceptors().count(), 1);
    assert_eq!(first_attempts.load(Ordering::Relaxed), 0);
}
