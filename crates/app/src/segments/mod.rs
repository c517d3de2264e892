//! Segments: every signed-in caller reads them, checks a definition, counts and previews their
//! members; contributors and admins create, change, (de)activate, remove and import them. A
//! definition is checked completely (`check.rs`) before anything is saved.

mod check;
mod common_values;
mod member_counts;
mod preview;

pub use check::SegmentBody;
pub use common_values::CHOICES;
pub use member_counts::SegmentCount;
pub use preview::Preview;

pub(crate) use common_values::CommonValues;
pub(crate) use member_counts::MemberCounts;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use segsync_domain::SegmentDefinition;
use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_engine::CommonValue;
use segsync_store::{Segment, SegmentDraft};
use serde::Serialize;
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::{Caller, Contributor};
use crate::error::{AppError, Code, segment_unevaluable};
use check::{catalogue, check, check_all, clock_now, count_written, invalid};
use preview::{PREVIEW_ROWS, rows_as_text};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentView {
    pub id: Uuid,
    #[serde(flatten)]
    pub body: SegmentBody,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SegmentView {
    fn of(segment: &Segment) -> Self {
        Self {
            id: segment.id,
            body: SegmentBody::of(segment),
            active: segment.active,
            created_at: segment.created_at,
            updated_at: segment.updated_at,
        }
    }
}

/// A segment file: the segments under `segments:`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentFile {
    segments: Vec<SegmentBody>,
}

/// What an import saved: the names of the segments it created and of those it replaced.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub created: Vec<String>,
    pub updated: Vec<String>,
}

fn draft(definition: SegmentDefinition) -> SegmentDraft {
    SegmentDraft {
        name: definition.name,
        description: definition.description,
        rule: definition.rule,
    }
}

/// Reading, checking, counting and previewing segments.
pub struct Segments<'a> {
    app: &'a App,
}

impl<'a> Segments<'a> {
    pub(crate) fn new(app: &'a App, _caller: &'a Caller) -> Self {
        Self { app }
    }

    /// Every segment, by name.
    pub async fn all(&self) -> Result<Vec<SegmentView>, AppError> {
        Ok(self
            .app
            .store()
            .segments()
            .await?
            .iter()
            .map(SegmentView::of)
            .collect())
    }

    pub async fn get(&self, id: Uuid) -> Result<SegmentView, AppError> {
        Ok(SegmentView::of(&self.app.store().segment(id).await?))
    }

    /// Checks a written definition completely without saving it: `invalid_segment` with each
    /// problem at its rule path otherwise.
    pub async fn check(&self, body: &SegmentBody) -> Result<(), AppError> {
        check(self.app, body).await.map(drop)
    }

    /// Checks a written definition and counts the profiles it holds now, without saving it.
    pub async fn count_written(&self, body: &SegmentBody) -> Result<u64, AppError> {
        count_written(self.app, body).await
    }

    /// How many profiles each stored segment holds, or why it no longer validates; a segment
    /// whose count could not be evaluated now is left out. Counted again only when what a count
    /// depends on changed.
    pub async fn member_counts(&self) -> Result<HashMap<Uuid, SegmentCount>, AppError> {
        self.app.member_counts.all(self.app).await
    }

    /// The common values of each of `attributes` that can be read, for "is one of".
    pub async fn common_values(&self, attributes: &[String]) -> Vec<(String, Vec<CommonValue>)> {
        self.app.common_values.of(self.app, attributes).await
    }

    /// The segment's members now: how many, and the first of them.
    pub async fn preview(&self, id: Uuid) -> Result<Preview, AppError> {
        let segment = self.app.store().segment(id).await?;
        let definition = segment.definition();
        let catalogue = catalogue(self.app).await?;
        let profiles = self.app.profiles_to_evaluate().await?;
        let unreadable =
            |error: segsync_engine::EngineError| segment_unevaluable(&definition.name, &error);
        let membership = profiles
            .segment_expr(&definition, &catalogue, &clock_now())
            .map_err(unreadable)?;
        let members = profiles
            .count(membership.clone())
            .await
            .map_err(unreadable)?;
        let batches = profiles
            .preview(membership, PREVIEW_ROWS)
            .await
            .map_err(unreadable)?;
        Ok(Preview {
            members,
            sample: rows_as_text(&batches)?,
        })
    }

    /// Every segment as one file, the format `segsync segments check` reads.
    pub async fn file(&self) -> Result<SegmentFile, AppError> {
        let segments = self
            .app
            .store()
            .segments()
            .await?
            .iter()
            .map(SegmentBody::of)
            .collect();
        Ok(SegmentFile { segments })
    }
}

impl SegmentFile {
    /// The file as YAML.
    pub fn to_yaml(&self) -> Result<String, AppError> {
        serde_saphyr::to_string(self)
            .map_err(|error| AppError::new(Code::Internal, error.to_string()))
    }
}

