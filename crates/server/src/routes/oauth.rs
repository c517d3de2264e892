//! "Authenticate with Constant Contact": the authorization-code flow with `state` and PKCE.
//! An admin starts it for a connection; the browser goes to Constant Contact's consent page and
//! comes back to `/oauth/callback`, where the code is exchanged and the tokens sealed into the
//! store. A state is used once and lives ten minutes.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use constant_contact::config::DEFAULT_SCOPES;
use secrecy::{ExposeSecret, SecretString};
use segsync_store::{OAuthFlow, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::connections::audit;
use crate::auth::{Caller, hash_token};
use crate::error::{AppError, Code};
use crate::state::AppState;
use segsync_connections::seal_tokens;

/// How long a started flow waits for its redirect.
const FLOW_LIFETIME_MINUTES: i64 = 10;

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct AuthorizationStarted {
    /// Send the browser here.
    pub(crate) authorization_url: String,
    /// Where Constant Contact sends the browser back: it must be registered as a redirect URI
    /// of the API key, or Constant Contact refuses the request.
    pub(crate) redirect_uri: String,
}

fn verifier_context(state_hash: &str) -> String {
    format!("oauth-verifier:{state_hash}")
}

#[utoipa::path(
    post,
    path = "/api/v1/connections/{id}/authorize",
    operation_id = "oauth_start",
    tag = "connections",
    responses(
        (status = OK, description = "Done", body = AuthorizationStarted),
    )
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<AuthorizationStarted>, AppError> {
    caller.require(Role::Admin, "authenticate connections")?;
    let connection = state.store.connection(id).await?;
    let oauth = state.runs.clients().oauth();
    let request = oauth
        .authorization_url(DEFAULT_SCOPES)
        .map_err(AppError::internal)?;
    let state_hash = hash_token(request.state.expose_secret());
    let verifier_sealed = state.sealer().seal(
        request.pkce_verifier.expose_secret().as_bytes(),
        &verifier_context(&state_hash),
    );
    state
        .store
        .create_oauth_flow(
            &state_hash,
            &OAuthFlow {
                connection_id: connection.id,
                user_id: caller.user.id,
                verifier_sealed,
                created_at: Utc::now(),
            },
        )
        .await?;
    Ok(Json(AuthorizationStarted {
        authorization_url: request.url.to_string(),
        redirect_uri: state.config.oauth_callback_url().to_string(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Redirect {
    pub(crate) state: Option<String>,
    pub(crate) code: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

/// Where the browser lands, and where it is sent on to: the connection's page, with what
/// happened.
#[utoipa::path(
    get,
    path = "/oauth/callback",
    operation_id = "oauth_callback",
    tag = "connections",
    params(Redirect),
    responses(
        (status = SEE_OTHER, description = "Back to the console: the connection, or the connections list with `oauth_error`"),
    )
)]
pub(crate) async fn callback(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Query(redirect): Query<Redirect>,
) -> Response {
    match finish(&state, caller, redirect).await {
        Ok(connection_id) => see_other(
            &state,
            &format!("connections/{connection_id}?authenticated=1"),
        ),
        Err(error) => {
            let message: String =
                url::form_urlencoded::byte_serialize(error.message.as_bytes()).collect();
            see_other(&state, &format!("connections?oauth_error={message}"))
        }
    }
}

fn see_other(state: &AppState, path: &str) -> Response {
    let location = state
        .config
        .public_url
        .join(path)
        .map(String::from)
        .unwrap_or_else(|_| "/".to_owned());
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// Completes the flow, only for the admin who started it: a redirect followed in anyone
/// else's browser (a link an attacker sent, with an authorisation of their own account) is
/// refused, and the flow is spent.
async fn finish(
    state: &AppState,
    caller: Result<Caller, AppError>,
    redirect: Redirect,
) -> Result<Uuid, AppError> {
    let refused = |message: String| AppError::new(Code::Oauth, message);
    let returned_state = redirect
        .state
        .ok_or_else(|| refused("the redirect carries no state".into()))?;
    let state_hash = hash_token(&returned_state);
    let flow = state
        .store
        .take_oauth_flow(&state_hash)
        .await?
        .ok_or_else(|| {
            refused(
                "this authorisation was not started here, or was already used; start again".into(),
            )
        })?;
    if !caller.is_ok_and(|caller| caller.user.id == flow.user_id) {
        return Err(refused(
            "this authorisation must be finished in the session of the admin who started it; sign in as that admin and start again".into(),
        ));
    }
    if Utc::now() - flow.created_at > Duration::minutes(FLOW_LIFETIME_MINUTES) {
        return Err(refused(format!(
            "the authorisation took longer than {FLOW_LIFETIME_MINUTES} minutes; start again"
        )));
    }
    if let Some(error) = redirect.error {
        let description = redirect
            .error_description
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(refused(format!(
            "Constant Contact answered {error}{description}"
        )));
    }
    let code = redirect
        .code
        .ok_or_else(|| refused("the redirect carries no code".into()))?;
    let verifier = state
        .sealer()
        .open(&flow.verifier_sealed, &verifier_context(&state_hash))
        .map_err(AppError::internal)?;
    let verifier = SecretString::from(
        String::from_utf8(verifier).map_err(|_| refused("a corrupt verifier".into()))?,
    );
    let oauth = state.runs.clients().oauth();
    let tokens = oauth
        .exchange_code(&code, &verifier)
        .await
        .map_err(|error| refused(format!("exchanging the code: {error}")))?;
    let connection = state.store.connection(flow.connection_id).await?;
    state
        .store
        .set_connection_tokens(
            connection.id,
            &seal_tokens(state.sealer(), connection.id, &tokens),
        )
        .await?;
    let user = state.store.user(flow.user_id).await?;
    let caller = Caller::new(user, None);
    audit(state, &caller, "authenticated", &connection, None).await?;
    Ok(connection.id)
}
