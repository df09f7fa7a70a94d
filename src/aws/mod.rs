//! A target's connection to AWS: one SDK configuration (region, credentials and their
//! cache, an HTTP client whose every attempt passes the target's rate `limiter`), and the
//! Cognito and STS clients the targets of a region share, each call of a target setting
//! on them what is its own, with the interceptors that count every attempt under the
//! target's identity (`attempts`) and refuse answers missing what the exporter needs
//! (`members`). `errors` is the fixed vocabulary failures are labelled with.
//! `destinations` checks, with the same credentials, pace and counters, that the log
//! destinations a pool names can receive logs.

mod assume;
mod attempts;
mod destinations;
pub(crate) mod errors;
mod limiter;
mod members;
mod organizations;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use crate::config::{PollConfig, TargetConfig};
use crate::metrics::ApiMetrics;
use crate::model::TargetId;
use assume::AssumeRole;
use attempts::{AttemptRecorder, OPERATIONS};
use errors::LABELS;
use limiter::LimitedClient;
pub(crate) use limiter::Limiter;
use members::RequiredMembers;

pub(crate) use destinations::DestinationChecks;
pub(crate) use organizations::{OrgAccount, Organizations};

/// Attempts per operation, the first included. The SDK's standard mode backs off
/// exponentially with jitter and treats TooManyRequestsException as throttling.
const MAX_ATTEMPTS: u32 = 3;

/// Options that tests and `--demo` set; production leaves them default.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Credentials to use instead of the standard chain.
    pub credentials: Option<aws_credential_types::Credentials>,
}

/// What every AWS client of the process is made from: the options, one HTTP client
/// (one TLS configuration and root store, one connection pool per host) that every
/// target's calls go through, each target's through its own limiter, and the standard
/// chain (credentials, and region and endpoint where a target gives none) read once per
/// region. A copy of each per target was most of a target's memory; shared, targets in
/// one region also reuse each other's connections.
/// Connections kept open to one endpoint between calls. Every target in a region calls
/// the same endpoint, so without a bound a fleet keeps as many connections as it ever had
/// calls in flight at once: thousands at a thousand targets, tens of KiB each, held for
/// good because a target calls again before they time out. Calls past the idle ones open
/// a connection and close it after.
const IDLE_CONNECTIONS_PER_HOST: usize = 16;

#[derive(Clone, Debug)]
pub(crate) struct ClientBase {
    options: ClientOptions,
    http: SharedHttpClient,
    /// The standard chain as read for each region a target names (`None`: the chain's
    /// own region), until [`ClientBase::read_again`].
    loaded: Arc<tokio::sync::Mutex<HashMap<Option<String>, SdkConfig>>>,
    /// The clients of each region and endpoint, which its targets share.
    shared: Arc<tokio::sync::Mutex<HashMap<SharedKey, Shared>>>,
}

/// The region a target names (`None`: the chain's) and its endpoint, if it gives one.
type SharedKey = (Option<String>, Option<String>);

/// The Cognito and STS clients the targets of one region and endpoint share: a client
/// (its runtime plugins, endpoint resolver, retry and signing setup) weighs some 15 KiB,
/// and a fleet's targets differ only in what each call overrides (see [`Cognito`]).
#[derive(Clone, Debug)]
struct Shared {
    cognito: aws_sdk_cognitoidentityprovider::Client,
    sts: aws_sdk_sts::Client,
    /// The clients of destination checks, made when a check first needs one.
    checks: Arc<destinations::CheckClients>,
}

/// A target's Cognito client: the one its region shares, and what each of the target's
/// calls sets on it (`overrides`: its credentials, its paced HTTP client, its time
/// limits, the interceptor counting its attempts). Every call goes
/// `.customize().config_override(cognito.overrides())`.
#[derive(Clone, Debug)]
pub(crate) struct Cognito {
    client: aws_sdk_cognitoidentityprovider::Client,
    overrides: aws_sdk_cognitoidentityprovider::config::Builder,
}

impl Cognito {
    pub(crate) fn client(&self) -> &aws_sdk_cognitoidentityprovider::Client {
        &self.client
    }

    /// What the target's call sets on the shared client.
    pub(crate) fn overrides(&self) -> aws_sdk_cognitoidentityprovider::config::Builder {
        self.overrides.clone()
    }
}

