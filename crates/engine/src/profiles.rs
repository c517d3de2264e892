//! Profiles opened from a source: their schema, segment counts, previews and member streams.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::{Expr, ident};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures_util::StreamExt;
use segsync_domain::ProfileSchema;
use segsync_domain::segment::{RunClock, SegmentCatalogue, SegmentDefinition};

use crate::compile::membership_expr;
use crate::error::EngineError;
use crate::error::SourcePart;
use crate::schema::profile_schema;
use crate::source::{ProfileSource, SourceSnapshot};

/// The columns a member stream carries: the mapped attributes, then one boolean per segment.
#[derive(Debug, Clone)]
pub struct MemberQuery {
    pub columns: Vec<String>,
    /// Each segment's name and membership expression. A profile is streamed when it is a member
    /// of at least one.
    pub segments: Vec<(String, Expr)>,
}

impl MemberQuery {
    /// The name of the boolean column that says whether a row belongs to segment `index`.
    pub fn membership_column(index: usize) -> String {
        format!("__segment_{index}")
    }
}

pub struct Profiles {
    source: ProfileSource,
    ctx: SessionContext,
    frame: DataFrame,
    schema: SchemaRef,
    snapshot: SourceSnapshot,
}

impl std::fmt::Debug for Profiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiles")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Profiles {
    /// Opens a source and discovers its schema.
    pub async fn open(source: ProfileSource) -> Result<Self, EngineError> {
        // Batches of 8,192 rows keep memory flat while streaming members.
        let config = SessionConfig::new().with_batch_size(8_192);
        let ctx = SessionContext::new_with_config(config);
        let (frame, snapshot) = source.read(&ctx).await?;
        let schema = Arc::clone(frame.schema().inner());
        Ok(Self {
            source,
            ctx,
            frame,
            schema,
            snapshot,
        })
    }

    pub fn source(&self) -> &ProfileSource {
        &self.source
    }

    /// The format read and, for a Delta table, the version: what a run exported from.
    pub fn snapshot(&self) -> SourceSnapshot {
        self.snapshot
    }

    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn schema(&self) -> ProfileSchema {
        profile_schema(&self.schema)
    }

    /// The membership expression of a segment, checked against these profiles.
    pub fn segment_expr(
        &self,
        segment: &SegmentDefinition,
        catalogue: &dyn SegmentCatalogue,
        clock: &RunClock,
    ) -> Result<Expr, EngineError> {
        Ok(membership_expr(segment, &self.schema, catalogue, clock)?)
    }

    pub async fn count_all(&self) -> Result<u64, EngineError> {
        match self.frame.clone().count().await {
            Ok(count) => Ok(count as u64),
            Err(error) => Err(self.read_error(error).await),
        }
    }

    pub async fn count(&self, membership: Expr) -> Result<u64, EngineError> {
        match self.frame.clone().filter(membership)?.count().await {
            Ok(count) => Ok(count as u64),
            Err(error) => Err(self.read_error(error).await),
        }
    }

    /// The physical plan of a segment's count, as DataFusion shows it: which filters a source
    /// runs itself (Parquet pruning, SQL sent to PostgreSQL) and which run here.
    pub async fn explain(&self, membership: Expr) -> Result<String, EngineError> {
        let plan = self
            .frame
            .clone()
            .filter(membership)?
            .create_physical_plan()
            .await?;
        Ok(datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string())
    }

    /// The first `limit` members, every attribute included.
    pub async fn preview(
        &self,
        membership: Expr,
        limit: usize,
    ) -> Result<Vec<RecordBatch>, EngineError> {
        match self
            .frame
            .clone()
            .filter(membership)?
            .limit(0, Some(limit))?
            .collect()
            .await
        {
            Ok(batches) => Ok(batches),
            Err(error) => Err(self.read_error(error).await),
        }
    }

    /// Members of any of the query's segments, as a stream of batches with the query's columns
    /// and one membership boolean per segment.
    pub async fn members(
        &self,
        query: &MemberQuery,
    ) -> Result<SendableRecordBatchStream, EngineError> {
        for column in &query.columns {
            if self.schema.field_with_name(column).is_err() {
                let hint = self
                    .schema()
                    .nearest(column)
                    .map(|n| format!(" (did you mean {n:?}?)"))
                    .unwrap_or_default();
                return Err(EngineError::UnknownAttribute {
                    attribute: column.clone(),
                    hint,
                });
            }
        }
        let any_segment = query
            .segments
            .iter()
            .map(|(_, expr)| expr.clone())
            .reduce(Expr::or)
            .ok_or_else(|| {
                self.source
                    .problem(SourcePart::Options, "no segment to export".into())
            })?;
        let mut selection: Vec<Expr> = query.columns.iter().map(ident).collect();
        selection.extend(
            query
                .segments
                .iter()
                .enumerate()
                .map(|(i, (_, expr))| expr.clone().alias(MemberQuery::membership_column(i))),
        );
        let frame = self.frame.clone().filter(any_segment)?.select(selection)?;
        match frame.execute_stream().await {
            Ok(stream) => Ok(stream),
            Err(error) => Err(self.read_error(error).await),
        }
    }

    /// Names the file behind a failure: with several files, each is read on its own until the
    /// one that fails is found, so the message can say which file, and the reader's own message
    /// says which line and column.
    pub async fn read_error(&self, error: DataFusionError) -> EngineError {
        let files = self.source.files();
        if files.len() > 1 {
            for file in files {
                let single = ProfileSource {
                    location: file.clone(),
                    ..self.source.clone()
                };
                let failed = match single.read(&self.ctx).await {
                    Ok((frame, _)) => read_every_value(frame).await.err().map(|e| e.to_string()),
                    Err(error) => Some(error.to_string()),
                };
                if let Some(detail) = failed {
                    return EngineError::Read { file, detail };
                }
            }
        }
        EngineError::Read {
            file: self.source.display_location(),
            detail: error.to_string(),
        }
    }
}

/// Streams a frame to its end, parsing every column, and keeps nothing.
async fn read_every_value(frame: DataFrame) -> Result<(), DataFusionError> {
    let mut batches = frame.execute_stream().await?;
    while let Some(batch) = batches.next().await {
        batch?;
    }
    Ok(())
}
