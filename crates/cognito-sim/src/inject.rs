//! Decides, for each request, which faults fire: the rate limit first, then the rules in
//! order. Holds what makes fault sequences reproducible — one seeded generator and each
//! rule's fire count — behind one short-held lock.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use tokio::time::Instant;

use super::faults::{COGNITO_OPERATIONS, Fault, FaultSet, RateLimit};

/// What the request is, as the rules see it.
pub(crate) struct Request<'a> {
    pub(crate) op: &'a str,
    pub(crate) account: &'a str,
    pub(crate) access_key: &'a str,
    pub(crate) region: &'a str,
}

/// What to do to one request.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Total added delay, latency and stalls together.
    pub(crate) delay: Duration,
    /// The delay kinds that fired, for the stats.
    pub(crate) delays: Vec<&'static str>,
    pub(crate) outcome: Option<Outcome>,
}

#[derive(Debug)]
pub(crate) enum Outcome {
    /// Over the account's rate limit.
    RateLimited,
    /// A non-delay fault that decides the answer.
    Fault(Fault),
}

pub(crate) struct Engine {
    /// The seed used when a fault set names none.
    default_seed: u64,
    inner: Mutex<Inner>,
}

struct Inner {
    set: FaultSet,
    /// How often each rule has fired, for `count`.
    fired: Vec<u64>,
    rng: StdRng,
    /// Per account: the rate limit is an account-wide quota, as Cognito's are.
    buckets: HashMap<String, Bucket>,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self, limit: &RateLimit, now: Instant) -> bool {
        let burst = match limit.burst {
            Some(b) => f64::from(b).max(1.0),
            None => limit.per_second.ceil().max(1.0),
        };
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * limit.per_second).min(burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Engine {
    pub(crate) fn new(default_seed: u64) -> Self {
        Engine {
            default_seed,
            inner: Mutex::new(Inner::new(FaultSet::default(), default_seed)),
        }
    }

    /// Replaces the fault set, restarting counts, generator and buckets. The set must
    /// have been validated.
    pub(crate) fn replace(&self, set: FaultSet) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        *inner = Inner::new(set, self.default_seed);
    }

    pub(crate) fn current(&self) -> FaultSet {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.set.clone()
    }

    pub(crate) fn plan(&self, req: &Request<'_>, now: Instant) -> Plan {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner {
            set,
            fired,
            rng,
            buckets,
        } = &mut *inner;
        let mut plan = Plan::default();
        if let Some(limit) = &set.rate_limit
            && COGNITO_OPERATIONS.contains(&req.op)
        {
            let bucket = buckets.entry(req.account.to_owned()).or_insert(Bucket {
                tokens: f64::INFINITY,
                last: now,
            });
            if !bucket.take(limit, now) {
                plan.outcome = Some(Outcome::RateLimited);
                return plan;
            }
        }
        for (rule, fired) in set.rules.iter().zip(fired.iter_mut()) {
            let wanted = rule.fault.is_delay() || plan.outcome.is_none();
            if !wanted || !rule.matches(req.op, req.account, req.access_key, req.region) {
                continue;
            }
            if rule.count.is_some_and(|max| *fired >= max) {
                continue;
            }
            // Roll only for partial rates, so adding a `rate: 1` rule leaves the sequence
            // of every other rule's rolls unchanged.
            if rule.rate < 1.0 && !rng.random_bool(rule.rate) {
                continue;
            }
            *fired += 1;
            match &rule.fault {
                Fault::Latency { fixed, jitter } => {
                    let max = u64::try_from(jitter.as_micros()).unwrap_or(u64::MAX);
                    let extra = if max == 0 {
                        0
                    } else {
                        rng.random_range(0..=max)
                    };
                    plan.delay += *fixed + Duration::from_micros(extra);
                    plan.delays.push("latency");
                }
                Fault::Stall { duration } => {
                    plan.delay += *duration;
                    plan.delays.push("stall");
                }
                other => plan.outcome = Some(Outcome::Fault(other.clone())),
            }
        }
        plan
    }
}

