//! [`WebSecurity`]: the live, reloadable form of the web configuration that the HTTP
//! server consults for each connection (TLS) and each request (auth, headers).
//!
//! Reloading is a polling task ([`WebSecurity::spawn_reloader`]) rather than a check on
//! each connection: a scrape never pays for file I/O, and a broken file is reported from
//! one place. Each poll hashes the config file and the PEM files it names (a few KB);
//! only a change triggers a full load. A load that fails keeps the last good
//! configuration and is logged once per distinct error. New TLS handshakes use the new
//! certificate at once; established connections keep theirs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use config_walk::Walk;
use http::HeaderMap;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::auth::BasicAuth;
use super::config::WebConfig;
use super::parse::load;
use super::rate::Bucket;
use super::rejection::AuthRejection;
use super::server::ServerInfo;
use super::{WebConfigErrors, problems_in};

/// The shortest reload period accepted; a zero period would spin.
const MIN_RELOAD_PERIOD: Duration = Duration::from_millis(10);

/// The web configuration in force. Cheap to clone (one `Arc`); clones share reloads.
#[derive(Clone)]
pub struct WebSecurity {
    shared: Arc<Shared>,
}

struct Shared {
    /// The file, as given on the command line; reloads read it again.
    path: PathBuf,
    /// Swapped whole on reload, so a request never sees half of two configurations.
    active: ArcSwap<Active>,
}

/// One loaded configuration, with what serving it needs prepared.
struct Active {
    config: Arc<WebConfig>,
    acceptor: Option<TlsAcceptor>,
    headers: Arc<HeaderMap>,
    /// `None`: no users configured, requests are not authenticated.
    auth: Option<BasicAuth>,
    /// `rate_limit`, full again at every reload that applies.
    requests: Option<Bucket>,
}

impl Active {
    fn new(config: WebConfig) -> Self {
        Self {
            acceptor: config
                .tls
                .as_ref()
                .map(|tls| TlsAcceptor::from(tls.server_config())),
            headers: Arc::new(config.headers.clone()),
            auth: BasicAuth::new(config.basic_auth_users.clone()),
            requests: config.rate_limit.and_then(Bucket::new),
            config: Arc::new(config),
        }
    }
}

/// What a [`WebSecurity::reload`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// No file changed.
    Unchanged,
    /// A changed configuration was loaded and is now in force.
    Applied,
}

impl WebSecurity {
    /// Loads the file (see [`load`](super::load)); `server` is what the serving program
    /// decides: its name, the basic-auth realm, the ALPN protocols.
    pub fn from_file(path: &Path, server: &ServerInfo) -> Result<Self, WebConfigErrors> {
        load(path, server).map(Self::from_config)
    }

