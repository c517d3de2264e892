//! Personal data: erasure per person, subject access, retention and what is held. Admins only;
//! every erasure and lookup is audited by the keyed hash, never by the address.

pub mod housekeeping;
pub mod retention;

use chrono::{DateTime, Utc};
use segsync_domain::{Email, ErasureReceipt};
use segsync_export::{email_key, keyed_hash_hex};
use segsync_runs::installation_hash_key;
use segsync_store::{Erasure, ErasureState};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::Admin;
use crate::error::{AppError, Code};
use crate::exclusions::{RefusedAddress, parse_addresses};
use retention::HeldView;

/// People to erase: addresses one per line, or a CSV whose header names an `email` column.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ErasureForm {
    pub emails: Vec<String>,
}

/// One erasure: where it stands and its receipt (people named by keyed hash only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureView {
    pub id: Uuid,
    /// `requested`, `removing`, `done` or `failed`.
    pub state: String,
    pub requested_by: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub people: u64,
    /// Why the removal failed, when it did (retry it).
    pub failure: Option<String>,
    pub attempts: u64,
    pub receipt: ErasureReceipt,
}

/// A request taken: the erasure, and the values refused as not being addresses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureRequested {
    pub erasure: ErasureView,
    pub refused: Vec<RefusedAddress>,
}

