//! AWS clients for one target: Cognito and STS over one HTTP client whose every attempt
//! passes the target's rate limiter, with an interceptor that counts every attempt (SDK
//! retries included) and maps its outcome to a fixed set of error labels.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, Error as ErasedError, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::config::{PollConfig, TargetConfig};
use crate::limiter::Limiter;
use crate::selfmetrics::{ApiMetrics, ErrorLabels, OperationLabels, TargetLabels};

/// Attempts per operation, the first included. The SDK's standard mode backs off
/// exponentially with jitter and treats TooManyRequestsException as throttling.
pub const MAX_ATTEMPTS: u32 = 3;

/// The error labels besides AWS error codes.
pub mod label {
    pub const TIMEOUT: &str = "timeout";
    pub const CONNECTION: &str = "connection";
    pub const CREDENTIALS: &str = "credentials";
    pub const MALFORMED: &str = "malformed_response";
    pub const OTHER: &str = "other";
}

/// Maps an AWS error code to its label: the documented Cognito exceptions and the common
/// AWS-wide ones (STS spells some without the `Exception` suffix), else `other`.
pub fn code_label(code: &str) -> &'static str {
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

/// The account and region a target's series are labelled with. The account is empty until
/// `GetCallerIdentity` (or the role ARN) tells it.
#[derive(Debug)]
pub struct Identity {
    labels: ArcSwap<TargetLabels>,
}

impl Identity {
    pub fn new(account_id: &str, region: &str) -> Self {
        Self {
            labels: ArcSwap::from_pointee(TargetLabels {
                aws_account_id: account_id.to_string(),
                aws_region: region.to_string(),
            }),
        }
    }

    pub fn labels(&self) -> Arc<TargetLabels> {
        self.labels.load_full()
    }

    pub fn set_account_id(&self, account_id: &str) {
        let current = self.labels();
        self.labels.store(Arc::new(TargetLabels {
            aws_account_id: account_id.to_string(),
            aws_region: current.aws_region.clone(),
        }));
    }
}

/// The clients of one target.
#[derive(Clone, Debug)]
pub struct Clients {
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub sts: aws_sdk_sts::Client,
    pub region: String,
    pub identity: Arc<Identity>,
}

/// Options that tests and `--demo` set; production leaves them default.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Credentials to use instead of the standard chain.
    pub credentials: Option<aws_credential_types::Credentials>,
}

/// Builds the clients of a target. Region and credentials come from the target, else from
/// the standard AWS chain (environment, profile, web identity, ECS, IMDS).
pub async fn clients(
    target: &TargetConfig,
    poll: &PollConfig,
    metrics: &ApiMetrics,
    options: &ClientOptions,
) -> Result<Clients, BoxError> {
    let limiter = Arc::new(Limiter::new(poll.requests_per_second));
    let http = SharedHttpClient::new(LimitedClient {
        inner: aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https(),
        limiter: limiter.clone(),
    });
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(poll.timeout)
                .operation_attempt_timeout(poll.timeout / MAX_ATTEMPTS)
                .connect_timeout(poll.timeout.min(Duration::from_secs(5)))
                .build(),
        );
    if let Some(region) = &target.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(url) = &target.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some(credentials) = &options.credentials {
        loader = loader.credentials_provider(credentials.clone());
    }
    let mut sdk = loader.load().await;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .ok_or("no AWS region: set it on the target, or through AWS_REGION or the profile")?;
    if let Some(role) = &target.role_arn {
        let mut builder = AssumeRoleProvider::builder(role)
            .session_name("cognito-exporter")
            .configure(&sdk);
        if let Some(id) = &target.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        sdk = sdk
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }

    let identity = Arc::new(Identity::new(
        target.role_account_id().unwrap_or_default(),
        &region,
    ));
    limiter.bind(metrics.clone(), identity.clone());
    let recorder = AttemptRecorder {
        metrics: metrics.clone(),
        identity: identity.clone(),
        limiter: limiter.clone(),
    };
    let cognito = aws_sdk_cognitoidentityprovider::Client::from_conf(
        aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .interceptor(recorder.clone())
            .build(),
    );
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&sdk)
            .interceptor(recorder)
            .build(),
    );
    Ok(Clients {
        cognito,
        sts,
        region,
        identity,
    })
}

