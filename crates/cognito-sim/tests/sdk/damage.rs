//! What each fault kind does to an answer, as a client meets it: delays and stalls,
//! connection resets, malformed bodies, and a pool deleted behind the client's back.

use std::time::Duration;

use aws_sdk_cognitoidentityprovider::types::LogLevel;
use aws_smithy_runtime_api::client::result::SdkError;
use cognito_sim::{self as sim, Fault, FaultRule};

use crate::harness::*;

#[tokio::test]
async fn latency_holds_answers_and_stalls_outlast_the_client() {
    let sim = start(1).await;
    let ms = Duration::from_millis;
    let rules = vec![
        FaultRule::new(Fault::Latency {
            fixed: ms(150),
            jitter: ms(50),
        })
        .operation("ListUserPools")
        .region(REGION),
        // Longer than any test runs: only the shutdown at the end lets this one go.
        FaultRule::new(Fault::Latency {
            fixed: Duration::from_secs(3600),
            jitter: Duration::ZERO,
        })
        .operation("ListUserPools")
        .region("eu-west-1"),
        FaultRule::new(Fault::Stall {
            duration: ms(30_000),
        })
        .operation("DescribeUserPool"),
    ];
    sim.state().set_faults(faults(rules)).expect("valid");
    let c = client(&sim);
    // A delayed answer comes, intact, to a client that waits for it.
    let id = first_pool(&patient_client(&sim, REGION)).await;

    // While the simulator holds a delayed answer, a request sent after it is answered.
    let held_client = patient_client(&sim, "eu-west-1");
    let held =
        tokio::spawn(async move { held_client.list_user_pools().max_results(1).send().await });
    let state = sim.state();
    eventually("the held request reaches the simulator", async || {
        state.stats().operation("ListUserPools").injected("latency") == 2
    })
    .await;
    c.get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect("no fault on this operation");
    assert!(!held.is_finished(), "the delayed answer is still held");

    // A stall holds the answer past the client's 2 s operation timeout.
    let err = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect_err("stalled");
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    let stats = sim.state().stats();
    assert_eq!(stats.operation("ListUserPools").injected("latency"), 2);
    assert_eq!(stats.operation("DescribeUserPool").injected("stall"), 1);

    // Shutting down cuts held requests short instead of waiting them out (the held one
    // would otherwise keep this test for an hour).
    sim.shutdown().await.expect("shutdown cuts the stall short");
    let cut = held.await.expect("the task ends").expect_err("cut short");
    assert!(
        matches!(
            cut,
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ),
        "{cut:?}"
    );
}

#[tokio::test]
async fn connection_resets_are_transport_errors() {
    let sim = start(1).await;
    let rules = vec![
        FaultRule::new(Fault::Reset { after_bytes: None }).count(1),
        FaultRule::new(Fault::Reset {
            after_bytes: Some(10),
        })
        .count(1),
    ];
    sim.state().set_faults(faults(rules)).expect("valid");
    let c = client(&sim);
    for _ in 0..2 {
        let err = c
            .list_user_pools()
            .max_results(1)
            .send()
            .await
            .expect_err("reset");
        assert!(
            matches!(
                err,
                SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
            ),
            "{err:?}"
        );
    }
    first_pool(&c).await;
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!((stats.injected("reset"), stats.ok), (2, 1));
}

#[tokio::test]
async fn malformed_answers_are_seen_as_such() {
    let sim = start(1).await;
    let c = client(&sim);
    let id = first_pool(&c).await;
    let get = || c.get_log_delivery_configuration().user_pool_id(&id).send();

    sim.state()
        .set_faults(faults(vec![FaultRule::new(Fault::TruncatedJson)]))
        .expect("valid");
    let err = get().await.expect_err("truncated");
    assert!(matches!(err, SdkError::ResponseError(_)), "{err:?}");

    sim.state()
        .set_faults(faults(vec![FaultRule::new(Fault::Html502)]))
        .expect("valid");
    let err = get().await.expect_err("502");
    assert_eq!(status(&err), Some(502));

    let unknown = |field| faults(vec![FaultRule::new(Fault::UnknownEnum { field })]);
    sim.state()
        .set_faults(unknown(sim::EnumField::LogLevel))
        .expect("valid");
    let got = get().await.expect("unknown enum values parse");
    let config = &got
        .log_delivery_configuration()
        .expect("config")
        .log_configurations()[0];
    assert_eq!(config.log_level().as_str(), "DEBUG");
    assert!(!LogLevel::values().contains(&config.log_level().as_str()));
    sim.state()
        .set_faults(unknown(sim::EnumField::EventSource))
        .expect("valid");
    let got = get().await.expect("unknown enum values parse");
    let config = &got
        .log_delivery_configuration()
        .expect("config")
        .log_configurations()[0];
    assert_eq!(config.event_source().as_str(), "userDebugEvents");

    let missing = FaultRule::new(Fault::MissingField {
        field: "LogLevel".into(),
    });
    sim.state()
        .set_faults(faults(vec![missing]))
        .expect("valid");
    let missing_level = match get().await {
        Ok(got) => {
            let c = &got
                .log_delivery_configuration()
                .expect("config")
                .log_configurations()[0];
            c.log_level().as_str().is_empty()
        }
        Err(err) => matches!(err, SdkError::ResponseError(_)),
    };
    assert!(missing_level, "a missing LogLevel is visible to the client");

    let stats = sim.state().stats().operation("GetLogDeliveryConfiguration");
    let kinds = [
        "truncated_json",
        "html_502",
        "unknown_enum",
        "missing_field",
    ];
    let counts: Vec<u64> = kinds.iter().map(|k| stats.injected(k)).collect();
    assert_eq!(counts, [1, 1, 2, 1]);
    assert_eq!((stats.requests, stats.ok, stats.error_total()), (5, 0, 0));
}

#[tokio::test]
async fn a_pool_deleted_between_list_and_get_is_not_found() {
    let sim = start(3).await;
    let rule = FaultRule::new(Fault::DeleteAfterList).count(1);
    sim.state().set_faults(faults(vec![rule])).expect("valid");
    let c = client(&sim);
    let listed = c
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.user_pools().len(),
        3,
        "the list still shows the pool"
    );
    let gone = listed.user_pools()[0].id().expect("id");
    let err = c
        .get_log_delivery_configuration()
        .user_pool_id(gone)
        .send()
        .await
        .expect_err("deleted after the list");
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert_eq!(sim.state().pools(ACCOUNT, REGION).len(), 2);
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!((stats.ok, stats.injected("delete_after_list")), (1, 1));
}
