//! The token endpoint and bearer checks as a raw client meets them.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

async fn token(
    raw: &Raw,
    form: &[(&str, &str)],
    authorization: Option<String>,
) -> (u16, serde_json::Value) {
    let mut request = raw
        .http
        .post(raw.url("/oauth2/default/v1/token"))
        .form(form);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    read(request.send().await.unwrap()).await
}

#[tokio::test]
async fn clients_authenticate_by_basic_header_or_form_and_a_wrong_secret_is_invalid_client() {
    let raw = spawn(config(), "contact_data offline_access").await;
    let (status, body) = token(
        &raw,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &raw.refresh_token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let rotated = body["refresh_token"].as_str().unwrap().to_owned();

    let (status, body) = token(
        &raw,
        &[("grant_type", "refresh_token"), ("refresh_token", &rotated)],
        Some(basic(CLIENT_ID, "wrong")),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");

    // The spent refresh token is dead.
    let (status, body) = token(
        &raw,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &raw.refresh_token),
        ],
        Some(basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn authorization_codes_expire_after_their_lifetime() {
    let config = cc_sandbox::SandboxConfig {
        authorization_code_lifetime: Duration::from_millis(200),
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    let code = authorization_code(&raw.sandbox, &raw.http, "contact_data", None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = token(
        &raw,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ],
        Some(basic(CLIENT_ID, CLIENT_SECRET)),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn access_tokens_expire_and_answer_the_documented_401() {
    let config = cc_sandbox::SandboxConfig {
        access_token_lifetime: Duration::from_secs(1),
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    assert_eq!(raw.get("/v3/contact_lists").await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = raw.get("/v3/contact_lists").await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({ "error_key": "unauthorized", "error_message": "Unauthorized" })
    );
    let unauthenticated = read(
        raw.http
            .get(raw.url("/v3/contact_lists"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(unauthenticated.0, 401);
}

#[tokio::test]
async fn a_token_without_contact_data_is_forbidden() {
    let raw = spawn(config(), "account_read").await;
    let (status, body) = raw.get("/v3/contact_lists").await;
    assert_eq!(status, 403);
    assert!(
        body[0]["error_message"]
            .as_str()
            .unwrap()
            .contains("contact_data")
    );
}

#[tokio::test]
async fn no_refresh_token_without_offline_access() {
    let raw = spawn(config(), "contact_data").await;
    assert!(raw.refresh_token.is_empty());
}

#[tokio::test]
async fn public_clients_must_use_pkce() {
    let config = cc_sandbox::SandboxConfig::default().with_client("public", None, &[REDIRECT_URI]);
    let config = cc_sandbox::SandboxConfig {
        auto_approve: true,
        ..config
    };
    let sandbox = cc_sandbox::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let http = http();
    let authorize = |challenge: Option<&'static str>| {
        let mut query = vec![
            ("client_id", "public"),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", "contact_data"),
            ("state", "s"),
        ];
        if let Some(challenge) = challenge {
            query.extend([
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ]);
        }
        http.get(format!(
            "{}/oauth2/default/v1/authorize",
            sandbox.base_url()
        ))
        .query(&query)
        .send()
    };
    let code_of = |response: reqwest::Response| {
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        location
            .query_pairs()
            .find(|(k, _)| k == "code")
            .unwrap()
            .1
            .into_owned()
    };
    let token_url = format!("{}/oauth2/default/v1/token", sandbox.base_url());

    let plain = code_of(authorize(None).await.unwrap());
    let (status, body) = read(
        http.post(&token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &plain),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", "public"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    // RFC 7636 appendix B's verifier and challenge.
    let pkce = code_of(
        authorize(Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))
            .await
            .unwrap(),
    );
    let (status, body) = read(
        http.post(&token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &pkce),
                ("redirect_uri", REDIRECT_URI),
                ("client_id", "public"),
                (
                    "code_verifier",
                    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                ),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// As Constant Contact does, the authorisation server answers a redirect URI that is not
/// registered for the API key with an error page of its own and never redirects to it; a client
/// with none registered can authorise no one.
#[tokio::test]
async fn only_a_registered_redirect_uri_is_sent_the_browser_back() {
    let config = cc_sandbox::SandboxConfig {
        auto_approve: true,
        ..cc_sandbox::SandboxConfig::default()
    }
    .with_client("registered", Some("s"), &[REDIRECT_URI])
    .with_client("unregistered", Some("s"), &[]);
    let sandbox = cc_sandbox::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let authorize = |client_id: &'static str, redirect_uri: &'static str| {
        http()
            .get(format!(
                "{}/oauth2/default/v1/authorize",
                sandbox.base_url()
            ))
            .query(&[
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", "contact_data"),
                ("state", "s"),
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "S256"),
            ])
            .send()
    };
    let registered = authorize("registered", REDIRECT_URI).await.unwrap();
    assert_eq!(registered.status(), 303);
    for (client_id, redirect_uri) in [
        ("registered", "http://127.0.0.1:2/elsewhere"),
        ("registered", "http://127.0.0.1:1/done/"),
        ("unregistered", REDIRECT_URI),
    ] {
        let refused = authorize(client_id, redirect_uri).await.unwrap();
        assert_eq!(refused.status(), 400, "{client_id} {redirect_uri}");
        assert!(
            refused.headers().get("location").is_none(),
            "never redirected"
        );
        let page = refused.text().await.unwrap();
        assert!(page.contains("not registered"), "{page}");
    }
}
