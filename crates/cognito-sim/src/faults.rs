//! The fault set: what to break, for whom, how often. Its JSON form is what
//! `PUT /_sim/faults` takes and `GET /_sim/faults` returns; `--fault` flags use the same
//! keys as `KIND,key=value,...`. See [`FaultRule`] for the keys.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ErrorCode;

pub(crate) use super::operations::{
    COGNITO_OPERATIONS, FIREHOSE_OPERATIONS, LOGS_OPERATIONS, ORGANIZATIONS_OPERATIONS,
    STS_OPERATIONS,
};
use super::operations::{destination_operation, known_operation};

/// Every fault the simulator applies, replaced as a whole.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSet {
    /// Seeds the generator that rolls each rule's `rate` and each latency's jitter; the
    /// same seed and the same sequence of requests give the same faults. Defaults to the
    /// simulator's seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Answers `TooManyRequestsException` to Cognito requests above this rate, per
    /// account, before any rule is considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Considered in order for each request: every matching delay applies, and the first
    /// matching rule of any other kind decides the answer.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

impl FaultSet {
    /// Every problem with the set, or none.
    pub fn validate(&self) -> Result<(), FaultError> {
        let mut problems = Vec::new();
        if let Some(limit) = &self.rate_limit
            && !(limit.per_second.is_finite() && limit.per_second > 0.0)
        {
            problems.push(format!(
                "rate_limit.per_second must be a positive number, not {}",
                limit.per_second
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            problems.extend(
                rule.problems()
                    .into_iter()
                    .map(|p| format!("rules[{i}]: {p}")),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(FaultError(problems))
        }
    }
}

/// Every problem found in a fault set, a rule or a flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault set: {}", .0.join("; "))]
pub struct FaultError(
    /// One line per problem.
    pub Vec<String>,
);

/// A per-account token bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained requests per second per account.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell; defaults to `per_second` (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

/// What a rule does to a request it hits.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// `kind=error,code=C[,message=M]`: answer with this exception instead of running
    /// the operation.
    Error {
        /// One of [`ErrorCode::INJECTABLE`].
        code: ErrorCode,
        /// The message; `None` sends the one AWS typically sends with `code`.
        message: Option<String>,
    },
    /// `kind=latency,ms=N[,jitter_ms=J]`: answer `N` ms later, plus up to `J` ms.
    Latency {
        /// Always added.
        fixed: Duration,
        /// At most this much more, rolled on the fault set's seeded generator.
        jitter: Duration,
    },
    /// `kind=stall,ms=N`: hold the request `N` ms (meant to exceed a client's timeout).
    Stall {
        /// How long the request is held.
        duration: Duration,
    },
    /// `kind=reset[,after_bytes=N]`: close the connection, without answering or after
    /// the headers and `N` bytes of the body. The operation runs when `after_bytes` is
    /// given.
    Reset {
        /// Body bytes sent before the connection drops; `None` drops it at once.
        after_bytes: Option<usize>,
    },
    /// `kind=truncated_json`: run the operation, send half of its body.
    TruncatedJson,
    /// `kind=html_502`: a load balancer's HTML page with status 502; nothing runs.
    Html502,
    /// `kind=unknown_enum[,field=LogLevel|EventSource|UserPoolTier|AdvancedSecurityMode]`: log configurations in the answer
    /// carry `DEBUG` / `userDebugEvents` (one is made up if the pool has none).
    UnknownEnum {
        /// The member that gets the unknown value.
        field: EnumField,
    },
    /// `kind=missing_field[,field=NAME]`: remove member `NAME` (default `LogLevel`)
    /// wherever it occurs in the answer (log configurations are made up as above): a
    /// JSON member of a Cognito answer, an XML element of an STS one.
    MissingField {
        /// The member name, as it is on the wire.
        field: String,
    },
    /// `kind=delete_after_list`: `ListUserPools` answers normally, then deletes the first
    /// pool it returned.
    DeleteAfterList,
    /// `kind=looping_token`: `ListUserPools` answers with a `NextToken` that leads back
    /// to the first page, the same token every time, so a client that follows it goes
    /// round the same pages forever.
    LoopingToken,
    /// `kind=endless_token`: `ListUserPools` answers with a `NextToken` that leads back
    /// to the first page and is never the same twice, so only a client's own limit ends
    /// the listing.
    EndlessToken,
}

/// The enum member an [`Fault::UnknownEnum`] corrupts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnumField {
    /// `LogLevel` becomes `DEBUG`.
    LogLevel,
    /// `EventSource` becomes `userDebugEvents`.
    EventSource,
    /// `DescribeUserPool`'s `UserPoolTier` becomes `PLATINUM`, a plan AWS may add.
    UserPoolTier,
    /// `DescribeUserPool`'s `UserPoolAddOns.AdvancedSecurityMode` becomes `QUARANTINE`.
    AdvancedSecurityMode,
}

impl Fault {
    /// The `kind` key of this fault.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Fault::Error { .. } => "error",
            Fault::Latency { .. } => "latency",
            Fault::Stall { .. } => "stall",
            Fault::Reset { .. } => "reset",
            Fault::TruncatedJson => "truncated_json",
            Fault::Html502 => "html_502",
            Fault::UnknownEnum { .. } => "unknown_enum",
            Fault::MissingField { .. } => "missing_field",
            Fault::DeleteAfterList => "delete_after_list",
            Fault::LoopingToken => "looping_token",
            Fault::EndlessToken => "endless_token",
        }
    }

    /// Whether this fault means anything for `op`.
    pub(crate) fn applies_to(&self, op: &str) -> bool {
        let cognito = COGNITO_OPERATIONS.contains(&op);
        match self {
            Fault::UnknownEnum {
                field: EnumField::UserPoolTier | EnumField::AdvancedSecurityMode,
            } => op == "DescribeUserPool",
            Fault::UnknownEnum { .. } => op.ends_with("LogDeliveryConfiguration"),
            Fault::DeleteAfterList | Fault::LoopingToken | Fault::EndlessToken => {
                op == "ListUserPools"
            }
            Fault::TruncatedJson
            | Fault::MissingField { .. }
            | Fault::Reset {
                after_bytes: Some(_),
            } if super::s3::OPERATIONS.contains(&op) => false,
            _ => {
                cognito
                    || STS_OPERATIONS.contains(&op)
                    || ORGANIZATIONS_OPERATIONS.contains(&op)
                    || destination_operation(op)
            }
        }
    }

    /// Delays add up; every other kind decides the answer.
    pub(crate) fn is_delay(&self) -> bool {
        matches!(self, Fault::Latency { .. } | Fault::Stall { .. })
    }
}

