//! Everything the simulator remembers: user pools and their log configurations, namespaced
//! by (account, region); the access keys ([`Keys`]); the organization ([`Organization`]);
//! the fault set; the counters. All of it sits behind short-held locks that are never held
//! across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use super::credentials::Keys;
use super::error::ApiError;
use super::faults::{FaultError, FaultSet};
use super::ids::{self, BASE62};
use super::inject::Engine;
use super::model::LogConfiguration;
use super::organization::Organization;
use super::pagination;
use super::stats::{Recorder, Stats};
use super::validation;

/// A user pool as the simulator holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolInfo {
    /// `REGION_XXXXXXXXX`, derived from the seed and a creation counter.
    pub id: String,
    pub(crate) name: String,
    /// `arn:PARTITION:cognito-idp:REGION:ACCOUNT:userpool/ID`.
    pub(crate) arn: String,
    pub(crate) account_id: String,
    pub(crate) region: String,
    /// Seeded pools have fixed dates (from 2023-11-14, an hour apart) so runs compare.
    pub(crate) creation_date: SystemTime,
    /// Moves when the log configuration is set.
    pub(crate) last_modified_date: SystemTime,
    /// Empty for a pool never configured.
    pub(crate) log_configurations: Vec<LogConfiguration>,
    /// `UserPoolTier`; `ESSENTIALS`, the default of `CreateUserPool`.
    pub(crate) tier: String,
    /// `UserPoolAddOns.AdvancedSecurityMode`; `None` answers without `UserPoolAddOns`.
    pub(crate) advanced_security_mode: Option<String>,
}

/// The simulator's whole state. Tests get it from [`Simulator::state`](super::Simulator::state).
pub struct SimState {
    /// Drives every generated ID, so runs are repeatable.
    seed: u64,
    data: Mutex<Data>,
    pub(crate) keys: Keys,
    pub(crate) org: Organization,
    /// The regions pools were seeded in at start: accounts added later get pools there.
    pub(crate) seeded_regions: Vec<String>,
    /// How many pools each account got per region at start: the default for accounts
    /// added through the control endpoint.
    pub(crate) seeded_pools: usize,
    requests: AtomicU64,
    pub(crate) faults: Engine,
    pub(crate) stats: Recorder,
}

#[derive(Default)]
struct Data {
    /// Counts pool creations, for pool IDs and list order.
    created: u64,
    namespaces: HashMap<(String, String), Namespace>,
    /// Every live pool ID, so a new one is checked against all namespaces at once:
    /// seeding a large organization makes thousands of namespaces.
    ids: HashSet<String>,
}

#[derive(Default)]
struct Namespace {
    /// By creation sequence number: the `ListUserPools` order.
    pools: BTreeMap<u64, PoolInfo>,
    seq_of: HashMap<String, u64>,
}

