//! The limiter's pace on the paused clock and the real one, its slowdown and recovery,
//! and that no rate or sequence of outcomes makes it panic.

use super::*;

#[tokio::test(start_paused = true)]
async fn attempts_are_spaced_exactly_at_the_rate_without_burst() {
    let limiter = Arc::new(Limiter::on_tokio_timer(10.0));
    tokio::time::advance(Duration::from_secs(5)).await; // idle time earns no burst
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let l = limiter.clone();
        tasks.push(tokio::spawn(async move {
            l.until_ready().await;
            Instant::now()
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.push(t.await.expect("task") - start);
    }
    times.sort();
    for (i, t) in times.iter().enumerate() {
        assert_eq!(*t, Duration::from_millis(100) * i as u32, "attempt {i}");
    }
}

/// On the real clock, where waits end late: no two attempts closer than the period, on
/// tokio's timer (10/s) and on the pacer (100/s and 1,000/s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gaps_are_never_shorter_than_the_period_on_a_real_clock() {
    for (rate, period, attempts) in [
        (10.0, Duration::from_millis(100), 8),
        (100.0, Duration::from_millis(10), 40),
        (1000.0, Duration::from_millis(1), 200),
    ] {
        let limiter = Arc::new(Limiter::new(rate));
        let tasks: Vec<_> = (0..attempts)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.until_ready().await })
            })
            .collect();
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.expect("task"));
        }
        starts.sort();
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= period,
                "{rate}/s: {:?}",
                pair[1] - pair[0]
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn above_the_timer_resolution_the_rate_holds_on_average() {
    let limiter = Arc::new(Limiter::on_tokio_timer(10_000.0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let l = limiter.clone();
            tokio::spawn(async move { l.until_ready().await })
        })
        .collect();
    let mut last = start;
    for t in tasks {
        last = last.max(t.await.expect("task"));
    }
    assert!(
        last - start < Duration::from_millis(101),
        "{:?}",
        last - start
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_slows_the_pace_and_success_restores_it() {
    let limiter = Limiter::on_tokio_timer(10.0);
    for _ in 0..3 {
        limiter.throttled();
    }
    assert_eq!(
        limiter.period(),
        Duration::from_millis(100).mul_f64(1.25 * 1.25 * 1.25)
    );
    for _ in 0..100 {
        limiter.throttled();
    }
    assert_eq!(
        limiter.period(),
        Duration::from_millis(1600),
        "bounded slowdown"
    );
    for _ in 0..300 {
        limiter.succeeded();
    }
    assert_eq!(limiter.period(), Duration::from_millis(100));
}

/// The widest a period can grow: the widest spacing, slowed down as far as it goes.
fn widest_period() -> Duration {
    WIDEST.mul_f64(MAX_SLOWDOWN)
}

/// Rates validation refuses, and those at its ends: none may panic here (1e-300 did
/// in `Duration::from_secs_f64`, 1e-19 when adding its spacing to an `Instant`).
#[tokio::test(start_paused = true)]
async fn any_rate_gives_a_bounded_spacing_without_panicking() {
    for rate in [
        1e-300,
        1e-19,
        5e-324,
        0.0,
        -0.0,
        -1.0,
        f64::NAN,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::MAX,
        0.01,
        10_000.0,
    ] {
        let limiter = Limiter::on_tokio_timer(rate);
        let first = limiter.until_ready().await;
        let second = limiter.until_ready().await;
        assert!(second - first <= WIDEST, "{rate}: {:?}", second - first);
        for _ in 0..100 {
            limiter.throttled();
        }
        assert!(limiter.period() <= widest_period(), "{rate}");
        limiter.until_ready().await;
        for _ in 0..1000 {
            limiter.succeeded();
        }
        assert_eq!(limiter.period(), limiter.base(), "{rate}");
    }
    assert_eq!(Limiter::new(1e-300).base(), WIDEST);
    assert_eq!(Limiter::new(f64::NAN).base(), WIDEST);
    assert_eq!(Limiter::new(f64::INFINITY).base(), Duration::ZERO);
    assert_eq!(Limiter::new(0.01).base(), Duration::from_secs(100));
}

#[test]
fn scaling_saturates_where_mul_f64_panics() {
    let second = Duration::from_secs(1);
    assert_eq!(scaled(second, 1.25), second.mul_f64(1.25));
    assert_eq!(scaled(Duration::MAX, 2.0), Duration::MAX);
    assert_eq!(scaled(second, f64::INFINITY), Duration::MAX);
    assert_eq!(scaled(second, f64::NAN), Duration::ZERO);
    assert_eq!(scaled(second, -1.0), Duration::ZERO);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Step {
        Throttled,
        Succeeded,
        Attempt,
    }

    fn rate() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            0.01..=10_000.0f64,
            (-320..=320i32).prop_map(|e| 10f64.powi(e)),
        ]
    }

    fn steps() -> impl Strategy<Value = Vec<Step>> {
        proptest::collection::vec(
            prop_oneof![
                3 => Just(Step::Throttled),
                3 => Just(Step::Succeeded),
                1 => Just(Step::Attempt),
            ],
            0..200,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the rate and the run of throttles and successes, no arithmetic
        /// panics, the spacing stays between the configured one and its slowest, and
        /// each attempt starts no later than one spacing after the previous one.
        #[test]
        fn no_rate_and_no_sequence_panics(rate in rate(), steps in steps()) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let limiter = Limiter::on_tokio_timer(rate);
                // The previous attempt's start, and the spacing set then.
                let mut last = (limiter.until_ready().await, limiter.period());
                for step in steps {
                    match step {
                        Step::Throttled => limiter.throttled(),
                        Step::Succeeded => limiter.succeeded(),
                        Step::Attempt => {
                            let started = limiter.until_ready().await;
                            prop_assert!(started - last.0 <= last.1 + TIMER_RESOLUTION);
                            last = (started, limiter.period());
                        }
                    }
                    let period = limiter.period();
                    prop_assert!(limiter.base() <= period && period <= widest_period());
                }
                Ok(())
            })?;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_new_rate_applies_from_the_next_slot_and_keeps_a_slowdown() {
    let limiter = Limiter::on_tokio_timer(10.0);
    limiter.set_rate(20.0);
    assert_eq!(limiter.base(), Duration::from_millis(50));
    assert_eq!(limiter.period(), Duration::from_millis(50));
    let first = limiter.until_ready().await;
    let second = limiter.until_ready().await;
    assert_eq!(second - first, Duration::from_millis(50));
    // Throttled twice at 20/s: 1.25² slower. At 5/s the same slowdown holds.
    limiter.throttled();
    limiter.throttled();
    limiter.set_rate(5.0);
    assert_eq!(limiter.base(), Duration::from_millis(200));
    assert_eq!(limiter.period(), Duration::from_micros(312_500));
}

#[tokio::test(start_paused = true)]
async fn operations_of_every_target_wait_for_room_in_the_process() {
    let room = tokio::sync::Semaphore::new(2);
    let targets: Vec<Limiter> = (0..3).map(|_| Limiter::on_tokio_timer(5.0)).collect();
    let first = targets[0].admit_within(&room).await;
    let _second = targets[1].admit_within(&room).await;
    let third = targets[2].admit_within(&room);
    tokio::pin!(third);
    assert!(
        tokio::time::timeout(Duration::from_secs(60), third.as_mut())
            .await
            .is_err(),
        "no room while two operations are under way"
    );
    drop(first);
    let _third = tokio::time::timeout(Duration::from_millis(1), third)
        .await
        .expect("room once one is done");
}
