//! Destination checks (`checks.destinations`): whether each log destination a pool's
//! configuration names can receive logs. A target's [`DestinationChecks`] calls
//! CloudWatch Logs (`DescribeLogGroups`), S3 (`HeadBucket`) and Firehose
//! (`DescribeDeliveryStream`) with the target's credentials, through its limiter,
//! every attempt counted under its identity; each through a client for the region of
//! the destination's ARN (a bucket's: the region S3 names for it, asked first in the
//! target's region). The clients are [`CheckClients`], which the targets of a region
//! share as they share the Cognito client: each call sets the target's credentials,
//! paced HTTP client, time limits and attempt counter on it. With an endpoint (`endpoint_url`, `AWS_ENDPOINT_URL`) every
//! service goes there, and S3 is addressed path-style. Results are kept by ARN for
//! `checks.interval` (`cache`); what an answer means is `classify`'s, how an ARN reads
//! `arn`'s.

mod arn;
mod cache;
mod classify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_config::Region;
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::identity::SharedIdentityCache;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::attempts::AttemptRecorder;
use super::errors::Failure;
use super::limiter::Admitted;
use super::members::RequiredMembers;
use super::timeouts;
use crate::config::PollConfig;
use crate::model::{Destination, DestinationStatus};
use arn::Resource;
use cache::Cache;
use classify::Head;

/// Pages of `DescribeLogGroups` one check reads: asked by the group's name as prefix,
/// the group itself sorts first, so a second page is already rare.
const MAX_LOG_GROUP_PAGES: usize = 5;

/// The destination checks of one target, made by `Connection::destinations`. Kept
/// for the life of the target (its results are kept with it); shared by the pools of a
/// cycle, which may ask concurrently.
#[derive(Debug)]
pub(crate) struct DestinationChecks {
    clients: Arc<CheckClients>,
    own: Own,
    cache: Cache,
}

impl DestinationChecks {
    /// Checks through `clients` (the region's) with what is the target's own in
    /// `target` (its SDK configuration: credentials, their cache, the paced HTTP client);
    /// `recorder` counts the attempts under the target's identity; `home_region` is the
    /// target's, where a bucket is first looked for.
    pub(super) fn new(
        clients: Arc<CheckClients>,
        target: &SdkConfig,
        recorder: AttemptRecorder,
        home_region: &str,
        poll: &PollConfig,
        interval: Duration,
    ) -> Self {
        Self {
            clients,
            own: Own {
                credentials: target.credentials_provider(),
                http: target.http_client(),
                identity_cache: target.identity_cache(),
                timeouts: Mutex::new(timeouts(poll)),
                recorder,
                home_region: home_region.to_owned(),
            },
            cache: Cache::new(interval),
        }
    }

    /// New settings (a reload): results are kept for `interval` from now on, and calls
    /// from now on have the time limits of `poll`. Results already had stay.
    pub(crate) fn reconfigure(&self, poll: &PollConfig, interval: Duration) {
        self.cache.set_interval(interval);
        *self.own.timeouts() = timeouts(poll);
    }

    /// The status of `destination`, configured on a pool of account `pool_account`:
    /// the result kept for its ARN, or a new check.
    pub(crate) async fn status(
        &self,
        pool_account: &str,
        destination: &Destination,
    ) -> DestinationStatus {
        let resource = match arn::parse(destination.kind, &destination.arn) {
            Ok(resource) => resource,
            Err(e) => {
                tracing::debug!(arn = %destination.arn, error = %e, "destination not checked");
                return DestinationStatus::CheckFailed;
            }
        };
        if resource.account().is_some_and(|a| a != pool_account) {
            return DestinationStatus::OtherAccount;
        }
        self.cache
            .status(&destination.arn, |bucket_region| {
                self.check(resource, &destination.arn, bucket_region)
            })
            .await
    }

