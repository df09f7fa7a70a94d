//! Selection and compliance, one fact at a time.

use regex::Regex;

use super::*;
use crate::model::{Kind, Level, Source};

const CWL: &str = "arn:aws:logs:eu-west-1:111111111111:log-group:/cognito/errors";
const S3: &str = "arn:aws:s3:::user-activity";

fn dest(source: Source, kind: Kind, arn: &str) -> Destination {
    let level = match source {
        Source::UserNotification => Level::Error,
        Source::UserAuthEvents => Level::Info,
    };
    Destination {
        source,
        level,
        kind,
        arn: arn.to_owned(),
    }
}

fn rule(pools: PoolSelector, source: Source, kind: Option<Kind>, status_ok: bool) -> PolicyRule {
    PolicyRule {
        name: "r".to_owned(),
        pools,
        require: Requirement {
            source,
            kind,
            status_ok,
        },
    }
}

fn facts<'a>(name: &'a str, plan: Option<&'a str>, delivery: &'a LogDelivery) -> PoolFacts<'a> {
    PoolFacts {
        account_id: "111111111111",
        region: "eu-west-1",
        name,
        plan,
        delivery,
    }
}

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

fn unchecked(_: &Destination) -> bool {
    false
}

#[test]
fn an_empty_selector_selects_every_pool() {
    let none = LogDelivery::default();
    assert!(selects(
        &PoolSelector::default(),
        &facts("any", None, &none)
    ));
}

#[test]
fn every_given_field_must_match() {
    let none = LogDelivery::default();
    let selector = PoolSelector {
        name: Some(Regex::new("^prod-").expect("pattern")),
        accounts: strings(&["111111111111", "222222222222"]),
        regions: strings(&["eu-west-1"]),
        plans: strings(&["ESSENTIALS", "PLUS"]),
    };
    assert!(selects(&selector, &facts("prod-a", Some("PLUS"), &none)));
    assert!(!selects(&selector, &facts("dev-a", Some("PLUS"), &none)));
    assert!(!selects(&selector, &facts("prod-a", Some("LITE"), &none)));
    let mut elsewhere = facts("prod-a", Some("PLUS"), &none);
    elsewhere.region = "us-east-1";
    assert!(!selects(&selector, &elsewhere));
    let mut other_account = facts("prod-a", Some("PLUS"), &none);
    other_account.account_id = "333333333333";
    assert!(!selects(&selector, &other_account));
}

#[test]
fn a_pool_of_unknown_plan_is_not_selected_by_a_rule_with_plans() {
    let none = LogDelivery::default();
    let with_plans = PoolSelector {
        plans: strings(&["LITE", "ESSENTIALS", "PLUS"]),
        ..PoolSelector::default()
    };
    assert!(!selects(&with_plans, &facts("p", None, &none)));
    // A plan outside the three is known, and simply not listed.
    assert!(!selects(
        &with_plans,
        &facts("p", Some("ENTERPRISE"), &none)
    ));
    // Without plans, the plan does not matter.
    assert!(selects(&PoolSelector::default(), &facts("p", None, &none)));
}

#[test]
fn an_unselected_pool_has_no_verdict() {
    let none = LogDelivery::default();
    let rule = rule(
        PoolSelector {
            name: Some(Regex::new("^prod-").expect("pattern")),
            ..PoolSelector::default()
        },
        Source::UserNotification,
        None,
        false,
    );
    assert_eq!(evaluate(&rule, &facts("dev", None, &none), unchecked), None);
    assert_eq!(
        evaluate(&rule, &facts("prod-x", None, &none), unchecked),
        Some(false)
    );
}

#[test]
fn compliance_needs_the_source_and_the_kind() {
    let delivery = LogDelivery::new(vec![
        dest(Source::UserNotification, Kind::CloudwatchLogs, CWL),
        dest(Source::UserAuthEvents, Kind::S3, S3),
    ]);
    let pool = facts("p", Some("PLUS"), &delivery);
    let verdict = |source, kind| {
        evaluate(
            &rule(PoolSelector::default(), source, kind, false),
            &pool,
            unchecked,
        )
    };
    assert_eq!(verdict(Source::UserNotification, None), Some(true));
    assert_eq!(
        verdict(Source::UserNotification, Some(Kind::CloudwatchLogs)),
        Some(true)
    );
    assert_eq!(
        verdict(Source::UserNotification, Some(Kind::S3)),
        Some(false)
    );
    assert_eq!(verdict(Source::UserAuthEvents, Some(Kind::S3)), Some(true));
    assert_eq!(
        verdict(Source::UserAuthEvents, Some(Kind::Firehose)),
        Some(false)
    );
    assert_eq!(verdict(Source::UserAuthEvents, None), Some(true));
    let nothing = LogDelivery::default();
    assert_eq!(
        evaluate(
            &rule(
                PoolSelector::default(),
                Source::UserNotification,
                None,
                false
            ),
            &facts("p", None, &nothing),
            unchecked,
        ),
        Some(false)
    );
}

#[test]
fn status_ok_needs_a_matching_destination_whose_check_says_ok() {
    let delivery = LogDelivery::new(vec![
        dest(Source::UserAuthEvents, Kind::CloudwatchLogs, CWL),
        dest(Source::UserAuthEvents, Kind::S3, S3),
    ]);
    let pool = facts("p", Some("PLUS"), &delivery);
    let any = rule(PoolSelector::default(), Source::UserAuthEvents, None, true);
    let s3 = rule(
        PoolSelector::default(),
        Source::UserAuthEvents,
        Some(Kind::S3),
        true,
    );
    // The log group was checked ok, the bucket was not.
    let checked = |d: &Destination| d.kind == Kind::CloudwatchLogs;
    assert_eq!(evaluate(&any, &pool, checked), Some(true));
    assert_eq!(evaluate(&s3, &pool, checked), Some(false));
    // Without status_ok the failing bucket still counts.
    let lenient = rule(
        PoolSelector::default(),
        Source::UserAuthEvents,
        Some(Kind::S3),
        false,
    );
    assert_eq!(evaluate(&lenient, &pool, checked), Some(true));
    // Not checked yet: no destination is known to be ok.
    assert_eq!(evaluate(&any, &pool, unchecked), Some(false));
    // The check that counts is the matching destination's own: a user-activity rule
    // is not met by a message-delivery destination that checked ok.
    let other_source = LogDelivery::new(vec![
        dest(Source::UserNotification, Kind::CloudwatchLogs, CWL),
        dest(Source::UserAuthEvents, Kind::S3, S3),
    ]);
    let pool = facts("p", Some("PLUS"), &other_source);
    assert_eq!(evaluate(&any, &pool, checked), Some(false));
}
