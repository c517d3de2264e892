//! Stored segments as definitions, and the configured profiles, as runs and the pages that
//! count members read them.

use segsync_domain::SegmentDefinition;
use segsync_engine::{EvaluationPlace, Profiles};
use segsync_store::{Store, StoreError};

use crate::{RunEngine, RunsError};

/// Every stored segment as a definition, for resolving references. A segment that no longer
/// validates against the profiles stays in: referring to it reports its problems.
pub async fn catalogue(store: &Store) -> Result<Vec<SegmentDefinition>, StoreError> {
    Ok(store
        .segments()
        .await?
        .iter()
        .map(segsync_store::Segment::definition)
        .collect())
}

impl RunEngine {
    /// The configuration's profile source and related tables, opened and checked together:
    /// in the process's evaluation pool, holding `place` while they live (a count, a preview,
    /// a dry run), or within a memory limit of their own (a run).
    pub async fn open_profiles(
        &self,
        place: Option<EvaluationPlace>,
    ) -> Result<Profiles, RunsError> {
        let settings = &self.settings;
        let source = settings
            .profiles
            .clone()
            .ok_or(RunsError::ProfilesNotConfigured)?;
        Ok(match place {
            Some(place) => {
                self.evaluations
                    .open(source, &settings.related, place)
                    .await?
            }
            None => {
                Profiles::open_with(source, &settings.engine)
                    .await?
                    .relate(&settings.related)
                    .await?
            }
        })
    }
}
