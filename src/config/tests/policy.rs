//! `policy.rules`: what a valid rule gives, and every problem a bad one reports, each
//! naming its key.

use figment::Jail;

use super::*;
use crate::model::{Kind, Source};

const VALID: &str = "\
checks:
  destinations: true
policy:
  rules:
    - name: prod-error-logs-to-cloudwatch
      pools:
        name: '^prod-'
        accounts: ['111111111111']
        regions: [eu-west-1]
        plans: [ESSENTIALS, PLUS]
      require:
        source: userNotification
        kind: cloudwatch_logs
        status_ok: true
    - name: plus_activity
      require:
        source: userAuthEvents
";

#[test]
fn valid_rules_give_every_value_and_the_defaults() {
    Jail::expect_with(|jail| {
        let config = load_in(jail, VALID, &FlagOverrides::default()).expect("valid");
        let rules = &config.policy.rules;
        assert_eq!(rules.len(), 2);
        let first = &rules[0];
        assert_eq!(first.name, "prod-error-logs-to-cloudwatch");
        let name = first.pools.name.as_ref().expect("a name pattern");
        assert!(name.is_match("prod-a") && !name.is_match("dev-a"));
        assert_eq!(
            first.pools.accounts.as_deref(),
            Some(&["111111111111".to_owned()][..])
        );
        assert_eq!(
            first.pools.regions.as_deref(),
            Some(&["eu-west-1".to_owned()][..])
        );
        assert_eq!(
            first.pools.plans.as_deref(),
            Some(&["ESSENTIALS".to_owned(), "PLUS".to_owned()][..])
        );
        assert_eq!(
            first.require,
            Requirement {
                source: Source::UserNotification,
                kind: Some(Kind::CloudwatchLogs),
                status_ok: true,
            }
        );
        // No pools: every pool; kind any, status_ok false.
        let second = &rules[1];
        assert!(second.pools.name.is_none() && second.pools.plans.is_none());
        assert!(second.pools.accounts.is_none() && second.pools.regions.is_none());
        assert_eq!(
            second.require,
            Requirement {
                source: Source::UserAuthEvents,
                kind: None,
                status_ok: false,
            }
        );
        Ok(())
    });
}

#[test]
fn no_policy_is_no_rules() {
    Jail::expect_with(|jail| {
        let config = load(None, &FlagOverrides::default()).expect("valid");
        assert!(config.policy.rules.is_empty());
        for yaml in ["policy:\n", "policy: {}\n", "policy:\n  rules: []\n"] {
            let config = load_in(jail, yaml, &FlagOverrides::default()).expect(yaml);
            assert!(config.policy.rules.is_empty(), "{yaml}");
        }
        let kinds = "policy:\n  rules:\n    - {name: a, require: {source: userAuthEvents, kind: s3}}\n    - {name: b, require: {source: userAuthEvents, kind: firehose}}\n    - {name: c, require: {source: userAuthEvents, kind: any}}\n";
        let config = load_in(jail, kinds, &FlagOverrides::default()).expect("valid");
        let kinds: Vec<Option<Kind>> = config.policy.rules.iter().map(|r| r.require.kind).collect();
        assert_eq!(kinds, [Some(Kind::S3), Some(Kind::Firehose), None]);
        Ok(())
    });
}

