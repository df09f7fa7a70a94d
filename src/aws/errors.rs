//! The error vocabulary: every failure of an AWS call, attempt or operation, mapped to
//! one of a fixed set of labels (the documented exception names and a few words) by one
//! function, [`classify`], so the metric's `exception` label and the log's `error_code`
//! cannot disagree and a label never carries free text. [`Failure`] is what the pollers
//! keep of a failed operation: its label and the few facts worth a log line.

use std::error::Error as StdError;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::RequestId;
use aws_smithy_runtime_api::client::interceptors::context::Error as ErasedError;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::retry::ErrorKind;

/// The label of a missing pool (or of a missing anything).
pub(crate) const NOT_FOUND: &str = "ResourceNotFoundException";

/// The longest message a warning carries; AWS messages are a sentence, and anything
/// longer is a dump that belongs at debug level.
const MESSAGE_MAX: usize = 200;

/// The message when the standard chain found no credentials anywhere. The SDK's own
/// message lists each provider's reason (and, off EC2, an instance-metadata time-out) at
/// length; what a person needs is where they may go and how to give some.
pub(crate) const NO_CREDENTIALS: &str = "no AWS credentials found: tried environment \
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the shared config and credentials \
files (AWS_PROFILE), a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE), ECS container \
credentials and EC2 instance metadata; set one of them (against cognito-sim any pair \
will do: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)";

/// A failed operation, after the SDK's retries, or an answer the exporter cannot use:
/// which operation, its label, and what a warning says about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed: {label}")]
pub(crate) struct Failure {
    pub(crate) operation: &'static str,
    pub(crate) label: &'static str,
    /// The service's message, else the innermost cause: one short line.
    pub(crate) message: String,
    /// The request ID of the answer, when one came.
    pub(crate) request_id: Option<String>,
}

impl Failure {
    /// Classifies `error`, the final error of `operation`, and logs its whole chain at
    /// debug level (the warning, if any, is the caller's, and short).
    pub(crate) fn of<E>(operation: &'static str, error: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
    {
        let label = operation_label(error);
        let service_message = match error {
            SdkError::ServiceError(e) => e.err().message().map(str::to_owned),
            _ => None,
        };
        let message = if label == label::CREDENTIALS && no_credentials(error) {
            NO_CREDENTIALS.to_owned()
        } else {
            one_line(&service_message.unwrap_or_else(|| innermost(error)))
        };
        let failure = Self {
            operation,
            label,
            message,
            request_id: error.request_id().map(str::to_owned),
        };
        tracing::debug!(
            operation,
            error_code = label,
            request_id = failure.request_id.as_deref(),
            error = %DisplayErrorContext(error),
            "AWS operation failed"
        );
        failure
    }

    /// An answer the SDK accepted and the exporter cannot use whole: `problem` says why.
    pub(crate) fn malformed(
        operation: &'static str,
        problem: &str,
        request_id: Option<&str>,
    ) -> Self {
        Self {
            operation,
            label: label::MALFORMED,
            message: one_line(problem),
            request_id: request_id.map(str::to_owned),
        }
    }

    /// A failure known only by its label, for pools a failed cycle could not read.
    pub(crate) fn bare(operation: &'static str, label: &'static str) -> Self {
        Self {
            operation,
            label,
            message: String::new(),
            request_id: None,
        }
    }

    /// Logs the failure as one short warning: the operation, its label, the message,
    /// the request ID, the region and the pool when there is one.
    pub(crate) fn warn(&self, region: &str, pool: Option<&str>, what: &str) {
        tracing::warn!(
            operation = self.operation,
            error_code = self.label,
            error_message = %self.message,
            request_id = self.request_id.as_deref(),
            region,
            pool,
            "{what}"
        );
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

/// Every label [`classify`] can give: the exception label's whole vocabulary.
pub(crate) const LABELS: [&str; 20] = [
    "InvalidParameterException",
    "InternalErrorException",
    "TooManyRequestsException",
    "NotAuthorizedException",
    "ResourceNotFoundException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "ExpiredTokenException",
    "ThrottlingException",
    "AWSOrganizationsNotInUseException",
    "ParentNotFoundException",
    "InvalidInputException",
    "ServiceException",
    "ServiceUnavailableException",
    "PermanentRedirect",
    label::TIMEOUT,
    label::CONNECTION,
    label::CREDENTIALS,
    label::MALFORMED,
    label::OTHER,
];

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
        // Organizations, for discovery.
        "AWSOrganizationsNotInUseException" => "AWSOrganizationsNotInUseException",
        "ParentNotFoundException" => "ParentNotFoundException",
        "InvalidInputException" => "InvalidInputException",
        "ServiceException" => "ServiceException",
        // The destination checks: CloudWatch Logs, S3 (its codes, and those
        // `bodiless_code` gives a HeadBucket answer), Firehose.
        "ServiceUnavailableException" => "ServiceUnavailableException",
        "NotFound" | "NoSuchBucket" => "ResourceNotFoundException",
        "PermanentRedirect" => "PermanentRedirect",
        "SlowDown" => "ThrottlingException",
        _ => label::OTHER,
    }
}

/// Whether an error label says the caller went too fast.
pub(crate) fn is_throttling(label: &str) -> bool {
    matches!(label, "TooManyRequestsException" | "ThrottlingException")
}

/// What became of a call, as an attempt's error and an operation's final error both tell
/// it: the one input of [`classify`].
#[derive(Debug)]
enum Fate<'a> {
    /// A time limit ran out.
    TimedOut,
    /// No answer came: the request was not sent, or the connection failed first. With
    /// the HTTP client's error when it came from there.
    Unanswered {
        connector: Option<&'a ConnectorError>,
        error: &'a (dyn StdError + 'static),
    },
    /// The service answered with an error; its code, if the answer had one.
    Refused(Option<&'a str>),
    /// An answer came and could not be read whole or used.
    Unreadable(&'a (dyn StdError + 'static)),
}

