//! HTTP basic authentication against the bcrypt hashes of `basic_auth_users`.
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), far too slow to pay on
//! every scrape, so a verified password is remembered, per user, as an HMAC under a key
//! made at random when the users are loaded. Plaintext is never kept; the cache holds at
//! most one entry per configured user, so it is bounded by the file; it is dropped with
//! the configuration on reload. A cache hit is compared in constant time.
//!
//! Everything that misses the cache pays one bcrypt: a wrong password, and an unknown
//! user too (against the costliest configured hash), so response time does not reveal
//! which users exist, as long as every user's hash has the same cost (the loader warns
//! when they differ: a cheaper hash answers a wrong password sooner). bcrypt waits for
//! its turn in gate.rs, which bounds how many run and how long a request waits before it
//! is answered 429; cached users never wait there.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use http::HeaderMap;
use http::header::AUTHORIZATION;
use ring::hmac;
use subtle::ConstantTimeEq;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::config::BcryptHash;
use super::gate::{self, Gate};
use super::rejection::AuthFailure;

/// The configured users and the cache of verified passwords.
pub(crate) struct BasicAuth {
    users: BTreeMap<String, BcryptHash>,
    /// The costliest configured hash, verified for unknown users.
    decoy: String,
    /// User → HMAC of the password that last verified for that user.
    verified: Mutex<HashMap<String, hmac::Tag>>,
    mac_key: hmac::Key,
    gate: Gate,
    /// bcrypt verifications run: tells a test whether the cache answered.
    bcrypt_runs: AtomicU64,
}

impl BasicAuth {
    /// `None` when no user is configured (authentication off).
    pub(crate) fn new(users: BTreeMap<String, BcryptHash>) -> Option<Self> {
        let decoy = users.values().max_by_key(|h| h.cost())?.as_str().to_owned();
        let rng = ring::rand::SystemRandom::new();
        let mac_key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .expect("the OS random source works (TLS depends on it too)");
        Some(Self {
            users,
            decoy,
            verified: Mutex::new(HashMap::new()),
            mac_key,
            gate: Gate::new(),
            bcrypt_runs: AtomicU64::new(0),
        })
    }

    pub(crate) async fn check(&self, headers: &HeaderMap) -> Result<(), AuthFailure> {
        let (user, password) = credentials(headers)?;
        let mac = self.mac(&user, &password);
        if self.cached(&user, &mac) {
            return Ok(());
        }
        let deadline = Instant::now() + gate::WAIT;
        let Some(_lane) = self.gate.lane(&user, deadline).await else {
            return Err(AuthFailure::Busy);
        };
        // The request ahead in this lane may have just verified the same password (two
        // scrapers with one user, after a start or a reload).
        if self.cached(&user, &mac) {
            return Ok(());
        }
        let Some(slot) = self.gate.slot(deadline).await else {
            return Err(AuthFailure::Busy);
        };
        let known = self.users.get(&user);
        let hash = known.map_or(self.decoy.clone(), |h| h.as_str().to_owned());
        let matches = self.bcrypt(password, hash, slot).await;
        if matches && known.is_some() {
            self.lock_cache().insert(user, mac);
            Ok(())
        } else {
            Err(AuthFailure::WrongCredentials { user })
        }
    }

    fn mac(&self, user: &str, password: &[u8]) -> hmac::Tag {
        let mut context = hmac::Context::with_key(&self.mac_key);
        context.update(&(user.len() as u64).to_be_bytes());
        context.update(user.as_bytes());
        context.update(password);
        context.sign()
    }

    fn cached(&self, user: &str, mac: &hmac::Tag) -> bool {
        self.lock_cache()
            .get(user)
            .is_some_and(|known| bool::from(known.as_ref().ct_eq(mac.as_ref())))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, hmac::Tag>> {
        // A panic while holding this lock cannot leave the map half-updated (one insert),
        // so a poisoned lock is still usable.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs bcrypt on the blocking pool, off the async workers, holding `slot`.
    async fn bcrypt(&self, password: Vec<u8>, hash: String, slot: OwnedSemaphorePermit) -> bool {
        self.bcrypt_runs.fetch_add(1, Ordering::Relaxed);
        // The slot moves into the blocking task: a client that hangs up does not free it
        // while its bcrypt is still running.
        let verify = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            bcrypt::verify(&password, &hash).unwrap_or(false)
        });
        match verify.await {
            Ok(matches) => matches,
            Err(e) => {
                tracing::error!(error = %e, "bcrypt verification task failed");
                false
            }
        }
    }

