//! Answers that break what the API promises, as the SDK meets them: every member a
//! client of the user-pool and identity operations relies on removed in turn
//! (`missing_field`), and page tokens that never end (`looping_token`, `endless_token`).

use std::collections::HashSet;

use aws_sdk_cognitoidentityprovider::types::{EventSourceName, LogLevel};
use cognito_sim::{Fault, FaultRule};

use crate::harness::*;

fn missing(field: &str, op: &str) -> FaultRule {
    FaultRule::new(Fault::MissingField {
        field: field.into(),
    })
    .operation(op)
}

#[tokio::test]
async fn every_member_a_poller_relies_on_can_go_missing() {
    let sim = start(2).await;
    let c = client(&sim);
    let id = first_pool(&c).await;
    // A configured pool, so that a missing list is not mistaken for an empty one.
    c.set_log_delivery_configuration()
        .user_pool_id(&id)
        .log_configurations(cloudwatch(
            LogLevel::Error,
            EventSourceName::UserNotification,
            LOG_GROUP,
        ))
        .send()
        .await
        .expect("set");
    let state = sim.state();
    let set = |rule| state.set_faults(faults(vec![rule])).expect("valid");
    let list = || c.list_user_pools().max_results(60).send();
    let describe = || c.describe_user_pool().user_pool_id(&id).send();
    let get = || c.get_log_delivery_configuration().user_pool_id(&id).send();

    set(missing("UserPools", "ListUserPools"));
    let got = list().await.expect("parses");
    assert!(got.user_pools.is_none(), "{got:?}");
    set(missing("Id", "ListUserPools"));
    let got = list().await.expect("parses");
    assert_eq!(got.user_pools().len(), 2);
    assert!(got.user_pools().iter().all(|p| p.id().is_none()), "{got:?}");

    set(missing("UserPool", "DescribeUserPool"));
    let got = describe().await.expect("parses");
    assert!(got.user_pool().is_none(), "{got:?}");

    set(missing(
        "LogDeliveryConfiguration",
        "GetLogDeliveryConfiguration",
    ));
    let got = get().await.expect("parses");
    assert!(got.log_delivery_configuration().is_none(), "{got:?}");
    // The SDK fills the required members it did not get: an absent list reads as an
    // empty one, an absent ID as an empty string. Only the body tells them apart.
    set(missing("LogConfigurations", "GetLogDeliveryConfiguration"));
    let got = get().await.expect("parses");
    let config = got.log_delivery_configuration().expect("config");
    assert!(config.log_configurations().is_empty(), "{got:?}");
    set(missing("UserPoolId", "GetLogDeliveryConfiguration"));
    let got = get().await.expect("parses");
    let config = got.log_delivery_configuration().expect("config");
    assert_eq!(config.user_pool_id(), "");
    assert_eq!(config.log_configurations().len(), 1);
    for field in ["LogLevel", "EventSource"] {
        set(missing(field, "GetLogDeliveryConfiguration"));
        let seen = match get().await {
            Ok(got) => {
                let c = &got
                    .log_delivery_configuration()
                    .expect("config")
                    .log_configurations()[0];
                c.log_level().as_str().is_empty() || c.event_source().as_str().is_empty()
            }
            Err(err) => err.raw_response().is_some(),
        };
        assert!(seen, "a missing {field} is visible to the client");
    }

    set(missing("Account", "GetCallerIdentity"));
    let who = sts_client(&sim, static_keys())
        .get_caller_identity()
        .send()
        .await
        .expect("parses");
    assert!(who.account().is_none(), "{who:?}");
    assert!(who.arn().is_some(), "only Account is gone");

    let stats = state.stats();
    let damaged: Vec<u64> = [
        "ListUserPools",
        "DescribeUserPool",
        "GetLogDeliveryConfiguration",
        "GetCallerIdentity",
    ]
    .iter()
    .map(|op| stats.operation(op).injected("missing_field"))
    .collect();
    assert_eq!(damaged, [2, 1, 5, 1]);
}

#[tokio::test]
async fn a_looping_token_repeats_and_an_endless_one_never_does() {
    let sim = start(3).await;
    let c = client(&sim);
    let state = sim.state();
    state
        .set_faults(faults(vec![FaultRule::new(Fault::LoopingToken)]))
        .expect("valid");
    // Two pages of two: the second page's token leads back to the first page, and the
    // first page's token is that same token.
    let first = c
        .list_user_pools()
        .max_results(2)
        .send()
        .await
        .expect("page");
    let token = first.next_token().expect("a token").to_owned();
    let again = c
        .list_user_pools()
        .max_results(2)
        .next_token(&token)
        .send()
        .await
        .expect("page");
    assert_eq!(again.next_token(), Some(token.as_str()));
    assert_eq!(
        again.user_pools()[0].id(),
        first.user_pools()[0].id(),
        "back to the first page"
    );

    state
        .set_faults(faults(vec![FaultRule::new(Fault::EndlessToken)]))
        .expect("valid");
    let mut tokens = HashSet::new();
    let mut next: Option<String> = None;
    for _ in 0..10 {
        let page = c
            .list_user_pools()
            .max_results(60)
            .set_next_token(next.take())
            .send()
            .await
            .expect("page");
        assert_eq!(page.user_pools().len(), 3, "every page is the whole list");
        let token = page.next_token().expect("never the last page").to_owned();
        assert!(tokens.insert(token.clone()), "{token} came twice");
        next = Some(token);
    }
    let stats = state.stats().operation("ListUserPools");
    assert_eq!(
        (
            stats.injected("looping_token"),
            stats.injected("endless_token")
        ),
        (2, 10)
    );
}
