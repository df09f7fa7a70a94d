//! The labels, as attempts and operations meet them: the same either way.

use super::*;
use aws_sdk_cognitoidentityprovider::operation::get_log_delivery_configuration::GetLogDeliveryConfigurationError as GetError;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;

fn answer() -> HttpResponse {
    HttpResponse::new(200.try_into().expect("status"), SdkBody::empty())
}

fn io(kind: std::io::ErrorKind) -> BoxError {
    Box::new(std::io::Error::new(kind, "connection reset by peer"))
}

/// The same failure seen as the attempt that failed and as the operation's final
/// error: the label is the same both ways.
fn both(
    attempt: OrchestratorError<ErasedError>,
    answered: bool,
    operation: SdkError<GetError, HttpResponse>,
) -> (&'static str, &'static str) {
    (
        attempt_label(&attempt, answered.then(answer).as_ref()),
        operation_label(&operation),
    )
}

#[test]
fn attempts_and_operations_get_the_same_label() {
    // An error the HTTP client does not recognise, like one the SDK raised before sending
    // (it makes those dispatch failures of no kind too): neither says "connection".
    let unrecognized = || ConnectorError::other("an unrecognized client error".into(), None);
    // A reset before the answer: hyper's "connection closed before message
    // completed", which the HTTP client reports as a transient `other`.
    let closed = || {
        ConnectorError::other(
            "connection closed before message completed".into(),
            Some(ErrorKind::TransientError),
        )
    };
    let reset = || ConnectorError::io(io(std::io::ErrorKind::ConnectionReset));
    let cases = [
        (
            both(
                OrchestratorError::connector(closed()),
                false,
                SdkError::dispatch_failure(closed()),
            ),
            label::CONNECTION,
        ),
        (
            both(
                OrchestratorError::connector(reset()),
                false,
                SdkError::dispatch_failure(reset()),
            ),
            label::CONNECTION,
        ),
        (
            both(
                OrchestratorError::connector(unrecognized()),
                false,
                SdkError::dispatch_failure(unrecognized()),
            ),
            label::OTHER,
        ),
        // A reset after part of the body.
        (
            both(
                OrchestratorError::response(io(std::io::ErrorKind::ConnectionReset)),
                true,
                SdkError::response_error(io(std::io::ErrorKind::ConnectionReset), answer()),
            ),
            label::CONNECTION,
        ),
        // A body that is all there and not what the operation promises.
        (
            both(
                OrchestratorError::response("the answer has no UserPools".into()),
                true,
                SdkError::response_error("the answer has no UserPools", answer()),
            ),
            label::MALFORMED,
        ),
        (
            both(
                OrchestratorError::other("unexpected end of JSON"),
                true,
                SdkError::response_error("unexpected end of JSON", answer()),
            ),
            label::MALFORMED,
        ),
        // No credentials: an error before sending, which the SDK reports as a
        // dispatch failure.
        (
            both(
                OrchestratorError::other(
                    aws_credential_types::provider::error::CredentialsError::not_loaded("no keys"),
                ),
                false,
                SdkError::dispatch_failure(ConnectorError::other(
                    Box::new(
                        aws_credential_types::provider::error::CredentialsError::not_loaded(
                            "no keys",
                        ),
                    ),
                    None,
                )),
            ),
            label::CREDENTIALS,
        ),
        (
            both(
                OrchestratorError::connector(ConnectorError::timeout("slow".into())),
                false,
                SdkError::dispatch_failure(ConnectorError::timeout("slow".into())),
            ),
            label::TIMEOUT,
        ),
        (
            both(
                OrchestratorError::timeout("attempt timeout".into()),
                false,
                SdkError::timeout_error("operation timeout"),
            ),
            label::TIMEOUT,
        ),
    ];
    for (i, ((attempt, operation), want)) in cases.into_iter().enumerate() {
        assert_eq!((attempt, operation), (want, want), "case {i}");
    }
}

