//! The limits on what a configuration may hold: the range of every duration and rate,
//! the size and nesting of files and environment values, the size of patterns; and that
//! no value at all makes validation panic.

#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error, as its API wants.

use std::path::Path;
use std::time::Duration;

use figment::Jail;

use super::*;

/// The problems of a configuration made of `flags` alone (no file, no environment).
fn flag_problems(flags: &FlagOverrides) -> Vec<String> {
    let mut problems = Vec::new();
    Jail::expect_with(|_| {
        problems = lines(&load(None, flags).expect_err("invalid"));
        Ok(())
    });
    problems
}

#[test]
fn durations_and_rates_out_of_range_name_the_key_and_the_range() {
    let flags = FlagOverrides {
        interval: Some("200000000000y".into()),
        timeout: Some("2h".into()),
        requests_per_second: Some(1e-300),
        concurrency: None,
        max_staleness: Some("31days".into()),
        cycle_timeout: Some("500ms".into()),
        describe_interval: Some("31d".into()),
    };
    assert_eq!(
        flag_problems(&flags),
        [
            "poll.interval: expected a duration from 1s to 24h, got \"200000000000y\"",
            "poll.timeout: expected a duration from 1s to 1h, got \"2h\"",
            "poll.max_staleness: expected a duration from 1s to 30d, got \"31days\"",
            "poll.cycle_timeout: expected a duration from 1s to 30d, got \"500ms\"",
            "poll.describe_interval: expected a duration from 1s to 30d, got \"31d\"",
            "poll.requests_per_second: expected a number from 0.01 to 10000",
        ]
    );
    for rate in [1e-19, 0.009, 10_000.5, f64::NAN, f64::INFINITY, 0.0, -3.0] {
        let flags = FlagOverrides {
            requests_per_second: Some(rate),
            ..FlagOverrides::default()
        };
        assert_eq!(
            flag_problems(&flags),
            ["poll.requests_per_second: expected a number from 0.01 to 10000"],
            "{rate}"
        );
    }
    // Below a second, above a day, and past what a Duration holds.
    for interval in ["999ms", "1day 1s", "600000000000y"] {
        let flags = FlagOverrides {
            interval: Some(interval.into()),
            ..FlagOverrides::default()
        };
        let problems = flag_problems(&flags);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("poll.interval: "), "{problems:?}");
    }
}

#[test]
fn the_ends_of_each_range_are_accepted_and_defaults_derive_from_them() {
    Jail::expect_with(|_| {
        let ends = |interval: &str, timeout: &str, rate: f64| FlagOverrides {
            interval: Some(interval.into()),
            timeout: Some(timeout.into()),
            requests_per_second: Some(rate),
            ..FlagOverrides::default()
        };
        let config = load(None, &ends("24h", "1h", 0.01)).expect("valid");
        assert_eq!(config.poll.interval, Duration::from_secs(86_400));
        assert_eq!(config.poll.max_staleness, Duration::from_secs(3 * 86_400));
        assert_eq!(config.poll.cycle_timeout, Duration::from_secs(3 * 86_400));
        let config = load(None, &ends("1s", "1s", 10_000.0)).expect("valid");
        assert_eq!(config.poll.max_staleness, Duration::from_secs(3));
        assert_eq!(config.poll.requests_per_second, 10_000.0);
        let longest = FlagOverrides {
            max_staleness: Some("30d".into()),
            cycle_timeout: Some("720h".into()),
            ..FlagOverrides::default()
        };
        let config = load(None, &longest).expect("valid");
        assert_eq!(config.poll.max_staleness, config.poll.cycle_timeout);
        Ok(())
    });
}

