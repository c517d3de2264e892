//! Managing users and reading the audit log: what admins do to accounts.

use segsync_store::NewUser;
use uuid::Uuid;

use super::{
    ApiTokenView, AuditEntryView, AuditQuery, CreatedUser, RoleChange, UserForm, UserView, audit,
    user_subject,
};
use crate::App;
use crate::audit::Subject;
use crate::caller::Admin;
use crate::error::{AppError, Code};
use crate::secrets::new_token;

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
            .map_err(|failure| failure.answer_for("password"))?;
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

    /// Lifts a sign-in lock on the user and forgets their failed attempts, so they may sign
    /// in at once; a lock on the address they came from ends on its own.
    pub async fn unlock(&self, id: Uuid) -> Result<UserView, AppError> {
        let user = self.app.store().user(id).await?;
        self.app
            .store()
            .clear_login_failures(&user.username)
            .await?;
        audit(
            self.app,
            self.user_id(),
            "unlocked",
            user_subject(&user),
            None,
        )
        .await?;
        Ok(user.into())
    }

    /// Ends every session and API token of the user.
    pub async fn sign_out_everywhere(&self, id: Uuid) -> Result<(), AppError> {
        let user = self.app.store().user(id).await?;
        let (sessions, tokens) = self.app.store().end_user_credentials(id).await?;
        let detail = serde_json::json!({ "sessions": sessions, "api_tokens_ended": tokens });
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

    /// A user's API tokens (never the tokens themselves).
    pub async fn tokens(&self, id: Uuid) -> Result<Vec<ApiTokenView>, AppError> {
        self.app.store().user(id).await?;
        let tokens = self.app.store().api_tokens(id).await?;
        Ok(tokens.into_iter().map(ApiTokenView::from).collect())
    }

    /// Revokes one of a user's API tokens.
    pub async fn revoke_token(&self, id: Uuid, token_id: Uuid) -> Result<(), AppError> {
        let user = self.app.store().user(id).await?;
        let tokens = self.app.store().api_tokens(id).await?;
        let Some(token) = tokens.into_iter().find(|token| token.id == token_id) else {
            return Err(AppError::new(
                Code::NotFound,
                format!("{} has no API token {token_id}", user.username),
            ));
        };
        self.app.store().delete_api_token(id, token_id).await?;
        let subject = Subject {
            kind: "api_token",
            id: token_id.to_string(),
            name: &token.name,
        };
        let detail = serde_json::json!({ "of": user.username });
        audit(self.app, self.user_id(), "removed", subject, Some(detail)).await
    }

    /// One user.
    pub async fn get(&self, id: Uuid) -> Result<UserView, AppError> {
        Ok(self.app.store().user(id).await?.into())
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }
}
