//! The one way use cases write the audit log: who did what to which thing.

use segsync_store::{NewAuditEntry, Store};
use uuid::Uuid;

use crate::error::AppError;

/// What an audit entry is about.
pub struct Subject<'a> {
    /// `connection`, `segment`, `user`, `api_token`, …
    pub kind: &'static str,
    pub id: String,
    pub name: &'a str,
}

/// Records that `actor_id` (none for the system itself) did `action` to `subject`.
pub async fn record(
    store: &Store,
    actor_id: Option<Uuid>,
    action: &str,
    subject: Subject<'_>,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    store
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
