//! Getting tokens for a connection: through a sandbox's automatic consent, or the device flow.

use anyhow::{Context, bail};
use constant_contact::config::DEFAULT_SCOPES;
use constant_contact::{ApiConfig, OAuthClient, TokenSet};
use std::io::Write;

/// The authorization-code flow with PKCE against a sandbox that approves without a person: an
/// HTTP client plays the browser and follows the authorization URL to the redirect.
pub(crate) async fn authorize_with_sandbox(config: &ApiConfig) -> anyhow::Result<TokenSet> {
    let http = constant_contact::api::http_client(config)?;
    let oauth = OAuthClient::new(config.clone(), http);
    let request = oauth.authorization_url(DEFAULT_SCOPES)?;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = browser
        .get(request.url.clone())
        .send()
        .await
        .context("opening the authorization page")?;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .context("the sandbox did not redirect back; is it approving automatically?")?;
    let redirect = url::Url::parse(location)?;
    let query: std::collections::HashMap<_, _> = redirect.query_pairs().into_owned().collect();
    if !query
        .get("state")
        .is_some_and(|state| request.state_matches(state))
    {
        bail!("the redirect's state does not match the request's");
    }
    let code = query.get("code").context("the redirect carries no code")?;
    Ok(oauth.exchange_code(code, &request.pkce_verifier).await?)
}

/// The device flow: shows the code and where to enter it, then waits for the approval.
pub(crate) async fn authorize_with_device(config: &ApiConfig) -> anyhow::Result<TokenSet> {
    let http = constant_contact::api::http_client(config)?;
    let oauth = OAuthClient::new(config.clone(), http);
    let device = oauth.start_device_authorization(DEFAULT_SCOPES).await?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "To let segsync use your Constant Contact account, open"
    )?;
    writeln!(
        err,
        "  {}",
        device
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&device.verification_uri)
    )?;
    writeln!(err, "and confirm the code {}. Waiting…", device.user_code)?;
    drop(err);
    Ok(oauth.wait_for_device_approval(&device).await?)
}
