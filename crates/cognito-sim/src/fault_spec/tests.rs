//! Rules from flags and JSON alike, and every problem reported.

use super::*;
use crate::error::ErrorCode;
use crate::faults::FaultSet;

#[test]
fn rules_parse_from_flags_and_json_alike() {
    let flag: FaultRule = "error,code=ThrottlingException,op=ListUserPools,rate=0.5,count=3"
        .parse()
        .expect("valid");
    let json: FaultRule = serde_json::from_str(
        r#"{"kind": "error", "code": "ThrottlingException", "operation": "ListUserPools",
            "rate": 0.5, "count": 3}"#,
    )
    .expect("valid");
    let built = FaultRule::error(ErrorCode::ThrottlingException)
        .operation("ListUserPools")
        .rate(0.5)
        .count(3);
    assert_eq!(flag, built);
    assert_eq!(json, built);
    let back: FaultRule =
        serde_json::from_value(serde_json::to_value(&built).expect("ser")).expect("de");
    assert_eq!(back, built);
}

#[test]
fn every_kind_parses() {
    let specs = [
        ("latency,ms=100,jitter_ms=50", "latency"),
        ("stall,ms=5000", "stall"),
        ("reset", "reset"),
        ("reset,after_bytes=10", "reset"),
        ("kind=truncated_json", "truncated_json"),
        ("html_502,account=111111111111", "html_502"),
        ("unknown_enum,field=EventSource", "unknown_enum"),
        ("missing_field", "missing_field"),
        ("delete_after_list", "delete_after_list"),
        ("looping_token,count=3", "looping_token"),
        ("endless_token,op=ListUserPools", "endless_token"),
        (
            "missing_field,field=Account,op=GetCallerIdentity",
            "missing_field",
        ),
    ];
    for (spec, kind) in specs {
        let rule: FaultRule = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(rule.fault.kind(), kind);
    }
}

#[test]
fn every_problem_is_reported() {
    let err = "error,code=UnknownOperationException,rate=2,op=Nope"
        .parse::<FaultRule>()
        .expect_err("invalid");
    assert_eq!(err.0.len(), 3, "{err}");
    let err = "latency,code=ThrottlingException"
        .parse::<FaultRule>()
        .expect_err("x");
    assert!(err.to_string().contains("ms is required"), "{err}");
    assert!(err.to_string().contains("code does not apply"), "{err}");
    for spec in [
        "delete_after_list,op=DescribeUserPool",
        "looping_token,op=DescribeUserPool",
        "endless_token,op=DescribeUserPool",
    ] {
        let err = spec.parse::<FaultRule>().expect_err(spec);
        assert!(
            err.to_string()
                .contains("does not apply to DescribeUserPool"),
            "{err}"
        );
    }
    let err = "looping_token,field=NextToken"
        .parse::<FaultRule>()
        .expect_err("x");
    assert!(err.to_string().contains("field does not apply"), "{err}");
    assert!("bogus".parse::<FaultRule>().is_err());
    assert!("error,colour=red".parse::<FaultRule>().is_err());
    let set = FaultSet {
        rate_limit: Some(RateLimit {
            per_second: 0.0,
            burst: None,
        }),
        rules: vec![FaultRule::error(ErrorCode::InternalErrorException).rate(-1.0)],
        ..FaultSet::default()
    };
    assert_eq!(set.validate().expect_err("invalid").0.len(), 2);
}

#[test]
fn rate_limits_parse() {
    assert_eq!(
        "5/10".parse(),
        Ok(RateLimit {
            per_second: 5.0,
            burst: Some(10)
        })
    );
    assert_eq!(
        "2.5".parse(),
        Ok(RateLimit {
            per_second: 2.5,
            burst: None
        })
    );
    assert!("fast".parse::<RateLimit>().is_err());
}
