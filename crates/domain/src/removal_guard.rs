//! Guards on destructive runs: a mirror run that would remove too much of its list, whose
//! segments lost too many members since the last successful run, or whose profile source has no
//! rows — the marks of a broken data load — sends nothing and waits for a person to confirm.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A share between 0 and 1 (both included), kept exactly as basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Share(u16);

impl Share {
    const WHOLE: u16 = 10_000;

    /// The share `fraction` (0.2 is 20 %), rounded to a hundredth of a percent; `None` outside 0–1.
    pub fn from_fraction(fraction: f64) -> Option<Self> {
        (0.0..=1.0)
            .contains(&fraction)
            .then(|| Self((fraction * f64::from(Self::WHOLE)).round() as u16))
    }

    pub fn from_basis_points(points: u16) -> Option<Self> {
        (points <= Self::WHOLE).then_some(Self(points))
    }

    pub fn basis_points(self) -> u16 {
        self.0
    }

    pub fn fraction(self) -> f64 {
        f64::from(self.0) / f64::from(Self::WHOLE)
    }

    /// Whether `part` is more than this share of `whole`, in exact integers.
    pub fn exceeded_by(self, part: u64, whole: u64) -> bool {
        u128::from(part) * u128::from(Self::WHOLE) > u128::from(self.0) * u128::from(whole)
    }
}

/// `20 %`, `12.5 %`.
impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = f64::from(self.0) / 100.0;
        write!(f, "{percent} %")
    }
}

impl Serialize for Share {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.fraction())
    }
}

impl<'de> Deserialize<'de> for Share {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fraction = f64::deserialize(deserializer)?;
        Self::from_fraction(fraction).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a share between 0 and 1 (0.2 is 20 %), not {fraction}"
            ))
        })
    }
}

impl utoipa::PartialSchema for Share {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .minimum(Some(0.0))
            .maximum(Some(1.0))
            .description(Some("A share between 0 and 1: 0.2 is 20 %."))
            .into()
    }
}

impl utoipa::ToSchema for Share {}

/// An export's guards: the most of its list a run may remove, and the most its segments' members
/// may drop since the last successful run, before a person must confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalGuards {
    /// A mirror run that would remove more than this share of the list waits for confirmation.
    #[serde(default = "default_max_removal_share")]
    pub max_removal_share: Share,
    /// A mirror run whose segments hold fewer members than the last successful run's by more than
    /// this share waits for confirmation.
    #[serde(default = "default_max_member_drop")]
    pub max_member_drop: Share,
}

fn default_max_removal_share() -> Share {
    Share(2_000)
}

fn default_max_member_drop() -> Share {
    Share(5_000)
}

impl Default for RemovalGuards {
    fn default() -> Self {
        Self {
            max_removal_share: default_max_removal_share(),
            max_member_drop: default_max_member_drop(),
        }
    }
}

/// What a run found before sending, which the guards judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunFacts {
    /// Rows of the profile source.
    pub profiles_read: u64,
    /// Profiles in the export's segments now.
    pub members_now: u64,
    /// Profiles in them at the last successful run, if there was one.
    pub members_before: Option<u64>,
    /// The list's members as Constant Contact counts them.
    pub list_members: u64,
    /// Contacts the run would remove from the list.
    pub removals_planned: u64,
}

/// A guard a run tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// The profile source has no rows.
    EmptySource,
    /// The run would remove more than `max_removal_share` of the list.
    RemovalShare,
    /// The segments' members dropped by more than `max_member_drop`.
    MemberDrop,
}

impl Guard {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmptySource => "empty_source",
            Self::RemovalShare => "removal_share",
            Self::MemberDrop => "member_drop",
        }
    }
}

/// Why a run stopped before sending and waits for a person: the guards it tripped and the
/// numbers they judged, with a few of the contacts it would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GuardStop {
    pub tripped: Vec<Guard>,
    pub guards: RemovalGuards,
    pub profiles_read: u64,
    /// Profiles in the segments at the last successful run (none before the first).
    pub members_before: Option<u64>,
    pub members_now: u64,
    pub list_members: u64,
    pub removals_planned: u64,
    /// Up to twenty emails of contacts the run would remove, as the list holds them.
    #[serde(default)]
    pub removal_samples: Vec<String>,
}

impl GuardStop {
    /// Masks every sampled address (`a••@example.com`).
    pub fn mask_samples(&mut self) {
        for sample in &mut self.removal_samples {
            *sample = crate::masked(sample);
        }
    }
}

