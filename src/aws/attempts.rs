//! Every API attempt of a target, SDK retries included, counted as it happens: an
//! interceptor on its clients counts the attempt, classifies a failure into the fixed
//! label set and tells the rate limiter about throttling.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::errors::{attempt_label, is_throttling, label};
use super::limiter::Limiter;
use crate::metrics::ApiMetrics;
use crate::model::TargetId;

/// Counts every attempt and every failed attempt, and tells the limiter about throttling.
#[derive(Clone, Debug)]
pub(super) struct AttemptRecorder {
    /// Whose attempts these are: fixed for the life of the client.
    pub(super) id: Arc<TargetId>,
    pub(super) metrics: ApiMetrics,
    pub(super) limiter: Arc<Limiter>,
    /// Every attempt of the target, whichever client made it: what a cycle costs.
    pub(super) attempts: Arc<AtomicU64>,
}

/// Lives in the operation's config bag while an attempt is in flight. When the operation
/// timeout (or shutdown) drops the operation mid-attempt, the interceptor never hears the
/// end of the attempt; the drop counts it as a timeout, so no attempt goes uncounted.
#[derive(Debug)]
struct OpenAttempt {
    open: AtomicBool,
    operation: &'static str,
    id: Arc<TargetId>,
    metrics: ApiMetrics,
}

impl Storable for OpenAttempt {
    type Storer = StoreReplace<Self>;
}

impl Drop for OpenAttempt {
    fn drop(&mut self) {
        if self.open.load(Ordering::Relaxed) {
            self.metrics.error(&self.id, self.operation, label::TIMEOUT);
        }
    }
}

/// Every operation name [`operation`] gives, besides `other`.
pub(crate) const OPERATIONS: [&str; 11] = [
    "ListUserPools",
    "DescribeUserPool",
    "GetLogDeliveryConfiguration",
    "GetCallerIdentity",
    "AssumeRole",
    "ListAccounts",
    "ListAccountsForParent",
    "ListOrganizationalUnitsForParent",
    // Destination checks.
    "DescribeLogGroups",
    "HeadBucket",
    "DescribeDeliveryStream",
];

/// The operation name as a static label value.
fn operation(cfg: &ConfigBag) -> &'static str {
    let name = cfg.load::<Metadata>().map(Metadata::name);
    OPERATIONS
        .into_iter()
        .find(|op| Some(*op) == name)
        .unwrap_or(label::OTHER)
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
        let operation = operation(cfg);
        self.attempts.fetch_add(1, Ordering::Relaxed);
        self.metrics.request(&self.id, operation);
        cfg.interceptor_state().store_put(OpenAttempt {
            open: AtomicBool::new(true),
            operation,
            id: Arc::clone(&self.id),
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
                let exception = attempt_label(error, context.response());
                tracing::debug!(
                    operation = attempt.operation,
                    error_code = exception,
                    error = %aws_smithy_types::error::display::DisplayErrorContext(error),
                    "attempt failed"
                );
                if is_throttling(exception) {
                    self.limiter.throttled();
                }
                self.metrics.error(&self.id, attempt.operation, exception);
            }
            Some(Ok(_)) => self.limiter.succeeded(),
            None => {}
        }
        Ok(())
    }
}
