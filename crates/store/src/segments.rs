//! Segment definitions: a name, a description and the rule tree (stored as its JSON), checked
//! by the server before it is stored.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use segsync_domain::{Rule, SegmentDefinition};

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub rule: Rule,
    pub active: bool,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct SegmentDraft {
    pub name: String,
    pub description: Option<String>,
    pub rule: Rule,
}

const COLUMNS: &str =
    "id, name, description, rule, active, created_by, created_at, updated_by, updated_at";

fn segment_from_row(row: &AnyRow) -> Result<Segment, StoreError> {
    let id = parse_uuid(&row.try_get::<String, _>("id")?)?;
    let rule: String = row.try_get("rule")?;
    Ok(Segment {
        id,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        rule: serde_json::from_str::<Rule>(&rule).map_err(|error| {
            StoreError::Corrupt(format!(
                "segment {id}: its stored rule does not read: {error}"
            ))
        })?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_by: parse_uuid(&row.try_get::<String, _>("created_by")?)?,
        created_at: from_millis(row.try_get("created_at")?),
        updated_by: parse_uuid(&row.try_get::<String, _>("updated_by")?)?,
        updated_at: from_millis(row.try_get("updated_at")?),
    })
}

/// A rule as it is stored: the JSON segment files use.
fn rule_json(rule: &Rule) -> String {
    rule.to_json().to_string()
}

impl Segment {
    /// The segment as a definition, for compiling and for resolving references.
    pub fn definition(&self) -> SegmentDefinition {
        SegmentDefinition {
            name: self.name.clone(),
            description: self.description.clone(),
            rule: self.rule.clone(),
        }
    }
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        kind: "segment",
        key: id.to_string(),
    }
}

impl Store {
    pub async fn create_segment(
        &self,
        draft: &SegmentDraft,
        by: Uuid,
    ) -> Result<Segment, StoreError> {
        let id = Uuid::new_v4();
        let now = to_millis(Utc::now());
        let inserted = sqlx::query(
            "INSERT INTO segments (id, name, description, rule, active, created_by, created_at, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $5, $6)",
        )
        .bind(id.to_string())
        .bind(&draft.name)
        .bind(draft.description.as_deref())
        .bind(rule_json(&draft.rule))
        .bind(by.to_string())
        .bind(now)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => self.segment(id).await,
            Err(error) if StoreError::is_unique_violation(&error) => Err(StoreError::Conflict {
                kind: "segment",
                name: draft.name.clone(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn segment(&self, id: Uuid) -> Result<Segment, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM segments WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found(id))?;
        segment_from_row(&row)
    }

    /// Every segment, by name.
    pub async fn segments(&self) -> Result<Vec<Segment>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM segments ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(segment_from_row).collect()
    }

    pub async fn update_segment(
        &self,
        id: Uuid,
        draft: &SegmentDraft,
        by: Uuid,
    ) -> Result<Segment, StoreError> {
        let updated = sqlx::query("UPDATE segments SET name = $1, description = $2, rule = $3, updated_by = $4, updated_at = $5 WHERE id = $6")
            .bind(&draft.name)
            .bind(draft.description.as_deref())
            .bind(rule_json(&draft.rule))
            .bind(by.to_string())
            .bind(to_millis(Utc::now()))
            .bind(id.to_string())
            .execute(&self.pool)
            .await;
        match updated {
            Ok(done) if done.rows_affected() == 0 => Err(not_found(id)),
            Ok(_) => self.segment(id).await,
            Err(error) if StoreError::is_unique_violation(&error) => Err(StoreError::Conflict {
                kind: "segment",
                name: draft.name.clone(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn set_segment_active(
        &self,
        id: Uuid,
        active: bool,
        by: Uuid,
    ) -> Result<Segment, StoreError> {
        let done = sqlx::query(
            "UPDATE segments SET active = $1, updated_by = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(i64::from(active))
        .bind(by.to_string())
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        self.segment(id).await
    }

    /// Saves `drafts` in one transaction, all or none: a draft whose name exists updates that
    /// segment, the others are created. Returns the segments saved, and whether each was new.
    pub async fn import_segments(
        &self,
        drafts: &[SegmentDraft],
        by: Uuid,
    ) -> Result<Vec<(Segment, bool)>, StoreError> {
        let now = to_millis(Utc::now());
        let mut transaction = self.begin_write().await?;
        let mut saved = Vec::with_capacity(drafts.len());
        for draft in drafts {
            let existing: Option<String> =
                sqlx::query_scalar("SELECT id FROM segments WHERE name = $1")
                    .bind(&draft.name)
                    .fetch_optional(&mut *transaction)
                    .await?;
            let (id, created) = match existing {
                Some(id) => {
                    sqlx::query("UPDATE segments SET description = $1, rule = $2, updated_by = $3, updated_at = $4 WHERE id = $5")
                        .bind(draft.description.as_deref())
                        .bind(rule_json(&draft.rule))
                        .bind(by.to_string())
                        .bind(now)
                        .bind(&id)
                        .execute(&mut *transaction)
                        .await?;
                    (id, false)
                }
                None => {
                    let id = Uuid::new_v4().to_string();
                    let inserted = sqlx::query(
                        "INSERT INTO segments (id, name, description, rule, active, created_by, created_at, updated_by, updated_at) \
                         VALUES ($1, $2, $3, $4, 1, $5, $6, $5, $6)",
                    )
                    .bind(&id)
                    .bind(&draft.name)
                    .bind(draft.description.as_deref())
                    .bind(rule_json(&draft.rule))
                    .bind(by.to_string())
                    .bind(now)
                    .execute(&mut *transaction)
                    .await;
                    match inserted {
                        Ok(_) => (id, true),
                        Err(error) if StoreError::is_unique_violation(&error) => {
                            return Err(StoreError::Conflict {
                                kind: "segment",
                                name: draft.name.clone(),
                            });
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
            };
            let row = sqlx::query(&format!("SELECT {COLUMNS} FROM segments WHERE id = $1"))
                .bind(&id)
                .fetch_one(&mut *transaction)
                .await?;
            saved.push((segment_from_row(&row)?, created));
        }
        transaction.commit().await?;
        Ok(saved)
    }

    /// Removes a segment no export sends; otherwise `InUse` names the exports and nothing
    /// changes.
    pub async fn delete_segment(&self, id: Uuid) -> Result<(), StoreError> {
        let mut transaction = self.begin_write().await?;
        let users: Vec<String> = sqlx::query_scalar(
            "SELECT exports.name FROM export_segments JOIN exports ON exports.id = export_segments.export_id \
             WHERE export_segments.segment_id = $1 ORDER BY exports.name",
        )
        .bind(id.to_string())
        .fetch_all(&mut *transaction)
        .await?;
        if !users.is_empty() {
            return Err(StoreError::InUse {
                kind: "segment",
                users,
            });
        }
        let done = sqlx::query("DELETE FROM segments WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        transaction.commit().await?;
        Ok(())
    }
}