    /// One check of `resource`, and the bucket region it learned.
    async fn check(
        &self,
        resource: Resource<'_>,
        arn: &str,
        bucket_region: Option<String>,
    ) -> (DestinationStatus, Option<String>) {
        match resource {
            Resource::LogGroup { region, name, .. } => {
                (self.log_group(region, name, arn).await, None)
            }
            Resource::Stream { region, name, .. } => (self.stream(region, name, arn).await, None),
            Resource::Bucket { name } => {
                let region = bucket_region.unwrap_or_else(|| self.own.home_region.clone());
                self.bucket(region, name, arn).await
            }
        }
    }

    async fn log_group(&self, region: &str, name: &str, arn: &str) -> DestinationStatus {
        let client = self.clients.logs(region);
        let mut token: Option<String> = None;
        for _ in 0..MAX_LOG_GROUP_PAGES {
            let _admitted = self.own.admit().await;
            let answer = client
                .describe_log_groups()
                .log_group_name_prefix(name)
                .set_next_token(token.take())
                .customize()
                .config_override(self.own.logs())
                .send()
                .await;
            match answer {
                Ok(page) => match classify::log_groups(name, &page) {
                    Some(status) => return status,
                    None => token = page.next_token().map(str::to_owned),
                },
                Err(e) => return refused("DescribeLogGroups", region, arn, &e),
            }
        }
        tracing::warn!(
            operation = "DescribeLogGroups",
            arn,
            region,
            "destination check failed: the log group was not on the first {MAX_LOG_GROUP_PAGES} pages"
        );
        DestinationStatus::CheckFailed
    }

    async fn stream(&self, region: &str, name: &str, arn: &str) -> DestinationStatus {
        let _admitted = self.own.admit().await;
        let answer = self
            .clients
            .firehose(region)
            .describe_delivery_stream()
            .delivery_stream_name(name)
            .customize()
            .config_override(self.own.firehose())
            .send()
            .await;
        match answer {
            Ok(answer) => classify::delivery_stream(&answer),
            Err(e) => refused("DescribeDeliveryStream", region, arn, &e),
        }
    }

    /// `HeadBucket` in `region`, and once more in the region the answer names if that
    /// is another one.
    async fn bucket(
        &self,
        mut region: String,
        name: &str,
        arn: &str,
    ) -> (DestinationStatus, Option<String>) {
        for _ in 0..2 {
            let _admitted = self.own.admit().await;
            let answer = self
                .clients
                .s3(&region)
                .head_bucket()
                .bucket(name)
                .customize()
                .config_override(self.own.s3())
                .send()
                .await;
            match classify::head_bucket(&region, &answer) {
                Head::Done(status, named) => {
                    if status == DestinationStatus::CheckFailed {
                        tracing::warn!(
                            operation = "HeadBucket",
                            http_status = answer
                                .err()
                                .and_then(|e| e.raw_response().map(|r| r.status().as_u16())),
                            arn,
                            region = %region,
                            "destination check failed"
                        );
                    }
                    // The region it was found in, when the answer did not say.
                    let found = status != DestinationStatus::NotFound;
                    return (status, named.or_else(|| found.then_some(region)));
                }
                Head::Elsewhere(there) => region = there,
            }
        }
        tracing::warn!(
            operation = "HeadBucket",
            arn,
            region = %region,
            "destination check failed: S3 named another region twice"
        );
        (DestinationStatus::CheckFailed, Some(region))
    }
}

/// The status of a refused check, with one warning when it is `check_failed` (once per
/// destination and interval, as the result is kept).
fn refused<E>(
    operation: &'static str,
    region: &str,
    arn: &str,
    error: &SdkError<E, HttpResponse>,
) -> DestinationStatus
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = classify::refused(error);
    if status == DestinationStatus::CheckFailed {
        let failure = Failure::of(operation, error);
        tracing::warn!(
            operation,
            error_code = failure.label,
            error_message = %failure.message,
            request_id = failure.request_id.as_deref(),
            region,
            arn,
            "destination check failed"
        );
    }
    status
}

