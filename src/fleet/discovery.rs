//! The organization's accounts, listed at start and every `refresh_interval`. Each
//! listing goes to the fleet; a failed one is counted (the API error counters), logged
//! and changes nothing, so a passing Organizations outage never stops a target.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{Shared, unix_now};
use crate::aws::{OrgAccount, Organizations};
use crate::config::{OrganizationsDiscovery, PollConfig};

/// The end of one listing.
#[derive(Debug)]
pub(super) struct Listing {
    /// The discovery that made it.
    pub(super) generation: u64,
    /// The accounts, `None` when the listing failed.
    pub(super) accounts: Option<Vec<OrgAccount>>,
}

/// Whether `a` and `b` list the same accounts: the same caller, endpoint, units and
/// refresh interval. (The account filters, regions and member role are the fleet's,
/// applied to the last listing without listing again.)
pub(super) fn same_listing(a: &OrganizationsDiscovery, b: &OrganizationsDiscovery) -> bool {
    a.role_arn == b.role_arn
        && a.external_id == b.external_id
        && a.endpoint_url == b.endpoint_url
        && a.organizational_units == b.organizational_units
        && a.refresh_interval == b.refresh_interval
}

/// Whether a client made with `a` calls Organizations as one made with `b` would: the
/// same time limits and pace.
pub(super) fn same_client(a: &PollConfig, b: &PollConfig) -> bool {
    a.timeout == b.timeout
        && a.requests_per_second
            .total_cmp(&b.requests_per_second)
            .is_eq()
}

/// Starts listing in the background until `stop`.
pub(super) async fn spawn(
    config: OrganizationsDiscovery,
    generation: u64,
    poll: &PollConfig,
    shared: &Shared,
    listings: mpsc::Sender<Listing>,
    stop: CancellationToken,
) {
    let client = Organizations::new(&config, poll, &shared.api, &shared.clients).await;
    let metrics = shared.fleet.clone();
    tokio::spawn(async move {
        loop {
            let accounts = tokio::select! {
                () = stop.cancelled() => return,
                result = client.accounts(&config) => result,
            };
            let accounts = match accounts {
                Ok(accounts) => {
                    metrics.discovered(unix_now());
                    tracing::info!(accounts = accounts.len(), "organization listed");
                    Some(accounts)
                }
                Err(failure) => {
                    failure.warn(
                        "",
                        None,
                        "cannot list the organization's accounts: the targets found before go on",
                    );
                    None
                }
            };
            if listings
                .send(Listing {
                    generation,
                    accounts,
                })
                .await
                .is_err()
            {
                return;
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(jitter(config.refresh_interval)) => {}
            }
        }
    });
}

/// The refresh interval, plus up to 2% so replicas do not list in step.
fn jitter(interval: Duration) -> Duration {
    interval + (interval / 50).mul_f64(rand::random::<f64>())
}
