//! cognito-exporter: a Prometheus exporter for the log-delivery configuration of Amazon
//! Cognito user pools.
//!
//! Data flows one way: [`config`] → [`aws`] clients → `poll` (one task per target) →
//! [`model`] snapshots → rendered once per change into the [`exposition`] (the families
//! are declared in [`metrics`]) → served by [`http`]. `health` is the readiness both
//! the pollers and the server see. `--demo` (the `demo` feature, on by default) runs
//! the project's Cognito simulator, the `cognito-sim` crate, in-process. The map of
//! every module, and where to start for common changes, is docs/architecture.md.

pub mod aws;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exposition;
mod health;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod model;
mod poll;

use std::sync::Arc;

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::aws::{ClientOptions, Connection};
use crate::config::Config;
use crate::exposition::Exposition;
use crate::health::Readiness;
use crate::http::{App, ServerOptions};
use crate::metrics::{ApiMetrics, PollMetrics};
use crate::poll::TargetTask;

/// The exporter's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The source revision it was built from.
pub const REVISION: &str = env!("COGNITO_BUILD_REVISION");

/// Why the exporter could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A target's AWS configuration could not be set up (no region, say).
    #[error("targets[{index}]: {source}")]
    Target {
        index: usize,
        source: aws_smithy_runtime_api::box_error::BoxError,
    },
    /// Listening or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Polls every target and serves `/metrics` on `listener` until `shutdown`; then stops
/// accepting, lets in-flight scrapes finish and stops the pollers.
pub async fn run(
    config: Config,
    listener: TcpListener,
    server: ServerOptions,
    clients: ClientOptions,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let mut registry = Registry::default();
    let api = ApiMetrics::register(&mut registry);
    let polls = PollMetrics::register(&mut registry);
    metrics::register_build_info(&mut registry, VERSION, REVISION);
    metrics::process::register(&mut registry);
    let exposition = Arc::new(Exposition::new(registry)?);
    let readiness = Arc::new(Readiness::new(config.targets.len()));
    let mut pollers = JoinSet::new();
    let poll_shutdown = shutdown.child_token();
    for (index, target) in config.targets.into_iter().enumerate() {
        let connection = Connection::new(&target, &config.poll, &api, &clients)
            .await
            .map_err(|source| RunError::Target { index, source })?;
        let task = TargetTask {
            index,
            target,
            poll: config.poll.clone(),
            connection,
            metrics: api.clone(),
            polls: polls.clone(),
            exposition: Arc::clone(&exposition),
            readiness: Arc::clone(&readiness),
        };
        pollers.spawn(task.run(poll_shutdown.clone()));
    }
    let app = Arc::new(App::new(exposition, readiness, server));
    let served = http::serve(listener, app, shutdown).await;
    poll_shutdown.cancel();
    while pollers.join_next().await.is_some() {}
    served.map_err(RunError::from)
}
