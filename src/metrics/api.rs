//! The counters of every target's AWS clients: API attempts, failed attempts by error
//! label, and time spent waiting on the rate limiter.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::model::TargetId;

/// Labels of a target's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TargetLabels {
    pub(crate) aws_account_id: String,
    pub(crate) aws_region: String,
}

impl From<&TargetId> for TargetLabels {
    fn from(id: &TargetId) -> Self {
        Self {
            aws_account_id: id.account_id.clone(),
            aws_region: id.region.clone(),
        }
    }
}

/// Labels of an API attempt counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    pub(crate) aws_account_id: String,
    pub(crate) aws_region: String,
    pub(crate) operation: &'static str,
}

/// Labels of an API error counter; `exception` comes from a fixed vocabulary.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ErrorLabels {
    pub(crate) aws_account_id: String,
    pub(crate) aws_region: String,
    pub(crate) operation: &'static str,
    pub(crate) exception: &'static str,
}

/// Counters shared by every target's AWS clients; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct ApiMetrics {
    pub(crate) requests: Family<OperationLabels, Counter>,
    pub(crate) errors: Family<ErrorLabels, Counter>,
    pub(crate) limiter_wait_seconds: Family<TargetLabels, Counter<f64, AtomicU64>>,
}

/// Moves the count of series `from` onto series `to` and removes `from`.
pub(crate) fn move_counter<L>(family: &Family<L, Counter>, from: &L, to: &L)
where
    L: Clone + std::hash::Hash + Eq,
{
    // The read guard of `get` must be gone before `remove` takes the write lock.
    let Some(count) = family.get(from).map(|c| c.get()) else {
        return;
    };
    family.remove(from);
    family.get_or_create(to).inc_by(count);
}

impl ApiMetrics {
    /// Creates the counters and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let api = Self::default();
        registry.register(
            "cognito_exporter_api_requests",
            "Cognito, STS, Organizations and destination-check (CloudWatch Logs, S3, Firehose) API attempts, each SDK retry counted, by operation",
            api.requests.clone(),
        );
        registry.register(
            "cognito_exporter_api_errors",
            "Failed Cognito, STS, Organizations and destination-check (CloudWatch Logs, S3, Firehose) API attempts, each SDK retry counted, by operation and AWS error code (or timeout, connection, credentials, malformed_response, other)",
            api.errors.clone(),
        );
        registry.register(
            "cognito_exporter_rate_limiter_wait_seconds",
            "Seconds API attempts waited on the client-side limit of poll.requests_per_second",
            api.limiter_wait_seconds.clone(),
        );
        api
    }

    /// Counts a failed attempt of `operation` by the target `id`.
    pub(crate) fn error(&self, id: &TargetId, operation: &'static str, exception: &'static str) {
        self.errors
            .get_or_create(&ErrorLabels {
                aws_account_id: id.account_id.clone(),
                aws_region: id.region.clone(),
                operation,
                exception,
            })
            .inc();
    }

    /// Counts an attempt of `operation` by the target `id`.
    pub(crate) fn request(&self, id: &TargetId, operation: &'static str) {
        self.requests
            .get_or_create(&OperationLabels {
                aws_account_id: id.account_id.clone(),
                aws_region: id.region.clone(),
                operation,
            })
            .inc();
    }

    /// Moves every series of target `from` to target `to`, adding to what `to` has
    /// counted: `operations` and `exceptions` are every value those labels can take.
    /// Nothing is left under `from`.
    pub(crate) fn move_target(
        &self,
        from: &TargetId,
        to: &TargetId,
        operations: &[&'static str],
        exceptions: &[&'static str],
    ) {
        if from == to {
            return;
        }
        for &operation in operations {
            let labels = |id: &TargetId| OperationLabels {
                aws_account_id: id.account_id.clone(),
                aws_region: id.region.clone(),
                operation,
            };
            move_counter(&self.requests, &labels(from), &labels(to));
            for &exception in exceptions {
                let labels = |id: &TargetId| ErrorLabels {
                    aws_account_id: id.account_id.clone(),
                    aws_region: id.region.clone(),
                    operation,
                    exception,
                };
                move_counter(&self.errors, &labels(from), &labels(to));
            }
        }
        let (old, new) = (TargetLabels::from(from), TargetLabels::from(to));
        if let Some(waited) = self.limiter_wait_seconds.get(&old).map(|c| c.get()) {
            self.limiter_wait_seconds.remove(&old);
            self.limiter_wait_seconds.get_or_create(&new).inc_by(waited);
        }
    }

    /// Removes every series of target `id` (it stopped being polled): `operations` and
    /// `exceptions` are every value those labels can take.
    pub(crate) fn forget(
        &self,
        id: &TargetId,
        operations: &[&'static str],
        exceptions: &[&'static str],
    ) {
        for &operation in operations {
            self.requests.remove(&OperationLabels {
                aws_account_id: id.account_id.clone(),
                aws_region: id.region.clone(),
                operation,
            });
            for &exception in exceptions {
                self.errors.remove(&ErrorLabels {
                    aws_account_id: id.account_id.clone(),
                    aws_region: id.region.clone(),
                    operation,
                    exception,
                });
            }
        }
        self.limiter_wait_seconds.remove(&TargetLabels::from(id));
    }

    /// The counter of the target `id`'s time waiting on its limiter.
    pub(crate) fn limiter_wait(&self, id: &TargetId) -> Counter<f64, AtomicU64> {
        self.limiter_wait_seconds
            .get_or_create(&TargetLabels::from(id))
            .clone()
    }
}