#[test]
fn every_problem_of_a_bad_rule_names_its_key() {
    Jail::expect_with(|jail| {
        let yaml = "\
policy:
  rules:
    - name: Prod Rule
      pools:
        name: '('
        accounts: ['1234', 111111111111]
        regions: [mars-1]
        plans: [GOLD]
        owner: me
      require:
        source: userSignups
        kind: sqs
        status_ok: true
        level: ERROR
      colour: red
    - pools: {}
    - name: ok
      require: {kind: s3}
    - name: ok2
      require: {source: userNotification, status_ok: maybe}
    - name: ok3
      pools:
        accounts: []
      require: {source: userNotification}
  owner: security
";
        let errors = load_in(jail, yaml, &FlagOverrides::default()).expect_err("invalid");
        let lines = lines(&errors);
        let text = lines.join("\n");
        for expected in [
            "policy.owner: unknown key (expected one of: rules)",
            "policy.rules[0].name: \"Prod Rule\" is not a rule name of a-z, 0-9, _ and -",
            "policy.rules[0].pools.name: invalid regular expression",
            "policy.rules[0].pools.accounts[0]: \"1234\" is not a 12-digit AWS account ID",
            "policy.rules[0].pools.accounts[1]: expected a 12-digit AWS account ID",
            "policy.rules[0].pools.regions[0]: \"mars-1\" is not an AWS region",
            "policy.rules[0].pools.plans[0]: \"GOLD\" is not a feature plan (expected one of: LITE, ESSENTIALS, PLUS)",
            "policy.rules[0].pools.owner: unknown key (expected one of: name, accounts, regions, plans)",
            "policy.rules[0].require.source: \"userSignups\" is not a log source (expected one of: userNotification, userAuthEvents)",
            "policy.rules[0].require.kind: \"sqs\" is not a destination kind (expected one of: cloudwatch_logs, s3, firehose, any)",
            "policy.rules[0].require.status_ok: needs checks.destinations: true",
            "policy.rules[0].require.level: unknown key (expected one of: source, kind, status_ok)",
            "policy.rules[0].colour: unknown key (expected one of: name, pools, require)",
            "policy.rules[1].name: missing",
            "policy.rules[1].require: missing",
            "policy.rules[2].require.source: missing",
            "policy.rules[3].require.status_ok: expected true or false",
            "policy.rules[4].pools.accounts: empty: it would select no pool",
        ] {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with("config.yml: ") && l.contains(expected)),
                "no {expected:?} in:\n{text}"
            );
        }
        assert_eq!(lines.len(), 18, "{text}");
        Ok(())
    });
}

#[test]
fn a_name_given_twice_names_both_rules() {
    Jail::expect_with(|jail| {
        let yaml = "\
policy:
  rules:
    - {name: errors, require: {source: userNotification}}
    - {name: activity, require: {source: userAuthEvents}}
    - {name: errors, require: {source: userAuthEvents}}
";
        let errors = load_in(jail, yaml, &FlagOverrides::default()).expect_err("duplicate");
        assert_eq!(
            lines(&errors),
            ["config.yml: policy.rules[2].name: \"errors\" is already the name of policy.rules[0]"]
        );
        // Found even when the rules have other problems.
        let yaml = "\
policy:
  rules:
    - {name: errors, require: {source: nope}}
    - {name: errors, pools: {name: '('}, require: {source: userAuthEvents}}
";
        let errors = load_in(jail, yaml, &FlagOverrides::default()).expect_err("duplicate");
        let text = lines(&errors).join("\n");
        assert!(
            text.contains(
                "policy.rules[1].name: \"errors\" is already the name of policy.rules[0]"
            ),
            "{text}"
        );
        assert_eq!(lines(&errors).len(), 3, "{text}");
        Ok(())
    });
}

#[test]
fn status_ok_is_accepted_once_checks_are_on_from_any_layer() {
    Jail::expect_with(|jail| {
        let yaml = "policy:\n  rules:\n    - {name: r, require: {source: userNotification, status_ok: true}}\n";
        let errors = load_in(jail, yaml, &FlagOverrides::default()).expect_err("checks off");
        assert_eq!(
            lines(&errors),
            [
                "config.yml: policy.rules[0].require.status_ok: needs checks.destinations: true, or no destination is ever checked"
            ]
        );
        jail.set_env("COGNITO_EXPORTER_CHECKS__DESTINATIONS", "true");
        let config = load_in(jail, yaml, &FlagOverrides::default()).expect("checks on");
        assert!(config.policy.rules[0].require.status_ok);
        Ok(())
    });
}
