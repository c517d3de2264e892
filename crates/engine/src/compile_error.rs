//! What can go wrong compiling a segment: it does not validate, or a rule that did cannot be
//! translated — each named by its segment and rule path, DataFusion's own error kept as the
//! source.

use datafusion::error::DataFusionError;
use segsync_domain::segment::SegmentErrors;

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The segment does not validate against the profiles' schema and the other segments:
    /// every problem at once, each with its rule path.
    #[error(transparent)]
    Invalid(#[from] SegmentErrors),

    /// A rule the compiler cannot translate, though it validated.
    #[error("segment {segment:?}, {path}: {problem}")]
    Rule {
        segment: String,
        /// Where in the definition, such as `rule.all[2].where`.
        path: String,
        problem: String,
    },

    /// DataFusion refused the expression a rule compiles to.
    #[error("segment {segment:?}, {path}: planning {what}")]
    Planning {
        segment: String,
        path: String,
        what: &'static str,
        #[source]
        source: DataFusionError,
    },
}