impl ClientBase {
    /// Made once per run: its connections belong to the runtime that opens them.
    pub(crate) fn new(options: ClientOptions) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .pool_max_idle_per_host(IDLE_CONNECTIONS_PER_HOST)
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        Self {
            options,
            http,
            loaded: Arc::default(),
            shared: Arc::default(),
        }
    }

    /// A reload re-reads the environment: targets set up from now on read the standard
    /// chain again; running ones keep theirs.
    pub(crate) async fn read_again(&self) {
        self.loaded.lock().await.clear();
        self.shared.lock().await.clear();
    }

    /// The clients that targets in `region` calling `endpoint_url` share, made at the
    /// first such target from the standard chain. What is a target's own comes with each
    /// of its calls.
    async fn shared(&self, region: Option<&str>, endpoint_url: Option<&str>) -> Shared {
        let sdk = self.chain(region).await;
        let key = (region.map(str::to_owned), endpoint_url.map(str::to_owned));
        let mut shared = self.shared.lock().await;
        if let Some(clients) = shared.get(&key) {
            return clients.clone();
        }
        let mut builder = sdk
            .into_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Some(url) = endpoint_url {
            builder = builder.endpoint_url(url);
            builder.insert_origin("endpoint_url", aws_types::origin::Origin::shared_config());
        }
        let sdk = builder.build();
        let clients = Shared {
            cognito: aws_sdk_cognitoidentityprovider::Client::from_conf(
                aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                    .interceptor(RequiredMembers)
                    .build(),
            ),
            sts: aws_sdk_sts::Client::from_conf(
                aws_sdk_sts::config::Builder::from(&sdk)
                    .interceptor(RequiredMembers)
                    .build(),
            ),
            checks: Arc::new(destinations::CheckClients::new(&sdk)),
        };
        shared.insert(key, clients.clone());
        clients
    }

    /// The standard chain for targets in `region`, read at the first such target.
    async fn chain(&self, region: Option<&str>) -> SdkConfig {
        let mut loaded = self.loaded.lock().await;
        let key = region.map(str::to_owned);
        if let Some(sdk) = loaded.get(&key) {
            return sdk.clone();
        }
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).http_client(self.http.clone());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_owned()));
        }
        if let Some(credentials) = &self.options.credentials {
            loader = loader.credentials_provider(credentials.clone());
        }
        let sdk = loader.load().await;
        loaded.insert(key, sdk.clone());
        sdk
    }
}

/// What a target needs to call AWS, before and after it knows its account.
#[derive(Debug)]
pub(crate) struct Connection {
    sdk: SdkConfig,
    shared: Shared,
    /// The identity known before any call: the region, and the account of the role ARN
    /// when there is one.
    provisional: Arc<TargetId>,
    /// Counts the attempts of the client that asks `GetCallerIdentity` under
    /// `provisional`; that client is made when asked for, as it is seldom needed.
    recorder: AttemptRecorder,
    limiter: Arc<Limiter>,
    metrics: ApiMetrics,
    /// Attempts made so far, by every client of the target.
    attempts: Arc<AtomicU64>,
}

impl Connection {
    /// Sets up the target's SDK configuration. Region and credentials come from the
    /// target, else from the standard AWS chain (environment, profile, web identity, ECS,
    /// IMDS). Nothing is called yet.
    pub(crate) async fn new(
        target: &TargetConfig,
        poll: &PollConfig,
        metrics: &ApiMetrics,
        base: &ClientBase,
    ) -> Result<Self, BoxError> {
        let limiter = Arc::new(Limiter::new(poll.requests_per_second));
        let mut sdk = base_config(
            target.region.as_deref(),
            target.endpoint_url.as_deref(),
            poll,
            &limiter,
            base,
        )
        .await;
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or("no AWS region: set it on the target, or through AWS_REGION or the profile")?;
        let provisional = Arc::new(TargetId::new(
            target.role_account_id().unwrap_or_default(),
            region,
        ));
        let shared = base
            .shared(target.region.as_deref(), target.endpoint_url.as_deref())
            .await;
        let attempts = Arc::new(AtomicU64::new(0));
        let recorder = AttemptRecorder {
            id: Arc::clone(&provisional),
            metrics: metrics.clone(),
            limiter: Arc::clone(&limiter),
            attempts: Arc::clone(&attempts),
        };
        if let Some(role) = &target.role_arn {
            sdk = assuming(
                sdk,
                &shared.sts,
                role,
                target.external_id.as_deref(),
                recorder.clone(),
            );
        }
        // The target's own identity cache. The one the standard chain comes with is the
        // region's, and holds 64 credential sources: past 64 role targets in a region,
        // each evicted another's credentials and assumed its role again at nearly every
        // call (19,235 AssumeRole calls for 1,002 targets' first cycles).
        let sdk = sdk
            .into_builder()
            .identity_cache(IdentityCache::lazy().build())
            .build();
        Ok(Self {
            sdk,
            shared,
            provisional,
            recorder,
            limiter,
            metrics: metrics.clone(),
            attempts,
        })
    }

    /// New `poll` settings (a reload): the rate applies from the next attempt, the
    /// time limits to clients made from now on ([`Connection::cognito`]).
    pub(crate) fn set_poll(&self, poll: &PollConfig) {
        self.limiter.set_rate(poll.requests_per_second);
    }

    /// The target's pace, which its cycles ask before building each operation.
    pub(crate) fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// The target's identity before `GetCallerIdentity` answers.
    pub(crate) fn provisional(&self) -> &TargetId {
        &self.provisional
    }

    /// The region every call goes to.
    pub(crate) fn region(&self) -> &str {
        &self.provisional.region
    }

