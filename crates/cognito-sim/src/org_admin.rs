//! Arranging the organization from a test or the control endpoint: the public
//! [`SimState`] methods that add, remove, move, suspend and lock out member accounts, and
//! read the tree. The tree itself is `organization`'s.

use std::time::SystemTime;

use super::organization::{self, AccountInfo, AccountState, OrganizationError, OrganizationalUnit};
use super::seed;
use super::state::SimState;

impl SimState {
    /// The organization's ID, `o-` and ten lowercase letters or digits.
    pub fn organization_id(&self) -> &str {
        &self.org.id
    }

    /// The root's ID, `r-` and four lowercase letters or digits: the parent of the
    /// top-level OUs and of the management account.
    pub fn root_id(&self) -> &str {
        &self.org.root_id
    }

    /// The management account: the default account, the only one that may list the
    /// organization.
    pub fn management_account(&self) -> &str {
        &self.org.management
    }

    /// Every member account, the management account first, in the order they joined
    /// (the `ListAccounts` order).
    pub fn accounts(&self) -> Vec<AccountInfo> {
        self.org.accounts()
    }

    /// One member account, if `id` is in the organization.
    pub fn account(&self, id: &str) -> Option<AccountInfo> {
        self.org.account(id)
    }

    /// Every OU, in creation order (parents before their children).
    pub fn organizational_units(&self) -> Vec<OrganizationalUnit> {
        self.org.ous()
    }

    /// Creates an OU named `name` under `parent` (the root or an OU).
    pub fn add_organizational_unit(
        &self,
        name: &str,
        parent: &str,
    ) -> Result<OrganizationalUnit, OrganizationError> {
        self.org.create_ou(name, parent)
    }

    /// Adds a member account named `name` under `parent` (default: the root) with a new
    /// ID, and seeds `pools` pools in each region the simulator started with. It joins
    /// `ACTIVE`, `INVITED`, now, and lists after every account already there.
    pub fn add_account(
        &self,
        name: &str,
        parent: Option<&str>,
        pools: usize,
    ) -> Result<AccountInfo, OrganizationError> {
        self.join_account(name, parent, "INVITED", SystemTime::now(), pools)
    }

    pub(crate) fn join_account(
        &self,
        name: &str,
        parent: Option<&str>,
        joined_method: &'static str,
        joined: SystemTime,
        pools: usize,
    ) -> Result<AccountInfo, OrganizationError> {
        organization::check_name(name)?;
        let parent = parent.unwrap_or(&self.org.root_id);
        if !self.org.parent_exists(parent) {
            return Err(OrganizationError::ParentNotFound(parent.to_owned()));
        }
        let id = self.org.mint_account_id();
        // Pools first: once the account lists, a poller may come for them.
        for region in &self.seeded_regions {
            seed::seed(self, &id, region, pools);
        }
        Ok(self.org.join(id, name, parent, joined_method, joined))
    }

    /// Removes account `id` from the organization: it no longer lists, but its pools
    /// stay, and `AssumeRole` into it still works. False if it was not a member, or is
    /// the management account (which cannot leave).
    pub fn remove_account(&self, id: &str) -> bool {
        self.org.leave(id)
    }

    /// Moves member account `id` directly under `parent` (the root or an OU).
    pub fn move_account(&self, id: &str, parent: &str) -> Result<AccountInfo, OrganizationError> {
        if !self.org.parent_exists(parent) {
            return Err(OrganizationError::ParentNotFound(parent.to_owned()));
        }
        self.org.update(id, |a| a.parent = parent.to_owned())
    }

    /// Sets member account `id`'s `State` (and so its `Status`). It changes what the
    /// listings say, not what the account's own credentials may do.
    pub fn set_account_state(
        &self,
        id: &str,
        state: AccountState,
    ) -> Result<AccountInfo, OrganizationError> {
        self.org.update(id, |a| a.state = state)
    }

    /// Makes `AssumeRole` into any role of `account_id` answer `AccessDenied` (HTTP 403),
    /// or work again. Any account may refuse, in the organization or not.
    pub fn refuse_assume_role(&self, account_id: &str, refuse: bool) {
        self.org.set_refusing(account_id, refuse);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn added_accounts_get_pools_and_keep_them_when_they_leave() {
        let mut s = SimState::new("123456789012".into(), 0, Duration::from_secs(3600));
        s.seeded_regions = vec!["us-east-1".into(), "eu-west-1".into()];
        let ou = s
            .add_organizational_unit("Team", s.root_id())
            .expect("root exists");
        let added = s.add_account("team-1", Some(&ou.id), 3).expect("valid");
        assert_eq!(
            (added.parent.as_str(), added.state),
            (ou.id.as_str(), AccountState::Active)
        );
        assert_eq!(s.pools(&added.id, "eu-west-1").len(), 3);
        assert_eq!(
            s.accounts().last().map(|a| a.id.clone()),
            Some(added.id.clone())
        );
        let err = s.add_account("x", Some("ou-none-00000000"), 0);
        assert_eq!(
            err,
            Err(OrganizationError::ParentNotFound("ou-none-00000000".into()))
        );
        let moved = s.move_account(&added.id, s.root_id()).expect("member");
        assert_eq!(moved.parent, s.root_id());
        let closed = s
            .set_account_state(&added.id, AccountState::Closed)
            .expect("member");
        assert_eq!(closed.state, AccountState::Closed);
        assert!(s.remove_account(&added.id));
        assert!(s.account(&added.id).is_none());
        assert_eq!(s.pools(&added.id, "us-east-1").len(), 3);
        assert_eq!(
            s.move_account(&added.id, s.root_id()),
            Err(OrganizationError::UnknownAccount(added.id.clone()))
        );
        assert!(!s.remove_account(s.management_account()));
    }
}