/// The clients of the checks, one per service and region, made when first needed from
/// the SDK configuration of the region's targets (its endpoint, retries, the standard
/// chain), and shared by them: what is a target's own comes with each call ([`Own`]).
#[derive(Debug)]
pub(super) struct CheckClients {
    sdk: SdkConfig,
    /// A local endpoint (the simulator, LocalStack) serves every bucket on one host, not
    /// on a host named after each.
    path_style: bool,
    made: Mutex<Made>,
}

#[derive(Debug, Default)]
struct Made {
    logs: HashMap<String, aws_sdk_cloudwatchlogs::Client>,
    s3: HashMap<String, aws_sdk_s3::Client>,
    firehose: HashMap<String, aws_sdk_firehose::Client>,
}

impl CheckClients {
    pub(super) fn new(sdk: &SdkConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            path_style: sdk.endpoint_url().is_some(),
            made: Mutex::default(),
        }
    }

    fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        self.made()
            .logs
            .entry(region.to_owned())
            .or_insert_with(|| {
                aws_sdk_cloudwatchlogs::Client::from_conf(
                    aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
                        .region(Region::new(region.to_owned()))
                        .interceptor(RequiredMembers)
                        .build(),
                )
            })
            .clone()
    }

    fn firehose(&self, region: &str) -> aws_sdk_firehose::Client {
        self.made()
            .firehose
            .entry(region.to_owned())
            .or_insert_with(|| {
                aws_sdk_firehose::Client::from_conf(
                    aws_sdk_firehose::config::Builder::from(&self.sdk)
                        .region(Region::new(region.to_owned()))
                        .interceptor(RequiredMembers)
                        .build(),
                )
            })
            .clone()
    }

    /// `HeadBucket` answers have no body: no member to require.
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        self.made()
            .s3
            .entry(region.to_owned())
            .or_insert_with(|| {
                aws_sdk_s3::Client::from_conf(
                    aws_sdk_s3::config::Builder::from(&self.sdk)
                        .region(Region::new(region.to_owned()))
                        .force_path_style(self.path_style)
                        .build(),
                )
            })
            .clone()
    }

    fn made(&self) -> MutexGuard<'_, Made> {
        // Nothing panics while holding it; a poisoned map is still a valid map.
        self.made.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What each of a target's calls sets on a shared client: its credentials and their
/// cache, its paced HTTP client, its time limits, the interceptor counting its attempts.
#[derive(Debug)]
struct Own {
    credentials: Option<SharedCredentialsProvider>,
    http: Option<SharedHttpClient>,
    identity_cache: Option<SharedIdentityCache>,
    timeouts: Mutex<TimeoutConfig>,
    recorder: AttemptRecorder,
    home_region: String,
}

/// The overrides of one service's calls, the same for each: the builder types differ.
macro_rules! overrides {
    ($name:ident, $service:ident) => {
        fn $name(&self) -> $service::config::Builder {
            let mut overrides = $service::config::Builder::default();
            overrides
                .set_credentials_provider(self.credentials.clone())
                .set_http_client(self.http.clone());
            if let Some(cache) = &self.identity_cache {
                overrides.set_identity_cache(cache.clone());
            }
            overrides
                .timeout_config(self.timeouts().clone())
                .interceptor(self.recorder.clone())
        }
    };
}

impl Own {
    overrides!(logs, aws_sdk_cloudwatchlogs);
    overrides!(firehose, aws_sdk_firehose);
    overrides!(s3, aws_sdk_s3);

    fn timeouts(&self) -> MutexGuard<'_, TimeoutConfig> {
        self.timeouts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the target's turn and a place among the process's operations under way
    /// before a call is built, as the polling's own calls do
    /// ([`Limiter::admit`](super::Limiter::admit)): a thousand targets' checks queued as
    /// built operations made the heap peak at 129 MB.
    async fn admit(&self) -> Admitted<'static> {
        self.recorder.limiter.admit().await
    }
}

#[cfg(test)]
mod tests;