/// What segsync holds about one address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectAccess {
    pub email: String,
    /// The keyed hash exclusions and tombstones know it by.
    pub hash: String,
    /// Exports whose ledgers sent it.
    pub sent_by: Vec<SentView>,
    /// Runs that left it out, and why (kept for `run_details_days`).
    pub skipped: Vec<SkippedView>,
    /// Opt-outs learned from Constant Contact, per connection.
    pub opt_outs: Vec<OptOutHeld>,
    /// Whether an admin excluded it (exclusions sources are not read for a lookup).
    pub excluded: bool,
    /// When it was erased, if it was: no export sends it again.
    pub erased_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SentView {
    pub export_id: Uuid,
    pub export_name: String,
    pub connection_id: Option<Uuid>,
    pub list_id: String,
    /// The fields the export sends (its mapping: Constant Contact field → profile attribute);
    /// segsync keeps only a fingerprint of the values last sent, not the values.
    pub fields: Vec<String>,
    /// The fingerprint of the fields as last sent, in hex.
    pub fingerprint: String,
    pub put_on_list_by_segsync: bool,
    pub unsubscribed: bool,
    pub last_sent_by_run: Option<Uuid>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SkippedView {
    pub run_id: Uuid,
    pub export_id: Uuid,
    pub queued_at: DateTime<Utc>,
    pub email_as_written: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OptOutHeld {
    pub connection_id: Uuid,
    pub contact_id: Option<Uuid>,
    pub opted_out_at: Option<String>,
    pub opt_out_source: Option<String>,
    pub reason: Option<String>,
    pub learned_at: DateTime<Utc>,
}

pub fn erasure_view(erasure: Erasure) -> ErasureView {
    ErasureView {
        id: erasure.id,
        state: erasure.state.as_str().to_owned(),
        requested_by: erasure.requested_by,
        requested_at: erasure.requested_at,
        updated_at: erasure.updated_at,
        people: erasure.people,
        failure: erasure.failure,
        attempts: erasure.attempts,
        receipt: serde_json::from_value(erasure.receipt).unwrap_or_default(),
    }
}

/// Serving erasure and access requests: admins.
pub struct Privacy<'a> {
    app: &'a App,
    by: Admin<'a>,
}

impl<'a> Privacy<'a> {
    pub(crate) fn new(app: &'a App, by: Admin<'a>) -> Self {
        Self { app, by }
    }

    /// Erases the addresses given: their tombstones are in force when this returns, and the
    /// job that purges the store and takes them off the lists starts at once.
    pub async fn erase(&self, form: &ErasureForm) -> Result<ErasureRequested, AppError> {
        let requested = request_erasure(self.app, Some(self.user_id()), form).await?;
        carry_out_in_background(self.app, requested.erasure.id);
        Ok(requested)
    }

    /// The latest erasures, newest first.
    pub async fn erasures(&self) -> Result<Vec<ErasureView>, AppError> {
        Ok(self
            .app
            .store()
            .erasures(200)
            .await?
            .into_iter()
            .map(erasure_view)
            .collect())
    }

    pub async fn erasure(&self, id: Uuid) -> Result<ErasureView, AppError> {
        Ok(erasure_view(self.app.store().erasure(id).await?))
    }

    /// Carries a failed erasure out again (its tombstones were in force all along).
    pub async fn retry(&self, id: Uuid) -> Result<ErasureView, AppError> {
        let erasure = self.app.store().erasure(id).await?;
        if erasure.state != ErasureState::Failed || !self.app.store().retry_erasure(id).await? {
            return Err(AppError::new(
                Code::ErasureNotFailed,
                format!("erasure {id} is {}, not failed", erasure.state.as_str()),
            ));
        }
        audit_erasure(
            self.app,
            Some(self.user_id()),
            "erasure_retried",
            id,
            erasure.people,
        )
        .await?;
        carry_out_in_background(self.app, id);
        self.erasure(id).await
    }

    /// What segsync holds about `email`.
    pub async fn lookup(&self, email: &str) -> Result<SubjectAccess, AppError> {
        subject_access(self.app, Some(self.user_id()), email).await
    }

    /// What the store holds that ages out, and when it goes.
    pub async fn held(&self) -> Result<HeldView, AppError> {
        Ok(self
            .app
            .retention()
            .view(&self.app.store().held_data().await?))
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }
}

/// Records an erasure of the addresses given for `actor` (none: the command line): their
/// tombstones are in force when this returns; the job waits to be carried out.
pub async fn request_erasure(
    app: &App,
    actor: Option<Uuid>,
    form: &ErasureForm,
) -> Result<ErasureRequested, AppError> {
    let (emails, refused) = parse_addresses(&form.emails)?;
    if emails.is_empty() {
        return Err(AppError::new(
            Code::Invalid,
            format!(
                "emails: none of the {} values given is an address (line {}: {})",
                refused.len(),
                refused[0].line,
                refused[0].problem
            ),
        ));
    }
    let id = app
        .engine()
        .request_erasure(actor, &emails)
        .await
        .map_err(AppError::internal)?;
    audit_erasure(app, actor, "erasure_requested", id, emails.len() as u64).await?;
    Ok(ErasureRequested {
        erasure: erasure_view(app.store().erasure(id).await?),
        refused,
    })
}

fn carry_out_in_background(app: &App, id: Uuid) {
    let engine = app.engine().clone();
    tokio::spawn(async move {
        if let Err(error) = engine.carry_out_erasure(id).await {
            tracing::warn!(erasure = %id, error = %segsync_domain::ChainExt::chain(&error), "An erasure could not be carried out now; the next round tries again.");
        }
    });
}

/// Audited by how many people, never which.
async fn audit_erasure(
    app: &App,
    actor: Option<Uuid>,
    action: &str,
    id: Uuid,
    people: u64,
) -> Result<(), AppError> {
    record(
        app.store(),
        actor,
        action,
        Subject {
            kind: "erasure",
            id: id.to_string(),
            name: "erasure",
        },
        Some(serde_json::json!({ "people": people })),
    )
    .await
}

/// What segsync holds about `email`, looked up by `actor` (none: the command line).
pub async fn subject_access(
    app: &App,
    actor: Option<Uuid>,
    email: &str,
) -> Result<SubjectAccess, AppError> {
    let email = Email::parse(email)
        .map_err(|problem| AppError::new(Code::Invalid, format!("email: {problem}")))?;
    let address = email.as_str();
    let store = app.store();
    let key = installation_hash_key(store, app.engine().clients().sealer())
        .await
        .map_err(AppError::internal)?;
    let hash = keyed_hash_hex(&key, address);
    let records = store.person_records(address, email_key(address)).await?;
    let exports = store.exports().await?;
    let sent_by = records
        .sent_by
        .into_iter()
        .map(|sent| {
            let export = exports.iter().find(|export| export.id == sent.export_id);
            SentView {
                export_id: sent.export_id,
                export_name: sent.export_name,
                connection_id: export.and_then(|export| export.connection_id),
                list_id: sent.list_id,
                fields: export
                    .map(|export| export.mapping.keys().cloned().collect())
                    .unwrap_or_default(),
                fingerprint: format!("{:016x}", sent.fingerprint),
                put_on_list_by_segsync: sent.owned,
                unsubscribed: sent.unsubscribed,
                last_sent_by_run: sent.last_sent_by_run,
                last_sent_at: sent.last_sent_at,
            }
        })
        .collect();
    let excluded = store.exclusion_hashes().await?.contains(&hash);
    let erased_at = store.tombstone(&hash).await?;
    let access = SubjectAccess {
        email: address.to_owned(),
        hash: hash.clone(),
        sent_by,
        skipped: records
            .skipped
            .into_iter()
            .map(|skipped| SkippedView {
                run_id: skipped.run_id,
                export_id: skipped.export_id,
                queued_at: skipped.queued_at,
                email_as_written: skipped.email_as_written,
                reason: skipped.reason,
            })
            .collect(),
        opt_outs: records
            .opt_outs
            .into_iter()
            .map(|opt_out| OptOutHeld {
                connection_id: opt_out.connection_id,
                contact_id: opt_out.contact_id,
                opted_out_at: opt_out.opted_out_at,
                opt_out_source: opt_out.opt_out_source,
                reason: opt_out.reason,
                learned_at: opt_out.learned_at,
            })
            .collect(),
        excluded,
        erased_at,
    };
    record(
        store,
        actor,
        "subject_access_lookup",
        Subject {
            kind: "privacy",
            id: hash,
            name: "subject access",
        },
        None,
    )
    .await?;
    Ok(access)
}
