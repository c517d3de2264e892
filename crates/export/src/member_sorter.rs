//! Sorting a run's contacts against the ledger: those to send go into import batches with what
//! the ledger will remember of them; the others are counted by why they stay behind.

use constant_contact::batch::{ImportBatch, ImportBatcher};
use uuid::Uuid;

use crate::checkpoints::BatchMember;
use crate::contacts::BuiltContact;
use crate::list_members::ListSnapshot;
use crate::report::SAMPLES;
use crate::sync::{Decision, Ledger, SyncMode, fingerprint};

/// Reasons a member is left out of the run, as the list of skipped members says them.
pub(crate) const UNSUBSCRIBED: &str = "unsubscribed";
pub(crate) const NOT_ON_LIST: &str = "not_on_list";

pub use segsync_domain::run_report::SyncCounts;

/// An import ready to send, with what the ledger will remember of each of its contacts.
pub(crate) struct PlannedImport {
    pub(crate) batch: ImportBatch,
    pub(crate) members: Vec<BatchMember>,
    /// Whether any contact is new to the ledger: mirror mode must know whether it is on the
    /// list already before sending it.
    pub(crate) has_new: bool,
}

pub(crate) struct MemberSorter {
    pub(crate) ledger: Ledger,
    mode: SyncMode,
    full_resync: bool,
    /// Who is on the list, in update-only mode.
    on_list: Option<ListSnapshot>,
    batcher: Option<ImportBatcher>,
    pending: Vec<BatchMember>,
    pending_has_new: bool,
    pub(crate) counts: SyncCounts,
    /// Members left out since the last `take_skipped`: the email and why.
    skipped: Vec<(String, String)>,
}

impl MemberSorter {
    pub(crate) fn new(
        ledger: Ledger,
        mode: SyncMode,
        full_resync: bool,
        on_list: Option<ListSnapshot>,
        list_id: Uuid,
    ) -> Result<Self, constant_contact::Error> {
        Ok(Self {
            ledger,
            mode,
            full_resync,
            on_list,
            batcher: Some(ImportBatcher::new(&[list_id])?),
            pending: Vec::new(),
            pending_has_new: false,
            counts: SyncCounts::default(),
            skipped: Vec::new(),
        })
    }

    /// Sorts one contact; returns the previous import when this contact did not fit in it.
    pub(crate) fn push(
        &mut self,
        contact: &BuiltContact<'_>,
    ) -> Result<Option<PlannedImport>, constant_contact::Error> {
        let BuiltContact { email, key, json } = *contact;
        let fingerprint = fingerprint(json);
        let on_list = self.on_list.as_ref().map(|list| list.contains(key));
        let decision = self
            .ledger
            .decide(key, fingerprint, self.mode, self.full_resync, on_list);
        let new = match decision {
            Decision::Add => {
                self.counts.adds += 1;
                true
            }
            Decision::Update => {
                self.counts.updates += 1;
                false
            }
            Decision::Unchanged => {
                self.counts.unchanged += 1;
                return Ok(None);
            }
            Decision::SentEarlier => {
                self.counts.sent_earlier += 1;
                return Ok(None);
            }
            Decision::Unsubscribed => {
                self.counts.unsubscribed += 1;
                if self.counts.unsubscribed_samples.len() < SAMPLES {
                    self.counts.unsubscribed_samples.push(email.to_owned());
                }
                self.skipped
                    .push((email.to_owned(), UNSUBSCRIBED.to_owned()));
                return Ok(None);
            }
            Decision::NotOnList => {
                self.counts.not_on_list += 1;
                self.skipped
                    .push((email.to_owned(), NOT_ON_LIST.to_owned()));
                return Ok(None);
            }
        };
        let batcher = self.batcher.as_mut().expect("the sorter is not finished");
        let full = batcher.push_json(email, json)?;
        let previous = full.map(|batch| self.take_planned(batch));
        // Owned is settled when the import is sent (mirror mode reads the list first); a
        // contact already remembered keeps what the ledger says.
        let owned = self.ledger.get(key).is_some_and(|known| known.owned);
        self.pending.push(BatchMember {
            email: email.into(),
            key,
            fingerprint,
            owned,
        });
        self.pending_has_new |= new;
        Ok(previous)
    }

    /// The last import, if any contact is waiting.
    pub(crate) fn finish(&mut self) -> Option<PlannedImport> {
        let batcher = self.batcher.take()?;
        batcher.finish().map(|batch| self.take_planned(batch))
    }

    /// The members left out since the last call.
    pub(crate) fn take_skipped(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.skipped)
    }

    fn take_planned(&mut self, batch: ImportBatch) -> PlannedImport {
        PlannedImport {
            batch,
            members: std::mem::take(&mut self.pending),
            has_new: std::mem::take(&mut self.pending_has_new),
        }
    }
}
