//! After the imports: settle the account's unsubscribed contacts (the ledger remembers those
//! this export sent, never to send them again), and in mirror mode remove from the list the
//! contacts this export put there that have left the segments.

use segsync_domain::ChainExt;
use tracing::info;
use uuid::Uuid;

use super::Run;
use crate::checkpoints::Checkpoints;
use crate::failure::{ExportFailure, Step};
use crate::list_members::{ListSnapshot, unsubscribed_contacts};
use crate::member_sorter::UNSUBSCRIBED;
use crate::sync::Ledger;
use constant_contact::ActivityState;

/// Why the unsubscribed contacts could not be settled; the run goes on without them.
pub(crate) type UnsubscribedCheckFailure = String;

/// Reads the account's unsubscribed contacts and has the ledger remember those this export
/// sent; they are listed among the run's skipped members. Returns their emails.
pub(crate) async fn settle_unsubscribed<C: Checkpoints>(
    run: &Run<'_, C>,
) -> Result<Vec<Box<str>>, UnsubscribedCheckFailure> {
    let unsubscribed = unsubscribed_contacts(run.client)
        .await
        .map_err(|error| error.chain().to_string())?;
    let ours = run
        .checkpoints
        .unsubscribed(&unsubscribed)
        .await
        .map_err(|error| error.chain().to_string())?;
    let skipped: Vec<(String, String)> = ours
        .iter()
        .map(|email| (email.to_string(), UNSUBSCRIBED.to_owned()))
        .collect();
    run.progress.members_skipped(&skipped);
    Ok(ours)
}

/// What the removals did: those that completed count even when another failed.
#[derive(Debug, Default)]
pub(crate) struct Removals {
    pub(crate) removed: u64,
    pub(crate) already_off: u64,
    /// Why some leavers are still on the list; the next run removes them.
    pub(crate) failure: Option<ExportFailure>,
}

/// Removals one run keeps waiting at once: far below the 1,000 queued activities Constant
/// Contact allows an account, which imports and other runs share.
const REMOVALS_IN_FLIGHT: usize = 100;

/// Mirror mode: removes from the list the contacts this export put there that are no longer in
/// the segments, and forgets them. The contact ids come from the list as the run read it. The
/// removals of up to 500 contacts each are sent back to back, as fast as the rate limit lets
/// them, then followed together (one read of the recent activities serves them all); those
/// that completed are forgotten, any other is left for the next run to retry.
pub(crate) async fn remove_leavers<C: Checkpoints>(
    run: &Run<'_, C>,
    ledger: &Ledger,
    list: Option<ListSnapshot>,
) -> Removals {
    let mut removals = Removals::default();
    if let Err(failure) = remove_each(run, ledger, list, &mut removals).await {
        removals.failure = Some(failure);
    }
    removals
}

async fn remove_each<C: Checkpoints>(
    run: &Run<'_, C>,
    ledger: &Ledger,
    list: Option<ListSnapshot>,
    removals: &mut Removals,
) -> Result<(), ExportFailure> {
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
        return Ok(());
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
    removals.already_off = off_list.len() as u64;
    let per_removal = constant_contact::api::MAX_CONTACT_IDS_PER_REMOVAL;
    for round in on_list.chunks(per_removal * REMOVALS_IN_FLIGHT) {
        let mut sent: Vec<(&[u64], Uuid)> = Vec::new();
        let mut failure = None;
        for keys in round.chunks(per_removal) {
            let ids: Vec<Uuid> = keys
                .iter()
                .filter_map(|key| list.contact_id(*key))
                .collect();
            if let Err(error) = checkpoints.before_send().await {
                failure = Some(not_recorded(error));
                break;
            }
            match client.remove_list_memberships(&ids, &[plan.list_id]).await {
                Ok(activity) => sent.push((keys, activity.activity_id)),
                Err(error) => {
                    failure = Some(failed(error));
                    break;
                }
            }
        }
        let activity_ids: Vec<Uuid> = sent.iter().map(|(_, id)| *id).collect();
        let ended = if activity_ids.is_empty() {
            Vec::new()
        } else {
            match client
                .wait_for_activities(&activity_ids, &plan.poll_policy)
                .await
            {
                Ok(ended) => ended,
                Err(error) => return Err(failure.unwrap_or(failed(error))),
            }
        };
        for ((keys, _), activity) in sent.iter().zip(&ended) {
            if activity.state == ActivityState::Completed {
                checkpoints.removed(keys).await.map_err(not_recorded)?;
                removals.removed += keys.len() as u64;
            } else {
                failure.get_or_insert(ExportFailure::RemovalIncomplete {
                    activity_id: activity.activity_id,
                    state: crate::report::activity_state(activity.state),
                });
            }
        }
        info!(
            removed = removals.removed,
            removals = sent.len(),
            "Members who left the segments were removed from the list."
        );
        if let Some(failure) = failure {
            return Err(failure);
        }
    }
    Ok(())
}
