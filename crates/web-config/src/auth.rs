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
//! which users exist. bcrypt runs on the blocking pool, one at a time (as the toolkit
//! serialises it), so a flood of bad credentials queues instead of taking every core;
//! cached users never wait behind it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use ring::hmac;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

use super::config::BcryptHash;

/// Why a request was refused. Answer it with [`AuthRejection::STATUS`] (401) and
/// [`AuthRejection::headers`], or let [`AuthRejection::into_response`] do both.
/// `Display` is safe to log: it never contains a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{failure}")]
pub struct AuthRejection {
    failure: AuthFailure,
    /// `Basic realm="…"`, the realm being the server's choice (see `ServerInfo`).
    challenge: HeaderValue,
}

/// What was wrong with the credentials of a refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No `Authorization` header.
    #[error("no credentials")]
    Missing,
    /// An `Authorization` header that is not well-formed `Basic` credentials.
    #[error("malformed Authorization header (Basic credentials expected)")]
    Malformed,
    /// An unknown user, or a wrong password.
    #[error("wrong user name or password (user {user:?})")]
    WrongCredentials {
        /// The user name the client sent (not necessarily a configured one).
        user: String,
    },
}

impl AuthRejection {
    /// The status to answer with.
    pub const STATUS: StatusCode = StatusCode::UNAUTHORIZED;

    pub(crate) fn new(failure: AuthFailure, challenge: HeaderValue) -> Self {
        Self { failure, challenge }
    }

    /// What was wrong with the credentials.
    pub fn failure(&self) -> &AuthFailure {
        &self.failure
    }

    /// The headers of the 401 answer: `WWW-Authenticate: Basic realm="<realm>"`, which
    /// makes browsers and curl's `--anyauth` offer credentials.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(WWW_AUTHENTICATE, self.challenge.clone());
        headers
    }

    /// Turns `response` (its body says what the client sees) into the 401 answer:
    /// sets the status and adds the `WWW-Authenticate` challenge.
    pub fn into_response<B>(self, mut response: http::Response<B>) -> http::Response<B> {
        *response.status_mut() = Self::STATUS;
        response.headers_mut().extend(self.headers());
        response
    }
}

/// The configured users and the cache of verified passwords.
pub(crate) struct BasicAuth {
    users: BTreeMap<String, BcryptHash>,
    /// The costliest configured hash, verified for unknown users.
    decoy: String,
    /// User → HMAC of the password that last verified for that user.
    verified: Mutex<HashMap<String, hmac::Tag>>,
    mac_key: hmac::Key,
    bcrypt_gate: Arc<Semaphore>,
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
            bcrypt_gate: Arc::new(Semaphore::new(1)),
            bcrypt_runs: AtomicU64::new(0),
        })
    }

    pub(crate) async fn check(&self, headers: &HeaderMap) -> Result<(), AuthFailure> {
        let (user, password) = credentials(headers)?;
        let mac = self.mac(&user, &password);
        if self.cached(&user, &mac) {
            return Ok(());
        }
        let known = self.users.get(&user);
        let hash = known.map_or(self.decoy.clone(), |h| h.as_str().to_owned());
        let matches = self.bcrypt(password, hash).await;
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

    async fn bcrypt(&self, password: Vec<u8>, hash: String) -> bool {
        self.bcrypt_runs.fetch_add(1, Ordering::Relaxed);
        // Owned permit, moved into the blocking task: a client that hangs up does not
        // release the gate while its bcrypt is still running.
        let permit = self.bcrypt_gate.clone().acquire_owned().await;
        let verify = tokio::task::spawn_blocking(move || {
            let _permit = permit;
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
        let users = users
            .iter()
            .map(|(u, p)| {
                let hash = bcrypt::hash(p, 4).expect("hash").parse().expect("valid");
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
    fn rejection_headers_carry_the_challenge_and_display_hides_passwords() {
        let rejection = AuthRejection::new(
            AuthFailure::WrongCredentials { user: "bob".into() },
            HeaderValue::from_static("Basic realm=\"my-exporter\""),
        );
        assert_eq!(AuthRejection::STATUS, StatusCode::UNAUTHORIZED);
        assert_eq!(
            rejection.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"my-exporter\""
        );
        assert_eq!(
            rejection.to_string(),
            "wrong user name or password (user \"bob\")"
        );
        assert!(matches!(
            rejection.failure(),
            AuthFailure::WrongCredentials { .. }
        ));
        let response = rejection.into_response(http::Response::new(()));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"my-exporter\""
        );
    }
}
