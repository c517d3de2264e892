//! What every run needs, created once at start-up and shared by the workers, the scheduler and
//! the server's routes.

use std::sync::Arc;

use segsync_engine::Evaluations;
use segsync_store::Store;
use tokio::sync::Notify;

use crate::settings::RunsConfig;
use segsync_connections::Clients;

/// What runs are made with besides the store and the clients.
#[derive(Debug, Clone, Default)]
pub struct RunSettings {
    pub runs: RunsConfig,
    /// Where the profiles are (`profiles` in the configuration); runs cannot start without.
    pub profiles: Option<segsync_engine::ProfileSource>,
    /// The tables of rows related to profiles (`[related]`), which segments may count and
    /// measure.
    pub related: Vec<segsync_engine::RelatedTable>,
    /// The most members one export may send; a larger export fails before it sends anything.
    pub member_limit: u64,
    /// The memory each run's segment evaluation may hold, and where it spills.
    pub engine: segsync_engine::EngineSettings,
    /// Where the opt-outs runs learn are appended (`[opt_outs] write_to`), if anywhere.
    pub opt_outs_write_to: Option<segsync_engine::ProfileSource>,
    /// A source of addresses no export may send (`[exclusions]`), read at each run.
    pub exclusions_source: Option<ExclusionsSource>,
    /// Whole addresses in reports' samples (`[privacy] full_samples`); masked otherwise.
    pub full_samples: bool,
    /// How the sources are watched for on-change runs (`[schedule]`).
    pub watch: crate::follow::WatchConfig,
}

/// A source of addresses no export may send: its location and the column of the emails.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionsSource {
    pub source: segsync_engine::ProfileSource,
    #[serde(default = "email_column")]
    pub email_column: String,
}

fn email_column() -> String {
    "email".to_owned()
}

/// The run engine of one process.
#[derive(Clone)]
pub struct RunEngine {
    pub(crate) store: Store,
    pub(crate) clients: Arc<Clients>,
    pub(crate) settings: Arc<RunSettings>,
    /// Wakes an idle run worker when a run is queued.
    pub(crate) run_queued: Arc<Notify>,
    /// The counts, previews and dry runs of this process, a bounded number at once within one
    /// memory limit.
    pub(crate) evaluations: Arc<Evaluations>,
}

impl RunEngine {
    pub fn new(store: Store, clients: Clients, settings: RunSettings) -> Self {
        Self {
            store,
            clients: Arc::new(clients),
            evaluations: Arc::new(Evaluations::new(&settings.engine)),
            settings: Arc::new(settings),
            run_queued: Arc::new(Notify::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The clients of saved connections.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// The pool the counts, previews and dry runs of this process share.
    pub fn evaluations(&self) -> &Evaluations {
        &self.evaluations
    }

    /// Names this process in the runs it works on, so that other nodes can tell whose runs
    /// fell silent.
    pub fn node_id(&self) -> &str {
        self.clients.node_id()
    }

    /// Tells an idle worker of this process that a run was queued.
    pub fn run_queued(&self) {
        self.run_queued.notify_one();
    }
}
