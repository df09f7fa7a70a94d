//! The simulator driven by the real AWS SDK over HTTP: protocol, pagination, validation,
//! STS identities, and every fault kind as a client meets it, checked against the
//! simulator's own counters.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_sts as sts;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use cognito::config::retry::RetryConfig;
use cognito::config::timeout::TimeoutConfig;
use cognito::config::{BehaviorVersion, Credentials, Region};
use cognito::error::ProvideErrorMetadata;
use cognito::types::{
    CloudWatchLogsConfigurationType, EventSourceName, FirehoseConfigurationType,
    LogConfigurationType, LogLevel, S3ConfigurationType,
};
use cognito_sim::{
    self as sim, ErrorCode, Fault, FaultRule, FaultSet, RateLimit, RunningSim, SimOptions,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const ACCOUNT: &str = "123456789012";
const OTHER: &str = "210987654321";
const REGION: &str = "us-east-1";

async fn start(pools: usize) -> RunningSim {
    let options = SimOptions {
        pools_per_region: pools,
        regions: vec![REGION.into(), "eu-west-1".into()],
        ..SimOptions::default()
    };
    sim::spawn(options).await.expect("simulator starts")
}

fn static_keys() -> Credentials {
    Credentials::new("AKIDTEST", "secret", None, None, "test")
}

/// A client as the exporter builds one, without retries so each call is one request.
fn client_with(sim: &RunningSim, region: &str, creds: Credentials) -> cognito::Client {
    let conf = cognito::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .build();
    cognito::Client::from_conf(conf)
}

fn client(sim: &RunningSim) -> cognito::Client {
    client_with(sim, REGION, static_keys())
}

fn sts_client(sim: &RunningSim, creds: Credentials) -> sts::Client {
    let conf = sts::Config::builder()
        .behavior_version(sts::config::BehaviorVersion::latest())
        .region(sts::config::Region::new(REGION))
        .endpoint_url(sim.endpoint_url())
        .credentials_provider(creds)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(RetryConfig::disabled())
        .build();
    sts::Client::from_conf(conf)
}

fn code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> String {
    err.code().unwrap_or("<none>").to_owned()
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

fn faults(rules: Vec<FaultRule>) -> FaultSet {
    FaultSet {
        rules,
        ..FaultSet::default()
    }
}

fn cloudwatch(level: LogLevel, source: EventSourceName, arn: &str) -> LogConfigurationType {
    LogConfigurationType::builder()
        .log_level(level)
        .event_source(source)
        .cloud_watch_logs_configuration(
            CloudWatchLogsConfigurationType::builder()
                .log_group_arn(arn)
                .build(),
        )
        .build()
        .expect("required fields set")
}

const LOG_GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cognito/t";

async fn first_pool(c: &cognito::Client) -> String {
    let page = c
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .expect("list");
    page.user_pools()[0].id().expect("id").to_owned()
}

#[tokio::test]
async fn pagination_walks_every_pool_once_per_region() {
    let sim = start(25).await;
    let pages: Vec<_> = client(&sim)
        .list_user_pools()
        .max_results(10)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .expect("pages");
    let sizes: Vec<usize> = pages.iter().map(|p| p.user_pools().len()).collect();
    assert_eq!(sizes, [10, 10, 5]);
    let mut ids: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.user_pools())
        .filter_map(|p| p.id())
        .collect();
    assert!(ids.iter().all(|id| id.starts_with("us-east-1_")));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 25);
    let first = &pages[0].user_pools()[0];
    assert_eq!(first.name(), Some("prod-pool-0001"));
    assert!(first.creation_date().is_some() && first.lambda_config().is_some());

    let eu = client_with(&sim, "eu-west-1", static_keys());
    let listed = eu
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.user_pools().len(), 25);
    assert!(listed.next_token().is_none());
    assert!(
        listed.user_pools()[0]
            .id()
            .is_some_and(|id| id.starts_with("eu-west-1_"))
    );

    for bad in [None, Some(0), Some(61)] {
        let err = client(&sim)
            .list_user_pools()
            .set_max_results(bad)
            .send()
            .await
            .expect_err("MaxResults out of range");
        assert_eq!(code(&err), "InvalidParameterException", "{bad:?}");
        assert_eq!(status(&err), Some(400));
    }
}