/// Creating, changing, (de)activating, removing and importing segments.
pub struct SegmentChanges<'a> {
    app: &'a App,
    by: Contributor<'a>,
}

impl<'a> SegmentChanges<'a> {
    pub(crate) fn new(app: &'a App, by: Contributor<'a>) -> Self {
        Self { app, by }
    }

    pub async fn create(&self, body: &SegmentBody) -> Result<SegmentView, AppError> {
        let definition = check(self.app, body).await?;
        let segment = self
            .app
            .store()
            .create_segment(&draft(definition), self.user_id())
            .await?;
        self.audit("created", &segment).await?;
        Ok(SegmentView::of(&segment))
    }

    /// Changes a segment. A segment other segments refer to by name keeps its name.
    pub async fn update(&self, id: Uuid, body: &SegmentBody) -> Result<SegmentView, AppError> {
        let current = self.app.store().segment(id).await?;
        if current.name != body.name.trim() {
            // Set operations name the segments they use, so a rename would break them; exports
            // hold segments by id and do not mind.
            let users = self.referrers_of(&current.name).await?;
            if !users.is_empty() {
                return Err(AppError::invalid(
                    "name",
                    format!(
                        "the segments {} use {:?} by name; change them first",
                        users.join(", "),
                        current.name
                    ),
                ));
            }
        }
        let definition = check(self.app, body).await?;
        let segment = self
            .app
            .store()
            .update_segment(id, &draft(definition), self.user_id())
            .await?;
        self.audit("changed", &segment).await?;
        Ok(SegmentView::of(&segment))
    }

    /// Removes a segment no export sends and no other segment refers to.
    pub async fn remove(&self, id: Uuid) -> Result<(), AppError> {
        let segment = self.app.store().segment(id).await?;
        let referrers = self.referrers_of(&segment.name).await?;
        if !referrers.is_empty() {
            return Err(AppError::new(
                Code::SegmentInUse,
                format!(
                    "the segment {:?} is referred to by the segments {}; change them first",
                    segment.name,
                    referrers.join(", ")
                ),
            )
            .with_details(serde_json::json!({ "segments": referrers })));
        }
        self.app.store().delete_segment(id).await?;
        self.audit("removed", &segment).await
    }

    pub async fn set_active(&self, id: Uuid, active: bool) -> Result<SegmentView, AppError> {
        let segment = self
            .app
            .store()
            .set_segment_active(id, active, self.user_id())
            .await?;
        let action = if active { "activated" } else { "deactivated" };
        self.audit(action, &segment).await?;
        Ok(SegmentView::of(&segment))
    }

    /// Reads a YAML file of segments. All or nothing: with any problem, nothing is saved and
    /// every problem is reported. Segments whose names exist are replaced.
    pub async fn import_yaml(&self, yaml: &str) -> Result<Imported, AppError> {
        let parsed: serde_json::Value = serde_saphyr::from_str(yaml)
            .map_err(|error| AppError::new(Code::InvalidSegment, format!("the YAML: {error}")))?;
        parse_segments(yaml, SegmentFormat::Yaml, "import").map_err(|errors| invalid(&errors))?;
        let bodies: Vec<SegmentBody> = serde_json::from_value(
            parsed
                .get("segments")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        )
        .map_err(|error| AppError::new(Code::InvalidSegment, format!("segments: {error}")))?;
        let drafts: Vec<SegmentDraft> = check_all(self.app, &bodies)
            .await?
            .into_iter()
            .map(draft)
            .collect();
        // One transaction: every segment of the file is saved, or none.
        let saved = self
            .app
            .store()
            .import_segments(&drafts, self.user_id())
            .await?;
        let mut imported = Imported {
            created: Vec::new(),
            updated: Vec::new(),
        };
        for (segment, created) in &saved {
            if *created {
                imported.created.push(segment.name.clone());
            } else {
                imported.updated.push(segment.name.clone());
            }
            self.audit("imported", segment).await?;
        }
        Ok(imported)
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }

    /// The names of the segments whose rules refer to `name`.
    async fn referrers_of(&self, name: &str) -> Result<Vec<String>, AppError> {
        Ok(catalogue(self.app)
            .await?
            .into_iter()
            .filter(|segment| segment.name != name && segment.rule.refers_to(name))
            .map(|segment| segment.name)
            .collect())
    }

    async fn audit(&self, action: &str, segment: &Segment) -> Result<(), AppError> {
        let subject = Subject {
            kind: "segment",
            id: segment.id.to_string(),
            name: &segment.name,
        };
        record(
            self.app.store(),
            Some(self.user_id()),
            action,
            subject,
            None,
        )
        .await
    }
}
