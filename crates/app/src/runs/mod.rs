//! Runs: every signed-in caller reads them; whoever may manage an export runs it now, dry-runs
//! it and cancels its runs, and contributors run all scheduled exports at once. Runs are carried
//! out by the run engine's workers (`segsync_runs`), never by the request that asked for them.

mod per_day;
mod skipped_csv;
mod view;

pub use per_day::{MAX_DAYS, RunDay};
pub use view::{RunAllView, RunOptions, RunView};

use std::collections::HashMap;

use segsync_domain::ChainExt;
use segsync_export::{DryRunReport, ExportError};
use segsync_runs::schedule::{has_active_schedule, system_schedule};
use segsync_runs::{DryRunError, Started};
use segsync_store::{Export, QueueError, RunFilter, RunPurpose, RunStatus, Trigger};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::{Caller, Contributor};
use crate::error::{AppError, Code, client_failure};
use crate::exports::{manageable, may_manage};

/// Reading runs.
pub struct Runs<'a> {
    app: &'a App,
    caller: &'a Caller,
}

impl<'a> Runs<'a> {
    pub(crate) fn new(app: &'a App, caller: &'a Caller) -> Self {
        Self { app, caller }
    }

    /// Runs newest first, `limit` of them after `offset`, each with its export's name.
    pub async fn list(
        &self,
        filter: &RunFilter,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<RunView>, AppError> {
        let store = self.app.store();
        let runs = store.runs(filter, limit, offset).await?;
        let names: HashMap<Uuid, String> = store
            .exports()
            .await?
            .into_iter()
            .map(|export| (export.id, export.name))
            .collect();
        Ok(runs
            .into_iter()
            .map(|run| {
                let name = names.get(&run.export_id).cloned();
                RunView::of(run, name)
            })
            .collect())
    }

    /// An export's runs, newest first; `not_found` when there is no such export.
    pub async fn history(
        &self,
        export_id: Uuid,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<RunView>, AppError> {
        let store = self.app.store();
        let export = store.export(export_id).await?;
        let filter = RunFilter {
            export_id: Some(export_id),
            ..RunFilter::default()
        };
        let runs = store.runs(&filter, limit, offset).await?;
        Ok(runs
            .into_iter()
            .map(|run| RunView::of(run, Some(export.name.clone())))
            .collect())
    }

    /// How many runs ended in each status on each of the last `days` (today included).
    pub async fn per_day(&self, days: u32) -> Result<Vec<RunDay>, AppError> {
        per_day::per_day(self.app.store(), days).await
    }

    /// The members the run left out because of their email, as CSV chunks (`email,reason`)
    /// written as they are taken; `not_found` when there is no such run. Only those who may
    /// manage the run's export may have them, and only within `[retention] run_details_days`
    /// (the rows are purged after).
    pub async fn skipped_csv(
        &self,
        id: Uuid,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>, AppError> {
        let run = self.app.store().run(id).await?;
        let export = self.app.store().export(run.export_id).await?;
        if !may_manage(self.app.store(), self.caller, &export).await? {
            return Err(AppError::forbidden("download a run's skipped members"));
        }
        Ok(skipped_csv::skipped_csv(self.app.store().clone(), id))
    }

    /// Whether the caller may cancel `run`: it is still going, and they may manage its export.
    pub async fn may_cancel(&self, run: &RunView) -> bool {
        run.status.is_active() && self.may_manage(run).await
    }

    /// Whether the caller may manage `run`'s export (and so decide on the run and download
    /// its skipped members).
    pub async fn may_manage(&self, run: &RunView) -> bool {
        match self.app.store().export(run.export_id).await {
            Ok(export) => may_manage(self.app.store(), self.caller, &export)
                .await
                .unwrap_or(false),
            Err(_) => false,
        }
    }

    pub async fn get(&self, id: Uuid) -> Result<RunView, AppError> {
        let store = self.app.store();
        let run = store.run(id).await?;
        let name = store.export(run.export_id).await.ok().map(|e| e.name);
        Ok(RunView::of(run, name))
    }
}

/// Running exports now, dry-running them, cancelling runs.
pub struct RunControl<'a> {
    app: &'a App,
    by: Contributor<'a>,
}

impl<'a> RunControl<'a> {
    pub(crate) fn new(app: &'a App, by: Contributor<'a>) -> Self {
        Self { app, by }
    }

    /// Queues a run of the export now: members new or changed since it last sent them, or
    /// everyone with `full_resync`. A run already queued or running is `run_in_progress` with
    /// its id in `details.run_id`.
    pub async fn run_now(&self, id: Uuid, options: RunOptions) -> Result<RunView, AppError> {
        self.queue_now(id, options, RunPurpose::Sync).await
    }

    /// Queues a run that only reads the export's list back: what it holds against what the
    /// export means it to hold, by cause, the ledger corrected so the next run adds back what
    /// someone removed. Nothing is sent. A run already queued or running is `run_in_progress`.
    pub async fn verify_now(&self, id: Uuid) -> Result<RunView, AppError> {
        self.queue_now(id, RunOptions::default(), RunPurpose::Verify)
            .await
    }

    async fn queue_now(
        &self,
        id: Uuid,
        options: RunOptions,
        purpose: RunPurpose,
    ) -> Result<RunView, AppError> {
        let store = self.app.store();
        let export = self
            .manageable(
                id,
                match purpose {
                    RunPurpose::Sync => "run this export",
                    RunPurpose::Verify => "read this export's list back",
                },
            )
            .await?;
        let Some(connection_id) = export.connection_id else {
            return Err(AppError::new(
                Code::ExportDetached,
                "the export has no connection; choose one before running it",
            ));
        };
        let connection = store.connection(connection_id).await?;
        let Some(export_user) = connection.export_user_id else {
            return Err(AppError::new(
                Code::NoExportUser,
                format!(
                    "the connection {:?} has no export user; an admin must add themselves as its export user",
                    connection.name
                ),
            ));
        };
        let by = Some(self.user_id());
        let queued = match purpose {
            RunPurpose::Sync => {
                store
                    .queue_run_with(
                        id,
                        Trigger::Manual,
                        by,
                        Some(export_user),
                        options.full_resync,
                    )
                    .await
            }
            RunPurpose::Verify => {
                store
                    .queue_verification(id, Trigger::Manual, by, Some(export_user))
                    .await
            }
        };
        let run = match queued {
            Ok(run) => run,
            Err(QueueError::AlreadyActive(active)) => {
                return Err(AppError::new(
                    Code::RunInProgress,
                    format!(
                        "run {active} of this export is queued, running or awaiting confirmation; wait for it, confirm it or cancel it"
                    ),
                )
                .with_details(serde_json::json!({ "run_id": active })));
            }
            Err(QueueError::Store(error)) => return Err(error.into()),
        };
        self.app.engine().run_queued();
        let subject = Subject {
            kind: "export",
            id: export.id.to_string(),
            name: &export.name,
        };
        let (action, detail) = match purpose {
            RunPurpose::Sync => ("ran", serde_json::json!({ "run_id": run.id })),
            RunPurpose::Verify => ("verified", serde_json::json!({ "run_id": run.id })),
        };
        record(store, Some(self.user_id()), action, subject, Some(detail)).await?;
        Ok(RunView::of(run, Some(export.name)))
    }

    /// Runs every export with an active schedule that the caller may run, as "Run all" does in
    /// the original: exports already running are recorded as Skipped with the reason.
    pub async fn run_all(&self) -> Result<RunAllView, AppError> {
        let store = self.app.store();
        let system = system_schedule(store).await?;
        let mut answer = RunAllView {
            queued: Vec::new(),
            skipped: Vec::new(),
        };
        for export in store.exports().await? {
            if !has_active_schedule(&export, &system)
                || !may_manage(store, self.by.caller(), &export).await?
            {
                continue;
            }
            match self
                .app
                .engine()
                .start(&export, Trigger::RunAll, Some(self.user_id()))
                .await?
            {
                Started::Queued(run) => answer.queued.push(RunView::of(run, Some(export.name))),
                Started::Skipped(run) => answer.skipped.push(RunView::of(run, Some(export.name))),
            }
        }
        let subject = Subject {
            kind: "exports",
            id: "run-all".to_owned(),
            name: "Run all",
        };
        let detail =
            serde_json::json!({ "queued": answer.queued.len(), "skipped": answer.skipped.len() });
        record(store, Some(self.user_id()), "ran", subject, Some(detail)).await?;
        Ok(answer)
    }

    /// Asks a queued or running run to stop: a queued one ends at once, a running one after
    /// its batch in flight; a run awaiting confirmation is discarded. A run that has ended is
    /// `run_ended`.
    pub async fn cancel(&self, id: Uuid) -> Result<RunView, AppError> {
        let store = self.app.store();
        let run = store.run(id).await?;
        if run.status == RunStatus::AwaitingConfirmation {
            return self.discard(id).await;
        }
        let export = self
            .manageable(run.export_id, "cancel runs of this export")
            .await?;
        if !store.request_cancel(id).await? {
            return Err(AppError::new(
                Code::RunEnded,
                format!("run {id} has already ended"),
            ));
        }
        // A run no worker has claimed ends now; a claimed one sees the flag within a second.
        let reason = format!(
            "cancelled by {} before it started",
            self.by.caller().user.username
        );
        store.cancel_queued_run(id, &reason).await?;
        self.record_on(&export, id, "cancelled", None).await?;
        let run = store.run(id).await?;
        Ok(RunView::of(run, Some(export.name)))
    }

    /// Lets a run a guard stopped go on: it is queued again, allowed to remove as many contacts
    /// as it planned (a run that finds more stops again). A run that does not await
    /// confirmation is `not_awaiting_confirmation`.
    pub async fn confirm(&self, id: Uuid) -> Result<RunView, AppError> {
        let store = self.app.store();
        let run = store.run(id).await?;
        let export = self
            .manageable(run.export_id, "confirm runs of this export")
            .await?;
        let planned = match (&run.guard, run.status) {
            (Some(guard), RunStatus::AwaitingConfirmation) => guard.removals_planned,
            _ => return Err(not_awaiting(id)),
        };
        if !store.confirm_run(id, self.user_id(), planned).await? {
            return Err(not_awaiting(id));
        }
        self.app.engine().run_queued();
        let detail = serde_json::json!({ "removals": planned });
        self.record_on(&export, id, "confirmed", Some(detail))
            .await?;
        Ok(RunView::of(store.run(id).await?, Some(export.name)))
    }

    /// Ends a run a guard stopped, sending nothing: it is Cancelled and frees its export. A run
    /// that does not await confirmation is `not_awaiting_confirmation`.
    pub async fn discard(&self, id: Uuid) -> Result<RunView, AppError> {
        let store = self.app.store();
        let run = store.run(id).await?;
        let export = self
            .manageable(run.export_id, "discard runs of this export")
            .await?;
        let reason = format!(
            "discarded by {}: a guard stopped it and nothing was sent",
            self.by.caller().user.username
        );
        if !store.discard_run(id, &reason).await? {
            return Err(not_awaiting(id));
        }
        self.record_on(&export, id, "discarded", None).await?;
        Ok(RunView::of(store.run(id).await?, Some(export.name)))
    }

    /// Audits `action` on the run `run_id` of `export`, by the caller.
    async fn record_on(
        &self,
        export: &Export,
        run_id: Uuid,
        action: &str,
        detail: Option<serde_json::Value>,
    ) -> Result<(), AppError> {
        let subject = Subject {
            kind: "run",
            id: run_id.to_string(),
            name: &export.name,
        };
        record(
            self.app.store(),
            Some(self.user_id()),
            action,
            subject,
            detail,
        )
        .await?;
        Ok(())
    }

    /// What a run of the export would do, sending nothing: members it would add, update and
    /// leave unchanged, members it would remove (mirror mode), skips by reason with samples, and
    /// the requests it needs against the quota left today. Why a run could not start is
    /// `cannot_run`.
    pub async fn dry_run(&self, id: Uuid, options: RunOptions) -> Result<DryRunReport, AppError> {
        self.manageable(id, "dry-run this export").await?;
        let engine = self.app.engine();
        let place = engine.evaluations().try_place()?;
        let prepared = engine
            .prepare(id, Some(place))
            .await
            .map_err(|failure| AppError::new(Code::CannotRun, failure.chain().to_string()))?;
        // What it reads of the list comes from the API key's daily budget, as a run's would.
        // The evaluation's future is large: it lives on the heap, not in every caller's.
        self.app
            .metered(
                &prepared.client,
                1,
                Box::pin(async {
                    segsync_runs::dry_run(self.app.store(), &prepared, options.full_resync)
                        .await
                        .map_err(|error| match error {
                            DryRunError::Ledger(error) => error.into(),
                            DryRunError::Export(ExportError::ConstantContact(error)) => {
                                client_failure(&prepared.connection, &error)
                            }
                            DryRunError::Export(error) => {
                                AppError::new(Code::CannotRun, error.chain().to_string())
                            }
                        })
                }),
            )
            .await
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }

    async fn manageable(&self, id: Uuid, what: &str) -> Result<Export, AppError> {
        manageable(self.app.store(), self.by.caller(), id, what).await
    }
}

/// A run that does not wait for a person's confirmation.
fn not_awaiting(id: Uuid) -> AppError {
    AppError::new(
        Code::NotAwaitingConfirmation,
        format!("run {id} does not await confirmation"),
    )
}
