//! The refresh schedules: the system's, which every export follows unless it has its own, and
//! each export's override. A moment of a schedule starts the runs of its exports once, however
//! many processes watch it: each process advances the schedule's cursor in the store only if no
//! other process did first. Exports that read their list back daily get a run that does it once
//! a day, taken the same way.

use segsync_domain::ChainExt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use segsync_domain::VerifySchedule;
use segsync_domain::schedule::RefreshSchedule;
use segsync_store::{Export, QueueError, Trigger};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use segsync_store::{NewAuditEntry, Store};

use crate::start::Started;
use crate::{RunEngine, RunsError};

/// The setting that holds the system refresh schedule.
pub const SETTING: &str = "refresh_schedule";

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(15);

/// The system refresh schedule; off until an admin sets it.
pub async fn system_schedule(store: &Store) -> Result<RefreshSchedule, RunsError> {
    match store.setting(SETTING).await? {
        None => Ok(RefreshSchedule::off()),
        Some(value) => serde_json::from_value(value).map_err(|source| RunsError::CorruptSetting {
            key: SETTING.to_owned(),
            source,
        }),
    }
}

/// The schedule `export` follows: its own override, or the system's.
pub fn schedule_of(export: &Export, system: &RefreshSchedule) -> RefreshSchedule {
    export
        .schedule_override
        .clone()
        .unwrap_or_else(|| system.clone())
}

/// Whether `export` runs on a schedule at all, as "Run all" asks.
pub fn has_active_schedule(export: &Export, system: &RefreshSchedule) -> bool {
    schedule_of(export, system).next_after(Utc::now()).is_some()
}

/// Starts the runs every schedule calls for between its last moment seen and `now`. A moment
/// missed while no server was up starts its runs once, at the next tick.
pub async fn tick(engine: &RunEngine, now: DateTime<Utc>) -> Result<Vec<Started>, RunsError> {
    let system = system_schedule(&engine.store).await?;
    let exports = engine.store.exports().await?;
    let mut started = Vec::new();
    let system_due = is_due(&engine.store, "system", &system, now).await?;
    // One export that cannot start never costs the others their moment: it is recorded as
    // Skipped with the reason, and the tick goes on.
    for export in &exports {
        if export.verify == VerifySchedule::Daily
            && let Err(error) = verify_if_due(engine, export, now).await
        {
            warn!(export = %export.id, error = %error, "A daily reading of the list could not start.");
        }
        match start_if_due(engine, export, &system, system_due, now).await {
            Ok(Some(outcome)) => started.push(outcome),
            Ok(None) => {}
            Err(error) => {
                let reason = format!("the refresh schedule could not start a run: {error}");
                warn!(export = %export.id, %reason, "A scheduled run could not start.");
                match engine
                    .store
                    .record_skipped_run(export.id, Trigger::Schedule, None, &reason)
                    .await
                {
                    Ok(run) => started.push(Started::Skipped(run)),
                    Err(error) => {
                        warn!(export = %export.id, error = %error.chain(), "A scheduled run that could not start could not be recorded either.");
                    }
                }
            }
        }
    }
    Ok(started)
}

/// Starts a run of `export` when its schedule (the system's, or its own) is due.
async fn start_if_due(
    engine: &RunEngine,
    export: &Export,
    system: &RefreshSchedule,
    system_due: bool,
    now: DateTime<Utc>,
) -> Result<Option<Started>, RunsError> {
    let due = match &export.schedule_override {
        None => system_due,
        Some(_) => {
            let schedule = schedule_of(export, system);
            is_due(
                &engine.store,
                &format!("export:{}", export.id),
                &schedule,
                now,
            )
            .await?
        }
    };
    if !due {
        return Ok(None);
    }
    let schedule = schedule_of(export, system);
    if schedule.skip_unchanged
        && let Some(skipped) = engine.skip_if_unchanged(export).await?
    {
        info!(export = %export.id, reason = ?skipped.reason, "A scheduled run was skipped: the data did not change.");
        return Ok(Some(Started::Skipped(skipped)));
    }
    let outcome = engine.start(export, Trigger::Schedule, None).await?;
    info!(export = %export.id, outcome = ?outcome, "The refresh schedule started a run.");
    let run = outcome.run();
    let action = if matches!(outcome, Started::Queued(_)) {
        "ran"
    } else {
        "skipped"
    };
    // Audited as the connection's export user, on whose behalf the run acts.
    engine
        .store
        .audit(NewAuditEntry {
            actor_id: run.acting_user,
            action,
            object_kind: "export",
            object_id: &export.id.to_string(),
            object_name: &export.name,
            detail: Some(
                serde_json::json!({ "run_id": run.id, "trigger": "schedule", "reason": run.reason }),
            ),
        })
        .await?;
    info!(action, kind = "export", id = %export.id, name = %export.name, "Audited.");
    Ok(Some(outcome))
}

