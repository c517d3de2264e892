//! Count: how many profiles there are and how many the segments hold, checked against the
//! member limit; in mirror mode, the guards on destructive runs; and the requests the run needs
//! (`RequestEstimate`, the dry run's estimate), reserved from the day's budget before anything
//! is sent.

use nohash_hasher::IntSet;
use segsync_domain::{ChainExt, RunFacts};

use super::{Planned, Run};
use crate::checkpoints::{Checkpoints, Reservation};
use crate::dry_run::sort_without_sending;
use crate::error::ExportError;
use crate::list_members::emails_among;
use crate::plan::count_profiles;
use crate::report::SAMPLES;
use crate::requests::{RequestEstimate, RunWork, imports_at_least};
use crate::sync::{Ledger, SyncMode};

/// A quick estimate is trusted while it needs at most this share of what is left today;
/// beyond it the run sorts its members first, as a dry run does, and counts exactly. Imports
/// are estimated at 40,000 contacts each, but a body reaches 4,000,000 bytes first once
/// contacts pass 100 bytes, so a run can need several times as many.
const QUICK_ESTIMATE_TRUSTED_UP_TO: u64 = 4;

/// Requests a stopped run may spend on samples of the contacts it would remove: pages of the
/// list (see `emails_among`).
const SAMPLE_REQUESTS: u64 = 10;

/// How many profiles the source and the segments hold.
pub(crate) struct ProfileCounts {
    pub(crate) read: u64,
    pub(crate) in_segments: u64,
}

pub(crate) struct Counted {
    pub(crate) profiles: ProfileCounts,
    /// The ledger, as the count left it (a count of what would really be sent reads it).
    pub(crate) ledger: Ledger,
}

pub(crate) async fn count<C: Checkpoints>(
    run: &Run<'_, C>,
    planned: &Planned,
    mut ledger: Ledger,
) -> Result<Counted, ExportError> {
    let Run {
        profiles,
        plan,
        client,
        checkpoints,
        ..
    } = *run;
    let (profiles_read, profiles_in_segments) = count_profiles(profiles, &planned.segments).await?;
    if profiles_in_segments > plan.member_limit {
        return Err(ExportError::OverLimit {
            members: profiles_in_segments,
            limit: plan.member_limit,
        });
    }
    let left = u64::from(client.budget().remaining_today());
    let list_members = planned.list_members.unwrap_or_default();
    let mirror = plan.mode == SyncMode::Mirror;
    // Every member sent and, in mirror mode, everyone the export put on the list removed.
    let removals_at_most = if mirror { ledger.owned_on_list() } else { 0 };
    let quick = RequestEstimate::of(&RunWork {
        mode: plan.mode,
        list_members,
        imports: imports_at_least(profiles_in_segments),
        adds: profiles_in_segments,
        removals: removals_at_most,
    });
    let facts = RunFacts {
        profiles_read,
        members_now: profiles_in_segments,
        members_before: plan.guard.members_before,
        list_members,
        removals_planned: removals_at_most,
    };
    // The guards judge the most the run could remove first: only when that would stop it are
    // the removals counted exactly (the judgement only grows with them).
    let may_stop = mirror && plan.guard.judge(&facts).is_some();
    let mut to_send = profiles_in_segments;
    let mut estimate = quick;
    let mut stop = None;
    if may_stop || quick.still_to_send_after_planning() * QUICK_ESTIMATE_TRUSTED_UP_TO > left {
        let sorted = sort_without_sending(
            profiles,
            plan,
            &planned.segments,
            ledger,
            planned.on_list.as_ref(),
            profiles_in_segments,
        )
        .await?;
        ledger = sorted.ledger;
        ledger.forget_seen();
        to_send = sorted.counts.to_send();
        estimate = RequestEstimate::of(&RunWork {
            mode: plan.mode,
            list_members,
            imports: sorted.imports,
            adds: sorted.counts.adds,
            removals: sorted.leavers.len() as u64,
        });
        if mirror {
            let exact = RunFacts {
                removals_planned: sorted.leavers.len() as u64,
                ..facts
            };
            stop = plan.guard.judge(&exact).map(|stop| (stop, sorted.leavers));
        }
    }
    if let Some((mut stop, leavers)) = stop {
        stop.removal_samples = removal_samples(run, leavers).await;
        return Err(ExportError::NeedsConfirmation(Box::new(stop)));
    }
    let needed = estimate.still_to_send_after_planning();
    if needed > left {
        return Err(ExportError::OverQuota {
            members: to_send,
            needed,
            left,
        });
    }
    // The budget shared with other runs and processes has its say too.
    if let Reservation::Short { left } = checkpoints.reserve_requests(needed).await? {
        return Err(ExportError::OverQuota {
            members: to_send,
            needed,
            left,
        });
    }
    Ok(Counted {
        profiles: ProfileCounts {
            read: profiles_read,
            in_segments: profiles_in_segments,
        },
        ledger,
    })
}

/// A few emails of the contacts a stopped run would remove, read from the list with requests
/// reserved from the day's budget; none when the budget or the list cannot spare them (the
/// numbers alone stop the run).
async fn removal_samples<C: Checkpoints>(run: &Run<'_, C>, leavers: Vec<u64>) -> Vec<String> {
    if leavers.is_empty() {
        return Vec::new();
    }
    match run.checkpoints.reserve_requests(SAMPLE_REQUESTS).await {
        Ok(Reservation::Reserved) => {}
        _ => return Vec::new(),
    }
    let keys: IntSet<u64> = leavers.into_iter().collect();
    emails_among(run.client, run.plan.list_id, &keys, SAMPLES)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(error = %error.chain(), "The samples of the contacts to remove could not be read.");
            Vec::new()
        })
}
