//! Progress of a run as it happens, for a progress bar or a status page.

/// Receives a run's progress. Every method has a default that ignores it.
pub trait Progress: Send + Sync {
    /// A phase begins: `planning`, `counting`, `sending`, `polling`.
    fn phase(&self, _phase: &str) {}
    /// The number of profiles in the selected segments, known before streaming.
    fn members_total(&self, _total: u64) {}
    /// Profiles of the segments looked at so far.
    fn members_processed(&self, _processed: u64) {}
    /// Members left out because their email is not valid: each as written, and why.
    fn members_skipped(&self, _skipped: &[(String, String)]) {}
    /// One import request was accepted by Constant Contact.
    fn batch_sent(&self, _contacts: usize) {}
}

/// Ignores progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