impl RemovalGuards {
    /// The guards `facts` trip, unless a person confirmed at least the removals planned
    /// (`confirmed_removals`): a confirmation covers the run it was given for, never a worse one.
    pub fn judge(&self, facts: &RunFacts, confirmed_removals: Option<u64>) -> Option<GuardStop> {
        if confirmed_removals.is_some_and(|confirmed| facts.removals_planned <= confirmed) {
            return None;
        }
        let mut tripped = Vec::new();
        if facts.profiles_read == 0 {
            tripped.push(Guard::EmptySource);
        }
        // A list Constant Contact counts smaller than the removals (its count lags) is judged
        // by the removals themselves.
        let list = facts.list_members.max(facts.removals_planned);
        if facts.removals_planned > 0
            && self
                .max_removal_share
                .exceeded_by(facts.removals_planned, list)
        {
            tripped.push(Guard::RemovalShare);
        }
        if let Some(before) = facts.members_before {
            let dropped = before.saturating_sub(facts.members_now);
            if dropped > 0 && self.max_member_drop.exceeded_by(dropped, before) {
                tripped.push(Guard::MemberDrop);
            }
        }
        (!tripped.is_empty()).then(|| GuardStop {
            tripped,
            guards: *self,
            profiles_read: facts.profiles_read,
            members_before: facts.members_before,
            members_now: facts.members_now,
            list_members: facts.list_members,
            removals_planned: facts.removals_planned,
            removal_samples: Vec::new(),
        })
    }

    /// Whether a run could trip the removal guard at all with at most `removals_at_most`
    /// removals from a list of `list_members`: when not, the run need not count its removals
    /// exactly before sending.
    pub fn removals_could_trip(&self, removals_at_most: u64, list_members: u64) -> bool {
        removals_at_most > 0
            && self
                .max_removal_share
                .exceeded_by(removals_at_most, list_members.max(removals_at_most))
    }
}

/// The numbers in words: "the profile source has no rows; 29,683 of the list's 29,683 members
/// would be removed (over 20 %)".
impl fmt::Display for GuardStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for guard in &self.tripped {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            match guard {
                Guard::EmptySource => f.write_str("the profile source has no rows")?,
                Guard::RemovalShare => write!(
                    f,
                    "{} of the list's {} members would be removed (more than {})",
                    self.removals_planned,
                    self.list_members.max(self.removals_planned),
                    self.guards.max_removal_share
                )?,
                Guard::MemberDrop => write!(
                    f,
                    "the segments hold {} members, down from {} at the last successful run (a drop of more than {})",
                    self.members_now,
                    self.members_before.unwrap_or_default(),
                    self.guards.max_member_drop
                )?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RunFacts {
        RunFacts {
            profiles_read: 1_000,
            members_now: 800,
            members_before: Some(1_000),
            list_members: 1_000,
            removals_planned: 200,
        }
    }

    #[test]
    fn a_run_within_its_guards_goes_on() {
        assert_eq!(RemovalGuards::default().judge(&facts(), None), None);
    }

    #[test]
    fn each_guard_trips_just_past_its_share() {
        let guards = RemovalGuards::default();
        let removals = RunFacts {
            removals_planned: 201,
            ..facts()
        };
        assert_eq!(
            guards.judge(&removals, None).unwrap().tripped,
            vec![Guard::RemovalShare]
        );
        let drop = RunFacts {
            members_now: 499,
            ..facts()
        };
        assert_eq!(
            guards.judge(&drop, None).unwrap().tripped,
            vec![Guard::MemberDrop]
        );
        let empty = RunFacts {
            profiles_read: 0,
            members_now: 0,
            removals_planned: 1_000,
            ..facts()
        };
        assert_eq!(
            guards.judge(&empty, None).unwrap().tripped,
            vec![Guard::EmptySource, Guard::RemovalShare, Guard::MemberDrop]
        );
    }

    #[test]
    fn a_confirmation_covers_as_many_removals_as_it_was_given_for_and_no_more() {
        let guards = RemovalGuards::default();
        let empty = RunFacts {
            profiles_read: 0,
            members_now: 0,
            removals_planned: 1_000,
            ..facts()
        };
        assert_eq!(guards.judge(&empty, Some(1_000)), None);
        let worse = RunFacts {
            removals_planned: 1_001,
            list_members: 1_001,
            ..empty
        };
        assert!(guards.judge(&worse, Some(1_000)).is_some());
    }

    #[test]
    fn a_list_counted_short_is_judged_by_its_removals() {
        let lagging = RunFacts {
            list_members: 0,
            removals_planned: 5,
            ..facts()
        };
        let stop = RemovalGuards::default().judge(&lagging, None).unwrap();
        assert_eq!(stop.tripped, vec![Guard::RemovalShare]);
        assert!(RemovalGuards::default().removals_could_trip(5, 0));
        assert!(!RemovalGuards::default().removals_could_trip(200, 1_000));
        assert!(!RemovalGuards::default().removals_could_trip(0, 0));
    }

    #[test]
    fn shares_read_as_fractions_and_refuse_what_is_not_one() {
        let guards: RemovalGuards =
            serde_json::from_str(r#"{"max_removal_share": 0.125}"#).unwrap();
        assert_eq!(guards.max_removal_share.basis_points(), 1_250);
        assert_eq!(guards.max_member_drop, default_max_member_drop());
        assert_eq!(guards.max_removal_share.to_string(), "12.5 %");
        let refused = serde_json::from_str::<RemovalGuards>(r#"{"max_member_drop": 1.5}"#);
        assert!(refused.unwrap_err().to_string().contains("between 0 and 1"));
    }
}