    /// An STS client to learn the account with: made for the call, since a target
    /// asks only until it knows.
    pub(crate) fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&self.sdk)
                .interceptor(RequiredMembers)
                .interceptor(self.recorder.clone())
                .build(),
        )
    }

    /// Attempts made so far by the target's clients, SDK retries included.
    pub(crate) fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// The account is known: what was counted under the provisional identity moves to
    /// `id`, so no series stays behind under a placeholder account. (The STS client
    /// keeps counting under the provisional identity, but it has done its work.)
    pub(crate) fn identified(&self, id: &TargetId) {
        let operations: Vec<&'static str> = OPERATIONS
            .into_iter()
            .chain([errors::label::OTHER])
            .collect();
        self.metrics
            .move_target(&self.provisional, id, &operations, &LABELS);
    }

    /// The target `id` is no longer polled: its counters go.
    pub(crate) fn forget(&self, id: &TargetId) {
        let operations: Vec<&'static str> = OPERATIONS
            .into_iter()
            .chain([errors::label::OTHER])
            .collect();
        self.metrics.forget(id, &operations, &LABELS);
    }

    /// The Cognito client of the target `id`, whose attempts (and time waiting on the
    /// limiter) are counted under it, with the time limits of `poll`.
    pub(crate) fn cognito(&self, id: &TargetId, poll: &PollConfig) -> Cognito {
        self.limiter.count_waits(self.metrics.limiter_wait(id));
        let mut overrides = aws_sdk_cognitoidentityprovider::config::Builder::default();
        overrides
            .set_credentials_provider(self.sdk.credentials_provider())
            .set_http_client(self.sdk.http_client());
        if let Some(cache) = self.sdk.identity_cache() {
            // Without one, an override of the credentials gets a cache for the one call.
            overrides.set_identity_cache(cache);
        }
        Cognito {
            client: self.shared.cognito.clone(),
            overrides: overrides
                .timeout_config(timeouts(poll))
                .interceptor(AttemptRecorder {
                    id: Arc::new(id.clone()),
                    metrics: self.metrics.clone(),
                    limiter: Arc::clone(&self.limiter),
                    attempts: Arc::clone(&self.attempts),
                }),
        }
    }

    /// The destination checks of the identified target `id`, their attempts counted
    /// under it, with the time limits of `poll`, results kept for `interval`
    /// (`checks.interval`). Make it once per target and keep it, so its results last
    /// across cycles.
    pub(crate) fn destinations(
        &self,
        id: &TargetId,
        poll: &PollConfig,
        interval: Duration,
    ) -> DestinationChecks {
        DestinationChecks::new(
            Arc::clone(&self.shared.checks),
            &self.sdk,
            AttemptRecorder {
                id: Arc::new(id.clone()),
                metrics: self.metrics.clone(),
                limiter: Arc::clone(&self.limiter),
                attempts: Arc::clone(&self.attempts),
            },
            &id.region,
            poll,
            interval,
        )
    }
}

/// The SDK configuration every client of a target (or of discovery) starts from: the
/// The standard chain for `region` (read once per region, see [`ClientBase`]) with the
/// shared HTTP client paced by `limiter`, retries, time limits, and the endpoint when
/// given (else the chain's: `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, the
/// profile). Without a region, the chain's: `AWS_REGION`, the profile, IMDS.
async fn base_config(
    region: Option<&str>,
    endpoint_url: Option<&str>,
    poll: &PollConfig,
    limiter: &Arc<Limiter>,
    base: &ClientBase,
) -> SdkConfig {
    let http = SharedHttpClient::new(LimitedClient {
        inner: base.http.clone(),
        limiter: Arc::clone(limiter),
    });
    let mut builder = base
        .chain(region)
        .await
        .into_builder()
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(timeouts(poll));
    if let Some(url) = endpoint_url {
        // Marked as set in code, as the loader marks it: the chain's endpoint variables,
        // the service ones included, then come below it.
        builder = builder.endpoint_url(url);
        builder.insert_origin("endpoint_url", aws_types::origin::Origin::shared_config());
    }
    builder.build()
}

/// `sdk` with credentials from assuming `role` through the shared `sts` client (with
/// its credentials, the standard chain's as in `sdk`, and the paced HTTP client and time
/// limits of `sdk`), each `AssumeRole` attempt counted by `recorder`.
fn assuming(
    sdk: SdkConfig,
    sts: &aws_sdk_sts::Client,
    role: &str,
    external_id: Option<&str>,
    recorder: AttemptRecorder,
) -> SdkConfig {
    let mut overrides = aws_sdk_sts::config::Builder::default();
    overrides
        .set_http_client(sdk.http_client())
        .set_timeout_config(sdk.timeout_config().cloned());
    let provider = AssumeRole {
        sts: sts.clone(),
        overrides: overrides.interceptor(recorder),
        role_arn: role.to_owned(),
        external_id: external_id.map(str::to_owned),
    };
    sdk.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build()
}

/// The time limits of one operation and of each of its attempts.
fn timeouts(poll: &PollConfig) -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_timeout(poll.timeout)
        .operation_attempt_timeout(poll.timeout / MAX_ATTEMPTS)
        .connect_timeout(poll.timeout.min(Duration::from_secs(5)))
        .build()
}
