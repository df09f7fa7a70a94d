//! The organization's tree: IDs, membership, paging, refusals.

use super::*;

#[test]
fn ids_have_aws_shapes_and_repeat_per_seed() {
    let (a, b) = (
        Organization::new("123456789012", 3),
        Organization::new("123456789012", 3),
    );
    assert_eq!((&a.id, &a.root_id), (&b.id, &b.root_id));
    assert!(a.id.len() == 12 && a.id.starts_with("o-"));
    assert!(a.root_id.len() == 6 && a.root_id.starts_with("r-"));
    let ou = a.create_ou("Production", &a.root_id).expect("root exists");
    let root4 = &a.root_id[2..];
    assert!(ou.id.starts_with(&format!("ou-{root4}-")) && ou.id.len() == 3 + 4 + 1 + 8);
    assert!(ou.arn.ends_with(&format!(":ou/{}/{}", a.id, ou.id)));
    assert_eq!(
        a.create_ou("x", "ou-nope-12345678"),
        Err(OrganizationError::ParentNotFound("ou-nope-12345678".into()))
    );
    assert!(matches!(
        a.create_ou("", &a.root_id),
        Err(OrganizationError::InvalidName(_))
    ));
}

#[test]
fn members_join_leave_and_page_in_join_order() {
    let org = Organization::new("123456789012", 0);
    let ou = org.create_ou("Dev", &org.root_id).expect("ou");
    let at = SystemTime::UNIX_EPOCH;
    for i in 0..5 {
        let id = org.mint_account_id();
        assert_ne!(id, "123456789012");
        org.join(id, &format!("dev-{i}"), &ou.id, "CREATED", at);
    }
    let (first, next) = org.accounts_page(None, None, 4);
    assert_eq!(first[0].id, "123456789012");
    assert_eq!(first[1].id, "111100000001");
    let (rest, end) = org.accounts_page(None, next, 4);
    assert_eq!((rest.len(), end), (2, None));
    let (in_ou, _) = org.accounts_page(Some(&ou.id), None, 20);
    assert_eq!(in_ou.len(), 5);
    assert!(!org.leave("123456789012"), "the management account stays");
    assert!(org.leave("111100000002") && !org.leave("111100000002"));
    org.set_refusing("111100000003", true);
    assert!(
        org.account("111100000003")
            .expect("member")
            .refuse_assume_role
    );
    let moved = org
        .update("111100000003", |a| a.parent = org.root_id.clone())
        .expect("member");
    assert!(moved.refuse_assume_role && moved.parent == org.root_id);
    assert_eq!(org.accounts().len(), 5);
    assert_eq!("PENDING_CLOSURE".parse(), Ok(AccountState::PendingClosure));
    assert_eq!(AccountState::Closed.status(), "SUSPENDED");
}
