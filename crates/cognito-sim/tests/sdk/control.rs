//! The simulator's own HTTP surface, spoken to raw: the control endpoint under `/_sim/`
//! (faults, stats, the organization's accounts, destinations, feature plans), and the answers to requests no SDK would send (unsigned, unknown operation, wrong
//! method).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use cognito_sim::{AdvancedSecurityMode, BucketTaken, DeliveryStreamStatus, UserPoolTier};

use crate::harness::*;

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

#[tokio::test]
async fn control_endpoint_arranges_accounts() {
    let sim = start_org(2, 1).await;
    let addr = sim.addr();
    let dev = sim
        .state()
        .organizational_units()
        .into_iter()
        .find(|o| o.name == "Development")
        .expect("seeded")
        .id;
    let body = format!(r#"{{"name": "added-1", "parent": "{dev}", "pools": 2}}"#);
    let (status, _, answer) = raw(addr, "POST /_sim/accounts", &[], &body).await;
    assert_eq!(status, 201, "{answer}");
    let added: serde_json::Value = serde_json::from_str(&answer).expect("json");
    let id = added["id"].as_str().expect("id").to_owned();
    assert_eq!(
        (added["parent"].as_str(), added["state"].as_str()),
        (Some(dev.as_str()), Some("ACTIVE"))
    );
    assert_eq!(sim.state().pools(&id, "eu-west-1").len(), 2);

    let change = r#"{"parent": "ROOT", "state": "PENDING_CLOSURE", "refuse_assume_role": true}"#
        .replace("ROOT", sim.state().root_id());
    let (status, _, answer) = raw(addr, &format!("PUT /_sim/accounts/{id}"), &[], &change).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _, answer) = raw(addr, "GET /_sim/accounts", &[], "").await;
    assert_eq!(status, 200);
    let listed: serde_json::Value = serde_json::from_str(&answer).expect("json");
    let entry = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("listed");
    assert_eq!(entry["parent"], sim.state().root_id());
    assert_eq!(
        (
            entry["state"].as_str(),
            entry["refuse_assume_role"].as_bool()
        ),
        (Some("PENDING_CLOSURE"), Some(true))
    );
    assert!(sim.state().account(&id).expect("member").refuse_assume_role);

    let (status, _, answer) = raw(addr, "GET /_sim/organization", &[], "").await;
    assert_eq!(status, 200);
    let tree: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(tree["root"]["id"], sim.state().root_id());
    assert_eq!(tree["organizational_units"][1]["name"], "Payments");
    assert_eq!(
        tree["organizational_units"][1]["parent"],
        tree["organizational_units"][0]["id"]
    );

    let bad_parent = r#"{"name": "x", "parent": "ou-none-00000000"}"#;
    assert_eq!(
        raw(addr, "POST /_sim/accounts", &[], bad_parent).await.0,
        400
    );
    let unknown = raw(addr, "PUT /_sim/accounts/999999999999", &[], "{}").await;
    assert_eq!(unknown.0, 404);
    assert_eq!(
        raw(addr, &format!("DELETE /_sim/accounts/{id}"), &[], "")
            .await
            .0,
        204
    );
    assert_eq!(
        raw(addr, &format!("DELETE /_sim/accounts/{id}"), &[], "")
            .await
            .0,
        404
    );
    let listed = org_client(&sim, static_keys())
        .list_accounts()
        .send()
        .await
        .expect("list");
    assert_eq!(
        listed.accounts().len(),
        3,
        "the management account and the two seeded"
    );
}

#[tokio::test]
async fn control_endpoint_arranges_destinations_and_plans() {
    let sim = start(1).await;
    let addr = sim.addr();
    let state = sim.state();
    let group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cognito/x";
    let (status, _, body) = raw(
        addr,
        &format!("PUT /_sim/destinations/{group}"),
        &[],
        r#"{"kms_key_id": "k"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""created": true"#), "{body}");
    assert!(
        !state.create_log_group(ACCOUNT, REGION, "/aws/cognito/x", None),
        "it exists"
    );
    let stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/s";
    let (status, _, body) = raw(
        addr,
        &format!("PUT /_sim/destinations/{stream}"),
        &[],
        r#"{"status": "CREATING", "refuse": true}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(!state.set_delivery_stream_status(
        ACCOUNT,
        "eu-west-1",
        "s",
        DeliveryStreamStatus::Active
    ));
    let (status, _, body) = raw(
        addr,
        "PUT /_sim/destinations/arn:aws:s3:::b-1",
        &[],
        r#"{"region": "eu-west-1"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        state.create_bucket(ACCOUNT, "eu-west-1", "b-1"),
        Err(BucketTaken::OwnedByYou)
    );
    let (status, _, _) = raw(
        addr,
        "PUT /_sim/destinations/arn:aws:sqs:us-east-1:1:q",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = raw(addr, &format!("DELETE /_sim/destinations/{group}"), &[], "").await;
    assert_eq!(status, 204);
    let (status, _, _) = raw(addr, &format!("DELETE /_sim/destinations/{group}"), &[], "").await;
    assert_eq!(status, 404);

    let id = sim.state().pools(ACCOUNT, REGION)[0].id.clone();
    let path = format!("PUT /_sim/pools/{id}/plan");
    let (status, _, body) = raw(
        addr,
        &path,
        &[],
        r#"{"tier": "PLUS", "threat_protection": "AUDIT"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pool = state.pools(ACCOUNT, REGION)[0].clone();
    assert_eq!(
        (pool.tier(), pool.threat_protection()),
        (UserPoolTier::Plus, Some(AdvancedSecurityMode::Audit))
    );
    let (status, _, body) = raw(
        addr,
        &path,
        &[],
        r#"{"tier": "LITE", "threat_protection": "ENFORCED"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("FeatureUnavailableInTierException"), "{body}");
    let (status, _, _) = raw(
        addr,
        "PUT /_sim/pools/us-east-1_nope/plan",
        &[],
        r#"{"tier": "LITE"}"#,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = raw(addr, &format!("GET /_sim/pools/{id}/plan"), &[], "").await;
    assert_eq!(status, 405);
}
