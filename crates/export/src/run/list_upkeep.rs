//! After the imports: settle the account's unsubscribed contacts (the ledger remembers those
//! this export sent, never to send them again), and in mirror mode remove from the list the
//! contacts this export put there that have left the segments.

use tracing::info;
use uuid::Uuid;

use super::Run;
use crate::checkpoints::Checkpoints;
use crate::failure::{ExportFailure, Step};
use crate::list_members::{ListSnapshot, remove_from_list, unsubscribed_contacts};
use crate::member_sorter::UNSUBSCRIBED;
use crate::report::ActivityState;
use crate::sync::Ledger;

/// Why the unsubscribed contacts could not be settled; the run goes on without them.
pub(crate) type UnsubscribedCheckFailure = String;

/// Reads the account's unsubscribed contacts and has the ledger remember those this export
/// sent; they are listed among the run's skipped members. Returns their emails.
pub(crate) async fn settle_unsubscribed<C: Checkpoints>(
    run: &Run<'_, C>,
) -> Result<Vec<Box<str>>, UnsubscribedCheckFailure> {
    let unsubscribed = unsubscribed_contacts(run.client)
        .await
        .map_err(|error| error.to_string())?;
    let ours = run
        .checkpoints
        .unsubscribed(&unsubscribed)
        .await
        .map_err(|error| error.to_string())?;
    let skipped: Vec<(String, String)> = ours
        .iter()
        .map(|email| (email.to_string(), UNSUBSCRIBED.to_owned()))
        .collect();
    run.progress.members_skipped(&skipped);
    Ok(ours)
}

#[derive(Debug, Default)]
pub(crate) struct Removals {
    pub(crate) removed: u64,
    pub(crate) already_off: u64,
}

/// Mirror mode: removes from the list the contacts this export put there that are no longer in
/// the segments, and forgets them.
pub(crate) async fn remove_leavers<C: Checkpoints>(
    run: &Run<'_, C>,
    ledger: &Ledger,
    list: Option<ListSnapshot>,
) -> Result<Removals, ExportFailure> {
    let Run {
        plan,
        client,
        checkpoints,
        ..
    } = *run;
    let failed = |error| ExportFailure::client(Step::RemovingLeavers, error);
    let not_recorded = |error| ExportFailure::checkpoint(Step::RemovingLeavers, error);
    let leavers = ledger.leavers();
    if leavers.is_empty() {
        return Ok(Removals::default());
    }
    let list = match list {
        Some(list) => list,
        None => ListSnapshot::read(client, plan.list_id)
            .await
            .map_err(failed)?,
    };
    let (on_list, off_list): (Vec<u64>, Vec<u64>) = leavers
        .iter()
        .partition(|key| list.contact_id(**key).is_some());
    checkpoints.removed(&off_list).await.map_err(not_recorded)?;
    let mut removed = 0;
    for keys in on_list.chunks(constant_contact::api::MAX_CONTACT_IDS_PER_REMOVAL) {
        let ids: Vec<Uuid> = keys
            .iter()
            .filter_map(|key| list.contact_id(*key))
            .collect();
        checkpoints.before_send().await.map_err(not_recorded)?;
        let ended = remove_from_list(client, plan.list_id, &ids, &plan.poll_policy)
            .await
            .map_err(failed)?;
        if let Some((activity_id, state)) = ended
            .iter()
            .map(|activity| (activity.activity_id, activity.state))
            .find(|(_, state)| *state != ActivityState::Completed)
        {
            return Err(ExportFailure::RemovalIncomplete { activity_id, state });
        }
        checkpoints.removed(keys).await.map_err(not_recorded)?;
        removed += keys.len() as u64;
        info!(
            removed = keys.len(),
            "Members who left the segments were removed from the list."
        );
    }
    Ok(Removals {
        removed,
        already_off: off_list.len() as u64,
    })
}
