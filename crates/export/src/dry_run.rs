//! A dry run: everything a run would do up to sending — the plan, the counts, every member
//! checked, de-duplicated and batched — and nothing sent. It says what the run would send, what
//! it would skip and why (with samples), and the requests it needs against the quota left today.

use constant_contact::ConstantContact;
use constant_contact::batch::ImportBatcher;
use futures_util::StreamExt;
use segsync_engine::{MemberQuery, Profiles};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::contacts::ContactBuilder;
use crate::error::ExportError;
use crate::plan::{ExportPlan, count_profiles};
use crate::report::SAMPLES;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DryRunReport {
    pub profiles_read: u64,
    pub profiles_in_segments: u64,
    pub members_per_segment: Vec<(String, u64)>,
    /// Contacts the run would send: Constant Contact adds those new to the list and updates
    /// the others.
    pub would_send: u64,
    /// Members skipped, by reason, with a few samples of each.
    pub skipped: BTreeMap<String, u64>,
    pub skipped_samples: BTreeMap<String, Vec<String>>,
    /// The import requests the contacts fill, within Constant Contact's limits per request.
    pub imports: u64,
    /// At least: the list check, the imports, and one status read of the imports.
    pub requests_needed: u64,
    /// Left today for this API key, by segsync's own count.
    pub requests_left_today: u64,
    /// Whether the run fits in what is left today.
    pub fits_today: bool,
    /// Whether the segments hold more profiles than one export may send; a run would be refused.
    pub over_member_limit: bool,
    pub member_limit: u64,
}

/// Checks the list with Constant Contact (one request), then goes through every member as a
/// run would, sending nothing.
pub async fn dry_run(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
) -> Result<DryRunReport, ExportError> {
    let segments = plan.segment_exprs(profiles)?;
    plan.check_list(client).await?;
    let (profiles_read, profiles_in_segments) = count_profiles(profiles, &segments).await?;
    let mut builder = ContactBuilder::new(plan.mapping.clone(), segments.len());
    let query = MemberQuery {
        columns: builder.columns().to_vec(),
        segments,
    };
    let mut batcher = ImportBatcher::new(&[plan.list_id])?;
    let mut imports = 0u64;
    let mut would_send = 0u64;
    let mut members = profiles.members(&query).await?;
    while let Some(batch) = members.next().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(error) => return Err(ExportError::Profiles(profiles.read_error(error).await)),
        };
        builder.process(&batch, |contact| {
            if let Some(full) = batcher.push(&contact)? {
                imports += 1;
                would_send += full.n_contacts() as u64;
            }
            Ok(())
        })?;
        // The report keeps counts and samples; the full list is for real runs.
        builder.take_skipped();
    }
    if let Some(last) = batcher.finish() {
        imports += 1;
        would_send += last.n_contacts() as u64;
    }
    let tallies = builder.tallies;
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
    // The list check, then the imports and at least one read of their status.
    let requests_needed = 1 + imports + u64::from(imports > 0);
    let requests_left_today = u64::from(client.budget().remaining_today());
    Ok(DryRunReport {
        profiles_read,
        profiles_in_segments,
        members_per_segment: plan
            .segments
            .iter()
            .map(|segment| segment.name.clone())
            .zip(tallies.members_per_segment.iter().copied())
            .collect(),
        would_send,
        skipped,
        skipped_samples,
        imports,
        requests_needed,
        requests_left_today,
        fits_today: requests_needed <= requests_left_today,
        over_member_limit: profiles_in_segments > plan.member_limit,
        member_limit: plan.member_limit,
    })
}
