//! `segsync export --config FILE`: one export against Constant Contact or a sandbox, carried
//! out on the run engine's one path of a run (`segsync_runs::carry_out`) with the state file as
//! its store, or its dry run on the one path of a dry run (`segsync_runs::dry_run`).

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::Utc;
use constant_contact::ConstantContact;
use segsync_domain::Email;
use segsync_domain::VerifySchedule;
use segsync_domain::segment::RunClock;
use segsync_engine::Profiles;
use segsync_export::{DryRunReport, Exclusions, ExportPlan, GuardPlan, SyncMode, email_key};
use segsync_runs::{Prepared, RunContext};
use segsync_store::RunStatus;

use super::segments::load_segments;
use crate::cli::ExportArgs;
use crate::connect::authorize_with_device;
use crate::export_config::ExportConfig;
use crate::local_run::{self, RunRequest, carry_out_here};
use crate::state_file::StateFile;
use crate::token_file::TokenFile;

pub(crate) async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let config = ExportConfig::load(&args.config)?;
    if config.export.sync_mode == SyncMode::Mirror && config.export.state_file.is_none() {
        bail!(
            "export.sync_mode = \"mirror\" needs export.state_file: mirror mode removes only the contacts the export put on the list, and only the state file remembers which"
        );
    }
    if args.verify_only && config.export.state_file.is_none() {
        bail!(
            "--verify-only needs export.state_file: the list is compared with what the export sent, which only the state file remembers"
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
    let plan = plan(&config)?.with_exclusions(exclusions(&config).await?);
    let state = match &config.export.state_file {
        Some(path) => StateFile::open(path, config.export.list_id).await?,
        None => StateFile::temporary(config.export.list_id).await?,
    };
    let profiles = Profiles::open_with(config.profiles.clone(), &config.engine)
        .await?
        .relate(&config.related_tables())
        .await?;
    let verify = if args.verify {
        VerifySchedule::AfterRun
    } else {
        config.export.verify
    };
    let prepared = state.prepared(client, profiles, plan, verify).await?;
    let ended = if args.dry_run {
        segsync_runs::dry_run(state.store(), &prepared, args.full_resync)
            .await
            .map_err(anyhow::Error::from)
            .and_then(|report| print_dry_run(&report))
    } else {
        let context = local_run::context(
            &state,
            &config.constant_contact.client_id,
            config.constant_contact.daily_quota,
        );
        let request = RunRequest {
            full_resync: args.full_resync,
            confirm_removals: args.confirm_removals,
            verify_only: args.verify_only,
        };
        run_export(&state, &context, prepared, request).await
    };
    state.close().await;
    ended
}

/// The addresses the configuration's exclusions source holds now.
async fn exclusions(config: &ExportConfig) -> anyhow::Result<Arc<Exclusions>> {
    let mut exclusions = Exclusions::default();
    if let Some(source) = &config.exclusions {
        source
            .source
            .each_text(&source.email_column, |text| {
                if let Ok(email) = Email::parse(text) {
                    exclusions.source_keys.insert(email_key(email.as_str()));
                }
            })
            .await
            .context("reading the exclusions source")?;
    }
    Ok(Arc::new(exclusions))
}

/// The export's plan, from its configuration.
fn plan(config: &ExportConfig) -> anyhow::Result<ExportPlan> {
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
    .with_catalogue(catalogue)
    .with_mode(config.export.sync_mode)
    .with_guard(GuardPlan {
        guards: config.export.guards,
        ..GuardPlan::default()
    });
    if let Some(limit) = config.export.member_limit {
        plan = plan.with_member_limit(limit);
    }
    Ok(plan)
}

/// Carries out the run, prints its report, and fails unless it succeeded.
async fn run_export(
    state: &StateFile,
    context: &RunContext,
    prepared: Prepared,
    request: RunRequest,
) -> anyhow::Result<()> {
    let run = carry_out_here(state, context, &prepared, request).await?;
    if let Some(report) = &run.report {
        writeln!(std::io::stdout().lock(), "{report}")?;
    }
    let reason = run.reason.unwrap_or_default();
    match run.status {
        RunStatus::Succeeded => Ok(()),
        RunStatus::Cancelled => bail!("the export was cancelled; the report says what was sent"),
        RunStatus::AwaitingConfirmation => bail!(
            "the export sent nothing and waits for confirmation: {reason}. If that is what you want, run segsync export again with --confirm-removals; a run without it judges the data afresh"
        ),
        RunStatus::Queued => {
            bail!("the export stopped and waits: {reason}; run segsync export again to take it up")
        }
        _ => bail!("the export failed: {reason}"),
    }
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
    if let Some(guard) = &report.guard {
        writeln!(
            out,
            "A run would send nothing and wait for confirmation (--confirm-removals): {guard}"
        )?;
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
