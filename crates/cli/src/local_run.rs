//! A run carried out in this process, on the run engine's one path of a run
//! (`segsync_runs::carry_out`), recorded in a state file: `segsync export` and `segsync demo`
//! take it. Its progress shows as a bar; Ctrl-C cancels it after its batch in flight.

use segsync_domain::ChainExt;
use std::time::Duration;

use anyhow::bail;
use constant_contact::config::DEFAULT_DAILY_QUOTA;
use segsync_runs::{Prepared, RunContext, carry_out};
use segsync_store::Run;
use tokio_util::sync::CancellationToken;

use crate::progress::BarProgress;
use crate::state_file::{NextRun, StateFile};

/// A run here has no time budget of its own: it ends when the export does, or on Ctrl-C.
const NO_TIME_BUDGET: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// What a run here spends: the API key's daily budget (Constant Contact's default when
/// `daily_quota` is none), counted in the state file.
pub(crate) fn context(state: &StateFile, api_key: &str, daily_quota: Option<u32>) -> RunContext {
    RunContext {
        store: state.store().clone(),
        api_key: api_key.to_owned(),
        requests_per_day: u64::from(daily_quota.unwrap_or(DEFAULT_DAILY_QUOTA)),
        time_budget: NO_TIME_BUDGET,
        stop_grace: Duration::ZERO,
        opt_outs_write_to: None,
        // The person at the terminal reads the report of their own data: whole addresses.
        full_samples: true,
    }
}

/// What the person at the terminal asked of a run here.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RunRequest {
    /// Send every member, changed or not.
    pub(crate) full_resync: bool,
    /// Go on with removals a guard would stop (`--confirm-removals`).
    pub(crate) confirm_removals: bool,
    /// Only read the list back (`--verify-only`).
    pub(crate) verify_only: bool,
}

/// Carries out the run the state file holds next — one an earlier process left, else a new one
/// — and returns it as it ended.
pub(crate) async fn carry_out_here(
    state: &StateFile,
    context: &RunContext,
    prepared: &Prepared,
    request: RunRequest,
) -> anyhow::Result<Run> {
    let run = match state.next_run(request).await? {
        NextRun::Claimed(run) => run,
        NextRun::Waiting(run) => bail!(
            "the export's run {} waits until {} ({}); run it again then to take it up",
            run.id,
            run.not_before.map(|at| at.to_rfc3339()).unwrap_or_default(),
            run.reason.as_deref().unwrap_or("the quota is spent")
        ),
    };
    if run.resumed > 0 {
        eprintln!(
            "Taking up run {}, which an earlier segsync export left unfinished.",
            run.id
        );
    }
    let id = run.id;
    let store = state.store().clone();
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok()
            && let Err(error) = store.request_cancel(id).await
        {
            tracing::warn!(error = %error.chain(), "The run's cancellation could not be recorded.");
        }
    });
    let progress = BarProgress::new();
    // The run's future is large (the export's phases); it lives on the heap.
    Box::pin(carry_out(
        context,
        run,
        prepared,
        &progress,
        &CancellationToken::new(),
    ))
    .await;
    progress.finish();
    interrupt.abort();
    state.run(id).await
}
