//! S3 buckets through the real SDK with path-style addressing: create (with a location
//! constraint), head (region header, redirect, missing, refused), delete, every error,
//! and faults in S3's own form.

use aws_sdk_s3 as s3;
use cognito_sim::{ErrorCode, FaultRule};

use crate::destinations::s3_client;
use crate::harness::*;

#[tokio::test]
async fn buckets_are_created_headed_and_deleted_path_style() {
    let sim = start(0).await;
    let us = s3_client(&sim, REGION);
    let eu = s3_client(&sim, "eu-west-1");
    us.create_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect("create in us-east-1");
    let config = s3::types::CreateBucketConfiguration::builder()
        .location_constraint(s3::types::BucketLocationConstraint::EuWest1)
        .build();
    eu.create_bucket()
        .bucket("logs-eu")
        .create_bucket_configuration(config)
        .send()
        .await
        .expect("create in eu-west-1");
    let err = eu
        .create_bucket()
        .bucket("logs-x")
        .send()
        .await
        .expect_err("no constraint");
    assert_eq!(code(&err), "IllegalLocationConstraintException");
    let err = us
        .create_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect_err("taken");
    assert_eq!(code(&err), "BucketAlreadyOwnedByYou");
    assert_eq!(status(&err), Some(409));
    let err = us
        .create_bucket()
        .bucket("Bad_Name")
        .send()
        .await
        .expect_err("name");
    assert_eq!(code(&err), "InvalidBucketName");

    let head = eu
        .head_bucket()
        .bucket("logs-eu")
        .send()
        .await
        .expect("head");
    assert_eq!(head.bucket_region(), Some("eu-west-1"));
    let err = us
        .head_bucket()
        .bucket("logs-eu")
        .send()
        .await
        .expect_err("other region");
    assert_eq!(status(&err), Some(301));
    let region = err
        .raw_response()
        .and_then(|r| r.headers().get("x-amz-bucket-region"));
    assert_eq!(region, Some("eu-west-1"));
    let err = us
        .head_bucket()
        .bucket("missing")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(status(&err), Some(404));
    assert!(matches!(err.as_service_error(), Some(e) if e.is_not_found()));

    let state = sim.state();
    state
        .create_bucket("444455556666", REGION, "theirs")
        .expect("new");
    let err = us
        .head_bucket()
        .bucket("theirs")
        .send()
        .await
        .expect_err("not ours");
    assert_eq!(status(&err), Some(403));
    state.refuse_destination("arn:aws:s3:::logs-us", true);
    let err = us
        .head_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(status(&err), Some(403));
    let err = us
        .delete_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(code(&err), "AccessDenied");
    state.refuse_destination("arn:aws:s3:::logs-us", false);
    us.head_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect("answered again");

    us.delete_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect("delete");
    let err = us
        .delete_bucket()
        .bucket("logs-us")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "NoSuchBucket");
    assert_eq!(status(&err), Some(404));

    let rule = FaultRule::error(ErrorCode::AccessDeniedException)
        .operation("HeadBucket")
        .count(1);
    state.set_faults(faults(vec![rule])).expect("valid");
    let err = eu
        .head_bucket()
        .bucket("logs-eu")
        .send()
        .await
        .expect_err("injected");
    assert_eq!(status(&err), Some(403));
    let head = state.stats().operation("HeadBucket");
    assert_eq!(
        (
            head.requests,
            head.ok,
            head.injected("AccessDeniedException")
        ),
        (7, 2, 1)
    );
    assert_eq!(head.errors("NoSuchBucket"), 1);
    assert_eq!(state.stats().operation("CreateBucket").ok, 2);
}
