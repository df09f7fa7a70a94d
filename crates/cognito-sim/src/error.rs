//! The errors the simulator answers with: Cognito's and Organizations' exception codes,
//! the HTTP status AWS sends with each, and AWS's "N validation errors detected" message
//! format.

use std::fmt;
use std::str::FromStr;

use http::StatusCode;

/// An exception code the simulator can answer with.
///
/// Those in [`ErrorCode::INJECTABLE`] are the ones a fault may inject; the rest come only
/// from the simulator's own checks of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// A parameter breaks the API model or a rule of the operation.
    InvalidParameterException,
    /// Cognito failed on its side; the only code answered with status 500.
    InternalErrorException,
    /// Over the account's request quota; the rate limit answers with it.
    TooManyRequestsException,
    /// The caller may not perform the operation.
    NotAuthorizedException,
    /// The user pool does not exist.
    ResourceNotFoundException,
    /// IAM denies the caller the action.
    AccessDeniedException,
    /// The access key is not one AWS knows.
    UnrecognizedClientException,
    /// The session credentials have expired, as `AssumeRole` keys do.
    ExpiredTokenException,
    /// Throttled before the request reached the service.
    ThrottlingException,
    /// The `X-Amz-Target` or `Action` names no operation the simulator knows.
    UnknownOperationException,
    /// The request carries no `Authorization` header.
    MissingAuthenticationTokenException,
    /// The `Authorization` header has no readable credential scope.
    IncompleteSignatureException,
    /// The body is not JSON, or a member has the wrong JSON type.
    SerializationException,
    /// Organizations: the caller's account is not in an organization.
    AWSOrganizationsNotInUseException,
    /// Organizations: no root or OU has the `ParentId` given.
    ParentNotFoundException,
    /// Organizations: a parameter is invalid; the answer names the `Reason`.
    InvalidInputException,
    /// Organizations failed on its side; answered with status 500.
    ServiceException,
    /// Cognito: the pool's feature plan does not have the feature (threat protection or
    /// `userAuthEvents` logs without `PLUS`).
    FeatureUnavailableInTierException,
    /// CloudWatch Logs: a log group of that name exists already.
    ResourceAlreadyExistsException,
    /// Firehose: a delivery stream of that name exists already.
    ResourceInUseException,
    /// Firehose: a parameter is invalid.
    InvalidArgumentException,
}

impl ErrorCode {
    /// The codes a fault rule may inject.
    pub const INJECTABLE: [ErrorCode; 13] = [
        ErrorCode::InvalidParameterException,
        ErrorCode::InternalErrorException,
        ErrorCode::TooManyRequestsException,
        ErrorCode::NotAuthorizedException,
        ErrorCode::ResourceNotFoundException,
        ErrorCode::AccessDeniedException,
        ErrorCode::UnrecognizedClientException,
        ErrorCode::ExpiredTokenException,
        ErrorCode::ThrottlingException,
        ErrorCode::AWSOrganizationsNotInUseException,
        ErrorCode::ParentNotFoundException,
        ErrorCode::InvalidInputException,
        ErrorCode::ServiceException,
    ];

    const ALL: [ErrorCode; 21] = [
        ErrorCode::InvalidParameterException,
        ErrorCode::InternalErrorException,
        ErrorCode::TooManyRequestsException,
        ErrorCode::NotAuthorizedException,
        ErrorCode::ResourceNotFoundException,
        ErrorCode::AccessDeniedException,
        ErrorCode::UnrecognizedClientException,
        ErrorCode::ExpiredTokenException,
        ErrorCode::ThrottlingException,
        ErrorCode::UnknownOperationException,
        ErrorCode::MissingAuthenticationTokenException,
        ErrorCode::IncompleteSignatureException,
        ErrorCode::SerializationException,
        ErrorCode::AWSOrganizationsNotInUseException,
        ErrorCode::ParentNotFoundException,
        ErrorCode::InvalidInputException,
        ErrorCode::ServiceException,
        ErrorCode::FeatureUnavailableInTierException,
        ErrorCode::ResourceAlreadyExistsException,
        ErrorCode::ResourceInUseException,
        ErrorCode::InvalidArgumentException,
    ];

