//! The simulator's own HTTP surface, spoken to raw: the control endpoint under `/_sim/`,
//! and the answers to requests no SDK would send (unsigned, unknown operation, wrong
//! method).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

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
