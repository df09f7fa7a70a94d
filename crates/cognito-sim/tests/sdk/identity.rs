//! STS as the SDK sees it: who a key belongs to, `AssumeRole` moving a client into the
//! role's account, and expired role credentials.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cognitoidentityprovider::config::Credentials;
use cognito_sim::{self as sim, SimOptions};

use crate::harness::*;

#[tokio::test]
async fn assume_role_switches_account() {
    let sim = start(3).await;
    let me = sts_client(&sim, static_keys())
        .get_caller_identity()
        .send()
        .await
        .expect("identity");
    assert_eq!(me.account(), Some(ACCOUNT));
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/cognito-sim"));

    let role = format!("arn:aws:iam::{OTHER}:role/cognito-reader");
    let asked = unix_seconds(SystemTime::now());
    let assumed = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn(&role)
        .role_session_name("poller")
        .external_id("ext-1")
        .send()
        .await
        .expect("assume");
    let creds = assumed.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    let answered = unix_seconds(SystemTime::now());
    // An hour from the moment the simulator issued them, which lies between the two
    // readings of the clock: exact however long the request took.
    let expires = creds.expiration().secs();
    assert!(
        (asked + 3600..=answered + 3600).contains(&expires),
        "default lifetime 1h: issued in {asked}..={answered}, expires {expires}"
    );
    let role_creds = Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_owned()),
        None,
        "assumed",
    );
    let who = sts_client(&sim, role_creds.clone())
        .get_caller_identity()
        .send()
        .await
        .expect("who");
    assert_eq!(who.account(), Some(OTHER));
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::210987654321:assumed-role/cognito-reader/poller")
    );

    let other = client_with(&sim, REGION, role_creds);
    let listed = other
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert!(
        listed.user_pools().is_empty(),
        "the other account starts empty"
    );
    let made = other
        .create_user_pool()
        .pool_name("theirs")
        .send()
        .await
        .expect("create");
    assert!(
        made.user_pool()
            .and_then(|p| p.arn())
            .is_some_and(|a| a.contains(OTHER))
    );
    assert_eq!(sim.state().pools(OTHER, REGION).len(), 1);
    assert_eq!(sim.state().pools(ACCOUNT, REGION).len(), 3);

    let err = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn("arn:aws:iam::1:role/x")
        .role_session_name("poller")
        .send()
        .await
        .expect_err("bad role ARN");
    assert_eq!(code(&err), "ValidationError");
}

#[tokio::test]
async fn expired_assumed_credentials_are_refused() {
    let options = SimOptions {
        assume_role_lifetime: Duration::ZERO,
        ..SimOptions::default()
    };
    let sim = sim::spawn(options).await.expect("starts");
    let assumed = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn(format!("arn:aws:iam::{OTHER}:role/r"))
        .role_session_name("s1")
        .send()
        .await
        .expect("assume");
    let c = assumed.credentials().expect("credentials");
    let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "x");
    let err = client_with(&sim, REGION, creds)
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .expect_err("expired");
    assert_eq!(code(&err), "ExpiredTokenException");
}

/// Whole seconds since the epoch, as `Expiration` carries them.
fn unix_seconds(t: SystemTime) -> i64 {
    let secs = t.duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    i64::try_from(secs).expect("before the year 292 billion")
}
