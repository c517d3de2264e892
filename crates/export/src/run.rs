//! One export run, phase by phase: plan, count, send, poll, remove (mirror mode), report.
//!
//! Members flow as Arrow batches from DataFusion into the contact builder, which fills import
//! bodies; a full body goes through a channel of one to the sender, so at most a couple of
//! imports exist at once however large the segments are.

use std::time::Instant;

use chrono::Utc;
use constant_contact::batch::ImportBatcher;
use constant_contact::wire::activities::Activity;
use constant_contact::{ConstantContact, Error as ClientError};
use futures_util::StreamExt;
use segsync_engine::{MemberQuery, Profiles};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use uuid::Uuid;

use crate::checkpoints::{BatchMember, Checkpoints, NoCheckpoints};
use crate::contacts::ContactBuilder;
use crate::dry_run::sort_without_sending;
use crate::error::ExportError;
use crate::list_members::{ListSnapshot, remove_from_list, unsubscribed_contacts};
use crate::member_sorter::{MemberSorter, PlannedImport, UNSUBSCRIBED};
use crate::plan::{ExportPlan, count_profiles, fewest_requests_to_send};
use crate::progress::Progress;
use crate::report::{
    ActivityReport, ActivityState, ConstantContactCounters, RunOutcome, RunReport, SAMPLES,
};
use crate::sync::{Ledger, SyncMode};