#[tokio::test]
async fn create_set_get_delete_round_trip() {
    let sim = start(0).await;
    let c = client(&sim);
    let created = c
        .create_user_pool()
        .pool_name("prod-orders")
        .send()
        .await
        .expect("create");
    let pool = created.user_pool().expect("pool");
    let id = pool.id().expect("id").to_owned();
    assert!(id.starts_with("us-east-1_") && id.len() == 19, "{id}");
    let described = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("describe");
    let arn = described.user_pool().and_then(|p| p.arn()).expect("arn");
    assert_eq!(
        arn,
        format!("arn:aws:cognito-idp:us-east-1:{ACCOUNT}:userpool/{id}")
    );

    let empty = c
        .get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect("get");
    let empty = empty.log_delivery_configuration().expect("config");
    assert!(empty.log_configurations().is_empty());

    let s3 = LogConfigurationType::builder()
        .log_level(LogLevel::Info)
        .event_source(EventSourceName::UserAuthEvents)
        .s3_configuration(
            S3ConfigurationType::builder()
                .bucket_arn("arn:aws:s3:::logs-1")
                .build(),
        )
        .build()
        .expect("required fields set");
    let notify = cloudwatch(
        LogLevel::Error,
        EventSourceName::UserNotification,
        LOG_GROUP,
    );
    let set = c
        .set_log_delivery_configuration()
        .user_pool_id(&id)
        .log_configurations(notify.clone())
        .log_configurations(s3.clone())
        .send()
        .await
        .expect("set");
    let got = c
        .get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect("get");
    assert_eq!(
        set.log_delivery_configuration(),
        got.log_delivery_configuration()
    );
    let got = got.log_delivery_configuration().expect("config");
    assert_eq!(got.user_pool_id(), id);
    assert_eq!(got.log_configurations(), [notify, s3]);
    let stored = sim
        .state()
        .log_configurations(ACCOUNT, REGION, &id)
        .expect("pool");
    assert_eq!(stored.len(), 2);

    c.delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("delete");
    let err = c
        .get_log_delivery_configuration()
        .user_pool_id(&id)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert!(sim.state().pools(ACCOUNT, REGION).is_empty());
}

#[tokio::test]
async fn set_log_delivery_is_validated_like_aws() {
    let sim = start(1).await;
    let c = client(&sim);
    let id = first_pool(&c).await;
    let firehose = |arn: &str| {
        LogConfigurationType::builder()
            .log_level(LogLevel::Info)
            .event_source(EventSourceName::UserAuthEvents)
            .firehose_configuration(FirehoseConfigurationType::builder().stream_arn(arn).build())
            .build()
            .expect("required fields set")
    };
    let good_stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";
    let cases: Vec<(Vec<LogConfigurationType>, &str)> = vec![
        (
            vec![cloudwatch(
                LogLevel::Info,
                EventSourceName::UserNotification,
                LOG_GROUP,
            )],
            "requires LogLevel ERROR",
        ),
        (
            vec![cloudwatch(
                LogLevel::from("DEBUG"),
                EventSourceName::UserAuthEvents,
                LOG_GROUP,
            )],
            "enum value set",
        ),
        (
            vec![cloudwatch(
                LogLevel::Info,
                EventSourceName::from("adminEvents"),
                LOG_GROUP,
            )],
            "enum value set",
        ),
        (
            vec![firehose("arn:aws:firehose:us-east-1:1234:deliverystream/s")],
            "is not of the form",
        ),
        (
            vec![firehose(good_stream), firehose(good_stream)],
            "at most one per event source",
        ),
        (vec![firehose(good_stream); 3], "less than or equal to 2"),
    ];
    for (configs, want) in cases {
        let err = c
            .set_log_delivery_configuration()
            .user_pool_id(&id)
            .set_log_configurations(Some(configs))
            .send()
            .await
            .expect_err(want);
        assert_eq!(code(&err), "InvalidParameterException", "{want}");
        let message = err.message().unwrap_or_default().to_owned();
        assert!(message.contains(want), "{message:?} lacks {want:?}");
    }
    let err = c
        .set_log_delivery_configuration()
        .user_pool_id("us-east-1_missing")
        .log_configurations(firehose(good_stream))
        .send()
        .await
        .expect_err("no such pool");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let unchanged = sim
        .state()
        .log_configurations(ACCOUNT, REGION, &id)
        .expect("pool");
    assert!(unchanged.is_empty(), "rejected requests change nothing");
}

