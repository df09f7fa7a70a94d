//! Reloading the configuration without a restart: what `SIGHUP` and `/-/reload` send
//! to the fleet, and what the binary gives to read the configuration again. It lives
//! here so that neither the HTTP server nor the fleet imports the other.

use tokio::sync::{mpsc, oneshot};

use crate::config::Config;

/// Reads and validates the configuration again (`--config.file`, the environment, the
/// flags); on failure, every problem, each naming its key.
pub type Reloader = Box<dyn Fn() -> Result<Config, Vec<String>> + Send + Sync>;

/// One request to reload; the answer is the problems when the configuration is refused.
#[derive(Debug)]
pub(crate) struct ReloadRequest {
    pub(crate) reply: oneshot::Sender<Result<(), Vec<String>>>,
}

/// Where reload requests go.
pub(crate) type Reloads = mpsc::Sender<ReloadRequest>;

/// Asks for a reload and waits for its outcome; `Err` with the problems, or with one
/// line when the fleet is gone (shutting down).
pub(crate) async fn reload(reloads: &Reloads) -> Result<(), Vec<String>> {
    let (reply, answer) = oneshot::channel();
    if reloads.send(ReloadRequest { reply }).await.is_err() {
        return Err(vec!["the exporter is shutting down".to_owned()]);
    }
    answer
        .await
        .unwrap_or_else(|_| Err(vec!["the exporter is shutting down".to_owned()]))
}