/// One rule: which requests it matches, how often it fires, and what it does.
///
/// A request matches when every matcher given is equal to the request's: `operation`
/// (absent or `*` means every Cognito operation the fault applies to; STS,
/// Organizations, CloudWatch Logs, S3 and Firehose operations only when named), `account` (for `AssumeRole`, the account of the role being assumed),
/// `access_key`, `region`. A matching request fires the rule with probability `rate`
/// (default 1), and at most `count` times in all when `count` is given — so
/// `count=3` alone means "the next 3 matching requests".
///
/// Build one with [`FaultRule::new`] or [`FaultRule::error`] and the matcher methods. In
/// JSON (and as `--fault KIND,key=value,...`) a rule is flat: `kind`, the matchers,
/// `rate`, `count`, and the keys of its kind.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// An operation name, or `None`/`*` for every Cognito operation.
    pub(crate) operation: Option<String>,
    /// The account the request acts in (for `AssumeRole`, the role's account), so one
    /// target can be broken and not another.
    pub(crate) account: Option<String>,
    /// The access key of the request's credential scope.
    pub(crate) access_key: Option<String>,
    /// The region of the request's credential scope.
    pub(crate) region: Option<String>,
    /// Probability that a matching request fires the rule, rolled on the seeded RNG.
    pub(crate) rate: f64,
    /// Fire at most this many times: the exact-count form, for tests that count.
    pub(crate) count: Option<u64>,
    /// What the rule does.
    pub(crate) fault: Fault,
}

