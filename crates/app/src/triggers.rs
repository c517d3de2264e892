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
        answer_source_changed(self.app, Some(self.by.caller().user.id), changed, None).await
    }
}

/// Starts the on-change exports that read the source, said by `actor` (none: a webhook
/// segsync checked, named by `via`).
pub async fn answer_source_changed(
    app: &App,
    actor: Option<Uuid>,
    changed: &SourceChanged,
    via: Option<&str>,
) -> Result<TriggerAnswer, AppError> {
    let engine = app.engine();
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
    let exports = app.store().exports().await?;
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
        app.store(),
        actor,
        "source_changed",
        Subject {
            kind: "source",
            id: source.unwrap_or("*").to_owned(),
            name: source.unwrap_or("every source"),
        },
        Some(serde_json::json!({
            "via": via,
            "version": changed.version,
            "started": answer.started.len(),
            "held": answer.held.len(),
        })),
    )
    .await?;
    Ok(answer)
}

/// Whether `signature` (hex, any case) is the HMAC-SHA256 of `body` under `secret`, as dbt
/// Cloud signs its webhooks; compared in constant time.
pub fn signed_by(secret: &str, body: &[u8], signature: &str) -> bool {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let expected = crate::secrets::to_hex(&mac.finalize().into_bytes());
    crate::secrets::secrets_match(&signature.trim().to_ascii_lowercase(), &expected)
}

#[cfg(test)]
mod tests {
    use super::signed_by;

    #[test]
    fn a_body_signed_with_the_secret_passes_and_any_other_does_not() {
        let right = {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"secret").unwrap();
            mac.update(b"{}");
            crate::secrets::to_hex(&mac.finalize().into_bytes())
        };
        assert!(signed_by("secret", b"{}", &right));
        assert!(signed_by("secret", b"{}", &right.to_ascii_uppercase()));
        assert!(!signed_by("secret", b"{ }", &right));
        assert!(!signed_by("other", b"{}", &right));
        assert!(!signed_by("secret", b"{}", ""));
    }
}