#[derive(Debug)]
struct LimitedClient {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        HttpConnectorFuture::new(async move {
            limiter.until_ready().await;
            inner.call(request).await
        })
    }
}

/// Counts every attempt and every failed attempt, and tells the limiter about throttling.
#[derive(Clone, Debug)]
struct AttemptRecorder {
    metrics: ApiMetrics,
    identity: Arc<Identity>,
    limiter: Arc<Limiter>,
}

/// Lives in the operation's config bag while an attempt is in flight. When the operation
/// timeout (or shutdown) drops the operation mid-attempt, the interceptor never hears the
/// end of the attempt; the drop counts it as a timeout, so no attempt goes uncounted.
#[derive(Debug)]
struct OpenAttempt {
    open: AtomicBool,
    labels: ErrorLabels,
    metrics: ApiMetrics,
}

impl Storable for OpenAttempt {
    type Storer = StoreReplace<Self>;
}

impl Drop for OpenAttempt {
    fn drop(&mut self) {
        if self.open.load(Ordering::Relaxed) {
            self.metrics.errors.get_or_create(&self.labels).inc();
        }
    }
}

/// The operation name as a static label value.
fn operation(cfg: &ConfigBag) -> &'static str {
    match cfg.load::<Metadata>().map(Metadata::name) {
        Some("ListUserPools") => "ListUserPools",
        Some("DescribeUserPool") => "DescribeUserPool",
        Some("GetLogDeliveryConfiguration") => "GetLogDeliveryConfiguration",
        Some("GetCallerIdentity") => "GetCallerIdentity",
        Some("AssumeRole") => "AssumeRole",
        _ => label::OTHER,
    }
}

impl Intercept for AttemptRecorder {
    fn name(&self) -> &'static str {
        "AttemptRecorder"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = operation(cfg);
        let labels = self.identity.labels();
        self.metrics
            .requests
            .get_or_create(&OperationLabels {
                aws_account_id: labels.aws_account_id.clone(),
                aws_region: labels.aws_region.clone(),
                operation: op,
            })
            .inc();
        cfg.interceptor_state().store_put(OpenAttempt {
            open: AtomicBool::new(true),
            labels: ErrorLabels {
                aws_account_id: labels.aws_account_id.clone(),
                aws_region: labels.aws_region.clone(),
                operation: op,
                exception: label::TIMEOUT,
            },
            metrics: self.metrics.clone(),
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(attempt) = cfg.load::<OpenAttempt>() else {
            return Ok(());
        };
        attempt.open.store(false, Ordering::Relaxed);
        match context.output_or_error() {
            Some(Err(error)) => {
                let exception = classify(error, context.response().is_some());
                tracing::debug!(
                    operation = attempt.labels.operation,
                    exception,
                    error = %aws_smithy_types::error::display::DisplayErrorContext(error),
                    "attempt failed"
                );
                if is_throttling(exception) {
                    self.limiter.throttled();
                }
                let labels = ErrorLabels {
                    exception,
                    ..attempt.labels.clone()
                };
                self.metrics.errors.get_or_create(&labels).inc();
            }
            Some(Ok(_)) => self.limiter.succeeded(),
            None => {}
        }
        Ok(())
    }
}

/// Whether an error label says the caller went too fast.
pub fn is_throttling(label: &str) -> bool {
    matches!(label, "TooManyRequestsException" | "ThrottlingException")
}

/// The label of a failed attempt; `answered` when a response arrived.
fn classify(error: &OrchestratorError<ErasedError>, answered: bool) -> &'static str {
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

/// The label of a final operation error, for logs and pool status.
pub fn sdk_error_label<E, R>(
    error: &aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> &'static str
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_smithy_runtime_api::client::result::SdkError;
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