#[tokio::test]
async fn assume_role_switches_account() {
    let sim = start(3).await;
    let me = sts_client(&sim, static_keys())
        .get_caller_identity()
        .send()
        .await
        .expect("identity");
    assert_eq!(me.account(), Some(ACCOUNT));
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/cognito-sim"));

    let role = format!("arn:aws:iam::{OTHER}:role/cognito-reader");
    let assumed = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn(&role)
        .role_session_name("poller")
        .external_id("ext-1")
        .send()
        .await
        .expect("assume");
    let creds = assumed.credentials().expect("credentials");
    assert!(creds.access_key_id().starts_with("ASIA"));
    let expires = creds.expiration().secs() - time_now();
    assert!(
        (3590..=3610).contains(&expires),
        "default lifetime 1h, got {expires}s"
    );
    let role_creds = Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_owned()),
        None,
        "assumed",
    );
    let who = sts_client(&sim, role_creds.clone())
        .get_caller_identity()
        .send()
        .await
        .expect("who");
    assert_eq!(who.account(), Some(OTHER));
    assert_eq!(
        who.arn(),
        Some("arn:aws:sts::210987654321:assumed-role/cognito-reader/poller")
    );

    let other = client_with(&sim, REGION, role_creds);
    let listed = other
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert!(
        listed.user_pools().is_empty(),
        "the other account starts empty"
    );
    let made = other
        .create_user_pool()
        .pool_name("theirs")
        .send()
        .await
        .expect("create");
    assert!(
        made.user_pool()
            .and_then(|p| p.arn())
            .is_some_and(|a| a.contains(OTHER))
    );
    assert_eq!(sim.state().pools(OTHER, REGION).len(), 1);
    assert_eq!(sim.state().pools(ACCOUNT, REGION).len(), 3);

    let err = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn("arn:aws:iam::1:role/x")
        .role_session_name("poller")
        .send()
        .await
        .expect_err("bad role ARN");
    assert_eq!(code(&err), "ValidationError");
}

fn time_now() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

#[tokio::test]
async fn expired_assumed_credentials_are_refused() {
    let options = SimOptions {
        assume_role_lifetime: Duration::ZERO,
        ..SimOptions::default()
    };
    let sim = sim::spawn(options).await.expect("starts");
    let assumed = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn(format!("arn:aws:iam::{OTHER}:role/r"))
        .role_session_name("s1")
        .send()
        .await
        .expect("assume");
    let c = assumed.credentials().expect("credentials");
    let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "x");
    let err = client_with(&sim, REGION, creds)
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .expect_err("expired");
    assert_eq!(code(&err), "ExpiredTokenException");
}

#[tokio::test]
async fn every_injectable_error_reaches_the_sdk_with_its_status() {
    let sim = start(1).await;
    let c = client(&sim);
    for code_want in ErrorCode::INJECTABLE {
        let rule = FaultRule::error(code_want)
            .operation("ListUserPools")
            .count(1);
        sim.state().set_faults(faults(vec![rule])).expect("valid");
        let err = c
            .list_user_pools()
            .max_results(5)
            .send()
            .await
            .expect_err("injected");
        assert_eq!(code(&err), code_want.as_str());
        assert_eq!(status(&err), Some(code_want.http_status().as_u16()));
        c.list_user_pools()
            .max_results(5)
            .send()
            .await
            .expect("count=1 is spent");
    }
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!(stats.requests, 18);
    assert_eq!(stats.ok, 9);
    for code_want in ErrorCode::INJECTABLE {
        assert_eq!(stats.errors(code_want.as_str()), 1);
        assert_eq!(stats.injected(code_want.as_str()), 1);
    }
}

