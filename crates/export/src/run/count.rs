//! Count: how many profiles there are and how many the segments hold, checked against the
//! member limit, and the requests the run needs, reserved from the day's budget before anything
//! is sent.

use super::{Planned, Run};
use crate::checkpoints::{Checkpoints, Reservation};
use crate::dry_run::sort_without_sending;
use crate::error::ExportError;
use crate::plan::{count_profiles, fewest_requests_to_send};
use crate::sync::Ledger;

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
    let mut to_send = profiles_in_segments;
    if fewest_requests_to_send(to_send) > left && !ledger.is_empty() && !plan.full_resync {
        // Most members may be unchanged: count what this run would really send.
        let (counts, counted) = sort_without_sending(
            profiles,
            plan,
            &planned.segments,
            ledger,
            planned.on_list.as_ref(),
            profiles_in_segments,
        )
        .await?;
        ledger = counted;
        ledger.forget_seen();
        to_send = counts.to_send();
    }
    let needed = fewest_requests_to_send(to_send);
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
