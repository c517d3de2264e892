//! Exports: a connection, a Constant Contact list, a field mapping, the segments to send, in
//! order, and an optional schedule of their own. Saving one never runs it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use segsync_domain::schedule::RefreshSchedule;
use segsync_domain::{RemovalGuards, Share, SyncMode, VerifySchedule};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::database::Store;
use crate::error::StoreError;
use crate::time::{from_millis, to_millis};
use crate::users::parse_uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub id: Uuid,
    pub name: String,
    /// None once detached from its connection.
    pub connection_id: Option<Uuid>,
    pub list_id: Uuid,
    /// The data matching: Constant Contact field → profile attribute.
    pub mapping: BTreeMap<String, String>,
    /// The export's own schedule, over the system's.
    pub schedule_override: Option<RefreshSchedule>,
    pub sync_mode: SyncMode,
    /// How much a mirror run may remove, and the segments' members drop, without a person's
    /// confirmation.
    pub guards: RemovalGuards,
    /// When the export reads its list back.
    pub verify: VerifySchedule,
    pub segment_ids: Vec<Uuid>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_by: Uuid,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ExportDraft {
    pub name: String,
    pub connection_id: Uuid,
    pub list_id: Uuid,
    pub mapping: BTreeMap<String, String>,
    pub schedule_override: Option<RefreshSchedule>,
    pub sync_mode: SyncMode,
    pub guards: RemovalGuards,
    pub verify: VerifySchedule,
    pub segment_ids: Vec<Uuid>,
}

impl ExportDraft {
    fn mapping_json(&self) -> String {
        serde_json::to_string(&self.mapping).expect("a mapping serialises")
    }

    fn schedule_json(&self) -> Option<String> {
        self.schedule_override
            .as_ref()
            .map(|schedule| serde_json::to_string(schedule).expect("a schedule serialises"))
    }
}

const COLUMNS: &str = "id, name, connection_id, list_id, mapping, schedule_override, sync_mode, max_removal_share, max_member_drop, verify, created_by, created_at, updated_by, updated_at";

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        kind: "export",
        key: id.to_string(),
    }
}

fn export_from_row(row: &AnyRow, segment_ids: Vec<Uuid>) -> Result<Export, StoreError> {
    let id = parse_uuid(&row.try_get::<String, _>("id")?)?;
    let corrupt = |what: &str, problem: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!(
            "export {id}: its stored {what} does not read: {problem}"
        ))
    };
    let mapping: String = row.try_get("mapping")?;
    let schedule_override: Option<String> = row.try_get("schedule_override")?;
    let sync_mode: String = row.try_get("sync_mode")?;
    let verify: String = row.try_get("verify")?;
    let share = |column: &str| -> Result<Share, StoreError> {
        let points: i64 = row.try_get(column)?;
        u16::try_from(points)
            .ok()
            .and_then(Share::from_basis_points)
            .ok_or_else(|| corrupt(column, &format!("{points} basis points")))
    };
    Ok(Export {
        id,
        name: row.try_get("name")?,
        connection_id: row
            .try_get::<Option<String>, _>("connection_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        list_id: parse_uuid(&row.try_get::<String, _>("list_id")?)?,
        mapping: serde_json::from_str(&mapping)
            .map_err(|error| corrupt("data matching", &error))?,
        schedule_override: schedule_override
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|error| corrupt("schedule", &error))?,
        sync_mode: sync_mode
            .parse()
            .map_err(|error: String| corrupt("sync mode", &error))?,
        guards: RemovalGuards {
            max_removal_share: share("max_removal_share")?,
            max_member_drop: share("max_member_drop")?,
        },
        verify: verify
            .parse()
            .map_err(|error: String| corrupt("verify schedule", &error))?,
        segment_ids,
        created_by: parse_uuid(&row.try_get::<String, _>("created_by")?)?,
        created_at: from_millis(row.try_get("created_at")?),
        updated_by: parse_uuid(&row.try_get::<String, _>("updated_by")?)?,
        updated_at: from_millis(row.try_get("updated_at")?),
    })
}

