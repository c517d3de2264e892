//! Signing in and out, and who a request acts for. A sign-in takes an attempt per username in
//! the store (known usernames only) and per client address in memory before it checks the
//! password (unknown usernames spend the same effort, so timing does not tell which exist),
//! and opens a session with its CSRF token. A request's caller is found from an API token or a session.

mod address_throttle;
mod password_attempts;

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use segsync_store::{AttemptsAt, User};

use crate::App;
use crate::caller::{Caller, CallerToken};
use crate::error::{AppError, Code};
use crate::secrets::{hash_token, new_token};
use crate::users::hash_password;
use address_throttle::AddressThrottle;

/// How sign-ins are limited and how long a session lasts.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    /// Failed sign-ins in a row that lock a username.
    pub max_failures: u32,
    /// Failed sign-ins from one address that lock it.
    pub max_failures_per_address: u32,
    /// How long a locked username or address waits.
    pub lock_minutes: u32,
    /// How long a session lasts.
    pub session_hours: u32,
}

/// A session just opened: its token (for the cookie; the store keeps only its hash), the CSRF
/// token the browser sends back with every change, and who signed in.
#[derive(Debug)]
pub struct OpenedSession {
    pub token: String,
    pub csrf_token: String,
    pub user: User,
    pub lasts: Duration,
}

/// A session found by its token: who it is, and the CSRF token it was opened with.
#[derive(Debug)]
pub struct FoundSession {
    pub caller: Caller,
    pub csrf_token: String,
}

/// The sign-in limits and the failures counted per address.
pub(crate) struct SignIns {
    policy: SignInPolicy,
    addresses: AddressThrottle,
}

impl SignIns {
    pub(crate) fn new(policy: SignInPolicy) -> Self {
        Self {
            policy,
            addresses: AddressThrottle::new(
                policy.max_failures_per_address,
                StdDuration::from_secs(u64::from(policy.lock_minutes) * 60),
            ),
        }
    }

    pub(crate) fn policy(&self) -> SignInPolicy {
        self.policy
    }
}

/// An argon2id hash of a random password, checked against when the username is unknown.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&new_token("")).expect("a long random password hashes"));

impl App {
    /// Signs `username` in from `address`, or says why not: a wrong username or password (the
    /// same answer for both), a username or address locked after too many attempts, or a
    /// server too busy checking passwords. Each attempt is counted before its password is
    /// checked, so guesses sent at once get no more checks than the limits.
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        address: IpAddr,
    ) -> Result<OpenedSession, AppError> {
        let now = Utc::now();
        let SignIns { policy, addresses } = &*self.sign_ins;
        let ticket = self.passwords().enter()?;
        let attempt_from_address = addresses.attempt(address, Instant::now()).map_err(|wait| {
            AppError::new(
                Code::SignInLocked,
                format!(
                    "too many failed sign-ins from this address; try again in {} minutes",
                    wait.as_secs().div_ceil(60)
                ),
            )
            .with_retry_after(wait)
        })?;
        let user = self.store().user_by_username(username).await?;
        // Only usernames that exist are counted in the store: guesses write nothing.
        let stored_attempt = match &user {
            Some(_) => Some(
                self.take_password_attempt(
                    AttemptsAt::SignIn { username },
                    "too many failed sign-ins",
                )
                .await?,
            ),
            None => None,
        };
        let hash = user
            .as_ref()
            .map_or_else(|| DUMMY_HASH.clone(), |user| user.password_hash.clone());
        let matches = ticket.verify(hash, password).await;
        let verified = matches && user.as_ref().is_some_and(|user| !user.disabled);
        let Some(user) = user.filter(|_| verified) else {
            attempt_from_address.failed(Instant::now());
            if let Some(stored_attempt) = stored_attempt {
                stored_attempt.failed().await?;
            }
            return Err(AppError::new(
                Code::InvalidCredentials,
                "the username or the password is wrong",
            ));
        };
        attempt_from_address.succeeded();
        if let Some(stored_attempt) = stored_attempt {
            stored_attempt.succeeded().await?;
        }
        let token = new_token("");
        let csrf_token = new_token("");
        let lasts = Duration::hours(i64::from(policy.session_hours));
        self.store()
            .create_session(&hash_token(&token), user.id, &csrf_token, now + lasts)
            .await?;
        Ok(OpenedSession {
            token,
            csrf_token,
            user,
            lasts,
        })
    }

    /// Ends the session whose token is `token`; an unknown or ended one is already gone.
    pub async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        self.store().delete_session(&hash_token(token)).await?;
        Ok(())
    }

    /// The caller an API token acts for, with the token, or 401.
    pub async fn caller_by_api_token(&self, token: &str) -> Result<Caller, AppError> {
        let used = self
            .store()
            .api_token_use(&hash_token(token.trim()))
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        Ok(Caller::with_token(
            used.user,
            CallerToken {
                id: used.token_id,
                expires_at: used.expires_at,
                scope: used.scope,
            },
        ))
    }

    /// The session a session token opened, while it lasts, or 401.
    pub async fn session(&self, token: &str) -> Result<FoundSession, AppError> {
        self.session_if_open(token)
            .await?
            .ok_or_else(AppError::unauthenticated)
    }

    /// The session a session token opened, or none when it ended or never was.
    pub async fn session_if_open(&self, token: &str) -> Result<Option<FoundSession>, AppError> {
        let session = self.store().session(&hash_token(token), Utc::now()).await?;
        Ok(session.map(|session| FoundSession {
            caller: Caller::new(session.user),
            csrf_token: session.csrf_token,
        }))
    }
}
