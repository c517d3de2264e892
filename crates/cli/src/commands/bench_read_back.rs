//! `segsync bench --only read-back`: reading back a list of `--members` members (1,000,000 by
//! default). A first run puts them on the list (its ledger in a SQLite store, as the server keeps
//! it); a few are then deleted and a few unsubscribed in the account, and the list is read back
//! through one contact export. The figures: the reading's requests and wall time against the
//! API floor (its requests at 4 per second), against the floor of paging the list with `GET
//! /contacts?lists=` at 500 per request (what reading it back costs without contact exports),
//! and the process's peak memory for the comparison.

use std::io::Write;
use std::time::Instant;

use segsync_engine::{ProfileSource, Profiles};
use segsync_export::{NoProgress, run_export_in_step, verify_list};
use segsync_runs::load_ledger;
use segsync_store::Store;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::bench::{members_file, peak_memory_mb, reset_peak_memory, sandbox_and_plan};
use super::bench_delta::{checkpoints_of, claimed_run, finish};
use crate::state_file::command_line_export;

/// Members deleted, and as many unsubscribed, in the account before the reading.
const DRIFT: usize = 100;

pub(crate) async fn read_back_bench(
    folder: &std::path::Path,
    members: usize,
) -> anyhow::Result<()> {
    let path = members_file(folder, members)?;
    let (sandbox, client, plan) = sandbox_and_plan().await?;
    let database = folder.join(format!("read-back-bench-{}.db", Uuid::new_v4()));
    let store = Store::open(&format!("sqlite://{}", database.display())).await?;
    let of = command_line_export(&store, plan.list_id).await?;
    let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy())).await?;
    let mut out = std::io::stdout();
    writeln!(out, "(k) the list read back: {members} members")?;

    let run = claimed_run(&store, of).await?;
    let ledger = load_ledger(&store, of, run.id).await?;
    let sent = run_export_in_step(
        &profiles,
        &plan,
        &client,
        ledger,
        &checkpoints_of(&store, &run, of),
        &NoProgress,
        &CancellationToken::new(),
    )
    .await?
    .report
    .sent;
    finish(&store, &run).await?;
    let drifted = sandbox.drift(plan.list_id, DRIFT).await?;
    writeln!(
        out,
        "    {sent} sent by a first run; then {drifted} members deleted and {drifted} unsubscribed in the account"
    )?;

    let run = claimed_run(&store, of).await?;
    let ledger = load_ledger(&store, of, run.id).await?;
    reset_peak_memory();
    let requests_before = client.requests_sent();
    let started = Instant::now();
    let (verification, _) = verify_list(&profiles, &plan, &client, &ledger).await?;
    let wall = started.elapsed().as_secs_f64();
    let requests = client.requests_sent() - requests_before;
    let floor = requests as f64 / 4.0;
    let paging_requests = members.div_ceil(500);
    let paging_floor = paging_requests as f64 / 4.0;
    writeln!(
        out,
        "    read back: {wall:.2} s; {requests} requests (one contact export, its polls and its file; the unsubscribed and deleted contacts' exports), API floor {floor:.2} s, {:.2}× the floor; peak resident memory {} MB",
        wall / floor.max(f64::EPSILON),
        peak_memory_mb()
    )?;
    writeln!(
        out,
        "    paging GET /contacts?lists= instead: {paging_requests} requests, a floor of {paging_floor:.0} s at 4 per second — {:.0}× this reading's wall time",
        paging_floor / wall
    )?;
    writeln!(
        out,
        "    found: {} on the list, {} meant, {} missing, {} extra",
        verification.list_members, verification.meant, verification.missing, verification.extra
    )?;
    finish(&store, &run).await?;
    store.close().await;
    let _ = std::fs::remove_file(&database);
    drop(sandbox);
    Ok(())
}
