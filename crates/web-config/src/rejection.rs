//! What a request refused by basic authentication is answered: 401 with the
//! `WWW-Authenticate` challenge, or 429 with `Retry-After` when the credentials could
//! not be verified in time (see gate.rs).

use http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};

/// Why a request was refused. Answer it with [`AuthRejection::status`] (401, or 429 for
/// [`AuthFailure::Busy`]) and [`AuthRejection::headers`], or let
/// [`AuthRejection::into_response`] do both. `Display` is safe to log: it never contains
/// a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure}")]
pub struct AuthRejection {
    failure: AuthFailure,
    /// `Basic realm="…"`, the realm being the server's choice (see `ServerInfo`).
    challenge: HeaderValue,
}

/// What was wrong with the credentials of a refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No `Authorization` header.
    #[error("no credentials")]
    Missing,
    /// An `Authorization` header that is not well-formed `Basic` credentials.
    #[error("malformed Authorization header (Basic credentials expected)")]
    Malformed,
    /// An unknown user, or a wrong password.
    #[error("wrong user name or password (user {user:?})")]
    WrongCredentials {
        /// The user name the client sent (not necessarily a configured one).
        user: String,
    },
    /// Credentials not verified yet, and no turn for bcrypt within a second: too many
    /// others were waiting. Nothing was judged; the answer is 429 with `Retry-After`.
    #[error("too many passwords waiting to be verified; try again later")]
    Busy,
}

/// `Retry-After` of a 429, in seconds: by then the queue in front of bcrypt has moved
/// on by about a second's worth of verifications.
const RETRY_AFTER_SECONDS: &str = "1";

impl AuthRejection {
    /// The status of credentials refused (401). [`AuthRejection::status`] says what to
    /// answer a given rejection with.
    pub const STATUS: StatusCode = StatusCode::UNAUTHORIZED;

    /// The status to answer with: [`AuthRejection::STATUS`] (401), or 429 Too Many
    /// Requests when the server was too busy to verify the credentials.
    pub fn status(&self) -> StatusCode {
        match self.failure {
            AuthFailure::Busy => StatusCode::TOO_MANY_REQUESTS,
            _ => Self::STATUS,
        }
    }

    pub(crate) fn new(failure: AuthFailure, challenge: HeaderValue) -> Self {
        Self { failure, challenge }
    }

    /// What was wrong with the credentials.
    pub fn failure(&self) -> &AuthFailure {
        &self.failure
    }

    /// The headers of the answer. A 401 carries `WWW-Authenticate: Basic
    /// realm="<realm>"`, which makes browsers and curl's `--anyauth` offer credentials;
    /// a 429 carries `Retry-After` instead (its credentials were not judged).
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        match self.failure {
            AuthFailure::Busy => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
            }
            _ => {
                headers.insert(WWW_AUTHENTICATE, self.challenge.clone());
            }
        }
        headers
    }

    /// Turns `response` (its body says what the client sees) into the answer: sets
    /// [`AuthRejection::status`] and adds [`AuthRejection::headers`].
    pub fn into_response<B>(self, mut response: http::Response<B>) -> http::Response<B> {
        *response.status_mut() = self.status();
        response.headers_mut().extend(self.headers());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_headers_carry_the_challenge_and_display_hides_passwords() {
        let rejection = AuthRejection::new(
            AuthFailure::WrongCredentials { user: "bob".into() },
            HeaderValue::from_static("Basic realm=\"my-exporter\""),
        );
        assert_eq!(AuthRejection::STATUS, StatusCode::UNAUTHORIZED);
        assert_eq!(
            rejection.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"my-exporter\""
        );
        assert_eq!(
            rejection.to_string(),
            "wrong user name or password (user \"bob\")"
        );
        assert!(matches!(
            rejection.failure(),
            AuthFailure::WrongCredentials { .. }
        ));
        let response = rejection.into_response(http::Response::new(()));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"my-exporter\""
        );
    }

    #[test]
    fn busy_is_answered_429_with_retry_after_and_no_challenge() {
        let rejection = AuthRejection::new(
            AuthFailure::Busy,
            HeaderValue::from_static("Basic realm=\"my-exporter\""),
        );
        assert_eq!(rejection.status(), StatusCode::TOO_MANY_REQUESTS);
        let headers = rejection.headers();
        assert_eq!(headers[RETRY_AFTER], "1");
        assert!(!headers.contains_key(WWW_AUTHENTICATE));
        assert_eq!(
            rejection.to_string(),
            "too many passwords waiting to be verified; try again later"
        );
        let response = rejection.into_response(http::Response::new(()));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        assert_eq!(response.headers().len(), 1);
    }
}
