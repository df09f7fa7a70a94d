//! A user pool's feature plan (`UserPoolTier`) and threat protection
//! (`UserPoolAddOns.AdvancedSecurityMode`): their wire forms, how `CreateUserPool` and
//! `UpdateUserPool` send them, and the rule that threat protection needs the Plus plan.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::{ApiError, ErrorCode, Violations};
use super::state::{PoolInfo, SimState};
use super::validation::opt_str;

/// A pool's feature plan, `UserPoolTier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserPoolTier {
    /// `LITE`.
    Lite,
    /// `ESSENTIALS`: what a new pool gets when the request names no plan.
    Essentials,
    /// `PLUS`: the only plan with threat protection and `userAuthEvents` logs.
    Plus,
}

impl UserPoolTier {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            UserPoolTier::Lite => "LITE",
            UserPoolTier::Essentials => "ESSENTIALS",
            UserPoolTier::Plus => "PLUS",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Lite, Self::Essentials, Self::Plus]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// `UserPoolAddOns.AdvancedSecurityMode`: threat protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdvancedSecurityMode {
    /// `OFF`.
    Off,
    /// `AUDIT`: risks are logged, nothing is blocked.
    Audit,
    /// `ENFORCED`: risky sign-ins are acted on.
    Enforced,
}

impl AdvancedSecurityMode {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AdvancedSecurityMode::Off => "OFF",
            AdvancedSecurityMode::Audit => "AUDIT",
            AdvancedSecurityMode::Enforced => "ENFORCED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Off, Self::Audit, Self::Enforced]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// The plan members of a `CreateUserPool` or `UpdateUserPool` request.
pub(crate) struct PlanInput {
    pub(crate) tier: Option<UserPoolTier>,
    /// `None` when the request has no `UserPoolAddOns`.
    pub(crate) add_ons: Option<AdvancedSecurityMode>,
}

/// Reads `UserPoolTier` and `UserPoolAddOns` against the model's constraints.
pub(crate) fn parse(input: &Value) -> Result<PlanInput, ApiError> {
    let mut v = Violations::default();
    let tier = match opt_str(input, "UserPoolTier")? {
        None => None,
        Some(s) => UserPoolTier::parse(s).or_else(|| {
            let c = "satisfy enum value set: [LITE, ESSENTIALS, PLUS]";
            v.constraint("userPoolTier", s, c);
            None
        }),
    };
    let add_ons = match input.get("UserPoolAddOns") {
        None | Some(Value::Null) => None,
        Some(obj @ Value::Object(_)) => match opt_str(obj, "AdvancedSecurityMode")? {
            None => {
                v.null("userPoolAddOns.advancedSecurityMode");
                None
            }
            Some(s) => AdvancedSecurityMode::parse(s).or_else(|| {
                let c = "satisfy enum value set: [OFF, AUDIT, ENFORCED]";
                v.constraint("userPoolAddOns.advancedSecurityMode", s, c);
                None
            }),
        },
        Some(_) => {
            return Err(ApiError::serialization(
                "UserPoolAddOns must be a structure",
            ));
        }
    };
    v.into_result()?;
    Ok(PlanInput { tier, add_ons })
}

/// Threat protection other than `OFF` needs the Plus plan.
fn check(tier: UserPoolTier, add_ons: Option<AdvancedSecurityMode>) -> Result<(), ApiError> {
    match add_ons {
        Some(AdvancedSecurityMode::Audit | AdvancedSecurityMode::Enforced)
            if tier != UserPoolTier::Plus =>
        {
            Err(ApiError::new(
                ErrorCode::FeatureUnavailableInTierException,
                format!(
                    "Threat protection is not available in the {} feature plan. Upgrade to the PLUS feature plan.",
                    tier.as_str()
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// `UserPoolTier` and, when set, `UserPoolAddOns`, as `DescribeUserPool` answers them.
pub(crate) fn describe(pool: &PoolInfo, out: &mut Value) {
    out["UserPoolTier"] = json!(pool.tier.as_str());
    if let Some(mode) = pool.add_ons {
        out["UserPoolAddOns"] = json!({ "AdvancedSecurityMode": mode.as_str() });
    }
}

impl SimState {
    /// Sets a pool's feature plan and threat protection (`None`: no add-ons, which reads
    /// as `OFF`), as `UpdateUserPool` does: refused with
    /// `FeatureUnavailableInTierException` when threat protection is on without `PLUS`,
    /// and moving `LastModifiedDate`. Log configurations stay as they are, so a pool
    /// configured for `userAuthEvents` and then moved off `PLUS` keeps them, as on AWS.
    pub fn set_pool_plan(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
        tier: UserPoolTier,
        add_ons: Option<AdvancedSecurityMode>,
    ) -> Result<PoolInfo, ApiError> {
        self.set_pool_plan_at(account, region, pool_id, tier, add_ons, SystemTime::now())
    }

    pub(crate) fn set_pool_plan_at(
        &self,
        account: &str,
        region: &str,
        pool_id: &str,
        tier: UserPoolTier,
        add_ons: Option<AdvancedSecurityMode>,
        at: SystemTime,
    ) -> Result<PoolInfo, ApiError> {
        check(tier, add_ons)?;
        self.with_pool(account, region, pool_id, |p| {
            p.tier = tier;
            p.add_ons = add_ons;
            p.last_modified_date = at;
            p.clone()
        })
        .ok_or_else(|| ApiError::pool_not_found(pool_id))
    }

    /// A new pool with the plan of a `CreateUserPool` request (default `ESSENTIALS`),
    /// checked before the pool exists.
    pub(crate) fn create_pool_with_plan(
        &self,
        account: &str,
        region: &str,
        name: &str,
        plan: &PlanInput,
    ) -> Result<PoolInfo, ApiError> {
        let tier = plan.tier.unwrap_or(UserPoolTier::Essentials);
        check(tier, plan.add_ons)?;
        let pool = self.create_pool(account, region, name);
        self.with_pool(account, region, &pool.id, |p| {
            p.tier = tier;
            p.add_ons = plan.add_ons;
            p.clone()
        })
        .ok_or_else(|| ApiError::pool_not_found(&pool.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn threat_protection_needs_plus_and_moves_the_date() {
        let s = SimState::new("123456789012".into(), 0, Duration::from_secs(3600));
        let p = s.create_pool_at("123456789012", "us-east-1", "p", SystemTime::UNIX_EPOCH);
        assert_eq!(p.tier, UserPoolTier::Essentials);
        let err = s
            .set_pool_plan(
                "123456789012",
                "us-east-1",
                &p.id,
                UserPoolTier::Essentials,
                Some(AdvancedSecurityMode::Audit),
            )
            .expect_err("needs plus");
        assert_eq!(err.code, ErrorCode::FeatureUnavailableInTierException);
        let off = s
            .set_pool_plan(
                "123456789012",
                "us-east-1",
                &p.id,
                UserPoolTier::Lite,
                Some(AdvancedSecurityMode::Off),
            )
            .expect("OFF is fine anywhere");
        assert!(off.last_modified_date > p.last_modified_date);
        let bad = parse(&json!({"UserPoolTier": "GOLD", "UserPoolAddOns": {}}))
            .err()
            .expect("two problems");
        assert!(
            bad.message.starts_with("2 validation errors"),
            "{}",
            bad.message
        );
    }
}
