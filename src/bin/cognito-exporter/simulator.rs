//! `--demo`'s simulator as the command line sees it: started on its listener with the
//! configuration pointed at it, or, in a binary built without the `demo` feature, never
//! (the flag was refused with the configuration).

use cognito_exporter::aws::ClientOptions;
use cognito_exporter::config::Config;
use tokio::net::TcpListener;

/// The demo's simulator while it runs; nothing without the feature.
#[cfg(feature = "demo")]
pub(crate) type Running = cognito_exporter::demo::Demo;
/// Never made: a binary without the feature refuses `--demo`.
#[cfg(not(feature = "demo"))]
pub(crate) enum Running {}

/// With a listener (`--demo`), starts the simulator on it and points `config` at it; it
/// serves until the returned handle is dropped.
#[cfg(feature = "demo")]
pub(crate) async fn start(
    mut config: Config,
    listener: Option<TcpListener>,
) -> std::io::Result<(Config, ClientOptions, Option<Running>)> {
    let mut clients = ClientOptions::default();
    let simulator = match listener {
        Some(listener) => {
            Some(cognito_exporter::demo::start(listener, &mut config, &mut clients).await?)
        }
        None => None,
    };
    Ok((config, clients, simulator))
}

#[cfg(not(feature = "demo"))]
pub(crate) async fn start(
    config: Config,
    _listener: Option<TcpListener>,
) -> std::io::Result<(Config, ClientOptions, Option<Running>)> {
    Ok((config, ClientOptions::default(), None))
}

/// The simulator's endpoint, for reloads to point the configuration at it again.
#[cfg(feature = "demo")]
pub(crate) fn endpoint(simulator: Option<&Running>) -> Option<String> {
    simulator.map(Running::endpoint_url)
}

#[cfg(not(feature = "demo"))]
pub(crate) fn endpoint(_simulator: Option<&Running>) -> Option<String> {
    None
}

/// Points a reloaded `config` at the simulator at `endpoint`.
#[cfg(feature = "demo")]
pub(crate) fn point(config: &mut Config, endpoint: &str) {
    cognito_exporter::demo::point(config, endpoint);
}

#[cfg(not(feature = "demo"))]
pub(crate) fn point(_config: &mut Config, _endpoint: &str) {}

/// Stops the simulator, if one runs: taking it is dropping it.
pub(crate) fn stop(_simulator: Option<Running>) {}
