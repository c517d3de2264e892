//! `[export] state_file`: what a command-line export sent, kept between runs in a SQLite store of
//! its own — the server's ledger, checkpoints and runs — so that a later run sends only new and
//! changed members, mirror mode knows which contacts the export put on the list, unsubscribed
//! contacts are never sent again, and a run a killed process left is taken up where it stopped.
//! Without a state file, the export keeps the same records in a temporary one, forgotten when it
//! ends.

use std::fs::{File, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::Utc;
use constant_contact::ConstantContact;
use segsync_domain::VerifySchedule;
use segsync_engine::Profiles;
use segsync_export::ExportPlan;
use segsync_runs::{INTERRUPTED_TOO_OFTEN, MAX_RESUMES, Prepared};
use segsync_store::{
    ExportDraft, LedgerOf, NewConnection, NewUser, QueueError, Role, Run, RunStatus, SegmentDraft,
    Store, Trigger, UsableBy,
};
use tempfile::TempDir;

use crate::local_run::RunRequest;
use uuid::Uuid;

/// The one export a state file holds; each list it sends to has a ledger of its own.
const EXPORT_NAME: &str = "command line";

/// Names the command line in the runs it claims.
const NODE: &str = "command line";

pub(crate) struct StateFile {
    store: Store,
    of: LedgerOf,
    /// Held while the file is open: one command-line run at a time per state file.
    _lock: File,
    /// The folder of a temporary state file, removed when the export ends.
    _temporary: Option<TempDir>,
}

/// What the state file holds for a run to start.
pub(crate) enum NextRun {
    /// Claimed: a new run, or one a killed process left, to take up where it stopped.
    Claimed(Run),
    /// An earlier run waits (for the quota's reset) until then.
    Waiting(Run),
}

impl StateFile {
    /// Opens the state file at `path`, created when missing, for exports to `list_id`. A run a
    /// killed process left running goes back to the queue, to be taken up by this export where
    /// it stopped (or closed as failed when that already happened too often).
    pub(crate) async fn open(path: &Path, list_id: Uuid) -> anyhow::Result<Self> {
        let lock = lock_beside(path)?;
        let store = Store::open(&format!("sqlite://{}", path.display()))
            .await
            .with_context(|| format!("opening the state file {}", path.display()))?;
        // The file is locked: whatever it shows running, no process is running any more.
        store
            .requeue_interrupted_runs(INTERRUPTED_TOO_OFTEN, Utc::now(), MAX_RESUMES)
            .await?;
        let of = command_line_export(&store, list_id).await?;
        Ok(Self {
            store,
            of,
            _lock: lock,
            _temporary: None,
        })
    }

    /// A state file that lives as long as this export.
    pub(crate) async fn temporary(list_id: Uuid) -> anyhow::Result<Self> {
        let folder = tempfile::tempdir().context("creating a temporary state file")?;
        let mut state = Self::open(&folder.path().join("state.db"), list_id).await?;
        state._temporary = Some(folder);
        Ok(state)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// What a run of the export needs, for runs recorded in this file: the plan, the client
    /// and the profiles the command was given, on the file's connection and ledger.
    pub(crate) async fn prepared(
        &self,
        client: ConstantContact,
        profiles: Profiles,
        plan: ExportPlan,
        verify: VerifySchedule,
    ) -> anyhow::Result<Prepared> {
        let export = self.store.export(self.of.export_id).await?;
        let id = export
            .connection_id
            .context("the state file's export has lost its connection")?;
        let versions = segsync_runs::SourceVersions::of_profiles(&profiles)
            .await
            .map_err(|failure| anyhow::anyhow!("{}", segsync_domain::ChainExt::chain(&failure)))?;
        Ok(Prepared {
            connection: self.store.connection(id).await?,
            client,
            profiles,
            plan,
            ledger_of: self.of,
            verify,
            versions,
        })
    }

    /// Claims the run to carry out: one a killed process left (taken up where it stopped),
    /// else a new one as `request` asks (sending every member, or only reading the list back).
    /// A run a guard stopped is gone on with when the request confirms removals (the person at
    /// the terminal confirmed whatever it removes); otherwise it is discarded and a new run
    /// judged afresh.
    pub(crate) async fn next_run(&self, request: RunRequest) -> anyhow::Result<NextRun> {
        let mut run = self.queue(request).await?;
        if run.status == RunStatus::AwaitingConfirmation {
            let by = self.store.export(self.of.export_id).await?.created_by;
            if request.confirm_removals {
                self.store.confirm_run(run.id, by, u64::MAX).await?;
                run = self.store.run(run.id).await?;
            } else {
                self.store
                    .discard_run(
                        run.id,
                        "discarded: a new command-line run judges the data afresh",
                    )
                    .await?;
                run = self.queue(request).await?;
            }
        }
        if run.status == RunStatus::Queued && run.not_before.is_some_and(|until| until > Utc::now())
        {
            return Ok(NextRun::Waiting(run));
        }
        match self.store.claim_next_run(NODE).await? {
            Some(claimed) if claimed.id == run.id => Ok(NextRun::Claimed(claimed)),
            _ => bail!(
                "the run {} recorded in the state file could not be claimed",
                run.id
            ),
        }
    }

    /// A new run, or the export's run of the moment.
    async fn queue(&self, request: RunRequest) -> anyhow::Result<Run> {
        let export_id = self.of.export_id;
        let queued = if request.verify_only {
            self.store
                .queue_verification(export_id, Trigger::Manual, None, None)
                .await
        } else {
            self.store
                .queue_run_with(export_id, Trigger::Manual, None, None, request.full_resync)
                .await
        };
        match queued {
            Ok(run) => Ok(run),
            Err(QueueError::AlreadyActive(earlier)) => Ok(self.store.run(earlier).await?),
            Err(QueueError::Store(error)) => {
                Err(error).context("recording the run in the state file")
            }
        }
    }

    /// The run as the state file has it now.
    pub(crate) async fn run(&self, id: Uuid) -> anyhow::Result<Run> {
        Ok(self.store.run(id).await?)
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
        .mode(0o600)
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
                guards: Default::default(),
                verify: Default::default(),
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
