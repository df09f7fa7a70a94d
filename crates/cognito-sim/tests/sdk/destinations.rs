//! The destination services through their real SDK crates, on the simulator's one
//! port: the clients as an exporter builds them, Firehose delivery streams (every
//! operation and error, the settable status, refusals), and the seeded destinations.
//! Log groups are in `log_groups`, buckets in `buckets`.

use aws_sdk_cloudwatchlogs as logs;
use aws_sdk_firehose as firehose;
use aws_sdk_s3 as s3;
use cognito_sim::{DeliveryStreamStatus, RunningSim};

use crate::harness::*;

pub(crate) fn logs_client(sim: &RunningSim, region: &str) -> logs::Client {
    let conf = logs::Config::builder()
        .behavior_version(logs::config::BehaviorVersion::latest())
        .region(logs::config::Region::new(region.to_owned()))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(static_keys())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(logs::config::retry::RetryConfig::disabled())
        .build();
    logs::Client::from_conf(conf)
}

pub(crate) fn s3_client(sim: &RunningSim, region: &str) -> s3::Client {
    let conf = s3::Config::builder()
        .behavior_version(s3::config::BehaviorVersion::latest())
        .region(s3::config::Region::new(region.to_owned()))
        .endpoint_url(sim.endpoint_url())
        .force_path_style(true)
        .credentials_provider(static_keys())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(s3::config::retry::RetryConfig::disabled())
        .build();
    s3::Client::from_conf(conf)
}

pub(crate) fn firehose_client(sim: &RunningSim, region: &str) -> firehose::Client {
    let conf = firehose::Config::builder()
        .behavior_version(firehose::config::BehaviorVersion::latest())
        .region(firehose::config::Region::new(region.to_owned()))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(static_keys())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(firehose::config::retry::RetryConfig::disabled())
        .build();
    firehose::Client::from_conf(conf)
}

#[tokio::test]
async fn delivery_streams_have_a_settable_status() {
    let sim = start(0).await;
    let c = firehose_client(&sim, REGION);
    let created = c
        .create_delivery_stream()
        .delivery_stream_name("cognito-auth")
        .send()
        .await
        .expect("create");
    let arn = "arn:aws:firehose:us-east-1:123456789012:deliverystream/cognito-auth";
    assert_eq!(created.delivery_stream_arn(), Some(arn));
    let err = c
        .create_delivery_stream()
        .delivery_stream_name("cognito-auth")
        .send()
        .await
        .expect_err("exists");
    assert_eq!(code(&err), "ResourceInUseException");

    let describe = async |name: &str| {
        c.describe_delivery_stream()
            .delivery_stream_name(name)
            .send()
            .await
    };
    let d = describe("cognito-auth").await.expect("describe");
    let d = d.delivery_stream_description().expect("description");
    assert_eq!(d.delivery_stream_arn(), arn);
    assert_eq!(
        d.delivery_stream_status(),
        &firehose::types::DeliveryStreamStatus::Active
    );
    assert_eq!(
        d.delivery_stream_type(),
        &firehose::types::DeliveryStreamType::DirectPut
    );
    assert!(d.destinations().is_empty() && !d.has_more_destinations());

    let state = sim.state();
    assert!(state.set_delivery_stream_status(
        ACCOUNT,
        REGION,
        "cognito-auth",
        DeliveryStreamStatus::Creating
    ));
    let d = describe("cognito-auth").await.expect("describe");
    let status = d
        .delivery_stream_description()
        .map(|d| d.delivery_stream_status().clone());
    assert_eq!(
        status,
        Some(firehose::types::DeliveryStreamStatus::Creating)
    );
    let eu = firehose_client(&sim, "eu-west-1");
    let err = eu
        .describe_delivery_stream()
        .delivery_stream_name("cognito-auth")
        .send()
        .await
        .expect_err("streams live per region");
    assert_eq!(code(&err), "ResourceNotFoundException");

    state.refuse_destination(arn, true);
    let err = describe("cognito-auth").await.expect_err("refused");
    assert_eq!(code(&err), "AccessDeniedException");
    state.refuse_destination(arn, false);

    c.delete_delivery_stream()
        .delivery_stream_name("cognito-auth")
        .send()
        .await
        .expect("delete");
    let err = describe("cognito-auth").await.expect_err("gone");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let err = c
        .delete_delivery_stream()
        .delivery_stream_name("cognito-auth")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let stats = state.stats().operation("DescribeDeliveryStream");
    assert_eq!(
        (
            stats.requests,
            stats.ok,
            stats.errors("ResourceNotFoundException")
        ),
        (5, 2, 2)
    );
}

#[tokio::test]
async fn seeded_destinations_cover_every_case() {
    let sim = start(12).await;
    let logs = logs_client(&sim, REGION);
    let groups = logs.describe_log_groups().send().await.expect("groups");
    let names: Vec<&str> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert!(names.contains(&"/aws/cognito/prod-pool-0002"), "{names:?}");
    assert!(
        !names.contains(&"/aws/cognito/sandbox-pool-0008"),
        "a missing group"
    );
    let kms = groups
        .log_groups()
        .iter()
        .filter(|g| g.kms_key_id().is_some())
        .count();
    assert_eq!(kms, 1);
    let fh = firehose_client(&sim, REGION);
    let creating = fh
        .describe_delivery_stream()
        .delivery_stream_name("cognito-prod-pool-0010")
        .send()
        .await
        .expect("stream");
    let stream_status = creating
        .delivery_stream_description()
        .map(|d| d.delivery_stream_status().clone());
    assert_eq!(
        stream_status,
        Some(firehose::types::DeliveryStreamStatus::Creating)
    );
    let s3 = s3_client(&sim, REGION);
    s3.head_bucket()
        .bucket(format!("cognito-logs-{ACCOUNT}-{REGION}"))
        .send()
        .await
        .expect("bucket");
    let err = s3
        .head_bucket()
        .bucket(format!("cognito-logs-gone-{ACCOUNT}-{REGION}"))
        .send()
        .await
        .expect_err("missing bucket");
    assert_eq!(status(&err), Some(404));
    let other = sim
        .state()
        .pools(ACCOUNT, REGION)
        .iter()
        .flat_map(|p| {
            sim.state()
                .log_configurations(ACCOUNT, REGION, &p.id)
                .unwrap_or_default()
        })
        .filter(|c| format!("{c:?}").contains(":444455556666:"))
        .count();
    assert_eq!(other, 1, "one log group of another account");
}
