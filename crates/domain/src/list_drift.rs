//! What reading a list back found: the members the export means the list to hold that are not
//! on it (missing) and the list's members it does not mean (extra), each by cause — and when
//! an export reads its list back.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Samples kept per cause.
pub const DRIFT_SAMPLES: usize = 20;

/// When an export reads its list back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifySchedule {
    /// After each run that succeeded, in the same run.
    AfterRun,
    /// Once a day, as a run of its own.
    Daily,
    /// Only when asked.
    #[default]
    Off,
}

impl VerifySchedule {
    pub const ALL: [Self; 3] = [Self::AfterRun, Self::Daily, Self::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AfterRun => "after_run",
            Self::Daily => "daily",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for VerifySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VerifySchedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|schedule| schedule.as_str() == text)
            .ok_or_else(|| format!("unknown verify schedule {text:?}; use after_run, daily or off"))
    }
}

/// Why a member the export means the list to hold is not on it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MissingCause {
    /// The contact unsubscribed (or the account unsubscribed them): never sent again.
    Unsubscribed,
    /// The contact was deleted in Constant Contact: the next run adds it back.
    Deleted,
    /// Sent by the export and off the list now — removed by someone, or an add that never
    /// landed: the next run adds it back.
    Removed,
    /// Never sent: new in the segments since the last run, or skipped by it.
    NotSentYet,
}

/// Why a list member is there though the export does not mean it to be.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ExtraCause {
    /// Never sent by this export: added by a person or another tool. Left alone.
    AddedElsewhere,
    /// Mirror mode: put there by the export, left the segments, not removed yet (a removal that
    /// failed, or one the next run makes).
    AwaitingRemoval,
    /// Left the segments and kept by design: add-only mode, or a member the list had before the
    /// export (mirror mode removes only what it added).
    KeptLeaver,
}

/// How many members one cause accounts for, with a few of their emails.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DriftCount {
    pub count: u64,
    pub samples: Vec<String>,
}

impl ListVerification {
    /// Masks every sampled address (`a••@example.com`).
    pub fn mask_samples(&mut self) {
        let counts = self
            .missing_by_cause
            .values_mut()
            .chain(self.extra_by_cause.values_mut());
        for count in counts {
            for sample in &mut count.samples {
                *sample = crate::masked(sample);
            }
        }
    }
}

impl DriftCount {
    /// One more member, with its email as a sample while there are fewer than twenty.
    pub fn add(&mut self, sample: Option<&str>) {
        self.count += 1;
        if let Some(sample) = sample
            && self.samples.len() < DRIFT_SAMPLES
        {
            self.samples.push(sample.to_owned());
        }
    }
}

/// What reading a list back found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ListVerification {
    /// Members the list holds, as its export file listed them.
    pub list_members: u64,
    /// Members the export means the list to hold: the segments' unique members with a valid
    /// email, not known to be unsubscribed (in update-only mode, those the export updated).
    pub meant: u64,
    /// Meant and on the list.
    pub matched: u64,
    pub missing: u64,
    pub extra: u64,
    pub missing_by_cause: BTreeMap<MissingCause, DriftCount>,
    pub extra_by_cause: BTreeMap<ExtraCause, DriftCount>,
    /// Ledger entries the read corrected: forgotten (off the list, so the next run adds them
    /// back when they are meant) and found unsubscribed (never sent again).
    pub ledger_forgotten: u64,
    pub ledger_unsubscribed: u64,
    /// Requests the read used.
    pub requests: u64,
}

impl fmt::Display for ListVerification {
    /// One line: the list's size, then the missing and the extra members by cause, with a
    /// sample of each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the list read back: {} members, {} meant, {} missing, {} extra",
            self.list_members, self.meant, self.missing, self.extra
        )?;
        let causes = self
            .missing_by_cause
            .iter()
            .map(|(cause, drift)| (format!("missing, {}", cause.as_str()), drift))
            .chain(
                self.extra_by_cause
                    .iter()
                    .map(|(cause, drift)| (format!("extra, {}", cause.as_str()), drift)),
            );
        for (cause, drift) in causes {
            write!(f, "; {cause}: {}", drift.count)?;
            if let Some(sample) = drift.samples.first() {
                write!(f, " (e.g. {sample})")?;
            }
        }
        Ok(())
    }
}

impl MissingCause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::Deleted => "deleted",
            Self::Removed => "removed",
            Self::NotSentYet => "not_sent_yet",
        }
    }
}

impl ExtraCause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AddedElsewhere => "added_elsewhere",
            Self::AwaitingRemoval => "awaiting_removal",
            Self::KeptLeaver => "kept_leaver",
        }
    }
}
