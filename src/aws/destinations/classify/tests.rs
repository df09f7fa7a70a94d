//! Each status from the answers that give it, built with the SDK's builders.

use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsError;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamError;
use aws_sdk_firehose::types::DeliveryStreamDescription;
use aws_sdk_firehose::types::error::ResourceNotFoundException;
use aws_sdk_s3::operation::head_bucket::HeadBucketError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

use super::*;

fn response(status: u16, region: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::new(status.try_into().expect("status"), SdkBody::empty());
    if let Some(region) = region {
        response
            .headers_mut()
            .insert(BUCKET_REGION, region.to_owned());
    }
    response
}

fn group(name: &str, kms: Option<&str>) -> LogGroup {
    LogGroup::builder()
        .log_group_name(name)
        .set_kms_key_id(kms.map(str::to_owned))
        .build()
}

#[test]
fn a_log_group_is_found_by_its_exact_name() {
    let page = DescribeLogGroupsOutput::builder()
        .log_groups(group("/cognito/errors", None))
        .log_groups(group(
            "/cognito/errors-old",
            Some("arn:aws:kms:eu-west-1:1:key/k"),
        ))
        .build();
    assert_eq!(
        log_groups("/cognito/errors", &page),
        Some(DestinationStatus::Ok)
    );
    assert_eq!(
        log_groups("/cognito/errors-old", &page),
        Some(DestinationStatus::KmsEncrypted)
    );
    // Only a longer name starts with it: the group itself is gone.
    assert_eq!(
        log_groups("/cognito/err", &page),
        Some(DestinationStatus::NotFound)
    );
    let empty = DescribeLogGroupsOutput::builder().build();
    assert_eq!(
        log_groups("/cognito/errors", &empty),
        Some(DestinationStatus::NotFound)
    );
}

#[test]
fn a_log_group_not_on_a_page_that_has_a_next_one_is_looked_for_there() {
    let page = DescribeLogGroupsOutput::builder()
        .log_groups(group("/cognito/errors-a", None))
        .next_token("more")
        .build();
    assert_eq!(log_groups("/cognito/errors", &page), None);
    let blank_token = DescribeLogGroupsOutput::builder().next_token("").build();
    assert_eq!(
        log_groups("/cognito/errors", &blank_token),
        Some(DestinationStatus::NotFound)
    );
}

#[test]
fn a_delivery_stream_is_ok_only_when_active() {
    let answer = |status: DeliveryStreamStatus| {
        let description = DeliveryStreamDescription::builder()
            .delivery_stream_name("s")
            .delivery_stream_arn("arn:aws:firehose:eu-west-1:111111111111:deliverystream/s")
            .delivery_stream_status(status)
            .delivery_stream_type(aws_sdk_firehose::types::DeliveryStreamType::DirectPut)
            .version_id("1")
            .set_destinations(Some(Vec::new()))
            .has_more_destinations(false)
            .build()
            .expect("every required member");
        DescribeDeliveryStreamOutput::builder()
            .delivery_stream_description(description)
            .build()
    };
    assert_eq!(
        delivery_stream(&answer(DeliveryStreamStatus::Active)),
        DestinationStatus::Ok
    );
    for status in [
        DeliveryStreamStatus::Creating,
        DeliveryStreamStatus::Deleting,
        DeliveryStreamStatus::CreatingFailed,
        DeliveryStreamStatus::from("SOMETHING_NEW"),
    ] {
        assert_eq!(
            delivery_stream(&answer(status.clone())),
            DestinationStatus::NotActive,
            "{status:?}"
        );
    }
}

