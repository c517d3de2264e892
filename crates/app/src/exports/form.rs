//! An export as it is written, and everything about it that can be checked before saving: the
//! name, the connection, the segments, the data matching against the profiles, the schedule,
//! and the List ID and custom fields against Constant Contact.

use std::collections::BTreeMap;

use segsync_domain::schedule::RefreshSchedule;
use segsync_domain::{ContactField, FieldMapping, RemovalGuards, VerifySchedule};
use segsync_export::SyncMode;
use segsync_store::ExportDraft;
use serde::Deserialize;
use uuid::Uuid;

use crate::App;
use crate::caller::Contributor;
use crate::error::{AppError, Code, client_failure};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ExportForm {
    pub name: String,
    pub connection_id: Uuid,
    pub list_id: Uuid,
    /// Constant Contact field → profile attribute; `email` is required.
    pub mapping: BTreeMap<String, String>,
    pub segment_ids: Vec<Uuid>,
    #[serde(default)]
    pub schedule_override: Option<RefreshSchedule>,
    /// What runs do with the list; `add_only` when left out.
    #[serde(default)]
    pub sync_mode: SyncMode,
    /// How much a mirror run may remove of the list, and the segments' members drop since the
    /// last successful run, before it waits for a person's confirmation; 20 % and 50 % when
    /// left out.
    #[serde(default)]
    pub guards: RemovalGuards,
    /// When the export reads its list back: `after_run`, `daily` or `off` (when left out).
    #[serde(default)]
    pub verify: VerifySchedule,
}

/// The form as a draft the store saves, or the first thing wrong with it, naming its field.
pub(crate) async fn checked(
    app: &App,
    by: Contributor<'_>,
    form: &ExportForm,
) -> Result<ExportDraft, AppError> {
    let store = app.store();
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "an export name of 1 to 100 characters",
        ));
    }
    let connection = store
        .connection(form.connection_id)
        .await
        .map_err(|_| AppError::invalid("connection_id", "no such connection"))?;
    if !by.caller().may_use(&connection) {
        return Err(AppError::invalid(
            "connection_id",
            "only admins may use this connection; ask an administrator to share it",
        ));
    }
    if form.segment_ids.is_empty() {
        return Err(AppError::invalid(
            "segment_ids",
            "choose at least one segment",
        ));
    }
    for id in &form.segment_ids {
        store.segment(*id).await.map_err(|_| {
            AppError::invalid(
                "segment_ids",
                format!("no segment {id}; only segments can be exported"),
            )
        })?;
    }
    if !form.mapping.contains_key("email") {
        return Err(AppError::invalid(
            "mapping.email",
            "the Email field is required",
        ));
    }
    for field in form.mapping.keys().filter(|field| *field != "email") {
        field
            .parse::<ContactField>()
            .map_err(|problem| AppError::invalid(&format!("mapping.{field}"), problem))?;
    }
    if app.has_profiles() {
        let schema = app.profiles().await?.schema();
        for (field, attribute) in &form.mapping {
            if schema.get(attribute).is_none() {
                let hint = schema
                    .nearest(attribute)
                    .map(|near| format!("; did you mean {near:?}?"))
                    .unwrap_or_default();
                return Err(AppError::invalid(
                    &format!("mapping.{field}"),
                    format!("the profiles have no attribute {attribute:?}{hint}"),
                ));
            }
        }
    }
    if let Some(schedule) = &form.schedule_override {
        schedule
            .check()
            .map_err(|problem| AppError::invalid("schedule_override", problem))?;
    }
    let client = app.engine().clients().for_connection(&connection)?;
    // The list and the custom fields: two requests from the API key's daily budget.
    app.metered(&client, 2, async {
        match client.get_list(form.list_id).await {
            Ok(_) => {}
            Err(constant_contact::Error::Rejected { status: 404, .. }) => {
                return Err(AppError::new(
                    Code::ListNotFound,
                    format!(
                        "list_id: Constant Contact has no list {} in this account",
                        form.list_id
                    ),
                ));
            }
            Err(error) => return Err(client_failure(&connection, &error)),
        }
        let mapping = FieldMapping::from_names(&form.mapping)
            .map_err(|problem| AppError::new(Code::Invalid, problem.to_string()))?;
        let missing = segsync_export::missing_custom_fields(&client, &mapping)
            .await
            .map_err(|error| client_failure(&connection, &error))?;
        if let Some(first) = missing.first() {
            let keys: Vec<String> = missing.iter().map(|name| format!("cf:{name}")).collect();
            let field = format!("mapping.cf:{first}");
            return Err(AppError::new(Code::CustomFieldsMissing,
                format!(
                    "{field}: the Constant Contact account has no custom field {}; create {} in Constant Contact first or choose another field",
                    keys.join(", "),
                    if keys.len() == 1 { "it" } else { "them" }
                ),
            )
            .with_details(serde_json::json!({ "field": field, "missing": keys })));
        }
        Ok(())
    })
    .await?;
    Ok(ExportDraft {
        name: name.to_owned(),
        connection_id: connection.id,
        list_id: form.list_id,
        mapping: form.mapping.clone(),
        schedule_override: form.schedule_override.clone(),
        sync_mode: form.sync_mode,
        guards: form.guards,
        verify: form.verify,
        segment_ids: form.segment_ids.clone(),
    })
}
