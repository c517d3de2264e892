//! What the installation reads its profiles from: the source as configured, with its secrets
//! hidden, and whether it opens now — its format, Delta version, row count and schema, or which
//! part of it failed.

use segsync_domain::ChainExt;
use segsync_engine::{EngineError, EngineSettings, ProfileSource, Profiles};
use serde::Serialize;

use super::SystemAdmin;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProfileSourceView {
    /// `ready`, `failed`, or `not_configured` when the configuration names no profiles.
    pub state: &'static str,
    /// The path or URL, without a password.
    pub location: Option<String>,
    /// Each option as `key = value`; a secret shows where it comes from, never its value.
    pub options: Vec<SourceOptionView>,
    /// `parquet`, `csv`, `json`, `delta` or `postgres`, once the source opened.
    pub format: Option<&'static str>,
    /// The Delta table's version read.
    pub delta_version: Option<u64>,
    pub rows: Option<u64>,
    pub schema: Vec<SourceColumnView>,
    /// Why the source did not open.
    pub problem: Option<SourceProblemView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceOptionView {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceColumnView {
    pub name: String,
    /// The attribute type segments see: `text`, `integer`, `number`, `date`, `timestamp`,
    /// `boolean` or `other`.
    pub kind: String,
    /// The column's Arrow type as read.
    pub data_type: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceProblemView {
    /// `options`, `credentials`, `path`, `format` or `connection`; none when the source opened
    /// but could not be read.
    pub part: Option<String>,
    pub message: String,
}

impl SystemAdmin<'_> {
    /// The profile source as configured, with its secrets hidden, opened as a run would open
    /// it: what it holds, or why it did not open.
    pub async fn profile_source(&self) -> ProfileSourceView {
        let settings = self.app.engine().settings();
        match &settings.profiles {
            None => ProfileSourceView::nothing_yet("not_configured"),
            Some(source) => describe(source, &settings.engine).await,
        }
    }
}

impl ProfileSourceView {
    /// A view in `state` that knows nothing of a source yet.
    fn nothing_yet(state: &'static str) -> Self {
        Self {
            state,
            location: None,
            options: Vec::new(),
            format: None,
            delta_version: None,
            rows: None,
            schema: Vec::new(),
            problem: None,
        }
    }
}

/// Opens the source as a run would and says what it holds, or why it did not open.
async fn describe(source: &ProfileSource, engine: &EngineSettings) -> ProfileSourceView {
    let mut view = ProfileSourceView {
        location: Some(source.display_location()),
        options: source
            .options
            .shown()
            .into_iter()
            .map(|(key, value)| SourceOptionView { key, value })
            .collect(),
        ..ProfileSourceView::nothing_yet("failed")
    };
    let profiles = match Profiles::open_with(source.clone(), engine).await {
        Ok(profiles) => profiles,
        Err(error) => {
            view.problem = Some(problem(&error));
            return view;
        }
    };
    let snapshot = profiles.snapshot();
    view.format = Some(snapshot.format.name());
    view.delta_version = snapshot.delta_version;
    view.schema = profiles
        .schema()
        .attributes()
        .iter()
        .zip(profiles.arrow_schema().fields())
        .map(|(attribute, field)| SourceColumnView {
            name: attribute.name.clone(),
            kind: attribute.kind.to_string(),
            data_type: field.data_type().to_string(),
        })
        .collect();
    match profiles.count_all().await {
        Ok(rows) => {
            view.rows = Some(rows);
            view.state = "ready";
        }
        Err(error) => view.problem = Some(problem(&error)),
    }
    view
}

fn problem(error: &EngineError) -> SourceProblemView {
    SourceProblemView {
        part: match error {
            EngineError::Source { part, .. } => Some(part.to_string()),
            _ => None,
        },
        message: error.chain().to_string(),
    }
}
