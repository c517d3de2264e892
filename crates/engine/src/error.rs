//! What can go wrong reading profiles and evaluating segments.

use segsync_domain::segment::SegmentErrors;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The source does not exist or holds no file of its format.
    #[error("profile source {location}: {problem}")]
    Source { location: String, problem: String },

    /// A file could not be read; the message names the file and, where the reader knows them,
    /// the line and column.
    #[error("reading profiles from {file}: {detail}")]
    Read { file: String, detail: String },

    #[error("{0}")]
    Segment(#[from] SegmentErrors),

    /// A mapped attribute the profiles do not have.
    #[error("the profiles have no attribute {attribute:?}{hint}")]
    UnknownAttribute { attribute: String, hint: String },

    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
}
