//! A pipeline's word: a source changed, so the exports that follow the data and read it run
//! now. Contributors and admins, typically through an API token scoped to triggering only.

use chrono::Utc;
use segsync_runs::follow::{PROFILES, Triggered};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::Contributor;
use crate::error::{AppError, Code};
use crate::runs::RunView;

/// Which source changed: `profiles`, or a related table by its configured name; none means
/// every source. `version` is what the pipeline wrote (recorded in the audit log).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SourceChanged {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// An export that did not start, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldExport {
    pub export_id: Uuid,
    pub reason: String,
}

/// The runs a trigger started (follow each with `GET /api/v1/runs/{id}` until it ends), and
/// the exports it held back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TriggerAnswer {
    pub started: Vec<RunView>,
    pub held: Vec<HeldExport>,
}

/// Telling segsync a source changed: contributors and admins.
pub struct Triggers<'a> {
    app: &'a App,
    by: Contributor<'a>,
}

impl<'a> Triggers<'a> {
    pub(crate) fn new(app: &'a App, by: Contributor<'a>) -> Self {
        Self { app, by }
    }

    /// Starts the on-change exports that read the source.
    pub async fn source_changed(&self, changed: &SourceChanged) -> Result<TriggerAnswer, AppError> {
        let engine = self.app.engine();
        let source = changed.source.as_deref().map(str::trim);
        if let Some(source) = source {
            let known: Vec<&str> = std::iter::once(PROFILES)
                .chain(
                    engine
                        .settings()
                        .related
                        .iter()
                        .map(|table| table.name.as_str()),
                )
                .collect();
            if !known.contains(&source) {
                return Err(AppError::new(
                    Code::Invalid,
                    format!(
                        "source: no source is named {source:?}; the sources are {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        let answers = engine
            .source_changed(source, Utc::now())
            .await
            .map_err(AppError::from)?;
        let exports = self.app.store().exports().await?;
        let name_of = |id: Uuid| {
            exports
                .iter()
                .find(|export| export.id == id)
                .map(|export| export.name.clone())
        };
        let mut answer = TriggerAnswer {
            started: Vec::new(),
            held: Vec::new(),
        };
        for triggered in answers {
            match triggered {
                Triggered::Started(started) => {
                    let run = started.run().clone();
                    let name = name_of(run.export_id);
                    answer.started.push(RunView::of(run, name));
                }
                Triggered::Held { export, reason } => answer.held.push(HeldExport {
                    export_id: export,
                    reason,
                }),
            }
        }
        record(
            self.app.store(),
            Some(self.by.caller().user.id),
            "source_changed",
            Subject {
                kind: "source",
                id: source.unwrap_or("*").to_owned(),
                name: source.unwrap_or("every source"),
            },
            Some(serde_json::json!({
                "version": changed.version,
                "started": answer.started.len(),
                "held": answer.held.len(),
            })),
        )
        .await?;
        Ok(answer)
    }
}
