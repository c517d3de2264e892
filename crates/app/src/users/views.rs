//! What the API shows of the store's users, API tokens and audit entries: views of their own,
//! so that a field added to a store row (a password hash, say) is never served by accident.

use chrono::{DateTime, Utc};
use segsync_store::{ApiTokenRecord, AuditEntry, Role, User};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            disabled: user.disabled,
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ApiTokenRecord)]
pub struct ApiTokenView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this the token no longer works; none lasts until revoked.
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: segsync_domain::TokenScope,
}

impl From<ApiTokenRecord> for ApiTokenView {
    fn from(token: ApiTokenRecord) -> Self {
        Self {
            id: token.id,
            user_id: token.user_id,
            name: token.name,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
            scope: token.scope,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub object_name: String,
    pub detail: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            actor_id: entry.actor_id,
            action: entry.action,
            object_kind: entry.object_kind,
            object_id: entry.object_id,
            object_name: entry.object_name,
            detail: entry.detail,
        }
    }
}
