//! Users and their accounts: admins add users, disable and enable them, change their role, sign
//! them out everywhere and read the audit log; every user changes their own password and
//! manages their own API tokens. Each change is audited.

mod account;
mod admin;
mod password;
mod password_pool;
mod views;

pub use account::Account;
pub use admin::UserAdmin;

pub use password::{MIN_PASSWORD_CHARS, PasswordError, hash_password, verify_password};
pub use password_pool::{HashFailure, PasswordPool, PasswordTicket, PoolBusy};
pub use views::{ApiTokenView, AuditEntryView, UserView};

use chrono::{NaiveDate, NaiveTime};
use segsync_store::{AuditFilter, Role, User};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::error::AppError;

/// What every API token starts with, so a leaked one is easy to recognise.
const API_TOKEN_PREFIX: &str = "sgs_";

/// The longest an expiring token may be given, in days.
const MAX_TOKEN_DAYS: u32 = 3650;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserForm {
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    /// Without it, a strong password is generated and answered once.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserView,
    /// The password generated for the user when none was given: shown now and never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RoleChange {
    pub role: Role,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    pub name: String,
    /// Days the token works for (1 to 3650); without it, until revoked.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// `full` (the default: what the user's role allows), `read` (reading only) or `trigger`
    /// (only `POST /api/v1/triggers/source-changed`, and reading a run).
    #[serde(default)]
    pub scope: segsync_domain::TokenScope,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub record: ApiTokenView,
    /// The token itself: shown now and never again.
    pub token: String,
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this one.
    pub before: Option<i64>,
    pub limit: Option<u32>,
    /// Only what this user did.
    pub actor_id: Option<Uuid>,
    /// Only this action: `created`, `changed`, `ran`, `removed`, …
    pub action: Option<String>,
    /// Only what was done to this kind of thing: `export`, `segment`, `user`, …
    pub kind: Option<String>,
    /// Only from this UTC day on (`YYYY-MM-DD`).
    pub since: Option<NaiveDate>,
    /// Only up to and including this UTC day (`YYYY-MM-DD`).
    pub until: Option<NaiveDate>,
}

impl AuditQuery {
    pub fn filter(&self) -> AuditFilter {
        let start_of = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
        let blank_is_none =
            |text: &Option<String>| text.as_ref().filter(|text| !text.is_empty()).cloned();
        AuditFilter {
            actor_id: self.actor_id,
            action: blank_is_none(&self.action),
            object_kind: blank_is_none(&self.kind),
            since: self.since.map(start_of),
            until: self.until.and_then(|day| day.succ_opt()).map(start_of),
        }
    }
}

async fn audit(
    app: &App,
    actor_id: Uuid,
    action: &str,
    subject: Subject<'_>,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    record(app.store(), Some(actor_id), action, subject, detail).await
}

fn user_subject(user: &User) -> Subject<'_> {
    Subject {
        kind: "user",
        id: user.id.to_string(),
        name: &user.username,
    }
}
