//! Connections to Constant Contact: who may use them, the consent given, the export user, the
//! sealed tokens and their health; and the OAuth flows started for them but not yet finished.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

pub use segsync_domain::connection_access::{Health, UsableBy};

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: Uuid,
    pub name: String,
    pub usable_by: UsableBy,
    pub consent_by: Uuid,
    pub consent_at: DateTime<Utc>,
    pub export_user_id: Option<Uuid>,
    /// The tokens, sealed by the server; the store never sees them in the clear.
    pub tokens_sealed: Option<Vec<u8>>,
    /// Moves by one every time the tokens change (authenticated again, or rotated by a
    /// refresh), and only by compare-and-set: a node holding an older version knows another one
    /// rotated them.
    pub tokens_version: i64,
    pub health: Health,
    pub health_reason: Option<String>,
    /// When the health last changed; unknown for changes made before this was kept.
    pub health_changed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether erasing a person also deletes the contact in this account.
    pub contact_delete: bool,
}

#[derive(Debug, Clone)]
pub struct NewConnection {
    pub name: String,
    pub usable_by: UsableBy,
    /// The admin who agreed to the data-privacy and compliance terms, and saves it.
    pub created_by: Uuid,
}

/// An OAuth flow waiting for its redirect.
#[derive(Debug, Clone)]
pub struct OAuthFlow {
    pub connection_id: Uuid,
    pub user_id: Uuid,
    pub verifier_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "id, name, usable_by, consent_by, consent_at, export_user_id, tokens_sealed, health, health_reason, health_changed_at, created_by, created_at, updated_at, tokens_version, contact_delete";

pub(crate) fn connection_from_row(row: &AnyRow) -> Result<Connection, StoreError> {
    let id: String = row.try_get("id")?;
    let usable_by: String = row.try_get("usable_by")?;
    let health: String = row.try_get("health")?;
    let corrupt = |what: &str, value: &str| {
        StoreError::Corrupt(format!("connection {id} has the unknown {what} {value:?}"))
    };
    Ok(Connection {
        id: parse_uuid(&id)?,
        name: row.try_get("name")?,
        usable_by: UsableBy::parse(&usable_by).ok_or_else(|| corrupt("usable_by", &usable_by))?,
        consent_by: parse_uuid(&row.try_get::<String, _>("consent_by")?)?,
        consent_at: from_millis(row.try_get("consent_at")?),
        export_user_id: row
            .try_get::<Option<String>, _>("export_user_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        tokens_sealed: row.try_get("tokens_sealed")?,
        tokens_version: row.try_get("tokens_version")?,
        health: Health::parse(&health).ok_or_else(|| corrupt("health", &health))?,
        health_reason: row.try_get("health_reason")?,
        health_changed_at: row
            .try_get::<Option<i64>, _>("health_changed_at")?
            .map(from_millis),
        created_by: parse_uuid(&row.try_get::<String, _>("created_by")?)?,
        created_at: from_millis(row.try_get("created_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
        contact_delete: row.try_get::<i64, _>("contact_delete")? != 0,
    })
}

impl Store {
    pub async fn create_connection(&self, new: &NewConnection) -> Result<Connection, StoreError> {
        let now = to_millis(Utc::now());
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO connections (id, name, kind, usable_by, consent_by, consent_at, health, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'constant_contact', $3, $4, $5, 'not_authenticated', $4, $5, $5)",
        )
        .bind(id.to_string())
        .bind(&new.name)
        .bind(new.usable_by.as_str())
        .bind(new.created_by.to_string())
        .bind(now)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => self.connection(id).await,
            Err(error) if StoreError::is_unique_violation(&error) => Err(StoreError::Conflict {
                kind: "connection",
                name: new.name.clone(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Sets whether erasing a person also deletes the contact in the connection's account.
    pub async fn set_contact_delete(&self, id: Uuid, delete: bool) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE connections SET contact_delete = $1, updated_at = $2 WHERE id = $3",
        )
        .bind(i64::from(delete))
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                kind: "connection",
                key: id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn connection(&self, id: Uuid) -> Result<Connection, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM connections WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                kind: "connection",
                key: id.to_string(),
            })?;
        connection_from_row(&row)
    }

    pub async fn connections(&self) -> Result<Vec<Connection>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM connections ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(connection_from_row).collect()
    }

    /// Renames a connection or changes who may use it.
    pub async fn update_connection(
        &self,
        id: Uuid,
        name: &str,
        usable_by: UsableBy,
    ) -> Result<Connection, StoreError> {
        let updated = sqlx::query(
            "UPDATE connections SET name = $1, usable_by = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(usable_by.as_str())
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 0 => Err(StoreError::NotFound {
                kind: "connection",
                key: id.to_string(),
            }),
            Ok(_) => self.connection(id).await,
            Err(error) if StoreError::is_unique_violation(&error) => Err(StoreError::Conflict {
                kind: "connection",
                name: name.to_owned(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// Stores the tokens of a fresh authentication, whatever was there before (a new version);
    /// the connection is healthy again. Rotations by a refresh go through
    /// [`Store::rotate_connection_tokens`].
    pub async fn set_connection_tokens(
        &self,
        id: Uuid,
        tokens_sealed: &[u8],
    ) -> Result<(), StoreError> {
        self.expect_one(
            sqlx::query("UPDATE connections SET tokens_sealed = $1, tokens_version = tokens_version + 1, token_refresh_holder = NULL, token_refresh_until = NULL, health_changed_at = CASE WHEN health = 'healthy' THEN health_changed_at ELSE $2 END, health = 'healthy', health_reason = NULL, updated_at = $2 WHERE id = $3")
                .bind(tokens_sealed.to_vec())
                .bind(to_millis(Utc::now()))
                .bind(id.to_string())
                .execute(&self.pool)
                .await?
                .rows_affected(),
            id,
        )
    }

    pub async fn set_connection_health(
        &self,
        id: Uuid,
        health: Health,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        self.expect_one(
            sqlx::query("UPDATE connections SET health_changed_at = CASE WHEN health = $1 THEN health_changed_at ELSE $3 END, health = $1, health_reason = $2, updated_at = $3 WHERE id = $4")
                .bind(health.as_str())
                .bind(reason)
                .bind(to_millis(Utc::now()))
                .bind(id.to_string())
                .execute(&self.pool)
                .await?
                .rows_affected(),
            id,
        )
    }

    /// The user scheduled runs of this connection's exports act as.
    pub async fn set_export_user(&self, id: Uuid, user_id: Uuid) -> Result<(), StoreError> {
        self.expect_one(
            sqlx::query(
                "UPDATE connections SET export_user_id = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(user_id.to_string())
            .bind(to_millis(Utc::now()))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?
            .rows_affected(),
            id,
        )
    }

    /// Names of the exports that use a connection.
    pub async fn exports_using_connection(&self, id: Uuid) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM exports WHERE connection_id = $1 ORDER BY name")
                .bind(id.to_string())
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Removes a connection that no export uses. With users, the names of those exports come
    /// back as `Err(InUse)` and nothing is removed.
    pub async fn delete_connection(&self, id: Uuid) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let users: Vec<String> =
            sqlx::query_scalar("SELECT name FROM exports WHERE connection_id = $1 ORDER BY name")
                .bind(id.to_string())
                .fetch_all(&mut *transaction)
                .await?;
        if !users.is_empty() {
            return Err(StoreError::InUse {
                kind: "connection",
                users,
            });
        }
        let done = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                kind: "connection",
                key: id.to_string(),
            });
        }
        transaction.commit().await?;
        Ok(())
    }

    pub async fn create_oauth_flow(
        &self,
        state_hash: &str,
        flow: &OAuthFlow,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO oauth_flows (state, connection_id, user_id, verifier_sealed, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(state_hash)
            .bind(flow.connection_id.to_string())
            .bind(flow.user_id.to_string())
            .bind(flow.verifier_sealed.clone())
            .bind(to_millis(flow.created_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The flow a redirect's state belongs to, removed so that it can be used once only.
    pub async fn take_oauth_flow(&self, state_hash: &str) -> Result<Option<OAuthFlow>, StoreError> {
        // One statement reads and removes it: of two redirects with the same state, one wins.
        let row = sqlx::query("DELETE FROM oauth_flows WHERE state = $1 RETURNING connection_id, user_id, verifier_sealed, created_at")
            .bind(state_hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(OAuthFlow {
            connection_id: parse_uuid(&row.try_get::<String, _>("connection_id")?)?,
            user_id: parse_uuid(&row.try_get::<String, _>("user_id")?)?,
            verifier_sealed: row.try_get("verifier_sealed")?,
            created_at: from_millis(row.try_get("created_at")?),
        }))
    }

    fn expect_one(&self, rows: u64, id: Uuid) -> Result<(), StoreError> {
        if rows == 0 {
            Err(StoreError::NotFound {
                kind: "connection",
                key: id.to_string(),
            })
        } else {
            Ok(())
        }
    }
}
