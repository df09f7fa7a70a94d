//! `discovery.organizations`: checked like a target, with the keys that say which
//! accounts and regions the organization contributes.

use std::sync::LazyLock;
use std::time::Duration;

use config_walk::{child, index};
use figment::value::{Dict, Value};
use regex::Regex;

use super::super::bounds;
use super::super::{ACCOUNT_ID_PLACEHOLDER, OrganizationsDiscovery};
use super::{Checker, EXTERNAL_ID, REGION, ROLE_ARN};

/// An organizational unit (`ou-xxxx-xxxxxxxx`) or the root (`r-xxxx`), as the
/// Organizations API writes them.
static PARENT_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$").expect("a valid pattern")
});

const KEY: &str = "discovery.organizations";

impl Checker {
    /// `discovery`: a mapping whose one key so far is `organizations`.
    pub(super) fn discovery(&mut self, value: &Value) -> Option<OrganizationsDiscovery> {
        let dict = self.walk.mapping("discovery", value, &["organizations"])?;
        let Some(org) = dict.get("organizations") else {
            self.walk.report_value(
                "discovery",
                value,
                "give discovery.organizations, or leave discovery out",
            );
            return None;
        };
        self.organizations(org)
    }

    fn organizations(&mut self, value: &Value) -> Option<OrganizationsDiscovery> {
        let dict = self.walk.mapping(
            KEY,
            value,
            &[
                "role_arn",
                "external_id",
                "member_role_arn",
                "member_external_id",
                "regions",
                "organizational_units",
                "accounts",
                "pools",
                "refresh_interval",
                "endpoint_url",
            ],
        )?;
        let before = self.walk.len();
        let role_arn = self.matching(dict, "role_arn", &ROLE_ARN, ROLE_TEXT);
        let external_id = self.matching(dict, "external_id", &EXTERNAL_ID, EXTERNAL_ID_TEXT);
        if external_id.is_some() && role_arn.is_none() {
            self.only_with_role(dict, "external_id", "role_arn");
        }
        let member_role_arn = self.member_role_arn(dict, value);
        let member_external_id =
            self.matching(dict, "member_external_id", &EXTERNAL_ID, EXTERNAL_ID_TEXT);
        let regions = self.regions(dict, value);
        let organizational_units = match dict.get("organizational_units") {
            Some(v) => self.parents(v),
            None => Vec::new(),
        };
        let (account_include, account_exclude) = self.filters(dict, "accounts");
        let (pool_include, pool_exclude) = self.filters(dict, "pools");
        let mut refresh_interval = Duration::from_secs(600);
        if let Some(v) = dict.get("refresh_interval")
            && let Some(d) = self.duration(&child(KEY, "refresh_interval"), v, &bounds::INTERVAL)
        {
            refresh_interval = d;
        }
        let endpoint_url = dict
            .get("endpoint_url")
            .and_then(|v| self.endpoint(&child(KEY, "endpoint_url"), v));
        (self.walk.len() == before).then_some(OrganizationsDiscovery {
            role_arn,
            external_id,
            member_role_arn: member_role_arn?,
            member_external_id,
            regions,
            organizational_units,
            account_include,
            account_exclude,
            pool_include,
            pool_exclude,
            refresh_interval,
            endpoint_url,
        })
    }

    fn matching(
        &mut self,
        dict: &Dict,
        name: &str,
        pattern: &Regex,
        expected: &str,
    ) -> Option<String> {
        let v = dict.get(name)?;
        self.walk
            .string_matching(&child(KEY, name), v, pattern, expected)
    }

    fn only_with_role(&mut self, dict: &Dict, name: &str, role: &str) {
        self.walk.report_value(
            child(KEY, name),
            &dict[name],
            format!("only meaningful with {role}"),
        );
    }

    /// Required, with the placeholder, and a role ARN once an account ID replaces it.
    fn member_role_arn(&mut self, dict: &Dict, parent: &Value) -> Option<String> {
        let key = child(KEY, "member_role_arn");
        let Some(v) = dict.get("member_role_arn") else {
            self.walk.report_value(
                &key,
                parent,
                "missing: the role to assume in each member account, such as \
                 arn:aws:iam::{account_id}:role/cognito-exporter",
            );
            return None;
        };
        let template = self.walk.string(&key, v)?;
        let example = template.replace(ACCOUNT_ID_PLACEHOLDER, "123456789012");
        if !template.contains(ACCOUNT_ID_PLACEHOLDER) || !ROLE_ARN.is_match(&example) {
            self.walk.report_value(
                &key,
                v,
                format!(
                    "{template:?} is not a role ARN with {ACCOUNT_ID_PLACEHOLDER} for the \
                     account, such as arn:aws:iam::{{account_id}}:role/cognito-exporter"
                ),
            );
            return None;
        }
        Some(template)
    }

    /// Required and not empty; each region once.
    fn regions(&mut self, dict: &Dict, parent: &Value) -> Vec<String> {
        let key = child(KEY, "regions");
        let Some(v) = dict.get("regions") else {
            self.walk.report_value(
                &key,
                parent,
                "missing: the regions to poll in every account, such as [eu-west-1]",
            );
            return Vec::new();
        };
        let Some(items) = self.walk.list(&key, v, "a list of AWS regions") else {
            return Vec::new();
        };
        if items.is_empty() {
            self.walk
                .report_value(&key, v, "empty: give at least one region");
        }
        let mut regions: Vec<String> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = index(&key, i);
            let Some(region) = self.walk.string_matching(
                &item_key,
                item,
                &REGION,
                "an AWS region such as eu-west-1",
            ) else {
                continue;
            };
            if regions.contains(&region) {
                self.walk
                    .report_value(item_key, item, format!("{region} is listed twice"));
            } else {
                regions.push(region);
            }
        }
        regions
    }

    fn parents(&mut self, v: &Value) -> Vec<String> {
        let key = child(KEY, "organizational_units");
        let Some(items) = self.walk.list(&key, v, "a list of organizational unit IDs") else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                self.walk.string_matching(
                    &index(&key, i),
                    item,
                    &PARENT_ID,
                    "an organizational unit ID such as ou-ab12-34cd56ef, or a root ID such as r-ab12",
                )
            })
            .collect()
    }

    /// `accounts` or `pools`: `include` and `exclude` patterns.
    fn filters(&mut self, dict: &Dict, name: &str) -> (Option<Regex>, Option<Regex>) {
        let key = child(KEY, name);
        let Some(v) = dict.get(name) else {
            return (None, None);
        };
        let Some(filters) = self.walk.mapping(&key, v, &["include", "exclude"]) else {
            return (None, None);
        };
        let mut pattern = |which: &str| {
            let v = filters.get(which)?;
            self.walk.regex(&child(&key, which), v)
        };
        (pattern("include"), pattern("exclude"))
    }
}

const ROLE_TEXT: &str = "an IAM role ARN such as arn:aws:iam::123456789012:role/name";
const EXTERNAL_ID_TEXT: &str = "2 to 1224 characters of letters, digits and +=,.@:/-";