#[test]
fn service_errors_are_labelled_by_their_code_either_way() {
    let throttled = || {
        GetError::generic(
            ErrorMetadata::builder()
                .code("TooManyRequestsException")
                .message("Rate exceeded")
                .build(),
        )
    };
    let (attempt, operation) = both(
        OrchestratorError::operation(ErasedError::erase(throttled())),
        true,
        SdkError::service_error(throttled(), answer()),
    );
    assert_eq!(
        (attempt, operation),
        ("TooManyRequestsException", "TooManyRequestsException")
    );
    let failure = Failure::of(
        "GetLogDeliveryConfiguration",
        &SdkError::service_error(throttled(), answer()),
    );
    assert_eq!(failure.message, "Rate exceeded");
}

#[test]
fn messages_are_one_short_line() {
    let long = format!("first line\nsecond {}", "x".repeat(500));
    let failure = Failure::of(
        "ListUserPools",
        &SdkError::<GetError, _>::response_error(long, answer()),
    );
    assert!(!failure.message.contains('\n'), "{}", failure.message);
    assert!(failure.message.chars().count() <= MESSAGE_MAX + 1);
    assert!(failure.message.starts_with("first line second"));
}

#[test]
fn every_label_is_in_the_vocabulary() {
    for code in LABELS {
        assert!(LABELS.contains(&code_label(code)) || code_label(code) == label::OTHER);
    }
    assert!(LABELS.contains(&code_label("AccessDenied")));
}

/// The standard chain finding nothing anywhere is told in one fixed line naming where it
/// looked; any other credentials failure keeps its own message.
#[test]
fn no_credentials_anywhere_get_the_fixed_message() {
    use aws_credential_types::provider::error::CredentialsError;
    let failed = |e: CredentialsError| -> SdkError<GetError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::other(Box::new(e), None))
    };
    let nothing = Failure::of(
        "GetCallerIdentity",
        &failed(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        )),
    );
    assert_eq!(nothing.label, label::CREDENTIALS);
    assert_eq!(nothing.message, NO_CREDENTIALS);
    let refused = Failure::of(
        "GetCallerIdentity",
        &failed(CredentialsError::provider_error("the role refuses")),
    );
    assert_eq!(refused.label, label::CREDENTIALS);
    assert_eq!(refused.message, "the role refuses");
}

#[test]
fn a_refused_head_bucket_is_labelled_by_its_http_status() {
    use aws_sdk_s3::operation::head_bucket::HeadBucketError;
    let refused = |status: u16, error: ErasedError| {
        let response = HttpResponse::new(status.try_into().expect("status"), SdkBody::empty());
        attempt_label(&OrchestratorError::operation(error), Some(&response))
    };
    let bodiless =
        || ErasedError::erase(HeadBucketError::generic(ErrorMetadata::builder().build()));
    assert_eq!(refused(403, bodiless()), "AccessDeniedException");
    assert_eq!(refused(301, bodiless()), "PermanentRedirect");
    assert_eq!(refused(503, bodiless()), "ThrottlingException");
    assert_eq!(refused(400, bodiless()), label::OTHER);
    // The SDK names a 404 itself.
    let missing = ErasedError::erase(HeadBucketError::NotFound(
        aws_sdk_s3::types::error::NotFound::builder().build(),
    ));
    assert_eq!(refused(404, missing), NOT_FOUND);
    // Any other operation's answer without a code is still unreadable.
    let other = ErasedError::erase(GetError::generic(ErrorMetadata::builder().build()));
    assert_eq!(refused(403, other), label::MALFORMED);
}

#[test]
fn destination_check_errors_are_labelled_by_their_codes() {
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsError;
    use aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamError;
    let answered = answer();
    let label_of =
        |error: ErasedError| attempt_label(&OrchestratorError::operation(error), Some(&answered));
    let logs = |code: &str| {
        ErasedError::erase(DescribeLogGroupsError::generic(
            ErrorMetadata::builder().code(code).build(),
        ))
    };
    assert_eq!(
        label_of(logs("AccessDeniedException")),
        "AccessDeniedException"
    );
    assert_eq!(
        label_of(logs("ServiceUnavailableException")),
        "ServiceUnavailableException"
    );
    let firehose = ErasedError::erase(DescribeDeliveryStreamError::generic(
        ErrorMetadata::builder()
            .code("ResourceNotFoundException")
            .build(),
    ));
    assert_eq!(label_of(firehose), NOT_FOUND);
    for code in ["NoSuchBucket", "NotFound", "SlowDown", "PermanentRedirect"] {
        assert!(LABELS.contains(&code_label(code)), "{code}");
    }
}
