//! `[engine]` in the configuration: how much memory evaluating segments may hold, and where
//! what does not fit is spilled.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;

use bytesize::ByteSize;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

/// What the engine may use for one opened set of profiles — one run, one count, one preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// The most memory the query's operators may hold at once: related rows grouped by
    /// profile, the joins of their measures to the profiles, sorts. Past it, grouping and
    /// sorting spill to disk; what cannot spill (the table of measures a join looks profiles up
    /// in) fails the run with [`EngineError::MemoryBudget`] instead of taking the machine's
    /// memory. Batches being read and streamed are not counted: they are bounded by the batch
    /// size. `"1 GiB"`, `"512 MB"` or a number of bytes.
    pub memory_limit: ByteSize,
    /// Where spilled data is written; the system's temporary folder when absent.
    pub spill_directory: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            memory_limit: ByteSize::gib(1),
            spill_directory: None,
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