/// Runs an export as if it had never run before: every member is sent, nothing is remembered.
pub async fn run_export(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Result<RunReport, ExportError> {
    run_export_in_step(
        profiles,
        plan,
        client,
        Ledger::new(),
        &NoCheckpoints,
        progress,
        cancel,
    )
    .await
}

/// Runs an export against what it sent before (`ledger`): only new and changed members are sent,
/// in the plan's sync mode, and every step is written down through `checkpoints`. Problems
/// found before anything is sent (a bad segment, too many members, a missing list, not enough
/// quota) are errors; once sending starts, the report tells what happened, including failures
/// and cancellation.
pub async fn run_export_in_step(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    mut ledger: Ledger,
    checkpoints: &impl Checkpoints,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Result<RunReport, ExportError> {
    let started_at = Utc::now();
    let requests_before = client.requests_sent();
    let mut phases = Phases::default();

    progress.phase("planning");
    let segments = plan.segment_exprs(profiles)?;
    plan.check_list(client).await?;
    let on_list = if plan.mode == SyncMode::UpdateOnly {
        Some(ListSnapshot::read(client, plan.list_id).await?)
    } else {
        None
    };
    phases.end("planning");

    progress.phase("counting");
    let (profiles_read, profiles_in_segments) = count_profiles(profiles, &segments).await?;
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
        let (counts, counted) =
            sort_without_sending(profiles, plan, &segments, ledger, on_list.as_ref()).await?;
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
    if let Err(left) = checkpoints
        .reserve_requests(needed)
        .await
        .map_err(ExportError::Checkpoints)?
    {
        return Err(ExportError::OverQuota {
            members: to_send,
            needed,
            left,
        });
    }
    progress.members_total(profiles_in_segments);
    phases.end("counting");

    progress.phase("sending");
    let mut builder = ContactBuilder::new(plan.mapping.clone(), segments.len());
    let mut sorter = MemberSorter::new(ledger, plan.mode, plan.full_resync, on_list, plan.list_id)?;
    let query = MemberQuery {
        columns: builder.columns().to_vec(),
        segments,
    };
    let mut members = profiles.members(&query).await?;
    let (imports_out, imports_in) = mpsc::channel::<PlannedImport>(1);
    let sender = send_imports(client, plan, checkpoints, imports_in, progress, cancel);
    // The producer owns the sending half: when it ends, the channel closes and the sender
    // finishes what it holds.
    let builder_ref = &mut builder;
    let sorter_ref = &mut sorter;
    let members_ref = &mut members;
    let producer = async move {
        let mut ready = Vec::new();
        while let Some(batch) = members_ref.next().await {
            if cancel.is_cancelled() {
                return Ok(ProducerEnd::Cancelled);
            }
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    return Ok(ProducerEnd::Failed(
                        profiles.read_error(error).await.to_string(),
                    ));
                }
            };
            builder_ref.process(&batch, |contact| {
                ready.extend(sorter_ref.push(&contact)?);
                Ok(())
            })?;
            progress.members_processed(builder_ref.tallies.processed);
            progress.members_skipped(&builder_ref.take_skipped());
            progress.members_skipped(&sorter_ref.take_skipped());
            for import in ready.drain(..) {
                if imports_out.send(import).await.is_err() {
                    return Ok(ProducerEnd::SenderStopped);
                }
            }
        }
        if let Some(last) = sorter_ref.finish()
            && imports_out.send(last).await.is_err()
        {
            return Ok(ProducerEnd::SenderStopped);
        }
        Ok::<_, ClientError>(ProducerEnd::Finished)
    };
    let (producer_end, mut sent) = tokio::join!(producer, sender);
    let producer_end = producer_end.unwrap_or_else(|error| ProducerEnd::Failed(error.to_string()));
    phases.end("sending");

    progress.phase("polling");
    let ids: Vec<_> = sent
        .imports
        .iter()
        .map(|import| import.activity.activity_id)
        .collect();
    let (activities, poll_failure) = if ids.is_empty() {
        (Vec::new(), None)
    } else {
        match client.wait_for_activities(&ids, &plan.poll_policy).await {
            Ok(ended) => (ended, None),
            Err(error) => (
                sent.imports
                    .iter()
                    .map(|import| import.activity.clone())
                    .collect(),
                Some(error.to_string()),
            ),
        }
    };
    let activity_reports: Vec<ActivityReport> = activities
        .iter()
        .zip(&sent.imports)
        .map(|(activity, import)| activity_report(activity, import.contacts))
        .collect();
    let mut checkpoint_failure = None;
    if poll_failure.is_none() {
        for (report, import) in activity_reports.iter().zip(&sent.imports) {
            if let Err(error) = checkpoints.import_ended(import.seq, report).await {
                checkpoint_failure.get_or_insert(error);
            }
        }
    }
    phases.end("polling");

    let constant_contact = RunReport::total_counters(&activity_reports);
    let unsubscribed_found = if constant_contact.cannot_add_to_list_count > 0 {
        progress.phase("reading unsubscribed contacts");
        let found = remember_unsubscribed(client, checkpoints, progress).await;
        phases.end("reading unsubscribed contacts");
        found
    } else {
        Ok(Vec::new())
    };

    let stream_complete = matches!(producer_end, ProducerEnd::Finished)
        && sent.failure.is_none()
        && !sent.cancelled
        && poll_failure.is_none();
    let removals = if plan.mode == SyncMode::Mirror && stream_complete {
        progress.phase("removing");
        let removed =
            remove_leavers(client, plan, &sorter.ledger, sent.list.take(), checkpoints).await;
        phases.end("removing");
        removed
    } else {
        Ok(Removals::default())
    };

    let tallies = builder.tallies;
    let counts = sorter.counts;
    let cancelled = sent.cancelled || matches!(producer_end, ProducerEnd::Cancelled);
    let unfinished: Vec<&ActivityReport> = activity_reports
        .iter()
        .filter(|activity| activity.state != ActivityState::Completed)
        .collect();
    let outcome = if let Some(failure) = &sent.failure {
        RunOutcome::Failed {
            reason: failure.clone(),
        }
    } else if let ProducerEnd::Failed(reason) = &producer_end {
        RunOutcome::Failed {
            reason: reason.clone(),
        }
    } else if let Some(reason) = poll_failure {
        RunOutcome::Failed {
            reason: format!("polling the imports: {reason}"),
        }
    } else if let Some(reason) = checkpoint_failure {
        RunOutcome::Failed {
            reason: format!("recording the imports' ends: {reason}"),
        }
    } else if cancelled {
        RunOutcome::Cancelled
    } else if let Some(activity) = unfinished.first() {
        RunOutcome::Failed {
            reason: format!(
                "{} of {} imports did not complete (activity {} ended {})",
                unfinished.len(),
                activity_reports.len(),
                activity.activity_id,
                activity.state
            ),
        }
    } else if let Err(reason) = &removals {
        RunOutcome::Failed {
            reason: format!("removing members who left the segments: {reason}"),
        }
    } else {
        RunOutcome::Succeeded
    };
    let (unsubscribed_found, unsubscribed_failure) = match unsubscribed_found {
        Ok(found) => (found, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    let mut duplicate_samples: Vec<(String, u64)> = tallies
        .duplicate_counts
        .iter()
        .map(|(email, extra)| (email.to_string(), *extra))
        .collect();
    duplicate_samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    duplicate_samples.truncate(SAMPLES);
    let members_per_segment = plan
        .segments
        .iter()
        .map(|s| s.name.clone())
        .zip(tallies.members_per_segment.iter().copied())
        .collect();
    let accounted = tallies.invalid.values().sum::<u64>()
        + tallies.duplicates
        + counts.held_back()
        + sent.rejected
        + sent.contacts;
    let removals = removals.unwrap_or_default();
    let report = RunReport {
        outcome,
        mode: plan.mode,
        full_resync: plan.full_resync,
        list_id: plan.list_id,
        started_at,
        finished_at: Utc::now(),
        profiles_read,
        profiles_outside_segments: profiles_read - profiles_in_segments,
        profiles_in_segments,
        members_per_segment,
        invalid: tallies.invalid,
        invalid_samples: tallies.invalid_samples,
        duplicates_collapsed: tallies.duplicates,
        duplicate_samples,
        fields_truncated: tallies.truncated,
        sent: sent.contacts,
        not_sent: profiles_in_segments.saturating_sub(accounted),
        rejected: sent.rejected,
        rejected_samples: sent.rejected_samples,
        sync: counts,
        unsubscribed_found: unsubscribed_found.len() as u64,
        unsubscribed_found_samples: unsubscribed_found
            .iter()
            .take(SAMPLES)
            .map(ToString::to_string)
            .collect(),
        unsubscribed_check_failed: unsubscribed_failure,
        removed: removals.removed,
        already_off_list: removals.already_off,
        constant_contact,
        activities: activity_reports,
        requests_used: client.requests_sent() - requests_before,
        phases: phases.done,
    };
    info!(list_id = %plan.list_id, sent = report.sent, removed = report.removed, requests = report.requests_used, "Export run finished.");
    Ok(report)
}

/// Reads the account's unsubscribed contacts and has the ledger remember those this export
/// sent; they are listed among the run's skipped members. Returns their emails.
async fn remember_unsubscribed(
    client: &ConstantContact,
    checkpoints: &impl Checkpoints,
    progress: &dyn Progress,
) -> Result<Vec<Box<str>>, String> {
    let unsubscribed = unsubscribed_contacts(client)
        .await
        .map_err(|error| error.to_string())?;
    let ours = checkpoints.unsubscribed(&unsubscribed).await?;
    let skipped: Vec<(String, String)> = ours
        .iter()
        .map(|email| (email.to_string(), UNSUBSCRIBED.to_owned()))
        .collect();
    progress.members_skipped(&skipped);
    Ok(ours)
}

#[derive(Debug, Default)]
struct Removals {
    removed: u64,
    already_off: u64,
}

/// Mirror mode: removes from the list the contacts this export put there that are no longer in
/// the segments, and forgets them.
async fn remove_leavers(
    client: &ConstantContact,
    plan: &ExportPlan,
    ledger: &Ledger,
    list: Option<ListSnapshot>,
    checkpoints: &impl Checkpoints,
) -> Result<Removals, String> {
    let leavers = ledger.leavers();
    if leavers.is_empty() {
        return Ok(Removals::default());
    }
    let list = match list {
        Some(list) => list,
        None => ListSnapshot::read(client, plan.list_id)
            .await
            .map_err(|error| error.to_string())?,
    };
    let (on_list, off_list): (Vec<u64>, Vec<u64>) = leavers
        .iter()
        .partition(|key| list.contact_id(**key).is_some());
    checkpoints.removed(&off_list).await?;
    let mut removed = 0;
    for keys in on_list.chunks(constant_contact::api::MAX_CONTACT_IDS_PER_REMOVAL) {
        let ids: Vec<Uuid> = keys
            .iter()
            .filter_map(|key| list.contact_id(*key))
            .collect();
        checkpoints.before_send().await?;
        let ended = remove_from_list(client, plan.list_id, &ids, &plan.poll_policy)
            .await
            .map_err(|error| error.to_string())?;
        if let Some(activity) = ended.iter().find(|activity| {
            ActivityState::named(activity.state.as_str()) != ActivityState::Completed
        }) {
            return Err(format!(
                "the removal activity {} ended {}",
                activity.activity_id,
                activity.state.as_str()
            ));
        }
        checkpoints.removed(keys).await?;
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

enum ProducerEnd {
    Finished,
    Cancelled,
    SenderStopped,
    Failed(String),
}

/// One import Constant Contact accepted.
struct SentImport {
    seq: u32,
    activity: Activity,
    contacts: u64,
}

#[derive(Default)]
struct Sent {
    imports: Vec<SentImport>,
    contacts: u64,
    failure: Option<String>,
    cancelled: bool,
    /// The list as read before the first import with new contacts, in mirror mode.
    list: Option<ListSnapshot>,
    /// Contacts Constant Contact refused on their own, with a few of them and why.
    rejected: u64,
    rejected_samples: Vec<(String, String)>,
}

impl Sent {
    /// A contact Constant Contact refused on its own: listed as skipped with the reason, and
    /// sent again by the next run.
    fn reject(
        &mut self,
        member: &BatchMember,
        errors: &[constant_contact::ApiError],
        progress: &dyn Progress,
    ) {
        let reason = format!(
            "rejected by Constant Contact: {}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        progress.members_skipped(&[(member.email.to_string(), reason.clone())]);
        self.rejected += 1;
        if self.rejected_samples.len() < SAMPLES {
            self.rejected_samples
                .push((member.email.to_string(), reason));
        }
    }
}

/// The body of an import, its contacts left as JSON.
#[derive(serde::Deserialize)]
struct ImportBody {
    import_data: Vec<Box<serde_json::value::RawValue>>,
}

/// Two imports of the first and second halves of `import`'s contacts.
fn split_in_halves(
    import: PlannedImport,
    list_id: Uuid,
) -> Result<(PlannedImport, PlannedImport), ClientError> {
    let body: ImportBody = serde_json::from_slice(import.batch.body())
        .map_err(|error| ClientError::InvalidRequest(format!("reading an import back: {error}")))?;
    let middle = import.members.len() / 2;
    let mut members = import.members;
    let second_members = members.split_off(middle);
    let half = |contacts: &[Box<serde_json::value::RawValue>],
                members: Vec<BatchMember>|
     -> Result<PlannedImport, ClientError> {
        let mut batcher = ImportBatcher::new(&[list_id])?;
        for (contact, member) in contacts.iter().zip(&members) {
            if batcher
                .push_json(&member.email, contact.get().as_bytes())?
                .is_some()
            {
                return Err(ClientError::InvalidRequest(
                    "half an import did not fit in one import".to_owned(),
                ));
            }
        }
        Ok(PlannedImport {
            batch: batcher.finish().expect("a half holds contacts"),
            members,
            has_new: import.has_new,
        })
    };
    Ok((
        half(&body.import_data[..middle], members)?,
        half(&body.import_data[middle..], second_members)?,
    ))
}

/// Sends imports as they come until the channel closes, a send fails, or the run is cancelled.
/// Each import is written down before it is sent and again once accepted. Dropping the receiver
/// on the way out tells the producer to stop.
async fn send_imports(
    client: &ConstantContact,
    plan: &ExportPlan,
    checkpoints: &impl Checkpoints,
    mut imports: mpsc::Receiver<PlannedImport>,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Sent {
    let mut sent = Sent::default();
    let mut seq = 0u32;
    'imports: while let Some(import) = imports.recv().await {
        if cancel.is_cancelled() {
            sent.cancelled = true;
            break;
        }
        // An import Constant Contact refuses with 400 is split in halves until the records
        // it refuses stand alone; the rest go through.
        let mut pending = vec![import];
        while let Some(mut import) = pending.pop() {
            let n_contacts = import.batch.n_contacts();
            if plan.mode == SyncMode::Mirror && import.has_new {
                // Mirror mode owns only the contacts it puts on the list: read who is there
                // first.
                if sent.list.is_none() {
                    match ListSnapshot::read(client, plan.list_id).await {
                        Ok(list) => sent.list = Some(list),
                        Err(error) => {
                            sent.failure = Some(format!("reading the list's members: {error}"));
                            break 'imports;
                        }
                    }
                }
                let list = sent.list.as_ref().expect("read above");
                for member in &mut import.members {
                    if !member.owned {
                        member.owned = !list.contains(member.key);
                    }
                }
            }
            seq += 1;
            if let Err(error) = checkpoints.import_planned(seq, &import.members).await {
                sent.failure = Some(format!("recording an import before sending it: {error}"));
                break 'imports;
            }
            match client.import_contacts(&import.batch).await {
                Ok(activity) => {
                    info!(activity_id = %activity.activity_id, contacts = n_contacts, "Import accepted.");
                    let recorded = checkpoints
                        .import_sent(seq, activity.activity_id, &import.members)
                        .await;
                    sent.contacts += n_contacts as u64;
                    sent.imports.push(SentImport {
                        seq,
                        activity,
                        contacts: n_contacts as u64,
                    });
                    progress.batch_sent(n_contacts);
                    if let Err(error) = recorded {
                        sent.failure = Some(format!("recording an accepted import: {error}"));
                        break 'imports;
                    }
                }
                Err(ClientError::Rejected {
                    status: 400,
                    errors,
                }) => {
                    if let Err(error) = checkpoints.import_refused(seq).await {
                        sent.failure = Some(format!("recording a refused import: {error}"));
                        break 'imports;
                    }
                    if let [member] = import.members.as_slice() {
                        sent.reject(member, &errors, progress);
                        continue;
                    }
                    info!(
                        contacts = n_contacts,
                        "Constant Contact refused an import; it is split to find the records it refuses."
                    );
                    match split_in_halves(import, plan.list_id) {
                        Ok((first, second)) => {
                            pending.push(second);
                            pending.push(first);
                        }
                        Err(error) => {
                            sent.failure = Some(format!("splitting a refused import: {error}"));
                            break 'imports;
                        }
                    }
                }
                Err(error) => {
                    sent.failure = Some(format!(
                        "sending an import of {n_contacts} contacts: {error}"
                    ));
                    break 'imports;
                }
            }
        }
    }
    sent
}

fn activity_report(activity: &Activity, contacts: u64) -> ActivityReport {
    ActivityReport {
        activity_id: activity.activity_id,
        contacts,
        state: ActivityState::named(activity.state.as_str()),
        counters: ConstantContactCounters {
            person_count: activity.status.person_count,
            correctable_count: activity.status.correctable_count,
            cannot_add_to_list_count: activity.status.cannot_add_to_list_count,
            error_count: activity.status.error_count,
        },
        errors: activity
            .activity_errors
            .iter()
            .map(|error| error.message().to_owned())
            .collect(),
    }
}

/// Wall time per phase.
struct Phases {
    since: Instant,
    done: Vec<(String, f64)>,
}

impl Default for Phases {
    fn default() -> Self {
        Self {
            since: Instant::now(),
            done: Vec::new(),
        }
    }
}

impl Phases {
    fn end(&mut self, phase: &str) {
        self.done
            .push((phase.to_owned(), self.since.elapsed().as_secs_f64()));
        self.since = Instant::now();
    }
}
