//! OAuth 2.0 with Constant Contact's authorisation server: the authorization-code flow with
//! `state` and PKCE (S256), refresh with rotating refresh tokens, and the device flow.
//!
//! The protocol work is the `oauth2` crate's; this module binds it to our HTTP client and turns
//! its outcomes into [`TokenSet`]s and [`Error`]s. An `invalid_grant` always becomes
//! [`Error::ReauthenticationRequired`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::Utc;
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardDeviceAuthorizationResponse, StandardErrorResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::config::ApiConfig;
use crate::error::{Error, Result};
use crate::tokens::TokenSet;

/// Used when the token response omits `expires_in`: Constant Contact's tokens live 24 hours.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(86_400);

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// What the browser is sent to, and what must be kept until it comes back.
#[derive(Debug)]
pub struct AuthorizationRequest {
    pub url: Url,
    /// Compare with the `state` of the redirect before using its code.
    pub state: SecretString,
    /// Send with the code when exchanging it.
    pub pkce_verifier: SecretString,
}

impl AuthorizationRequest {
    /// Whether the `state` the redirect carried is the one this request sent.
    pub fn state_matches(&self, returned_state: &str) -> bool {
        constant_time_eq(
            self.state.expose_secret().as_bytes(),
            returned_state.as_bytes(),
        )
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A pending device authorisation: show `user_code` and `verification_uri` to the person.
#[derive(Debug)]
pub struct DeviceAuthorization {
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    details: StandardDeviceAuthorizationResponse,
}

#[derive(Debug, Clone)]
pub struct OAuthClient {
    config: ApiConfig,
    http: OAuthHttp,
}

impl OAuthClient {
    pub fn new(config: ApiConfig, http: reqwest::Client) -> Self {
        Self {
            config,
            http: OAuthHttp(http),
        }
    }

    /// The URL that starts the authorization-code flow, with a fresh `state` and PKCE pair.
    pub fn authorization_url(&self, scopes: &[&str]) -> Result<AuthorizationRequest> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client()?
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url,
            state: SecretString::from(state.into_secret()),
            pkce_verifier: SecretString::from(verifier.into_secret()),
        })
    }

    /// Exchanges the code of the redirect for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
    ) -> Result<TokenSet> {
        let response = self
            .client()?
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(
                pkce_verifier.expose_secret().to_owned(),
            ))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(token_set(&response, None))
    }

    /// Uses a refresh token once. With rotating refresh tokens the answer carries a new one and
    /// the old one is dead from now on; with long-lived ones the same value may come back or be
    /// omitted, in which case the old one is kept.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet> {
        let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .client()?
            .exchange_refresh_token(&refresh_token)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(token_set(&response, Some(refresh_token.secret())))
    }

    /// Starts the device flow.
    pub async fn start_device_authorization(&self, scopes: &[&str]) -> Result<DeviceAuthorization> {
        let details: StandardDeviceAuthorizationResponse = self
            .client()?
            .exchange_device_code()
            .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(DeviceAuthorization {
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            verification_uri_complete: details
                .verification_uri_complete()
                .map(|uri| uri.secret().clone()),
            expires_in: details.expires_in(),
            details,
        })
    }

    /// Polls the token endpoint at the server's interval until the person approves, declines or
    /// the device code expires. `authorization_pending` keeps polling; `slow_down` adds five
    /// seconds to the interval, as RFC 8628 asks.
    pub async fn wait_for_device_approval(&self, device: &DeviceAuthorization) -> Result<TokenSet> {
        let response = self
            .client()?
            .exchange_device_access_token(&device.details)
            .request_async(&self.http, tokio::time::sleep, None)
            .await
            .map_err(|error| match error {
                RequestTokenError::ServerResponse(response) => {
                    Error::DeviceAuthorization(response.error().to_string())
                }
                other => token_error(other),
            })?;
        Ok(token_set(&response, None))
    }

    fn client(&self) -> Result<ConfiguredClient> {
        let endpoints = &self.config.endpoints;
        let invalid = |what: &str, error: url::ParseError| {
            Error::InvalidRequest(format!("the {what} URL is invalid: {error}"))
        };
        let mut client = BasicClient::new(ClientId::new(self.config.client_id.clone()))
            .set_auth_uri(
                AuthUrl::new(endpoints.auth("authorize")).map_err(|e| invalid("authorize", e))?,
            )
            .set_token_uri(TokenUrl::new(endpoints.auth("token")).map_err(|e| invalid("token", e))?)
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(endpoints.auth("device/authorize"))
                    .map_err(|e| invalid("device authorization", e))?,
            );
        if let Some(secret) = &self.config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        if let Some(redirect_uri) = &self.config.redirect_uri {
            client = client.set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()));
        }
        Ok(client)
    }
}

