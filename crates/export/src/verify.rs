//! Reading a list back: what Constant Contact's list holds, compared with what the export means
//! it to hold and with what the ledger says it sent, each difference counted by its cause.
//!
//! One contact export writes the list's emails to a file (an activity, its polls, one download:
//! a list of any size for a handful of requests). Only when ledger entries are off the list do
//! two more exports (the account's unsubscribed and deleted contacts) tell why. The comparison
//! keeps one 64-bit key per list member and per ledger entry, never the members themselves; the
//! file is read twice, the second time only for samples of the extra members.

use std::collections::BTreeMap;

use bytes::Bytes;
use constant_contact::ConstantContact;
use constant_contact::api::ContactExport;
use futures_util::StreamExt;
use nohash_hasher::{IntMap, IntSet};
use segsync_domain::Email;
pub use segsync_domain::list_drift::{DriftCount, ExtraCause, ListVerification, MissingCause};
use segsync_engine::{MemberQuery, Profiles};

use crate::contacts::ContactBuilder;
use crate::error::ExportError;
use crate::plan::ExportPlan;
use crate::report::SAMPLES;
use crate::sync::{Ledger, SyncMode, email_key};

/// The corrections to make to the export's ledger, by email key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerCorrection {
    /// Off the list and not unsubscribed: forgotten.
    pub forget: Vec<u64>,
    /// Off the list because they unsubscribed: marked so.
    pub unsubscribed: Vec<u64>,
}

/// The most requests a read back takes, polls counted with the run's poll policy's waits: the
/// list's export and, when ledger entries are off the list, the unsubscribed and the deleted
/// contacts' exports — each an activity, its polls and its file.
pub const READ_BACK_REQUESTS: u64 = 3 * (1 + POLLS_PER_EXPORT + 1);
const POLLS_PER_EXPORT: u64 = 6;