impl SimState {
    pub(crate) fn new(default_account: String, seed: u64, assume_role_lifetime: Duration) -> Self {
        SimState {
            seed,
            data: Mutex::new(Data::default()),
            org: Organization::new(&default_account, seed),
            seeded_regions: Vec::new(),
            seeded_pools: 0,
            keys: Keys::new(default_account, seed, assume_role_lifetime),
            requests: AtomicU64::new(0),
            faults: Engine::new(seed),
            stats: Recorder::default(),
        }
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account that static access keys belong to.
    pub(crate) fn default_account(&self) -> &str {
        self.keys.default_account()
    }

    /// Creates a pool named `name` in (`account`, `region`).
    pub fn create_pool(&self, account: &str, region: &str, name: &str) -> PoolInfo {
        self.create_pool_at(account, region, name, SystemTime::now())
    }

    pub(crate) fn create_pool_at(
        &self,
        account: &str,
        region: &str,
        name: &str,
        at: SystemTime,
    ) -> PoolInfo {
        let mut data = self.data();
        let (seq, id) = loop {
            data.created += 1;
            let id = format!(
                "{region}_{}",
                ids::chars(self.seed, data.created, 9, BASE62)
            );
            if !data.ids.contains(&id) {
                break (data.created, id);
            }
        };
        let pool = PoolInfo {
            arn: format!(
                "arn:{}:cognito-idp:{region}:{account}:userpool/{id}",
                ids::partition(region)
            ),
            id: id.clone(),
            name: name.to_owned(),
            account_id: account.to_owned(),
            region: region.to_owned(),
            creation_date: at,
            last_modified_date: at,
            log_configurations: Vec::new(),
            tier: "ESSENTIALS".to_owned(),
            advanced_security_mode: None,
        };
        data.ids.insert(id.clone());
        let ns = data
            .namespaces
            .entry((account.to_owned(), region.to_owned()))
            .or_default();
        ns.seq_of.insert(id, seq);
        ns.pools.insert(seq, pool.clone());
        pool
    }

    /// Deletes a pool; false if there was none.
    pub fn delete_pool(&self, account: &str, region: &str, pool_id: &str) -> bool {
        let mut data = self.data();
        let Some(ns) = data
            .namespaces
            .get_mut(&(account.to_owned(), region.to_owned()))
        else {
            return false;
        };
        let removed = match ns.seq_of.remove(pool_id) {
            Some(seq) => ns.pools.remove(&seq).is_some(),
            None => false,
        };
        if removed {
            data.ids.remove(pool_id);
        }
        removed
    }

    /// One pool, if it exists.
    pub(crate) fn pool(&self, account: &str, region: &str, pool_id: &str) -> Option<PoolInfo> {
        self.with_pool(account, region, pool_id, |p| p.clone())
    }

    /// Every pool of (`account`, `region`), in `ListUserPools` order.
    pub fn pools(&self, account: &str, region: &str) -> Vec<PoolInfo> {
        let data = self.data();
        data.namespaces
            .get(&(account.to_owned(), region.to_owned()))
            .map(|ns| ns.pools.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn list_page(
        &self,
        account: &str,
        region: &str,
        request: &pagination::PageRequest,
    ) -> (Vec<PoolInfo>, Option<u64>) {
        let data = self.data();
        match data
            .namespaces
            .get(&(account.to_owned(), region.to_owned()))
        {
            Some(ns) => pagination::page(&ns.pools, request.after, request.max_results),
            None => (Vec::new(), None),
        }
    }

    fn with_pool<T>(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
        f: impl FnOnce(&mut PoolInfo) -> T,
    ) -> Option<T> {
        let mut data = self.data();
        let ns = data
            .namespaces
            .get_mut(&(account.to_owned(), region.to_owned()))?;
        let seq = ns.seq_of.get(pool_id)?;
        ns.pools.get_mut(seq).map(f)
    }

    /// Replaces a pool's log configurations, validated as `SetLogDeliveryConfiguration`
    /// validates them.
    pub fn set_log_configurations(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
        configs: Vec<LogConfiguration>,
    ) -> Result<(), ApiError> {
        self.set_log_configurations_at(account, region, pool_id, configs, SystemTime::now())
    }

    pub(crate) fn set_log_configurations_at(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
        configs: Vec<LogConfiguration>,
        at: SystemTime,
    ) -> Result<(), ApiError> {
        if self.pool(account, region, pool_id).is_none() {
            return Err(ApiError::pool_not_found(pool_id));
        }
        validation::validate(&configs)?;
        self.with_pool(account, region, pool_id, |p| {
            p.log_configurations = configs;
            p.last_modified_date = at;
        })
        .ok_or_else(|| ApiError::pool_not_found(pool_id))
    }

    /// Sets a pool's feature plan (`UserPoolTier`) and threat protection
    /// (`AdvancedSecurityMode`; `None` for no `UserPoolAddOns`), moving its
    /// `LastModifiedDate` as an update does. Not validated: tests may set any value.
    /// False if the pool does not exist.
    pub fn set_pool_tier(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
        tier: &str,
        advanced_security_mode: Option<&str>,
    ) -> bool {
        self.with_pool(account, region, pool_id, |p| {
            p.tier = tier.to_owned();
            p.advanced_security_mode = advanced_security_mode.map(str::to_owned);
            // Later than any date the pool had, even within the same second.
            p.last_modified_date =
                SystemTime::now().max(p.last_modified_date + Duration::from_secs(1));
        })
        .is_some()
    }

    /// A pool's log configurations; `None` if the pool does not exist.
    pub fn log_configurations(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
    ) -> Option<Vec<LogConfiguration>> {
        self.with_pool(account, region, pool_id, |p| p.log_configurations.clone())
    }

    /// Replaces the fault set (the `PUT /_sim/faults` of the Rust API).
    pub fn set_faults(&self, faults: FaultSet) -> Result<(), FaultError> {
        faults.validate()?;
        self.faults.replace(faults);
        Ok(())
    }

    /// The fault set in force.
    pub fn faults(&self) -> FaultSet {
        self.faults.current()
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.faults.replace(FaultSet::default());
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.stats.snapshot()
    }

    /// Zeroes the counters.
    pub(crate) fn reset_stats(&self) {
        self.stats.reset();
    }

    pub(crate) fn next_request_id(&self) -> String {
        ids::request_id(self.seed, self.requests.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::Destination;

    fn state() -> SimState {
        SimState::new("123456789012".into(), 7, Duration::from_secs(3600))
    }

    #[test]
    fn pools_are_namespaced_and_ids_repeatable() {
        let (a, b) = (state(), state());
        let p = a.create_pool("123456789012", "eu-west-1", "one");
        assert_eq!(p.id, b.create_pool("123456789012", "eu-west-1", "one").id);
        assert!(p.id.starts_with("eu-west-1_") && p.id.len() == "eu-west-1_".len() + 9);
        assert_eq!(
            p.arn,
            format!(
                "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/{}",
                p.id
            )
        );
        assert!(a.pool("123456789012", "us-east-1", &p.id).is_none());
        assert!(a.pool("999999999999", "eu-west-1", &p.id).is_none());
        assert!(a.delete_pool("123456789012", "eu-west-1", &p.id));
        assert!(!a.delete_pool("123456789012", "eu-west-1", &p.id));
        assert!(a.pools("123456789012", "eu-west-1").is_empty());
    }

    #[test]
    fn log_configurations_are_validated_and_stored() {
        let s = state();
        let p = s.create_pool("123456789012", "us-east-1", "p");
        assert_eq!(
            s.log_configurations("123456789012", "us-east-1", &p.id),
            Some(vec![])
        );
        let good = vec![LogConfiguration::user_auth_events(Destination::S3(
            "arn:aws:s3:::bucket".into(),
        ))];
        s.set_log_configurations("123456789012", "us-east-1", &p.id, good.clone())
            .expect("valid");
        assert_eq!(
            s.log_configurations("123456789012", "us-east-1", &p.id),
            Some(good)
        );
        let bad = vec![LogConfiguration::user_notification("nope")];
        let err = s
            .set_log_configurations("123456789012", "us-east-1", &p.id, bad)
            .expect_err("bad arn");
        assert_eq!(err.code, ErrorCode::InvalidParameterException);
        let err = s
            .set_log_configurations("123456789012", "us-east-1", "us-east-1_missing", vec![])
            .expect_err("no pool");
        assert_eq!(err.code, ErrorCode::ResourceNotFoundException);
    }
}
