//! The fleet: the one owner of the set of targets this process polls and of their
//! tasks. The set is the configuration's static targets plus, with
//! `discovery.organizations`, every selected account of the organization in every
//! listed region, less the targets of other shards ([`Shard`]). When the set changes (a
//! reload, a new account list) the fleet starts a task for each new target, stops each
//! one that left (its series and counters go with it), and hands changed settings to
//! the others, which apply them from their next cycle: their series, limiter and cycle
//! schedule go on untouched.
//!
//! - `desired`: the targets the configuration and the last listing ask for.
//! - `discovery`: the task that lists the organization's accounts.

mod desired;
mod discovery;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::aws::{ClientBase, Connection, OrgAccount};
use crate::config::{
    ChecksConfig, Config, OrganizationsDiscovery, PolicyConfig, PollConfig, TargetConfig,
};
use crate::exposition::Exposition;
use crate::health::{Readiness, ReadyToken};
use crate::lifecycle::{ReloadRequest, Reloader};
use crate::metrics::{ApiMetrics, FleetMetrics, PollMetrics};
use crate::poll::{Settings, TargetTask};
use crate::shard::Shard;
use desired::{Key, same_settings};
use discovery::Listing;

/// A static target that cannot be set up (no region anywhere): `targets[index]`.
#[derive(Debug, thiserror::Error)]
#[error("targets[{index}]: {source}")]
pub(crate) struct SetupError {
    pub(crate) index: usize,
    pub(crate) source: aws_smithy_runtime_api::box_error::BoxError,
}

/// What every target's task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) api: ApiMetrics,
    pub(crate) polls: PollMetrics,
    pub(crate) fleet: FleetMetrics,
    pub(crate) exposition: Arc<Exposition>,
    pub(crate) readiness: Arc<Readiness>,
    pub(crate) clients: ClientBase,
    pub(crate) shard: Shard,
}

/// A target's running task.
#[derive(Debug)]
struct Running {
    settings: watch::Sender<Arc<Settings>>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// The discovery task of the configuration in force.
#[derive(Debug)]
struct Discovery {
    config: OrganizationsDiscovery,
    /// The `poll` settings its client was made with.
    poll: PollConfig,
    stop: CancellationToken,
    /// Which discovery this is: a listing of a replaced one is ignored.
    generation: u64,
    /// The accounts of the last successful listing, before the account filters.
    accounts: Option<Vec<OrgAccount>>,
}

/// Owns the targets and their tasks; runs until shutdown.
#[derive(Debug)]
pub(crate) struct Fleet {
    shared: Shared,
    poll: PollConfig,
    checks: ChecksConfig,
    policy: Arc<PolicyConfig>,
    statics: Vec<TargetConfig>,
    discovery: Option<Discovery>,
    running: BTreeMap<Key, Running>,
    /// Holds readiness until the first listing of the organization has been tried.
    discovery_ready: Option<ReadyToken>,
    listings: (mpsc::Sender<Listing>, mpsc::Receiver<Listing>),
    /// Discoveries started so far.
    generations: u64,
    shutdown: CancellationToken,
}

/// What a reload changed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Changes {
    added: usize,
    removed: usize,
    updated: usize,
}

impl Fleet {
    /// Starts the tasks of `config`'s targets (and its discovery); readiness waits for
    /// their first cycles. Fails when a static target cannot be set up (no region).
    pub(crate) async fn start(
        config: Config,
        shared: Shared,
        shutdown: CancellationToken,
    ) -> Result<Self, SetupError> {
        shared
            .fleet
            .set_shard(shared.shard.ordinal(), shared.shard.total());
        let mut fleet = Self {
            shared,
            poll: config.poll,
            checks: config.checks,
            policy: Arc::new(config.policy),
            statics: config.targets,
            discovery: None,
            running: BTreeMap::new(),
            discovery_ready: None,
            listings: mpsc::channel(4),
            generations: 0,
            shutdown,
        };
        let connections = fleet.connect_statics().await?;
        fleet.discovery_ready = config
            .discovery
            .is_some()
            .then(|| fleet.shared.readiness.expect());
        fleet.set_discovery(config.discovery).await;
        fleet.reconcile(connections, true).await;
        fleet.shared.fleet.reloaded(true, unix_now());
        Ok(fleet)
    }