impl FaultRule {
    /// A rule hitting every request it applies to.
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            operation: None,
            account: None,
            access_key: None,
            region: None,
            rate: 1.0,
            count: None,
            fault,
        }
    }

    /// A rule answering `code` with its usual message.
    pub fn error(code: ErrorCode) -> Self {
        Self::new(Fault::Error {
            code,
            message: None,
        })
    }

    /// Matches only operation `op` (`*`: every Cognito operation the fault applies to).
    pub fn operation(mut self, op: impl Into<String>) -> Self {
        self.operation = Some(op.into());
        self
    }

    /// Matches only requests acting in `account` (for `AssumeRole`, the role's account).
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.account = Some(account.into());
        self
    }

    /// Matches only requests signed with access key `key`.
    pub fn access_key(mut self, key: impl Into<String>) -> Self {
        self.access_key = Some(key.into());
        self
    }

    /// Matches only requests signed for `region`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Fires on a matching request with probability `rate`, 0 to 1.
    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }

    /// Fires at most `count` times in all.
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }

    /// Whether the rule's matchers select this request.
    pub(crate) fn matches(&self, op: &str, account: &str, access_key: &str, region: &str) -> bool {
        let op_ok = match self.operation.as_deref() {
            None | Some("*") => COGNITO_OPERATIONS.contains(&op) && self.fault.applies_to(op),
            Some(name) => name == op,
        };
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        op_ok
            && eq(&self.account, account)
            && eq(&self.access_key, access_key)
            && eq(&self.region, region)
    }

    pub(crate) fn problems(&self) -> Vec<String> {
        let mut p = matcher_problems(self.operation.as_deref(), self.rate);
        match self.operation.as_deref() {
            Some(op) if known_operation(op) && !self.fault.applies_to(op) => {
                p.push(format!("kind {} does not apply to {op}", self.fault.kind()));
            }
            _ => {}
        }
        match &self.fault {
            Fault::Error { code, .. } if !code.is_injectable() => {
                let allowed: Vec<_> = ErrorCode::INJECTABLE.iter().map(|c| c.as_str()).collect();
                p.push(format!("code {code} is not one of {}", allowed.join(", ")));
            }
            Fault::MissingField { field } if field.is_empty() => {
                p.push("field must not be empty".into());
            }
            _ => {}
        }
        p
    }
}

/// Problems with the parts of a rule that do not depend on its kind.
pub(crate) fn matcher_problems(operation: Option<&str>, rate: f64) -> Vec<String> {
    let mut p = Vec::new();
    if !(0.0..=1.0).contains(&rate) {
        p.push(format!("rate must be between 0 and 1, not {rate}"));
    }
    if let Some(op) = operation
        && !known_operation(op)
    {
        p.push(format!("unknown operation {op:?}"));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_cognito_only() {
        let any = FaultRule::error(ErrorCode::InternalErrorException);
        assert!(any.matches("ListUserPools", "1", "K", "r"));
        assert!(!any.matches("AssumeRole", "1", "K", "r"));
        let sts = any.clone().operation("AssumeRole").account("222222222222");
        assert!(sts.matches("AssumeRole", "222222222222", "K", "r"));
        assert!(!sts.matches("AssumeRole", "111111111111", "K", "r"));
        for fault in [
            Fault::DeleteAfterList,
            Fault::LoopingToken,
            Fault::EndlessToken,
        ] {
            let list_only = FaultRule::new(fault);
            assert!(!list_only.matches("DescribeUserPool", "1", "K", "r"));
            assert!(list_only.matches("ListUserPools", "1", "K", "r"));
        }
        let missing = FaultRule::new(Fault::MissingField {
            field: "Account".into(),
        });
        assert!(
            !missing.matches("GetCallerIdentity", "1", "K", "r"),
            "STS only by name"
        );
        let missing = missing.operation("GetCallerIdentity");
        assert!(missing.problems().is_empty(), "{:?}", missing.problems());
        assert!(missing.matches("GetCallerIdentity", "1", "K", "r"));
        assert!(
            !any.matches("ListAccounts", "1", "K", "r"),
            "Organizations only by name"
        );
        let org = FaultRule::error(ErrorCode::TooManyRequestsException).operation("ListAccounts");
        assert!(org.problems().is_empty(), "{:?}", org.problems());
        assert!(org.matches("ListAccounts", "1", "K", "r"));
        let wrong = FaultRule::new(Fault::LoopingToken).operation("ListAccounts");
        assert_eq!(wrong.problems().len(), 1, "ListUserPools only");
        assert_eq!(
            "5/10".parse(),
            Ok(RateLimit {
                per_second: 5.0,
                burst: Some(10)
            })
        );
    }
}
