//! The authorisation server's memory: registered clients, authorization codes, access and
//! refresh tokens, device codes.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::config::ClientRegistration;

/// The scope segment exports need on every `/v3` request.
pub const CONTACT_DATA_SCOPE: &str = "contact_data";
/// Without it, no refresh token is issued.
pub const OFFLINE_ACCESS_SCOPE: &str = "offline_access";

/// An OAuth error as RFC 6749 shapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

fn oauth_error(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        error,
        description: description.into(),
    }
}

pub(crate) fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill(&mut buffer[..]);
    URL_SAFE_NO_PAD.encode(buffer)
}

#[derive(Debug)]
struct AuthorizationCode {
    client_id: String,
    redirect_uri: String,
    scope: String,
    code_challenge: Option<String>,
    expires_at: DateTime<Utc>,
    used: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AccessGrant {
    pub client_id: String,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
}

impl AccessGrant {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope
            .split_whitespace()
            .any(|granted| granted == scope)
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RefreshGrant {
    client_id: String,
    scope: String,
    /// Rotating refresh tokens are single use.
    used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceDecision {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

#[derive(Debug)]
struct DeviceCode {
    client_id: String,
    user_code: String,
    scope: String,
    expires_at: DateTime<Utc>,
    last_poll: Option<tokio::time::Instant>,
    decision: DeviceDecision,
}

/// Tokens handed out by a successful grant.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: u64,
    pub scope: String,
}

/// A device authorisation as the device endpoint answers it.
#[derive(Debug, Clone)]
pub struct IssuedDeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub expires_in: u64,
}

#[derive(Debug, Default)]
pub(crate) struct OAuthState {
    clients: HashMap<String, ClientRegistration>,
    codes: HashMap<String, AuthorizationCode>,
    grants: Grants,
    device_codes: HashMap<String, DeviceCode>,
    refreshes: RefreshCounts,
}

/// The access and refresh tokens granted and still known: what an account file keeps, so that
/// connections stay authorised across a restart.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Grants {
    access_tokens: HashMap<String, AccessGrant>,
    refresh_tokens: HashMap<String, RefreshGrant>,
}

/// Refresh-token grants asked for, by what they got.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RefreshCounts {
    /// New tokens issued (one rotation each).
    pub accepted: u64,
    /// Answered `invalid_grant`: unknown, revoked, already used or another client's.
    pub refused: u64,
}

impl OAuthState {
    pub(crate) fn register_client(&mut self, client: ClientRegistration) {
        self.clients.insert(client.client_id.clone(), client);
    }

    pub(crate) fn grants(&self) -> &Grants {
        &self.grants
    }