    /// Serves reload requests and account listings until shutdown, then stops every
    /// target and waits for them.
    pub(crate) async fn run(
        mut self,
        mut reloads: mpsc::Receiver<ReloadRequest>,
        reloader: Option<Reloader>,
    ) {
        loop {
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                Some(request) = reloads.recv() => {
                    let result = match &reloader {
                        Some(reload) => self.reload(reload).await,
                        None => Err(vec!["this exporter was started without a configuration to reload".to_owned()]),
                    };
                    // The requester may have gone (a client that hung up): nothing to tell.
                    let _ = request.reply.send(result);
                }
                Some(listing) = self.listings.1.recv() => self.listed(listing).await,
            }
        }
        if let Some(discovery) = &self.discovery {
            discovery.stop.cancel();
        }
        let keys: Vec<Key> = self.running.keys().cloned().collect();
        self.stop(&keys).await;
    }

    /// Reads the configuration again and applies it; a configuration with problems
    /// changes nothing.
    async fn reload(&mut self, reloader: &Reloader) -> Result<(), Vec<String>> {
        let result = match reloader() {
            Ok(config) => self.apply(config).await,
            Err(problems) => Err(problems),
        };
        match &result {
            Ok(changes) => tracing::info!(
                added = changes.added,
                removed = changes.removed,
                updated = changes.updated,
                targets = self.running.len(),
                "configuration reloaded"
            ),
            Err(problems) => {
                for problem in problems {
                    tracing::error!("reload: invalid configuration: {problem}");
                }
                tracing::error!(
                    "configuration not reloaded: the running targets go on with the previous one"
                );
            }
        }
        self.shared.fleet.reloaded(result.is_ok(), unix_now());
        result.map(|_| ())
    }

    /// Applies a validated configuration.
    async fn apply(&mut self, config: Config) -> Result<Changes, Vec<String>> {
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        let (old_poll, old_statics) = (self.poll.clone(), std::mem::take(&mut self.statics));
        self.poll = config.poll;
        self.statics = config.targets;
        // The environment is read again for the targets set up from now on.
        self.shared.clients.read_again().await;
        // New static targets are set up before anything changes, so one that cannot be
        // (no region anywhere) fails the reload whole.
        let connections = match self.connect_statics().await {
            Ok(connections) => connections,
            Err(e) => {
                self.poll = old_poll;
                self.statics = old_statics;
                return Err(vec![e.to_string()]);
            }
        };
        self.checks = config.checks;
        self.policy = Arc::new(config.policy);
        self.set_discovery(config.discovery).await;
        Ok(self.reconcile(connections, false).await)
    }

    /// Connections for the static targets not yet running.
    async fn connect_statics(&self) -> Result<BTreeMap<Key, Connection>, SetupError> {
        let mut connections = BTreeMap::new();
        for (index, target) in self.statics.iter().enumerate() {
            let key = Key::of(target);
            if self.running.contains_key(&key) || !self.static_is_ours(target) {
                continue;
            }
            let connection =
                Connection::new(target, &self.poll, &self.shared.api, &self.shared.clients)
                    .await
                    .map_err(|source| SetupError { index, source })?;
            connections.insert(key, connection);
        }
        Ok(connections)
    }

    /// Starts, restarts or stops discovery for `config` (restarts it too when the `poll`
    /// time limits or pace its client was made with changed). A new listing starts at
    /// once; the accounts of the last one are kept until it answers.
    async fn set_discovery(&mut self, config: Option<OrganizationsDiscovery>) {
        self.shared.fleet.set_discovery(config.is_some());
        let unchanged = match (&self.discovery, &config) {
            (Some(running), Some(new)) => {
                discovery::same_listing(&running.config, new)
                    && discovery::same_client(&running.poll, &self.poll)
            }
            (None, None) => true,
            _ => false,
        };
        if unchanged {
            if let (Some(running), Some(new)) = (&mut self.discovery, config) {
                running.config = new;
            }
            return;
        }
        let accounts = self.discovery.take().and_then(|old| {
            old.stop.cancel();
            old.accounts
        });
        let Some(config) = config else {
            self.discovery_ready = None;
            return;
        };
        let stop = self.shutdown.child_token();
        self.generations += 1;
        let generation = self.generations;
        discovery::spawn(
            config.clone(),
            generation,
            &self.poll,
            &self.shared,
            self.listings.0.clone(),
            stop.clone(),
        )
        .await;
        self.discovery = Some(Discovery {
            config,
            poll: self.poll.clone(),
            stop,
            generation,
            accounts,
        });
    }

    /// A listing of the organization ended: on success its accounts replace the last
    /// ones; on failure the targets found before go on.
    async fn listed(&mut self, listing: Listing) {
        if let (Some(discovery), Some(accounts)) = (&mut self.discovery, listing.accounts)
            && discovery.generation == listing.generation
        {
            discovery.accounts = Some(accounts);
            let initial = self.discovery_ready.is_some();
            let changes = self.reconcile(BTreeMap::new(), initial).await;
            if changes != Changes::default() {
                tracing::info!(
                    added = changes.added,
                    removed = changes.removed,
                    targets = self.running.len(),
                    "targets follow the organization"
                );
            }
        }
        self.discovery_ready = None;
    }

    /// Makes the running tasks the desired ones: stops those that left, hands new
    /// settings to those that stay, starts the new ones (`connections` holds those of
    /// new static targets). `initial` targets hold readiness until their first cycle.
    async fn reconcile(
        &mut self,
        mut connections: BTreeMap<Key, Connection>,
        initial: bool,
    ) -> Changes {
        let desired = self.desired();
        let mut changes = Changes::default();
        let gone: Vec<Key> = self
            .running
            .keys()
            .filter(|k| !desired.contains_key(k))
            .cloned()
            .collect();
        changes.removed = gone.len();
        self.stop(&gone).await;
        for (key, (settings, target)) in desired {
            if let Some(running) = self.running.get(&key) {
                let current = running.settings.borrow().clone();
                if !same_settings(&current, &settings) {
                    running.settings.send_replace(Arc::new(settings));
                    changes.updated += 1;
                }
                continue;
            }
            let connection = match connections.remove(&key) {
                Some(connection) => connection,
                None => match Connection::new(
                    &target,
                    &self.poll,
                    &self.shared.api,
                    &self.shared.clients,
                )
                .await
                {
                    Ok(connection) => connection,
                    Err(e) => {
                        tracing::error!(target_name = %settings.name, error = %e, "cannot set up the target");
                        continue;
                    }
                },
            };
            self.spawn(key, settings, connection, initial);
            changes.added += 1;
        }
        self.shared.fleet.set_targets(self.running.len());
        changes
    }

    fn spawn(&mut self, key: Key, settings: Settings, connection: Connection, initial: bool) {
        let (sender, receiver) = watch::channel(Arc::new(settings));
        let ready = if initial {
            self.shared.readiness.expect()
        } else {
            ReadyToken::default()
        };
        let task = TargetTask {
            settings: receiver,
            connection,
            metrics: self.shared.api.clone(),
            polls: self.shared.polls.clone(),
            exposition: Arc::clone(&self.shared.exposition),
            ready,
        };
        let stop = self.shutdown.child_token();
        let handle = tokio::spawn(task.run(stop.clone()));
        self.running.insert(
            key,
            Running {
                settings: sender,
                stop,
                task: handle,
            },
        );
    }

    /// Stops the tasks of `keys` and waits until they have ended, so their series are
    /// gone from the next scrape.
    async fn stop(&mut self, keys: &[Key]) {
        let stopped: Vec<Running> = keys.iter().filter_map(|k| self.running.remove(k)).collect();
        for running in &stopped {
            running.stop.cancel();
        }
        for running in stopped {
            if let Err(e) = running.task.await
                && e.is_panic()
            {
                tracing::error!(error = %e, "a target's task panicked");
            }
        }
        self.shared.fleet.set_targets(self.running.len());
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
