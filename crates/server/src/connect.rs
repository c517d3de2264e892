//! A Constant Contact client for a saved connection, and what a client's failure means for the
//! connection's health.

use constant_contact::ConstantContact;
use segsync_store::{Connection, Health};

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::StatusCode;

/// A client acting for `connection`, or why there cannot be one.
pub(crate) fn client_for(
    state: &AppState,
    connection: &Connection,
) -> Result<ConstantContact, ApiError> {
    let unusable =
        |message: String| ApiError::new(StatusCode::CONFLICT, "connection_unusable", message);
    match connection.health {
        Health::Healthy => {}
        Health::NotAuthenticated => {
            return Err(unusable(format!(
                "the connection {:?} has not been authenticated with Constant Contact yet",
                connection.name
            )));
        }
        Health::NeedsReauthentication => {
            return Err(unusable(format!(
                "the connection {:?} needs an admin to authenticate it with Constant Contact again ({})",
                connection.name,
                connection
                    .health_reason
                    .as_deref()
                    .unwrap_or("its refresh token was refused")
            )));
        }
    }
    let sealed = connection.tokens_sealed.as_deref().ok_or_else(|| {
        unusable(format!(
            "the connection {:?} holds no tokens",
            connection.name
        ))
    })?;
    let tokens = state
        .token_owners
        .manager_for(state, connection, sealed)
        .map_err(|error| {
            tracing::error!(connection = %connection.id, %error, "A connection's tokens did not open.");
            unusable(format!(
                "the tokens of the connection {:?} could not be opened with the configured keys",
                connection.name
            ))
        })?;
    Ok(ConstantContact::with_tokens(
        &state.api,
        state.http.clone(),
        tokens,
        std::sync::Arc::clone(&state.budget),
    ))
}

/// Turns a client failure into an API error. A refused refresh token has already marked the
/// connection as needing re-authentication — only when it was the newest one — through the
/// connection's token store.
pub(crate) fn client_failure(connection: &Connection, error: &constant_contact::Error) -> ApiError {
    if let constant_contact::Error::ReauthenticationRequired { description } = error {
        return ApiError::new(
            StatusCode::CONFLICT,
            "connection_needs_reauthentication",
            format!(
                "the connection {:?}: Constant Contact refused the refresh token: {description}",
                connection.name
            ),
        );
    }
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "constant_contact",
        error.to_string(),
    )
}
