//! A run's report as text, as the command line prints it.

use std::fmt;

use super::{RunOutcome, RunReport};
use crate::SyncMode;

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match &self.outcome {
            RunOutcome::Succeeded => "succeeded".to_owned(),
            RunOutcome::Failed { reason } => format!("failed: {reason}"),
            RunOutcome::Cancelled => "cancelled".to_owned(),
        };
        let seconds = (self.finished_at - self.started_at).num_milliseconds() as f64 / 1000.0;
        let resync = if self.full_resync {
            ", full resync"
        } else {
            ""
        };
        writeln!(
            f,
            "Export to list {} ({}{resync}) {outcome} in {seconds:.1} s",
            self.list_id, self.mode
        )?;
        writeln!(f, "  profiles from {}", self.source)?;
        writeln!(
            f,
            "  profiles read                {:>10}",
            self.profiles_read
        )?;
        writeln!(
            f,
            "    outside the segments       {:>10}",
            self.profiles_outside_segments
        )?;
        writeln!(
            f,
            "    in the segments            {:>10}",
            self.profiles_in_segments
        )?;
        for (segment, members) in &self.members_per_segment {
            writeln!(f, "      {segment:<24} {members:>10}")?;
        }
        for (reason, count) in &self.invalid {
            let samples = self
                .invalid_samples
                .get(reason)
                .map(|s| {
                    s.iter()
                        .take(3)
                        .map(|v| format!("{v:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            writeln!(f, "    invalid: {reason:<18} {count:>10}   e.g. {samples}")?;
        }
        writeln!(
            f,
            "    duplicates collapsed       {:>10}",
            self.duplicates_collapsed
        )?;
        for (email, extra) in self.duplicate_samples.iter().take(3) {
            writeln!(f, "      {email} (+{extra})")?;
        }
        if self.excluded > 0 {
            writeln!(
                f,
                "    excluded (never sent)      {:>10}   e.g. {}",
                self.excluded,
                self.excluded_samples
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        if self.erased > 0 {
            writeln!(f, "    erased (never sent)        {:>10}", self.erased)?;
        }
        let sync = &self.sync;
        for (label, count) in [
            ("unchanged (not sent)", sync.unchanged),
            ("sent by an earlier attempt", sync.sent_earlier),
            ("unsubscribed (not sent)", sync.unsubscribed),
            ("not on the list (update only)", sync.not_on_list),
        ] {
            if count > 0 {
                writeln!(f, "    {label:<27}{count:>10}")?;
            }
        }
        writeln!(
            f,
            "    sent                       {:>10}   ({} new, {} changed)",
            self.sent, sync.adds, sync.updates
        )?;
        if self.rejected > 0 {
            writeln!(
                f,
                "    rejected by Constant Contact   {:>10}",
                self.rejected
            )?;
            for (email, reason) in self.rejected_samples.iter().take(3) {
                writeln!(f, "      {email}: {reason}")?;
            }
        }
        if self.not_sent > 0 {
            writeln!(f, "    not sent (run stopped)     {:>10}", self.not_sent)?;
        }
        for (field, count) in &self.fields_truncated {
            writeln!(f, "  {field} truncated to its limit: {count}")?;
        }
        let cc = &self.constant_contact;
        writeln!(
            f,
            "  Constant Contact: {} imports, {} contacts read, {} correctable, {} unsubscribed (not re-added), {} errors",
            self.activities.len(),
            cc.person_count,
            cc.correctable_count,
            cc.cannot_add_to_list_count,
            cc.error_count
        )?;
        if self.unsubscribed_found > 0 {
            writeln!(
                f,
                "  found unsubscribed, remembered and not sent again: {} (e.g. {})",
                self.unsubscribed_found,
                self.unsubscribed_found_samples
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        if let Some(problem) = &self.unsubscribed_check_failed {
            writeln!(f, "  unsubscribed contacts could not be read: {problem}")?;
        }
        if self.mode == SyncMode::Mirror {
            writeln!(
                f,
                "  left the segments: {} removed from the list, {} already off it",
                self.removed, self.already_off_list
            )?;
        }
        if let Some(verification) = &self.verification {
            writeln!(f, "  {verification}")?;
        }
        if let Some(problem) = &self.verification_failed {
            writeln!(f, "  the list could not be read back: {problem}")?;
        }
        writeln!(f, "  requests used: {}", self.requests_used)?;
        write!(f, "  phases: {}", self.phases_in_words())
    }
}
