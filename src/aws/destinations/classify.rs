//! What each check's answer says about its destination: the SDK's output or error, read
//! into a [`DestinationStatus`]. Pure, so each rule is tested on answers built with the
//! SDK's own builders.

use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
use aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamOutput;
use aws_sdk_firehose::types::DeliveryStreamStatus;
use aws_sdk_s3::operation::head_bucket::HeadBucketOutput;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::DestinationStatus;

/// The header in which S3 names a bucket's region, on success and on most refusals.
const BUCKET_REGION: &str = "x-amz-bucket-region";

/// A `DescribeLogGroups` page, asked with the group's name as the prefix: `None` when
/// the group is not on this page and another page follows.
pub(super) fn log_groups(name: &str, page: &DescribeLogGroupsOutput) -> Option<DestinationStatus> {
    let found = page
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name));
    match found {
        // The API reference: Cognito cannot deliver to a group encrypted with KMS.
        Some(group) if group.kms_key_id().is_some_and(|k| !k.is_empty()) => {
            Some(DestinationStatus::KmsEncrypted)
        }
        Some(_) => Some(DestinationStatus::Ok),
        None if page.next_token().is_some_and(|t| !t.is_empty()) => None,
        None => Some(DestinationStatus::NotFound),
    }
}

/// A `DescribeDeliveryStream` answer.
pub(super) fn delivery_stream(answer: &DescribeDeliveryStreamOutput) -> DestinationStatus {
    let status = answer
        .delivery_stream_description()
        .map(|d| d.delivery_stream_status());
    match status {
        Some(DeliveryStreamStatus::Active) => DestinationStatus::Ok,
        _ => DestinationStatus::NotActive,
    }
}

/// What a `HeadBucket` answer leads to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Head {
    /// The status, and the bucket's region when the answer named it.
    Done(DestinationStatus, Option<String>),
    /// The bucket is in another region than the one asked: ask there.
    Elsewhere(String),
}

/// A `HeadBucket` answer from `asked`, a region. Its errors have no body: the HTTP
/// status says what happened.
pub(super) fn head_bucket<E>(
    asked: &str,
    answer: &Result<HeadBucketOutput, SdkError<E, HttpResponse>>,
) -> Head {
    let error = match answer {
        Ok(output) => {
            return Head::Done(
                DestinationStatus::Ok,
                output.bucket_region().map(str::to_owned),
            );
        }
        Err(error) => error,
    };
    let Some(response) = error.raw_response() else {
        return Head::Done(DestinationStatus::CheckFailed, None);
    };
    let region = response
        .headers()
        .get(BUCKET_REGION)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    match (response.status().as_u16(), region) {
        // A redirect (301), a request signed for the wrong region (400), and sometimes
        // a refusal (403) name the bucket's region.
        (_, Some(region)) if region != asked => Head::Elsewhere(region),
        (404, region) => Head::Done(DestinationStatus::NotFound, region),
        (403, region) => Head::Done(DestinationStatus::AccessDenied, region),
        (_, region) => Head::Done(DestinationStatus::CheckFailed, region),
    }
}

/// A refused `DescribeLogGroups` or `DescribeDeliveryStream`: `not_found` for a missing
/// resource, `access_denied` when the check itself is refused, `check_failed` for
/// anything else (throttling, time-outs, a server error).
pub(super) fn refused<E: ProvideErrorMetadata>(
    error: &SdkError<E, HttpResponse>,
) -> DestinationStatus {
    let SdkError::ServiceError(refusal) = error else {
        return DestinationStatus::CheckFailed;
    };
    let code = refusal.err().code().unwrap_or_default();
    if code == "ResourceNotFoundException" {
        DestinationStatus::NotFound
    } else if code.starts_with("AccessDenied") || refusal.raw().status().as_u16() == 403 {
        DestinationStatus::AccessDenied
    } else {
        DestinationStatus::CheckFailed
    }
}

#[cfg(test)]
mod tests;
