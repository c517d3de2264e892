//! What can go wrong in the store, in terms a caller can act on.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no {kind} {key}")]
    NotFound { kind: &'static str, key: String },

    /// A unique name or key is taken.
    #[error("a {kind} named {name:?} already exists")]
    Conflict { kind: &'static str, name: String },

    /// Something still uses what was to be removed.
    #[error("the {kind} is used by {}; remove or detach them first", users.join(", "))]
    InUse {
        kind: &'static str,
        users: Vec<String>,
    },

    /// The change would leave no enabled admin, and nobody could manage the server.
    #[error("this would leave no enabled admin; make another user an admin first")]
    LastAdmin,

    #[error("the database URL {url:?} is not supported: use sqlite://PATH or postgres://…")]
    UnsupportedUrl { url: String },

    /// The worker's claim on a run lapsed and another took the run over: it writes nothing
    /// more to it.
    #[error(
        "the run {run_id} is no longer this worker's: its claim lapsed and the run was taken over"
    )]
    ClaimLost { run_id: uuid::Uuid },

    #[error("the store's data is corrupt: {0}")]
    Corrupt(String),

    /// The SQLite file could not be created.
    #[error("creating the SQLite file {}", file.display())]
    CreatingFile {
        file: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("migrating the store")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("the store")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True when `error` is a violated unique constraint, whatever the database.
    pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
        matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
    }
}