/// Reads the list back and compares it with the segments' members now and with `ledger`.
pub async fn verify_list(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    ledger: &Ledger,
) -> Result<(ListVerification, LedgerCorrection), ExportError> {
    let requests_before = client.requests_sent();
    let segments = plan.segment_exprs(profiles)?;
    let file = read_file(
        client,
        &ContactExport::of_list(plan.list_id, &["email_address"]),
        plan,
    )
    .await?;
    let mut on_list: IntMap<u64, bool> = IntMap::default();
    each_email(&file, |key, _| {
        on_list.insert(key, false);
    })?;
    let mut verification = ListVerification {
        list_members: on_list.len() as u64,
        ..ListVerification::default()
    };

    // The segments' members, each looked for on the list.
    // Sized for what the export sent before: no counting pass over the profiles first.
    let members = (ledger.len() as u64).max(on_list.len() as u64);
    let mut builder = ContactBuilder::new(plan.mapping.clone(), segments.len(), members)
        .with_exclusions(plan.exclusions.clone());
    let query = MemberQuery {
        columns: builder.columns().to_vec(),
        segments,
    };
    let mut missing_sent: IntMap<u64, Option<String>> = IntMap::default();
    let mut not_sent_yet = DriftCount::default();
    let mut stream = profiles.members(&query).await?;
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(batch) => batch,
            Err(error) => return Err(ExportError::Profiles(profiles.read_error(error).await)),
        };
        builder.process(&batch, |contact| {
            let remembered = ledger.get(contact.key);
            if remembered.is_some_and(|remembered| remembered.unsubscribed)
                || (plan.mode == SyncMode::UpdateOnly && remembered.is_none())
            {
                return Ok(());
            }
            verification.meant += 1;
            match on_list.get_mut(&contact.key) {
                Some(matched) => {
                    *matched = true;
                    verification.matched += 1;
                }
                None if remembered.is_none() => not_sent_yet.add(Some(contact.email)),
                None => {
                    let sample =
                        (missing_sent.len() < SAMPLES * 10).then(|| contact.email.to_owned());
                    missing_sent.insert(contact.key, sample);
                }
            }
            Ok(())
        })?;
        builder.take_skipped();
    }

    // Ledger entries off the list: why, from the account's unsubscribed and deleted contacts.
    let off_list: IntSet<u64> = ledger
        .entries()
        .filter(|(key, remembered)| !remembered.unsubscribed && !on_list.contains_key(key))
        .map(|(key, _)| key)
        .collect();
    let (unsubscribed, deleted) = if off_list.is_empty() {
        (IntSet::default(), IntSet::default())
    } else {
        (
            keys_among(client, "unsubscribed", &off_list, plan).await?,
            keys_among(client, "deleted", &off_list, plan).await?,
        )
    };
    let mut correction = LedgerCorrection::default();
    for key in &off_list {
        if unsubscribed.contains(key) {
            correction.unsubscribed.push(*key);
        } else {
            correction.forget.push(*key);
        }
    }
    let mut missing_by_cause: BTreeMap<MissingCause, DriftCount> = BTreeMap::new();
    for (key, sample) in &missing_sent {
        let cause = if unsubscribed.contains(key) {
            MissingCause::Unsubscribed
        } else if deleted.contains(key) {
            MissingCause::Deleted
        } else {
            MissingCause::Removed
        };
        missing_by_cause
            .entry(cause)
            .or_default()
            .add(sample.as_deref());
    }
    if not_sent_yet.count > 0 {
        missing_by_cause.insert(MissingCause::NotSentYet, not_sent_yet);
    }

    // List members not meant: why, from the ledger; their emails from a second read of the file.
    let mut extra_by_cause: BTreeMap<ExtraCause, DriftCount> = BTreeMap::new();
    each_email(&file, |key, email| {
        if on_list.get(&key) != Some(&false) {
            return;
        }
        // Counted once, however often the file lists it.
        on_list.insert(key, true);
        let cause = match ledger.get(key) {
            None => ExtraCause::AddedElsewhere,
            Some(remembered) if plan.mode == SyncMode::Mirror && remembered.owned => {
                ExtraCause::AwaitingRemoval
            }
            Some(_) => ExtraCause::KeptLeaver,
        };
        extra_by_cause.entry(cause).or_default().add(Some(email));
    })?;

    verification.missing = missing_by_cause.values().map(|drift| drift.count).sum();
    verification.extra = extra_by_cause.values().map(|drift| drift.count).sum();
    verification.missing_by_cause = missing_by_cause;
    verification.extra_by_cause = extra_by_cause;
    verification.ledger_forgotten = correction.forget.len() as u64;
    verification.ledger_unsubscribed = correction.unsubscribed.len() as u64;
    verification.requests = client.requests_sent() - requests_before;
    Ok((verification, correction))
}

async fn read_file(
    client: &ConstantContact,
    export: &ContactExport,
    plan: &ExportPlan,
) -> Result<Bytes, ExportError> {
    let (file, _) = client
        .export_contacts_to_file(export, &plan.poll_policy)
        .await?;
    Ok(file)
}

/// The keys among `wanted` of the account's contacts with `status`.
async fn keys_among(
    client: &ConstantContact,
    status: &str,
    wanted: &IntSet<u64>,
    plan: &ExportPlan,
) -> Result<IntSet<u64>, ExportError> {
    let file = read_file(
        client,
        &ContactExport::with_status(status, &["email_address"]),
        plan,
    )
    .await?;
    let mut found = IntSet::default();
    each_email(&file, |key, _| {
        if wanted.contains(&key) {
            found.insert(key);
        }
    })?;
    Ok(found)
}

/// Calls `each` with the key and the normalised email of every row of an export file; rows
/// whose email does not parse are passed over (Constant Contact holds only valid addresses).
fn each_email(file: &[u8], mut each: impl FnMut(u64, &str)) -> Result<(), ExportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let column = reader
        .headers()
        .map_err(|error| ExportError::ReadBack(format!("the export file's header: {error}")))?
        .iter()
        .position(|header| header.trim() == "email_address")
        .ok_or_else(|| {
            ExportError::ReadBack("the export file has no email_address column".to_owned())
        })?;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(error) => {
                return Err(ExportError::ReadBack(format!(
                    "the export file, line {}: {error}",
                    reader.position().line()
                )));
            }
        }
        let Some(raw) = record
            .get(column)
            .and_then(|raw| std::str::from_utf8(raw).ok())
        else {
            continue;
        };
        if let Ok(email) = Email::parse(raw) {
            each(email_key(email.as_str()), email.as_str());
        }
    }
}
