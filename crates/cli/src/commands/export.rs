//! `segsync export --config FILE`: one export against Constant Contact or a sandbox.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::Utc;
use constant_contact::ConstantContact;
use constant_contact::config::DEFAULT_DAILY_QUOTA;
use segsync_domain::segment::RunClock;
use segsync_engine::Profiles;
use segsync_export::{
    CheckpointError, DryRunReport, ExportError, ExportPlan, RunOutcome, RunReport, SyncMode,
    dry_run, dry_run_in_step, run_export, run_export_in_step,
};
use segsync_runs::SharedQuota;
use segsync_store::RunStatus;
use tokio_util::sync::CancellationToken;

use super::segments::load_segments;
use crate::cli::ExportArgs;
use crate::connect::authorize_with_device;
use crate::export_config::ExportConfig;
use crate::progress::BarProgress;
use crate::state_file::StateFile;
use crate::token_file::TokenFile;

pub(crate) async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let config = ExportConfig::load(&args.config)?;
    if config.export.sync_mode == SyncMode::Mirror && config.export.state_file.is_none() {
        bail!(
            "export.sync_mode = \"mirror\" needs export.state_file: mirror mode removes only the contacts the export put on the list, and only the state file remembers which"
        );
    }
    let api = config.api_config()?;
    let token_file = TokenFile::new(&config.constant_contact.token_file);
    let tokens = match token_file.load().context("reading the stored tokens")? {
        Some(tokens) => tokens,
        None => {
            let tokens = authorize_with_device(&api).await?;
            token_file.write(&tokens)?;
            tokens
        }
    };
    let client = ConstantContact::connect(&api, tokens, Arc::new(token_file))?;

    let catalogue = load_segments(&config.export.segments_files)?;
    let mut selected = Vec::new();
    for name in &config.export.segments {
        match catalogue.iter().find(|segment| &segment.name == name) {
            Some(segment) => selected.push(segment.clone()),
            None => bail!("export.segments names {name:?}, which no segments file defines"),
        }
    }
    let time_zone: chrono_tz::Tz = config
        .export
        .time_zone
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", config.export.time_zone))?;
    let mut plan = ExportPlan::new(
        selected,
        config.mapping()?,
        config.export.list_id,
        RunClock::new(Utc::now(), time_zone),
    )
    .with_catalogue(catalogue);
    if let Some(limit) = config.export.member_limit {
        plan = plan.with_member_limit(limit);
    }
    plan = plan
        .with_mode(config.export.sync_mode)
        .with_full_resync(args.full_resync);
    let state = match &config.export.state_file {
        Some(path) => Some(StateFile::open(path, config.export.list_id).await?),
        None => None,
    };
    let profiles = Profiles::open_with(config.profiles.clone(), &config.engine)
        .await?
        .relate(&config.related_tables())
        .await?;
    if args.dry_run {
        let report = match &state {
            Some(state) => {
                dry_run_in_step(&profiles, &plan, &client, state.ledger().await?).await?
            }
            None => dry_run(&profiles, &plan, &client).await?,
        };
        if let Some(state) = state {
            state.close().await;
        }
        return print_dry_run(&report);
    }

    let cancel = CancellationToken::new();
    let on_interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.cancel();
        }
    });
    let progress = BarProgress::new();
    let report = match state {
        None => run_export(&profiles, &plan, &client, &progress, &cancel)
            .await
            .map(|ended| ended.report),
        Some(state) => {
            let quota = SharedQuota::new(
                config.constant_contact.client_id.clone(),
                u64::from(
                    config
                        .constant_contact
                        .daily_quota
                        .unwrap_or(DEFAULT_DAILY_QUOTA),
                ),
            );
            let report =
                run_with_state(&state, quota, &profiles, &plan, &client, &progress, &cancel).await;
            state.close().await;
            report
        }
    };
    progress.finish();
    let report = report?;
    writeln!(std::io::stdout().lock(), "{report}")?;
    match report.outcome {
        RunOutcome::Succeeded => Ok(()),
        RunOutcome::Cancelled => bail!("the export was cancelled; the report says what was sent"),
        RunOutcome::Failed { reason } => bail!("the export failed: {reason}"),
    }
}

/// A run sorted against what the state file remembers, recorded there with its checkpoints
/// and its end.
async fn run_with_state(
    state: &StateFile,
    quota: SharedQuota,
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    progress: &BarProgress,
    cancel: &CancellationToken,
) -> Result<RunReport, ExportError> {
    let run = state.start_run(quota).await.map_err(|error| {
        let error: Box<dyn std::error::Error + Send + Sync> = error.into();
        ExportError::Checkpoints(CheckpointError::Store(error.into()))
    })?;
    let requests_before = client.requests_sent();
    let report = run_export_in_step(
        profiles,
        plan,
        client,
        run.ledger,
        &run.checkpoints,
        progress,
        cancel,
    )
    .await
    .map(|ended| ended.report);
    let used = client.requests_sent() - requests_before;
    if let Err(error) = run.checkpoints.quota.settle(state.store(), used).await {
        tracing::warn!(%error, "The requests the run used could not be counted in the state file.");
    }
    let (status, reason) = match &report {
        Ok(report) => match &report.outcome {
            RunOutcome::Succeeded => (RunStatus::Succeeded, None),
            RunOutcome::Cancelled => (RunStatus::Cancelled, Some("interrupted".to_owned())),
            RunOutcome::Failed { reason } => (RunStatus::Failed, Some(reason.to_string())),
        },
        Err(error) => (RunStatus::Failed, Some(error.to_string())),
    };
    if let Err(error) = state
        .finish_run(&run.claim, status, reason.as_deref())
        .await
    {
        tracing::warn!(error = %format!("{error:#}"), "The run's end could not be recorded in the state file.");
    }
    report
}

fn print_dry_run(report: &DryRunReport) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "Dry run: nothing was sent.")?;
    let per_segment: Vec<String> = report
        .members_per_segment
        .iter()
        .map(|(name, members)| format!("{name}: {members}"))
        .collect();
    writeln!(
        out,
        "Profiles read: {}; in the segments: {} ({})",
        report.profiles_read,
        report.profiles_in_segments,
        per_segment.join(", ")
    )?;
    if report.over_member_limit {
        writeln!(
            out,
            "Over the limit of {} members per export: a run would be refused.",
            report.member_limit
        )?;
    }
    writeln!(
        out,
        "Would send: {} contacts in {} import{} ({} new, {} changed; {} unchanged are not sent)",
        report.would_send,
        report.imports,
        if report.imports == 1 { "" } else { "s" },
        report.sync.adds,
        report.sync.updates,
        report.sync.unchanged
    )?;
    if report.would_remove > 0 {
        writeln!(out, "Would remove from the list: {}", report.would_remove)?;
    }
    for (reason, count) in &report.skipped {
        let samples = report
            .skipped_samples
            .get(reason)
            .map(|samples| format!(" (e.g. {})", samples.join(", ")))
            .unwrap_or_default();
        writeln!(out, "Skipped, {reason}: {count}{samples}")?;
    }
    writeln!(
        out,
        "Requests needed: {} of {} left today: {}",
        report.requests_needed,
        report.requests_left_today,
        if report.fits_today {
            "it fits"
        } else {
            "it does not fit today"
        }
    )?;
    Ok(())
}
