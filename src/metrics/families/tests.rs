//! Every family's rendering against its fingerprint, names and helps, matrices and
//! escaping.

use std::collections::HashSet;
use std::hash::DefaultHasher;
use std::sync::Arc;

use super::*;
use crate::model::{
    Destination, DestinationStatus, Features, Kind, Level, LogDelivery, Plan, Source,
    ThreatProtection, Verdict,
};

/// Pools with the same ID that differ, one field at a time and together, in every
/// value a family could show.
fn variants() -> Vec<PoolRecord> {
    let dest = |source, level, kind, arn: &str| Destination {
        source,
        level,
        kind,
        arn: arn.into(),
    };
    let deliveries = [
        None,
        Some(LogDelivery::default()),
        Some(LogDelivery::new(vec![dest(
            Source::UserNotification,
            Level::Error,
            Kind::CloudwatchLogs,
            "arn:a",
        )])),
        Some(LogDelivery::new(vec![dest(
            Source::UserNotification,
            Level::Error,
            Kind::CloudwatchLogs,
            "arn:b",
        )])),
        Some(LogDelivery::new(vec![dest(
            Source::UserAuthEvents,
            Level::Info,
            Kind::S3,
            "arn:a",
        )])),
        Some(LogDelivery::new(vec![dest(
            Source::UserNotification,
            Level::Info,
            Kind::Firehose,
            "arn:a",
        )])),
    ];
    let mut out = Vec::new();
    for delivery in &deliveries {
        for name in ["prod", "prod \"2\""] {
            for success in [false, true] {
                for last_success in [None, Some(1.0), Some(2.5)] {
                    out.push(PoolRecord {
                        id: Arc::from("eu-west-1_A"),
                        name: Arc::from(name),
                        delivery: delivery.clone(),
                        success,
                        last_success,
                        features: None,
                        log_changes: None,
                        last_change: None,

                        statuses: Vec::new(),

                        verdicts: Vec::new(),
                    });
                }
            }
        }
    }
    // The fields of the later families, on one base.
    let features = [
        None,
        Some(Features {
            plan: Some(Plan::Essentials),
            threat_protection: ThreatProtection::Off,
        }),
        Some(Features {
            plan: Some(Plan::Plus),
            threat_protection: ThreatProtection::Audit,
        }),
        Some(Features {
            plan: Some(Plan::Other(Arc::from("ULTRA"))),
            threat_protection: ThreatProtection::Other(Arc::from("STRICT")),
        }),
        Some(Features {
            plan: None,
            threat_protection: ThreatProtection::Enforced,
        }),
    ];
    for features in &features {
        for log_changes in [None, Some(0), Some(3)] {
            for last_change in [None, Some(5.0), Some(6.5)] {
                out.push(PoolRecord {
                    id: Arc::from("eu-west-1_A"),
                    name: Arc::from("prod"),
                    delivery: Some(LogDelivery::default()),
                    success: true,
                    last_success: Some(1.0),
                    features: features.clone(),
                    log_changes,
                    last_change,

                    statuses: Vec::new(),

                    verdicts: Vec::new(),
                });
            }
        }
    }
    // Statuses and verdicts, on a pool with two destinations.
    let two = LogDelivery::new(vec![
        dest(
            Source::UserNotification,
            Level::Error,
            Kind::CloudwatchLogs,
            "arn:a",
        ),
        dest(Source::UserAuthEvents, Level::Info, Kind::S3, "arn:b"),
    ]);
    let statuses = [
        vec![],
        vec![DestinationStatus::Ok, DestinationStatus::Ok],
        vec![DestinationStatus::Ok, DestinationStatus::NotFound],
        vec![DestinationStatus::KmsEncrypted, DestinationStatus::Ok],
    ];
    let verdict = |rule: &str, compliant| Verdict {
        rule: Arc::from(rule),
        compliant,
    };
    let verdicts = [
        vec![],
        vec![verdict("a", true)],
        vec![verdict("a", false)],
        vec![verdict("b", true)],
        vec![verdict("a", true), verdict("b", false)],
    ];
    for statuses in &statuses {
        for verdicts in &verdicts {
            out.push(PoolRecord {
                id: Arc::from("eu-west-1_A"),
                name: Arc::from("prod"),
                delivery: Some(two.clone()),
                success: true,
                last_success: Some(1.0),
                features: None,
                log_changes: None,
                last_change: None,
                statuses: statuses.clone(),
                verdicts: verdicts.clone(),
            });
        }
    }
    out
}

fn rendered(family: &PoolFamily, pool: &PoolRecord) -> String {
    let mut out = String::new();
    (family.render)(&mut Samples::new(&mut out, family.name, "t=\"1\""), pool);
    out
}

fn fingerprint(family: &PoolFamily, pool: &PoolRecord) -> u64 {
    let mut h = DefaultHasher::new();
    (family.fingerprint)(pool, &mut h);
    h.finish()
}

#[test]
fn whatever_a_pool_family_renders_is_in_its_fingerprint() {
    let pools = variants();
    for family in &POOL_FAMILIES {
        let mut texts = HashSet::new();
        for a in &pools {
            for b in &pools {
                let (ta, tb) = (rendered(family, a), rendered(family, b));
                texts.insert(ta.clone());
                assert!(
                    ta == tb || fingerprint(family, a) != fingerprint(family, b),
                    "{}: different lines, same fingerprint:\n{ta}{tb}",
                    family.name
                );
            }
        }
        assert!(
            texts.len() > 1,
            "{}: the variants show no change",
            family.name
        );
    }
}

#[test]
fn every_family_has_a_unique_prometheus_name_and_a_help_that_says_where_it_comes_from() {
    let mut names = HashSet::new();
    for (name, help, metric_type) in headers() {
        assert_eq!(
            metric_type == MetricType::Counter,
            name.ends_with("_total"),
            "{name}: counters, and only they, end in _total"
        );
        assert!(names.insert(name), "{name} twice");
        assert!(name.starts_with("cognito_"), "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        assert!(
            help.ends_with("from a poll on an interval"),
            "{name}: {help}"
        );
    }
    assert_eq!(names.len(), POOL_FAMILIES.len() + TARGET_FAMILIES.len());
}

#[test]
fn a_plan_renders_as_a_matrix_and_an_unknown_one_is_added() {
    let family = POOL_FAMILIES
        .iter()
        .find(|f| f.name == "cognito_user_pool_feature_plan")
        .expect("declared");
    let mut pool = variants().pop().expect("variants");
    pool.features = Some(Features {
        plan: Some(Plan::Plus),
        threat_protection: ThreatProtection::Off,
    });
    assert_eq!(
        rendered(family, &pool),
        "cognito_user_pool_feature_plan{t=\"1\",plan=\"LITE\"} 0\n\
         cognito_user_pool_feature_plan{t=\"1\",plan=\"ESSENTIALS\"} 0\n\
         cognito_user_pool_feature_plan{t=\"1\",plan=\"PLUS\"} 1\n"
    );
    pool.features = Some(Features {
        plan: Some(Plan::parse("ULTRA")),
        threat_protection: ThreatProtection::Off,
    });
    let text = rendered(family, &pool);
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.ends_with("plan=\"ULTRA\"} 1\n"), "{text}");
    assert_eq!(text.matches("} 1\n").count(), 1, "{text}");
    pool.features = None;
    assert_eq!(rendered(family, &pool), "", "never described: no series");
}

#[test]
fn label_values_are_escaped() {
    let mut s = String::new();
    push_label(&mut s, "name", "a\\b\"c\nd");
    assert_eq!(s, r#"name="a\\b\"c\nd""#);
}
