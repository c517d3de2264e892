//! Users, their sessions and API tokens. The store keeps only hashes of passwords, session
//! tokens and API tokens; making and checking them is the application's work.

use chrono::{DateTime, Utc};
use segsync_domain::TokenScope;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

pub use segsync_domain::role::Role;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};

/// The three roles of Customer Insights, from most to least powerful.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this the token no longer works; none lasts until revoked.
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: TokenScope,
}

/// An API token in use: the user it acts for, and which token it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub user: User,
    pub token_id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: TokenScope,
}

fn scope_of(text: &str) -> Result<TokenScope, StoreError> {
    TokenScope::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("an API token's scope {text:?}")))
}

/// How stale the recorded last use of an API token may be.
const LAST_USE_RESOLUTION_MS: i64 = 60_000;

const USER_COLUMNS: &str = "users.id, users.username, users.display_name, users.role, users.password_hash, users.disabled, users.created_at";

fn user_from_row(row: &AnyRow) -> Result<User, StoreError> {
    let id: String = row.try_get("id")?;
    let role: String = row.try_get("role")?;
    Ok(User {
        id: parse_uuid(&id)?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| {
            StoreError::Corrupt(format!("user {id} has the unknown role {role:?}"))
        })?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: from_millis(row.try_get("created_at")?),
    })
}

pub(crate) fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("{text:?} is not a UUID")))
}

impl Store {
    pub async fn create_user(&self, new: &NewUser) -> Result<User, StoreError> {
        let user = User {
            id: Uuid::new_v4(),
            username: new.username.clone(),
            display_name: new.display_name.clone(),
            role: new.role,
            password_hash: new.password_hash.clone(),
            disabled: false,
            created_at: from_millis(to_millis(Utc::now())),
        };
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, display_name, role, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(user.id.to_string())
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(to_millis(user.created_at))
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(user),
            Err(error) if StoreError::is_unique_violation(&error) => Err(StoreError::Conflict {
                kind: "user",
                name: new.username.clone(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn user(&self, id: Uuid) -> Result<User, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "user",
                key: id.to_string(),
            })?;
        user_from_row(&row)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_admins(&self) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
                .fetch_one(&self.pool)
                .await?;
        Ok(count as u64)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id.to_string())
            .bind(csrf_token)
            .bind(to_millis(Utc::now()))
            .bind(to_millis(expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The live session with this token hash and its user; expired sessions and disabled users
    /// have none.
    pub async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, sessions.csrf_token, sessions.expires_at FROM sessions JOIN users ON users.id = sessions.user_id \
             WHERE sessions.token_hash = $1 AND sessions.expires_at > $2 AND users.disabled = 0"
        ))
        .bind(token_hash)
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionRecord {
            user: user_from_row(&row)?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: from_millis(row.try_get("expires_at")?),
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn create_api_token(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiTokenRecord, StoreError> {
        self.create_expiring_api_token(user_id, name, token_hash, None)
            .await
    }

    /// An API token that stops working at `expires_at`, if given.
    pub async fn create_expiring_api_token(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiTokenRecord, StoreError> {
        self.create_scoped_api_token(user_id, name, token_hash, expires_at, TokenScope::Full)
            .await
    }

    /// An API token of `scope` that stops working at `expires_at`, if given.
    pub async fn create_scoped_api_token(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
        expires_at: Option<DateTime<Utc>>,
        scope: TokenScope,
    ) -> Result<ApiTokenRecord, StoreError> {
        let record = ApiTokenRecord {
            id: Uuid::new_v4(),
            user_id,
            name: name.to_owned(),
            created_at: from_millis(to_millis(Utc::now())),
            last_used_at: None,
            expires_at: expires_at.map(|at| from_millis(to_millis(at))),
            scope,
        };
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, scope) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(record.id.to_string())
            .bind(user_id.to_string())
            .bind(name)
            .bind(token_hash)
            .bind(to_millis(record.created_at))
            .bind(record.expires_at.map(to_millis))
            .bind(scope.as_str())
            .execute(&self.pool)
            .await?;
        Ok(record)
    }

    /// The user an API token belongs to, noting that the token was used.
    /// The user an API token acts for, while the token lasts and the user is enabled.
    pub async fn user_by_api_token(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        Ok(self.api_token_use(token_hash).await?.map(|used| used.user))
    }

    /// The user an API token acts for and the token itself, while it lasts and the user is
    /// enabled; the use is recorded.
    pub async fn api_token_use(&self, token_hash: &str) -> Result<Option<TokenUse>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, api_tokens.id AS token_id, api_tokens.expires_at AS token_expires_at, api_tokens.scope AS token_scope \
             FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
             WHERE api_tokens.token_hash = $1 AND users.disabled = 0 \
             AND (api_tokens.expires_at IS NULL OR api_tokens.expires_at > $2)"
        ))
        .bind(token_hash)
        .bind(to_millis(Utc::now()))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        // Every API request passes here: the time of use is written at most once a minute.
        let now = to_millis(Utc::now());
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(now)
            .bind(token_hash)
            .bind(now - LAST_USE_RESOLUTION_MS)
            .execute(&self.pool)
            .await?;
        Ok(Some(TokenUse {
            user: user_from_row(&row)?,
            token_id: parse_uuid(&row.try_get::<String, _>("token_id")?)?,
            expires_at: row
                .try_get::<Option<i64>, _>("token_expires_at")?
                .map(from_millis),
            scope: scope_of(&row.try_get::<String, _>("token_scope")?)?,
        }))
    }

    pub async fn api_tokens(&self, user_id: Uuid) -> Result<Vec<ApiTokenRecord>, StoreError> {
        let rows = sqlx::query("SELECT id, user_id, name, created_at, last_used_at, expires_at, scope FROM api_tokens WHERE user_id = $1 ORDER BY created_at")
            .bind(user_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiTokenRecord {
                    id: parse_uuid(&row.try_get::<String, _>("id")?)?,
                    user_id: parse_uuid(&row.try_get::<String, _>("user_id")?)?,
                    name: row.try_get("name")?,
                    created_at: from_millis(row.try_get("created_at")?),
                    last_used_at: row
                        .try_get::<Option<i64>, _>("last_used_at")?
                        .map(from_millis),
                    expires_at: row
                        .try_get::<Option<i64>, _>("expires_at")?
                        .map(from_millis),
                    scope: scope_of(&row.try_get::<String, _>("scope")?)?,
                })
            })
            .collect()
    }

    /// Revokes one of a user's tokens; false when the user has no such token.
    pub async fn delete_api_token(
        &self,
        user_id: Uuid,
        token_id: Uuid,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id.to_string())
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