impl Store {
    /// Saves a new export with its segments, all or nothing.
    pub async fn create_export(&self, draft: &ExportDraft, by: Uuid) -> Result<Export, StoreError> {
        let id = Uuid::new_v4();
        let now = to_millis(Utc::now());
        let mut transaction = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO exports (id, name, connection_id, list_id, mapping, schedule_override, sync_mode, max_removal_share, max_member_drop, verify, created_by, created_at, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $9, $10, $11, $12, $7, $8, $7, $8)",
        )
        .bind(id.to_string())
        .bind(&draft.name)
        .bind(draft.connection_id.to_string())
        .bind(draft.list_id.to_string())
        .bind(draft.mapping_json())
        .bind(draft.schedule_json())
        .bind(by.to_string())
        .bind(now)
        .bind(draft.sync_mode.as_str())
        .bind(i64::from(draft.guards.max_removal_share.basis_points()))
        .bind(i64::from(draft.guards.max_member_drop.basis_points()))
        .bind(draft.verify.as_str())
        .execute(&mut *transaction)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if StoreError::is_unique_violation(&error) => {
                return Err(StoreError::Conflict {
                    kind: "export",
                    name: draft.name.clone(),
                });
            }
            Err(error) => return Err(error.into()),
        }
        insert_segments(&mut transaction, id, &draft.segment_ids).await?;
        transaction.commit().await?;
        self.export(id).await
    }

    pub async fn export(&self, id: Uuid) -> Result<Export, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM exports WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found(id))?;
        let segment_ids = self.export_segment_ids(id).await?;
        export_from_row(&row, segment_ids)
    }

    /// Every export, by name.
    pub async fn exports(&self) -> Result<Vec<Export>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM exports ORDER BY name"))
            .fetch_all(&self.pool)
            .await?;
        // Every export's segments in one query, not one query per export.
        let links = sqlx::query(
            "SELECT export_id, segment_id FROM export_segments ORDER BY export_id, position",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut segments: std::collections::HashMap<String, Vec<Uuid>> =
            std::collections::HashMap::new();
        for link in &links {
            let segment_id = parse_uuid(&link.try_get::<String, _>("segment_id")?)?;
            segments
                .entry(link.try_get("export_id")?)
                .or_default()
                .push(segment_id);
        }
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                export_from_row(row, segments.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn export_segment_ids(&self, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT segment_id FROM export_segments WHERE export_id = $1 ORDER BY position",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        ids.iter().map(|id| parse_uuid(id)).collect()
    }

    /// Replaces an export's settings and segments, all or nothing.
    pub async fn update_export(
        &self,
        id: Uuid,
        draft: &ExportDraft,
        by: Uuid,
    ) -> Result<Export, StoreError> {
        let mut transaction = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE exports SET name = $1, connection_id = $2, list_id = $3, mapping = $4, schedule_override = $5, updated_by = $6, updated_at = $7, sync_mode = $9, \
             max_removal_share = $10, max_member_drop = $11, verify = $12 WHERE id = $8",
        )
        .bind(&draft.name)
        .bind(draft.connection_id.to_string())
        .bind(draft.list_id.to_string())
        .bind(draft.mapping_json())
        .bind(draft.schedule_json())
        .bind(by.to_string())
        .bind(to_millis(Utc::now()))
        .bind(id.to_string())
        .bind(draft.sync_mode.as_str())
        .bind(i64::from(draft.guards.max_removal_share.basis_points()))
        .bind(i64::from(draft.guards.max_member_drop.basis_points()))
        .bind(draft.verify.as_str())
        .execute(&mut *transaction)
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 0 => return Err(not_found(id)),
            Ok(_) => {}
            Err(error) if StoreError::is_unique_violation(&error) => {
                return Err(StoreError::Conflict {
                    kind: "export",
                    name: draft.name.clone(),
                });
            }
            Err(error) => return Err(error.into()),
        }
        sqlx::query("DELETE FROM export_segments WHERE export_id = $1")
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        insert_segments(&mut transaction, id, &draft.segment_ids).await?;
        transaction.commit().await?;
        self.export(id).await
    }

    /// Detaches an export from its connection: it keeps its settings and cannot run until a
    /// connection is chosen again.
    pub async fn detach_export(&self, id: Uuid, by: Uuid) -> Result<Export, StoreError> {
        let done = sqlx::query("UPDATE exports SET connection_id = NULL, updated_by = $1, updated_at = $2 WHERE id = $3")
            .bind(by.to_string())
            .bind(to_millis(Utc::now()))
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        self.export(id).await
    }

    /// Removes an export with its run history.
    pub async fn delete_export(&self, id: Uuid) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM exports WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }
}

async fn insert_segments(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    export_id: Uuid,
    segment_ids: &[Uuid],
) -> Result<(), StoreError> {
    for (position, segment_id) in segment_ids.iter().enumerate() {
        sqlx::query(
            "INSERT INTO export_segments (export_id, segment_id, position) VALUES ($1, $2, $3)",
        )
        .bind(export_id.to_string())
        .bind(segment_id.to_string())
        .bind(position as i64)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