    pub(crate) fn bcrypt_runs(&self) -> u64 {
        self.bcrypt_runs.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn cache_len(&self) -> usize {
        self.lock_cache().len()
    }
}

/// `Authorization: Basic base64(user ":" password)`; the scheme is case-insensitive and
/// the password may contain colons (RFC 7617).
fn credentials(headers: &HeaderMap) -> Result<(String, Vec<u8>), AuthFailure> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?
        .as_bytes();
    let (scheme, encoded) = value
        .iter()
        .position(|b| *b == b' ')
        .map(|i| value.split_at(i))
        .ok_or(AuthFailure::Malformed)?;
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Err(AuthFailure::Malformed);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim_ascii())
        .map_err(|_| AuthFailure::Malformed)?;
    let colon = decoded
        .iter()
        .position(|b| *b == b':')
        .ok_or(AuthFailure::Malformed)?;
    let user = std::str::from_utf8(&decoded[..colon]).map_err(|_| AuthFailure::Malformed)?;
    Ok((user.to_owned(), decoded[colon + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(users: &[(&str, &str)]) -> BasicAuth {
        auth_at_costs(&users.iter().map(|(u, p)| (*u, *p, 4)).collect::<Vec<_>>())
    }

    fn auth_at_costs(users: &[(&str, &str, u32)]) -> BasicAuth {
        let users = users
            .iter()
            .map(|(u, p, cost)| {
                let hash = bcrypt::hash(p, *cost)
                    .expect("hash")
                    .parse()
                    .expect("valid");
                ((*u).to_owned(), hash)
            })
            .collect();
        BasicAuth::new(users).expect("users configured")
    }

    fn basic(user: &str, password: &str) -> HeaderMap {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        header(&format!("Basic {token}"))
    }

    fn header(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, value.parse().expect("header value"));
        headers
    }

    #[test]
    fn no_users_means_no_auth() {
        assert!(BasicAuth::new(BTreeMap::new()).is_none());
    }

    #[tokio::test]
    async fn missing_and_malformed_credentials_are_told_apart() {
        let auth = auth(&[("alice", "pw")]);
        assert_eq!(
            auth.check(&HeaderMap::new()).await,
            Err(AuthFailure::Missing)
        );
        for bad in ["Bearer abc", "Basic", "Basic !!!", "Basic YWxpY2U="] {
            assert_eq!(
                auth.check(&header(bad)).await,
                Err(AuthFailure::Malformed),
                "{bad}"
            );
        }
        assert_eq!(auth.bcrypt_runs(), 0);
    }

    #[tokio::test]
    async fn a_verified_password_is_served_from_the_cache() {
        let auth = auth(&[("alice", "s3cret:with:colons")]);
        let good = basic("alice", "s3cret:with:colons");
        assert_eq!(auth.check(&good).await, Ok(()));
        assert_eq!(auth.bcrypt_runs(), 1);
        // Scheme is case-insensitive; the second check is answered by the cache.
        let mut lower = good.clone();
        let value = good[AUTHORIZATION]
            .to_str()
            .expect("ascii")
            .replace("Basic", "basic");
        lower.insert(AUTHORIZATION, value.parse().expect("header"));
        assert_eq!(auth.check(&lower).await, Ok(()));
        assert_eq!(auth.bcrypt_runs(), 1);
    }

    #[tokio::test]
    async fn a_near_miss_after_a_cache_hit_is_refused_and_pays_bcrypt() {
        let auth = auth(&[("alice", "password1")]);
        assert_eq!(auth.check(&basic("alice", "password1")).await, Ok(()));
        // Differs in the last byte only: the constant-time compare rejects it, then bcrypt does.
        let rejected = auth.check(&basic("alice", "password2")).await;
        assert_eq!(
            rejected,
            Err(AuthFailure::WrongCredentials {
                user: "alice".into()
            })
        );
        assert_eq!(auth.bcrypt_runs(), 2);
        // The right password is still cached.
        assert_eq!(auth.check(&basic("alice", "password1")).await, Ok(()));
        assert_eq!(auth.bcrypt_runs(), 2);
    }

    #[tokio::test]
    async fn unknown_users_pay_bcrypt_and_are_never_cached() {
        let auth = auth(&[("alice", "pw")]);
        for i in 0..5 {
            let user = format!("mallory{i}");
            // Even with alice's password, another name fails: the decoy result is discarded.
            assert_eq!(
                auth.check(&basic(&user, "pw")).await,
                Err(AuthFailure::WrongCredentials { user })
            );
        }
        assert_eq!(auth.bcrypt_runs(), 5);
        assert_eq!(auth.cache_len(), 0);
        assert_eq!(auth.check(&basic("alice", "pw")).await, Ok(()));
        assert_eq!(auth.cache_len(), 1);
    }

    #[test]
    fn unknown_users_are_checked_against_the_costliest_hash() {
        let auth = auth_at_costs(&[("alice", "pw", 5), ("bob", "pw", 4), ("carol", "pw", 4)]);
        let decoy: BcryptHash = auth.decoy.parse().expect("a configured hash");
        assert_eq!(decoy.cost(), 5);
    }

    #[tokio::test]
    async fn two_logins_of_one_user_at_once_pay_one_bcrypt() {
        let auth = auth(&[("alice", "pw")]);
        let good = basic("alice", "pw");
        // The second waits in alice's lane, then finds the first one's verdict cached.
        let (first, second) = tokio::join!(auth.check(&good), auth.check(&good));
        assert_eq!((first, second), (Ok(()), Ok(())));
        assert_eq!(auth.bcrypt_runs(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn no_turn_within_the_wait_is_busy_and_cached_users_never_wait() {
        let auth = auth(&[("alice", "pw")]);
        assert_eq!(auth.check(&basic("alice", "pw")).await, Ok(()));
        let runs = auth.bcrypt_runs();
        // Another request holds the only bcrypt slot for longer than anyone waits.
        let _slot = auth
            .gate
            .slot(Instant::now() + gate::WAIT)
            .await
            .expect("a free slot");
        let started = Instant::now();
        for user in ["alice", "mallory"] {
            assert_eq!(
                auth.check(&basic(user, "wrong")).await,
                Err(AuthFailure::Busy),
                "{user}"
            );
        }
        assert_eq!(
            started.elapsed(),
            gate::WAIT * 2,
            "each waited its full turn"
        );
        assert_eq!(auth.check(&basic("alice", "pw")).await, Ok(()));
        assert_eq!(
            started.elapsed(),
            gate::WAIT * 2,
            "the cache answered at once"
        );
        assert_eq!(auth.bcrypt_runs(), runs);
    }
}
