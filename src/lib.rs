//! cognito-exporter: a Prometheus exporter for the log-delivery configuration of Amazon
//! Cognito user pools.
//!
//! Data flows one way: [`config`] → [`aws`] clients → `poll` (one task per target) →
//! [`model`] snapshots → rendered once per change into the [`exposition`] (the families
//! are declared in [`metrics`]) → served by [`http`]. `health` is the readiness both
//! the pollers and the server see. `--demo` (the `demo` feature, on by default) runs
//! the project's Cognito simulator, the `cognito-sim` crate, in-process. `policy`
//! evaluates the declared logging rules on a pool. The map of
//! every module, and where to start for common changes, is docs/architecture.md.

pub mod aws;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod exposition;
mod fleet;
mod health;
pub mod http;
pub mod lifecycle;
pub mod logging;
pub mod metrics;
pub mod model;
mod policy;
mod poll;
pub mod shard;

use std::sync::Arc;

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::signal::unix::Signal;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::aws::ClientOptions;
use crate::config::Config;
use crate::exposition::Exposition;
use crate::fleet::{Fleet, Shared};
use crate::health::Readiness;
use crate::http::{App, ServerOptions};
use crate::lifecycle::Reloader;
use crate::metrics::{ApiMetrics, FleetMetrics, PollMetrics};
use crate::shard::Shard;

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

/// Polls every target and serves `/metrics` on every one of `listeners` until `shutdown`; then stops
/// accepting, lets in-flight scrapes finish and stops the pollers. `SIGHUP` (and
/// `/-/reload`, when the server allows it) reads the configuration again with
/// `reloader`.
pub async fn run(
    config: Config,
    listeners: Vec<TcpListener>,
    server: ServerOptions,
    fleet: FleetOptions,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let mut registry = Registry::default();
    let api = ApiMetrics::register(&mut registry);
    let polls = PollMetrics::register(&mut registry);
    let fleet_metrics = FleetMetrics::register(&mut registry);
    if server.demo {
        metrics::register_demo_build_info(&mut registry, VERSION, REVISION);
    } else {
        metrics::register_build_info(&mut registry, VERSION, REVISION);
    }
    let http_metrics = server.exporter_metrics.then(|| {
        metrics::process::register(&mut registry);
        metrics::http::HttpMetrics::register(&mut registry)
    });
    let exposition = Arc::new(Exposition::new(registry)?);
    let readiness = Arc::new(Readiness::new(0));
    // Holds readiness until the first set of targets has started.
    let starting = readiness.expect();
    let poll_shutdown = shutdown.child_token();
    let shared = Shared {
        api,
        polls,
        fleet: fleet_metrics,
        exposition: Arc::clone(&exposition),
        readiness: Arc::clone(&readiness),
        clients: aws::ClientBase::new(fleet.clients),
        shard: fleet.shard,
    };
    let targets = Fleet::start(config, shared, poll_shutdown.clone())
        .await
        .map_err(|e| RunError::Target {
            index: e.index,
            source: e.source,
        })?;
    drop(starting);
    let (reloads, requests) = mpsc::channel(8);
    tokio::spawn(reload_on_hangup(
        fleet.hangups,
        reloads.clone(),
        poll_shutdown.clone(),
    ));
    let fleet_task = tokio::spawn(targets.run(requests, fleet.reloader));
    let app = Arc::new(App::new(
        exposition,
        readiness,
        server,
        reloads,
        fleet.shard,
        http_metrics,
    ));
    let served = http::serve(listeners, app, shutdown).await;
    poll_shutdown.cancel();
    if let Err(e) = fleet_task.await
        && e.is_panic()
    {
        tracing::error!(error = %e, "the fleet's task panicked");
    }
    served.map_err(RunError::from)
}

/// What the fleet starts with besides the configuration.
#[derive(Default)]
pub struct FleetOptions {
    /// Credentials instead of the standard chain (tests, `--demo`).
    pub clients: ClientOptions,
    /// This process's part of the targets.
    pub shard: Shard,
    /// Reads the configuration again on a reload; `None` refuses reloads.
    pub reloader: Option<Reloader>,
    /// `SIGHUP`, listened for since before the exporter said it listens (until then a
    /// hangup would end the process); `None` listens from the start of [`run`].
    pub hangups: Option<Signal>,
}

/// Listens for `SIGHUP` from now on.
pub fn hangups_now() -> std::io::Result<Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
}

/// Asks for a reload on each `SIGHUP`, as Prometheus does, until `shutdown`.
async fn reload_on_hangup(
    hangups: Option<Signal>,
    reloads: lifecycle::Reloads,
    shutdown: CancellationToken,
) {
    let mut hangups = match hangups.map_or_else(hangups_now, Ok) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: reload through /-/reload");
            return;
        }
    };
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            signal = hangups.recv() => {
                if signal.is_none() {
                    return;
                }
                tracing::info!("SIGHUP: reloading the configuration");
                // The outcome is logged by the fleet.
                let _ = lifecycle::reload(&reloads).await;
            }
        }
    }
}
