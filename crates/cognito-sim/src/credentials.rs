//! Access keys and whom they belong to: keys `AssumeRole` issued belong to the role's
//! account until they expire; every other key belongs to the default account.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use super::error::{ApiError, ErrorCode};
use super::ids::{self, BASE62, KEY_ALPHABET};

/// Who a request comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) account: String,
    pub(crate) arn: String,
    pub(crate) user_id: String,
}

/// Credentials issued by `AssumeRole`.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: String,
    pub(crate) expiration: SystemTime,
    pub(crate) identity: Identity,
}

/// The access keys the simulator knows.
pub(crate) struct Keys {
    /// The account static (non-`AssumeRole`) access keys belong to.
    default_account: String,
    /// Makes issued keys repeatable from run to run.
    seed: u64,
    /// How long `AssumeRole` credentials last when the request names no duration.
    lifetime: Duration,
    /// By access key ID. Never pruned: a run issues few, and an expired key must still
    /// be recognised to answer `ExpiredTokenException`.
    issued: Mutex<HashMap<String, Issued>>,
}

impl Keys {
    pub(crate) fn new(default_account: String, seed: u64, lifetime: Duration) -> Self {
        Keys {
            default_account,
            seed,
            lifetime,
            issued: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn default_account(&self) -> &str {
        &self.default_account
    }

    fn issued(&self) -> MutexGuard<'_, HashMap<String, Issued>> {
        self.issued.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The identity behind an access key: one `AssumeRole` issued, or the default
    /// account's user for any other key.
    pub(crate) fn identity(&self, access_key: &str) -> Result<Identity, ApiError> {
        if let Some(issued) = self.issued().get(access_key) {
            if SystemTime::now() >= issued.expiration {
                return Err(ApiError::new(
                    ErrorCode::ExpiredTokenException,
                    ErrorCode::ExpiredTokenException.default_message(),
                ));
            }
            return Ok(issued.identity.clone());
        }
        let n = ids::hash_str(access_key);
        Ok(Identity {
            account: self.default_account.clone(),
            arn: format!("arn:aws:iam::{}:user/cognito-sim", self.default_account),
            user_id: format!("AIDA{}", ids::chars(self.seed, n, 17, KEY_ALPHABET)),
        })
    }

    /// Issues credentials for `role_name` in `account`, valid for `duration` (or the
    /// configured lifetime).
    pub(crate) fn assume_role(
        &self,
        account: &str,
        role_name: &str,
        session_name: &str,
        duration: Option<Duration>,
    ) -> Issued {
        let mut issued_keys = self.issued();
        let n = u64::try_from(issued_keys.len()).unwrap_or(u64::MAX) ^ (1 << 63);
        let role_id = ids::chars(self.seed ^ ids::hash_str(role_name), 0, 17, KEY_ALPHABET);
        let issued = Issued {
            access_key_id: format!("ASIA{}", ids::chars(self.seed, n, 16, KEY_ALPHABET)),
            secret_access_key: ids::chars(self.seed, n.wrapping_add(1 << 40), 40, BASE62),
            session_token: format!("FwoGZXIvYXdzE{}", ids::chars(self.seed, n, 120, BASE62)),
            expiration: SystemTime::now() + duration.unwrap_or(self.lifetime),
            identity: Identity {
                account: account.to_owned(),
                arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"),
                user_id: format!("AROA{role_id}:{session_name}"),
            },
        };
        issued_keys.insert(issued.access_key_id.clone(), issued.clone());
        issued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new("123456789012".into(), 7, Duration::from_secs(3600))
    }

    #[test]
    fn assumed_keys_map_to_the_role_account_until_they_expire() {
        let s = keys();
        assert_eq!(
            s.identity("AKIDTEST").expect("static").account,
            "123456789012"
        );
        let issued = s.assume_role("222222222222", "reader", "sess", None);
        let id = s.identity(&issued.access_key_id).expect("fresh");
        assert_eq!(id.account, "222222222222");
        assert_eq!(id.arn, "arn:aws:sts::222222222222:assumed-role/reader/sess");
        let gone = s.assume_role("222222222222", "reader", "s2", Some(Duration::ZERO));
        assert_ne!(gone.access_key_id, issued.access_key_id);
        let err = s.identity(&gone.access_key_id).expect_err("expired");
        assert_eq!(err.code, ErrorCode::ExpiredTokenException);
    }
}
