//! Who a target is and which pools it has: `GetCallerIdentity` once, then on every cycle
//! `ListUserPools` (paginated), or `DescribeUserPool` for each pool the target names.

use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::Client;

use super::fold::TargetState;
use crate::aws::Connection;
use crate::aws::errors::{Failure, NOT_FOUND};
use crate::config::TargetConfig;
use crate::model::TargetId;

/// A pool's ID and name.
pub(super) type Pool = (Arc<str>, Arc<str>);

/// The target's identity, from `GetCallerIdentity`.
pub(super) async fn identify(connection: &Connection) -> Result<TargetId, Failure> {
    match connection.sts().get_caller_identity().send().await {
        Ok(out) => {
            let account = out
                .account()
                .unwrap_or(&connection.provisional().account_id);
            Ok(TargetId::new(account, connection.region()))
        }
        Err(e) => Err(Failure::of("GetCallerIdentity", &e).warn(
            &e,
            connection.region(),
            None,
            "cannot learn the target's account",
        )),
    }
}

/// The target's pools: listed, or the configured IDs with names from DescribeUserPool
/// (remembered, since a pool's name never changes).
pub(super) async fn pools(
    target: &TargetConfig,
    cognito: &Client,
    id: &TargetId,
    state: &TargetState,
) -> Result<Vec<Pool>, Failure> {
    let Some(ids) = &target.user_pools else {
        return list(cognito, id).await;
    };
    let mut pools = Vec::with_capacity(ids.len());
    for pool in ids {
        if let Some((record, _)) = state.pools.get(pool.as_str()) {
            pools.push((record.id.clone(), record.name.clone()));
            continue;
        }
        match cognito.describe_user_pool().user_pool_id(pool).send().await {
            Ok(out) => {
                let name = out.user_pool().and_then(|p| p.name()).unwrap_or(pool);
                pools.push((Arc::from(pool.as_str()), Arc::from(name)));
            }
            Err(e) => {
                let failure = Failure::of("DescribeUserPool", &e).warn(
                    &e,
                    &id.region,
                    Some(pool),
                    "cannot describe a configured user pool",
                );
                if failure.label != NOT_FOUND {
                    // Poll it anyway under its ID; its own call will say what is wrong.
                    pools.push((Arc::from(pool.as_str()), Arc::from(pool.as_str())));
                }
            }
        }
    }
    Ok(pools)
}

async fn list(cognito: &Client, id: &TargetId) -> Result<Vec<Pool>, Failure> {
    let mut pools = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = cognito
            .list_user_pools()
            .max_results(60)
            .set_next_token(token.take())
            .send()
            .await;
        let out = page.map_err(|e| {
            Failure::of("ListUserPools", &e).warn(&e, &id.region, None, "cannot list user pools")
        })?;
        pools.extend(out.user_pools().iter().filter_map(|p| {
            let id = p.id()?;
            Some((Arc::from(id), Arc::from(p.name().unwrap_or(id))))
        }));
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(pools),
        }
    }
}
