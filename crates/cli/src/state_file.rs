//! `[export] state_file`: what a command-line export sent, kept between runs in a SQLite store of
//! its own — the server's ledger and checkpoints — so that a later run sends only new and changed
//! members, mirror mode knows which contacts the export put on the list, and unsubscribed
//! contacts are never sent again.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use segsync_export::Ledger;
use segsync_runs::{SharedQuota, StoreCheckpoints, load_ledger};
use segsync_store::{
    ExportDraft, LedgerOf, NewConnection, NewUser, Role, RunClaim, RunStatus, SegmentDraft, Store,
    Trigger, UsableBy,
};
use uuid::Uuid;

/// The one export a state file holds; each list it sends to has a ledger of its own.
const EXPORT_NAME: &str = "command line";

pub(crate) struct StateFile {
    store: Store,
    of: LedgerOf,
    /// Held while the file is open: one command-line run at a time per state file.
    _lock: File,
}

/// A run recorded in the state file: what the export sent before, and where this run's
/// checkpoints go.
pub(crate) struct StateRun {
    pub(crate) claim: RunClaim,
    pub(crate) ledger: Ledger,
    pub(crate) checkpoints: StoreCheckpoints,
}

impl StateFile {
    /// Opens the state file at `path`, created when missing, for exports to `list_id`. A run a
    /// killed process left open is closed as failed: what it had recorded as sent stays
    /// remembered, and what it had not is sent again by the next run.
    pub(crate) async fn open(path: &Path, list_id: Uuid) -> anyhow::Result<Self> {
        let lock = lock_beside(path)?;
        let store = Store::open(&format!("sqlite://{}", path.display()))
            .await
            .with_context(|| format!("opening the state file {}", path.display()))?;
        store
            .requeue_interrupted_runs(
                "the command-line run was interrupted before it ended",
                Utc::now(),
                0,
            )
            .await?;
        let of = command_line_export(&store, list_id).await?;
        Ok(Self {
            store,
            of,
            _lock: lock,
        })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// What the export sent before, for a dry run.
    pub(crate) async fn ledger(&self) -> anyhow::Result<Ledger> {
        Ok(load_ledger(&self.store, self.of, Uuid::new_v4()).await?)
    }

    /// Records a new run and loads what the export sent before.
    pub(crate) async fn start_run(&self, quota: SharedQuota) -> anyhow::Result<StateRun> {
        let run = self
            .store
            .queue_run(self.of.export_id, Trigger::Manual, None, None)
            .await
            .map_err(|error| anyhow::anyhow!("recording the run in the state file: {error:?}"))?;
        let run = self
            .store
            .claim_next_run(EXPORT_NAME)
            .await?
            .filter(|claimed| claimed.id == run.id)
            .ok_or_else(|| {
                anyhow::anyhow!("the run recorded in the state file could not be claimed")
            })?;
        let ledger = load_ledger(&self.store, self.of, run.id).await?;
        Ok(StateRun {
            claim: run.held_claim(),
            ledger,
            checkpoints: StoreCheckpoints::new(
                self.store.clone(),
                run.held_claim(),
                self.of,
                0,
                quota,
            ),
        })
    }

    pub(crate) async fn finish_run(
        &self,
        claim: &RunClaim,
        status: RunStatus,
        reason: Option<&str>,
    ) -> anyhow::Result<()> {
        self.store.finish_run(claim, status, reason, None).await?;
        Ok(())
    }

    pub(crate) async fn close(self) {
        self.store.close().await;
    }
}

/// Locks `<path>.lock`, or says that another export holds it. The lock goes with the process,
/// however it ends.
fn lock_beside(path: &Path) -> anyhow::Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => bail!(
            "another segsync export is using the state file {}; run one export at a time on it",
            path.display()
        ),
        Err(TryLockError::Error(error)) => {
            Err(error).with_context(|| format!("locking {}", lock_path.display()))
        }
    }
}

/// The export a state file's ledgers belong to, with the rows the store asks of every export (a
/// user, a segment and a connection), created on first use.
pub(crate) async fn command_line_export(store: &Store, list_id: Uuid) -> anyhow::Result<LedgerOf> {
    if let Some(export) = store
        .exports()
        .await?
        .into_iter()
        .find(|export| export.name == EXPORT_NAME)
    {
        return Ok(LedgerOf {
            export_id: export.id,
            list_id,
        });
    }
    let by = store
        .create_user(&NewUser {
            username: "command-line".into(),
            display_name: "Command line".into(),
            role: Role::Admin,
            password_hash: "not used: the command line does not sign in".into(),
        })
        .await?
        .id;
    let segment = store
        .create_segment(
            &SegmentDraft {
                name: "the configured segments".into(),
                description: Some("The segments the export's configuration names.".into()),
                rule: serde_json::from_value(
                    serde_json::json!({"attribute": "email", "op": "is_not_null"}),
                )
                .unwrap(),
            },
            by,
        )
        .await?;
    let connection = store
        .create_connection(&NewConnection {
            name: "the configured connection".into(),
            usable_by: UsableBy::Admins,
            created_by: by,
        })
        .await?;
    let export = store
        .create_export(
            &ExportDraft {
                name: EXPORT_NAME.into(),
                connection_id: connection.id,
                list_id,
                mapping: Default::default(),
                schedule_override: None,
                sync_mode: segsync_domain::SyncMode::AddOnly,
                segment_ids: vec![segment.id],
            },
            by,
        )
        .await?;
    Ok(LedgerOf {
        export_id: export.id,
        list_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_state_file_serves_one_export_at_a_time() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("state.db");
        let list = Uuid::new_v4();
        let first = StateFile::open(&path, list).await.unwrap();
        let refused = StateFile::open(&path, list).await.err().unwrap();
        assert!(
            refused
                .to_string()
                .starts_with("another segsync export is using the state file"),
            "{refused:#}"
        );
        let export_id = first.of.export_id;
        first.close().await;
        let again = StateFile::open(&path, list).await.unwrap();
        assert_eq!(
            again.of.export_id, export_id,
            "the export is found again, not made anew"
        );
    }
}
