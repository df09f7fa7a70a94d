//! The targets this process should poll: the static ones, and every selected account
//! of the last listing in every region, less other shards' and the discovered ones a
//! static target already polls; each under the key that says whether it is one already
//! running.

use super::Fleet;
use crate::config::TargetConfig;
use crate::model::TargetId;
use crate::poll::Settings;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What makes two targets one: where and as whom they call AWS. A target whose key is
/// unchanged by a reload keeps running; its other settings (pool filters, `poll`) are
/// handed to it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Key {
    region: Option<String>,
    role_arn: Option<String>,
    external_id: Option<String>,
    endpoint_url: Option<String>,
}

impl Key {
    pub(super) fn of(target: &TargetConfig) -> Self {
        Self {
            region: target.region.clone(),
            role_arn: target.role_arn.clone(),
            external_id: target.external_id.clone(),
            endpoint_url: target.endpoint_url.clone(),
        }
    }
}

impl Fleet {
    /// Every target this process should poll now, by key, with its settings.
    pub(super) fn desired(&self) -> BTreeMap<Key, (Settings, TargetConfig)> {
        let mut desired = BTreeMap::new();
        for (index, target) in self.statics.iter().enumerate() {
            if !self.static_is_ours(target) {
                continue;
            }
            let settings = self.settings(format!("targets[{index}]"), false, target);
            desired.insert(Key::of(target), (settings, target.clone()));
        }
        let Some(super::Discovery {
            config,
            accounts: Some(accounts),
            ..
        }) = &self.discovery
        else {
            return desired;
        };
        for account in accounts
            .iter()
            .filter(|a| config.wants_account(&a.id, &a.name))
        {
            for region in &config.regions {
                let id = TargetId::new(account.id.clone(), region.clone());
                if !self.shared.shard.owns(&id) {
                    continue;
                }
                let target = config.target(&account.id, region);
                let key = Key::of(&target);
                if let Some(configured) = self.configured_as(&key, &id) {
                    tracing::warn!(
                        account = %id.account_id,
                        region = %id.region,
                        "discovered account {} in {} is already {configured}: polled once, as {configured}",
                        id.account_id,
                        id.region,
                    );
                    continue;
                }
                let name = format!("account {} ({}) in {region}", account.id, account.name);
                let settings = self.settings(name, true, &target);
                desired.insert(key, (settings, target));
            }
        }
        desired
    }

    /// The static target that already polls `id` (or has the same `key`), by name.
    fn configured_as(&self, key: &Key, id: &TargetId) -> Option<String> {
        self.statics.iter().enumerate().find_map(|(i, t)| {
            let same_account = t.role_account_id() == Some(id.account_id.as_str())
                && t.region.as_deref() == Some(id.region.as_str());
            (same_account || Key::of(t) == *key).then(|| format!("targets[{i}]"))
        })
    }

    pub(super) fn settings(
        &self,
        name: String,
        discovered: bool,
        target: &TargetConfig,
    ) -> Settings {
        Settings {
            name: name.into(),
            discovered,
            target: target.clone(),
            poll: self.poll.clone(),
            shard: self.shared.shard,
            checks: self.checks.clone(),
            policy: Arc::clone(&self.policy),
        }
    }

    /// Whether a static target may be this shard's: when its role names the account,
    /// the shard decides now; otherwise the target learns its account and decides then.
    pub(super) fn static_is_ours(&self, target: &TargetConfig) -> bool {
        match (target.role_account_id(), &target.region) {
            (Some(account), Some(region)) => self
                .shared
                .shard
                .owns(&TargetId::new(account, region.clone())),
            _ => true,
        }
    }
}

/// Whether two settings would poll alike (the regexes compared by their patterns).
pub(super) fn same_settings(a: &Settings, b: &Settings) -> bool {
    let pattern = |re: &Option<regex::Regex>| re.as_ref().map(|r| r.as_str().to_owned());
    a.name == b.name
        && a.discovered == b.discovered
        && a.poll == b.poll
        && a.shard == b.shard
        && a.checks == b.checks
        && a.policy == b.policy
        && a.target.user_pools == b.target.user_pools
        && pattern(&a.target.include) == pattern(&b.target.include)
        && pattern(&a.target.exclude) == pattern(&b.target.exclude)
}
