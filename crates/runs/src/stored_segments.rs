//! Stored segments as definitions, and the configured profiles, as runs and the pages that
//! count members read them.

use segsync_domain::SegmentDefinition;
use segsync_engine::{EngineSettings, ProfileSource, Profiles, RelatedTable};
use segsync_store::{Store, StoreError};

use crate::RunsError;

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

/// The configuration's profile source and related tables, opened and checked together.
pub async fn open_profiles(
    source: Option<&ProfileSource>,
    related: &[RelatedTable],
    engine: &EngineSettings,
) -> Result<Profiles, RunsError> {
    let source = source.ok_or(RunsError::ProfilesNotConfigured)?;
    Ok(Profiles::open_with(source.clone(), engine)
        .await?
        .relate(related)
        .await?)
}
