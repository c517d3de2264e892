//! Where a run writes down, as it goes, what it is about to send, what Constant Contact
//! accepted, and what it learned about the list, so that a run interrupted anywhere can be
//! resumed without losing or repeating work. The server writes these to its store; a run
//! without a store (the command line) keeps nothing.

use std::future::Future;
use std::sync::Arc;

use uuid::Uuid;

use crate::report::ActivityReport;

/// One contact of an import, as the ledger will remember it once the import is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMember {
    pub email: Box<str>,
    pub key: u64,
    pub fingerprint: u64,
    /// The export puts the contact on the list (mirror mode knows it was not there).
    pub owned: bool,
}

/// An email found unsubscribed in Constant Contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribedMember {
    pub email: Box<str>,
    pub key: u64,
}

/// Why a note could not be stored.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CheckpointError {
    /// The run was taken over by another worker after this one's claim lapsed: this one must
    /// stop, and writes nothing more.
    #[error("the run was taken over by another worker; this one's claim lapsed")]
    ClaimLost,
    /// The store could not be written.
    #[error(transparent)]
    Store(Arc<dyn std::error::Error + Send + Sync>),
}

impl CheckpointError {
    pub fn store(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Store(Arc::new(error))
    }
}

/// What became of a reservation of requests from the day's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    Reserved,
    /// Not enough are left today: this many are.
    Short {
        left: u64,
    },
}

/// A run's durable notes. Each call returns once the note is stored; an error stops the run
/// before it sends anything more.
pub trait Checkpoints: Sync {
    /// Reserves the requests the run needs from the API key's budget for today, shared with
    /// every other run, before anything is sent.
    fn reserve_requests(
        &self,
        needed: u64,
    ) -> impl Future<Output = Result<Reservation, CheckpointError>> + Send;

    /// Import `seq` is about to be sent with these members.
    fn import_planned(
        &self,
        seq: u32,
        members: &[BatchMember],
    ) -> impl Future<Output = Result<(), CheckpointError>> + Send;

    /// Constant Contact accepted import `seq` as `activity_id`: its members are remembered as
    /// sent.
    fn import_sent(
        &self,
        seq: u32,
        activity_id: Uuid,
        members: &[BatchMember],
    ) -> impl Future<Output = Result<(), CheckpointError>> + Send;

    /// Constant Contact refused import `seq` (400): it was not sent, and is forgotten; its
    /// contacts go on in smaller imports.
    fn import_refused(&self, seq: u32) -> impl Future<Output = Result<(), CheckpointError>> + Send;

    /// Import `seq`'s activity ended. When it did not complete, its members are remembered as
    /// to be sent again.
    fn import_ended(
        &self,
        seq: u32,
        activity: &ActivityReport,
    ) -> impl Future<Output = Result<(), CheckpointError>> + Send;

    /// Asked before a send that no other note precedes (a removal from the list): an error
    /// stops the run before it. Imports need none: `import_planned` comes before each.
    fn before_send(&self) -> impl Future<Output = Result<(), CheckpointError>> + Send {
        async { Ok(()) }
    }

    /// These emails are off the list (mirror mode removed them, or they were gone already):
    /// forgotten.
    fn removed(&self, keys: &[u64]) -> impl Future<Output = Result<(), CheckpointError>> + Send;

    /// These emails are unsubscribed: remembered so as never to be sent again. Returns the
    /// ones this export had sent (the others are none of its business).
    fn unsubscribed(
        &self,
        members: &[UnsubscribedMember],
    ) -> impl Future<Output = Result<Vec<Box<str>>, CheckpointError>> + Send;
}

/// Keeps nothing: every run starts afresh.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCheckpoints;

impl Checkpoints for NoCheckpoints {
    /// Nothing is shared: the client's own count of today's requests is all there is.
    async fn reserve_requests(&self, _: u64) -> Result<Reservation, CheckpointError> {
        Ok(Reservation::Reserved)
    }

    async fn import_planned(&self, _: u32, _: &[BatchMember]) -> Result<(), CheckpointError> {
        Ok(())
    }

    async fn import_sent(&self, _: u32, _: Uuid, _: &[BatchMember]) -> Result<(), CheckpointError> {
        Ok(())
    }

    async fn import_refused(&self, _: u32) -> Result<(), CheckpointError> {
        Ok(())
    }

    async fn import_ended(&self, _: u32, _: &ActivityReport) -> Result<(), CheckpointError> {
        Ok(())
    }

    async fn removed(&self, _: &[u64]) -> Result<(), CheckpointError> {
        Ok(())
    }

    async fn unsubscribed(
        &self,
        _: &[UnsubscribedMember],
    ) -> Result<Vec<Box<str>>, CheckpointError> {
        Ok(Vec::new())
    }
}
