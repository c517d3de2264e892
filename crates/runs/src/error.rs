//! What can go wrong in the run engine outside a run (a run's own failures end the run, with
//! their reason).

use segsync_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value the engine keeps in the store's settings no longer parses.
    #[error("the store's setting {key} is damaged")]
    CorruptSetting {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("no profile source is configured: set `profiles` in segsync.toml")]
    ProfilesNotConfigured,
    #[error(transparent)]
    ProfilesUnreadable(#[from] segsync_engine::EngineError),
}
