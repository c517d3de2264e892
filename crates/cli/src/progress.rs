//! A progress bar for long work.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use segsync_export::Progress;

pub(crate) struct BarProgress {
    bar: ProgressBar,
    contacts_sent: AtomicU64,
}

impl BarProgress {
    pub(crate) fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:<40} [{bar:30}] {pos}/{len} profiles ({elapsed})",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Self {
            bar,
            contacts_sent: AtomicU64::new(0),
        }
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for BarProgress {
    fn phase(&self, phase: &str) {
        self.bar.set_message(phase.to_owned());
    }

    fn members_total(&self, total: u64) {
        self.bar.set_length(total);
    }

    fn members_processed(&self, processed: u64) {
        self.bar.set_position(processed);
    }

    fn batch_sent(&self, contacts: usize) {
        let sent = self
            .contacts_sent
            .fetch_add(contacts as u64, Ordering::Relaxed)
            + contacts as u64;
        self.bar
            .set_message(format!("sending: {sent} contacts accepted"));
    }
}

/// A bar for a known amount of work, such as generating profiles.
pub(crate) fn counter(length: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("{msg:<28} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}
