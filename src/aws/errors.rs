//! The error vocabulary: every failure of an AWS call, attempt or operation, mapped to
//! one of a fixed set of labels (the documented exception names and a few words), so
//! the metric label and the log field always come from the same classification and a
//! label never carries free text.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::interceptors::context::Error as ErasedError;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::result::SdkError;

/// The label of a missing pool (or of a missing anything).
pub(crate) const NOT_FOUND: &str = "ResourceNotFoundException";

/// A failed operation, after the SDK's retries: which one, and its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {label}")]
pub(crate) struct Failure {
    pub(crate) operation: &'static str,
    pub(crate) label: &'static str,
}

impl Failure {
    /// Classifies `error`, the final error of `operation`.
    pub(crate) fn of<E, R>(operation: &'static str, error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        Self {
            operation,
            label: sdk_error_label(error),
        }
    }

    /// Logs the failure once, as a warning with the operation, its label, the region,
    /// the pool when there is one, and the SDK's whole error chain; returns it.
    pub(crate) fn warn<E, R>(
        self,
        error: &SdkError<E, R>,
        region: &str,
        pool: Option<&str>,
        message: &str,
    ) -> Self
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        tracing::warn!(
            operation = self.operation,
            error_code = self.label,
            region,
            pool,
            error = %aws_smithy_types::error::display::DisplayErrorContext(error),
            "{message}"
        );
        self
    }
}

/// The error labels besides AWS error codes.
pub(crate) mod label {
    pub(crate) const TIMEOUT: &str = "timeout";
    pub(crate) const CONNECTION: &str = "connection";
    pub(crate) const CREDENTIALS: &str = "credentials";
    pub(crate) const MALFORMED: &str = "malformed_response";
    pub(crate) const OTHER: &str = "other";
}

/// Maps an AWS error code to its label: the documented Cognito exceptions and the common
/// AWS-wide ones (STS spells some without the `Exception` suffix), else `other`.
pub(crate) fn code_label(code: &str) -> &'static str {
    match code {
        "InvalidParameterException" => "InvalidParameterException",
        "InternalErrorException" => "InternalErrorException",
        "TooManyRequestsException" => "TooManyRequestsException",
        "NotAuthorizedException" => "NotAuthorizedException",
        "ResourceNotFoundException" => "ResourceNotFoundException",
        "AccessDeniedException" | "AccessDenied" => "AccessDeniedException",
        "UnrecognizedClientException" | "InvalidClientTokenId" => "UnrecognizedClientException",
        "ExpiredTokenException" | "ExpiredToken" => "ExpiredTokenException",
        "ThrottlingException" | "Throttling" => "ThrottlingException",
        _ => label::OTHER,
    }
}

/// Whether an error label says the caller went too fast.
pub(crate) fn is_throttling(label: &str) -> bool {
    matches!(label, "TooManyRequestsException" | "ThrottlingException")
}

/// The label of a failed attempt; `answered` when a response arrived.
pub(super) fn classify(error: &OrchestratorError<ErasedError>, answered: bool) -> &'static str {
    if error.is_timeout_error() {
        return label::TIMEOUT;
    }
    if let Some(connector) = error.as_connector_error() {
        return if connector.is_timeout() {
            label::TIMEOUT
        } else {
            label::CONNECTION
        };
    }
    if let Some(op) = error.as_operation_error() {
        return match erased_code(op) {
            Some(code) => code_label(code),
            // No error code: the body was not the AWS error shape (an HTML page from a
            // proxy, truncated JSON).
            None => label::MALFORMED,
        };
    }
    if error.is_response_error() {
        // The body could not be read: the connection broke mid-answer.
        if has_source::<std::io::Error>(error) {
            return label::CONNECTION;
        }
        return label::MALFORMED;
    }
    if has_source::<aws_credential_types::provider::error::CredentialsError>(error) {
        return label::CREDENTIALS;
    }
    if answered {
        // An answer arrived and could not be turned into the operation's output or
        // error: truncated JSON, a missing required member.
        return label::MALFORMED;
    }
    label::OTHER
}

fn has_source<T: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(e) = source {
        if e.is::<T>() {
            return true;
        }
        source = e.source();
    }
    false
}

fn erased_code(error: &ErasedError) -> Option<&str> {
    use aws_sdk_cognitoidentityprovider::operation as cognito;
    use aws_sdk_sts::operation as sts;
    macro_rules! code_of {
        ($($ty:ty),*) => {
            $(if let Some(e) = error.downcast_ref::<$ty>() { return e.code(); })*
        };
    }
    code_of!(
        cognito::list_user_pools::ListUserPoolsError,
        cognito::describe_user_pool::DescribeUserPoolError,
        cognito::get_log_delivery_configuration::GetLogDeliveryConfigurationError,
        sts::get_caller_identity::GetCallerIdentityError,
        sts::assume_role::AssumeRoleError
    );
    None
}

/// The label of a final operation error.
fn sdk_error_label<E, R>(error: &SdkError<E, R>) -> &'static str
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::TimeoutError(_) => label::TIMEOUT,
        SdkError::DispatchFailure(f) if f.is_timeout() => label::TIMEOUT,
        SdkError::DispatchFailure(f) if f.is_io() => label::CONNECTION,
        SdkError::ServiceError(e) => e.err().code().map_or(label::MALFORMED, code_label),
        SdkError::ResponseError(_) => label::MALFORMED,
        other
            if std::error::Error::source(other).is_some_and(
                has_source::<aws_credential_types::provider::error::CredentialsError>,
            ) =>
        {
            label::CREDENTIALS
        }
        _ => label::OTHER,
    }
}
