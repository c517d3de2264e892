//! Send: members streamed from the profiles and built into contacts by a producer, sorted
//! against the ledger and batched into imports on the sorter's thread (`sorting.rs`), while a
//! sender sends each import as it comes — written
//! down before it is sent and again once accepted, split in halves when Constant Contact refuses
//! it, until the records it refuses stand alone.

use constant_contact::Activity;
use constant_contact::{ConstantContact, Error as ClientError};
use futures_util::StreamExt;
use segsync_engine::MemberQuery;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::sorting::{self, BuiltBatch, SorterEnd, ToSorter};
use super::{Planned, Run};
use crate::checkpoints::{BatchMember, Checkpoints};
use crate::contacts::{ContactBuilder, Tallies};
use crate::error::ExportError;
use crate::failure::{ExportFailure, Step};
use crate::list_members::ListSnapshot;
use crate::member_sorter::{MemberSorter, PlannedImport};
use crate::plan::ExportPlan;
use crate::progress::Progress;
use crate::report::SAMPLES;
use crate::sync::{Ledger, SyncMode};

/// What sending left: the builder's tallies, the sorter (its ledger and counts), how the member
/// stream ended, and what was sent.
pub(crate) struct Streamed {
    pub(crate) tallies: Tallies,
    pub(crate) sorter: MemberSorter,
    pub(crate) producer_end: ProducerEnd,
    pub(crate) sent: Sent,
}

impl Streamed {
    /// Every member was read and every import sent: what the ledger does not hold now has left
    /// the segments.
    pub(crate) fn complete(&self) -> bool {
        matches!(self.producer_end, ProducerEnd::Finished)
            && self.sent.failure.is_none()
            && !self.sent.cancelled
    }

    pub(crate) fn cancelled(&self) -> bool {
        self.sent.cancelled || matches!(self.producer_end, ProducerEnd::Cancelled)
    }
}

pub(crate) enum ProducerEnd {
    Finished,
    Cancelled,
    SenderStopped,
    Failed(ExportFailure),
}

/// One import Constant Contact accepted.
pub(crate) struct SentImport {
    pub(crate) seq: u32,
    pub(crate) activity: Activity,
    pub(crate) contacts: u64,
}

#[derive(Default)]
pub(crate) struct Sent {
    pub(crate) imports: Vec<SentImport>,
    pub(crate) contacts: u64,
    pub(crate) failure: Option<ExportFailure>,
    pub(crate) cancelled: bool,
    /// The list as read before the first import with new contacts, in mirror mode.
    pub(crate) list: Option<ListSnapshot>,
    /// Contacts Constant Contact refused on their own, with a few of them and why.
    pub(crate) rejected: u64,
    pub(crate) rejected_samples: Vec<(String, String)>,
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

    fn fail(&mut self, failure: ExportFailure) {
        self.failure = Some(failure);
    }
}

pub(crate) async fn send<C: Checkpoints>(
    run: &Run<'_, C>,
    planned: Planned,
    ledger: Ledger,
    members_in_segments: u64,
) -> Result<Streamed, ExportError> {
    let Run {
        profiles,
        plan,
        client,
        checkpoints,
        progress,
        cancel,
    } = *run;
    let mut builder = ContactBuilder::new(
        plan.mapping.clone(),
        planned.segments.len(),
        members_in_segments,
    )
    .with_exclusions(plan.exclusions.clone());
    let sorter = MemberSorter::new(
        ledger,
        plan.mode,
        plan.full_resync,
        planned.on_list,
        plan.list_id,
    )?;
    let query = MemberQuery {
        columns: builder.columns().to_vec(),
        segments: planned.segments,
    };
    let mut members = profiles.members(&query).await?;
    let (imports_out, imports_in) = mpsc::channel::<PlannedImport>(1);
    let sender = send_imports(client, plan, checkpoints, imports_in, progress, cancel);
    // Two batches in flight keep the sorter's thread busy while the next one is built.
    let (batches_out, batches_in) = mpsc::channel::<ToSorter>(2);
    let (skipped_out, mut skipped_in) = mpsc::unbounded_channel();
    // The sorter's thread owns the sending half of the imports: when it ends, the channel
    // closes and the sender finishes what it holds.
    let sorting = sorting::start(sorter, batches_in, imports_out, skipped_out);
    let builder_ref = &mut builder;
    let members_ref = &mut members;
    let skipped_ref = &mut skipped_in;
    let producer = async move {
        while let Some(batch) = members_ref.next().await {
            if cancel.is_cancelled() {
                return ProducerEnd::Cancelled;
            }
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => {
                    let error = profiles.read_error(error).await;
                    return ProducerEnd::Failed(ExportFailure::Profiles(std::sync::Arc::new(
                        error,
                    )));
                }
            };
            let mut built = BuiltBatch::default();
            builder_ref
                .process(&batch, |contact| {
                    built.push(&contact);
                    Ok(())
                })
                .expect("collecting built contacts cannot fail");
            progress.members_processed(builder_ref.tallies.processed);
            progress.members_skipped(&builder_ref.take_skipped());
            while let Ok(left_out) = skipped_ref.try_recv() {
                progress.members_skipped(&left_out);
            }
            if !built.is_empty() && batches_out.send(ToSorter::Batch(built)).await.is_err() {
                // The sorter's thread ended early: it says why.
                return ProducerEnd::Finished;
            }
        }
        let _ = batches_out.send(ToSorter::End).await;
        ProducerEnd::Finished
    };
    let (producer_end, sent) = tokio::join!(producer, sender);
    let (sorter, sorted) = sorting.await.unwrap_or_else(|failure| {
        std::panic::resume_unwind(failure.into_panic());
    });
    while let Ok(left_out) = skipped_in.try_recv() {
        progress.members_skipped(&left_out);
    }
    let producer_end = match (producer_end, sorted) {
        (ProducerEnd::Finished, SorterEnd::Failed(error)) => {
            ProducerEnd::Failed(ExportFailure::client(Step::BuildingImports, error))
        }
        (ProducerEnd::Finished, SorterEnd::SenderStopped) => ProducerEnd::SenderStopped,
        (end, _) => end,
    };
    Ok(Streamed {
        tallies: builder.tallies,
        sorter,
        producer_end,
        sent,
    })
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
        let mut pending = vec![import];
        while let Some(mut import) = pending.pop() {
            if plan.mode == SyncMode::Mirror
                && import.has_new
                && let Err(failure) = mark_owned(client, plan, &mut sent, &mut import).await
            {
                sent.fail(failure);
                break 'imports;
            }
            seq += 1;
            match send_one(client, checkpoints, seq, import, &mut sent, progress).await {
                Ok(Some((first, second))) => {
                    pending.push(second);
                    pending.push(first);
                }
                Ok(None) => {}
                Err(failure) => {
                    sent.fail(failure);
                    break 'imports;
                }
            }
        }
    }
    sent
}

