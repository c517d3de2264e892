//! The background work of one server process: the run engine's workers, reaper and scheduler,
//! the alerts' sender, the purge of expired sessions, and the care of personal data (erasures
//! waiting, retention's purge), started together and stopped together.

use segsync_domain::ChainExt;
use std::time::Duration;

use chrono::Utc;
use segsync_runs::Workers;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::state::AppState;

pub(crate) struct Background {
    runs: Workers,
    tasks: JoinSet<()>,
    stopping: CancellationToken,
}

impl Background {
    pub(crate) fn start(state: &AppState) -> Self {
        let stopping = CancellationToken::new();
        let mut tasks = JoinSet::new();
        tasks.spawn(segsync_app::alerts::keep_sending(
            state.app.clone(),
            stopping.clone(),
        ));
        tasks.spawn(purge_expired(state.clone(), stopping.clone()));
        tasks.spawn(segsync_app::privacy::housekeeping::keep_looking_after(
            state.app.clone(),
            stopping.clone(),
        ));
        Self {
            runs: Workers::start(&state.runs),
            tasks,
            stopping,
        }
    }

    /// Stops the runs as [`Workers::stop`] does, and the alerts and the purge, each within
    /// `grace`; what is still going then is dropped.
    pub(crate) async fn stop(mut self, grace: Duration) {
        self.stopping.cancel();
        let others = async { while self.tasks.join_next().await.is_some() {} };
        let ((), others) = tokio::join!(self.runs.stop(grace), tokio::time::timeout(grace, others));
        if others.is_err() {
            warn!("The alerts' sender did not stop within the grace period.");
        }
    }
}

/// How often expired sessions and API tokens are removed from the store.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Removes expired sessions and API tokens, now and every `PURGE_EVERY`.
async fn purge_expired(state: AppState, stopping: CancellationToken) {
    loop {
        match state.store.purge_expired(Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => info!(purged, "Expired sessions and API tokens were removed."),
            Err(error) => {
                warn!(error = %error.chain(), "Expired sessions and API tokens could not be removed.")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(PURGE_EVERY) => {}
            () = stopping.cancelled() => return,
        }
    }
}