    /// Serves an already loaded configuration; reloads read `config.path` again, with
    /// the [`ServerInfo`] it was loaded with.
    pub fn from_config(config: WebConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                path: config.path.clone(),
                active: ArcSwap::from_pointee(Active::new(config)),
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<WebConfig> {
        self.shared.active.load().config.clone()
    }

    /// The TLS acceptor for a new connection, or `None` when the file has no
    /// `tls_server_config` (plain HTTP). Take it per connection: it carries the
    /// certificate in force at that moment.
    pub fn tls_acceptor(&self) -> Option<TlsAcceptor> {
        self.shared.active.load().acceptor.clone()
    }

    /// Whether the configuration in force offers HTTP/2 by ALPN on TLS connections (see
    /// [`WebConfig::offers_http2`]): `true` with TLS and `http_server_config.http2` true
    /// or absent, `false` with `http2: false` and always without TLS (no cleartext
    /// `h2c`, as in the toolkit). A server that speaks HTTP/2 checks it to know whether
    /// it will be asked to (to log it at start, say), and serves each TLS connection by
    /// what that connection negotiated: HTTP/2 when the handshake's
    /// `ServerConnection::alpn_protocol()` is `Some(b"h2")`, HTTP/1.1 otherwise. A
    /// reload that changes `http2` applies to new handshakes, so the negotiated
    /// protocol, not this answer, decides for a connection.
    pub fn offers_http2(&self) -> bool {
        self.shared.active.load().config.offers_http2()
    }

    /// Checks the request's `Authorization` header. `Ok(())` when no users are configured
    /// or the credentials verify; otherwise answer 401 with [`AuthRejection::headers`]
    /// (the challenge names the realm of the [`ServerInfo`]).
    ///
    /// Async because a password not yet verified costs one bcrypt, which runs on the
    /// blocking pool rather than stalling the server's worker threads.
    pub async fn authorize(&self, headers: &HeaderMap) -> Result<(), AuthRejection> {
        let active = self.shared.active.load_full();
        match &active.auth {
            None => Ok(()),
            Some(auth) => auth.check(headers).await.map_err(|failure| {
                AuthRejection::new(failure, active.config.server.challenge().clone())
            }),
        }
    }

    /// Whether `rate_limit` lets one more request in now (always, without one). Refused
    /// requests should be answered 429; the serving program decides which requests
    /// count (probes need not).
    pub fn admit_request(&self) -> bool {
        self.shared
            .active
            .load()
            .requests
            .as_ref()
            .is_none_or(|bucket| bucket.take(std::time::Instant::now()))
    }

    /// Headers to add to every response, 401s included (`http_server_config.headers`).
    pub fn response_headers(&self) -> Arc<HeaderMap> {
        self.shared.active.load().headers.clone()
    }

    /// How many bcrypt verifications the current configuration has run (tests and
    /// debugging: a steady scrape should run one per user, then none).
    pub fn bcrypt_verifications(&self) -> u64 {
        self.shared
            .active
            .load()
            .auth
            .as_ref()
            .map_or(0, BasicAuth::bcrypt_runs)
    }

    /// Reads the files again if any changed and, when they load, puts them in force.
    /// On error the configuration in force is kept. Blocking (file I/O): from async
    /// code, call it through `spawn_blocking`, as the reloader does.
    ///
    /// Adding or removing `tls_server_config` is refused: whether the listener speaks
    /// TLS is decided at start, and silently switching a TLS port to plain HTTP (or the
    /// reverse) would break every client.
    pub fn reload(&self) -> Result<Reload, WebConfigErrors> {
        let current = self.shared.active.load_full();
        let sources = &current.config.sources;
        if sources.current_digest() == sources.digest() {
            return Ok(Reload::Unchanged);
        }
        let config = load(&self.shared.path, &current.config.server)?;
        if config.tls.is_some() != current.config.tls.is_some() {
            let mut walk = Walk::new();
            walk.report(
                "tls_server_config",
                "cannot be added or removed while running (the listener's protocol is fixed \
                 at start); restart to apply",
            );
            return Err(problems_in(&self.shared.path, walk));
        }
        self.shared.active.store(Arc::new(Active::new(config)));
        Ok(Reload::Applied)
    }

    /// Polls for changes every `every` (at least 10 ms) until `shutdown` is cancelled.
    /// Logs each applied reload at info with its [`WebConfig::warnings`] at warn, and
    /// each new reload error at warn (neither contains secrets).
    pub fn spawn_reloader(&self, every: Duration, shutdown: CancellationToken) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(MIN_RELOAD_PERIOD));
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks.tick().await; // The first tick is immediate; the file was just loaded.
            let mut last_error: Option<String> = None;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    _ = ticks.tick() => {}
                }
                let worker = this.clone();
                match tokio::task::spawn_blocking(move || worker.reload()).await {
                    Ok(Ok(Reload::Unchanged)) => {}
                    Ok(Ok(Reload::Applied)) => {
                        last_error = None;
                        tracing::info!(file = %this.shared.path.display(), "web configuration reloaded");
                        for warning in &this.config().warnings {
                            tracing::warn!("{warning}");
                        }
                    }
                    Ok(Err(errors)) => {
                        let text = errors.to_string();
                        if last_error.as_ref() != Some(&text) {
                            tracing::warn!(
                                "web configuration not reloaded, keeping the previous one:\n{text}"
                            );
                            last_error = Some(text);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "web configuration reload task failed"),
                }
            }
        })
    }
}

impl std::fmt::Debug for WebSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSecurity")
            .field("config", &self.config())
            .finish()
    }
}