/// Mirror mode owns only the contacts it puts on the list: the list is read before the first
/// import with new contacts, and those not on it are marked as the export's own.
async fn mark_owned(
    client: &ConstantContact,
    plan: &ExportPlan,
    sent: &mut Sent,
    import: &mut PlannedImport,
) -> Result<(), ExportFailure> {
    if sent.list.is_none() {
        let list = ListSnapshot::read(client, plan.list_id)
            .await
            .map_err(|error| ExportFailure::client(Step::ReadingListMembers, error))?;
        sent.list = Some(list);
    }
    let list = sent.list.as_ref().expect("read above");
    for member in &mut import.members {
        if !member.owned {
            member.owned = !list.contains(member.key);
        }
    }
    Ok(())
}

/// Sends import `seq`. Returns its halves when Constant Contact refused it and it holds more
/// than one contact (a single refused contact is listed as rejected).
async fn send_one(
    client: &ConstantContact,
    checkpoints: &impl Checkpoints,
    seq: u32,
    import: PlannedImport,
    sent: &mut Sent,
    progress: &dyn Progress,
) -> Result<Option<(PlannedImport, PlannedImport)>, ExportFailure> {
    let n_contacts = import.batch.n_contacts();
    checkpoints
        .import_planned(seq, &import.members)
        .await
        .map_err(|error| ExportFailure::checkpoint(Step::RecordingPlannedImport, error))?;
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
            recorded
                .map(|()| None)
                .map_err(|error| ExportFailure::checkpoint(Step::RecordingAcceptedImport, error))
        }
        Err(ClientError::Rejected {
            status: 400,
            errors,
        }) => {
            checkpoints
                .import_refused(seq)
                .await
                .map_err(|error| ExportFailure::checkpoint(Step::RecordingRefusedImport, error))?;
            if let [member] = import.members.as_slice() {
                sent.reject(member, &errors, progress);
                return Ok(None);
            }
            info!(
                contacts = n_contacts,
                "Constant Contact refused an import; it is split to find the records it refuses."
            );
            split_in_halves(import)
                .map(Some)
                .map_err(|error| ExportFailure::client(Step::SplittingRefusedImport, error))
        }
        Err(error) => Err(ExportFailure::client(
            Step::SendingImport {
                contacts: n_contacts,
            },
            error,
        )),
    }
}

/// Two imports of the first and second halves of `import`'s contacts, each with its members.
fn split_in_halves(import: PlannedImport) -> Result<(PlannedImport, PlannedImport), ClientError> {
    let (first_batch, second_batch) = import.batch.split_in_halves()?;
    let mut first_members = import.members;
    let second_members = first_members.split_off(first_batch.n_contacts());
    Ok((
        PlannedImport {
            batch: first_batch,
            members: first_members,
            has_new: import.has_new,
        },
        PlannedImport {
            batch: second_batch,
            members: second_members,
            has_new: import.has_new,
        },
    ))
}
