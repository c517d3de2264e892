//! A run's progress as it happens, kept in atomics by the export and written to the store by
//! the run's watcher.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use segsync_domain::RunProgress;
use segsync_export::Progress;

#[derive(Default)]
pub(crate) struct LiveProgress {
    phase: Mutex<String>,
    members_total: AtomicU64,
    members_processed: AtomicU64,
    contacts_sent: AtomicU64,
    imports_sent: AtomicU64,
    /// Members left out and not yet written to the store.
    skipped: Mutex<Vec<(String, String)>>,
}

impl LiveProgress {
    /// The members left out since the last call, to write to the store.
    pub(crate) fn take_skipped(&self) -> Vec<(String, String)> {
        std::mem::take(
            &mut *self
                .skipped
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Puts back members whose write failed, ahead of those left out since, for the next write.
    pub(crate) fn keep_skipped(&self, mut unwritten: Vec<(String, String)>) {
        let mut skipped = self
            .skipped
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        unwritten.append(&mut skipped);
        *skipped = unwritten;
    }

    /// What a status page shows.
    pub(crate) fn snapshot(&self) -> RunProgress {
        let phase = self
            .phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        RunProgress {
            phase,
            members_total: self.members_total.load(Ordering::Relaxed),
            members_processed: self.members_processed.load(Ordering::Relaxed),
            contacts_sent: self.contacts_sent.load(Ordering::Relaxed),
            imports_sent: self.imports_sent.load(Ordering::Relaxed),
        }
    }
}

impl Progress for LiveProgress {
    fn phase(&self, phase: &str) {
        *self
            .phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = phase.to_owned();
    }

    fn members_total(&self, total: u64) {
        self.members_total.store(total, Ordering::Relaxed);
    }

    fn members_processed(&self, processed: u64) {
        self.members_processed.store(processed, Ordering::Relaxed);
    }

    fn members_skipped(&self, skipped: &[(String, String)]) {
        if !skipped.is_empty() {
            self.skipped
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .extend_from_slice(skipped);
        }
    }

    fn batch_sent(&self, contacts: usize) {
        self.contacts_sent
            .fetch_add(contacts as u64, Ordering::Relaxed);
        self.imports_sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// A run's live progress, shown to a watcher as well (the command line's progress bar).
pub(crate) struct Watched<'a> {
    pub(crate) live: &'a LiveProgress,
    pub(crate) watcher: &'a dyn Progress,
}

impl Progress for Watched<'_> {
    fn phase(&self, phase: &str) {
        self.live.phase(phase);
        self.watcher.phase(phase);
    }

    fn members_total(&self, total: u64) {
        self.live.members_total(total);
        self.watcher.members_total(total);
    }

    fn members_processed(&self, processed: u64) {
        self.live.members_processed(processed);
        self.watcher.members_processed(processed);
    }

    fn members_skipped(&self, skipped: &[(String, String)]) {
        self.live.members_skipped(skipped);
        self.watcher.members_skipped(skipped);
    }

    fn batch_sent(&self, contacts: usize) {
        self.live.batch_sent(contacts);
        self.watcher.batch_sent(contacts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(email: &str) -> (String, String) {
        (email.to_owned(), "malformed".to_owned())
    }

    #[test]
    fn members_whose_write_failed_go_out_with_the_next_write_first() {
        let progress = LiveProgress::default();
        progress.members_skipped(&[skip("a"), skip("b")]);
        let unwritten = progress.take_skipped();
        progress.members_skipped(&[skip("c")]);
        // The write of a and b failed: they are kept, ahead of what came since.
        progress.keep_skipped(unwritten);
        assert_eq!(progress.take_skipped(), [skip("a"), skip("b"), skip("c")]);
        assert!(progress.take_skipped().is_empty());
    }
}