fn token_set(response: &BasicTokenResponse, previous_refresh_token: Option<&String>) -> TokenSet {
    let lifetime = response.expires_in().unwrap_or(DEFAULT_TOKEN_LIFETIME);
    let refresh_token = response
        .refresh_token()
        .map(|token| token.secret().clone())
        .or_else(|| previous_refresh_token.cloned());
    let now = Utc::now();
    TokenSet {
        access_token: SecretString::from(response.access_token().secret().clone()),
        refresh_token: refresh_token.map(SecretString::from),
        expires_at: now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::days(1)),
        obtained_at: Some(now),
        scope: response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|scope| scope.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    }
}

fn token_error<T>(error: RequestTokenError<OAuthTransportError, StandardErrorResponse<T>>) -> Error
where
    T: oauth2::ErrorResponseType + std::fmt::Display + 'static,
    StandardErrorResponse<T>: oauth2::ErrorResponse,
{
    match error {
        RequestTokenError::ServerResponse(response) => {
            let error = response.error().to_string();
            let description = response.error_description().cloned();
            if error == BasicErrorResponseType::InvalidGrant.to_string() {
                Error::ReauthenticationRequired {
                    description: description.unwrap_or_else(|| "invalid_grant".to_owned()),
                }
            } else {
                Error::OAuth { error, description }
            }
        }
        RequestTokenError::Request(transport) => Error::Transport(transport.0),
        RequestTokenError::Parse(error, body) => Error::UnexpectedResponse {
            endpoint: "token".to_owned(),
            detail: format!(
                "{error}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ),
        },
        RequestTokenError::Other(detail) => Error::UnexpectedResponse {
            endpoint: "token".to_owned(),
            detail,
        },
    }
}

/// Carries the `oauth2` crate's requests over our own `reqwest` client.
#[derive(Debug, Clone)]
struct OAuthHttp(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct OAuthTransportError(String);

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = OAuthTransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let transport = |error: reqwest::Error| OAuthTransportError(error.to_string());
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(transport)?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(transport)?;
            builder
                .body(body.to_vec())
                .map_err(|error| OAuthTransportError(error.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Endpoints;

    #[test]
    fn authorization_url_carries_state_and_an_s256_challenge() {
        let config = ApiConfig::new("client-123")
            .with_endpoints(Endpoints::under(&Url::parse("http://127.0.0.1:1").unwrap()))
            .with_redirect_uri(Url::parse("http://localhost/callback").unwrap());
        let http = crate::api::http_client(&config).unwrap();
        let oauth = OAuthClient::new(config, http);
        let request = oauth
            .authorization_url(&["contact_data", "offline_access"])
            .unwrap();
        let query: std::collections::HashMap<_, _> =
            request.url.query_pairs().into_owned().collect();
        assert_eq!(request.url.path(), "/oauth2/default/v1/authorize");
        assert_eq!(query["client_id"], "client-123");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["scope"], "contact_data offline_access");
        assert_eq!(query["code_challenge_method"], "S256");
        assert_eq!(query["state"], request.state.expose_secret());
        assert_eq!(query["redirect_uri"], "http://localhost/callback");
        assert!(request.state_matches(&query["state"]));
        assert!(!request.state_matches("forged"));
        // The verifier never travels in the URL; only its hash does.
        assert!(
            !request
                .url
                .as_str()
                .contains(request.pkce_verifier.expose_secret())
        );
    }
}
