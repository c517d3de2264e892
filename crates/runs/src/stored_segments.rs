//! Stored segments as definitions, and the configured profiles, as runs and the pages that
//! count members read them.

use segsync_domain::SegmentDefinition;
use segsync_domain::segment::{SegmentError, SegmentFormat, parse_segments};
use segsync_engine::{EngineSettings, ProfileSource, Profiles, RelatedTable};
use segsync_store::{Segment, Store, StoreError};

use crate::RunsError;

/// Parses a segment as it is written (a name, a description, a rule) into its definition, or
/// every problem with it. `origin` names where it came from in the problems.
pub fn parse_written(
    name: &str,
    description: Option<&str>,
    rule: &serde_json::Value,
    origin: &str,
) -> Result<SegmentDefinition, Vec<SegmentError>> {
    let mut entry = serde_json::json!({ "name": name, "rule": rule });
    if let Some(description) = description {
        entry["description"] = description.into();
    }
    let text = serde_json::json!({ "segments": [entry] }).to_string();
    parse_segments(&text, SegmentFormat::Json, origin).map(|mut segments| segments.remove(0))
}

/// A stored segment's definition, or every problem with it.
pub fn definition(segment: &Segment) -> Result<SegmentDefinition, Vec<SegmentError>> {
    parse_written(
        &segment.name,
        segment.description.as_deref(),
        &segment.rule,
        "request",
    )
}

/// The stored segments as definitions, for resolving set operations. One that no longer parses
/// is left out, so that referring to it is reported.
pub async fn catalogue(store: &Store) -> Result<Vec<SegmentDefinition>, StoreError> {
    Ok(store
        .segments()
        .await?
        .iter()
        .filter_map(|segment| definition(segment).ok())
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
