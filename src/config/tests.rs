//! Loading whole configurations through every layer: the typed result, the message of
//! each problem and where it says the value came from.

#![allow(clippy::result_large_err)] // figment::Jail closures return figment::Error, as its API wants.

use std::path::Path;
use std::time::Duration;

use figment::Jail;

use super::*;

fn load_in(jail: &Jail, yaml: &str, flags: &FlagOverrides) -> Result<Config, ConfigErrors> {
    jail.create_file("config.yml", yaml).expect("write config");
    load(Some(Path::new("config.yml")), flags)
}

/// Each problem as the binary prints it.
fn lines(errors: &ConfigErrors) -> Vec<String> {
    errors.problems().iter().map(ToString::to_string).collect()
}

#[test]
fn defaults_give_one_target_from_the_standard_chain() {
    Jail::expect_with(|_| {
        let config = load(None, &FlagOverrides::default()).expect("valid");
        assert_eq!(config.poll, PollConfig::default());
        assert_eq!(config.targets.len(), 1);
        assert!(config.targets[0].region.is_none());
        Ok(())
    });
}

#[test]
fn layers_apply_in_order_file_env_flags() {
    Jail::expect_with(|jail| {
        jail.set_env("COGNITO_EXPORTER_POLL__INTERVAL", "2m");
        jail.set_env("COGNITO_EXPORTER_POLL__CONCURRENCY", "8");
        let flags = FlagOverrides {
            timeout: Some("10s".into()),
            ..FlagOverrides::default()
        };
        let config = load_in(
            jail,
            "poll:\n  interval: 10m\n  timeout: 20s\n  requests_per_second: 2.5\ntargets:\n  - region: eu-west-1\n    user_pools: [eu-west-1_AbC123]\n    include: '^prod-'\n",
            &flags,
        )
        .expect("valid");
        assert_eq!(config.poll.interval, Duration::from_secs(120));
        assert_eq!(config.poll.timeout, Duration::from_secs(10));
        assert_eq!(config.poll.concurrency, 8);
        assert_eq!(config.poll.requests_per_second, 2.5);
        assert_eq!(config.poll.max_staleness, Duration::from_secs(360));
        let t = &config.targets[0];
        assert_eq!(t.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            t.user_pools.as_deref(),
            Some(&["eu-west-1_AbC123".to_string()][..])
        );
        assert!(t.wants("prod-x") && !t.wants("dev-x"));
        Ok(())
    });
}

#[test]
fn every_problem_is_reported_with_its_key_and_file() {
    Jail::expect_with(|jail| {
        let errors = load_in(
            jail,
            "poll:\n  interval: 5 parsecs\n  requests_per_second: 0\n  concurrency: -1\n  colour: blue\ntargets:\n  - region: Europe\n    role_arn: arn:aws:iam::12:user/x\n    user_pools: [not-a-pool]\n    include: '('\n  - {}\n",
            &FlagOverrides::default(),
        )
        .expect_err("invalid");
        let text = errors.to_string();
        let lines = lines(&errors);
        for key in [
            "poll.interval",
            "poll.requests_per_second",
            "poll.concurrency",
            "poll.colour: unknown key",
            "targets[0].region",
            "targets[0].role_arn",
            "targets[0].user_pools[0]",
            "targets[0].include",
            "targets[1]: an empty target",
        ] {
            assert!(
                lines
                    .iter()
                    .any(|e| e.starts_with("config.yml: ") && e.contains(key)),
                "no message for {key} in:\n{text}"
            );
        }
        assert_eq!(lines.len(), 9, "{text}");
        Ok(())
    });
}

#[test]
fn environment_values_are_attributed_to_the_environment() {
    Jail::expect_with(|jail| {
        jail.set_env("COGNITO_EXPORTER_POLL__TIMEOUT", "0s");
        let errors = load(None, &FlagOverrides::default()).expect_err("invalid");
        assert_eq!(
            lines(&errors),
            vec!["environment: poll.timeout: must be above zero"]
        );
        Ok(())
    });
}

#[test]
fn syntax_errors_name_the_file_and_line() {
    Jail::expect_with(|jail| {
        let errors = load_in(jail, "poll:\n  interval: [\n", &FlagOverrides::default())
            .expect_err("invalid");
        let text = errors.to_string();
        assert!(text.starts_with("config.yml: syntax error"), "{text}");
        assert!(text.contains("line"), "{text}");
        Ok(())
    });
}

