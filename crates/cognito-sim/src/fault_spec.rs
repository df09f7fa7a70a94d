//! The flat, stringly form of a fault rule shared by the JSON control document and the
//! `--fault` flag: [`FaultRule`]'s serde impls, the flag parsers, and validation into a
//! typed rule, which parses everything first, then reports every problem at once.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use super::error::ErrorCode;
use super::faults::{EnumField, Fault, FaultError, FaultRule, RateLimit, matcher_problems};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jitter_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl RawRule {
    /// Parses `KIND,key=value,...`; a first item without `=` is the kind.
    pub(crate) fn from_spec(spec: &str) -> Result<Self, String> {
        let mut raw = RawRule::default();
        let mut problems = Vec::new();
        for (i, item) in spec.split(',').map(str::trim).enumerate() {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None if i == 0 => ("kind", item),
                None => {
                    problems.push(format!("{item:?} is not key=value"));
                    continue;
                }
            };
            if let Err(e) = raw.set(key, value) {
                problems.push(e);
            }
        }
        if problems.is_empty() {
            Ok(raw)
        } else {
            Err(problems.join("; "))
        }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        fn num<T: std::str::FromStr>(key: &str, value: &str) -> Result<Option<T>, String> {
            value
                .parse()
                .map(Some)
                .map_err(|_| format!("{key}={value:?} is not a number"))
        }
        let s = Some(value.to_owned());
        let slot_taken = match key {
            "kind" => self.kind.replace(value.to_owned()).is_some(),
            "op" | "operation" => self.operation.replace(value.to_owned()).is_some(),
            "account" => std::mem::replace(&mut self.account, s).is_some(),
            "access_key" => std::mem::replace(&mut self.access_key, s).is_some(),
            "region" => std::mem::replace(&mut self.region, s).is_some(),
            "code" => std::mem::replace(&mut self.code, s).is_some(),
            "message" => std::mem::replace(&mut self.message, s).is_some(),
            "field" => std::mem::replace(&mut self.field, s).is_some(),
            "rate" => std::mem::replace(&mut self.rate, num(key, value)?).is_some(),
            "count" => std::mem::replace(&mut self.count, num(key, value)?).is_some(),
            "ms" => std::mem::replace(&mut self.ms, num(key, value)?).is_some(),
            "jitter_ms" => std::mem::replace(&mut self.jitter_ms, num(key, value)?).is_some(),
            "after_bytes" => std::mem::replace(&mut self.after_bytes, num(key, value)?).is_some(),
            _ => return Err(format!("unknown key {key:?}")),
        };
        if slot_taken {
            Err(format!("{key} given twice"))
        } else {
            Ok(())
        }
    }
}

impl TryFrom<RawRule> for FaultRule {
    type Error = FaultError;