#[tokio::test]
async fn faults_can_target_one_account_or_key() {
    let sim = start(1).await;
    let rules = vec![
        FaultRule::error(ErrorCode::AccessDeniedException).account(OTHER),
        FaultRule::error(ErrorCode::UnrecognizedClientException).access_key("AKIDBROKEN"),
        FaultRule::error(ErrorCode::AccessDeniedException)
            .operation("AssumeRole")
            .account("333333333333"),
    ];
    sim.state().set_faults(faults(rules)).expect("valid");
    first_pool(&client(&sim)).await;
    let broken = Credentials::new("AKIDBROKEN", "s", None, None, "t");
    let err = client_with(&sim, REGION, broken)
        .list_user_pools()
        .max_results(1)
        .send()
        .await;
    assert_eq!(
        code(&err.expect_err("key fault")),
        "UnrecognizedClientException"
    );

    let assume = |account: &str| {
        sts_client(&sim, static_keys())
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/r"))
            .role_session_name("s1")
            .send()
    };
    let err = assume("333333333333").await.expect_err("denied");
    assert_eq!(
        (code(&err).as_str(), status(&err)),
        ("AccessDenied", Some(403))
    );
    let c = assume(OTHER).await.expect("assume");
    let c = c.credentials().expect("credentials");
    let creds = Credentials::new(c.access_key_id(), c.secret_access_key(), None, None, "x");
    let err = client_with(&sim, REGION, creds)
        .list_user_pools()
        .max_results(1)
        .send()
        .await;
    assert_eq!(
        code(&err.expect_err("account fault")),
        "AccessDeniedException"
    );
    let stats = sim.state().stats();
    assert_eq!(
        stats
            .account(OTHER, "ListUserPools")
            .errors("AccessDeniedException"),
        1
    );
    let mine = stats.account(ACCOUNT, "ListUserPools");
    assert_eq!(
        (mine.ok, mine.errors("UnrecognizedClientException")),
        (1, 1)
    );
    assert_eq!(
        stats
            .account("333333333333", "AssumeRole")
            .injected("AccessDeniedException"),
        1
    );
}

