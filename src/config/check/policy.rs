//! `policy.rules`: the declared logging rules, each checked whole, every problem named
//! by its key.

use std::sync::LazyLock;

use config_walk::{child, index, present};
use figment::value::{Dict, Value};
use regex::Regex;

use super::super::{ChecksConfig, PLANS, PolicyConfig, PolicyRule, PoolSelector, Requirement};
use super::{Checker, REGION};
use crate::model::{Kind, Source};

static RULE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9_-]+$").expect("a valid pattern"));
static ACCOUNT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{12}$").expect("a valid pattern"));

const KEY: &str = "policy";
const RULES: &str = "policy.rules";

impl Checker {
    /// `policy`: a mapping whose one key so far is `rules`.
    pub(super) fn policy(&mut self, value: &Value, checks: &ChecksConfig) -> PolicyConfig {
        let mut policy = PolicyConfig::default();
        let Some(dict) = self.walk.mapping(KEY, value, &["rules"]) else {
            return policy;
        };
        let Some(items) = present(dict.get("rules"))
            .and_then(|v| self.walk.list(RULES, v, "a list of policy rules"))
        else {
            return policy;
        };
        // The key of the first rule of each name, to name both when one comes again,
        // whatever else is wrong with either rule.
        let mut named: Vec<(&str, String)> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let key = index(RULES, i);
            let rule = self.rule(&key, item, checks);
            let name = item.find_ref("name");
            if let Some(text) = name
                .and_then(Value::as_str)
                .filter(|n| RULE_NAME.is_match(n))
            {
                if let Some((_, first)) = named.iter().find(|(n, _)| *n == text) {
                    self.walk.report_value(
                        child(&key, "name"),
                        name.unwrap_or(item),
                        format!("{text:?} is already the name of {first}"),
                    );
                    continue;
                }
                named.push((text, key));
            }
            policy.rules.extend(rule);
        }
        policy
    }

    /// One rule, when nothing in it is wrong.
    fn rule(&mut self, key: &str, value: &Value, checks: &ChecksConfig) -> Option<PolicyRule> {
        let dict = self
            .walk
            .mapping(key, value, &["name", "pools", "require"])?;
        let before = self.walk.len();
        let name = match present(dict.get("name")) {
            Some(v) => self.walk.string_matching(
                &child(key, "name"),
                v,
                &RULE_NAME,
                "a rule name of a-z, 0-9, _ and -",
            ),
            None => {
                self.walk.report_value(
                    child(key, "name"),
                    value,
                    "missing: the rule's name, its `rule` label, such as prod-error-logs",
                );
                None
            }
        };
        let pools = match present(dict.get("pools")) {
            Some(v) => self.selector(&child(key, "pools"), v),
            None => PoolSelector::default(),
        };
        let require = match present(dict.get("require")) {
            Some(v) => self.requirement(&child(key, "require"), v, checks),
            None => {
                self.walk.report_value(
                    child(key, "require"),
                    value,
                    "missing: what each selected pool must have, such as \
                     {source: userNotification, kind: cloudwatch_logs}",
                );
                None
            }
        };
        if self.walk.len() != before {
            return None;
        }
        Some(PolicyRule {
            name: name?,
            pools,
            require: require?,
        })
    }

    /// `pools`: `name`, `accounts`, `regions`, `plans`, each optional.
    fn selector(&mut self, key: &str, value: &Value) -> PoolSelector {
        let mut selector = PoolSelector::default();
        let Some(dict) = self
            .walk
            .mapping(key, value, &["name", "accounts", "regions", "plans"])
        else {
            return selector;
        };
        if let Some(v) = present(dict.get("name")) {
            selector.name = self.walk.regex(&child(key, "name"), v);
        }
        selector.accounts = self.matching_list(
            dict,
            key,
            "accounts",
            &ACCOUNT_ID,
            "a 12-digit AWS account ID",
        );
        selector.regions = self.matching_list(
            dict,
            key,
            "regions",
            &REGION,
            "an AWS region such as eu-west-1",
        );
        selector.plans = self.plans(dict, key);
        selector
    }

    /// A list of strings each matching `pattern`, not empty (it would select nothing).
    fn matching_list(
        &mut self,
        dict: &Dict,
        parent: &str,
        name: &str,
        pattern: &Regex,
        expected: &str,
    ) -> Option<Vec<String>> {
        let value = present(dict.get(name))?;
        let key = child(parent, name);
        let items = self.nonempty_list(&key, value, name)?;
        Some(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    self.walk
                        .string_matching(&index(&key, i), item, pattern, expected)
                })
                .collect(),
        )
    }

    /// `plans`: each one of [`PLANS`].
    fn plans(&mut self, dict: &Dict, parent: &str) -> Option<Vec<String>> {
        let value = present(dict.get("plans"))?;
        let key = child(parent, "plans");
        let items = self.nonempty_list(&key, value, "plans")?;
        let mut plans = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = index(&key, i);
            let Some(plan) = self.walk.string(&item_key, item) else {
                continue;
            };
            if PLANS.contains(&plan.as_str()) {
                plans.push(plan);
            } else {
                self.walk.report_value(
                    item_key,
                    item,
                    format!(
                        "{plan:?} is not a feature plan (expected one of: {})",
                        PLANS.join(", ")
                    ),
                );
            }
        }
        Some(plans)
    }

    /// A list that is not empty: an empty one would select no pool, surely not what was
    /// meant.
    fn nonempty_list<'v>(
        &mut self,
        key: &str,
        value: &'v Value,
        what: &str,
    ) -> Option<&'v [Value]> {
        let items = self.walk.list(key, value, &format!("a list of {what}"))?;
        if items.is_empty() {
            self.walk.report_value(
                key,
                value,
                format!("empty: it would select no pool; leave it out to select any {what}"),
            );
            return None;
        }
        Some(items)
    }

    /// `require`: `source` (required), `kind` (`any`), `status_ok` (false).
    fn requirement(
        &mut self,
        key: &str,
        value: &Value,
        checks: &ChecksConfig,
    ) -> Option<Requirement> {
        let dict = self
            .walk
            .mapping(key, value, &["source", "kind", "status_ok"])?;
        let source = match present(dict.get("source")) {
            Some(v) => self.source(&child(key, "source"), v),
            None => {
                self.walk.report_value(
                    child(key, "source"),
                    value,
                    "missing: the log source, userNotification or userAuthEvents",
                );
                None
            }
        };
        let kind = match present(dict.get("kind")) {
            Some(v) => self.kind(&child(key, "kind"), v),
            None => Some(None),
        };
        let mut status_ok = false;
        if let Some(v) = present(dict.get("status_ok"))
            && let Some(on) = self.walk.boolean(&child(key, "status_ok"), v)
        {
            status_ok = on;
            if on && !checks.destinations {
                self.walk.report_value(
                    child(key, "status_ok"),
                    v,
                    "needs checks.destinations: true, or no destination is ever checked",
                );
            }
        }
        Some(Requirement {
            source: source?,
            kind: kind?,
            status_ok,
        })
    }

    fn source(&mut self, key: &str, value: &Value) -> Option<Source> {
        let text = self.walk.string(key, value)?;
        let found = Source::ALL.into_iter().find(|s| s.as_str() == text);
        if found.is_none() {
            self.walk.report_value(
                key,
                value,
                format!("{text:?} is not a log source (expected one of: userNotification, userAuthEvents)"),
            );
        }
        found
    }

    /// `Some(None)` for `any`.
    fn kind(&mut self, key: &str, value: &Value) -> Option<Option<Kind>> {
        let text = self.walk.string(key, value)?;
        if text == "any" {
            return Some(None);
        }
        let found = Kind::ALL.into_iter().find(|k| k.as_str() == text);
        if found.is_none() {
            self.walk.report_value(
                key,
                value,
                format!(
                    "{text:?} is not a destination kind (expected one of: cloudwatch_logs, s3, firehose, any)"
                ),
            );
        }
        found.map(Some)
    }
}
