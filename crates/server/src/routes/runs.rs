//! Runs: run an export now, run all scheduled exports, cancel, and read runs with their
//! progress and report. Whoever may manage an export may run and cancel it; everyone reads.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use segsync_domain::RunProgress;
use segsync_domain::run_report::RunReport;
use segsync_store::{QueueError, Role, Run, RunFilter, RunStatus, Trigger};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::exports::may_manage;
use super::paging::{PageQuery, Paged};
use crate::audit::{Subject, record};
use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::state::AppState;
use segsync_runs::Started;
use segsync_runs::schedule::{has_active_schedule, system_schedule};

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RunView {
    pub(crate) id: Uuid,
    pub(crate) export_id: Uuid,
    /// The export's name, when it still exists.
    pub(crate) export_name: Option<String>,
    pub(crate) status: RunStatus,
    pub(crate) reason: Option<String>,
    pub(crate) trigger: Trigger,
    pub(crate) requested_by: Option<Uuid>,
    /// The connection's export user, whom the run acts as.
    pub(crate) acting_user: Option<Uuid>,
    pub(crate) queued_at: DateTime<Utc>,
    pub(crate) started_at: Option<DateTime<Utc>>,
    pub(crate) finished_at: Option<DateTime<Utc>>,
    /// While it runs: phase, members counted and processed, contacts and imports sent.
    pub(crate) progress: Option<RunProgress>,
    /// When it has ended: the report that accounts for every profile.
    pub(crate) report: Option<RunReport>,
    pub(crate) cancel_requested: bool,
    /// Every member sent, changed or not.
    pub(crate) full_resync: bool,
    /// Times the run was taken up again after its process died.
    pub(crate) resumed: u32,
}

/// How to run an export.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct RunOptions {
    /// Send every member, changed or not (those known unsubscribed excepted), instead of only
    /// those new or changed since the export last sent them.
    #[serde(default)]
    pub(crate) full_resync: bool,
}

fn view(run: Run, export_name: Option<String>) -> RunView {
    RunView {
        id: run.id,
        export_id: run.export_id,
        export_name,
        status: run.status,
        reason: run.reason,
        trigger: run.trigger,
        requested_by: run.requested_by,
        acting_user: run.acting_user,
        queued_at: run.queued_at,
        started_at: run.started_at,
        finished_at: run.finished_at,
        progress: run.progress,
        report: run.report,
        cancel_requested: run.cancel_requested,
        full_resync: run.full_resync,
        resumed: run.resumed,
    }
}

async fn export_names(state: &AppState) -> Result<HashMap<Uuid, String>, ApiError> {
    Ok(state
        .store
        .exports()
        .await?
        .into_iter()
        .map(|export| (export.id, export.name))
        .collect())
}

