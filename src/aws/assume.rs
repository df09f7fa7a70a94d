//! Credentials from `AssumeRole`, through the STS client the region's targets share
//! with the target's own pace and counters set on each call, so each attempt is paced by the target's limiter and counted like every other call
//! (`cognito_exporter_api_requests_total{operation="AssumeRole"}` and its errors). The
//! SDK's identity cache in front of it keeps the credentials until shortly before they
//! expire, so the role is assumed about once an hour, not once per call.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials};

use super::errors::{self, Failure};

/// Assumes `role_arn` with the STS client it is given.
#[derive(Debug)]
pub(super) struct AssumeRole {
    pub(super) sts: aws_sdk_sts::Client,
    /// The target's own: its paced HTTP client, the credentials it assumes the role
    /// with, the interceptor counting its attempts.
    pub(super) overrides: aws_sdk_sts::config::Builder,
    pub(super) role_arn: String,
    pub(super) external_id: Option<String>,
}

/// The session name AWS CloudTrail shows for the exporter's calls.
const SESSION_NAME: &str = "cognito-exporter";

impl AssumeRole {
    async fn assume(&self) -> provider::Result {
        let answer = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(self.external_id.clone())
            .customize()
            .config_override(self.overrides.clone())
            .send()
            .await
            .map_err(|e| {
                let failure = Failure::of("AssumeRole", &e);
                // Kept as "not loaded", so the operation that needed the role says what
                // a missing source of credentials means rather than a role's failure.
                if errors::no_credentials(&e) {
                    return CredentialsError::not_loaded(failure.message);
                }
                CredentialsError::provider_error(format!(
                    "cannot assume {}: {}: {}",
                    self.role_arn, failure.label, failure.message
                ))
            })?;
        let Some(c) = answer.credentials else {
            return Err(CredentialsError::unhandled(
                "AssumeRole answered without credentials",
            ));
        };
        let expiry = SystemTime::try_from(c.expiration).map_err(|_| {
            CredentialsError::unhandled("AssumeRole answered an expiry out of range")
        })?;
        Ok(Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            Some(expiry),
            "AssumeRole",
        ))
    }
}

impl ProvideCredentials for AssumeRole {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.assume())
    }
}
