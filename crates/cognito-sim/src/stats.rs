//! What the simulator received and what it did about it, per operation and per account,
//! so a test can compare an exporter's error counters with the truth.
//!
//! For each request exactly one of these is counted besides `requests`: `ok` (an intact
//! successful answer), one `errors` entry (an AWS-shaped error, injected or not), or one
//! `injected` entry for a damaged answer (`reset`, `truncated_json`, `html_502`,
//! `unknown_enum`, `missing_field`). Faults that leave the answer intact (`latency`,
//! `stall`, `delete_after_list`) and injected errors (by code, and `rate_limit`) also
//! appear under `injected`.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// Counts for one operation (or all of them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    /// Requests received (after the operation was recognised).
    pub requests: u64,
    /// Intact successful answers.
    pub ok: u64,
    /// Error answers, by code.
    pub(crate) errors: BTreeMap<String, u64>,
    /// Faults applied, by error code or fault kind.
    pub(crate) injected: BTreeMap<String, u64>,
}

impl OpCounts {
    /// Error answers with `code`.
    pub fn errors(&self, code: &str) -> u64 {
        self.errors.get(code).copied().unwrap_or(0)
    }

    /// Faults applied under `key` (an error code, `rate_limit`, or a fault kind).
    pub fn injected(&self, key: &str) -> u64 {
        self.injected.get(key).copied().unwrap_or(0)
    }

    /// Error answers of any code.
    pub fn error_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// A snapshot of the simulator's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// All operations together.
    pub total: OpCounts,
    /// By operation name.
    pub(crate) operations: BTreeMap<String, OpCounts>,
    /// By account, then operation. Requests refused before an account was known are
    /// under `-`.
    pub(crate) accounts: BTreeMap<String, BTreeMap<String, OpCounts>>,
}

impl Stats {
    /// Counts for `op` (zeros if it was never called).
    pub fn operation(&self, op: &str) -> OpCounts {
        self.operations.get(op).cloned().unwrap_or_default()
    }

    /// Counts for `op` called in `account`.
    pub fn account(&self, account: &str, op: &str) -> OpCounts {
        self.accounts
            .get(account)
            .and_then(|ops| ops.get(op))
            .cloned()
            .unwrap_or_default()
    }
}

/// The live counters behind [`Stats`].
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Stats>);

/// Which counter an event bumps.
#[derive(Clone, Copy)]
pub(crate) enum Event<'a> {
    Request,
    Ok,
    Error(&'a str),
    Injected(&'a str),
}

impl Recorder {
    pub(crate) fn record(&self, account: &str, op: &str, event: Event<'_>) {
        let mut stats = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let Stats {
            total,
            operations,
            accounts,
        } = &mut *stats;
        let by_account = accounts
            .entry(account.to_owned())
            .or_default()
            .entry(op.to_owned())
            .or_default();
        let by_op = operations.entry(op.to_owned()).or_default();
        for counts in [total, by_op, by_account] {
            match event {
                Event::Request => counts.requests += 1,
                Event::Ok => counts.ok += 1,
                Event::Error(code) => *counts.errors.entry(code.to_owned()).or_default() += 1,
                Event::Injected(key) => *counts.injected.entry(key.to_owned()).or_default() += 1,
            }
        }
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn reset(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Stats::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_in_total_operation_and_account() {
        let r = Recorder::default();
        r.record("111", "ListUserPools", Event::Request);
        r.record("111", "ListUserPools", Event::Ok);
        r.record("222", "ListUserPools", Event::Request);
        r.record("222", "ListUserPools", Event::Error("ThrottlingException"));
        r.record(
            "222",
            "ListUserPools",
            Event::Injected("ThrottlingException"),
        );
        let s = r.snapshot();
        assert_eq!(s.total.requests, 2);
        let op = s.operation("ListUserPools");
        assert_eq!(
            (op.requests, op.ok, op.errors("ThrottlingException")),
            (2, 1, 1)
        );
        assert_eq!(
            s.account("222", "ListUserPools")
                .injected("ThrottlingException"),
            1
        );
        assert_eq!(s.account("111", "ListUserPools").error_total(), 0);
        assert_eq!(s.operation("DeleteUserPool"), OpCounts::default());
        r.reset();
        assert_eq!(r.snapshot(), Stats::default());
    }
}