/// Runs an export now: members new or changed since it last sent them, or everyone with
/// `full_resync=true`. A run already queued or running answers 409 with its id.
#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/run",
    operation_id = "runs_run_now",
    tag = "runs",
    params(RunOptions),
    responses(
        (status = ACCEPTED, description = "Queued", body = RunView),
        (status = CONFLICT, description = "`run_in_progress` with `details.run_id`, or `export_detached`, or `no_export_user`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn run_now(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(options): Query<RunOptions>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let export = state.store.export(id).await?;
    if !may_manage(&state, &caller, &export).await? {
        return Err(ApiError::forbidden("run this export"));
    }
    let Some(connection_id) = export.connection_id else {
        return Err(ApiError::new(
            Code::ExportDetached,
            "the export has no connection; choose one before running it",
        ));
    };
    let connection = state.store.connection(connection_id).await?;
    let Some(export_user) = connection.export_user_id else {
        return Err(ApiError::new(
            Code::NoExportUser,
            format!(
                "the connection {:?} has no export user; an admin must add themselves as its export user",
                connection.name
            ),
        ));
    };
    let run = match state
        .store
        .queue_run_with(
            id,
            Trigger::Manual,
            Some(caller.user.id),
            Some(export_user),
            options.full_resync,
        )
        .await
    {
        Ok(run) => run,
        Err(QueueError::AlreadyActive(active)) => {
            return Err(ApiError::new(
                Code::RunInProgress,
                format!(
                    "run {active} of this export is queued or running; wait for it or cancel it"
                ),
            )
            .with_details(serde_json::json!({ "run_id": active })));
        }
        Err(QueueError::Store(error)) => return Err(error.into()),
    };
    state.runs.run_queued();
    record(
        &state,
        &caller,
        "ran",
        Subject {
            kind: "export",
            id: export.id.to_string(),
            name: &export.name,
        },
        Some(serde_json::json!({ "run_id": run.id })),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(view(run, Some(export.name)))))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RunAllView {
    pub(crate) queued: Vec<RunView>,
    pub(crate) skipped: Vec<RunView>,
}

/// Runs every export with an active schedule that the caller may run, as "Run all" does in the
/// original: exports already running are recorded as Skipped with the reason.
#[utoipa::path(
    post,
    path = "/api/v1/exports/run-all",
    operation_id = "runs_run_all",
    tag = "runs",
    responses(
        (status = ACCEPTED, description = "Accepted", body = RunAllView),
    )
)]
pub(crate) async fn run_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<RunAllView>), ApiError> {
    caller.require(Role::Contributor, "run exports")?;
    let system = system_schedule(&state.store).await?;
    let mut answer = RunAllView {
        queued: Vec::new(),
        skipped: Vec::new(),
    };
    for export in state.store.exports().await? {
        if !has_active_schedule(&export, &system) || !may_manage(&state, &caller, &export).await? {
            continue;
        }
        match state
            .runs
            .start(&export, Trigger::RunAll, Some(caller.user.id))
            .await?
        {
            Started::Queued(run) => answer.queued.push(view(run, Some(export.name))),
            Started::Skipped(run) => answer.skipped.push(view(run, Some(export.name))),
        }
    }
    record(
        &state,
        &caller,
        "ran",
        Subject {
            kind: "exports",
            id: "run-all".to_owned(),
            name: "Run all",
        },
        Some(serde_json::json!({ "queued": answer.queued.len(), "skipped": answer.skipped.len() })),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// An export's runs, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}/runs",
    operation_id = "runs_history",
    tag = "runs",
    params(PageQuery),
    responses(
        (status = OK, description = "Done", body = [RunView]),
    )
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
    Query(page): Query<PageQuery>,
) -> Result<Paged<RunView>, ApiError> {
    let export = state.store.export(id).await?;
    let filter = RunFilter {
        export_id: Some(id),
        ..RunFilter::default()
    };
    let runs = state
        .store
        .runs(&filter, page.limit() + 1, page.offset())
        .await?;
    Ok(page
        .page_of_one_more(runs)
        .map(|run| view(run, Some(export.name.clone()))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunsQuery {
    /// Only runs in this status.
    pub(crate) status: Option<RunStatus>,
}

/// Every run, newest first, optionally in one status: the Status page.
#[utoipa::path(
    get,
    path = "/api/v1/runs",
    operation_id = "runs_list",
    tag = "runs",
    params(RunsQuery, PageQuery),
    responses(
        (status = OK, description = "Done", body = [RunView]),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<RunsQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Paged<RunView>, ApiError> {
    let filter = RunFilter {
        status: query.status,
        ..RunFilter::default()
    };
    let runs = state
        .store
        .runs(&filter, page.limit() + 1, page.offset())
        .await?;
    let names = export_names(&state).await?;
    Ok(page.page_of_one_more(runs).map(|run| {
        let name = names.get(&run.export_id).cloned();
        view(run, name)
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}",
    operation_id = "runs_get",
    tag = "runs",
    responses(
        (status = OK, description = "Done", body = RunView),
    )
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<Json<RunView>, ApiError> {
    let run = state.store.run(id).await?;
    let name = state.store.export(run.export_id).await.ok().map(|e| e.name);
    Ok(Json(view(run, name)))
}

/// Asks a queued or running run to stop: a queued one ends at once, a running one after its
/// batch in flight.
#[utoipa::path(
    post,
    path = "/api/v1/runs/{id}/cancel",
    operation_id = "runs_cancel",
    tag = "runs",
    responses(
        (status = ACCEPTED, description = "Accepted", body = RunView),
        (status = CONFLICT, description = "`run_ended`", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let run = state.store.run(id).await?;
    let export = state.store.export(run.export_id).await?;
    if !may_manage(&state, &caller, &export).await? {
        return Err(ApiError::forbidden("cancel runs of this export"));
    }
    let not_active = || ApiError::new(Code::RunEnded, format!("run {id} has already ended"));
    if !state.store.request_cancel(id).await? {
        return Err(not_active());
    }
    // A run no worker has claimed ends now; a claimed one sees the flag within a second.
    let reason = format!("cancelled by {} before it started", caller.user.username);
    state.store.cancel_queued_run(id, &reason).await?;
    record(
        &state,
        &caller,
        "cancelled",
        Subject {
            kind: "run",
            id: id.to_string(),
            name: &export.name,
        },
        None,
    )
    .await?;
    let run = state.store.run(id).await?;
    Ok((StatusCode::ACCEPTED, Json(view(run, Some(export.name)))))
}

/// What a run of the export would do, sending nothing: members it would add, update and leave
/// unchanged, members it would remove (mirror mode), skips by reason with samples, and the
/// requests it needs against the quota left today.
#[utoipa::path(
    post,
    path = "/api/v1/exports/{id}/dry-run",
    operation_id = "runs_dry_run",
    tag = "runs",
    params(RunOptions),
    responses(
        (status = OK, description = "What a run would do", body = segsync_export::DryRunReport),
        (status = CONFLICT, description = "`cannot_run`: why a run could not start", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn dry_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
    Query(options): Query<RunOptions>,
) -> Result<Json<segsync_export::DryRunReport>, ApiError> {
    let export = state.store.export(id).await?;
    if !may_manage(&state, &caller, &export).await? {
        return Err(ApiError::forbidden("dry-run this export"));
    }
    let prepared = state
        .runs
        .prepare(id)
        .await
        .map_err(|failure| ApiError::new(Code::CannotRun, failure.to_string()))?;
    // No run is going on: nothing in the ledger was sent by it.
    let ledger = segsync_runs::load_ledger(&state.store, prepared.ledger_of, Uuid::nil()).await?;
    let plan = prepared.plan.clone().with_full_resync(options.full_resync);
    match segsync_export::dry_run_in_step(&prepared.profiles, &plan, &prepared.client, ledger).await
    {
        Ok(report) => Ok(Json(report)),
        Err(segsync_export::ExportError::ConstantContact(error)) => {
            Err(crate::error::client_failure(&prepared.connection, &error))
        }
        Err(error) => Err(ApiError::new(Code::CannotRun, error.to_string())),
    }
}

/// Every member the run left out because of its email, as CSV (`email,reason`).
#[utoipa::path(
    get,
    path = "/api/v1/runs/{id}/skipped.csv",
    operation_id = "runs_skipped_csv",
    tag = "runs",
    responses(
        (status = OK, description = "email,reason", content_type = "text/csv", body = String),
    )
)]
pub(crate) async fn skipped_csv(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    state.store.run(id).await?;
    // The rows go out as they are read, a chunk at a time: the body holds at most a few
    // chunks, however many members the run left out.
    let (chunks, body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let store = state.store.clone();
    tokio::spawn(async move {
        let failed = |error: &dyn std::fmt::Display| {
            tracing::error!(run = %id, %error, "The skipped members could not be read.");
            Err(std::io::Error::other(
                "the skipped members could not be read",
            ))
        };
        let mut rows = std::pin::pin!(store.run_skips_streamed(id));
        let mut csv = SkippedCsv::new();
        while let Some(row) = rows.next().await {
            let chunk = match row {
                Ok((email, reason)) => match csv.row(&email, &reason) {
                    Ok(chunk) => chunk,
                    Err(error) => Some(failed(&error)),
                },
                Err(error) => Some(failed(&error)),
            };
            if let Some(chunk) = chunk {
                let stop = chunk.is_err();
                if chunks.send(chunk).await.is_err() || stop {
                    return; // The client went away, or the reading failed.
                }
            }
        }
        let _ = chunks.send(csv.finish()).await;
    });
    let body = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"run-{id}-skipped.csv\""),
            ),
        ],
        axum::body::Body::from_stream(body),
    ))
}

/// The skipped-members CSV, written in chunks. A cell that a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) is written with a `'` before
/// it, so opening the file never runs anything an email address carried.
struct SkippedCsv {
    writer: csv::Writer<Vec<u8>>,
}

impl SkippedCsv {
    /// Bytes gathered before a chunk goes out.
    const CHUNK: usize = 64 * 1024;

    fn new() -> Self {
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(Self::CHUNK));
        writer
            .write_record(["email", "reason"])
            .expect("writing to memory succeeds");
        Self { writer }
    }

    /// Adds a row; a chunk when one is full.
    fn row(
        &mut self,
        email: &str,
        reason: &str,
    ) -> Result<Option<Result<Vec<u8>, std::io::Error>>, csv::Error> {
        let (email, reason) = (spreadsheet_safe(email), spreadsheet_safe(reason));
        self.writer
            .write_record([email.as_ref(), reason.as_ref()])?;
        self.writer.flush()?;
        if self.writer.get_ref().len() < Self::CHUNK {
            return Ok(None);
        }
        let full = std::mem::replace(
            &mut self.writer,
            csv::Writer::from_writer(Vec::with_capacity(Self::CHUNK)),
        );
        Ok(Some(full.into_inner().map_err(|error| error.into_error())))
    }

    fn finish(self) -> Result<Vec<u8>, std::io::Error> {
        self.writer.into_inner().map_err(|error| error.into_error())
    }
}

/// `cell`, with a `'` first when a spreadsheet would take it for a formula.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_rows_go_out_in_chunks() {
        let mut csv = SkippedCsv::new();
        let mut out = Vec::new();
        for (email, reason) in [
            ("=HYPERLINK(\"http://evil\")", "malformed"),
            ("+1-555@x", "malformed"),
            ("-2@x", "malformed"),
            ("@SUM(A1)", "malformed"),
            ("\tx@y", "malformed"),
            ("ok@example.com", "=bad reason"),
        ] {
            if let Some(chunk) = csv.row(email, reason).unwrap() {
                out.extend(chunk.unwrap());
            }
        }
        out.extend(csv.finish().unwrap());
        let text = String::from_utf8(out).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let cells: Vec<(String, String)> = reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                (record[0].to_owned(), record[1].to_owned())
            })
            .collect();
        assert_eq!(cells[0].0, "'=HYPERLINK(\"http://evil\")");
        assert_eq!(cells[1].0, "'+1-555@x");
        assert_eq!(cells[2].0, "'-2@x");
        assert_eq!(cells[3].0, "'@SUM(A1)");
        assert_eq!(cells[4].0, "'\tx@y");
        assert_eq!(
            cells[5],
            ("ok@example.com".to_owned(), "'=bad reason".to_owned())
        );

        let mut csv = SkippedCsv::new();
        let chunks = (0..10_000)
            .filter_map(|n| {
                csv.row(&format!("member-{n}@example"), "malformed")
                    .unwrap()
            })
            .count();
        assert!(chunks >= 4, "rows leave in chunks as they come: {chunks}");
    }
}
