//! The run report: where every profile went, what Constant Contact said, what it cost.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::failure::ExportFailure;
use crate::member_sorter::SyncCounts;
use crate::sync::SyncMode;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RunOutcome {
    Succeeded,
    /// Sending stopped on an error; `sent` says what went before it. Written as its text.
    Failed {
        #[serde(serialize_with = "as_text")]
        reason: ExportFailure,
    },
    /// Stopped by a cancellation between batches.
    Cancelled,
}

/// Two outcomes are the same when they say the same.
impl PartialEq for RunOutcome {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Succeeded, Self::Succeeded) | (Self::Cancelled, Self::Cancelled) => true,
            (Self::Failed { reason: a }, Self::Failed { reason: b }) => {
                a.to_string() == b.to_string()
            }
            _ => false,
        }
    }
}

fn as_text<S: serde::Serializer>(
    value: &impl std::fmt::Display,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Constant Contact's counters for one import activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    fn add(&mut self, other: &Self) {
        self.person_count += other.person_count;
        self.correctable_count += other.correctable_count;
        self.cannot_add_to_list_count += other.cannot_add_to_list_count;
        self.error_count += other.error_count;
    }
}

/// Where one of Constant Contact's activities stood when the run last looked: compared as a
/// value, written in reports as its snake-case name (`completed`, `timed_out`, …).
pub use constant_contact::ActivityState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityReport {
    pub activity_id: Uuid,
    /// Contacts this import carried.
    pub contacts: u64,
    /// `completed`, `failed`, `timed_out`, `cancelled`, or the last state seen.
    pub state: ActivityState,
    pub counters: ConstantContactCounters,
    pub errors: Vec<String>,
}

/// Samples kept per reason or duplicate list, so a report stays readable.
pub(crate) const SAMPLES: usize = 20;

/// The profile source a run read, and beside it each related table its segments could
/// measure: where, as what, and for a Delta table which version — so a run says exactly which
/// data it exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRead {
    #[serde(flatten)]
    pub profiles: TableRead,
    /// The related tables configured beside the profiles, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedRead>,
}

/// A related table a run read, under its name in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelatedRead {
    pub name: String,
    #[serde(flatten)]
    pub read: TableRead,
}

/// One table read: where, as what, and for a Delta table which version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableRead {
    /// The location, a password in it replaced.
    pub location: String,
    pub format: String,
    pub delta_version: Option<u64>,
}

impl TableRead {
    fn of(
        source: &segsync_engine::ProfileSource,
        snapshot: segsync_engine::SourceSnapshot,
    ) -> Self {
        Self {
            location: source.display_location(),
            format: snapshot.format.name().to_owned(),
            delta_version: snapshot.delta_version,
        }
    }
}

impl SourceRead {
    pub fn of(profiles: &segsync_engine::Profiles) -> Self {
        Self {
            profiles: TableRead::of(profiles.source(), profiles.snapshot()),
            related: profiles
                .related_reads()
                .map(|(table, snapshot)| RelatedRead {
                    name: table.name.clone(),
                    read: TableRead::of(&table.source, snapshot),
                })
                .collect(),
        }
    }
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

#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

impl RunReport {
    pub fn invalid_total(&self) -> u64 {
        self.invalid.values().sum()
    }

    /// Whether every profile is accounted for: those outside the segments plus those inside
    /// make all profiles read, and those inside were each invalid, a duplicate, held back
    /// (unchanged, sent earlier, unsubscribed, not on the list), sent, or not sent because the
    /// run stopped.
    pub fn totals_add_up(&self) -> bool {
        self.profiles_outside_segments + self.profiles_in_segments == self.profiles_read
            && self.invalid_total()
                + self.duplicates_collapsed
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

    pub(crate) fn total_counters(activities: &[ActivityReport]) -> ConstantContactCounters {
        let mut total = ConstantContactCounters::default();
        for activity in activities {
            total.add(&activity.counters);
        }
        total
    }
}

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
        writeln!(f, "  requests used: {}", self.requests_used)?;
        write!(f, "  phases: {}", self.phases_in_words())
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
            },
            related: vec![
                RelatedRead {
                    name: "orders".into(),
                    read: TableRead {
                        location: "lake/orders".into(),
                        format: "delta".into(),
                        delta_version: Some(3),
                    },
                },
                RelatedRead {
                    name: "opens".into(),
                    read: TableRead {
                        location: "opens.parquet".into(),
                        format: "parquet".into(),
                        delta_version: None,
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
}
