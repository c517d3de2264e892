//! `[engine]` in the configuration: how much memory evaluating segments may hold, and where
//! what does not fit is spilled.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use bytesize::ByteSize;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::SessionConfig;
use serde::{Deserialize, Serialize};

use crate::cluster_tls::ClusterTls;
use crate::error::EngineError;

/// What the engine may use: for one run, and for the counts, previews and dry runs of a
/// process together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// The most memory the query's operators may hold at once: related rows grouped by
    /// profile, the joins of their measures (or of the conditions decided on them) to the
    /// profiles, sorts. Past it, grouping and sorting spill to disk; what cannot spill (the
    /// table a hash join looks profiles up in) fails the run with
    /// [`EngineError::MemoryBudget`] instead of taking the machine's memory. Batches being read
    /// and streamed are not counted: they are bounded by the batch size. `"1 GiB"`, `"512 MB"`
    /// or a number of bytes.
    pub memory_limit: ByteSize,
    /// Where spilled data is written; the system's temporary folder when absent.
    pub spill_directory: Option<PathBuf>,
    /// Join the profiles to their measures by sorting both sides (which spills) rather than
    /// by a hash table of the measures (which cannot): slower, but a limit far below the
    /// measured profiles' size then holds. Off by default.
    pub sort_merge_joins: bool,
    /// The Ballista scheduler that evaluates segments (`df://host:50050`); absent, they are
    /// evaluated in this process. The executors read the sources themselves, so they need the
    /// same paths or credentials as this node.
    pub cluster: Option<String>,
    /// The files this node authenticates the cluster with, and itself to it: required when
    /// `cluster` is on another machine.
    pub cluster_tls: Option<ClusterTls>,
    /// Counts, previews and dry runs evaluated at once by one server, all within one
    /// `memory_limit`; past them, a request is answered 429 `busy`. Runs are bounded by the
    /// workers, each within a `memory_limit` of its own. 2 by default.
    pub max_concurrent_evaluations: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            memory_limit: ByteSize::gib(1),
            spill_directory: None,
            sort_merge_joins: false,
            cluster: None,
            cluster_tls: None,
            max_concurrent_evaluations: 2,
        }
    }
}

impl EngineSettings {
    /// The settings with another memory limit.
    pub fn with_memory_limit(self, memory_limit: ByteSize) -> Self {
        Self {
            memory_limit,
            ..self
        }
    }

    /// How many evaluations one process runs at once, within one memory limit: at least one.
    pub fn evaluations_at_once(&self) -> usize {
        self.max_concurrent_evaluations.max(1)
    }

    /// The settings with joins by sorting, which spill, or by hash tables, which do not.
    pub fn with_sort_merge_joins(self, sort_merge_joins: bool) -> Self {
        Self {
            sort_merge_joins,
            ..self
        }
    }

    /// The settings with segments evaluated on the cluster whose scheduler is at `cluster`.
    pub fn with_cluster(self, cluster: Option<String>) -> Self {
        Self { cluster, ..self }
    }

    /// The settings with the files of this node's mutual TLS with the cluster.
    pub fn with_cluster_tls(self, cluster_tls: Option<ClusterTls>) -> Self {
        Self {
            cluster_tls,
            ..self
        }
    }

    /// Checks what can be checked before anything is evaluated: the cluster's address, and
    /// that a cluster beyond this machine has TLS files this node can use.
    pub fn check(&self) -> Result<(), EngineError> {
        if let Some(cluster) = &self.cluster {
            crate::cluster::authenticated(
                cluster,
                self.cluster_tls.as_ref(),
                SessionConfig::new(),
            )?;
        }
        Ok(())
    }

    /// DataFusion's session settings changed by these: how joins are made, and what each sort
    /// keeps aside for merging what it spilled — at most an eighth of the limit, so that a
    /// small limit leaves room for the operators beside the sorts.
    pub(crate) fn apply(&self, mut config: SessionConfig) -> SessionConfig {
        let options = config.options_mut();
        if self.sort_merge_joins {
            options.optimizer.prefer_hash_join = false;
        }
        let eighth = usize::try_from(self.memory_limit.as_u64() / 8).unwrap_or(usize::MAX);
        let execution = &mut options.execution;
        execution.sort_spill_reservation_bytes = execution.sort_spill_reservation_bytes.min(eighth);
        config
    }

    /// DataFusion's runtime for these settings: a pool that shares the limit fairly among the
    /// operators that can spill (and names the largest consumers when it runs out), and a
    /// disk manager for the spills.
    pub(crate) fn runtime(&self) -> Result<Arc<RuntimeEnv>, EngineError> {
        let limit = usize::try_from(self.memory_limit.as_u64()).unwrap_or(usize::MAX);
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(limit),
            NonZeroUsize::new(3).expect("three is not zero"),
        );
        let mode = match &self.spill_directory {
            Some(folder) => DiskManagerMode::Directories(vec![folder.clone()]),
            None => DiskManagerMode::OsTmpDirectory,
        };
        Ok(RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(pool))
            .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(mode))
            .build_arc()?)
    }
}
