//! One export run, phase by phase: plan, count, send, poll, report.
//!
//! Members flow as Arrow batches from DataFusion into the contact builder, which fills import
//! bodies; a full body goes through a channel of one to the sender, so at most a couple of
//! imports exist at once however large the segments are.

use std::time::Instant;

use chrono::Utc;
use constant_contact::batch::{ImportBatch, ImportBatcher};
use constant_contact::wire::activities::Activity;
use constant_contact::{ConstantContact, Error as ClientError};
use futures_util::StreamExt;
use segsync_engine::{MemberQuery, Profiles};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::contacts::ContactBuilder;
use crate::error::ExportError;
use crate::plan::{ExportPlan, count_profiles, fewest_requests_to_send};
use crate::progress::Progress;
use crate::report::{ActivityReport, ConstantContactCounters, RunOutcome, RunReport, SAMPLES};

/// Runs an export. Problems found before anything is sent (a bad segment, too many members, a
/// missing list) are errors; once sending starts, the report tells what happened, including
/// failures and cancellation.
pub async fn run_export(
    profiles: &Profiles,
    plan: &ExportPlan,
    client: &ConstantContact,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Result<RunReport, ExportError> {
    let started_at = Utc::now();
    let requests_before = client.requests_sent();
    let mut phases = Phases::default();

    progress.phase("planning");
    let segments = plan.segment_exprs(profiles)?;
    plan.check_list(client).await?;
    phases.end("planning");

    progress.phase("counting");
    let (profiles_read, profiles_in_segments) = count_profiles(profiles, &segments).await?;
    if profiles_in_segments > plan.member_limit {
        return Err(ExportError::OverLimit {
            members: profiles_in_segments,
            limit: plan.member_limit,
        });
    }
    let needed = fewest_requests_to_send(profiles_in_segments);
    let left = u64::from(client.budget().remaining_today());
    if needed > left {
        return Err(ExportError::OverQuota {
            members: profiles_in_segments,
            needed,
            left,
        });
    }
    progress.members_total(profiles_in_segments);
    phases.end("counting");

    progress.phase("sending");
    let mut builder = ContactBuilder::new(plan.mapping.clone(), segments.len());
    let query = MemberQuery {
        columns: builder.columns().to_vec(),
        segments,
    };
    let mut members = profiles.members(&query).await?;
    let (batches_out, batches_in) = mpsc::channel::<ImportBatch>(1);
    let sender = send_batches(client, batches_in, progress, cancel);
    // The producer owns the sending half: when it ends, the channel closes and the sender
    // finishes what it holds.
    let builder_ref = &mut builder;
    let members_ref = &mut members;
    let producer = async move {
        let mut batcher = ImportBatcher::new(&[plan.list_id])?;
        let mut full_batches = Vec::new();
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
                full_batches.extend(batcher.push(&contact)?);
                Ok(())
            })?;
            progress.members_processed(builder_ref.tallies.processed);
            progress.members_skipped(&builder_ref.take_skipped());
            for full in full_batches.drain(..) {
                if batches_out.send(full).await.is_err() {
                    return Ok(ProducerEnd::SenderStopped);
                }
            }
        }
        if let Some(last) = batcher.finish()
            && batches_out.send(last).await.is_err()
        {
            return Ok(ProducerEnd::SenderStopped);
        }
        Ok::<_, ClientError>(ProducerEnd::Finished)
    };
    let (producer_end, sent) = tokio::join!(producer, sender);
    let producer_end = producer_end.unwrap_or_else(|error| ProducerEnd::Failed(error.to_string()));
    phases.end("sending");

    progress.phase("polling");
    let ids: Vec<_> = sent
        .activities
        .iter()
        .map(|(activity, _)| activity.activity_id)
        .collect();
    let (activities, poll_failure) = if ids.is_empty() {
        (Vec::new(), None)
    } else {
        match client.wait_for_activities(&ids, &plan.poll_policy).await {
            Ok(ended) => (ended, None),
            Err(error) => (
                sent.activities
                    .iter()
                    .map(|(activity, _)| activity.clone())
                    .collect(),
                Some(error.to_string()),
            ),
        }
    };
    phases.end("polling");

    let activity_reports: Vec<ActivityReport> = activities
        .iter()
        .zip(sent.activities.iter().map(|(_, contacts)| *contacts))
        .map(|(activity, contacts)| activity_report(activity, contacts))
        .collect();
    let tallies = builder.tallies;
    let cancelled = sent.cancelled || matches!(producer_end, ProducerEnd::Cancelled);
    let unfinished: Vec<&ActivityReport> = activity_reports
        .iter()
        .filter(|activity| activity.state != "completed")
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
    } else {
        RunOutcome::Succeeded
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
    let accounted = tallies.invalid.values().sum::<u64>() + tallies.duplicates + sent.contacts;
    let report = RunReport {
        outcome,
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
        constant_contact: RunReport::total_counters(&activity_reports),
        activities: activity_reports,
        requests_used: client.requests_sent() - requests_before,
        phases: phases.done,
    };
    info!(list_id = %plan.list_id, sent = report.sent, requests = report.requests_used, "Export run finished.");
    Ok(report)
}

enum ProducerEnd {
    Finished,
    Cancelled,
    SenderStopped,
    Failed(String),
}

#[derive(Default)]
struct Sent {
    /// Each accepted import with the number of contacts it carried.
    activities: Vec<(Activity, u64)>,
    contacts: u64,
    failure: Option<String>,
    cancelled: bool,
}

/// Sends batches as they come until the channel closes, a send fails, or the run is cancelled.
/// Dropping the receiver on the way out tells the producer to stop.
async fn send_batches(
    client: &ConstantContact,
    mut batches: mpsc::Receiver<ImportBatch>,
    progress: &dyn Progress,
    cancel: &CancellationToken,
) -> Sent {
    let mut sent = Sent::default();
    while let Some(batch) = batches.recv().await {
        if cancel.is_cancelled() {
            sent.cancelled = true;
            break;
        }
        match client.import_contacts(&batch).await {
            Ok(activity) => {
                info!(activity_id = %activity.activity_id, contacts = batch.n_contacts(), "Import accepted.");
                sent.contacts += batch.n_contacts() as u64;
                sent.activities.push((activity, batch.n_contacts() as u64));
                progress.batch_sent(batch.n_contacts());
            }
            Err(error) => {
                sent.failure = Some(format!(
                    "sending an import of {} contacts: {error}",
                    batch.n_contacts()
                ));
                break;
            }
        }
    }
    sent
}

fn activity_report(activity: &Activity, contacts: u64) -> ActivityReport {
    ActivityReport {
        activity_id: activity.activity_id,
        contacts,
        state: activity.state.as_str().to_owned(),
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
