//! The authorisation server: the consent page, the token endpoint (authorization code with
//! PKCE, rotating refresh tokens, device code) and the device flow's pages.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::errors::oauth_error;
use super::guard::with_fault;
use crate::state::SandboxState;
use crate::state::oauth::{IssuedTokens, OAuthError};
use crate::templates::{ConsentPage, DevicePage};

#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizeParams {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    response_type: Option<String>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    /// Set by the consent form's buttons.
    #[serde(default)]
    decision: Option<String>,
}

/// `GET /authorize`: checks the request, then shows the consent page (or approves at once when
/// the sandbox is configured to).
pub(crate) async fn authorize_page(
    State(state): State<Arc<SandboxState>>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    if let Err(problem) = state
        .lock()
        .oauth
        .check_authorize(&params.client_id, &params.redirect_uri)
    {
        return (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<h1>Bad authorisation request</h1><p>{}</p>",
                escape(&problem)
            )),
        )
            .into_response();
    }
    if params.response_type.as_deref() != Some("code") {
        return redirect_with(
            &params.redirect_uri,
            &[
                ("error", "unsupported_response_type"),
                ("state", &params.state),
            ],
        );
    }
    if !params.code_challenge.is_empty() && params.code_challenge_method != "S256" {
        return redirect_with(
            &params.redirect_uri,
            &[
                ("error", "invalid_request"),
                ("error_description", "code_challenge_method must be S256"),
                ("state", &params.state),
            ],
        );
    }
    if state.config().auto_approve {
        return approve(&state, &params);
    }
    let page = ConsentPage {
        client_id: &params.client_id,
        redirect_uri: &params.redirect_uri,
        scope: &params.scope,
        scopes: params.scope.split_whitespace().collect(),
        state: &params.state,
        code_challenge: &params.code_challenge,
        code_challenge_method: &params.code_challenge_method,
    };
    Html(page.render().expect("the consent template renders")).into_response()
}

/// `POST /authorize`: the person's decision on the consent page.
pub(crate) async fn authorize_decision(
    State(state): State<Arc<SandboxState>>,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    if let Err(problem) = state
        .lock()
        .oauth
        .check_authorize(&params.client_id, &params.redirect_uri)
    {
        return (StatusCode::BAD_REQUEST, Html(escape(&problem))).into_response();
    }
    if params.decision.as_deref() == Some("allow") {
        approve(&state, &params)
    } else {
        redirect_with(
            &params.redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The resource owner denied the request.",
                ),
                ("state", &params.state),
            ],
        )
    }
}

fn approve(state: &SandboxState, params: &AuthorizeParams) -> Response {
    let challenge = (!params.code_challenge.is_empty()).then(|| params.code_challenge.clone());
    let code = state.lock().oauth.issue_code(
        &params.client_id,
        &params.redirect_uri,
        &params.scope,
        challenge,
        state.config().authorization_code_lifetime,
        state.now(),
    );
    redirect_with(
        &params.redirect_uri,
        &[("code", &code), ("state", &params.state)],
    )
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return (StatusCode::BAD_REQUEST, "invalid redirect_uri").into_response(),
    };
    url.query_pairs_mut()
        .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()));
    Redirect::to(url.as_str()).into_response()
}

/// `POST /token`. Parameters come from the form body or, as in Constant Contact's own samples,
/// from the query string; the client authenticates with a Basic header or form fields.
pub(crate) async fn token(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(faulty) = with_fault(&state, "token").await {
        return faulty;
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut params: HashMap<String, String> =
        if form_type.starts_with("application/x-www-form-urlencoded") {
            serde_urlencoded::from_bytes(&body).unwrap_or_default()
        } else {
            HashMap::new()
        };
    for (key, value) in query {
        params.entry(key).or_insert(value);
    }
    let basic = basic_credentials(&headers);
    let client_id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| params.get("client_id").cloned());
    let client_secret = basic
        .as_ref()
        .and_then(|(_, secret)| secret.clone())
        .or_else(|| params.get("client_secret").cloned());
    let config = state.config();
    let now = state.now();
    let mut inner = state.lock();
    let client_id = match inner
        .oauth
        .authenticate_client(client_id.as_deref(), client_secret.as_deref())
    {
        Ok(client_id) => client_id,
        Err(error) => return oauth_error(error.error, &error.description),
    };
    let param = |name: &str| params.get(name).map(String::as_str);
    let issued = match param("grant_type") {
        Some("authorization_code") => match param("code") {
            Some(code) => inner.oauth.exchange_code(
                &client_id,
                code,
                param("redirect_uri"),
                param("code_verifier"),
                config.access_token_lifetime,
                now,
            ),
            None => Err(missing("code")),
        },
        Some("refresh_token") => match param("refresh_token") {
            Some(refresh_token) => {
                inner
                    .oauth
                    .refresh(&client_id, refresh_token, config.access_token_lifetime, now)
            }
            None => Err(missing("refresh_token")),
        },
        Some("urn:ietf:params:oauth:grant-type:device_code") => match param("device_code") {
            Some(device_code) => inner.oauth.poll_device(
                &client_id,
                device_code,
                config.device_poll_interval,
                config.access_token_lifetime,
                now,
                tokio::time::Instant::now(),
            ),
            None => Err(missing("device_code")),
        },
        Some(other) => Err(OAuthError {
            error: "unsupported_grant_type",
            description: format!("The grant type {other:?} is not supported."),
        }),
        None => Err(missing("grant_type")),
    };
    drop(inner);
    match issued {
        Ok(tokens) => token_response(&tokens),
        Err(error) => oauth_error(error.error, &error.description),
    }
}

