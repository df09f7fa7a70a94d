//! cognito-exporter: a Prometheus exporter for the log-delivery configuration of Amazon
//! Cognito user pools.
//!
//! Data flows one way: [`config`] → [`aws`] clients → [`poller`] (one task per target,
//! each cycle in [`cycle`]) → [`model`] snapshots → [`render`]ed once into the
//! [`exposition`] → served by [`http`]. `--demo` (the `demo` feature, on by default)
//! runs the project's Cognito simulator, the `cognito-sim` crate, in-process.

pub mod aws;
pub mod config;
pub mod cycle;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exposition;
pub mod http;
pub mod limiter;
pub mod logging;
pub mod model;
pub mod poller;
pub mod render;
pub mod selfmetrics;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::aws::ClientOptions;
use crate::config::Config;
use crate::exposition::Exposition;
use crate::http::{App, ServerOptions};
use crate::poller::{Poller, Readiness};
use crate::selfmetrics::SelfMetrics;

/// The exporter's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The source revision it was built from.
pub const REVISION: &str = env!("COGNITO_BUILD_REVISION");

/// Why the exporter could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("targets[{index}]: {source}")]
    Target {
        index: usize,
        source: aws_smithy_runtime_api::box_error::BoxError,
    },
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
    let exposition = Arc::new(Exposition::new(SelfMetrics::new(VERSION, REVISION))?);
    let readiness = Arc::new(Readiness::new(config.targets.len()));
    let mut pollers = JoinSet::new();
    let poll_shutdown = shutdown.child_token();
    for (index, target) in config.targets.into_iter().enumerate() {
        let api = exposition.self_metrics().api.clone();
        let built = aws::clients(&target, &config.poll, &api, &clients)
            .await
            .map_err(|source| RunError::Target { index, source })?;
        let poller = Poller {
            target,
            poll: config.poll.clone(),
            clients: built,
            exposition: exposition.clone(),
            readiness: readiness.clone(),
        };
        pollers.spawn(poller.run(poll_shutdown.clone()));
    }
    let app = Arc::new(App::new(exposition, readiness, server));
    let served = http::serve(listener, app, shutdown).await;
    poll_shutdown.cancel();
    while pollers.join_next().await.is_some() {}
    served.map_err(RunError::from)
}
