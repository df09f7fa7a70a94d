//! The organization's accounts, read through AWS Organizations: every active account,
//! or those in some organizational units and below them. Its calls are paced by a
//! limiter of their own and counted like a target's, under the account whose
//! credentials make them (the `role_arn` account; empty with the exporter's own
//! credentials, which discovery does not look up) and the region Organizations lives in.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

use super::attempts::AttemptRecorder;
use super::errors::Failure;
use super::limiter::Limiter;
use super::members::RequiredMembers;
use super::{ClientBase, assuming, base_config};
use crate::config::{OrganizationsDiscovery, PollConfig};
use crate::metrics::ApiMetrics;
use crate::model::TargetId;

/// Pages one listing may take: 10,000 accounts at the API's 20 per page is 500, and a
/// service that keeps answering a token past this is not ending.
const MAX_PAGES: usize = 5_000;
/// Organizational units walked below the ones configured; AWS allows at most 2,000 in
/// an organization.
const MAX_UNITS: usize = 10_000;

/// An active member account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct OrgAccount {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// A client of AWS Organizations for discovery.
#[derive(Debug)]
pub(crate) struct Organizations {
    client: aws_sdk_organizations::Client,
}

impl Organizations {
    /// Sets up the client; nothing is called yet.
    pub(crate) async fn new(
        discovery: &OrganizationsDiscovery,
        poll: &PollConfig,
        metrics: &ApiMetrics,
        base: &ClientBase,
    ) -> Self {
        let limiter = Arc::new(Limiter::new(poll.requests_per_second));
        let region = home_region(&discovery.regions);
        let mut sdk = base_config(
            Some(region),
            discovery.endpoint_url.as_deref(),
            poll,
            &limiter,
            base,
        )
        .await;
        let account = discovery
            .role_arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .unwrap_or_default();
        let recorder = AttemptRecorder {
            id: Arc::new(TargetId::new(account, region)),
            metrics: metrics.clone(),
            limiter,
            attempts: Arc::new(AtomicU64::new(0)),
        };
        if let Some(role) = &discovery.role_arn {
            let shared = base
                .shared(Some(region), discovery.endpoint_url.as_deref())
                .await;
            sdk = assuming(
                sdk,
                &shared.sts,
                role,
                discovery.external_id.as_deref(),
                recorder.clone(),
            );
        }
        let client = aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&sdk)
                .interceptor(RequiredMembers)
                .interceptor(recorder)
                .build(),
        );
        Self { client }
    }

    /// The active accounts `discovery` lists, sorted by ID: in its organizational units
    /// and below them (every account when none is given). The account filters are the
    /// caller's.
    pub(crate) async fn accounts(
        &self,
        discovery: &OrganizationsDiscovery,
    ) -> Result<Vec<OrgAccount>, Failure> {
        let mut found = BTreeMap::new();
        if discovery.organizational_units.is_empty() {
            self.list_accounts(None, &mut found).await?;
        } else {
            let mut queue: VecDeque<String> =
                discovery.organizational_units.iter().cloned().collect();
            let mut seen: HashSet<String> = queue.iter().cloned().collect();
            while let Some(parent) = queue.pop_front() {
                self.list_accounts(Some(&parent), &mut found).await?;
                for child in self.children(&parent).await? {
                    if seen.len() < MAX_UNITS && seen.insert(child.clone()) {
                        queue.push_back(child);
                    }
                }
            }
        }
        Ok(found.into_values().collect())
    }

    /// Adds the active accounts directly under `parent` (every account of the
    /// organization when `None`) to `found`.
    async fn list_accounts(
        &self,
        parent: Option<&str>,
        found: &mut BTreeMap<String, OrgAccount>,
    ) -> Result<(), Failure> {
        let mut token: Option<String> = None;
        let mut tokens = HashSet::new();
        for _ in 0..MAX_PAGES {
            let (accounts, next) = match parent {
                None => {
                    let page = self
                        .client
                        .list_accounts()
                        .set_next_token(token.take())
                        .send()
                        .await
                        .map_err(|e| Failure::of("ListAccounts", &e))?;
                    (page.accounts, page.next_token)
                }
                Some(parent) => {
                    let page = self
                        .client
                        .list_accounts_for_parent()
                        .parent_id(parent)
                        .set_next_token(token.take())
                        .send()
                        .await
                        .map_err(|e| Failure::of("ListAccountsForParent", &e))?;
                    (page.accounts, page.next_token)
                }
            };
            for account in accounts.unwrap_or_default() {
                if let Some(a) = active(account) {
                    found.insert(a.id.clone(), a);
                }
            }
            match next {
                None => return Ok(()),
                Some(next) if !tokens.insert(next.clone()) => {
                    return Err(repeated(
                        parent.map_or("ListAccounts", |_| "ListAccountsForParent"),
                    ));
                }
                Some(next) => token = Some(next),
            }
        }
        Err(repeated(
            parent.map_or("ListAccounts", |_| "ListAccountsForParent"),
        ))
    }

    /// The organizational units directly under `parent`.
    async fn children(&self, parent: &str) -> Result<Vec<String>, Failure> {
        const OPERATION: &str = "ListOrganizationalUnitsForParent";
        let mut units = Vec::new();
        let mut token: Option<String> = None;
        let mut tokens = HashSet::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(parent)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| Failure::of(OPERATION, &e))?;
            units.extend(
                page.organizational_units
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|ou| ou.id),
            );
            match page.next_token {
                None => return Ok(units),
                Some(next) if !tokens.insert(next.clone()) => return Err(repeated(OPERATION)),
                Some(next) => token = Some(next),
            }
        }
        Err(repeated(OPERATION))
    }
}