#[test]
fn refusals_say_not_found_access_denied_or_check_failed() {
    let missing = SdkError::service_error(
        DescribeDeliveryStreamError::ResourceNotFoundException(
            // As the SDK reads it: the code in the metadata.
            ResourceNotFoundException::builder()
                .message("no such stream")
                .meta(
                    ErrorMetadata::builder()
                        .code("ResourceNotFoundException")
                        .build(),
                )
                .build(),
        ),
        response(400, None),
    );
    assert_eq!(refused(&missing), DestinationStatus::NotFound);
    let coded = |code: &str, status: u16| {
        SdkError::service_error(
            DescribeLogGroupsError::generic(ErrorMetadata::builder().code(code).build()),
            response(status, None),
        )
    };
    assert_eq!(
        refused(&coded("AccessDeniedException", 400)),
        DestinationStatus::AccessDenied
    );
    assert_eq!(
        refused(&coded("AccessDenied", 400)),
        DestinationStatus::AccessDenied
    );
    assert_eq!(
        refused(&coded("SomethingElse", 403)),
        DestinationStatus::AccessDenied
    );
    assert_eq!(
        refused(&coded("ResourceNotFoundException", 400)),
        DestinationStatus::NotFound
    );
    assert_eq!(
        refused(&coded("ThrottlingException", 400)),
        DestinationStatus::CheckFailed
    );
    assert_eq!(
        refused(&coded("ServiceUnavailableException", 503)),
        DestinationStatus::CheckFailed
    );
    let unanswered: SdkError<DescribeLogGroupsError, HttpResponse> =
        SdkError::dispatch_failure(ConnectorError::io("reset".into()));
    assert_eq!(refused(&unanswered), DestinationStatus::CheckFailed);
    let timed_out: SdkError<DescribeLogGroupsError, HttpResponse> = SdkError::timeout_error("slow");
    assert_eq!(refused(&timed_out), DestinationStatus::CheckFailed);
}

/// A HeadBucket error as the SDK makes it from a bodiless answer.
#[allow(clippy::result_large_err)] // The SDK's own result, as `send` gives it.
fn head_error(
    status: u16,
    region: Option<&str>,
) -> Result<HeadBucketOutput, SdkError<HeadBucketError, HttpResponse>> {
    let error = if status == 404 {
        HeadBucketError::NotFound(aws_sdk_s3::types::error::NotFound::builder().build())
    } else {
        HeadBucketError::generic(ErrorMetadata::builder().build())
    };
    Err(SdkError::service_error(error, response(status, region)))
}

#[test]
fn head_bucket_reads_the_status_of_a_bodiless_answer() {
    let found: Result<HeadBucketOutput, SdkError<HeadBucketError, HttpResponse>> =
        Ok(HeadBucketOutput::builder()
            .bucket_region("eu-west-1")
            .build());
    assert_eq!(
        head_bucket("eu-west-1", &found),
        Head::Done(DestinationStatus::Ok, Some("eu-west-1".to_owned()))
    );
    assert_eq!(
        head_bucket("eu-west-1", &head_error(404, None)),
        Head::Done(DestinationStatus::NotFound, None)
    );
    assert_eq!(
        head_bucket("eu-west-1", &head_error(403, Some("eu-west-1"))),
        Head::Done(
            DestinationStatus::AccessDenied,
            Some("eu-west-1".to_owned())
        )
    );
    assert_eq!(
        head_bucket("eu-west-1", &head_error(500, None)),
        Head::Done(DestinationStatus::CheckFailed, None)
    );
    // A redirect without the region cannot be followed.
    assert_eq!(
        head_bucket("eu-west-1", &head_error(301, None)),
        Head::Done(DestinationStatus::CheckFailed, None)
    );
    let unanswered = Err(SdkError::dispatch_failure(ConnectorError::io(
        "reset".into(),
    )));
    assert_eq!(
        head_bucket::<HeadBucketError>("eu-west-1", &unanswered),
        Head::Done(DestinationStatus::CheckFailed, None)
    );
}

#[test]
fn head_bucket_follows_the_region_the_answer_names() {
    for status in [301, 400, 403] {
        assert_eq!(
            head_bucket("eu-west-1", &head_error(status, Some("ap-southeast-2"))),
            Head::Elsewhere("ap-southeast-2".to_owned()),
            "{status}"
        );
    }
}
