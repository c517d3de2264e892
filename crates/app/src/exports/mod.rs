//! Exports: every signed-in caller reads them; contributors and admins save, duplicate, detach
//! and remove them on connections they may use. Saving checks everything that can be checked
//! (`form.rs`) and runs nothing.

mod form;
mod view;

pub use form::ExportForm;
pub(crate) use view::manageable;
pub use view::{ExportView, Permissions, may_manage};

use segsync_store::{Export, ExportDraft};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::{Caller, Contributor};
use crate::error::AppError;

/// Reading exports.
pub struct Exports<'a> {
    app: &'a App,
    caller: &'a Caller,
}

impl<'a> Exports<'a> {
    pub(crate) fn new(app: &'a App, caller: &'a Caller) -> Self {
        Self { app, caller }
    }

    /// Every export, by name.
    pub async fn all(&self) -> Result<Vec<Export>, AppError> {
        Ok(self.app.store().exports().await?)
    }

    /// An export as the caller sees it.
    pub async fn view(&self, export: Export) -> Result<ExportView, AppError> {
        view::view(self.app.store(), self.caller, export).await
    }

    pub async fn get(&self, id: Uuid) -> Result<ExportView, AppError> {
        let export = self.app.store().export(id).await?;
        self.view(export).await
    }
}

/// Saving, duplicating, detaching and removing exports.
pub struct ExportChanges<'a> {
    app: &'a App,
    by: Contributor<'a>,
}

impl<'a> ExportChanges<'a> {
    pub(crate) fn new(app: &'a App, by: Contributor<'a>) -> Self {
        Self { app, by }
    }

    /// Saves a new export. It does not run.
    pub async fn create(&self, form: &ExportForm) -> Result<ExportView, AppError> {
        let draft = form::checked(self.app, self.by, form).await?;
        let export = self
            .app
            .store()
            .create_export(&draft, self.user_id())
            .await?;
        self.audit("created", &export, None).await?;
        self.view(export).await
    }

    pub async fn update(&self, id: Uuid, form: &ExportForm) -> Result<ExportView, AppError> {
        self.manageable(id, "change this export").await?;
        let draft = form::checked(self.app, self.by, form).await?;
        let export = self
            .app
            .store()
            .update_export(id, &draft, self.user_id())
            .await?;
        self.audit("changed", &export, None).await?;
        self.view(export).await
    }

    /// A copy of the export under the first free name "… (copy)", "… (copy 2)", ….
    pub async fn duplicate(&self, id: Uuid) -> Result<ExportView, AppError> {
        let original = self.manageable(id, "duplicate this export").await?;
        let Some(connection_id) = original.connection_id else {
            return Err(AppError::invalid(
                "connection_id",
                "choose a connection for the export before duplicating it",
            ));
        };
        let names: Vec<String> = self
            .app
            .store()
            .exports()
            .await?
            .into_iter()
            .map(|export| export.name)
            .collect();
        let name = (1..)
            .map(|n| {
                if n == 1 {
                    format!("{} (copy)", original.name)
                } else {
                    format!("{} (copy {n})", original.name)
                }
            })
            .find(|name| !names.contains(name))
            .expect("some name is free");
        let draft = ExportDraft {
            name,
            connection_id,
            list_id: original.list_id,
            mapping: original.mapping.clone(),
            schedule_override: original.schedule_override.clone(),
            sync_mode: original.sync_mode,
            guards: original.guards,
            verify: original.verify,
            segment_ids: original.segment_ids.clone(),
        };
        let copy = self
            .app
            .store()
            .create_export(&draft, self.user_id())
            .await?;
        let detail = serde_json::json!({ "duplicate_of": original.id });
        self.audit("created", &copy, Some(detail)).await?;
        self.view(copy).await
    }

    /// Takes the export off its connection: it keeps its settings and no longer runs.
    pub async fn detach(&self, id: Uuid) -> Result<ExportView, AppError> {
        self.manageable(id, "detach this export").await?;
        let export = self.app.store().detach_export(id, self.user_id()).await?;
        self.audit("detached", &export, None).await?;
        self.view(export).await
    }

    pub async fn remove(&self, id: Uuid) -> Result<(), AppError> {
        let export = self.manageable(id, "remove this export").await?;
        self.app.store().delete_export(id).await?;
        self.audit("removed", &export, None).await
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }

    async fn view(&self, export: Export) -> Result<ExportView, AppError> {
        view::view(self.app.store(), self.by.caller(), export).await
    }

    async fn manageable(&self, id: Uuid, what: &str) -> Result<Export, AppError> {
        manageable(self.app.store(), self.by.caller(), id, what).await
    }

    async fn audit(
        &self,
        action: &str,
        export: &Export,
        detail: Option<serde_json::Value>,
    ) -> Result<(), AppError> {
        let subject = Subject {
            kind: "export",
            id: export.id.to_string(),
            name: &export.name,
        };
        record(
            self.app.store(),
            Some(self.user_id()),
            action,
            subject,
            detail,
        )
        .await
    }
}
