//! A cycle's failed pools, logged once at the end of the cycle: one warning per
//! operation and error code, with how many pools failed that way, the first few of them,
//! and the first failure's message and request ID. An endpoint gone mid-cycle at 10,000
//! pools is then a line, not thousands; the metrics count every attempt all the same.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::aws::errors::Failure;
use crate::model::TargetId;

/// How many pool IDs a warning names.
const POOLS_NAMED: usize = 5;

/// Failures gathered during one cycle.
#[derive(Debug, Default)]
pub(super) struct Report {
    groups: BTreeMap<(&'static str, &'static str), Group>,
}

#[derive(Debug)]
struct Group {
    count: usize,
    pools: Vec<Arc<str>>,
    first: Failure,
}

impl Report {
    /// Pool `pool` failed with `failure`.
    pub(super) fn add(&mut self, pool: &Arc<str>, failure: &Failure) {
        let group = self
            .groups
            .entry((failure.operation, failure.label))
            .or_insert_with(|| Group {
                count: 0,
                pools: Vec::with_capacity(POOLS_NAMED),
                first: failure.clone(),
            });
        group.count += 1;
        if group.pools.len() < POOLS_NAMED {
            group.pools.push(pool.clone());
        }
    }

    /// One warning per operation and error code; nothing if no pool failed.
    pub(super) fn log(&self, id: &TargetId) {
        for ((operation, label), group) in &self.groups {
            let pools = group
                .pools
                .iter()
                .map(|p| &**p)
                .collect::<Vec<_>>()
                .join(",");
            tracing::warn!(
                account = %id.account_id,
                region = %id.region,
                operation,
                error_code = label,
                count = group.count,
                pools,
                error_message = %group.first.message,
                request_id = group.first.request_id.as_deref(),
                "{}",
                what(operation)
            );
        }
    }

    /// `(operation, error code, pools)` of each warning [`Report::log`] writes.
    #[cfg(test)]
    fn lines(&self) -> Vec<(&'static str, &'static str, usize)> {
        self.groups
            .iter()
            .map(|((op, label), g)| (*op, *label, g.count))
            .collect()
    }
}

/// What failed, in words, by operation: the words of the warnings these lines replace.
fn what(operation: &str) -> &'static str {
    match operation {
        "GetLogDeliveryConfiguration" => "cannot read the log-delivery configuration",
        "DescribeUserPool" => "cannot describe a configured user pool",
        _ => "AWS call for a pool failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_group_by_operation_and_code_naming_a_few_pools() {
        let mut report = Report::default();
        let get = "GetLogDeliveryConfiguration";
        for i in 0..1000 {
            let failure = Failure::bare(get, if i % 10 == 0 { "timeout" } else { "connection" });
            report.add(&Arc::from(format!("eu-west-1_{i}")), &failure);
        }
        report.add(
            &Arc::from("eu-west-1_x"),
            &Failure::bare("DescribeUserPool", "ResourceNotFoundException"),
        );
        assert_eq!(
            report.lines(),
            [
                ("DescribeUserPool", "ResourceNotFoundException", 1),
                (get, "connection", 900),
                (get, "timeout", 100),
            ]
        );
        let connection = &report.groups[&(get, "connection")];
        assert_eq!(connection.pools.len(), POOLS_NAMED);
        assert_eq!(&*connection.pools[0], "eu-west-1_1");
    }
}
