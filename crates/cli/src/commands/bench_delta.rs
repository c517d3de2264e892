//! `segsync bench --only delta`: (c) a delta run after 1 % of 1,000,000 members changed. A
//! first run sends everyone and fills the export's ledger in a SQLite store, as the server does;
//! then 1 % of the members get another last name, and a second run — loading the ledger from
//! the store, streaming every member, sorting each against it — sends only those.

use std::io::Write;
use std::time::Instant;

use segsync_engine::{ProfileSource, Profiles};
use segsync_export::{NoProgress, RunReport, run_export_in_step};
use segsync_runs::{SharedQuota, StoreCheckpoints, load_ledger};
use segsync_store::{LedgerOf, Run, Store, Trigger};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::bench::{
    MEMBERS_SEED, members_file, peak_memory_mb, reset_peak_memory, sandbox_and_plan,
};
use crate::progress::counter;
use crate::sample::write_profiles_changed;
use crate::state_file::command_line_export;

/// One member in this many changes between the two runs.
const CHANGED_ONE_IN: usize = 100;

pub(crate) async fn delta_bench(folder: &std::path::Path, members: usize) -> anyhow::Result<()> {
    let unchanged = members_file(folder, members)?;
    let changed = folder.join(format!("members-{members}-1pc-changed.parquet"));
    if !changed.exists() {
        let bar = counter(members as u64, "generating changed members");
        write_profiles_changed(
            &changed,
            members,
            MEMBERS_SEED,
            |id| id % CHANGED_ONE_IN == 0,
            |written| bar.set_position(written as u64),
        )?;
        bar.finish_and_clear();
    }
    let (sandbox, client, plan) = sandbox_and_plan().await?;
    let database = folder.join(format!("delta-bench-{}.db", Uuid::new_v4()));
    let store = Store::open(&format!("sqlite://{}", database.display())).await?;
    let of = command_line_export(&store, plan.list_id).await?;

    let mut out = std::io::stdout();
    writeln!(
        out,
        "(c) delta run after 1 % of {members} members changed (ledger in SQLite)"
    )?;
    for (label, path) in [
        ("first run, everyone new", &unchanged),
        ("delta run", &changed),
    ] {
        let run = claimed_run(&store, of).await?;
        reset_peak_memory();
        let requests_before = client.requests_sent();
        let started = Instant::now();
        let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy())).await?;
        let ledger = load_ledger(&store, of, run.id).await?;
        let ledger_loaded = started.elapsed().as_secs_f64();
        let checkpoints = checkpoints_of(&store, &run, of);
        let report = run_export_in_step(
            &profiles,
            &plan,
            &client,
            ledger,
            &checkpoints,
            &NoProgress,
            &CancellationToken::new(),
        )
        .await?
        .report;
        let wall = started.elapsed().as_secs_f64();
        let requests = client.requests_sent() - requests_before;
        print_run(&mut out, label, &report, wall, ledger_loaded, requests)?;
        finish(&store, &run).await?;
    }
    writeln!(
        out,
        "    answered 429 throttled by the sandbox, both runs: {}",
        sandbox.throttled().await?
    )?;
    store.close().await;
    let _ = std::fs::remove_file(&database);
    drop(sandbox);
    Ok(())
}

/// Queues and claims a run of the benchmark's export, as a worker would.
pub(super) async fn claimed_run(store: &Store, of: LedgerOf) -> anyhow::Result<Run> {
    store
        .queue_run(of.export_id, Trigger::Manual, None, None)
        .await?;
    store
        .claim_next_run("bench")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the benchmark's run could not be claimed"))
}

/// The run's checkpoints in the store, as the server writes them.
pub(super) fn checkpoints_of(store: &Store, run: &Run, of: LedgerOf) -> StoreCheckpoints {
    StoreCheckpoints::new(
        store.clone(),
        run.held_claim(),
        of,
        0,
        SharedQuota::new("bench", 10_000),
    )
}

/// Ends the run as succeeded, so that the next one may be claimed.
pub(super) async fn finish(store: &Store, run: &Run) -> anyhow::Result<()> {
    store
        .finish_run(
            &run.held_claim(),
            segsync_store::RunStatus::Succeeded,
            None,
            None,
        )
        .await?;
    Ok(())
}

fn print_run(
    out: &mut impl Write,
    label: &str,
    report: &RunReport,
    wall: f64,
    ledger_loaded: f64,
    requests: u64,
) -> anyhow::Result<()> {
    let sync = &report.sync;
    writeln!(
        out,
        "    {label}: {wall:.2} s (ledger loaded in {ledger_loaded:.2} s); {} imports, {requests} requests; peak resident memory {} MB",
        report.activities.len(),
        peak_memory_mb()
    )?;
    writeln!(
        out,
        "      outcome {:?}; {} sent ({} new, {} changed), {} unchanged, {} invalid, {} duplicates; totals add up: {}",
        report.outcome,
        report.sent,
        sync.adds,
        sync.updates,
        sync.unchanged,
        report.invalid_total(),
        report.duplicates_collapsed,
        report.totals_add_up()
    )?;
    writeln!(out, "      phases: {}", report.phases_in_words())?;
    Ok(())
}
