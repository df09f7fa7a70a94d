//! Who a target is and which pools it has: `GetCallerIdentity` until it answers, then on
//! every cycle `ListUserPools` (paginated), or the pools the target names (whose names
//! then come from `DescribeUserPool`, see `describe`).

use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::operation::RequestId;
use aws_sdk_cognitoidentityprovider::primitives::DateTime;

use crate::aws::errors::Failure;
use crate::aws::{Cognito, Connection, Limiter};
use crate::config::TargetConfig;
use crate::metrics::ApiMetrics;
use crate::model::TargetId;

/// A pool's ID and name.
pub(super) type Pool = (Arc<str>, Arc<str>);

/// A pool discovery found.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Listed {
    pub(super) id: Arc<str>,
    /// From the listing; `None` for a configured pool.
    pub(super) name: Option<Arc<str>>,
    /// `LastModifiedDate` from the listing: when it moves, the pool is described again.
    pub(super) modified: Option<DateTime>,
}

/// What discovery found.
#[derive(Debug, Default)]
pub(super) struct Discovery {
    pub(super) pools: Vec<Listed>,
    /// Operations called to find them.
    pub(super) calls: usize,
}

/// The target's identity, from `GetCallerIdentity`.
pub(super) async fn identify(
    connection: &Connection,
    metrics: &ApiMetrics,
) -> Result<TargetId, Failure> {
    const OPERATION: &str = "GetCallerIdentity";
    let _admitted = connection.limiter().admit().await;
    match connection.sts().get_caller_identity().send().await {
        Ok(out) => match out.account() {
            Some(account) if !account.is_empty() => Ok(TargetId::new(account, connection.region())),
            // The client refuses such answers (`aws::members`); should one get through,
            // it still names no account, and a placeholder would pass for one.
            _ => {
                metrics.error(
                    connection.provisional(),
                    OPERATION,
                    crate::aws::errors::label::MALFORMED,
                );
                Err(Failure::malformed(
                    OPERATION,
                    "no Account",
                    out.request_id(),
                ))
            }
        },
        Err(e) => Err(Failure::of(OPERATION, &e)),
    }
}

/// The target's pools: listed, or the configured IDs (without a call).
pub(super) async fn pools(
    target: &TargetConfig,
    cognito: &Cognito,
    pace: &Limiter,
    id: &TargetId,
    metrics: &ApiMetrics,
) -> Result<Discovery, Failure> {
    let Some(ids) = &target.user_pools else {
        return list(cognito, pace, id, metrics).await;
    };
    let pools = ids
        .iter()
        .map(|pool| Listed {
            id: Arc::from(pool.as_str()),
            name: None,
            modified: None,
        })
        .collect();
    Ok(Discovery { pools, calls: 0 })
}

async fn list(
    cognito: &Cognito,
    pace: &Limiter,
    id: &TargetId,
    metrics: &ApiMetrics,
) -> Result<Discovery, Failure> {
    const OPERATION: &str = "ListUserPools";
    let mut found = Discovery::default();
    // Every token the listing was given: one given twice would lead round the same
    // pages forever.
    let mut tokens = HashSet::new();
    // Each pool once, however often a broken listing repeats it: until its deadline
    // ends it, an endless listing then holds no more than the account's pools.
    let mut listed: HashSet<Arc<str>> = HashSet::new();
    let mut token: Option<String> = None;
    loop {
        found.calls += 1;
        let _admitted = pace.admit().await;
        let out = cognito
            .client()
            .list_user_pools()
            .max_results(60)
            .set_next_token(token.take())
            .customize()
            .config_override(cognito.overrides())
            .send()
            .await
            .map_err(|e| Failure::of(OPERATION, &e))?;
        for pool in out.user_pools() {
            // The client refuses pools without an ID (`aws::members`); a pool skipped
            // here would lose its series without a word.
            let Some(pool_id) = pool.id().filter(|i| !i.is_empty()) else {
                metrics.error(id, OPERATION, crate::aws::errors::label::MALFORMED);
                return Err(Failure::malformed(
                    OPERATION,
                    "a pool without its Id",
                    out.request_id(),
                ));
            };
            let pool_id: Arc<str> = Arc::from(pool_id);
            if listed.insert(pool_id.clone()) {
                found.pools.push(Listed {
                    name: Some(pool.name().map_or_else(|| pool_id.clone(), Arc::from)),
                    id: pool_id,
                    modified: pool.last_modified_date().copied(),
                });
            }
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => {
                if !tokens.insert(next.to_owned()) {
                    // The SDK accepted the answer, so its interceptor counted no error;
                    // this is one, and it is counted here.
                    metrics.error(id, OPERATION, crate::aws::errors::label::MALFORMED);
                    return Err(Failure::malformed(
                        OPERATION,
                        "a NextToken given before came back: the listing would never end",
                        out.request_id(),
                    ));
                }
                token = Some(next.to_owned());
            }
            _ => return Ok(found),
        }
    }
}