    /// Replaces the tokens granted with those an account file kept.
    pub(crate) fn restore_grants(&mut self, grants: Grants) {
        self.grants = grants;
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&ClientRegistration> {
        self.clients.get(client_id)
    }

    /// Checks an authorisation request before the consent page is shown.
    pub(crate) fn check_authorize(
        &self,
        client_id: &str,
        redirect_uri: &str,
    ) -> Result<(), String> {
        let client = self
            .client(client_id)
            .ok_or_else(|| format!("Unknown client_id {client_id:?}."))?;
        if !client.redirect_uris.iter().any(|uri| uri == redirect_uri) {
            return Err(format!(
                "The redirect_uri {redirect_uri:?} is not registered for this client."
            ));
        }
        if url::Url::parse(redirect_uri).is_err() {
            return Err(format!(
                "The redirect_uri {redirect_uri:?} is not an absolute URL."
            ));
        }
        Ok(())
    }

    pub(crate) fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
        code_challenge: Option<String>,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> String {
        let code = random_token(24);
        self.codes.insert(
            code.clone(),
            AuthorizationCode {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                scope: scope.to_owned(),
                code_challenge,
                expires_at: now + lifetime,
                used: false,
            },
        );
        code
    }

    /// Authenticates the client of a token request: a confidential client by its secret (Basic
    /// header or form), a public client by its id alone.
    pub(crate) fn authenticate_client(
        &self,
        client_id: Option<&str>,
        client_secret: Option<&str>,
    ) -> Result<String, OAuthError> {
        let client_id = client_id.ok_or_else(|| {
            oauth_error(
                "invalid_client",
                "Client authentication failed: no client_id.",
            )
        })?;
        let client = self.client(client_id).ok_or_else(|| {
            oauth_error(
                "invalid_client",
                "Client authentication failed: unknown client.",
            )
        })?;
        match (&client.client_secret, client_secret) {
            (Some(expected), Some(given)) if expected == given => Ok(client_id.to_owned()),
            (Some(_), _) => Err(oauth_error(
                "invalid_client",
                "Client authentication failed.",
            )),
            (None, Some(_)) => Err(oauth_error(
                "invalid_client",
                "This public client has no secret.",
            )),
            (None, None) => Ok(client_id.to_owned()),
        }
    }

    pub(crate) fn exchange_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        access_lifetime: Duration,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let public_client = self
            .client(client_id)
            .is_some_and(|client| client.client_secret.is_none());
        let grant = self
            .codes
            .get_mut(code)
            .ok_or_else(|| oauth_error("invalid_grant", "The authorization code is invalid."))?;
        if grant.used {
            return Err(oauth_error(
                "invalid_grant",
                "The authorization code was already used.",
            ));
        }
        if grant.expires_at <= now {
            return Err(oauth_error(
                "invalid_grant",
                "The authorization code has expired.",
            ));
        }
        if grant.client_id != client_id {
            return Err(oauth_error(
                "invalid_grant",
                "The authorization code was issued to another client.",
            ));
        }
        if redirect_uri != Some(grant.redirect_uri.as_str()) {
            return Err(oauth_error(
                "invalid_grant",
                "The redirect_uri does not match the authorization request.",
            ));
        }
        match (&grant.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier)) if pkce_s256(verifier) == *challenge => {}
            (Some(_), Some(_)) => {
                return Err(oauth_error("invalid_grant", "PKCE verification failed."));
            }
            (Some(_), None) => {
                return Err(oauth_error(
                    "invalid_grant",
                    "The code_verifier is missing.",
                ));
            }
            (None, _) if public_client => {
                return Err(oauth_error(
                    "invalid_request",
                    "Public clients must use PKCE.",
                ));
            }
            (None, _) => {}
        }
        grant.used = true;
        let (client_id, scope) = (grant.client_id.clone(), grant.scope.clone());
        Ok(self.issue_tokens(&client_id, &scope, access_lifetime, now))
    }

    pub(crate) fn refreshes(&self) -> RefreshCounts {
        self.refreshes
    }

    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        access_lifetime: Duration,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let refreshed = self.rotate(client_id, refresh_token, access_lifetime, now);
        match &refreshed {
            Ok(_) => self.refreshes.accepted += 1,
            Err(_) => self.refreshes.refused += 1,
        }
        refreshed
    }

    fn rotate(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        access_lifetime: Duration,
        now: DateTime<Utc>,
    ) -> Result<IssuedTokens, OAuthError> {
        let grant = self
            .grants
            .refresh_tokens
            .get_mut(refresh_token)
            .ok_or_else(|| {
                oauth_error("invalid_grant", "The refresh token is invalid or expired.")
            })?;
        if grant.client_id != client_id {
            return Err(oauth_error(
                "invalid_grant",
                "The refresh token was issued to another client.",
            ));
        }
        if grant.used {
            return Err(oauth_error(
                "invalid_grant",
                "The refresh token is invalid or expired.",
            ));
        }
        grant.used = true;
        let scope = grant.scope.clone();
        Ok(self.issue_tokens(client_id, &scope, access_lifetime, now))
    }

    pub(crate) fn issue_device_code(
        &mut self,
        client_id: &str,
        scope: &str,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> IssuedDeviceCode {
        let device_code = random_token(32);
        let user_code = user_code();
        self.device_codes.insert(
            device_code.clone(),
            DeviceCode {
                client_id: client_id.to_owned(),
                user_code: user_code.clone(),
                scope: scope.to_owned(),
                expires_at: now + lifetime,
                last_poll: None,
                decision: DeviceDecision::Pending,
            },
        );
        IssuedDeviceCode {
            device_code,
            user_code,
            expires_in: lifetime.as_secs(),
        }
    }

    pub(crate) fn decide_device(&mut self, user_code: &str, approve: bool) -> bool {
        let Some(device) = self.device_codes.values_mut().find(|device| {
            device.user_code == user_code && device.decision == DeviceDecision::Pending
        }) else {
            return false;
        };
        device.decision = if approve {
            DeviceDecision::Approved
        } else {
            DeviceDecision::Denied
        };
        true
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn poll_device(
        &mut self,
        client_id: &str,
        device_code: &str,
        poll_interval: Duration,
        access_lifetime: Duration,
        now: DateTime<Utc>,
        monotonic_now: tokio::time::Instant,
    ) -> Result<IssuedTokens, OAuthError> {
        let device = self
            .device_codes
            .get_mut(device_code)
            .filter(|device| device.client_id == client_id)
            .ok_or_else(|| oauth_error("invalid_grant", "The device code is invalid."))?;
        if device.expires_at <= now {
            return Err(oauth_error("expired_token", "The device code has expired."));
        }
        let too_soon = device
            .last_poll
            .is_some_and(|last| monotonic_now.duration_since(last) < poll_interval);
        device.last_poll = Some(monotonic_now);
        match device.decision {
            DeviceDecision::Denied => {
                Err(oauth_error("access_denied", "The user denied the request."))
            }
            DeviceDecision::Redeemed => Err(oauth_error(
                "invalid_grant",
                "The device code was already used.",
            )),
            DeviceDecision::Pending if too_soon => {
                Err(oauth_error("slow_down", "Polling too fast."))
            }
            DeviceDecision::Pending => Err(oauth_error(
                "authorization_pending",
                "The user has not yet approved the request.",
            )),
            DeviceDecision::Approved => {
                device.decision = DeviceDecision::Redeemed;
                let scope = device.scope.clone();
                Ok(self.issue_tokens(client_id, &scope, access_lifetime, now))
            }
        }
    }

    /// The grant behind a bearer token, if it is known and not expired.
    pub(crate) fn access_grant(
        &self,
        access_token: &str,
        now: DateTime<Utc>,
    ) -> Option<&AccessGrant> {
        self.grants
            .access_tokens
            .get(access_token)
            .filter(|grant| grant.expires_at > now)
    }

    pub(crate) fn expire_access_tokens(&mut self) {
        let past = DateTime::<Utc>::MIN_UTC;
        for grant in self.grants.access_tokens.values_mut() {
            grant.expires_at = past;
        }
    }

    pub(crate) fn revoke_all(&mut self) {
        self.grants.access_tokens.clear();
        self.grants.refresh_tokens.clear();
    }

    fn issue_tokens(
        &mut self,
        client_id: &str,
        scope: &str,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> IssuedTokens {
        let access_token = format!("sbx-at-{}", random_token(32));
        self.grants.access_tokens.insert(
            access_token.clone(),
            AccessGrant {
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
                expires_at: now + lifetime,
            },
        );
        let offline = scope
            .split_whitespace()
            .any(|granted| granted == OFFLINE_ACCESS_SCOPE);
        let refresh_token = offline.then(|| {
            let token = format!("sbx-rt-{}", random_token(24));
            self.grants.refresh_tokens.insert(
                token.clone(),
                RefreshGrant {
                    client_id: client_id.to_owned(),
                    scope: scope.to_owned(),
                    used: false,
                },
            );
            token
        });
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: lifetime.as_secs(),
            scope: scope.to_owned(),
        }
    }
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636's S256 method.
pub(crate) fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn user_code() -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut rng = rand::thread_rng();
    let mut pick = || LETTERS[rng.gen_range(0..LETTERS.len())] as char;
    let first: String = (0..4).map(|_| pick()).collect();
    let second: String = (0..4).map(|_| pick()).collect();
    format!("{first}-{second}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