    fn try_from(raw: RawRule) -> Result<Self, FaultError> {
        let mut problems = Vec::new();
        let kind = raw.kind.as_deref().unwrap_or_default();
        let millis = |ms: Option<u64>| Duration::from_millis(ms.unwrap_or(0));
        let (fault, allowed): (Option<Fault>, &[&str]) = match kind {
            "error" => {
                let code = match raw.code.as_deref().map(str::parse::<ErrorCode>) {
                    None => {
                        problems.push("code is required for kind error".to_owned());
                        None
                    }
                    Some(Err(e)) => {
                        problems.push(e);
                        None
                    }
                    Some(Ok(code)) => Some(code),
                };
                let message = raw.message.clone();
                (
                    code.map(|code| Fault::Error { code, message }),
                    &["code", "message"],
                )
            }
            "latency" | "stall" => {
                if raw.ms.is_none() {
                    problems.push(format!("ms is required for kind {kind}"));
                }
                let fault = if kind == "latency" {
                    Fault::Latency {
                        fixed: millis(raw.ms),
                        jitter: millis(raw.jitter_ms),
                    }
                } else {
                    Fault::Stall {
                        duration: millis(raw.ms),
                    }
                };
                let allowed: &[&str] = if kind == "latency" {
                    &["ms", "jitter_ms"]
                } else {
                    &["ms"]
                };
                (Some(fault), allowed)
            }
            "reset" => (
                Some(Fault::Reset {
                    after_bytes: raw.after_bytes,
                }),
                &["after_bytes"],
            ),
            "truncated_json" => (Some(Fault::TruncatedJson), &[]),
            "html_502" => (Some(Fault::Html502), &[]),
            "delete_after_list" => (Some(Fault::DeleteAfterList), &[]),
            "looping_token" => (Some(Fault::LoopingToken), &[]),
            "endless_token" => (Some(Fault::EndlessToken), &[]),
            "unknown_enum" => {
                let field = match raw.field.as_deref() {
                    None | Some("LogLevel") => Some(EnumField::LogLevel),
                    Some("EventSource") => Some(EnumField::EventSource),
                    Some("UserPoolTier") => Some(EnumField::UserPoolTier),
                    Some("AdvancedSecurityMode") => Some(EnumField::AdvancedSecurityMode),
                    Some(other) => {
                        problems.push(format!(
                            "field {other:?} is not LogLevel, EventSource, UserPoolTier or AdvancedSecurityMode"
                        ));
                        None
                    }
                };
                (field.map(|field| Fault::UnknownEnum { field }), &["field"])
            }
            "missing_field" => {
                let field = raw.field.clone().unwrap_or_else(|| "LogLevel".to_owned());
                (Some(Fault::MissingField { field }), &["field"])
            }
            "" => {
                problems.push("kind is required".to_owned());
                (None, &[])
            }
            other => {
                problems.push(format!(
                    "unknown kind {other:?} (error, latency, stall, reset, truncated_json, \
                     html_502, unknown_enum, missing_field, delete_after_list, looping_token, \
                     endless_token)"
                ));
                (None, &[])
            }
        };
        let given = [
            ("code", raw.code.is_some()),
            ("message", raw.message.is_some()),
            ("ms", raw.ms.is_some()),
            ("jitter_ms", raw.jitter_ms.is_some()),
            ("after_bytes", raw.after_bytes.is_some()),
            ("field", raw.field.is_some()),
        ];
        if !kind.is_empty() {
            for (key, present) in given {
                if present && !allowed.contains(&key) {
                    problems.push(format!("{key} does not apply to kind {kind}"));
                }
            }
        }
        let Some(fault) = fault else {
            problems.extend(matcher_problems(
                raw.operation.as_deref(),
                raw.rate.unwrap_or(1.0),
            ));
            return Err(FaultError(problems));
        };
        let rule = FaultRule {
            operation: raw.operation,
            account: raw.account,
            access_key: raw.access_key,
            region: raw.region,
            rate: raw.rate.unwrap_or(1.0),
            count: raw.count,
            fault,
        };
        problems.extend(rule.problems());
        if problems.is_empty() {
            Ok(rule)
        } else {
            Err(FaultError(problems))
        }
    }
}

impl From<FaultRule> for RawRule {
    fn from(rule: FaultRule) -> Self {
        let ms = |d: Duration| Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut raw = RawRule {
            kind: Some(rule.fault.kind().to_owned()),
            operation: rule.operation,
            account: rule.account,
            access_key: rule.access_key,
            region: rule.region,
            rate: (rule.rate != 1.0).then_some(rule.rate),
            count: rule.count,
            ..RawRule::default()
        };
        match rule.fault {
            Fault::Error { code, message } => {
                raw.code = Some(code.as_str().to_owned());
                raw.message = message;
            }
            Fault::Latency { fixed, jitter } => {
                raw.ms = ms(fixed);
                raw.jitter_ms = (!jitter.is_zero()).then(|| ms(jitter)).flatten();
            }
            Fault::Stall { duration } => raw.ms = ms(duration),
            Fault::Reset { after_bytes } => raw.after_bytes = after_bytes,
            Fault::UnknownEnum { field } => {
                raw.field = Some(
                    match field {
                        EnumField::LogLevel => "LogLevel",
                        EnumField::EventSource => "EventSource",
                        EnumField::UserPoolTier => "UserPoolTier",
                        EnumField::AdvancedSecurityMode => "AdvancedSecurityMode",
                    }
                    .to_owned(),
                );
            }
            Fault::MissingField { field } => raw.field = Some(field),
            Fault::TruncatedJson
            | Fault::Html502
            | Fault::DeleteAfterList
            | Fault::LoopingToken
            | Fault::EndlessToken => {}
        }
        raw
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// `R` or `R/BURST`, e.g. `5` or `2.5/10`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (rate, burst) = s.split_once('/').map_or((s, None), |(r, b)| (r, Some(b)));
        let per_second = rate.parse().map_err(|_| format!("bad rate {rate:?}"))?;
        let burst = burst
            .map(|b| b.parse().map_err(|_| format!("bad burst {b:?}")))
            .transpose()?;
        Ok(RateLimit { per_second, burst })
    }
}

impl FromStr for FaultRule {
    type Err = FaultError;

    /// `KIND,key=value,...` (or `kind=KIND,...`), with the keys of the JSON form and `op`
    /// for `operation`: `error,code=ThrottlingException,op=ListUserPools,rate=0.5`.
    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        RawRule::from_spec(spec)
            .map_err(|e| FaultError(vec![e]))
            .and_then(FaultRule::try_from)
    }
}

// The JSON form of a rule is the flat `RawRule`, so the control document and the flags
// share one set of keys and one validation.
impl Serialize for FaultRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RawRule::from(self.clone()).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FaultRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawRule::deserialize(deserializer)?;
        FaultRule::try_from(raw).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
