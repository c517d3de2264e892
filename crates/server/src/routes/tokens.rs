//! API tokens for automation: each user manages their own. A token is shown once, when made;
//! the store keeps only its hash.

use super::views::ApiTokenView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::{Subject, record};
use crate::auth::{Caller, hash_token, new_token};
use crate::error::{AppError, Code};
use crate::state::AppState;

/// What every API token starts with, so a leaked one is easy to recognise.
const API_TOKEN_PREFIX: &str = "sgs_";

/// The longest an expiring token may be given, in days.
const MAX_TOKEN_DAYS: u32 = 3650;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NewToken {
    pub(crate) name: String,
    /// Days the token works for (1 to 3650); without it, until revoked.
    #[serde(default)]
    pub(crate) expires_in_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedToken {
    #[serde(flatten)]
    pub(crate) record: ApiTokenView,
    /// The token itself: shown now and never again.
    pub(crate) token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    operation_id = "tokens_create",
    tag = "session",
    responses(
        (status = CREATED, description = "The token is shown this once", body = CreatedToken),
    )
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "give the token a name of 1 to 100 characters",
        ));
    }
    let expires_at = match new.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_TOKEN_DAYS) => {
            Some(chrono::Utc::now() + chrono::Duration::days(i64::from(days)))
        }
        Some(_) => {
            return Err(AppError::invalid(
                "expires_in_days",
                format!("a token lasts 1 to {MAX_TOKEN_DAYS} days, or leave it out for no expiry"),
            ));
        }
    };
    let token = new_token(API_TOKEN_PREFIX);
    let created = state
        .store
        .create_expiring_api_token(caller.user.id, name, &hash_token(&token), expires_at)
        .await?;
    record(
        &state,
        &caller,
        "created",
        Subject {
            kind: "api_token",
            id: created.id.to_string(),
            name,
        },
        None,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            record: created.into(),
            token,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    operation_id = "tokens_list",
    tag = "session",
    responses(
        (status = OK, description = "Done", body = [ApiTokenView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiTokenView>>, AppError> {
    let tokens = state.store.api_tokens(caller.user.id).await?;
    Ok(Json(tokens.into_iter().map(ApiTokenView::from).collect()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    operation_id = "tokens_revoke",
    tag = "session",
    responses(
        (status = NO_CONTENT, description = "Revoked"),
    )
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    if !state.store.delete_api_token(caller.user.id, id).await? {
        return Err(AppError::new(
            Code::NotFound,
            format!("you have no API token {id}"),
        ));
    }
    record(
        &state,
        &caller,
        "removed",
        Subject {
            kind: "api_token",
            id: id.to_string(),
            name: "",
        },
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
