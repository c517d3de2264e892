//! An export as the caller sees it, with what they may do with it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use segsync_domain::schedule::RefreshSchedule;
use segsync_domain::{RemovalGuards, VerifySchedule};
use segsync_export::SyncMode;
use segsync_store::{Export, Role, Store, UsableBy};
use serde::Serialize;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::AppError;

/// What the caller may do with an export.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Permissions {
    pub edit: bool,
    pub run: bool,
    pub duplicate: bool,
    pub detach: bool,
    pub remove: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportView {
    pub id: Uuid,
    pub name: String,
    pub connection_id: Option<Uuid>,
    pub list_id: Uuid,
    /// Constant Contact field → profile attribute.
    pub mapping: BTreeMap<String, String>,
    pub segment_ids: Vec<Uuid>,
    pub schedule_override: Option<RefreshSchedule>,
    pub sync_mode: SyncMode,
    /// How much a mirror run may remove, and the segments' members drop, without confirmation.
    pub guards: RemovalGuards,
    /// When the export reads its list back.
    pub verify: VerifySchedule,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub you_may: Permissions,
}

/// Whether `caller` may change, run, duplicate, detach or remove `export`: admins always,
/// contributors when its connection is shared with them (or it has none), viewers never.
pub async fn may_manage(store: &Store, caller: &Caller, export: &Export) -> Result<bool, AppError> {
    Ok(match caller.user.role {
        Role::Admin => true,
        Role::Viewer => false,
        Role::Contributor => match export.connection_id {
            None => true,
            Some(id) => store.connection(id).await?.usable_by == UsableBy::AdminsAndContributors,
        },
    })
}

pub(crate) async fn view(
    store: &Store,
    caller: &Caller,
    export: Export,
) -> Result<ExportView, AppError> {
    let manage = may_manage(store, caller, &export).await?;
    Ok(ExportView {
        id: export.id,
        name: export.name,
        connection_id: export.connection_id,
        list_id: export.list_id,
        mapping: export.mapping,
        segment_ids: export.segment_ids,
        schedule_override: export.schedule_override,
        sync_mode: export.sync_mode,
        guards: export.guards,
        verify: export.verify,
        created_at: export.created_at,
        updated_at: export.updated_at,
        you_may: Permissions {
            edit: manage,
            run: manage && export.connection_id.is_some(),
            duplicate: manage,
            detach: manage && export.connection_id.is_some(),
            remove: manage,
        },
    })
}

/// The export, when `caller` may manage it; 403 naming `what` otherwise.
pub(crate) async fn manageable(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    what: &str,
) -> Result<Export, AppError> {
    let export = store.export(id).await?;
    if !may_manage(store, caller, &export).await? {
        return Err(AppError::forbidden(what));
    }
    Ok(export)
}
