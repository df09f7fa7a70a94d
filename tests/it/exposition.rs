//! What the scraped exposition says about pools set up in different ways.

use cognito_sim::{Destination, LogConfiguration};

use crate::harness::*;

const CW: &str = "arn:aws:logs:eu-west-1:123456789012:log-group:/cognito/errors";
const BUCKET: &str = "arn:aws:s3:::cognito-activity";
const STREAM: &str = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/activity";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_and_info_series_follow_each_pools_configuration() {
    let sim = simulator().await;
    let state = sim.state();
    let none = state.create_pool(ACCOUNT, REGION, "prod-none");
    let errors = state.create_pool(ACCOUNT, REGION, "prod-errors");
    let activity = state.create_pool(ACCOUNT, REGION, "prod-activity");
    let both = state.create_pool(ACCOUNT, REGION, "prod-both");
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &errors.id,
            vec![LogConfiguration::user_notification(CW)],
        )
        .expect("valid");
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &activity.id,
            vec![LogConfiguration::user_auth_events(Destination::S3(
                BUCKET.into(),
            ))],
        )
        .expect("valid");
    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &both.id,
            vec![
                LogConfiguration::user_notification(CW),
                LogConfiguration::user_auth_events(Destination::Firehose(STREAM.into())),
            ],
        )
        .expect("valid");

    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let text = scrape_until(exporter.addr, "four pools", |t| {
        value(
            t,
            &format!(
                r#"cognito_exporter_pools{{aws_account_id="{ACCOUNT}",aws_region="{REGION}"}}"#
            ),
        ) == Some(4.0)
    })
    .await;

    let expect = |pool: &str, cells: [u8; 4]| {
        let combos = [
            ("userNotification", "ERROR", "cloudwatch_logs"),
            ("userAuthEvents", "INFO", "cloudwatch_logs"),
            ("userAuthEvents", "INFO", "s3"),
            ("userAuthEvents", "INFO", "firehose"),
        ];
        for ((source, level, kind), want) in combos.into_iter().zip(cells) {
            let series = matrix_series(pool, source, level, kind);
            assert_eq!(
                value(&text, &series),
                Some(f64::from(want)),
                "{series}\n{text}"
            );
        }
    };
    expect(&none.id, [0, 0, 0, 0]);
    expect(&errors.id, [1, 0, 0, 0]);
    expect(&activity.id, [0, 0, 1, 0]);
    expect(&both.id, [1, 0, 0, 1]);

    let info = |pool: &str, source: &str, level: &str, kind: &str, arn: &str| {
        pool_series(
            "cognito_log_destination_info",
            pool,
            &format!(r#"source="{source}",level="{level}",kind="{kind}",arn="{arn}""#),
        )
    };
    assert_eq!(
        value(
            &text,
            &info(
                &errors.id,
                "userNotification",
                "ERROR",
                "cloudwatch_logs",
                CW
            )
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            &info(&activity.id, "userAuthEvents", "INFO", "s3", BUCKET)
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            &info(&both.id, "userAuthEvents", "INFO", "firehose", STREAM)
        ),
        Some(1.0)
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("cognito_log_destination_info{"))
            .count(),
        4,
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &pool_series("cognito_user_pool_info", &both.id, r#"name="prod-both""#)
        ),
        Some(1.0)
    );
    for pool in [&none.id, &errors.id, &activity.id, &both.id] {
        assert_eq!(
            value(&text, &pool_series("cognito_pool_poll_success", pool, "")),
            Some(1.0)
        );
        let ts = value(
            &text,
            &pool_series("cognito_pool_last_success_timestamp_seconds", pool, ""),
        )
        .expect("a last success timestamp");
        assert!(ts > 1.7e9, "{ts}");
    }
    let target = format!(r#"{{aws_account_id="{ACCOUNT}",aws_region="{REGION}"}}"#);
    assert_eq!(
        value(&text, &format!("cognito_exporter_target_up{target}")),
        Some(1.0)
    );
    assert_eq!(
        value(&text, &format!("cognito_exporter_stale_pools{target}")),
        Some(0.0)
    );
    assert!(
        value(
            &text,
            &format!("cognito_exporter_poll_duration_seconds{target}")
        )
        .is_some()
    );
    assert!(
        value(
            &text,
            &format!("cognito_exporter_last_poll_timestamp_seconds{target}")
        )
        .is_some()
    );
    let requests = format!(
        r#"cognito_exporter_api_requests_total{{aws_account_id="{ACCOUNT}",aws_region="{REGION}",operation="GetLogDeliveryConfiguration"}}"#
    );
    assert!(value(&text, &requests).is_some_and(|v| v >= 4.0), "{text}");
    assert!(
        text.contains("cognito_exporter_build_info{version="),
        "{text}"
    );
    for name in [
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_max_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "no {name}\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_change_shows_at_the_next_cycle_and_a_deleted_pool_vanishes() {
    let sim = simulator().await;
    let state = sim.state();
    let changing = state.create_pool(ACCOUNT, REGION, "prod-changing");
    let doomed = state.create_pool(ACCOUNT, REGION, "prod-doomed");
    let exporter = start(vec![target(&sim)], fast_poll()).await;

    let cell = matrix_series(&changing.id, "userNotification", "ERROR", "cloudwatch_logs");
    scrape_until(exporter.addr, "the first cycle", |t| {
        value(t, &cell) == Some(0.0)
    })
    .await;

    state
        .set_log_configurations(
            ACCOUNT,
            REGION,
            &changing.id,
            vec![LogConfiguration::user_notification(CW)],
        )
        .expect("valid");
    assert!(state.delete_pool(ACCOUNT, REGION, &doomed.id));

    let text = scrape_until(exporter.addr, "the change", |t| {
        value(t, &cell) == Some(1.0)
    })
    .await;
    let text = if text.contains(&*doomed.id) {
        scrape_until(exporter.addr, "the deleted pool to vanish", |t| {
            !t.contains(&*doomed.id)
        })
        .await
    } else {
        text
    };
    assert!(!text.contains(&*doomed.id), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_pool_is_counted_under_resource_not_found() {
    let sim = simulator().await;
    let state = sim.state();
    let present = state.create_pool(ACCOUNT, REGION, "prod-present");
    let vanishing = state.create_pool(ACCOUNT, REGION, "prod-vanishing");
    let mut t = target(&sim);
    t.user_pools = Some(vec![
        present.id.clone(),
        vanishing.id.clone(),
        format!("{REGION}_NoSuchPool1"),
    ]);
    let exporter = start(vec![t], fast_poll()).await;
    let error = |op: &str| {
        format!(
            r#"cognito_exporter_api_errors_total{{aws_account_id="{ACCOUNT}",aws_region="{REGION}",operation="{op}",exception="ResourceNotFoundException"}}"#
        )
    };
    let text = scrape_until(exporter.addr, "the first cycle", |t| {
        t.contains(&*vanishing.id)
    })
    .await;
    assert!(
        value(&text, &error("DescribeUserPool")).is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(!text.contains("NoSuchPool1"), "{text}");

    // Deleted after the first cycle: the pool's own call answers ResourceNotFoundException.
    assert!(state.delete_pool(ACCOUNT, REGION, &vanishing.id));
    let text = scrape_until(exporter.addr, "the deleted pool to vanish", |t| {
        !t.contains(&*vanishing.id)
    })
    .await;
    assert!(
        value(&text, &error("GetLogDeliveryConfiguration")).is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(text.contains(&*present.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_and_exclude_filter_by_pool_name() {
    let sim = simulator().await;
    let state = sim.state();
    let kept = state.create_pool(ACCOUNT, REGION, "prod-kept");
    let sandbox = state.create_pool(ACCOUNT, REGION, "prod-sandbox");
    let dev = state.create_pool(ACCOUNT, REGION, "dev-other");
    let mut t = target(&sim);
    t.include = Some(regex::Regex::new("^prod-").expect("regex"));
    t.exclude = Some(regex::Regex::new("sandbox").expect("regex"));
    let exporter = start(vec![t], fast_poll()).await;
    let text = scrape_until(exporter.addr, "the first cycle", |t| t.contains(&*kept.id)).await;
    assert!(
        !text.contains(&*sandbox.id) && !text.contains(&*dev.id),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmetrics_when_asked_classic_text_otherwise_gzip_when_accepted() {
    let sim = simulator().await;
    let pool = sim.state().create_pool(ACCOUNT, REGION, "prod-formats");
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    scrape_until(exporter.addr, "the first cycle", |t| t.contains(&*pool.id)).await;

    let om = request(
        exporter.addr,
        "GET",
        "/metrics",
        &[(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        )],
    )
    .await;
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let om_text = om.text();
    assert!(om_text.ends_with("# EOF\n"), "{om_text}");
    assert!(om_text.contains("# TYPE cognito_exporter_api_requests counter\n"));

    let classic = request(exporter.addr, "GET", "/metrics", &[]).await;
    assert_eq!(
        classic.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let classic_text = classic.text();
    assert!(!classic_text.contains("# EOF"));
    assert!(classic_text.contains("# TYPE cognito_exporter_api_requests_total counter\n"));
    assert!(classic_text.contains("# TYPE cognito_log_destination_configured gauge\n"));

    let gz = request(
        exporter.addr,
        "GET",
        "/metrics",
        &[("Accept-Encoding", "gzip")],
    )
    .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
    let inflated = gz.gunzipped();
    assert!(inflated.contains(&*pool.id));
    assert_eq!(
        gz.header("content-length")
            .and_then(|v| v.parse::<usize>().ok()),
        Some(gz.body.len())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_counts_its_requests_by_handler_and_code() {
    let sim = simulator().await;
    let exporter = start(vec![target(&sim)], fast_poll()).await;
    let addr = exporter.addr;
    assert_eq!(request(addr, "GET", "/-/healthy", &[]).await.status, 200);
    assert_eq!(
        request(addr, "GET", "/a/path/of/the/client/s?choosing=1", &[])
            .await
            .status,
        404
    );
    assert_eq!(request(addr, "GET", "/", &[]).await.status, 200);
    let scrape = request(addr, "GET", "/metrics", &[]).await;
    let series = |handler: &str, code: u16| {
        format!(r#"cognito_exporter_http_requests_total{{handler="{handler}",code="{code}"}}"#)
    };
    // The exporter's own metrics are encoded at most once a second.
    let text = scrape_until(addr, "the requests counted", |t| {
        value(t, &series("healthy", 200)) == Some(1.0)
            && value(t, &series("other", 404)) == Some(1.0)
            && value(t, &series("landing", 200)) == Some(1.0)
            && value(t, &series("metrics", 200)).is_some_and(|n| n >= 1.0)
    })
    .await;
    let bytes = value(
        &text,
        r#"cognito_exporter_http_response_size_bytes_total{handler="metrics"}"#,
    )
    .expect("bytes by handler");
    assert!(bytes >= scrape.body.len() as f64, "{bytes} bytes\n{text}");
    assert!(
        value(&text, "cognito_exporter_http_requests_in_flight").is_some(),
        "{text}"
    );
    assert!(!text.contains("/a/path"), "no series from a client's path");

    let quiet = start_with(
        vec![target(&sim)],
        fast_poll(),
        cognito_exporter::http::ServerOptions {
            exporter_metrics: false,
            ..cognito_exporter::http::ServerOptions::default()
        },
    )
    .await;
    let text = scrape_until(quiet.addr, "the first cycle", |t| {
        t.contains("cognito_exporter_target_up{")
    })
    .await;
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("process_") || l.starts_with("cognito_exporter_http_")),
        "left out:\n{text}"
    );
}