    /// The code as it appears in `__type` and `x-amzn-ErrorType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterException => "InvalidParameterException",
            ErrorCode::InternalErrorException => "InternalErrorException",
            ErrorCode::TooManyRequestsException => "TooManyRequestsException",
            ErrorCode::NotAuthorizedException => "NotAuthorizedException",
            ErrorCode::ResourceNotFoundException => "ResourceNotFoundException",
            ErrorCode::AccessDeniedException => "AccessDeniedException",
            ErrorCode::UnrecognizedClientException => "UnrecognizedClientException",
            ErrorCode::ExpiredTokenException => "ExpiredTokenException",
            ErrorCode::ThrottlingException => "ThrottlingException",
            ErrorCode::UnknownOperationException => "UnknownOperationException",
            ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            ErrorCode::IncompleteSignatureException => "IncompleteSignatureException",
            ErrorCode::SerializationException => "SerializationException",
            ErrorCode::AWSOrganizationsNotInUseException => "AWSOrganizationsNotInUseException",
            ErrorCode::ParentNotFoundException => "ParentNotFoundException",
            ErrorCode::InvalidInputException => "InvalidInputException",
            ErrorCode::ServiceException => "ServiceException",
            ErrorCode::FeatureUnavailableInTierException => "FeatureUnavailableInTierException",
            ErrorCode::ResourceAlreadyExistsException => "ResourceAlreadyExistsException",
            ErrorCode::ResourceInUseException => "ResourceInUseException",
            ErrorCode::InvalidArgumentException => "InvalidArgumentException",
        }
    }

    /// The status the service sends with this code: every client error is a 400.
    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::InternalErrorException | ErrorCode::ServiceException => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether a fault rule may inject this code.
    pub(crate) fn is_injectable(self) -> bool {
        Self::INJECTABLE.contains(&self)
    }

    /// The message AWS typically sends with this code, used when a fault gives none.
    pub(crate) fn default_message(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterException => "Invalid parameter",
            ErrorCode::InternalErrorException => "Internal server error",
            ErrorCode::TooManyRequestsException => "Too many requests",
            ErrorCode::NotAuthorizedException => "Not authorized",
            ErrorCode::ResourceNotFoundException => "User pool not found",
            ErrorCode::AccessDeniedException => "User is not authorized to perform this action",
            ErrorCode::UnrecognizedClientException => {
                "The security token included in the request is invalid."
            }
            ErrorCode::ExpiredTokenException => {
                "The security token included in the request is expired"
            }
            ErrorCode::ThrottlingException => "Rate exceeded",
            ErrorCode::UnknownOperationException => "Unknown operation",
            ErrorCode::MissingAuthenticationTokenException => "Missing Authentication Token",
            ErrorCode::IncompleteSignatureException => "Incomplete signature",
            ErrorCode::SerializationException => "Malformed request body",
            ErrorCode::AWSOrganizationsNotInUseException => {
                "Your account is not a member of an organization."
            }
            ErrorCode::ParentNotFoundException => {
                "We can't find a root or OU with the ParentId that you specified."
            }
            ErrorCode::InvalidInputException => {
                "You provided a value that does not match the required pattern."
            }
            ErrorCode::ServiceException => {
                "AWS Organizations can't complete your request because of an internal service error. Try again later."
            }
            ErrorCode::FeatureUnavailableInTierException => {
                "This feature isn't available in the user pool's current feature plan."
            }
            ErrorCode::ResourceAlreadyExistsException => "The specified resource already exists.",
            ErrorCode::ResourceInUseException => "The resource is already in use.",
            ErrorCode::InvalidArgumentException => "Invalid argument",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| format!("unknown error code {s:?}"))
    }
}

/// An error answer: a code and its message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    /// Organizations' `InvalidInputException` says which rule was broken in a `Reason`
    /// member, which clients may branch on.
    pub(crate) reason: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            reason: None,
        }
    }

    /// Organizations' `InvalidInputException` with its `Reason` (`INVALID_NEXT_TOKEN`,
    /// `INPUT_REQUIRED`, `MAX_VALUE_EXCEEDED`, ...).
    pub(crate) fn invalid_input(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            reason: Some(reason),
            ..Self::new(ErrorCode::InvalidInputException, message)
        }
    }

    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidParameterException, message)
    }

    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::SerializationException, message)
    }

    pub(crate) fn pool_not_found(pool_id: &str) -> Self {
        Self::new(
            ErrorCode::ResourceNotFoundException,
            format!("User pool {pool_id} does not exist."),
        )
    }
}

/// Collects model-constraint violations so one answer names every one of them, the way
/// AWS's "2 validation errors detected: ...; ..." messages do.
#[derive(Default)]
pub(crate) struct Violations(Vec<String>);

impl Violations {
    pub(crate) fn null(&mut self, path: &str) {
        self.0.push(format!(
            "Value null at '{path}' failed to satisfy constraint: Member must not be null"
        ));
    }

    pub(crate) fn constraint(&mut self, path: &str, value: impl fmt::Display, constraint: &str) {
        self.0.push(format!(
            "Value '{value}' at '{path}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    pub(crate) fn into_result(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(ApiError::invalid_parameter(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_statuses_match_aws() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
        assert_eq!(ErrorCode::InternalErrorException.http_status(), 500);
        assert_eq!(ErrorCode::ThrottlingException.http_status(), 400);
        assert!(!ErrorCode::UnknownOperationException.is_injectable());
        assert!("Nope".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn violations_are_counted_and_joined() {
        let mut v = Violations::default();
        assert!(std::mem::take(&mut v).into_result().is_ok());
        v.null("maxResults");
        v.constraint("logLevel", "DEBUG", "satisfy enum value set: [ERROR, INFO]");
        let err = v.into_result().expect_err("two violations");
        assert_eq!(err.code, ErrorCode::InvalidParameterException);
        assert!(
            err.message
                .starts_with("2 validation errors detected: Value null")
        );
        assert!(err.message.contains("; Value 'DEBUG' at 'logLevel'"));
    }
}
