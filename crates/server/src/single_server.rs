//! One server per SQLite file. The embedded database serves one process: a second `segsync
//! serve` on the same file would take the first one's running runs for abandoned (on SQLite
//! every Running run is taken up at start) and send their imports again. So a server holds a
//! lock beside the file while it serves, released however the process ends.

use std::fs::{File, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};

/// Locks `<database>.serve.lock`, or says that another server holds it.
pub(crate) fn lock(database: &Path) -> anyhow::Result<File> {
    let mut name = database.as_os_str().to_owned();
    name.push(".serve.lock");
    let lock_path = std::path::PathBuf::from(name);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => bail!(
            "another segsync serve is using the SQLite database {}; the embedded database serves one process at a time — stop the other one, or use PostgreSQL (database_url = \"postgres://…\") for several nodes",
            database.display()
        ),
        Err(TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("locking {}", lock_path.display()))
        }
    }
}
