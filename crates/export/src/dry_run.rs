//! A dry run: everything a run would do up to sending — the plan, the counts, every member
//! checked, de-duplicated, sorted against what the export sent before and batched — and nothing
//! sent. It says what the run would add, update, leave unchanged and remove, what it would skip
//! and why (with samples), and the requests it needs against the quota left today.

use std::collections::BTreeMap;

use constant_contact::ConstantContact;
use futures_util::StreamExt;
use segsync_engine::Membership;
use segsync_engine::{MemberQuery, Profiles};
use serde::Serialize;

use segsync_domain::{GuardStop, RunFacts};

use crate::contacts::ContactBuilder;
use crate::error::ExportError;
use crate::list_members::ListSnapshot;
use crate::member_sorter::{MemberSorter, SyncCounts};
use crate::plan::{ExportPlan, count_profiles};
use crate::report::{SAMPLES, SourceRead, source_read};
use crate::requests::{RequestEstimate, RunWork};
use crate::sync::{Ledger, SyncMode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DryRunReport {
    pub mode: SyncMode,
    pub full_resync: bool,
    /// The source the profiles were read from (for a Delta table, its version).
    pub source: SourceRead,
    pub profiles_read: u64,
    pub profiles_in_segments: u64,
    pub members_per_segment: Vec<(String, u64)>,
    /// Contacts the run would send: `sync.adds` new to this export's list and `sync.updates`
    /// changed since they were last sent.
    pub would_send: u64,
    /// How the unique contacts divide; `unchanged` ones are not sent.
    pub sync: SyncCounts,
    /// Mirror mode: members this export put on the list who left the segments, to be removed.
    pub would_remove: u64,
    /// Members skipped, by reason, with a few samples of each.
    pub skipped: BTreeMap<String, u64>,
    pub skipped_samples: BTreeMap<String, Vec<String>>,
    /// The import requests the contacts fill, within Constant Contact's limits per request.
    pub imports: u64,
    /// At least: the list check, reading the list's members (mirror and update-only modes),
    /// the imports, one status read of the imports, and each removal with its status read —
    /// `requests` in total, the estimate a run reserves.
    pub requests_needed: u64,
    pub requests: RequestEstimate,
    /// Left today for this API key, by segsync's own count.
    pub requests_left_today: u64,
    /// Whether a run started now fits in what is left today.
    pub fits_today: bool,
    /// Mirror mode: the guards a run started now would trip, with their numbers — it would send
    /// nothing and wait for a person's confirmation.
    pub guard: Option<GuardStop>,
    /// Whether the segments hold more profiles than one export may send; a run would be refused.
    pub over_member_limit: bool,
    pub member_limit: u64,
}

/// A dry run of an export that never ran: everything would be sent.
pub async fn dry_run(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
) -> Result<DryRunReport, ExportError> {
    dry_run_in_step(profiles, plan, client, Ledger::new()).await
}

/// Checks the list with Constant Contact (one request; in update-only mode, reading its members
/// too), then goes through every member as a run against `ledger` would, sending nothing.
pub async fn dry_run_in_step(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    ledger: Ledger,
) -> Result<DryRunReport, ExportError> {
    let segments = plan.segment_exprs(profiles)?;
    let list = plan.check_list(client).await?;
    plan.check_custom_fields(client).await?;
    let on_list = if plan.mode == SyncMode::UpdateOnly {
        Some(ListSnapshot::read(client, plan.list_id).await?)
    } else {
        None
    };
    let (profiles_read, profiles_in_segments) = count_profiles(profiles, &segments).await?;
    let mut sorted = sort_members(
        profiles,
        plan,
        segments,
        ledger,
        on_list,
        profiles_in_segments,
    )
    .await?;
    let would_remove = if plan.mode == SyncMode::Mirror {
        sorted.sorter.ledger.leavers().len() as u64
    } else {
        0
    };
    let tallies = &sorted.builder.tallies;
    let mut skipped: BTreeMap<String, u64> = tallies
        .invalid
        .iter()
        .map(|(reason, count)| (format!("invalid email: {reason}"), *count))
        .collect();
    let mut skipped_samples: BTreeMap<String, Vec<String>> = tallies
        .invalid_samples
        .iter()
        .map(|(reason, samples)| (format!("invalid email: {reason}"), samples.clone()))
        .collect();
    if tallies.duplicates > 0 {
        skipped.insert("duplicate email".to_owned(), tallies.duplicates);
        let mut duplicates: Vec<&str> =
            tallies.duplicate_counts.keys().map(AsRef::as_ref).collect();
        duplicates.sort_unstable();
        duplicates.truncate(SAMPLES);
        skipped_samples.insert(
            "duplicate email".to_owned(),
            duplicates.into_iter().map(str::to_owned).collect(),
        );
    }
    if tallies.erased > 0 {
        skipped.insert("erased".to_owned(), tallies.erased);
    }
    if tallies.excluded > 0 {
        skipped.insert("excluded".to_owned(), tallies.excluded);
        skipped_samples.insert("excluded".to_owned(), tallies.excluded_samples.clone());
    }
    let counts = std::mem::take(&mut sorted.sorter.counts);
    if counts.unsubscribed > 0 {
        skipped.insert("unsubscribed".to_owned(), counts.unsubscribed);
        skipped_samples.insert(
            "unsubscribed".to_owned(),
            counts.unsubscribed_samples.clone(),
        );
    }
    if counts.not_on_list > 0 {
        skipped.insert("not on the list".to_owned(), counts.not_on_list);
        skipped_samples.insert(
            "not on the list".to_owned(),
            sorted.not_on_list_samples.clone(),
        );
    }
    let imports = sorted.imports;
    let requests = RequestEstimate::of(&RunWork {
        mode: plan.mode,
        list_members: list.membership_count.unwrap_or_default(),
        imports,
        adds: counts.adds,
        removals: would_remove,
    });
    let requests_left_today = u64::from(client.budget().remaining_today());
    let guard = if plan.mode == SyncMode::Mirror {
        let facts = RunFacts {
            profiles_read,
            members_now: profiles_in_segments,
            members_before: plan.guard.members_before,
            list_members: list.membership_count.unwrap_or_default(),
            removals_planned: would_remove,
        };
        plan.guard.judge(&facts)
    } else {
        None
    };
    Ok(DryRunReport {
        mode: plan.mode,
        full_resync: plan.full_resync,
        source: source_read(profiles),
        profiles_read,
        profiles_in_segments,
        members_per_segment: plan
            .segments
            .iter()
            .map(|segment| segment.name.clone())
            .zip(sorted.builder.tallies.members_per_segment.iter().copied())
            .collect(),
        would_send: counts.to_send(),
        sync: counts,
        would_remove,
        skipped,
        skipped_samples,
        imports,
        requests_needed: requests.total(),
        requests,
        requests_left_today,
        fits_today: requests.fits_in(requests_left_today),
        guard,
        over_member_limit: profiles_in_segments > plan.member_limit,
        member_limit: plan.member_limit,
    })
}

/// Every member sorted, nothing sent.
struct Sorted {
    builder: ContactBuilder,
    sorter: MemberSorter,
    imports: u64,
    not_on_list_samples: Vec<String>,
}

async fn sort_members(
    profiles: &Profiles,
    plan: &ExportPlan,
    segments: Vec<(String, Membership)>,
    ledger: Ledger,
    on_list: Option<ListSnapshot>,
    expected_members: u64,
) -> Result<Sorted, ExportError> {
    let mut builder = ContactBuilder::new(plan.mapping.clone(), segments.len(), expected_members)
        .with_exclusions(plan.exclusions.clone());
    let mut sorter = MemberSorter::new(ledger, plan.mode, plan.full_resync, on_list, plan.list_id)?;
    let query = MemberQuery {
        columns: builder.columns().to_vec(),
        segments,
    };
    let mut imports = 0u64;
    let mut not_on_list_samples = Vec::new();
    let mut members = profiles.members(&query).await?;
    while let Some(batch) = members.next().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(error) => return Err(ExportError::Profiles(profiles.read_error(error).await)),
        };
        builder.process(&batch, |contact| {
            if sorter.push(&contact)?.is_some() {
                imports += 1;
            }
            Ok(())
        })?;
        // The report keeps counts and samples; the full list is for real runs.
        builder.take_skipped();
        for (email, reason) in sorter.take_skipped() {
            if reason == crate::member_sorter::NOT_ON_LIST && not_on_list_samples.len() < SAMPLES {
                not_on_list_samples.push(email);
            }
        }
    }
    if sorter.finish().is_some() {
        imports += 1;
    }
    Ok(Sorted {
        builder,
        sorter,
        imports,
        not_on_list_samples,
    })
}

