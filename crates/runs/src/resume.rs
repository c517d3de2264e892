//! Taking up a run whose process died. Its checkpoints say where each import stood: those
//! completed are in the ledger already; one accepted but not yet ended is waited for; one
//! planned may or may not have reached Constant Contact — the process may have died between
//! sending it and writing down that it was accepted. Constant Contact's activities carry no
//! reference of the caller's, nor the list an import went to, so no activity can be known to be
//! that very import: a removal, another export's import or one a person started may look the
//! same. A planned import is therefore sent again (an import only updates contacts and adds them
//! to the list, so sending one twice changes nothing; recording members as sent that were not
//! would lose them for good). Constant Contact keeps activities ten days: an accepted one it no
//! longer knows counts as not completed, and its members are sent again. The run then goes on as
//! a delta run: what earlier attempts sent is in the ledger, and is not sent twice.

use constant_contact::ActivityState;
use constant_contact::ConstantContact;
use constant_contact::api::PollPolicy;
use segsync_store::{BatchState, LedgerOf, RunClaim, Store, StoreError};
use tracing::info;
use uuid::Uuid;

/// Why the imports an earlier attempt left could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("waiting for the import {activity_id}")]
    WaitingForImport {
        activity_id: Uuid,
        #[source]
        source: constant_contact::Error,
    },
}

/// What settling found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Settled {
    /// Planned imports without Constant Contact's word that they were accepted: dropped, their
    /// members to be sent again.
    pub(crate) unconfirmed: u32,
    /// Accepted imports whose end was waited for.
    pub(crate) waited_for: u32,
    /// Accepted imports Constant Contact no longer knows (older than ten days): their members
    /// are sent again.
    pub(crate) expired: u32,
}

/// Settles every import of `run_id` that an earlier attempt left planned or sent.
pub(crate) async fn settle_earlier_imports(
    store: &Store,
    client: &ConstantContact,
    claim: &RunClaim,
    of: LedgerOf,
    poll_policy: &PollPolicy,
) -> Result<Settled, ResumeError> {
    let run_id = claim.run_id;
    let mut settled = Settled::default();
    let batches = store.run_batches(run_id).await?;
    for batch in batches {
        let activity_id = match (batch.state, batch.activity_id) {
            (BatchState::Completed | BatchState::Failed, _) => continue,
            (BatchState::Sent, Some(activity_id)) => {
                settled.waited_for += 1;
                activity_id
            }
            (_, _) => {
                info!(run = %run_id, seq = batch.seq, "An import the run may or may not have sent has no word from Constant Contact; its members will be sent again.");
                store.drop_unsent_batch(claim, batch.seq).await?;
                settled.unconfirmed += 1;
                continue;
            }
        };
        let (completed, counters) = match client.wait_for_activity(activity_id, poll_policy).await {
            Ok(ended) => (
                ended.state == ActivityState::Completed,
                serde_json::json!({
                    "activity_id": activity_id,
                    "contacts": batch.contacts,
                    "state": ended.state.as_str(),
                    "counters": ended.status,
                }),
            ),
            // Constant Contact keeps an activity ten days: one older is gone, and how it ended
            // with it. Its members are sent again; an import only updates contacts and adds
            // them to the list, so sending one twice changes nothing.
            Err(constant_contact::Error::Rejected { status: 404, .. }) => {
                info!(run = %run_id, seq = batch.seq, %activity_id, "An import the run sent is no longer known to Constant Contact (activities are kept ten days); its members will be sent again.");
                settled.expired += 1;
                (
                    false,
                    serde_json::json!({
                        "activity_id": activity_id,
                        "contacts": batch.contacts,
                        "state": "expired",
                    }),
                )
            }
            Err(source) => {
                return Err(ResumeError::WaitingForImport {
                    activity_id,
                    source,
                });
            }
        };
        store
            .batch_ended(claim, batch.seq, completed, &counters, of)
            .await?;
    }
    Ok(settled)
}
