//! The simulated AWS Organization: one root, its organizational units, the member
//! accounts (the default account is the management account), and the accounts that
//! refuse `AssumeRole`. The Organizations operations read it (see `organizations`); the
//! seeded layout comes from `seed`; tests and the control endpoint change it through the
//! [`SimState`] methods in `org_admin`. Pools are not here: they stay in their
//! (account, region) namespaces, so an account leaving the organization keeps them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::ids::{self, LOWER_ALNUM};
use super::pagination;

/// Mixed into the seed so organization IDs do not repeat pool IDs' draws.
const ORG_SALT: u64 = 0x6f72_6761_6e69_7a65;
/// Member account IDs count up from here, so they are twelve digits and far from the
/// usual example accounts.
const FIRST_MEMBER_ID: u64 = 111_100_000_000;

/// The lifecycle state of an account (the `State` member; `Status` is derived from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountState {
    /// In use.
    Active,
    /// Suspended by AWS.
    Suspended,
    /// Closed, within the 90 days AWS keeps it before closing it for good.
    PendingClosure,
    /// Closed for good.
    Closed,
}

impl AccountState {
    /// The value of the `State` member.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::PendingClosure => "PENDING_CLOSURE",
            AccountState::Closed => "CLOSED",
        }
    }

    /// The value of the older `Status` member, which has no `CLOSED`: AWS shows a closed
    /// account as suspended there.
    pub(crate) fn status(self) -> &'static str {
        match self {
            AccountState::Active => "ACTIVE",
            AccountState::Suspended | AccountState::Closed => "SUSPENDED",
            AccountState::PendingClosure => "PENDING_CLOSURE",
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccountState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            AccountState::Active,
            AccountState::Suspended,
            AccountState::PendingClosure,
            AccountState::Closed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
        .ok_or_else(|| format!("unknown account state {s:?}"))
    }
}

/// A member account of the organization.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountInfo {
    /// Twelve digits.
    pub id: String,
    /// The account's name: seeded accounts are `prod-NNN`, `dev-NNN` or `sandbox-NNN`.
    pub name: String,
    /// `aws+ID@example.com`.
    pub email: String,
    /// `arn:aws:organizations::MANAGEMENT:account/ORG/ID`.
    pub arn: String,
    /// The root or OU the account is directly in.
    pub parent: String,
    /// Its lifecycle state.
    pub state: AccountState,
    /// Whether `AssumeRole` into this account answers `AccessDenied`.
    pub refuse_assume_role: bool,
    /// `CREATED` (seeded, and the management account) or `INVITED` (added later).
    #[serde(skip)]
    pub(crate) joined_method: &'static str,
    #[serde(skip)]
    pub(crate) joined: SystemTime,
}

/// An organizational unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrganizationalUnit {
    /// `ou-ROOT-XXXXXXXX`: the root's four characters, then eight lowercase letters or
    /// digits.
    pub id: String,
    /// `arn:aws:organizations::MANAGEMENT:ou/ORG/ID`.
    pub arn: String,
    /// Its name.
    pub name: String,
    /// The root or OU it is directly in.
    pub parent: String,
}

/// Why a change to the organization was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationError {
    /// No member account has this ID.
    #[error("account {0} is not in the organization")]
    UnknownAccount(String),
    /// No root or OU has this ID.
    #[error("no root or organizational unit has the ID {0}")]
    ParentNotFound(String),
    /// Names are 1–50 printable ASCII characters, as AWS takes them.
    #[error("name {0:?} is not 1 to 50 printable ASCII characters")]
    InvalidName(String),
}

/// The organization's tree and who refuses `AssumeRole`.
pub(crate) struct Organization {
    /// `o-` and ten characters.
    pub(crate) id: String,
    /// `r-` and four characters.
    pub(crate) root_id: String,
    /// The management account: the simulator's default account.
    pub(crate) management: String,
    seed: u64,
    tree: Mutex<Tree>,
}

