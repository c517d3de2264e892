//! The report of a run: where every profile went, what Constant Contact said, what it cost —
//! stored with the run and read back as itself, shown by the console, the API and the alerts.
//! (`display.rs` writes it as text.)

mod display;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::SyncMode;

/// How a run ended, as its report says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunOutcome {
    #[default]
    Succeeded,
    /// Sending stopped on an error; `sent` says what went before it.
    Failed { reason: String },
    /// Stopped by a cancellation between batches.
    Cancelled,
}

/// Constant Contact's counters for one import activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConstantContactCounters {
    /// Contacts Constant Contact read from the import.
    pub person_count: u64,
    /// Invalid email, birthday or anniversary; fixable in Constant Contact.
    pub correctable_count: u64,
    /// Previously unsubscribed: not added to the list.
    pub cannot_add_to_list_count: u64,
    pub error_count: u64,
}

impl ConstantContactCounters {
    pub fn add(&mut self, other: &Self) {
        self.person_count += other.person_count;
        self.correctable_count += other.correctable_count;
        self.cannot_add_to_list_count += other.cannot_add_to_list_count;
        self.error_count += other.error_count;
    }
}

/// Where one of Constant Contact's activities stood when the run last looked, by its
/// snake-case name (`completed`, `timed_out`, …).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActivityState {
    Initialized,
    Processing,
    Completed,
    Cancelled,
    Failed,
    TimedOut,
    /// A state this version does not know.
    #[default]
    #[serde(other)]
    Unknown,
}

impl ActivityState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initialized => "initialized",
            Self::Processing => "processing",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ActivityState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityReport {
    pub activity_id: Uuid,
    /// Contacts this import carried.
    pub contacts: u64,
    /// `completed`, `failed`, `timed_out`, `cancelled`, or the last state seen.
    pub state: ActivityState,
    pub counters: ConstantContactCounters,
    pub errors: Vec<String>,
}

/// How a run's unique contacts divide.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SyncCounts {
    /// New to this export's list.
    pub adds: u64,
    /// Sent before and changed since (or all of them, on a full resync).
    pub updates: u64,
    /// Sent before exactly as they are now: not sent again.
    pub unchanged: u64,
    /// Already sent by an interrupted attempt of the same run.
    pub sent_earlier: u64,
    /// Known to be unsubscribed: never sent again.
    pub unsubscribed: u64,
    pub unsubscribed_samples: Vec<String>,
    /// Update-only mode: not on the list, so not sent.
    pub not_on_list: u64,
}

impl SyncCounts {
    pub fn to_send(&self) -> u64 {
        self.adds + self.updates
    }

    /// Contacts that were accounted for without being sent by this attempt.
    pub fn held_back(&self) -> u64 {
        self.unchanged + self.sent_earlier + self.unsubscribed + self.not_on_list
    }
}

/// The profile source a run read, and beside it each related table its segments could
/// measure: where, as what, and for a Delta table which version — so a run says exactly which
/// data it exported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceRead {
    #[serde(flatten)]
    pub profiles: TableRead,
    /// The related tables configured beside the profiles, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedRead>,
}

/// A related table a run read, under its name in the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelatedRead {
    pub name: String,
    #[serde(flatten)]
    pub read: TableRead,
}

/// One table read: where, as what, and for a Delta table which version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TableRead {
    /// The location, a password in it replaced.
    pub location: String,
    pub format: String,
    pub delta_version: Option<u64>,
    /// What change detection told of it when the run began (a Delta version, a fingerprint of
    /// the files' listing, a PostgreSQL `changed_by` value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `location (format, version N)`.
