//! Opening the store: the database chosen by its URL, migrated to the current schema.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Executor, Transaction};
use tracing::info;

use crate::error::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn of(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl {
                url: redact_password(url),
            })
        }
    }
}

/// The store, cheap to clone: clones share one pool of connections.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    /// The database's own driver, for the one read where the `Any` driver's per-value cost
    /// shows: loading a ledger of a million rows.
    pub(crate) native: NativePool,
    backend: Backend,
}

#[derive(Debug, Clone)]
pub(crate) enum NativePool {
    /// The database file, opened read-only by rusqlite for that read.
    Sqlite(std::path::PathBuf),
    Postgres(sqlx::PgPool),
}

/// Creates a missing SQLite file readable and writable by its owner only (0600): it holds
/// password hashes and sealed tokens. SQLite gives its journal and write-ahead log the same
/// permissions. An existing file is left as it is, and so is an in-memory database.
fn create_private_file(file: &std::path::Path) -> Result<(), StoreError> {
    if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" || file.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        // Another process made it first.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::CreatingFile {
            file: file.to_path_buf(),
            source: error,
        }),
    }
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date. A SQLite file is created
    /// when missing, readable by its owner only, and runs in write-ahead-log mode, so readers never wait for the writer.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::of(url)?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let separator = if url.contains('?') { '&' } else { '?' };
                format!("{url}{separator}mode=rwc")
            }
            _ => url.to_owned(),
        };
        if backend == Backend::Sqlite {
            let file = sqlx::sqlite::SqliteConnectOptions::from_str(&url)?
                .get_filename()
                .to_path_buf();
            create_private_file(&file)?;
        }
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // The busy timeout first: setting the journal mode takes a lock, and
                        // without it a new connection fails at once while another writes.
                        connection
                            .execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        let native = match backend {
            Backend::Sqlite => NativePool::Sqlite(
                sqlx::sqlite::SqliteConnectOptions::from_str(&url)?
                    .get_filename()
                    .to_path_buf(),
            ),
            Backend::Postgres => NativePool::Postgres(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(2)
                    .connect(&url)
                    .await?,
            ),
        };
        info!(url = %redact_password(&url), ?backend, "Store open.");
        Ok(Self {
            pool,
            native,
            backend,
        })
    }

    /// The database file, on SQLite.
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        match &self.native {
            NativePool::Sqlite(path) => Some(path),
            NativePool::Postgres(_) => None,
        }
    }

    /// The pool itself, for tests and maintenance that need raw SQL.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that writes. SQLite's takes the write lock at its start, waiting
    /// its turn under the busy timeout: a deferred one that reads first would be refused at
    /// once ("database is locked") when another connection writes before it does.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// True when the database answers.
    pub async fn is_ready(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if let NativePool::Postgres(pool) = &self.native {
            pool.close().await;
        }
    }
}

/// The URL with any password replaced, for logs and messages.
pub(crate) fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
