//! The cluster segments are evaluated on, as its scheduler says: reachable or not, each
//! executor alive or not with its task slots and last heartbeat, and the queries running.

use serde::Serialize;

use super::SystemAdmin;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClusterView {
    /// The scheduler's address (`[engine] cluster`); none when each node evaluates its own
    /// segments.
    pub scheduler: Option<String>,
    /// Whether the scheduler answered.
    pub reachable: bool,
    /// Why it did not, or why it cannot evaluate now (no executor alive).
    pub problem: Option<String>,
    pub executors: Vec<ExecutorView>,
    /// The task slots of the executors alive.
    pub alive_slots: u32,
    pub running_queries: u64,
    pub pending_queries: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExecutorView {
    /// `host:port` of its Flight service.
    pub address: String,
    /// `alive`, `draining` (shutting down cleanly: no new task), `dead` or `unknown`.
    pub state: String,
    /// Tasks it runs at once.
    pub slots: u32,
    /// Seconds since its last heartbeat.
    pub seconds_since_heartbeat: Option<u64>,
}

impl ClusterView {
    /// No answer from `scheduler` (none: no cluster), for `problem`.
    fn unreached(scheduler: Option<String>, problem: Option<String>) -> Self {
        Self {
            scheduler,
            reachable: false,
            problem,
            executors: Vec::new(),
            alive_slots: 0,
            running_queries: 0,
            pending_queries: 0,
        }
    }

    /// One line of what the cluster can do now, for `/readyz`, which anyone may ask: no
    /// address and no error's words. None without a cluster.
    pub fn readiness(&self) -> Option<String> {
        self.scheduler.as_ref()?;
        let alive = self.executors.iter().filter(|e| e.state == "alive").count();
        Some(if !self.reachable {
            "cluster: the scheduler does not answer".to_owned()
        } else if alive == 0 {
            "cluster: no executor is alive".to_owned()
        } else {
            format!(
                "cluster: {alive} executor{} alive with {} task slots",
                if alive == 1 { "" } else { "s" },
                self.alive_slots
            )
        })
    }
}

impl SystemAdmin<'_> {
    pub async fn cluster(&self) -> ClusterView {
        cluster_view(self.app).await
    }
}

/// What the scheduler of the engine's cluster says, asked now.
pub(crate) async fn cluster_view(app: &crate::App) -> ClusterView {
    let settings = &app.engine().settings().engine;
    let Some(scheduler) = settings.cluster.clone() else {
        return ClusterView::unreached(None, None);
    };
    match segsync_engine::cluster_status(&scheduler, settings.cluster_tls.as_ref()).await {
        Ok(status) => {
            let problem = status
                .alive()
                .next()
                .is_none()
                .then(|| "no executor is alive: segments cannot be evaluated".to_owned());
            ClusterView {
                problem,
                alive_slots: status.alive_slots(),
                running_queries: status.running_queries,
                pending_queries: status.pending_queries,
                executors: status
                    .executors
                    .into_iter()
                    .map(|executor| ExecutorView {
                        address: executor.address,
                        state: executor.state,
                        slots: executor.slots,
                        seconds_since_heartbeat: executor.seconds_since_heartbeat,
                    })
                    .collect(),
                scheduler: Some(scheduler),
                reachable: true,
            }
        }
        Err(error) => ClusterView::unreached(Some(scheduler), Some(error.to_string())),
    }
}
