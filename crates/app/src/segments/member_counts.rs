//! How many profiles each segment holds, as the segments and export pages show them, kept
//! between page views. A count is evaluated again only when what it depends on changed: the
//! segment's rule, the rules of the segments it refers to, the profile source and the related
//! tables (their files' sizes and modification times), or the day (rules like "within the last
//! 90 days" move with it). A source whose files cannot be looked at (a glob, an object store)
//! is counted again at most once a minute.
//!
//! A page view never waits for an evaluation: while another page view is counting, or every
//! place of the evaluation pool is taken, it shows the counts that are still current and leaves
//! the others out (the page says "not counted yet"). No lock is held across an evaluation but
//! the one that keeps a second page view from counting the same segments at once.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::UNIX_EPOCH;

use chrono::Utc;
use segsync_domain::segment::SegmentDefinition;
use segsync_engine::{EngineError, ProfileSource, RelatedTable};
use uuid::Uuid;

use super::check::{catalogue, clock_now};
use crate::App;
use crate::error::AppError;

/// What the pages show of a stored segment's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentCount {
    Members(u64),
    /// The segment no longer validates against the profiles (an attribute gone, a segment it
    /// refers to changed): every problem, each with its rule path.
    Invalid(String),
}

impl SegmentCount {
    pub fn members(&self) -> Option<u64> {
        match self {
            Self::Members(members) => Some(*members),
            Self::Invalid(_) => None,
        }
    }

    pub fn problem(&self) -> Option<&str> {
        match self {
            Self::Members(_) => None,
            Self::Invalid(problem) => Some(problem),
        }
    }
}

/// The counts last evaluated, each with the state it was evaluated in.
#[derive(Default)]
pub(crate) struct MemberCounts {
    counted: std::sync::Mutex<HashMap<Uuid, (u64, u64)>>,
    /// Held while counts are evaluated, so that page views at once evaluate them once.
    counting: tokio::sync::Mutex<()>,
}

impl MemberCounts {
    /// The member count of every stored segment that evaluates, and the problems of those that
    /// no longer validate.
    pub(crate) async fn all(&self, app: &App) -> Result<HashMap<Uuid, SegmentCount>, AppError> {
        let settings = app.engine().settings();
        let Some(source) = settings.profiles.as_ref() else {
            return Ok(HashMap::new());
        };
        let source = sources_state(source, &settings.related);
        let catalogue = catalogue(app).await?;
        let by_name: HashMap<&str, &SegmentDefinition> = catalogue
            .iter()
            .map(|segment| (segment.name.as_str(), segment))
            .collect();
        let mut keys = StateKeys {
            by_name: &by_name,
            source,
            day: Utc::now().date_naive(),
            known: HashMap::new(),
        };
        let segments = app.store().segments().await?;
        let mut counts = HashMap::new();
        let mut stale = Vec::new();
        {
            let counted = self.counted();
            for segment in &segments {
                let parsed = segment.definition();
                let key = keys.of(&parsed);
                match counted.get(&segment.id) {
                    Some((counted_in, members)) if *counted_in == key => {
                        counts.insert(segment.id, SegmentCount::Members(*members));
                    }
                    _ => stale.push((segment.id, parsed, key)),
                }
            }
        }
        // Another page view is counting: it will keep what it counts; this one does not wait.
        let Ok(_counting) = self.counting.try_lock() else {
            return Ok(counts);
        };
        let mut profiles_opened = None;
        for (id, parsed, key) in stale {
            if profiles_opened.is_none() {
                match app.profiles_to_evaluate().await {
                    Ok(opened) => profiles_opened = Some(opened),
                    // Every place is taken: the counts wait for the next page view.
                    Err(busy) if busy.code == crate::error::Code::Busy => break,
                    Err(error) => return Err(error),
                }
            }
            let opened = profiles_opened.as_ref().expect("opened above");
            let membership = match opened.segment_expr(&parsed, &catalogue, &clock_now()) {
                Ok(membership) => membership,
                Err(EngineError::Segment(problems)) => {
                    counts.insert(id, SegmentCount::Invalid(problems.to_string()));
                    continue;
                }
                Err(_) => continue,
            };
            if let Ok(members) = opened.count(membership).await {
                metrics::counter!("segsync_segment_counts_evaluated_total").increment(1);
                self.counted().insert(id, (key, members));
                counts.insert(id, SegmentCount::Members(members));
            }
        }
        let stored: std::collections::HashSet<Uuid> =
            segments.iter().map(|segment| segment.id).collect();
        self.counted().retain(|id, _| stored.contains(id));
        Ok(counts)
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (u64, u64)>> {
        self.counted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What each segment's count depends on, as one hash: its rule and, through their own keys,
/// those of the segments it refers to (however deep), the profile source's state and the day.
/// Each segment's key is made once.
struct StateKeys<'a> {
    by_name: &'a HashMap<&'a str, &'a SegmentDefinition>,
    source: u64,
    day: chrono::NaiveDate,
    known: HashMap<String, u64>,
}

impl StateKeys<'_> {
    fn of(&mut self, segment: &SegmentDefinition) -> u64 {
        self.key(segment, &mut HashSet::new())
    }

    /// `on_the_way` holds the segments whose keys are being made, so that a loop (which
    /// validation refuses, but a stored segment may predate) ends.
    fn key(&mut self, segment: &SegmentDefinition, on_the_way: &mut HashSet<String>) -> u64 {
        if let Some(key) = self.known.get(&segment.name) {
            return *key;
        }
        on_the_way.insert(segment.name.clone());
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (self.source, self.day, &segment.name).hash(&mut hasher);
        format!("{:?}", segment.rule).hash(&mut hasher);
        for name in segment.rule.references() {
            let by_name = self.by_name;
            match by_name.get(name) {
                Some(referred) if !on_the_way.contains(name) => {
                    self.key(referred, on_the_way).hash(&mut hasher);
                }
                _ => name.hash(&mut hasher),
            }
        }
        on_the_way.remove(&segment.name);
        let key = hasher.finish();
        self.known.insert(segment.name.clone(), key);
        key
    }
}

/// The state of the profile source and of every related table's source, as one hash.
pub(crate) fn sources_state(profiles: &ProfileSource, related: &[RelatedTable]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source_state(&profiles.location).hash(&mut hasher);
    for table in related {
        (&table.name, source_state(&table.source.location)).hash(&mut hasher);
    }
    hasher.finish()
}

/// The state of one source: the size and modification time of each of its files, or the
/// current minute where its files cannot be looked at.
fn source_state(location: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let path = Path::new(location);
    if path.is_file() || path.is_dir() {
        hash_files(path, &mut hasher);
    } else {
        location.hash(&mut hasher);
        (Utc::now().timestamp() / 60).hash(&mut hasher);
    }
    hasher.finish()
}

fn hash_files(path: &Path, hasher: &mut impl Hasher) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    path.hash(hasher);
    if metadata.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        let mut entries: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .collect();
        entries.sort();
        for entry in entries {
            hash_files(&entry, hasher);
        }
    } else {
        metadata.len().hash(hasher);
        metadata
            .modified()
            .ok()
            .and_then(|modified| modified.duration_since(UNIX_EPOCH).ok())
            .map(|since| since.as_nanos())
            .hash(hasher);
    }
}
