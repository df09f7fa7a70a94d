//! The Cognito operations as the SDK sees them: paging through pools, the round trip of a
//! pool and its log-delivery configuration, and the validation AWS applies to it.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    EventSourceName, FirehoseConfigurationType, LogConfigurationType, LogLevel,
    S3ConfigurationType, UserPoolTierType,
};

use crate::harness::*;

#[tokio::test]
async fn pagination_walks_every_pool_once_per_region() {
    let sim = start(25).await;
    let pages: Vec<_> = client(&sim)
        .list_user_pools()
        .max_results(10)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("pages");
    let sizes: Vec<usize> = pages.iter().map(|p| p.user_pools().len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    let mut ids: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.user_pools())
        .filter_map(|p| p.id())
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("us-east-1_")));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 25);
    let first = &pages[0].user_pools()[0];
    assert_eq!(first.name(), Some("prod-pool-0001"));
    assert!(first.creation_date().is_some() && first.lambda_config().is_some());

    let eu = client_with(&sim, "eu-west-1", static_keys());
    let listed = eu
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.user_pools().len(), 25);
    assert!(listed.next_token().is_none());
    assert!(
        listed.user_pools()[0]
            .id()
            .is_some_and(|id| id.starts_with("eu-west-1_"))
    );

    for bad in [None, Some(0), Some(61)] {
        let err = client(&sim)
            .list_user_pools()
            .set_max_results(bad)
            .send()
            .await
            .expect_err("MaxResults out of range");
        assert_eq!(code(&err), "InvalidParameterException", "{bad:?}");
        assert_eq!(status(&err), Some(400));
    }
}

#[tokio::test]
async fn create_set_get_delete_round_trip() {
    let sim = start(0).await;
    let c = client(&sim);
    // userAuthEvents logs need the Plus plan.
    let created = c
        .create_user_pool()
        .pool_name("prod-orders")
        .user_pool_tier(UserPoolTierType::Plus)
        .send()
        .await
        .expect("create");
    let pool = created.user_pool().expect("pool");
    let id = pool.id().expect("id").to_owned();
    assert!(id.starts_with("us-east-1_") && id.len() == 19, "{id}");
    let described = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("describe");
    let arn = described.user_pool().and_then(|p| p.arn()).expect("arn");
    assert_eq!(
        arn,
        format!("arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{id}")
    );

    let empty = c
        .get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect("get");
    let empty = empty.log_delivery_configuration().expect("config");
    assert!(empty.log_configurations().is_empty());

    let s3 = LogConfigurationType::builder()
        .log_level(LogLevel::Info)
        .event_source(EventSourceName::UserAuthEvents)
        .s3_configuration(
            S3ConfigurationType::builder()
                .bucket_arn("arn:aws:s3:::logs-1")
                .build(),
        )
        .build()
        .expect("required fields set");
    let notify = cloudwatch(
        LogLevel::Error,
        EventSourceName::UserNotification,
        LOG_GROUP,
    );
    let set = c
        .set_log_delivery_configuration()
        .user_pool_id(&id)
        .log_configurations(notify.clone())
        .log_configurations(s3.clone())
        .send()
        .await
        .expect("set");
    let got = c
        .get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect("get");
    assert_eq!(
        set.log_delivery_configuration(),
        got.log_delivery_configuration()
    );
    let got = got.log_delivery_configuration().expect("config");
    assert_eq!(got.user_pool_id(), id);
    assert_eq!(got.log_configurations(), [notify, s3]);
    let stored = sim
        .state()
        .log_configurations(ACCOUNT, REGION, &id)
        .expect("pool");
    assert_eq!(stored.len(), 2);

    c.delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("delete");
    let err = c
        .get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert!(sim.state().pools(ACCOUNT, REGION).is_empty());
}

#[tokio::test]
async fn set_log_delivery_is_validated_like_aws() {
    let sim = start(1).await;
    let c = client(&sim);
    let id = first_pool(&c).await;
    let firehose = |arn: &str| {
        LogConfigurationType::builder()
            .log_level(LogLevel::Info)
            .event_source(EventSourceName::UserAuthEvents)
            .firehose_configuration(FirehoseConfigurationType::builder().stream_arn(arn).build())
            .build()
            .expect("required fields set")
    };
    let good_stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";
    let cases: Vec<(Vec<LogConfigurationType>, &str)> = vec![
        (
            vec![cloudwatch(
                LogLevel::Info,
                EventSourceName::UserNotification,
                LOG_GROUP,
            )],
            "requires LogLevel ERROR",
        ),
        (
            vec![cloudwatch(
                LogLevel::from("DEBUG"),
                EventSourceName::UserAuthEvents,
                LOG_GROUP,
            )],
            "enum value set",
        ),
        (
            vec![cloudwatch(
                LogLevel::Info,
                EventSourceName::from("adminEvents"),
                LOG_GROUP,
            )],
            "enum value set",
        ),
        (
            vec![firehose("arn:aws:firehose:us-east-1:1234:deliverystream/s")],
            "is not of the form",
        ),
        (
            vec![firehose(good_stream), firehose(good_stream)],
            "at most one per event source",
        ),
        (vec![firehose(good_stream); 3], "less than or equal to 2"),
    ];
    for (configs, want) in cases {
        let err = c
            .set_log_delivery_configuration()
            .user_pool_id(&id)
            .set_log_configurations(Some(configs))
            .send()
            .await
            .expect_err(want);
        assert_eq!(code(&err), "InvalidParameterException", "{want}");
        let message = err.message().unwrap_or_default().to_owned();
        assert!(message.contains(want), "{message:?} lacks {want:?}");
    }
    let err = c
        .set_log_delivery_configuration()
        .user_pool_id("us-east-1_missing")
        .log_configurations(firehose(good_stream))
        .send()
        .await
        .expect_err("no such pool");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let unchanged = sim
        .state()
        .log_configurations(ACCOUNT, REGION, &id)
        .expect("pool");
    assert!(unchanged.is_empty(), "rejected requests change nothing");
}
