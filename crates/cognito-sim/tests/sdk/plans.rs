//! Feature plans and threat protection through the SDK: `CreateUserPool` and
//! `UpdateUserPool` set them, `DescribeUserPool` answers them, `UpdateUserPool` moves
//! `LastModifiedDate` (and `SetLogDeliveryConfiguration` does not), and `userAuthEvents`
//! logs need `PLUS`.

use aws_sdk_cognitoidentityprovider::types::{
    AdvancedSecurityModeType, EventSourceName, LogLevel, UserPoolAddOnsType, UserPoolTierType,
};
use aws_sdk_cognitoidentityprovider::{Client, types::UserPoolType};
use cognito_sim::{AdvancedSecurityMode, UserPoolTier};

use crate::harness::*;

fn add_ons(mode: AdvancedSecurityModeType) -> UserPoolAddOnsType {
    UserPoolAddOnsType::builder()
        .advanced_security_mode(mode)
        .build()
        .expect("mode set")
}

async fn describe(c: &Client, id: &str) -> UserPoolType {
    c.describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .expect("describe")
        .user_pool()
        .expect("pool")
        .clone()
}

#[tokio::test]
async fn plans_round_trip_and_threat_protection_needs_plus() {
    let sim = start(0).await;
    let c = client(&sim);
    let plain = c
        .create_user_pool()
        .pool_name("plain")
        .send()
        .await
        .expect("create");
    let plain = plain.user_pool().expect("pool");
    assert_eq!(plain.user_pool_tier(), Some(&UserPoolTierType::Essentials));
    assert!(plain.user_pool_add_ons().is_none(), "no add-ons were set");
    let plus = c
        .create_user_pool()
        .pool_name("guarded")
        .user_pool_tier(UserPoolTierType::Plus)
        .user_pool_add_ons(add_ons(AdvancedSecurityModeType::Enforced))
        .send()
        .await
        .expect("create");
    let id = plus
        .user_pool()
        .and_then(|p| p.id())
        .expect("id")
        .to_owned();
    let described = describe(&c, &id).await;
    assert_eq!(described.user_pool_tier(), Some(&UserPoolTierType::Plus));
    let mode = described
        .user_pool_add_ons()
        .map(|a| a.advanced_security_mode());
    assert_eq!(mode, Some(&AdvancedSecurityModeType::Enforced));

    let err = c
        .create_user_pool()
        .pool_name("wishful")
        .user_pool_tier(UserPoolTierType::Essentials)
        .user_pool_add_ons(add_ons(AdvancedSecurityModeType::Audit))
        .send()
        .await
        .expect_err("threat protection needs PLUS");
    assert_eq!(code(&err), "FeatureUnavailableInTierException");
    let err = c
        .update_user_pool()
        .user_pool_id(&id)
        .user_pool_tier(UserPoolTierType::Lite)
        .user_pool_add_ons(add_ons(AdvancedSecurityModeType::Audit))
        .send()
        .await
        .expect_err("threat protection needs PLUS");
    assert_eq!(code(&err), "FeatureUnavailableInTierException");
    let err = c
        .update_user_pool()
        .user_pool_id(&id)
        .user_pool_tier(UserPoolTierType::from("GOLD"))
        .send()
        .await
        .expect_err("unknown plan");
    assert_eq!(code(&err), "InvalidParameterException");
    assert_eq!(
        sim.state().pools(ACCOUNT, REGION).len(),
        2,
        "the refused pool was not made"
    );
    let pool = &sim.state().pools(ACCOUNT, REGION)[1];
    assert_eq!(
        (pool.tier(), pool.threat_protection()),
        (UserPoolTier::Plus, Some(AdvancedSecurityMode::Enforced)),
        "refused updates change nothing"
    );
}