#[tokio::test]
async fn rate_limit_answers_too_many_requests_per_second() {
    let sim = start(1).await;
    let limit = RateLimit {
        per_second: 5.0,
        burst: Some(5),
    };
    let set = FaultSet {
        rate_limit: Some(limit),
        ..FaultSet::default()
    };
    sim.state().set_faults(set).expect("valid");
    let c = client(&sim);
    let (mut ok, mut throttled) = (0, 0);
    let started = Instant::now();
    for _ in 0..20 {
        match c.list_user_pools().max_results(1).send().await {
            Ok(_) => ok += 1,
            Err(e) if code(&e) == "TooManyRequestsException" => throttled += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let allowed = 5.0 + started.elapsed().as_secs_f64() * 5.0;
    assert!(
        ok >= 5 && f64::from(ok) <= allowed + 1.0,
        "{ok} ok in {:?}",
        started.elapsed()
    );
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!(stats.errors("TooManyRequestsException"), throttled);
    assert_eq!(stats.injected("rate_limit"), throttled);
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.list_user_pools()
        .max_results(1)
        .send()
        .await
        .expect("tokens refill");
}

#[tokio::test]
async fn latency_and_stalls_delay_answers() {
    let sim = start(1).await;
    let ms = Duration::from_millis;
    let rules = vec![
        FaultRule::new(Fault::Latency {
            fixed: ms(150),
            jitter: ms(50),
        })
        .operation("ListUserPools"),
        FaultRule::new(Fault::Stall {
            duration: ms(30_000),
        })
        .operation("DescribeUserPool"),
    ];
    sim.state().set_faults(faults(rules)).expect("valid");
    let c = client(&sim);
    let started = Instant::now();
    let id = first_pool(&c).await;
    let took = started.elapsed();
    assert!(took >= ms(150) && took < ms(1500), "{took:?}");
    let started = Instant::now();
    let err = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect_err("stalled");
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(started.elapsed() < ms(5000));
    let stats = sim.state().stats();
    assert_eq!(stats.operation("ListUserPools").injected("latency"), 1);
    assert_eq!(stats.operation("DescribeUserPool").injected("stall"), 1);
    sim.shutdown().await.expect("shutdown cuts the stall short");
}

#[tokio::test]
async fn connection_resets_are_transport_errors() {
    let sim = start(1).await;
    let rules = vec![
        FaultRule::new(Fault::Reset { after_bytes: None }).count(1),
        FaultRule::new(Fault::Reset {
            after_bytes: Some(10),
        })
        .count(1),
    ];
    sim.state().set_faults(faults(rules)).expect("valid");
    let c = client(&sim);
    for _ in 0..2 {
        let err = c
            .list_user_pools()
            .max_results(1)
            .send()
            .await
            .expect_err("reset");
        assert!(
            matches!(
                err,
                SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
            ),
            "{err:?}"
        );
    }
    first_pool(&c).await;
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!((stats.injected("reset"), stats.ok), (2, 1));
}

#[tokio::test]
async fn malformed_answers_are_seen_as_such() {
    let sim = start(1).await;
    let c = client(&sim);
    let id = first_pool(&c).await;
    let get = || c.get_log_delivery_configuration().user_pool_id(&id).send();

    sim.state()
        .set_faults(faults(vec![FaultRule::new(Fault::TruncatedJson)]))
        .expect("valid");
    let err = get().await.expect_err("truncated");
    assert!(matches!(err, SdkError::ResponseError(_)), "{err:?}");

    sim.state()
        .set_faults(faults(vec![FaultRule::new(Fault::Html502)]))
        .expect("valid");
    let err = get().await.expect_err("502");
    assert_eq!(status(&err), Some(502));

    let unknown = |field| faults(vec![FaultRule::new(Fault::UnknownEnum { field })]);
    sim.state()
        .set_faults(unknown(sim::EnumField::LogLevel))
        .expect("valid");
    let got = get().await.expect("unknown enum values parse");
    let config = &got
        .log_delivery_configuration()
        .expect("config")
        .log_configurations()[0];
    assert_eq!(config.log_level().as_str(), "DEBUG");
    assert!(!LogLevel::values().contains(&config.log_level().as_str()));
    sim.state()
        .set_faults(unknown(sim::EnumField::EventSource))
        .expect("valid");
    let got = get().await.expect("unknown enum values parse");
    let config = &got
        .log_delivery_configuration()
        .expect("config")
        .log_configurations()[0];
    assert_eq!(config.event_source().as_str(), "userDebugEvents");

    let missing = FaultRule::new(Fault::MissingField {
        field: "LogLevel".into(),
    });
    sim.state()
        .set_faults(faults(vec![missing]))
        .expect("valid");
    let missing_level = match get().await {
        Ok(got) => {
            let c = &got
                .log_delivery_configuration()
                .expect("config")
                .log_configurations()[0];
            c.log_level().as_str().is_empty()
        }
        Err(err) => matches!(err, SdkError::ResponseError(_)),
    };
    assert!(missing_level, "a missing LogLevel is visible to the client");

    let stats = sim.state().stats().operation("GetLogDeliveryConfiguration");
    let kinds = [
        "truncated_json",
        "html_502",
        "unknown_enum",
        "missing_field",
    ];
    let counts: Vec<u64> = kinds.iter().map(|k| stats.injected(k)).collect();
    assert_eq!(counts, [1, 1, 2, 1]);
    assert_eq!((stats.requests, stats.ok, stats.error_total()), (5, 0, 0));
}

#[tokio::test]
async fn a_pool_deleted_between_list_and_get_is_not_found() {
    let sim = start(3).await;
    let rule = FaultRule::new(Fault::DeleteAfterList).count(1);
    sim.state().set_faults(faults(vec![rule])).expect("valid");
    let c = client(&sim);
    let listed = c
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.user_pools().len(),
        3,
        "the list still shows the pool"
    );
    let gone = listed.user_pools()[0].id().expect("id");
    let err = c
        .get_log_delivery_configuration()
        .user_pool_id(gone)
        .send()
        .await
        .expect_err("deleted after the list");
    assert_eq!(code(&err), "ResourceNotFoundException");
    assert_eq!(sim.state().pools(ACCOUNT, REGION).len(), 2);
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!((stats.ok, stats.injected("delete_after_list")), (1, 1));
}

#[tokio::test]
async fn rate_faults_repeat_with_their_seed() {
    let sim = start(1).await;
    let c = client(&sim);
    let set = FaultSet {
        seed: Some(99),
        rules: vec![FaultRule::error(ErrorCode::InternalErrorException).rate(0.5)],
        ..FaultSet::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        sim.state().set_faults(set.clone()).expect("valid");
        let mut run = Vec::new();
        for _ in 0..24 {
            run.push(c.list_user_pools().max_results(1).send().await.is_err());
        }
        runs.push(run);
    }
    assert_eq!(runs[0], runs[1]);
    let failed = runs[0].iter().filter(|f| **f).count();
    assert!((4..=20).contains(&failed), "{failed} of 24 at rate 0.5");
    let stats = sim.state().stats().operation("ListUserPools");
    assert_eq!(stats.errors("InternalErrorException"), 2 * failed as u64);
}

/// One HTTP/1.1 exchange with `Connection: close`: status, headers, body.
async fn raw(
    addr: SocketAddr,
    request_line: &str,
    headers: &[&str],
    body: &str,
) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{request_line} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n");
    for h in headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("head and body");
    let status = head[9..12].parse().expect("status");
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[tokio::test]
async fn control_endpoint_sets_faults_and_reports_stats() {
    let sim = start(1).await;
    let addr = sim.addr();
    let set = r#"{"seed": 3, "rules": [{"kind": "error", "operation": "ListUserPools",
        "code": "ThrottlingException", "count": 2}]}"#;
    let (status, _, body) = raw(addr, "PUT /_sim/faults", &[], set).await;
    assert_eq!(status, 200, "{body}");
    let c = client(&sim);
    for _ in 0..2 {
        let err = c
            .list_user_pools()
            .max_results(1)
            .send()
            .await
            .expect_err("throttled");
        assert_eq!(code(&err), "ThrottlingException");
    }
    first_pool(&c).await;
    let (status, _, body) = raw(addr, "GET /_sim/stats", &[], "").await;
    assert_eq!(status, 200);
    let stats: serde_json::Value = serde_json::from_str(&body).expect("json");
    let list = &stats["operations"]["ListUserPools"];
    assert_eq!(
        (list["requests"].as_u64(), list["ok"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(list["injected"]["ThrottlingException"], 2);
    assert_eq!(
        stats["accounts"][ACCOUNT]["ListUserPools"]["errors"]["ThrottlingException"],
        2
    );

    let (status, _, body) = raw(addr, "GET /_sim/faults", &[], "").await;
    assert_eq!(status, 200);
    let got: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(got["rules"][0]["count"], 2);
    assert_eq!(raw(addr, "DELETE /_sim/faults", &[], "").await.0, 204);
    assert!(sim.state().faults().rules.is_empty());
    assert_eq!(raw(addr, "DELETE /_sim/stats", &[], "").await.0, 204);
    assert_eq!(sim.state().stats().total.requests, 0);

    let bad = r#"{"rules": [{"kind": "error", "code": "Nope", "rate": 3}]}"#;
    let (status, _, body) = raw(addr, "PUT /_sim/faults", &[], bad).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("unknown error code") && body.contains("rate must be"),
        "{body}"
    );
    let (status, head, _) = raw(addr, "POST /_sim/stats", &[], "").await;
    assert!(status == 405 && head.contains("allow: get, delete"));
    assert_eq!(raw(addr, "GET /_sim/nope", &[], "").await.0, 404);
    assert_eq!(raw(addr, "GET /_sim/health", &[], "").await.0, 200);
}

#[tokio::test]
async fn unsigned_and_unknown_requests_are_refused() {
    let sim = start(0).await;
    let addr = sim.addr();
    let json = "Content-Type: application/x-amz-json-1.1";
    let target = "X-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools";
    let (status, head, body) = raw(addr, "POST /", &[json, target], r#"{"MaxResults": 1}"#).await;
    assert_eq!(status, 400);
    assert!(
        head.contains("x-amzn-errortype: missingauthenticationtokenexception"),
        "{head}"
    );
    assert!(head.contains("x-amzn-requestid: "));
    assert!(
        body.contains(r#""__type":"MissingAuthenticationTokenException""#),
        "{body}"
    );
    let auth = "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/cognito-idp/aws4_request";
    let other = "X-Amz-Target: AWSCognitoIdentityProviderService.AdminCreateUser";
    let (status, _, body) = raw(addr, "POST /", &[json, other, auth], "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    let form = "Content-Type: application/x-www-form-urlencoded";
    let (status, _, body) = raw(
        addr,
        "POST /",
        &[form],
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    assert_eq!(raw(addr, "GET /", &[], "").await.0, 405);
}