/// The label of a failure: the only place one is decided.
fn classify(fate: Fate<'_>) -> &'static str {
    match fate {
        Fate::TimedOut => label::TIMEOUT,
        Fate::Refused(Some(code)) => code_label(code),
        // No error code: the body was not the AWS error shape (an HTML page from a
        // proxy, truncated JSON).
        Fate::Refused(None) => label::MALFORMED,
        Fate::Unanswered { connector, error } => {
            if connector.is_some_and(ConnectorError::is_timeout) {
                label::TIMEOUT
            } else if has_source::<aws_credential_types::provider::error::CredentialsError>(error) {
                label::CREDENTIALS
            } else if connector.is_some_and(|c| {
                // Refused, reset, or closed before the answer (hyper's "incomplete
                // message", which the HTTP client marks transient).
                c.is_io() || c.as_other() == Some(ErrorKind::TransientError)
            }) {
                label::CONNECTION
            } else {
                label::OTHER
            }
        }
        // The body could not be read because the connection broke mid-answer; else it
        // was there and not what the operation promises.
        Fate::Unreadable(error) if has_source::<std::io::Error>(error) => label::CONNECTION,
        Fate::Unreadable(_) => label::MALFORMED,
    }
}

/// The label of a failed attempt; `response` when one arrived.
pub(super) fn attempt_label(
    error: &OrchestratorError<ErasedError>,
    response: Option<&HttpResponse>,
) -> &'static str {
    let answered = response.is_some();
    let fate = if error.is_timeout_error() {
        Fate::TimedOut
    } else if let Some(connector) = error.as_connector_error() {
        Fate::Unanswered {
            connector: Some(connector),
            error,
        }
    } else if let Some(op) = error.as_operation_error() {
        Fate::Refused(erased_code(op).or_else(|| bodiless_code(op, response?)))
    } else if error.is_response_error() || answered {
        // An answer arrived and could not be turned into the operation's output or
        // error: truncated JSON, a missing required member.
        Fate::Unreadable(error)
    } else {
        // Before any answer and not the HTTP client's: the SDK turns these into a
        // dispatch failure without a connector error kind, as `Unanswered` reads it.
        Fate::Unanswered {
            connector: None,
            error,
        }
    };
    classify(fate)
}

/// The label of an operation's final error.
pub(crate) fn operation_label<E, R>(error: &SdkError<E, R>) -> &'static str
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    let fate = match error {
        SdkError::TimeoutError(_) => Fate::TimedOut,
        SdkError::DispatchFailure(f) => Fate::Unanswered {
            connector: f.as_connector_error(),
            error,
        },
        SdkError::ServiceError(e) => Fate::Refused(e.err().code()),
        SdkError::ResponseError(_) => Fate::Unreadable(error),
        _ => Fate::Unanswered {
            connector: None,
            error,
        },
    };
    classify(fate)
}

fn has_source<T: StdError + 'static>(error: &(dyn StdError + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(e) = source {
        if e.is::<T>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Whether the standard chain found no credentials anywhere (an assumed role's source
/// included): its answer when no provider had any, or the failure of instance metadata,
/// the last provider it asks, which it reaches only when all the others had none (a
/// machine that is no EC2 instance may still answer there, refusing).
pub(super) fn no_credentials(error: &(dyn StdError + 'static)) -> bool {
    use aws_config::imds::client::error::ImdsError;
    use aws_credential_types::provider::error::CredentialsError;
    let mut source = Some(error);
    while let Some(e) = source {
        let not_loaded = matches!(
            e.downcast_ref::<CredentialsError>(),
            Some(CredentialsError::CredentialsNotLoaded(_))
        );
        if not_loaded || e.is::<ImdsError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The last error of the chain: usually the one that says what happened in a few words.
fn innermost(error: &(dyn StdError + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `text` on one line, at most [`MESSAGE_MAX`] characters.
fn one_line(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MESSAGE_MAX)
        .collect();
    if text.chars().nth(MESSAGE_MAX).is_some() {
        out.push('…');
    }
    out
}

/// The code of a refused `HeadBucket`: the answer to a `HEAD` has no body to carry one
/// (the SDK itself names only a 404), so its HTTP status stands for it.
fn bodiless_code(error: &ErasedError, response: &HttpResponse) -> Option<&'static str> {
    use aws_sdk_s3::operation::head_bucket::HeadBucketError;
    error.downcast_ref::<HeadBucketError>()?;
    match response.status().as_u16() {
        301 | 307 => Some("PermanentRedirect"),
        400 => Some("BadRequest"),
        403 => Some("AccessDenied"),
        404 => Some("NotFound"),
        503 => Some("SlowDown"),
        _ => None,
    }
}

fn erased_code(error: &ErasedError) -> Option<&str> {
    use aws_sdk_cloudwatchlogs::operation as logs;
    use aws_sdk_cognitoidentityprovider::operation as cognito;
    use aws_sdk_firehose::operation as firehose;
    use aws_sdk_organizations::operation as org;
    use aws_sdk_s3::operation as s3;
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
        sts::assume_role::AssumeRoleError,
        org::list_accounts::ListAccountsError,
        org::list_accounts_for_parent::ListAccountsForParentError,
        org::list_organizational_units_for_parent::ListOrganizationalUnitsForParentError,
        logs::describe_log_groups::DescribeLogGroupsError,
        s3::head_bucket::HeadBucketError,
        firehose::describe_delivery_stream::DescribeDeliveryStreamError
    );
    None
}

#[cfg(test)]
mod tests;
