//! Which requests fault rules hit and how often: every injectable error code, rules aimed
//! at one account or key, the rate limit, and rates that repeat with their seed.

use aws_sdk_cognitoidentityprovider::config::Credentials;
use cognito_sim::{ErrorCode, FaultRule, FaultSet, RateLimit};

use crate::harness::*;

#[tokio::test]
async fn every_injectable_error_reaches_the_sdk_with_its_status() {
    let sim = start(1).await;
    let c = client(&sim);
    for code_want in ErrorCode::INJECTABLE {
        let rule = FaultRule::error(code_want)
            .operation("ListUserPools")
            .count(1);
        sim.state().set_faults(faults(vec![rule])).expect("valid");
        let err = c
            .list_user_pools()
            .max_results(5)
            .send()
            .await
            .expect_err("injected");
        assert_eq!(code(&err), code_want.as_str());
        assert_eq!(status(&err), Some(code_want.http_status().as_u16()));
        c.list_user_pools()
            .max_results(5)
            .send()
            .await
            .expect("count=1 is spent");
    }
    let stats = sim.state().stats().operation("ListUserPools");
    let codes = u64::try_from(ErrorCode::INJECTABLE.len()).expect("a handful of codes");
    assert_eq!(stats.requests, 2 * codes);
    assert_eq!(stats.ok, codes);
    for code_want in ErrorCode::INJECTABLE {
        assert_eq!(stats.errors(code_want.as_str()), 1);
        assert_eq!(stats.injected(code_want.as_str()), 1);
    }
}

#[tokio::test]
async fn faults_can_target_one_account_or_key() {
    let sim = start(1).await;
    let rules = vec![
        FaultRule::error(ErrorCode::AccessDeniedException).account(OTHER),
        FaultRule::error(ErrorCode::UnrecognizedClientException).access_key("AKIDBROKEN"),
        FaultRule::error(ErrorCode::AccessDeniedException)
            .operation("AssumeRole")
            .account("333333333333"),
    ];
    sim.state().set_faults(faults(rules)).expect("valid");
    first_pool(&client(&sim)).await;
    let broken = Credentials::new("AKIDBROKEN", "s", None, None, "t");
    let err = client_with(&sim, REGION, broken)
        .list_user_pools()
        .max_results(1)
        .send()
        .await;
    assert_eq!(
        code(&err.expect_err("key fault")),
        "UnrecognizedClientException"
    );

    let assume = |account: &str| {
        sts_client(&sim, static_keys())
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/r"))
            .role_session_name("s1")
            .send()
    };
    let err = assume("333333333333").await.expect_err("denied");
    assert_eq!(
        (code(&err).as_str(), status(&err)),
        ("AccessDenied", Some(403))
    );
    let c = assume(OTHER).await.expect("assume");
    let c = c.credentials().expect("credentials");
    let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "x");
    let err = client_with(&sim, REGION, creds)
        .list_user_pools()
        .max_results(1)
        .send()
        .await;
    assert_eq!(
        code(&err.expect_err("account fault")),
        "AccessDeniedException"
    );
    let stats = sim.state().stats();
    assert_eq!(
        stats
            .account(OTHER, "ListUserPools")
            .errors("AccessDeniedException"),
        1
    );
    let mine = stats.account(ACCOUNT, "ListUserPools");
    assert_eq!(
        (mine.ok, mine.errors("UnrecognizedClientException")),
        (1, 1)
    );
    assert_eq!(
        stats
            .account("333333333333", "AssumeRole")
            .injected("AccessDeniedException"),
        1
    );
}

#[tokio::test]
async fn rate_limit_throttles_past_the_burst_and_refills() {
    let sim = start(1).await;
    let c = client(&sim);
    let limit = |per_second, burst| FaultSet {
        rate_limit: Some(RateLimit {
            per_second,
            burst: Some(burst),
        }),
        ..FaultSet::default()
    };
    // A token comes back every 1000 s, so within this test the burst is all there is and
    // the counts are exact however slowly the requests go.
    sim.state().set_faults(limit(0.001, 5)).expect("valid");
    let mut passed = 0;
    for _ in 0..20 {
        if !throttled(&c).await {
            passed += 1;
        }
    }
    assert_eq!(passed, 5, "the burst passes, the rest is refused");
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!(stats.errors("TooManyRequestsException"), 15);
    assert_eq!(stats.injected("rate_limit"), 15);

    // Two tokens a second into a bucket of one: once a request is refused, a later one
    // passes again with the same fault set in force.
    sim.state().set_faults(limit(2.0, 1)).expect("valid");
    eventually("a request is refused", async || throttled(&c).await).await;
    eventually("the bucket refills", async || !throttled(&c).await).await;
}

/// Whether a `ListUserPools` was refused by the rate limit (any other error fails).
async fn throttled(c: &aws_sdk_cognitoidentityprovider::Client) -> bool {
    match c.list_user_pools().max_results(1).send().await {
        Ok(_) => false,
        Err(e) if code(&e) == "TooManyRequestsException" => true,
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[tokio::test]
async fn rate_faults_repeat_with_their_seed() {
    let sim = start(1).await;
    let c = client(&sim);
    let set = FaultSet {
        seed: Some(99),
        rules: vec![FaultRule::error(ErrorCode::InternalErrorException).rate(0.5)],
        ..FaultSet::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        sim.state().set_faults(set.clone()).expect("valid");
        let mut run = Vec::new();
        for _ in 0..24 {
            run.push(c.list_user_pools().max_results(1).send().await.is_err());
        }
        runs.push(run);
    }
    assert_eq!(runs[0], runs[1]);
    let failed = runs[0].iter().filter(|f| **f).count();
    assert!((4..=20).contains(&failed), "{failed} of 24 at rate 0.5");
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!(stats.errors("InternalErrorException"), 2 * failed as u64);
}