/// What sorting every member without sending found: what a run must know before it starts
/// when its quota is tight.
pub(crate) struct SortedWithoutSending {
    pub(crate) counts: SyncCounts,
    pub(crate) imports: u64,
    /// Mirror mode: the keys of the members this export put on the list who left the segments.
    pub(crate) leavers: Vec<u64>,
    /// The ledger with the members the sorting met marked; `Ledger::forget_seen` before sending.
    pub(crate) ledger: Ledger,
}

/// Sorts every member against `ledger` without sending, for a run that must know what it
/// would send before it starts.
pub(crate) async fn sort_without_sending(
    profiles: &Profiles,
    plan: &ExportPlan,
    segments: &[(String, Membership)],
    ledger: Ledger,
    on_list: Option<&ListSnapshot>,
    expected_members: u64,
) -> Result<SortedWithoutSending, ExportError> {
    // Update-only already knows who is on the list; the counting pass needs the same answer.
    let on_list = on_list.cloned();
    let sorted = sort_members(
        profiles,
        plan,
        segments.to_vec(),
        ledger,
        on_list,
        expected_members,
    )
    .await?;
    let leavers = if plan.mode == SyncMode::Mirror {
        sorted.sorter.ledger.leavers()
    } else {
        Vec::new()
    };
    Ok(SortedWithoutSending {
        counts: sorted.sorter.counts,
        imports: sorted.imports,
        leavers,
        ledger: sorted.sorter.ledger,
    })
}
