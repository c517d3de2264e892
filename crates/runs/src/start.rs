//! Starting a run: queued for a worker, or recorded as Skipped with the reason when it cannot
//! happen.

use segsync_store::{Export, QueueError, Run, StoreError, Trigger};
use uuid::Uuid;

use crate::RunEngine;

/// What became of a request to run an export.
#[derive(Debug)]
pub enum Started {
    /// Queued for a worker.
    Queued(Run),
    /// Recorded as Skipped, with the reason.
    Skipped(Run),
}

impl Started {
    pub fn run(&self) -> &Run {
        match self {
            Self::Queued(run) | Self::Skipped(run) => run,
        }
    }
}

impl RunEngine {
    /// Queues a run of `export`, acting as its connection's export user, or records why it was
    /// skipped: no connection, no export user, or a run of the export still queued or running.
    pub async fn start(
        &self,
        export: &Export,
        trigger: Trigger,
        requested_by: Option<Uuid>,
    ) -> Result<Started, StoreError> {
        match self
            .start_unless_going(export, trigger, requested_by)
            .await?
        {
            Ok(started) => Ok(started),
            Err(active) => self
                .store
                .record_skipped_run(
                    export.id,
                    trigger,
                    requested_by,
                    &format!("run {active} of this export was still queued or running"),
                )
                .await
                .map(Started::Skipped),
        }
    }

    /// As [`RunEngine::start`], but a run of the export still queued or running (another node
    /// may have just started it) is answered as its id, and nothing is recorded.
    pub async fn start_unless_going(
        &self,
        export: &Export,
        trigger: Trigger,
        requested_by: Option<Uuid>,
    ) -> Result<Result<Started, Uuid>, StoreError> {
        let skip = |reason: String| async move {
            self.store
                .record_skipped_run(export.id, trigger, requested_by, &reason)
                .await
                .map(|run| Ok(Started::Skipped(run)))
        };
        let Some(connection_id) = export.connection_id else {
            return skip("the export has no connection: it was detached".to_owned()).await;
        };
        let connection = self.store.connection(connection_id).await?;
        let Some(export_user) = connection.export_user_id else {
            return skip(format!(
            "the connection {:?} has no export user; an admin must add themselves as its export user",
            connection.name
        ))
        .await;
        };
        match self
            .store
            .queue_run(export.id, trigger, requested_by, Some(export_user))
            .await
        {
            Ok(run) => {
                self.run_queued();
                Ok(Ok(Started::Queued(run)))
            }
            Err(QueueError::AlreadyActive(active)) => Ok(Err(active)),
            Err(QueueError::Store(error)) => Err(error),
        }
    }
}
