//! The caller's own account: their password, their API tokens, and the home page's next steps.

use chrono::{DateTime, Duration, Utc};
use segsync_store::{AttemptsAt, KeptCredential};
use uuid::Uuid;

use super::{
    API_TOKEN_PREFIX, ApiTokenView, CreatedToken, MAX_TOKEN_DAYS, NewToken, PasswordChange, audit,
    user_subject,
};
use crate::App;
use crate::audit::Subject;
use crate::caller::Caller;
use crate::error::{AppError, Code};
use crate::secrets::{hash_token, new_token};

/// The caller's own account: their password and their API tokens.
pub struct Account<'a> {
    app: &'a App,
    caller: &'a Caller,
}

impl<'a> Account<'a> {
    pub(crate) fn new(app: &'a App, caller: &'a Caller) -> Self {
        Self { app, caller }
    }

    /// Whether the caller dismissed the home page's next steps.
    pub async fn next_steps_dismissed(&self) -> Result<bool, AppError> {
        Ok(self
            .app
            .store()
            .next_steps_dismissed(self.caller.user.id)
            .await?)
    }

    /// Hides the home page's next steps from the caller for good.
    pub async fn dismiss_next_steps(&self) -> Result<(), AppError> {
        Ok(self
            .app
            .store()
            .dismiss_next_steps(self.caller.user.id, Utc::now())
            .await?)
    }

    /// Changes the caller's password, given their current one. Wrong current passwords are
    /// counted like failed sign-ins, but apart from them (a username locked at sign-in still
    /// changes its password with an API token). Every other session and API token of theirs
    /// ends: `this_session` is the hash of the session that asked, which stays, as does the
    /// API token that asked.
    pub async fn change_password(
        &self,
        change: PasswordChange,
        this_session: Option<&str>,
    ) -> Result<(), AppError> {
        let store = self.app.store();
        let user = store.user(self.caller.user.id).await?;
        let ticket = self.app.passwords().enter()?;
        let attempt = self
            .app
            .take_password_attempt(
                AttemptsAt::PasswordChange { user_id: user.id },
                "too many wrong current passwords",
            )
            .await?;
        if !ticket
            .verify(user.password_hash.clone(), change.current_password)
            .await
        {
            attempt.failed().await?;
            return Err(AppError::invalid(
                "current_password",
                "this is not your current password",
            ));
        }
        attempt.succeeded().await?;
        let hash = self
            .app
            .passwords()
            .hash(change.new_password)
            .await
            .map_err(|failure| failure.answer_for("new_password"))?;
        let kept = KeptCredential {
            session_hash: this_session,
            api_token: self.caller.token.map(|token| token.id),
        };
        let ended_tokens = store.set_user_password(user.id, &hash, kept).await?;
        let detail = serde_json::json!({ "api_tokens_ended": ended_tokens });
        audit(
            self.app,
            user.id,
            "password_changed",
            user_subject(&user),
            Some(detail),
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
        let now = Utc::now();
        let expires_at = match new.expires_in_days {
            None => None,
            Some(days @ 1..=MAX_TOKEN_DAYS) => Some(now + Duration::days(i64::from(days))),
            Some(_) => {
                return Err(AppError::invalid(
                    "expires_in_days",
                    format!(
                        "a token lasts 1 to {MAX_TOKEN_DAYS} days, or leave it out for no expiry"
                    ),
                ));
            }
        };
        self.outlives_no_token_in_use(expires_at, now)?;
        let token = new_token(API_TOKEN_PREFIX);
        let created = self
            .app
            .store()
            .create_scoped_api_token(
                self.caller.user.id,
                name,
                &hash_token(&token),
                expires_at,
                new.scope,
            )
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

    /// Refuses a new token that would outlive the expiring API token the caller is using: a
    /// token for a day cannot make one that lasts forever.
    fn outlives_no_token_in_use(
        &self,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let Some(ends) = self.caller.token.and_then(|token| token.expires_at) else {
            return Ok(());
        };
        if expires_at.is_some_and(|new_end| new_end <= ends) {
            return Ok(());
        }
        let days_left = (ends - now).num_days();
        let ending = ends.format("%Y-%m-%d %H:%M UTC");
        Err(AppError::invalid(
            "expires_in_days",
            if days_left >= 1 {
                format!(
                    "the API token you are using ends at {ending}, and a token it makes may not outlive it: give at most {days_left} days"
                )
            } else {
                format!(
                    "the API token you are using ends at {ending}, within a day, and a token it makes may not outlive it: sign in to make tokens"
                )
            },
        ))
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
