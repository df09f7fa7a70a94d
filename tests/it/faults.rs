//! The exporter against a faulting simulator: every failed attempt counted under its
//! exception, exactly as many as were injected, malformed answers failing only their
//! pool, and throttling slowing the poll without losing a pool.

use std::time::Duration;

use cognito_sim::{EnumField, ErrorCode, Fault, FaultRule, FaultSet, RateLimit};

use crate::harness::*;

const GET: &str = "GetLogDeliveryConfiguration";

/// A poll slow enough that a scrape can land between two cycles.
fn calm_poll() -> cognito_exporter::config::PollConfig {
    let mut poll = fast_poll();
    poll.interval = Duration::from_secs(1);
    poll
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_error_is_counted_once_under_its_code() {
    let sim = simulator().await;
    let state = sim.state();
    for i in 0..4 {
        state.create_pool(ACCOUNT, REGION, &format!("prod-{i}"));
    }
    let codes = [
        "InvalidParameterException",
        "InternalErrorException",
        "TooManyRequestsException",
        "NotAuthorizedException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "ThrottlingException",
    ];
    let injected = codes
        .iter()
        .map(|c| {
            FaultRule::error(c.parse::<ErrorCode>().expect("a known code"))
                .operation(GET)
                .count(2)
        })
        .collect();
    state.set_faults(fault_set(injected)).expect("valid faults");
    let exporter = start(vec![target(&sim)], calm_poll()).await;

    // 18 faults over 4 pools per cycle: all are spent within a few cycles.
    let text = scrape_until(exporter.addr, "every fault counted", |t| {
        codes.iter().map(|c| errors(t, GET, c)).sum::<f64>() >= 18.0
    })
    .await;
    let stats = state.stats().operation(GET);
    for code in codes {
        assert_eq!(stats.injected(code), 2, "{code} injected");
        assert_eq!(errors(&text, GET, code), 2.0, "{code} counted\n{text}");
    }
    // Attempts, retries included, match what the simulator received. An attempt is
    // counted as it leaves, before the simulator sees it, so during a cycle the two can
    // differ by what is in flight: they are compared until they agree, which a lasting
    // miscount never does.
    let text = wait_until(
        "the exporter's attempt count to match the simulator's",
        Duration::from_secs(15),
        async || {
            let text = scrape(exporter.addr).await;
            let counted = requests(&text, GET) as u64;
            let received = state.stats().operation(GET).requests;
            if counted == received {
                Ok(text)
            } else {
                Err(format!("{counted} counted, {received} received"))
            }
        },
    )
    .await;
    assert!(!text.contains(r#"exception="other""#), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_are_counted_and_fail_only_their_pool() {
    let sim = simulator().await;
    let state = sim.state();
    let pools: Vec<_> = (0..5)
        .map(|i| state.create_pool(ACCOUNT, REGION, &format!("prod-{i}")))
        .collect();
    let exporter = start(vec![target(&sim)], calm_poll()).await;
    scrape_between_cycles(exporter.addr).await;

    let faults = vec![
        FaultRule::new(Fault::TruncatedJson).operation(GET).count(1),
        FaultRule::new(Fault::Html502).operation(GET).count(1),
        FaultRule::new(Fault::UnknownEnum {
            field: EnumField::LogLevel,
        })
        .operation(GET)
        .count(1),
        FaultRule::new(Fault::UnknownEnum {
            field: EnumField::EventSource,
        })
        .operation(GET)
        .count(1),
        FaultRule::new(Fault::MissingField {
            field: "LogLevel".into(),
        })
        .operation(GET)
        .count(1),
    ];
    state.set_faults(fault_set(faults)).expect("valid faults");
    let text = scrape_until(exporter.addr, "five malformed answers", |t| {
        errors(t, GET, "malformed_response") >= 5.0
    })
    .await;
    assert_eq!(errors(&text, GET, "malformed_response"), 5.0, "{text}");
    assert!(!text.contains(r#"exception="other""#), "{text}");

    // Once the faults are spent every pool reads again; nothing else was disturbed.
    scrape_between_cycles(exporter.addr).await;
    let text = scrape_between_cycles(exporter.addr).await;
    for pool in &pools {
        assert_eq!(
            value(
                &text,
                &pool_series("cognito_pool_poll_success", &pool.id, "")
            ),
            Some(1.0)
        );
    }
    assert_eq!(
        value(&text, &target_series("cognito_exporter_target_up", "")),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_and_stalls_count_as_connection_and_timeout() {
    let sim = simulator().await;
    let state = sim.state();
    state.create_pool(ACCOUNT, REGION, "prod-0");
    let mut poll = calm_poll();
    poll.timeout = Duration::from_secs(3); // one attempt: 1 s
    let exporter = start(vec![target(&sim)], poll).await;
    scrape_between_cycles(exporter.addr).await;

    // One at a time: a stall delays the request a reset would have broken.
    let faults = [
        // Mid-response, so the attempt has certainly reached the server; a connection
        // found closed before the request was written is resent by the HTTP client on
        // its own, below the SDK, and is no attempt.
        (
            "reset",
            Fault::Reset {
                after_bytes: Some(10),
            },
            "connection",
        ),
        (
            "stall",
            Fault::Stall {
                duration: Duration::from_secs(2),
            },
            "timeout",
        ),
    ];
    for (kind, fault, label) in faults {
        state
            .set_faults(fault_set(vec![
                FaultRule::new(fault).operation(GET).count(1),
            ]))
            .expect("valid faults");
        wait_until(
            &format!("a {kind} injected"),
            Duration::from_secs(15),
            async || match state.stats().operation(GET).injected(kind) {
                0 => Err("none yet".to_string()),
                _ => Ok(()),
            },
        )
        .await;
        let text = scrape_between_cycles(exporter.addr).await;
        assert_eq!(state.stats().operation(GET).injected(kind), 1);
        assert_eq!(
            errors(&text, GET, label),
            1.0,
            "{kind} counted as {label}\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_below_the_configured_rate_every_pool_is_still_read() {
    let sim = simulator().await;
    let state = sim.state();
    for i in 0..40 {
        state.create_pool(ACCOUNT, REGION, &format!("prod-{i:02}"));
    }
    state
        .set_faults(FaultSet {
            rate_limit: Some(RateLimit {
                per_second: 20.0,
                burst: Some(1),
            }),
            ..FaultSet::default()
        })
        .expect("valid faults");
    let mut poll = fast_poll();
    poll.requests_per_second = 40.0; // twice what the server allows
    poll.interval = Duration::from_secs(30);
    poll.timeout = Duration::from_secs(20);
    let exporter = start(vec![target(&sim)], poll).await;

    let up = target_series("cognito_exporter_target_up", "");
    let text = scrape_until(exporter.addr, "the first cycle", |t| {
        value(t, &up).is_some()
    })
    .await;
    let read = text
        .lines()
        .filter(|l| l.starts_with("cognito_pool_poll_success{") && l.ends_with(" 1"))
        .count();
    assert_eq!(read, 40, "every pool read despite throttling\n{text}");
    let throttled = errors(&text, GET, "TooManyRequestsException")
        + errors(&text, "ListUserPools", "TooManyRequestsException");
    assert!(throttled > 0.0, "the server did throttle\n{text}");
    let sim_throttled: u64 = ["ListUserPools", GET]
        .iter()
        .map(|op| {
            state
                .stats()
                .operation(op)
                .errors("TooManyRequestsException")
        })
        .sum();
    assert_eq!(
        throttled as u64, sim_throttled,
        "every throttled attempt counted"
    );
    let waited = value(
        &text,
        &target_series("cognito_exporter_rate_limiter_wait_seconds_total", ""),
    )
    .expect("limiter wait is exported");
    assert!(waited > 0.0);
}
