//! A Constant Contact client for a saved connection, and what a client's failure means for the
//! connection's health.

use std::sync::Arc;

use constant_contact::ConstantContact;
use segsync_store::{Connection, Health};

use crate::connection_tokens::{ConnectionTokenStore, open_tokens};
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
    let tokens = open_tokens(&state.sealer, connection.id, sealed).map_err(|error| {
        tracing::error!(connection = %connection.id, %error, "A connection's tokens did not open.");
        unusable(format!(
            "the tokens of the connection {:?} could not be opened with the configured keys",
            connection.name
        ))
    })?;
    let token_store = ConnectionTokenStore {
        store: state.store.clone(),
        sealer: Arc::clone(&state.sealer),
        connection_id: connection.id,
    };
    ConstantContact::connect(&state.api, tokens, Arc::new(token_store)).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "constant_contact",
            error.to_string(),
        )
    })
}

/// Turns a client failure into an API error, marking the connection when Constant Contact
/// refused its refresh token so that everyone sees it needs re-authentication.
pub(crate) async fn client_failure(
    state: &AppState,
    connection: &Connection,
    error: constant_contact::Error,
) -> ApiError {
    if let constant_contact::Error::ReauthenticationRequired { description } = &error {
        let reason = format!("Constant Contact refused the refresh token: {description}");
        if let Err(store_error) = state
            .store
            .set_connection_health(connection.id, Health::NeedsReauthentication, Some(&reason))
            .await
        {
            return store_error.into();
        }
        return ApiError::new(
            StatusCode::CONFLICT,
            "connection_needs_reauthentication",
            format!("the connection {:?}: {reason}", connection.name),
        );
    }
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "constant_contact",
        error.to_string(),
    )
}