/// Queues a run that reads the export's list back when a day has passed since the last daily
/// reading (with several processes, the one that moves the cursor queues it). A run of the
/// export already going makes it wait for the next tick.
async fn verify_if_due(
    engine: &RunEngine,
    export: &Export,
    now: DateTime<Utc>,
) -> Result<(), RunsError> {
    let key = format!("verify_cursor:export:{}", export.id);
    let Some(connection_id) = export.connection_id else {
        return Ok(());
    };
    let cursor = engine.store.setting(&key).await?;
    let last = match &cursor {
        None => {
            // A reading the first day after the schedule was chosen, not at once.
            engine
                .store
                .replace_setting(&key, None, &serde_json::json!(now))
                .await?;
            return Ok(());
        }
        Some(cursor) => {
            serde_json::from_value::<DateTime<Utc>>(cursor.clone()).map_err(|source| {
                RunsError::CorruptSetting {
                    key: key.clone(),
                    source,
                }
            })?
        }
    };
    if now - last < chrono::TimeDelta::days(1) {
        return Ok(());
    }
    let connection = engine.store.connection(connection_id).await?;
    let Some(export_user) = connection.export_user_id else {
        return Ok(());
    };
    if !engine
        .store
        .replace_setting(&key, cursor.as_ref(), &serde_json::json!(now))
        .await?
    {
        return Ok(());
    }
    match engine
        .store
        .queue_verification(export.id, Trigger::Schedule, None, Some(export_user))
        .await
    {
        Ok(run) => {
            engine.run_queued();
            info!(export = %export.id, run = %run.id, "The daily reading of the list was queued.");
        }
        Err(QueueError::AlreadyActive(_)) => {
            // A run of the export is going: the reading waits for a later tick.
            engine
                .store
                .replace_setting(
                    &key,
                    Some(&serde_json::json!(now)),
                    &serde_json::json!(last),
                )
                .await?;
        }
        Err(QueueError::Store(error)) => return Err(error.into()),
    }
    Ok(())
}

/// Whether a moment of `schedule` fell after its cursor and by `now`; if so, this process takes
/// it by moving the cursor to `now`. A schedule seen for the first time starts from `now`.
async fn is_due(
    store: &Store,
    name: &str,
    schedule: &RefreshSchedule,
    now: DateTime<Utc>,
) -> Result<bool, RunsError> {
    let key = format!("schedule_cursor:{name}");
    let now_value = serde_json::json!(now);
    let Some(cursor) = store.setting(&key).await? else {
        store.replace_setting(&key, None, &now_value).await?;
        return Ok(false);
    };
    let last: DateTime<Utc> =
        serde_json::from_value(cursor.clone()).map_err(|source| RunsError::CorruptSetting {
            key: key.clone(),
            source,
        })?;
    let due = schedule.next_after(last).is_some_and(|next| next <= now);
    Ok(due
        && store
            .replace_setting(&key, Some(&cursor), &now_value)
            .await?)
}

/// Ticks until `stopping` is cancelled.
pub(crate) async fn keep_time(engine: RunEngine, stopping: CancellationToken) {
    loop {
        if let Err(error) = tick(&engine, Utc::now()).await {
            warn!(error = %error.chain(), "The scheduler could not start its runs; it tries again.");
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = stopping.cancelled() => return,
        }
    }
}
