//! The log as an operator reads it, from the real binary: a cycle's failed pools in one
//! short line per operation and error code, the SDK's dump only at debug level, and the
//! same error code in the log as in the metric's `exception` label.

use std::net::SocketAddr;

use cognito_sim::{ErrorCode, Fault, FaultRule, SimOptions};

use crate::harness::*;

const GET: &str = "GetLogDeliveryConfiguration";

fn config(endpoint: &str, regions: &[&str]) -> String {
    let mut yaml = String::from("poll:\n  interval: 1s\n  requests_per_second: 200\ntargets:\n");
    for region in regions {
        yaml.push_str(&format!(
            "  - region: {region}\n    endpoint_url: {endpoint}\n"
        ));
    }
    yaml
}

/// The JSON string field `key` of a log line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(&format!("\"{key}\":\""))
        .nth(1)?
        .split('"')
        .next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycles_failed_pools_are_one_short_warning_with_the_dump_at_debug() {
    let sim = cognito_sim::spawn(SimOptions {
        regions: vec![REGION.into()],
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    let pools: Vec<String> = (0..30)
        .map(|i| {
            sim.state()
                .create_pool(ACCOUNT, REGION, &format!("prod-{i:02}"))
                .id
        })
        .collect();
    sim.state()
        .set_faults(fault_set(vec![
            FaultRule::error(ErrorCode::AccessDeniedException).operation(GET),
        ]))
        .expect("valid faults");
    let yaml = config(&sim.endpoint_url(), &[REGION]);
    let (mut exporter, _, _config) =
        tokio::task::block_in_place(|| spawn_with_config(&yaml, &["--log.level", "debug"]));
    tokio::task::block_in_place(|| {
        for _ in 0..3 {
            exporter.wait_for("\"poll cycle finished\"");
        }
    });
    let (_, log) = tokio::task::block_in_place(|| exporter.terminate());

    let cycles = log.matches("\"poll cycle finished\"").count();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"level\":\"WARN\"") && l.contains("\"operation\""))
        .collect();
    // The last cycle may have logged its warning and not yet its end.
    assert!(
        warnings.len() <= cycles + 1,
        "{} warnings for {cycles} cycles of 30 failed pools:\n{}",
        warnings.len(),
        warnings.join("\n")
    );
    assert!(!warnings.is_empty(), "{log}");
    for line in &warnings {
        assert_eq!(field(line, "operation"), Some(GET), "{line}");
        assert_eq!(
            field(line, "error_code"),
            Some("AccessDeniedException"),
            "{line}"
        );
        assert!(line.contains("\"count\":30"), "{line}");
        let named: Vec<&str> = field(line, "pools").expect("pools").split(',').collect();
        assert_eq!(named.len(), 5, "{line}");
        assert!(named.iter().all(|p| pools.iter().any(|q| q == p)), "{line}");
        assert!(field(line, "request_id").is_some(), "{line}");
        assert!(
            field(line, "error_message").is_some_and(|m| !m.is_empty()),
            "{line}"
        );
        assert!(line.len() < 600, "{} bytes: {line}", line.len());
        assert!(!line.contains("x-amzn-requestid"), "no raw headers: {line}");
    }
    // The whole chain is there for whoever turns debug on.
    assert!(
        log.lines().any(|l| l.contains("\"level\":\"DEBUG\"")
            && l.contains("AWS operation failed")
            && l.contains("AccessDeniedException")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_is_connection_in_the_metric_and_in_the_log() {
    // One region resets before answering, the other after 10 bytes of the answer.
    let sim = cognito_sim::spawn(SimOptions {
        regions: vec![REGION.into(), "us-east-1".into()],
        pools_per_region: 1,
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts");
    sim.state()
        .set_faults(fault_set(vec![
            FaultRule::new(Fault::Reset { after_bytes: None })
                .operation(GET)
                .region(REGION),
            FaultRule::new(Fault::Reset {
                after_bytes: Some(10),
            })
            .operation(GET)
            .region("us-east-1"),
        ]))
        .expect("valid faults");
    let yaml = config(&sim.endpoint_url(), &[REGION, "us-east-1"]);
    let (mut exporter, port, _config) =
        tokio::task::block_in_place(|| spawn_with_config(&yaml, &[]));
    let region_warned = |region: &str| {
        let needle = format!("\"region\":\"{region}\"");
        move |line: &str| line.contains("\"level\":\"WARN\"") && line.contains(&needle)
    };
    tokio::task::block_in_place(|| {
        // Two warnings of each target: both have failed a read whole.
        for _ in 0..4 {
            exporter.wait_for(GET);
        }
    });
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let text = scrape(addr).await;
    for region in [REGION, "us-east-1"] {
        let series = |exception: &str| {
            format!(
                r#"cognito_exporter_api_errors_total{{aws_account_id="{ACCOUNT}",aws_region="{region}",operation="{GET}",exception="{exception}"}}"#
            )
        };
        assert!(
            value(&text, &series("connection")).is_some_and(|n| n >= 1.0),
            "{region}: {text}"
        );
        for wrong in ["other", "malformed_response"] {
            assert!(value(&text, &series(wrong)).is_none(), "{region}: {text}");
        }
    }
    let (_, log) = tokio::task::block_in_place(|| exporter.terminate());
    for region in [REGION, "us-east-1"] {
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| region_warned(region)(l) && l.contains(GET))
            .collect();
        assert!(!lines.is_empty(), "{region}:\n{log}");
        for line in lines {
            assert_eq!(field(line, "error_code"), Some("connection"), "{line}");
        }
    }
}
