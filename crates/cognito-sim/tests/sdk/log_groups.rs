//! CloudWatch Logs log groups through the real SDK: create, describe (by prefix, by
//! identifiers, paged), delete, every error, refusals and faults by operation name.

use cognito_sim::{ErrorCode, FaultRule};

use crate::destinations::logs_client;
use crate::harness::*;

#[tokio::test]
async fn log_groups_are_created_described_paged_and_deleted() {
    let sim = start(0).await;
    let c = logs_client(&sim, REGION);
    for name in ["/a/1", "/a/2", "/a/3", "/a/4", "/a/5", "/b/1"] {
        c.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create");
    }
    let key = "arn:aws:kms:us-east-1:123456789012:key/k";
    c.create_log_group()
        .log_group_name("/b/kms")
        .kms_key_id(key)
        .send()
        .await
        .expect("create");
    let err = c
        .create_log_group()
        .log_group_name("/a/1")
        .send()
        .await
        .expect_err("exists");
    assert_eq!(code(&err), "ResourceAlreadyExistsException");
    let err = c
        .create_log_group()
        .log_group_name("bad name!")
        .send()
        .await
        .expect_err("name");
    assert_eq!(code(&err), "InvalidParameterException");

    let mut names = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = c
            .describe_log_groups()
            .log_group_name_prefix("/a/")
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        pages += 1;
        names.extend(
            page.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() || pages > 10 {
            break;
        }
    }
    assert_eq!(
        (pages, names),
        (
            3,
            vec!["/a/1", "/a/2", "/a/3", "/a/4", "/a/5"]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        )
    );

    let arn = "arn:aws:logs:us-east-1:123456789012:log-group:/b/kms";
    let other = "arn:aws:logs:us-east-1:444455556666:log-group:/b/1";
    let found = c
        .describe_log_groups()
        .log_group_identifiers(arn)
        .log_group_identifiers("/b/1")
        .log_group_identifiers(other)
        .send()
        .await
        .expect("by identifiers");
    let groups = found.log_groups();
    assert_eq!(groups.len(), 2, "another account's group is not found here");
    let kms = groups
        .iter()
        .find(|g| g.log_group_name() == Some("/b/kms"))
        .expect("kms group");
    assert_eq!(kms.kms_key_id(), Some(key));
    assert_eq!(kms.log_group_arn(), Some(arn));
    assert_eq!(kms.arn(), Some(format!("{arn}:*").as_str()));
    assert!(kms.creation_time().is_some_and(|ms| ms > 1_700_000_000_000));
    let plain = groups
        .iter()
        .find(|g| g.log_group_name() == Some("/b/1"))
        .expect("plain");
    assert!(plain.kms_key_id().is_none());
    let none = c
        .describe_log_groups()
        .log_group_name_prefix("/zz")
        .send()
        .await
        .expect("empty");
    assert!(none.log_groups().is_empty() && none.next_token().is_none());
    let eu = logs_client(&sim, "eu-west-1")
        .describe_log_groups()
        .send()
        .await
        .expect("eu");
    assert!(eu.log_groups().is_empty(), "log groups live per region");

    let err = c
        .describe_log_groups()
        .log_group_name_prefix("/a")
        .log_group_identifiers("/a/1")
        .send()
        .await
        .expect_err("exclusive");
    assert_eq!(code(&err), "InvalidParameterException");
    let err = c
        .describe_log_groups()
        .next_token("forged")
        .send()
        .await
        .expect_err("token");
    assert_eq!(code(&err), "InvalidParameterException");
    let err = c
        .describe_log_groups()
        .limit(51)
        .send()
        .await
        .expect_err("limit");
    assert_eq!(code(&err), "InvalidParameterException");

    c.delete_log_group()
        .log_group_name("/b/1")
        .send()
        .await
        .expect("delete");
    let err = c
        .delete_log_group()
        .log_group_name("/b/1")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "ResourceNotFoundException");
    let stats = sim.state().stats();
    assert_eq!(stats.operation("DescribeLogGroups").ok, 6);
    assert_eq!(
        stats
            .operation("DeleteLogGroup")
            .errors("ResourceNotFoundException"),
        1
    );
}

#[tokio::test]
async fn log_group_checks_can_be_refused() {
    let sim = start(0).await;
    let c = logs_client(&sim, REGION);
    let state = sim.state();
    assert!(state.create_log_group(ACCOUNT, REGION, "/secret", None));
    state.refuse_destination(
        "arn:aws:logs:us-east-1:123456789012:log-group:/secret:*",
        true,
    );
    let err = c
        .describe_log_groups()
        .log_group_identifiers("/secret")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(code(&err), "AccessDeniedException");
    state.refuse_destination(
        "arn:aws:logs:us-east-1:123456789012:log-group:/secret",
        false,
    );
    c.describe_log_groups()
        .log_group_identifiers("/secret")
        .send()
        .await
        .expect("answered");

    // Catch-all rules stay Cognito's; a rule naming the operation reaches it.
    state
        .set_faults(faults(vec![FaultRule::error(
            ErrorCode::InternalErrorException,
        )]))
        .expect("valid");
    c.describe_log_groups()
        .send()
        .await
        .expect("not hit by a catch-all rule");
    let rule = FaultRule::error(ErrorCode::AccessDeniedException)
        .operation("DescribeLogGroups")
        .count(1);
    state.set_faults(faults(vec![rule])).expect("valid");
    let err = c.describe_log_groups().send().await.expect_err("injected");
    assert_eq!(code(&err), "AccessDeniedException");
    let stats = state.stats().operation("DescribeLogGroups");
    assert_eq!(
        (
            stats.injected("AccessDeniedException"),
            stats.errors("AccessDeniedException")
        ),
        (1, 2)
    );
}