/// The account, if it is active and has an ID. `State` is the newer member; older
/// answers carry only `Status`.
fn active(account: Account) -> Option<OrgAccount> {
    let is_active = match (&account.state, &account.status) {
        (Some(state), _) => *state == AccountState::Active,
        (None, Some(status)) => *status == AccountStatus::Active,
        (None, None) => false,
    };
    let id = account.id.filter(|id| is_active && !id.is_empty())?;
    Some(OrgAccount {
        name: account.name.unwrap_or_default(),
        id,
    })
}

fn repeated(operation: &'static str) -> Failure {
    Failure::malformed(
        operation,
        "the listing did not end: a pagination token came back, or too many pages",
        None,
    )
}

/// Where Organizations is called: its one region in each partition.
fn home_region(regions: &[String]) -> &'static str {
    match regions.first().map(String::as_str) {
        Some(r) if r.starts_with("us-gov-") => "us-gov-west-1",
        Some(r) if r.starts_with("cn-") => "cn-northwest-1",
        _ => "us-east-1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_accounts_with_an_id() {
        let account = |state: Option<AccountState>, status: Option<AccountStatus>| {
            Account::builder()
                .id("111111111111")
                .name("prod-001")
                .set_state(state)
                .set_status(status)
                .build()
        };
        assert!(active(account(Some(AccountState::Active), None)).is_some());
        assert!(active(account(None, Some(AccountStatus::Active))).is_some());
        assert!(
            active(account(
                Some(AccountState::Suspended),
                Some(AccountStatus::Active)
            ))
            .is_none()
        );
        assert!(active(account(None, Some(AccountStatus::Suspended))).is_none());
        assert!(active(account(None, None)).is_none());
        assert!(active(Account::builder().state(AccountState::Active).build()).is_none());
    }

    #[test]
    fn organizations_lives_in_one_region_per_partition() {
        assert_eq!(home_region(&["eu-west-1".into()]), "us-east-1");
        assert_eq!(home_region(&["us-gov-east-1".into()]), "us-gov-west-1");
        assert_eq!(home_region(&["cn-north-1".into()]), "cn-northwest-1");
    }
}
