//! Taking up a run whose process died. Its checkpoints say where each import stood: those
//! completed are in the ledger already; one accepted but not yet ended is waited for; one
//! planned may or may not have reached Constant Contact — the process may have died between
//! sending it and writing down that it was accepted — so Constant Contact's recent activities
//! are searched for it before anything is sent again. Constant Contact keeps activities ten
//! days: one it no longer knows counts as not completed, and its members are sent again. The
//! run then goes on as a delta run:
//! what earlier attempts sent is in the ledger, and is not sent twice.

use chrono::{DateTime, Duration, Utc};
use constant_contact::Activity;
use constant_contact::ActivityState;
use constant_contact::ConstantContact;
use constant_contact::api::PollPolicy;
use segsync_store::{BatchState, LedgerOf, RunClaim, Store, StoreError};
use tracing::info;
use uuid::Uuid;

/// How far before an import was planned its activity may seem to start: clocks differ.
const CLOCK_SKEW: Duration = Duration::seconds(120);

/// Why the imports an earlier attempt left could not be settled.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading Constant Contact's activities")]
    ReadingActivities(#[source] constant_contact::Error),
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
    /// Planned imports Constant Contact had in fact accepted.
    pub(crate) found_sent: u32,
    /// Planned imports Constant Contact never received: dropped, their members to be sent.
    pub(crate) never_sent: u32,
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
                let known = store
                    .batch_activity_ids_since(batch.planned_at - CLOCK_SKEW)
                    .await?;
                let recent = client
                    .activities_since(batch.planned_at - CLOCK_SKEW)
                    .await
                    .map_err(ResumeError::ReadingActivities)?;
                match import_activity_of(&recent, &known, batch.planned_at, batch.contacts) {
                    Some(activity_id) => {
                        info!(run = %run_id, seq = batch.seq, %activity_id, "An import the run may or may not have sent had been accepted; it is not sent again.");
                        let members = store.batch_members(run_id, batch.seq).await?;
                        store
                            .batch_sent(claim, batch.seq, activity_id, of, &members)
                            .await?;
                        settled.found_sent += 1;
                        activity_id
                    }
                    None => {
                        info!(run = %run_id, seq = batch.seq, "An import the run may or may not have sent never reached Constant Contact; its members will be sent.");
                        store.drop_unsent_batch(claim, batch.seq).await?;
                        settled.never_sent += 1;
                        continue;
                    }
                }
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

/// The activity an unsettled import became, if Constant Contact has one: the earliest activity
/// created after the import was planned (give or take the clocks' difference) that carries as
/// many contacts and that no run recorded as its own. Constant Contact's activities carry no
/// reference of the caller's, so this is the closest test there is.
fn import_activity_of(
    recent: &[Activity],
    known: &[Uuid],
    planned_at: DateTime<Utc>,
    contacts: u64,
) -> Option<Uuid> {
    recent
        .iter()
        .filter(|activity| !known.contains(&activity.activity_id))
        .filter(|activity| {
            activity.status.items_total_count == contacts
                || activity.status.person_count == contacts
        })
        .filter_map(|activity| {
            let created = DateTime::parse_from_rfc3339(activity.created_at.as_deref()?).ok()?;
            let created = created.with_timezone(&Utc);
            (created >= planned_at - CLOCK_SKEW).then_some((created, activity.activity_id))
        })
        .min()
        .map(|(_, activity_id)| activity_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(id: u128, created: &str, contacts: u64) -> Activity {
        serde_json::from_value(serde_json::json!({
            "activity_id": Uuid::from_u128(id),
            "state": "completed",
            "created_at": created,
            "status": { "items_total_count": contacts, "person_count": contacts },
        }))
        .unwrap()
    }

    #[test]
    fn an_unsettled_import_is_matched_by_time_size_and_no_other_owner() {
        let planned_at: DateTime<Utc> = "2026-11-29T10:00:00Z".parse().unwrap();
        let recent = [
            activity(1, "2026-11-29T09:00:00Z", 500),
            activity(2, "2026-11-29T10:00:01Z", 400),
            activity(3, "2026-11-29T10:00:02Z", 500),
            activity(4, "2026-11-29T10:00:03Z", 500),
        ];
        assert_eq!(
            import_activity_of(&recent, &[], planned_at, 500),
            Some(Uuid::from_u128(3)),
            "the earliest after planning with as many contacts"
        );
        assert_eq!(
            import_activity_of(&recent, &[Uuid::from_u128(3)], planned_at, 500),
            Some(Uuid::from_u128(4)),
            "one another run recorded is not it"
        );
        assert_eq!(import_activity_of(&recent, &[], planned_at, 7), None);
    }
}
