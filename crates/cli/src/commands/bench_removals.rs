//! `segsync bench --only removals`: (d) mirror mode after an export is narrowed. A first run
//! puts 30,000 members on a list (its ledger in a SQLite store, as the server keeps it); the
//! export's segment then shrinks to the first 5,000 profiles, and a second run removes every
//! other member it put there. The figure to watch is the second run's wall time against the API
//! floor: its requests at 4 per second.

use std::io::Write;
use std::time::Instant;

use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_engine::{ProfileSource, Profiles};
use segsync_export::{ExportPlan, NoProgress, SyncMode, run_export_in_step};
use segsync_runs::load_ledger;
use segsync_store::Store;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::bench::{members_file, peak_memory_mb, reset_peak_memory, sandbox_and_plan};
use super::bench_delta::{checkpoints_of, claimed_run, finish};
use crate::state_file::command_line_export;

/// Members on the list before the export is narrowed.
pub(crate) const LIST_MEMBERS: usize = 30_000;
/// Profiles still in the segment after it is narrowed.
const STAYING: usize = 5_000;

const NARROWED: &str = r#"segments:
  - name: the first five thousand
    rule: { attribute: profile_id, op: less_than, value: 5000 }
"#;

pub(crate) async fn removals_bench(folder: &std::path::Path) -> anyhow::Result<()> {
    let path = members_file(folder, LIST_MEMBERS)?;
    let (sandbox, client, everyone) = sandbox_and_plan().await?;
    let everyone = everyone.with_mode(SyncMode::Mirror);
    let narrowed = parse_segments(NARROWED, SegmentFormat::Yaml, "bench")
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let narrowed = ExportPlan::new(
        narrowed,
        everyone.mapping.clone(),
        everyone.list_id,
        everyone.clock,
    )
    .with_mode(SyncMode::Mirror)
    // It removes nine in ten: a person confirmed it.
    .with_confirmed_removals(Some(u64::MAX));
    let database = folder.join(format!("removals-bench-{}.db", Uuid::new_v4()));
    let store = Store::open(&format!("sqlite://{}", database.display())).await?;
    let of = command_line_export(&store, everyone.list_id).await?;
    let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy())).await?;

    let mut out = std::io::stdout();
    writeln!(
        out,
        "(d) mirror mode: the export narrowed from {LIST_MEMBERS} members to the first {STAYING} profiles"
    )?;
    for (label, plan) in [
        ("first run, everyone added", &everyone),
        ("narrowed run, the others removed", &narrowed),
    ] {
        let run = claimed_run(&store, of).await?;
        reset_peak_memory();
        let requests_before = client.requests_sent();
        let started = Instant::now();
        let ledger = load_ledger(&store, of, run.id).await?;
        let checkpoints = checkpoints_of(&store, &run, of);
        let report = run_export_in_step(
            &profiles,
            plan,
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
        let floor = requests as f64 / 4.0;
        writeln!(
            out,
            "    {label}: {wall:.2} s; {requests} requests, API floor {floor:.2} s, {:.2}× the floor; peak resident memory {} MB",
            wall / floor,
            peak_memory_mb()
        )?;
        writeln!(
            out,
            "      outcome {:?}; {} sent, {} removed, {} already off the list; totals add up: {}",
            report.outcome,
            report.sent,
            report.removed,
            report.already_off_list,
            report.totals_add_up()
        )?;
        writeln!(out, "      phases: {}", report.phases_in_words())?;
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
