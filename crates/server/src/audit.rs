//! The one way routes write the audit log: who did what to which thing.

use segsync_store::NewAuditEntry;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// What an audit entry is about.
pub(crate) struct Subject<'a> {
    /// `connection`, `segment`, `user`, `api_token`, …
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) name: &'a str,
}

pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    action: &str,
    subject: Subject<'_>,
    detail: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    record_for(state, Some(caller.user.id), action, subject, detail).await
}

/// An entry for something done on someone's behalf rather than by a request, such as a
/// scheduled run attributed to its connection's export user.
pub(crate) async fn record_for(
    state: &AppState,
    actor_id: Option<uuid::Uuid>,
    action: &str,
    subject: Subject<'_>,
    detail: Option<serde_json::Value>,
) -> Result<(), ApiError> {
    state
        .store
        .audit(NewAuditEntry {
            actor_id,
            action,
            object_kind: subject.kind,
            object_id: &subject.id,
            object_name: subject.name,
            detail,
        })
        .await?;
    tracing::info!(action, kind = subject.kind, id = %subject.id, name = subject.name, "Audited.");
    Ok(())
}
