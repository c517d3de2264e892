//! Users and their accounts: admins add users, disable and enable them, change their role, sign
//! them out everywhere and read the audit log; every user changes their own password and
//! manages their own API tokens. Each change is audited.

mod password;
mod password_pool;
mod views;

pub use password::{MIN_PASSWORD_CHARS, PasswordError, hash_password, verify_password};
pub use password_pool::PasswordPool;
pub use views::{ApiTokenView, AuditEntryView, UserView};

use chrono::{NaiveDate, NaiveTime};
use segsync_store::{AuditFilter, NewUser, Role, User};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::{Admin, Caller};
use crate::error::{AppError, Code};
use crate::secrets::{hash_token, new_token};

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

/// Managing users and reading the audit log: admins.
pub struct UserAdmin<'a> {
    app: &'a App,
    by: Admin<'a>,
}

impl<'a> UserAdmin<'a> {
    pub(crate) fn new(app: &'a App, by: Admin<'a>) -> Self {
        Self { app, by }
    }

    pub async fn all(&self) -> Result<Vec<UserView>, AppError> {
        Ok(self
            .app
            .store()
            .users()
            .await?
            .into_iter()
            .map(UserView::from)
            .collect())
    }

    /// Adds a user; without a password, a strong one is generated and answered once.
    pub async fn create(&self, form: UserForm) -> Result<CreatedUser, AppError> {
        let username = form.username.trim();
        if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
            return Err(AppError::invalid(
                "username",
                "1 to 64 characters without spaces",
            ));
        }
        let generated = form.password.is_none().then(|| new_token(""));
        let password = form
            .password
            .or_else(|| generated.clone())
            .unwrap_or_default();
        let password_hash = self
            .app
            .passwords()
            .hash(password)
            .await
            .map_err(|problem| AppError::invalid("password", problem))?;
        let user = self
            .app
            .store()
            .create_user(&NewUser {
                username: username.to_owned(),
                display_name: form.display_name.unwrap_or_else(|| username.to_owned()),
                role: form.role,
                password_hash,
            })
            .await?;
        let detail = serde_json::json!({ "role": user.role });
        audit(
            self.app,
            self.user_id(),
            "created",
            user_subject(&user),
            Some(detail),
        )
        .await?;
        Ok(CreatedUser {
            user: user.into(),
            password: generated,
        })
    }

    /// Disables or enables a user: a disabled user's sessions and API tokens end at once. The
    /// last enabled admin stays enabled.
    pub async fn set_disabled(&self, id: Uuid, disabled: bool) -> Result<UserView, AppError> {
        let user = self.app.store().set_user_disabled(id, disabled).await?;
        let action = if disabled { "disabled" } else { "enabled" };
        audit(self.app, self.user_id(), action, user_subject(&user), None).await?;
        Ok(user.into())
    }

    /// Changes a user's role; the last enabled admin stays an admin.
    pub async fn change_role(&self, id: Uuid, change: &RoleChange) -> Result<UserView, AppError> {
        let before = self.app.store().user(id).await?;
        let user = self.app.store().set_user_role(id, change.role).await?;
        let detail = serde_json::json!({ "from": before.role, "to": user.role });
        audit(
            self.app,
            self.user_id(),
            "role_changed",
            user_subject(&user),
            Some(detail),
        )
        .await?;
        Ok(user.into())
    }

    /// Ends every session of the user.
    pub async fn sign_out_everywhere(&self, id: Uuid) -> Result<(), AppError> {
        let user = self.app.store().user(id).await?;
        let ended = self.app.store().end_user_sessions(id).await?;
        let detail = serde_json::json!({ "sessions": ended });
        audit(
            self.app,
            self.user_id(),
            "signed_out_everywhere",
            user_subject(&user),
            Some(detail),
        )
        .await
    }

    /// The audit entries the query asks for, newest first: at most `limit` (100 unless told,
    /// 500 at most).
    pub async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntryView>, AppError> {
        if let (Some(since), Some(until)) = (query.since, query.until)
            && until < since
        {
            return Err(AppError::invalid("until", "a day on or after since"));
        }
        let limit = query.limit.unwrap_or(100).clamp(1, 500);
        let entries = self
            .app
            .store()
            .audit_log(&query.filter(), query.before, limit)
            .await?;
        Ok(entries.into_iter().map(AuditEntryView::from).collect())
    }

    /// The actions and the kinds of subject the audit log holds, each once and sorted: what
    /// its filters offer.
    pub async fn audit_vocabulary(&self) -> Result<(Vec<String>, Vec<String>), AppError> {
        Ok(self.app.store().audit_vocabulary().await?)
    }

    /// One user.
    pub async fn get(&self, id: Uuid) -> Result<UserView, AppError> {
        Ok(self.app.store().user(id).await?.into())
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }
}

/// The caller's own account: their password and their API tokens.
pub struct Account<'a> {
    app: &'a App,
    caller: &'a Caller,
}

impl<'a> Account<'a> {
    pub(crate) fn new(app: &'a App, caller: &'a Caller) -> Self {
        Self { app, caller }
    }

    /// Changes the caller's password, given their current one; every other session of theirs
    /// ends (`this_session` is the hash of the one that asked, which stays).
    pub async fn change_password(
        &self,
        change: PasswordChange,
        this_session: Option<&str>,
    ) -> Result<(), AppError> {
        let user = self.app.store().user(self.caller.user.id).await?;
        if !self
            .app
            .passwords()
            .verify(user.password_hash.clone(), change.current_password)
            .await
        {
            return Err(AppError::invalid(
                "current_password",
                "this is not your current password",
            ));
        }
        let hash = self
            .app
            .passwords()
            .hash(change.new_password)
            .await
            .map_err(|problem| AppError::invalid("new_password", problem))?;
        self.app
            .store()
            .set_user_password(user.id, &hash, this_session)
            .await?;
        audit(
            self.app,
            user.id,
            "password_changed",
            user_subject(&user),
            None,
        )
        .await
    }

    /// Makes an API token for the caller: the token is answered this once, and the store keeps
    /// only its hash.
    pub async fn create_token(&self, new: &NewToken) -> Result<CreatedToken, AppError> {
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
                    format!(
                        "a token lasts 1 to {MAX_TOKEN_DAYS} days, or leave it out for no expiry"
                    ),
                ));
            }
        };
        let token = new_token(API_TOKEN_PREFIX);
        let created = self
            .app
            .store()
            .create_expiring_api_token(self.caller.user.id, name, &hash_token(&token), expires_at)
            .await?;
        let subject = Subject {
            kind: "api_token",
            id: created.id.to_string(),
            name,
        };
        audit(self.app, self.caller.user.id, "created", subject, None).await?;
        Ok(CreatedToken {
            record: created.into(),
            token,
        })
    }

    pub async fn tokens(&self) -> Result<Vec<ApiTokenView>, AppError> {
        let tokens = self.app.store().api_tokens(self.caller.user.id).await?;
        Ok(tokens.into_iter().map(ApiTokenView::from).collect())
    }

    /// Revokes one of the caller's own tokens.
    pub async fn revoke_token(&self, id: Uuid) -> Result<(), AppError> {
        if !self
            .app
            .store()
            .delete_api_token(self.caller.user.id, id)
            .await?
        {
            return Err(AppError::new(
                Code::NotFound,
                format!("you have no API token {id}"),
            ));
        }
        let subject = Subject {
            kind: "api_token",
            id: id.to_string(),
            name: "",
        };
        audit(self.app, self.caller.user.id, "removed", subject, None).await
    }
}