#[test]
fn files_too_large_or_too_deep_are_refused_before_parsing() {
    Jail::expect_with(|jail| {
        let big = format!("# {}\n", "x".repeat(config_walk::MAX_FILE_BYTES));
        let errors = load_in(jail, &big, &FlagOverrides::default()).expect_err("too large");
        assert_eq!(
            lines(&errors),
            ["config.yml: the file is larger than the limit of 1 MiB"]
        );
        // 200 KB of brackets took 23 s to refuse: now the scan stops at level 65.
        let deep = format!("poll: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let errors = load_in(jail, &deep, &FlagOverrides::default()).expect_err("too deep");
        assert_eq!(
            lines(&errors),
            ["config.yml: nested more than 64 levels deep (line 1)"]
        );
        // TOML's parser stops at its own limit, in one pass.
        jail.create_file("deep.toml", &format!("a = {}", "[".repeat(500_000)))
            .expect("write");
        let errors =
            load(Some(Path::new("deep.toml")), &FlagOverrides::default()).expect_err("too deep");
        assert!(
            errors.to_string().starts_with("deep.toml: syntax error"),
            "{errors}"
        );
        Ok(())
    });
}

#[test]
fn environment_values_nested_too_deep_are_refused_not_a_stack_overflow() {
    Jail::expect_with(|jail| {
        // figment's parser recursed once per bracket: 3,000 overflowed the stack.
        jail.set_env("COGNITO_EXPORTER_POLL__INTERVAL", "[".repeat(100_000));
        jail.set_env("COGNITO_EXPORTER_TARGETS", "[{region = \"eu-west-1\"}]");
        let errors = load(None, &FlagOverrides::default()).expect_err("too deep");
        assert_eq!(
            lines(&errors),
            ["environment: poll.interval: nested more than 64 levels deep"]
        );
        jail.set_env("COGNITO_EXPORTER_POLL__INTERVAL", "2m");
        let config = load(None, &FlagOverrides::default()).expect("valid");
        assert_eq!(config.targets[0].region.as_deref(), Some("eu-west-1"));
        Ok(())
    });
}

#[test]
fn regular_expressions_are_bounded_naming_the_key() {
    Jail::expect_with(|jail| {
        let yaml = format!(
            "targets:\n  - region: eu-west-1\n    include: '{}'\n    exclude: '(?:\\w{{100}}){{100}}'\n",
            "a".repeat(5000)
        );
        let errors = load_in(jail, &yaml, &FlagOverrides::default()).expect_err("too big");
        assert_eq!(
            lines(&errors),
            [
                "config.yml: targets[0].include: the regular expression is longer than the limit of 4096 bytes",
                "config.yml: targets[0].exclude: the regular expression compiles larger than the limit of 8 MiB: simplify it",
            ]
        );
        Ok(())
    });
}

mod properties {
    use figment::Figment;
    use figment::value::Value;
    use proptest::prelude::*;

    use super::*;
    use crate::config::bounds;

    /// Any value a key could get from a file, the environment or a flag.
    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[0-9]{1,30}(\\.[0-9]{0,9})?[ ]?(ns|us|ms|s|m|h|d|w|M|y|)( [0-9]{1,25}(s|y))?"
                .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (-320..=320i32).prop_map(|e| Value::from(10f64.powi(e))),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ]
    }

    const KEYS: [&str; 7] = [
        "poll.interval",
        "poll.timeout",
        "poll.requests_per_second",
        "poll.concurrency",
        "poll.max_staleness",
        "poll.cycle_timeout",
        "poll.describe_interval",
    ];

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 128,
            // No regression files beside the sources: a failure prints its input.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the values, validation neither panics nor lets through one that
        /// is out of its range.
        #[test]
        fn no_value_panics_or_passes_out_of_range(
            values in proptest::collection::vec(proptest::option::of(value()), KEYS.len())
        ) {
            let mut figment = Figment::new();
            for (key, value) in KEYS.iter().zip(values) {
                if let Some(value) = value {
                    figment = figment.merge((*key, value));
                }
            }
            if let Ok(config) = from_figment(&figment) {
                let poll = config.poll;
                prop_assert!(bounds::INTERVAL.range.contains(&poll.interval));
                prop_assert!(bounds::TIMEOUT.range.contains(&poll.timeout));
                prop_assert!(bounds::LONG.range.contains(&poll.max_staleness));
                prop_assert!(bounds::LONG.range.contains(&poll.cycle_timeout));
                prop_assert!(bounds::LONG.range.contains(&poll.describe_interval));
                prop_assert!(bounds::REQUESTS_PER_SECOND.contains(&poll.requests_per_second));
                prop_assert!((1..=256).contains(&poll.concurrency));
            }
        }
    }
}