impl fmt::Display for TableRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.location, self.format)?;
        if let Some(version) = self.delta_version {
            write!(f, ", version {version}")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for SourceRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.profiles)?;
        for related in &self.related {
            write!(f, "; {}: {}", related.name, related.read)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
/// Fields a report of an older version lacks read as their empty value.
#[serde(default)]
pub struct RunReport {
    pub outcome: RunOutcome,
    pub mode: SyncMode,
    /// Every member was sent, changed or not.
    pub full_resync: bool,
    pub list_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// The source the profiles were read from.
    pub source: SourceRead,
    /// Every profile of the source.
    pub profiles_read: u64,
    pub profiles_outside_segments: u64,
    /// Profiles in at least one selected segment.
    pub profiles_in_segments: u64,
    /// Members of each selected segment (a profile in two segments counts in both).
    pub members_per_segment: Vec<(String, u64)>,
    /// Profiles not sent because of their email, by reason (`missing_email`, …).
    pub invalid: BTreeMap<String, u64>,
    /// Up to twenty of the offending values per reason.
    pub invalid_samples: BTreeMap<String, Vec<String>>,
    /// Profiles whose email another profile of the run already had; they became one contact.
    pub duplicates_collapsed: u64,
    /// Up to twenty emails shared by several profiles, with the number of extra profiles.
    pub duplicate_samples: Vec<(String, u64)>,
    /// Profiles whose email an exclusion names (kept by admins, or read from the exclusions
    /// source): never sent.
    pub excluded: u64,
    /// Up to twenty of them.
    pub excluded_samples: Vec<String>,
    /// Profiles whose email was erased (a tombstone names it): never sent, and never sampled.
    pub erased: u64,
    /// Values cut to the length their field allows, by field.
    pub fields_truncated: BTreeMap<String, u64>,
    /// Unique contacts in imports Constant Contact accepted.
    pub sent: u64,
    /// Profiles of the segments that were not sent because the run stopped early.
    pub not_sent: u64,
    /// Contacts Constant Contact refused on their own (their import was split until they stood
    /// alone); not sent, and sent again by the next run.
    pub rejected: u64,
    /// Up to twenty of them, with Constant Contact's reason.
    pub rejected_samples: Vec<(String, String)>,
    /// How the unique contacts divided: added, updated, unchanged (not sent), sent by an
    /// interrupted attempt of this run, known unsubscribed, not on the list (update only).
    pub sync: SyncCounts,
    /// Contacts this run sent that Constant Contact says are unsubscribed: remembered, and not
    /// sent again.
    pub unsubscribed_found: u64,
    pub unsubscribed_found_samples: Vec<String>,
    /// Why the unsubscribed contacts could not be read, if they could not.
    pub unsubscribed_check_failed: Option<String>,
    /// Mirror mode: members who left the segments, removed from the list.
    pub removed: u64,
    /// Mirror mode: members who left the segments and were already off the list.
    pub already_off_list: u64,
    pub activities: Vec<ActivityReport>,
    pub constant_contact: ConstantContactCounters,
    /// HTTP requests to Constant Contact, retries and polls included.
    pub requests_used: u64,
    /// Seconds per phase, in order.
    pub phases: Vec<(String, f64)>,
    /// Members of the list, as Constant Contact counted them when the run began.
    pub list_members_at_start: Option<u64>,
    /// The list read back after the run (or, for a run that only reads it back, instead of
    /// sending): what it holds against what the export means it to hold.
    pub verification: Option<crate::list_drift::ListVerification>,
    /// Why reading the list back failed, when it did (the run's own work stands).
    pub verification_failed: Option<String>,
}

impl RunReport {
    /// Masks every sampled address (`a••@example.com`), as reports are kept unless an admin
    /// turns full samples on.
    pub fn mask_samples(&mut self) {
        let mask_all = |samples: &mut Vec<String>| {
            for sample in samples {
                *sample = crate::masked(sample);
            }
        };
        for samples in self.invalid_samples.values_mut() {
            mask_all(samples);
        }
        for (email, _) in &mut self.duplicate_samples {
            *email = crate::masked(email);
        }
        mask_all(&mut self.excluded_samples);
        for (email, _) in &mut self.rejected_samples {
            *email = crate::masked(email);
        }
        mask_all(&mut self.unsubscribed_found_samples);
        mask_all(&mut self.sync.unsubscribed_samples);
        if let Some(verification) = &mut self.verification {
            verification.mask_samples();
        }
    }

    pub fn invalid_total(&self) -> u64 {
        self.invalid.values().sum()
    }

    /// Whether every profile is accounted for: those outside the segments plus those inside
    /// make all profiles read, and those inside were each invalid, a duplicate, excluded, erased, held back
    /// (unchanged, sent earlier, unsubscribed, not on the list), sent, or not sent because the
    /// run stopped.
    pub fn totals_add_up(&self) -> bool {
        self.profiles_outside_segments + self.profiles_in_segments == self.profiles_read
            && self.invalid_total()
                + self.duplicates_collapsed
                + self.excluded
                + self.erased
                + self.sync.held_back()
                + self.rejected
                + self.sent
                + self.not_sent
                == self.profiles_in_segments
    }

    /// `planning 0.24 s, counting 0.03 s, …`
    pub fn phases_in_words(&self) -> String {
        self.phases
            .iter()
            .map(|(phase, s)| format!("{phase} {s:.2} s"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn total_counters(activities: &[ActivityReport]) -> ConstantContactCounters {
        let mut total = ConstantContactCounters::default();
        for activity in activities {
            total.add(&activity.counters);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_read_names_its_related_tables_and_their_versions() {
        let read = SourceRead {
            profiles: TableRead {
                location: "lake/profiles".into(),
                format: "delta".into(),
                delta_version: Some(7),
                version: None,
            },
            related: vec![
                RelatedRead {
                    name: "orders".into(),
                    read: TableRead {
                        location: "lake/orders".into(),
                        format: "delta".into(),
                        delta_version: Some(3),
                        version: None,
                    },
                },
                RelatedRead {
                    name: "opens".into(),
                    read: TableRead {
                        location: "opens.parquet".into(),
                        format: "parquet".into(),
                        delta_version: None,
                        version: None,
                    },
                },
            ],
        };
        assert_eq!(
            read.to_string(),
            "lake/profiles (delta, version 7); orders: lake/orders (delta, version 3); \
             opens: opens.parquet (parquet)"
        );
        let json = serde_json::to_value(&read).unwrap();
        assert_eq!(json["related"][0]["name"], "orders");
        assert_eq!(json["related"][0]["delta_version"], 3);
        let alone = SourceRead {
            related: Vec::new(),
            ..read
        };
        assert!(
            serde_json::to_value(&alone)
                .unwrap()
                .get("related")
                .is_none()
        );
    }

    /// A report as an earlier version stored it: before related tables, list sizes and phases
    /// were reported, with an activity state this version does not know.
    #[test]
    fn a_report_an_earlier_version_stored_reads_with_what_it_lacks_empty() {
        let stored = serde_json::json!({
            "outcome": { "status": "failed", "reason": "sending: Constant Contact answered 500" },
            "mode": "mirror",
            "full_resync": false,
            "list_id": "6f1c1f9e-3f4e-4c39-9b64-0d3f2a1c5e11",
            "started_at": "2026-06-01T10:00:00Z",
            "finished_at": "2026-06-01T10:00:05Z",
            "source": { "location": "profiles.parquet", "format": "parquet", "delta_version": null },
            "profiles_read": 12,
            "profiles_outside_segments": 2,
            "profiles_in_segments": 10,
            "members_per_segment": [["gold", 10]],
            "invalid": { "missing_email": 1 },
            "invalid_samples": { "missing_email": [""] },
            "duplicates_collapsed": 1,
            "duplicate_samples": [["ada@example.com", 1]],
            "fields_truncated": {},
            "sent": 8,
            "not_sent": 0,
            "rejected": 0,
            "rejected_samples": [],
            "sync": { "adds": 8, "updates": 0, "unchanged": 0, "sent_earlier": 0, "unsubscribed": 0, "unsubscribed_samples": [] },
            "unsubscribed_found": 0,
            "unsubscribed_found_samples": [],
            "unsubscribed_check_failed": null,
            "removed": 0,
            "already_off_list": 0,
            "activities": [{
                "activity_id": "0b1e7f4c-8f6b-4a0e-9d2c-5b1a3c2d4e6f",
                "contacts": 8,
                "state": "archived",
                "counters": { "person_count": 8, "correctable_count": 0, "cannot_add_to_list_count": 0, "error_count": 0 },
                "errors": []
            }],
            "constant_contact": { "person_count": 8, "correctable_count": 0, "cannot_add_to_list_count": 0, "error_count": 0 },
            "requests_used": 4
        });
        let report: RunReport = serde_json::from_value(stored).unwrap();
        assert_eq!(
            report.outcome,
            RunOutcome::Failed {
                reason: "sending: Constant Contact answered 500".into()
            }
        );
        assert_eq!(report.mode, SyncMode::Mirror);
        assert!(report.source.related.is_empty());
        assert_eq!(report.sync.not_on_list, 0);
        assert_eq!(report.activities[0].state, ActivityState::Unknown);
        assert!(report.phases.is_empty());
        assert_eq!(report.list_members_at_start, None);
        assert!(report.totals_add_up(), "{report:#?}");
        // Written again, it reads back the same.
        let again: RunReport =
            serde_json::from_value(serde_json::to_value(&report).unwrap()).unwrap();
        assert_eq!(again, report);
    }
}