impl Inner {
    fn new(set: FaultSet, default_seed: u64) -> Self {
        Inner {
            rng: StdRng::seed_from_u64(set.seed.unwrap_or(default_seed)),
            fired: vec![0; set.rules.len()],
            buckets: HashMap::new(),
            set,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::faults::FaultRule;

    fn req(op: &str) -> Request<'_> {
        Request {
            op,
            account: "111111111111",
            access_key: "AKID",
            region: "us-east-1",
        }
    }

    fn outcomes(engine: &Engine, op: &str, n: usize) -> Vec<bool> {
        let now = Instant::now();
        (0..n)
            .map(|_| engine.plan(&req(op), now).outcome.is_some())
            .collect()
    }

    #[test]
    fn count_rules_fire_exactly_k_times() {
        let engine = Engine::new(0);
        engine.replace(FaultSet {
            rules: vec![
                FaultRule::error(ErrorCode::InternalErrorException)
                    .operation("ListUserPools")
                    .count(3),
            ],
            ..FaultSet::default()
        });
        assert_eq!(outcomes(&engine, "DescribeUserPool", 2), [false, false]);
        assert_eq!(
            outcomes(&engine, "ListUserPools", 5),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn rates_are_reproducible_from_the_seed() {
        let set = FaultSet {
            seed: Some(42),
            rules: vec![FaultRule::error(ErrorCode::ThrottlingException).rate(0.3)],
            ..FaultSet::default()
        };
        let engine = Engine::new(0);
        engine.replace(set.clone());
        let first = outcomes(&engine, "ListUserPools", 200);
        engine.replace(set);
        assert_eq!(outcomes(&engine, "ListUserPools", 200), first);
        let hits = first.iter().filter(|h| **h).count();
        assert!((30..=90).contains(&hits), "{hits} of 200 at rate 0.3");
    }

    #[test]
    fn delays_add_up_and_the_first_outcome_wins() {
        let engine = Engine::new(0);
        let ms = Duration::from_millis;
        engine.replace(FaultSet {
            rules: vec![
                FaultRule::new(Fault::Latency {
                    fixed: ms(10),
                    jitter: ms(5),
                }),
                FaultRule::new(Fault::Html502).count(1),
                FaultRule::new(Fault::TruncatedJson).count(1),
                FaultRule::new(Fault::Stall { duration: ms(100) }),
            ],
            ..FaultSet::default()
        });
        let plan = engine.plan(&req("ListUserPools"), Instant::now());
        assert!(
            plan.delay >= ms(110) && plan.delay <= ms(115),
            "{:?}",
            plan.delay
        );
        assert_eq!(plan.delays, ["latency", "stall"]);
        assert!(matches!(plan.outcome, Some(Outcome::Fault(Fault::Html502))));
        let plan = engine.plan(&req("ListUserPools"), Instant::now());
        assert!(matches!(
            plan.outcome,
            Some(Outcome::Fault(Fault::TruncatedJson))
        ));
        assert!(
            engine
                .plan(&req("ListUserPools"), Instant::now())
                .outcome
                .is_none()
        );
    }

    #[test]
    fn rate_limit_is_per_account_and_refills() {
        let engine = Engine::new(0);
        engine.replace(FaultSet {
            rate_limit: Some(RateLimit {
                per_second: 2.0,
                burst: Some(3),
            }),
            ..FaultSet::default()
        });
        let t0 = Instant::now();
        let limited = |account: &str, at: Instant| {
            let r = Request {
                account,
                ..req("ListUserPools")
            };
            matches!(engine.plan(&r, at).outcome, Some(Outcome::RateLimited))
        };
        let burst: Vec<bool> = (0..5).map(|_| limited("111111111111", t0)).collect();
        assert_eq!(burst, [false, false, false, true, true]);
        assert!(
            !limited("222222222222", t0),
            "another account has its own bucket"
        );
        let later = t0 + Duration::from_millis(500);
        assert!(
            !limited("111111111111", later),
            "one token back after 0.5 s at 2/s"
        );
        assert!(limited("111111111111", later));
        assert!(engine.plan(&req("GetCallerIdentity"), t0).outcome.is_none());
    }
}
