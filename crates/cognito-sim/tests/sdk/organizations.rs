//! Organizations as the SDK sees it: paging through the accounts, walking the OU tree,
//! member accounts' own pools behind `AssumeRole`, accounts refusing it, changes made
//! while serving, who may list, and faults.

use aws_sdk_cognitoidentityprovider::config::Credentials;
use aws_sdk_organizations as org;
use aws_sdk_organizations::operation::list_accounts::ListAccountsError;
use aws_sdk_organizations::types::{
    Account, AccountJoinedMethod, AccountState as WireState, AccountStatus,
    InvalidInputExceptionReason,
};
use cognito_sim::{AccountState, ErrorCode, FaultRule, RunningSim};

use crate::harness::*;

/// Credentials of a role assumed in `account`.
async fn assumed(sim: &RunningSim, account: &str) -> Credentials {
    let out = sts_client(sim, static_keys())
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/cognito-reader"))
        .role_session_name("poller")
        .send()
        .await
        .expect("assume");
    let c = out.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    )
}

/// Every account `ListAccounts` returns, following `NextToken` with pages of `max`, and
/// how many pages it took.
async fn list_all(c: &org::Client, max: i32) -> (Vec<Account>, usize) {
    let (mut all, mut pages, mut token) = (Vec::new(), 0, None);
    loop {
        let page = c
            .list_accounts()
            .max_results(max)
            .set_next_token(token)
            .send()
            .await
            .expect("list");
        pages += 1;
        all.extend(page.accounts().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() || pages > 100 {
            return (all, pages);
        }
    }
}

/// The IDs of the accounts directly under `parent`.
async fn accounts_under(c: &org::Client, parent: &str) -> Vec<String> {
    let page = c
        .list_accounts_for_parent()
        .parent_id(parent)
        .send()
        .await
        .expect("list for parent");
    assert!(page.next_token().is_none(), "one page of at most 20");
    page.accounts()
        .iter()
        .map(|a| a.id().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn list_accounts_pages_through_every_account_once() {
    let sim = start_org(50, 0).await;
    let c = org_client(&sim, static_keys());
    let (accounts, pages) = list_all(&c, 7).await;
    assert_eq!(pages, 8, "51 accounts in pages of 7");
    let ids: Vec<String> = accounts
        .iter()
        .map(|a| a.id().expect("id").into())
        .collect();
    let want: Vec<String> = sim.state().accounts().into_iter().map(|a| a.id).collect();
    assert_eq!(ids, want, "every account once, in join order");
    assert_eq!(ids[0], ACCOUNT, "the management account lists too");
    let member = &accounts[3];
    assert_eq!(member.name(), Some("dev-003"));
    assert_eq!(member.status(), Some(&AccountStatus::Active));
    assert_eq!(member.state(), Some(&WireState::Active));
    assert_eq!(member.joined_method(), Some(&AccountJoinedMethod::Created));
    assert!(member.joined_timestamp().expect("joined").secs() > 1_600_000_000);
    assert!(
        member
            .arn()
            .expect("arn")
            .starts_with("arn:aws:organizations::123456789012:account/o-")
    );
    assert_eq!(sim.state().stats().operation("ListAccounts").ok, 8);

    let err = c
        .list_accounts()
        .next_token("bm90IG91cnM")
        .send()
        .await
        .expect_err("foreign token");
    assert_eq!(code(&err), "InvalidInputException");
    let ListAccountsError::InvalidInputException(e) = err.into_service_error() else {
        panic!("modelled InvalidInputException");
    };
    assert_eq!(
        e.reason(),
        Some(&InvalidInputExceptionReason::InvalidPaginationToken)
    );
    let err = c
        .list_accounts()
        .max_results(21)
        .send()
        .await
        .expect_err("over 20");
    assert_eq!(code(&err), "InvalidInputException");
}

#[tokio::test]
async fn walking_the_tree_finds_the_nested_ous_accounts() {
    let sim = start_org(20, 0).await;
    let c = org_client(&sim, static_keys());
    let roots = c.list_roots().send().await.expect("roots");
    let root = &roots.roots()[0];
    assert_eq!((root.name(), root.policy_types().len()), (Some("Root"), 0));
    let root_id = root.id().expect("id");
    assert_eq!(root_id, sim.state().root_id());
    assert_eq!(accounts_under(&c, root_id).await, [ACCOUNT]);

    let top = c
        .list_organizational_units_for_parent()
        .parent_id(root_id)
        .send()
        .await
        .expect("top OUs");
    let names: Vec<&str> = top
        .organizational_units()
        .iter()
        .filter_map(|o| o.name())
        .collect();
    assert_eq!(names, ["Production", "Development", "Sandbox"]);
    let production = top.organizational_units()[0].id().expect("id");
    let inner = c
        .list_organizational_units_for_parent()
        .parent_id(production)
        .send()
        .await
        .expect("nested OUs");
    let payments = &inner.organizational_units()[0];
    assert_eq!(payments.name(), Some("Payments"));
    let nested = accounts_under(&c, payments.id().expect("id")).await;
    let state = sim.state();
    let name_of = |id: &String| state.account(id).expect("member").name;
    let nested_names: Vec<String> = nested.iter().map(name_of).collect();
    assert_eq!(nested_names, ["prod-006", "prod-009", "prod-012"]);
    let direct: Vec<String> = accounts_under(&c, production)
        .await
        .iter()
        .map(name_of)
        .collect();
    assert!(
        direct.iter().all(|n| n.starts_with("prod-")) && direct.len() == 9,
        "{direct:?}"
    );

    let err = c
        .list_accounts_for_parent()
        .parent_id("ou-abcd-12345678")
        .send()
        .await
        .expect_err("no such OU");
    assert_eq!(code(&err), "ParentNotFoundException");
}

#[tokio::test]
async fn member_pools_are_seen_only_through_a_role_in_that_member() {
    let sim = start_org(3, 2).await;
    let state = sim.state();
    let members: Vec<String> = state.accounts()[1..].iter().map(|a| a.id.clone()).collect();
    let mut seen = Vec::new();
    for account in &members[..2] {
        let c = client_with(&sim, "eu-west-1", assumed(&sim, account).await);
        let page = c
            .list_user_pools()
            .max_results(60)
            .send()
            .await
            .expect("list");
        let ids: Vec<String> = page
            .user_pools()
            .iter()
            .map(|p| p.id().expect("id").into())
            .collect();
        let want: Vec<String> = state
            .pools(account, "eu-west-1")
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!((ids.len(), &ids), (2, &want), "{account}'s own pools");
        seen.push(ids);
    }
    assert_ne!(seen[0], seen[1], "each member has pools of its own");
    let own = client(&sim)
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("list");
    assert!(
        own.user_pools()
            .iter()
            .all(|p| !seen[0].contains(&p.id().expect("id").to_owned()))
    );
}

#[tokio::test]
async fn an_account_refusing_assume_role_is_access_denied() {
    let sim = start_org(2, 0).await;
    let member = sim.state().accounts()[1].id.clone();
    sim.state().refuse_assume_role(&member, true);
    let err = sts_client(&sim, static_keys())
        .assume_role()
        .role_arn(format!("arn:aws:iam::{member}:role/cognito-reader"))
        .role_session_name("poller")
        .send()
        .await
        .expect_err("refused");
    assert_eq!(
        (code(&err).as_str(), status(&err)),
        ("AccessDenied", Some(403))
    );
    assert_eq!(
        sim.state()
            .stats()
            .account(&member, "AssumeRole")
            .errors("AccessDenied"),
        1
    );
    // Accounts outside the organization keep working, and the refusal can be lifted.
    assumed(&sim, OTHER).await;
    sim.state().refuse_assume_role(&member, false);
    assumed(&sim, &member).await;
}

#[tokio::test]
async fn changes_at_run_time_show_in_the_next_listing() {
    let sim = start_org(5, 1).await;
    let (state, c) = (sim.state(), org_client(&sim, static_keys()));
    let ous = state.organizational_units();
    let sandbox = ous
        .iter()
        .find(|o| o.name == "Sandbox")
        .expect("seeded")
        .id
        .clone();
    let added = state
        .add_account("team-new", Some(&sandbox), 1)
        .expect("valid");
    assert_eq!(state.pools(&added.id, REGION).len(), 1);
    let (all, _) = list_all(&c, 20).await;
    assert_eq!(all.last().and_then(Account::id), Some(added.id.as_str()));
    assert_eq!(
        all.last().and_then(Account::joined_method),
        Some(&AccountJoinedMethod::Invited)
    );
    assert!(accounts_under(&c, &sandbox).await.contains(&added.id));

    state
        .move_account(&added.id, state.root_id())
        .expect("member");
    state
        .set_account_state(&added.id, AccountState::Suspended)
        .expect("member");
    assert!(!accounts_under(&c, &sandbox).await.contains(&added.id));
    assert!(
        accounts_under(&c, state.root_id())
            .await
            .contains(&added.id)
    );
    let (all, _) = list_all(&c, 20).await;
    let listed = all
        .iter()
        .find(|a| a.id() == Some(added.id.as_str()))
        .expect("listed");
    assert_eq!(listed.status(), Some(&AccountStatus::Suspended));
    assert_eq!(listed.state(), Some(&WireState::Suspended));

    assert!(state.remove_account(&added.id));
    let (all, _) = list_all(&c, 20).await;
    assert!(all.iter().all(|a| a.id() != Some(added.id.as_str())));
    assert_eq!(all.len(), 6);
}

#[tokio::test]
async fn only_the_management_account_may_list() {
    let sim = start_org(2, 0).await;
    let member = sim.state().accounts()[1].id.clone();
    let as_member = org_client(&sim, assumed(&sim, &member).await);
    let err = as_member.list_accounts().send().await.expect_err("member");
    assert_eq!(code(&err), "AccessDeniedException");
    let err = as_member.list_roots().send().await.expect_err("member");
    assert_eq!(code(&err), "AccessDeniedException");
    let described = as_member
        .describe_organization()
        .send()
        .await
        .expect("any member");
    let organization = described.organization().expect("organization");
    assert_eq!(organization.master_account_id(), Some(ACCOUNT));
    assert_eq!(organization.id(), Some(sim.state().organization_id()));
    let outsider = org_client(&sim, assumed(&sim, OTHER).await);
    let err = outsider
        .describe_organization()
        .send()
        .await
        .expect_err("outside");
    assert_eq!(code(&err), "AWSOrganizationsNotInUseException");
}

#[tokio::test]
async fn faults_reach_organizations_operations_by_name_only() {
    let sim = start_org(3, 1).await;
    let throttle = FaultRule::error(ErrorCode::TooManyRequestsException)
        .operation("ListAccounts")
        .count(1);
    let everything = FaultRule::error(ErrorCode::InternalErrorException).count(1);
    sim.state()
        .set_faults(faults(vec![everything, throttle]))
        .expect("valid");
    let c = org_client(&sim, static_keys());
    let err = c.list_accounts().send().await.expect_err("throttled");
    assert_eq!(code(&err), "TooManyRequestsException");
    assert_eq!(list_all(&c, 20).await.0.len(), 4);
    let stats = sim.state().stats().operation("ListAccounts");
    assert_eq!((stats.requests, stats.ok), (2, 1));
    assert_eq!(stats.injected("TooManyRequestsException"), 1);
    assert_eq!(
        stats.injected("InternalErrorException"),
        0,
        "a wildcard is Cognito's"
    );
}