fn missing(name: &str) -> OAuthError {
    OAuthError {
        error: "invalid_request",
        description: format!("The {name} parameter is required."),
    }
}

fn token_response(tokens: &IssuedTokens) -> Response {
    let mut body = json!({
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "access_token": tokens.access_token,
        "scope": tokens.scope,
    });
    if let Some(refresh_token) = &tokens.refresh_token {
        body["refresh_token"] = json!(refresh_token);
    }
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// `client_id:client_secret` from `Authorization: Basic`, each form-url-decoded (RFC 6749
/// §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, Option<String>)> {
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = match decoded.split_once(':') {
        Some((id, secret)) => (id, Some(secret)),
        None => (decoded.as_str(), None),
    };
    let form_decode = |text: &str| -> String {
        url::form_urlencoded::parse(format!("v={text}").as_bytes())
            .next()
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    Some((
        form_decode(id),
        secret.filter(|s| !s.is_empty()).map(form_decode),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeviceAuthorizeParams {
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    scope: String,
}

/// `POST /device/authorize`: starts a device authorisation.
pub(crate) async fn device_authorize(
    State(state): State<Arc<SandboxState>>,
    headers: HeaderMap,
    Form(params): Form<DeviceAuthorizeParams>,
) -> Response {
    if let Some(faulty) = with_fault(&state, "device_authorize").await {
        return faulty;
    }
    let client_id = basic_credentials(&headers)
        .map(|(id, _)| id)
        .or(params.client_id);
    let Some(client_id) = client_id.filter(|id| state.lock().oauth.client(id).is_some()) else {
        return oauth_error("invalid_client", "Unknown client_id.");
    };
    let config = state.config();
    let issued = state.lock().oauth.issue_device_code(
        &client_id,
        &params.scope,
        config.device_code_lifetime,
        state.now(),
    );
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let verification_uri = format!("http://{host}/oauth2/default/v1/device");
    axum::Json(json!({
        "device_code": issued.device_code,
        "user_code": issued.user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": format!("{verification_uri}?user_code={}", issued.user_code),
        "expires_in": issued.expires_in,
        "interval": config.device_poll_interval.as_secs().max(1),
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeviceParams {
    #[serde(default)]
    user_code: String,
    #[serde(default)]
    decision: Option<String>,
}

/// `GET /device`: the page where a person enters or confirms the user code.
pub(crate) async fn device_page(Query(params): Query<DeviceParams>) -> Html<String> {
    let page = DevicePage {
        user_code: &params.user_code,
        message: "",
    };
    Html(page.render().expect("the device template renders"))
}

/// `POST /device`: the person's decision.
pub(crate) async fn device_decision(
    State(state): State<Arc<SandboxState>>,
    Form(params): Form<DeviceParams>,
) -> Response {
    let user_code = params.user_code.trim().to_uppercase();
    let approve = params.decision.as_deref() == Some("allow");
    let decided = state.lock().oauth.decide_device(&user_code, approve);
    let message = match (decided, approve) {
        (false, _) => "That code is unknown, expired or already used.",
        (true, true) => "Device approved. You can return to your device.",
        (true, false) => "Device denied.",
    };
    let page = DevicePage {
        user_code: &user_code,
        message,
    };
    let status = if decided {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    (
        status,
        Html(page.render().expect("the device template renders")),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
