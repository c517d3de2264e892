//! Segment definitions as the API takes them: checked against the rule grammar, against the
//! other stored segments they refer to, and against the profiles' schema when profiles are
//! configured.

use chrono::Utc;
use segsync_domain::SegmentDefinition;
use segsync_domain::segment::{RunClock, SegmentError, parse_definition, validate};
use segsync_runs::stored_segments;
use segsync_store::Segment;
use serde::{Deserialize, Serialize};

use crate::App;
use crate::error::{AppError, Code, profiles_unreadable};

/// A segment as it is written and shown: the shape of an entry of a segment file.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SegmentBody {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub rule: serde_json::Value,
}

impl SegmentBody {
    pub fn of(segment: &Segment) -> Self {
        Self {
            name: segment.name.clone(),
            description: segment.description.clone(),
            rule: segment.rule.to_json(),
        }
    }
}

/// Parses one written segment into its definition, or every problem with it.
pub(crate) fn definition(body: &SegmentBody) -> Result<SegmentDefinition, Vec<SegmentError>> {
    parse_definition(body.name.trim(), body.description.as_deref(), &body.rule)
}

/// The stored segments as definitions, for resolving set operations.
pub(crate) async fn catalogue(app: &App) -> Result<Vec<SegmentDefinition>, AppError> {
    Ok(stored_segments::catalogue(app.store()).await?)
}

/// Checks a written segment completely.
pub(crate) async fn check(app: &App, body: &SegmentBody) -> Result<SegmentDefinition, AppError> {
    Ok(check_all(app, std::slice::from_ref(body)).await?.remove(0))
}

/// Checks several written segments together, as a file imports them: they may refer to each
/// other, and replace stored segments of the same names. Every problem of every segment is
/// reported at once.
pub(crate) async fn check_all(
    app: &App,
    bodies: &[SegmentBody],
) -> Result<Vec<SegmentDefinition>, AppError> {
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    for body in bodies {
        match definition(body) {
            Ok(segment) => segments.push(segment),
            Err(problems) => errors.extend(problems),
        }
    }
    if !errors.is_empty() {
        return Err(invalid(&errors));
    }
    let mut catalogue = catalogue(app).await?;
    catalogue.retain(|stored| !segments.iter().any(|new| new.name == stored.name));
    catalogue.extend(segments.iter().cloned());
    if app.has_profiles() {
        let schema = app.profiles().await?.schema();
        for segment in &segments {
            if let Err(problems) = validate(segment, &schema, &catalogue) {
                errors.extend(problems);
            }
        }
    }
    if errors.is_empty() {
        Ok(segments)
    } else {
        Err(invalid(&errors))
    }
}

/// Checks a written segment completely and counts its members now, without saving it.
pub(crate) async fn count_written(app: &App, body: &SegmentBody) -> Result<u64, AppError> {
    let definition = check(app, body).await?;
    let mut catalogue = catalogue(app).await?;
    catalogue.retain(|stored| stored.name != definition.name);
    catalogue.push(definition.clone());
    let profiles = app.profiles_to_evaluate().await?;
    let unreadable = |error: segsync_engine::EngineError| profiles_unreadable(&error);
    let membership = profiles
        .segment_expr(&definition, &catalogue, &clock_now())
        .map_err(unreadable)?;
    profiles.count(membership).await.map_err(unreadable)
}

/// The run clock for previews: now, in UTC.
pub(crate) fn clock_now() -> RunClock {
    RunClock::new(Utc::now(), chrono_tz::UTC)
}

pub(crate) fn invalid(errors: &[SegmentError]) -> AppError {
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let details: Vec<serde_json::Value> =
        errors.iter().map(|error| serde_json::json!({ "segment": error.segment, "path": error.path, "problem": error.problem })).collect();
    AppError::new(Code::InvalidSegment, message)
        .with_details(serde_json::json!({ "errors": details }))
}