#[derive(Default)]
struct Tree {
    /// Counts joins and OU creations: list order, and the position in a page token.
    seq: u64,
    /// By join sequence number: the `ListAccounts` order.
    accounts: BTreeMap<u64, AccountInfo>,
    account_seq: HashMap<String, u64>,
    /// By creation sequence number.
    ous: BTreeMap<u64, OrganizationalUnit>,
    ou_seq: HashMap<String, u64>,
    /// Member account IDs handed out so far.
    minted: u64,
    /// Accounts refusing `AssumeRole`, members or not.
    refusing: HashSet<String>,
}

impl Organization {
    /// An organization with only its root and its management account.
    pub(crate) fn new(management: &str, seed: u64) -> Self {
        let salt = seed ^ ORG_SALT;
        let org = Organization {
            id: format!("o-{}", ids::chars(salt, 0, 10, LOWER_ALNUM)),
            root_id: format!("r-{}", ids::chars(salt, 1, 4, LOWER_ALNUM)),
            management: management.to_owned(),
            seed: salt,
            tree: Mutex::new(Tree::default()),
        };
        org.join(
            management.to_owned(),
            "management",
            &org.root_id.clone(),
            "CREATED",
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000),
        );
        org
    }

    fn tree(&self) -> MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn arn(&self, kind: &str, id: &str) -> String {
        format!(
            "arn:aws:organizations::{}:{kind}/{}/{id}",
            self.management, self.id
        )
    }

    pub(crate) fn root_arn(&self) -> String {
        self.arn("root", &self.root_id)
    }

    pub(crate) fn organization_arn(&self) -> String {
        format!(
            "arn:aws:organizations::{}:organization/{}",
            self.management, self.id
        )
    }

    /// Whether `id` is the root or an OU.
    pub(crate) fn parent_exists(&self, id: &str) -> bool {
        id == self.root_id || self.tree().ou_seq.contains_key(id)
    }

    pub(crate) fn is_member(&self, account: &str) -> bool {
        self.tree().account_seq.contains_key(account)
    }

    pub(crate) fn refuses(&self, account: &str) -> bool {
        self.tree().refusing.contains(account)
    }

    pub(crate) fn set_refusing(&self, account: &str, refuse: bool) {
        let mut tree = self.tree();
        if refuse {
            tree.refusing.insert(account.to_owned());
        } else {
            tree.refusing.remove(account);
        }
    }

    /// Creates an OU named `name` under `parent`.
    pub(crate) fn create_ou(
        &self,
        name: &str,
        parent: &str,
    ) -> Result<OrganizationalUnit, OrganizationError> {
        check_name(name)?;
        if !self.parent_exists(parent) {
            return Err(OrganizationError::ParentNotFound(parent.to_owned()));
        }
        let root = self.root_id.trim_start_matches("r-");
        let mut tree = self.tree();
        let (seq, id) = loop {
            tree.seq += 1;
            let id = format!(
                "ou-{root}-{}",
                ids::chars(self.seed, tree.seq, 8, LOWER_ALNUM)
            );
            if !tree.ou_seq.contains_key(&id) {
                break (tree.seq, id);
            }
        };
        let ou = OrganizationalUnit {
            arn: self.arn("ou", &id),
            id: id.clone(),
            name: name.to_owned(),
            parent: parent.to_owned(),
        };
        tree.ou_seq.insert(id, seq);
        tree.ous.insert(seq, ou.clone());
        Ok(ou)
    }

    /// A fresh member account ID, never the management account's nor a member's.
    pub(crate) fn mint_account_id(&self) -> String {
        let mut tree = self.tree();
        loop {
            tree.minted += 1;
            let id = format!("{:012}", FIRST_MEMBER_ID + tree.minted);
            if id != self.management && !tree.account_seq.contains_key(&id) {
                return id;
            }
        }
    }

    /// Adds account `id` under `parent`, which the caller has checked exists.
    pub(crate) fn join(
        &self,
        id: String,
        name: &str,
        parent: &str,
        joined_method: &'static str,
        joined: SystemTime,
    ) -> AccountInfo {
        let mut tree = self.tree();
        tree.seq += 1;
        let seq = tree.seq;
        let account = AccountInfo {
            email: format!("aws+{id}@example.com"),
            arn: self.arn("account", &id),
            name: name.to_owned(),
            parent: parent.to_owned(),
            state: AccountState::Active,
            refuse_assume_role: tree.refusing.contains(&id),
            joined_method,
            joined,
            id: id.clone(),
        };
        tree.account_seq.insert(id, seq);
        tree.accounts.insert(seq, account.clone());
        account
    }

    /// Removes a member; the management account cannot leave.
    pub(crate) fn leave(&self, id: &str) -> bool {
        if id == self.management {
            return false;
        }
        let mut tree = self.tree();
        match tree.account_seq.remove(id) {
            Some(seq) => tree.accounts.remove(&seq).is_some(),
            None => false,
        }
    }

    /// Applies `change` to member `id`.
    pub(crate) fn update(
        &self,
        id: &str,
        change: impl FnOnce(&mut AccountInfo),
    ) -> Result<AccountInfo, OrganizationError> {
        let mut tree = self.tree();
        let refusing = tree.refusing.contains(id);
        let seq = *tree
            .account_seq
            .get(id)
            .ok_or_else(|| OrganizationError::UnknownAccount(id.to_owned()))?;
        let account = tree
            .accounts
            .get_mut(&seq)
            .ok_or_else(|| OrganizationError::UnknownAccount(id.to_owned()))?;
        change(account);
        account.refuse_assume_role = refusing;
        Ok(account.clone())
    }

    pub(crate) fn account(&self, id: &str) -> Option<AccountInfo> {
        let tree = self.tree();
        let seq = tree.account_seq.get(id)?;
        tree.accounts.get(seq).map(|a| tree.flagged(a))
    }

    /// Accounts in join order, those directly under `parent` if given: at most `max`
    /// after position `after`, and the position to resume from if more remain.
    pub(crate) fn accounts_page(
        &self,
        parent: Option<&str>,
        after: Option<u64>,
        max: usize,
    ) -> (Vec<AccountInfo>, Option<u64>) {
        let tree = self.tree();
        let (page, next) = pagination::page_where(&tree.accounts, after, max, |a| {
            parent.is_none_or(|p| a.parent == p)
        });
        (page.iter().map(|a| tree.flagged(a)).collect(), next)
    }

    /// OUs directly under `parent`, in creation order, paged as [`Self::accounts_page`].
    pub(crate) fn ous_page(
        &self,
        parent: &str,
        after: Option<u64>,
        max: usize,
    ) -> (Vec<OrganizationalUnit>, Option<u64>) {
        pagination::page_where(&self.tree().ous, after, max, |ou| ou.parent == parent)
    }

    pub(crate) fn accounts(&self) -> Vec<AccountInfo> {
        self.accounts_page(None, None, usize::MAX).0
    }

    pub(crate) fn ous(&self) -> Vec<OrganizationalUnit> {
        self.tree().ous.values().cloned().collect()
    }
}

impl Tree {
    /// A copy of `account` with its `refuse_assume_role` as it stands now.
    fn flagged(&self, account: &AccountInfo) -> AccountInfo {
        AccountInfo {
            refuse_assume_role: self.refusing.contains(&account.id),
            ..account.clone()
        }
    }
}

/// Account and OU names: 1–50 printable ASCII characters.
pub(crate) fn check_name(name: &str) -> Result<(), OrganizationError> {
    let printable = name.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if name.is_empty() || name.len() > 50 || !printable {
        return Err(OrganizationError::InvalidName(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