#[tokio::test]
async fn update_moves_last_modified_and_log_delivery_does_not() {
    // Seeded pools are dated 2023, so any change made now is visibly later.
    let sim = start(2).await;
    let c = client(&sim);
    let id = first_pool(&c).await;
    let before = describe(&c, &id).await;
    let seeded = before.last_modified_date().copied().expect("date");
    assert_eq!(before.user_pool_tier(), Some(&UserPoolTierType::Lite));

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
    let after_set = describe(&c, &id).await;
    assert_eq!(
        after_set.last_modified_date(),
        Some(&seeded),
        "log delivery is not a pool change"
    );

    let auth_events = cloudwatch(LogLevel::Info, EventSourceName::UserAuthEvents, LOG_GROUP);
    let err = c
        .set_log_delivery_configuration()
        .user_pool_id(&id)
        .log_configurations(auth_events.clone())
        .send()
        .await
        .expect_err("userAuthEvents needs PLUS");
    assert_eq!(code(&err), "FeatureUnavailableInTierException");

    c.update_user_pool()
        .user_pool_id(&id)
        .user_pool_tier(UserPoolTierType::Plus)
        .user_pool_add_ons(add_ons(AdvancedSecurityModeType::Audit))
        .send()
        .await
        .expect("upgrade");
    let upgraded = describe(&c, &id).await;
    let moved = upgraded.last_modified_date().copied().expect("date");
    assert!(moved.secs() > seeded.secs(), "{moved:?} after {seeded:?}");
    assert_eq!(upgraded.user_pool_tier(), Some(&UserPoolTierType::Plus));
    let listed = c
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    let listed = listed
        .user_pools()
        .iter()
        .find(|p| p.id() == Some(&id))
        .expect("listed");
    assert_eq!(
        listed.last_modified_date(),
        Some(&moved),
        "ListUserPools shows the change"
    );

    c.set_log_delivery_configuration()
        .user_pool_id(&id)
        .log_configurations(auth_events)
        .send()
        .await
        .expect("PLUS takes userAuthEvents");
    // Settings an update leaves out go back to their defaults; the plan stays.
    c.update_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("update");
    let reset = describe(&c, &id).await;
    assert_eq!(reset.user_pool_tier(), Some(&UserPoolTierType::Plus));
    assert!(reset.user_pool_add_ons().is_none());
    c.update_user_pool()
        .user_pool_id(&id)
        .user_pool_tier(UserPoolTierType::Essentials)
        .send()
        .await
        .expect("downgrade");
    let kept = sim
        .state()
        .log_configurations(ACCOUNT, REGION, &id)
        .expect("pool");
    assert_eq!(
        kept.len(),
        1,
        "a downgrade keeps the userAuthEvents configuration"
    );
    let stats = sim.state().stats();
    assert_eq!(stats.operation("UpdateUserPool").ok, 3);
    assert_eq!(
        stats
            .operation("SetLogDeliveryConfiguration")
            .errors("FeatureUnavailableInTierException"),
        1
    );
}

#[tokio::test]
async fn seeded_pools_cover_every_plan() {
    let sim = start(12).await;
    let c = client(&sim);
    let mut tiers = Vec::new();
    let mut modes = Vec::new();
    for pool in sim.state().pools(ACCOUNT, REGION) {
        let described = describe(&c, &pool.id).await;
        tiers.push(
            described
                .user_pool_tier()
                .expect("tier")
                .as_str()
                .to_owned(),
        );
        if let Some(a) = described.user_pool_add_ons() {
            modes.push(a.advanced_security_mode().as_str().to_owned());
        }
    }
    for want in ["LITE", "ESSENTIALS", "PLUS"] {
        assert!(tiers.iter().any(|t| t == want), "{want} in {tiers:?}");
    }
    for want in ["OFF", "AUDIT", "ENFORCED"] {
        assert!(modes.iter().any(|m| m == want), "{want} in {modes:?}");
    }
    assert!(modes.len() < tiers.len(), "some pools have no add-ons");
}
