//! The OAuth dance: code with PKCE through the consent page, refresh rotation, reuse of a spent
//! refresh token, the device flow, and refreshes that never run twice at once.

use std::sync::Arc;
use std::time::Duration;

use cc_sandbox::{Fault, SandboxConfig};
use constant_contact::tokens::TokenStore;
use constant_contact::{Error, TokenManager};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn authorization_code_with_pkce_through_the_consent_page() {
    let client_id = unique_client_id();
    let sandbox = spawn_sandbox(fast_sandbox(&client_id)).await;
    let config = api_config(&sandbox, &client_id);
    let oauth = oauth_client(&config);
    let request = oauth.authorization_url(SCOPES).unwrap();

    // The consent page a person sees.
    let http = no_redirects();
    let page = http.get(request.url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&client_id) && html.contains(r#"id="allow""#),
        "{html}"
    );

    // The person clicks Allow: the form posts the request's parameters back.
    let mut form: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    form.push(("decision".into(), "allow".into()));
    let authorize_url = format!("{}/oauth2/default/v1/authorize", sandbox.base_url());
    let redirect = http.post(&authorize_url).form(&form).send().await.unwrap();
    let query = redirect_query(&redirect);
    assert!(request.state_matches(&query["state"]));

    let tokens = oauth
        .exchange_code(&query["code"], &request.pkce_verifier)
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.scope.as_deref(), Some("contact_data offline_access"));
    assert!(tokens.expires_at > chrono::Utc::now() + chrono::Duration::hours(23));

    // The code is single use.
    let again = oauth
        .exchange_code(&query["code"], &request.pkce_verifier)
        .await
        .unwrap_err();
    assert!(
        matches!(again, Error::ReauthenticationRequired { .. }),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_wrong_pkce_verifier_or_a_denial_gets_no_tokens() {
    let client_id = unique_client_id();
    let sandbox = spawn_sandbox(SandboxConfig {
        auto_approve: true,
        ..fast_sandbox(&client_id)
    })
    .await;
    let config = api_config(&sandbox, &client_id);
    let oauth = oauth_client(&config);
    let request = oauth.authorization_url(SCOPES).unwrap();
    let query = follow_authorization(&request).await;
    let wrong = SecretString::from("a-verifier-that-does-not-match-the-challenge-at-all-000000");
    let error = oauth
        .exchange_code(&query["code"], &wrong)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("PKCE"), "{error}");

    // Deny on the consent page: back to the redirect URI with access_denied and the state.
    let denied = no_redirects()
        .post(format!(
            "{}/oauth2/default/v1/authorize",
            sandbox.base_url()
        ))
        .form(&[
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "contact_data"),
            ("state", "s-123"),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    let query = redirect_query(&denied);
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "s-123");
}

#[tokio::test]
async fn refresh_rotates_and_a_spent_refresh_token_means_reauthentication() {
    let app = spawn_app().await;
    let oauth = oauth_client(&app.config);
    let first = authorize(&app.config).await;
    let first_refresh = first.refresh_token.clone().unwrap();

    let second = oauth.refresh(&first_refresh).await.unwrap();
    let second_refresh = second.refresh_token.clone().unwrap();
    assert_ne!(
        second_refresh.expose_secret(),
        first_refresh.expose_secret()
    );
    assert_ne!(
        second.access_token.expose_secret(),
        first.access_token.expose_secret()
    );

    let reused = oauth.refresh(&first_refresh).await.unwrap_err();
    assert!(
        matches!(reused, Error::ReauthenticationRequired { .. }),
        "{reused:?}"
    );
    // The rotated one still works, once.
    oauth.refresh(&second_refresh).await.unwrap();
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_new_refresh_token_saved_first() {
    let app = spawn_app().await;
    let list_id = app.list_id("Newsletter");
    app.client.get_list(list_id).await.unwrap();
    app.sandbox.state().expire_access_tokens();

    // Several callers at once: one refresh, the others wait for it.
    let client = Arc::new(app.client);
    let calls: Vec<_> = (0..5)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_list(list_id).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let refreshes = app
        .sandbox
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == "token")
        .count();
    // One code exchange when the app was set up, one refresh now.
    assert_eq!(refreshes, 2);
    assert_eq!(app.store.saved().len(), 1);
}

#[tokio::test]
async fn a_revoked_grant_surfaces_as_reauthentication_required() {
    let app = spawn_app().await;
    app.sandbox.state().revoke_tokens();
    let error = app
        .client
        .get_list(app.list_id("Newsletter"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ReauthenticationRequired { .. }),
        "{error:?}"
    );
    assert!(
        app.store.saved().is_empty(),
        "nothing is saved when the refresh fails"
    );
}

/// A token store that fails, as a full disk would.
struct FailingStore;

#[async_trait::async_trait]
impl TokenStore for FailingStore {
    async fn save(
        &self,
        _: &constant_contact::TokenSet,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err("disk full".into())
    }
}

#[tokio::test]
async fn a_new_access_token_is_not_used_when_its_refresh_token_cannot_be_saved() {
    let app = spawn_app().await;
    let tokens = authorize(&app.config).await;
    let before = tokens.access_token.expose_secret().to_owned();
    let manager = TokenManager::new(oauth_client(&app.config), Arc::new(FailingStore), tokens);
    let error = manager.force_refresh().await.unwrap_err();
    assert!(matches!(error, Error::TokenStore(_)), "{error:?}");
    // The manager still holds the old token: the unsaved one was never handed out.
    assert_eq!(
        manager.access_token().await.unwrap().expose_secret(),
        before
    );
}

#[tokio::test]
async fn device_flow_with_pending_and_slow_down() {
    let client_id = unique_client_id();
    let sandbox = spawn_sandbox(fast_sandbox(&client_id)).await;
    let config = api_config(&sandbox, &client_id);
    let oauth = oauth_client(&config);
    let device = oauth.start_device_authorization(SCOPES).await.unwrap();
    assert!(
        device
            .verification_uri
            .ends_with("/oauth2/default/v1/device")
    );
    assert!(
        device
            .verification_uri_complete
            .as_deref()
            .unwrap()
            .contains(&device.user_code)
    );

    // The first poll is told to slow down; polls stay pending until the person approves.
    sandbox.state().add_fault(Fault::respond(
        "token",
        1,
        400,
        json!({ "error": "slow_down", "error_description": "Polling too fast." }),
    ));
    let state = sandbox.state().clone();
    let user_code = device.user_code.clone();
    let approver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(state.approve_device(&user_code));
    });
    let started = std::time::Instant::now();
    let tokens = oauth.wait_for_device_approval(&device).await.unwrap();
    approver.await.unwrap();
    assert!(tokens.refresh_token.is_some());
    // slow_down added five seconds to the one-second interval.
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let polls: Vec<_> = sandbox
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.endpoint == "token")
        .collect();
    assert!(
        polls.iter().any(|poll| poll.status == 400),
        "pending polls answer 400"
    );
    assert_eq!(polls.last().unwrap().status, 200);
}