#[test]
fn a_missing_file_is_an_error_not_an_empty_layer() {
    Jail::expect_with(|_| {
        let errors =
            load(Some(Path::new("absent.yml")), &FlagOverrides::default()).expect_err("missing");
        assert!(errors.to_string().starts_with("absent.yml: cannot read"));
        Ok(())
    });
}

#[test]
fn toml_files_are_accepted() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "c.toml",
            "[poll]\ninterval = \"1m\"\n[[targets]]\nregion = \"us-east-1\"\n",
        )
        .expect("write");
        let config = load(Some(Path::new("c.toml")), &FlagOverrides::default()).expect("valid");
        assert_eq!(config.poll.interval, Duration::from_secs(60));
        assert_eq!(config.targets[0].region.as_deref(), Some("us-east-1"));
        Ok(())
    });
}

#[test]
fn short_intervals_warn() {
    Jail::expect_with(|jail| {
        let config =
            load_in(jail, "poll:\n  interval: 30s\n", &FlagOverrides::default()).expect("valid");
        assert_eq!(config.warnings.len(), 1);
        Ok(())
    });
}

#[test]
fn yaml_keys_given_twice_are_refused_naming_both_lines() {
    Jail::expect_with(|jail| {
        let errors = load_in(
            jail,
            "poll:\n  interval: 1m\n  timeout: 5s\n  interval: 2m\ntargets:\n  - region: eu-west-1\n    region: us-east-1\n",
            &FlagOverrides::default(),
        )
        .expect_err("duplicates");
        assert_eq!(
            lines(&errors),
            [
                "config.yml: poll.interval: duplicate key (lines 2 and 4)",
                "config.yml: targets[0].region: duplicate key (lines 6 and 7)",
            ]
        );
        // The example configuration has no key twice.
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/cognito-exporter.yml");
        load(Some(&example), &FlagOverrides::default()).expect("the example is valid");
        Ok(())
    });
}

#[test]
fn toml_refuses_keys_given_twice_by_itself() {
    Jail::expect_with(|jail| {
        jail.create_file("c.toml", "[poll]\ninterval = \"1m\"\ninterval = \"2m\"\n")
            .expect("write");
        let errors =
            load(Some(Path::new("c.toml")), &FlagOverrides::default()).expect_err("duplicate");
        let text = errors.to_string();
        assert!(text.starts_with("c.toml: syntax error"), "{text}");
        assert!(text.contains("duplicate key"), "{text}");
        Ok(())
    });
}

#[test]
fn targets_that_poll_the_same_account_and_region_are_refused() {
    Jail::expect_with(|jail| {
        let role = |account: &str, name: &str| format!("arn:aws:iam::{account}:role/{name}");
        let yaml = format!(
            "targets:
  - region: eu-west-1
    role_arn: {a}
  - region: eu-west-1
  - region: us-east-1
    role_arn: {a}
  - region: eu-west-1
    role_arn: {b}
    include: '^prod-'
  - region: eu-west-1
  - region: eu-west-1
    endpoint_url: http://127.0.0.1:4566
  - region: eu-west-1
    endpoint_url: http://127.0.0.1:4566
  - region: eu-west-1
    endpoint_url: http://127.0.0.1:4567
  - region: eu-west-1
    role_arn: {c}
  - user_pools: [eu-west-1_AbC123]
  - include: x
",
            a = role("123456789012", "exporter"),
            b = role("123456789012", "other"),
            c = role("210987654321", "exporter"),
        );
        let errors = load_in(jail, &yaml, &FlagOverrides::default()).expect_err("duplicates");
        assert_eq!(
            lines(&errors),
            [
                "config.yml: targets[3]: the same account and region as targets[0] (eu-west-1, account 123456789012)",
                "config.yml: targets[4]: the same account and region as targets[1] (eu-west-1, the exporter's own account)",
                "config.yml: targets[6]: the same account and region as targets[5] (eu-west-1, the exporter's own account at http://127.0.0.1:4566)",
                "config.yml: targets[10]: the same account and region as targets[9] (the default region, the exporter's own account)",
            ]
        );
        Ok(())
    });
}

mod checks;
mod discovery;
mod limits;
mod policy;
