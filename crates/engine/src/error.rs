//! What can go wrong reading profiles and evaluating segments.

use bytesize::ByteSize;
use segsync_domain::segment::SegmentErrors;

use crate::compile_error::CompileError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The source could not be opened; `part` says what failed: its options, the credentials,
    /// the path, the format or the connection. The location never shows a password.
    #[error("profile source {location}: {part}: {problem}")]
    Source {
        location: String,
        part: SourcePart,
        problem: String,
    },

    /// A file could not be read; the message names the file and, where the reader knows them,
    /// the line and column.
    #[error("reading profiles from {file}: {detail}")]
    Read { file: String, detail: String },

    /// A related table that does not fit its configuration or the profiles: a column that is
    /// not there, keys of different kinds, a date column that is no date.
    #[error("related table {table:?}: {problem}")]
    Related { table: String, problem: String },

    /// A related table's source that could not be read (now): the source's own error.
    #[error("related table {table:?}: {problem}")]
    RelatedUnreadable { table: String, problem: String },

    #[error(transparent)]
    Segment(#[from] SegmentErrors),

    /// A segment that validated but could not be compiled.
    #[error(transparent)]
    Compile(CompileError),

    /// A mapped attribute the profiles do not have.
    #[error("the profiles have no attribute {attribute:?}{hint}")]
    UnknownAttribute { attribute: String, hint: String },

    /// Evaluating the segments needed more memory than the engine's limit, beyond what it
    /// could spill to disk; `detail` names the operators that held the most.
    #[error(
        "evaluating the segments needs more memory than the engine's limit of {limit} \
         (memory_limit in [engine]) allows; raise it, or set sort_merge_joins = true in \
         [engine] when the joins hold the most: {detail}"
    )]
    MemoryBudget { limit: ByteSize, detail: String },

    /// `[engine] cluster` is not an address of a scheduler.
    #[error(
        "[engine] cluster {cluster:?} is not a scheduler's address like df://host:50050: {problem}"
    )]
    ClusterAddress { cluster: String, problem: String },

    /// The cluster's scheduler could not be reached, or lost the query: nothing was sent, and
    /// the run can be tried again.
    #[error("the engine is unavailable: the cluster at {cluster} {problem}")]
    ClusterUnavailable { cluster: String, problem: String },

    /// The cluster took the query and could not carry it out for the query's own sake (a plan
    /// it could not build): the cluster is up, and trying again gives the same.
    #[error("the cluster at {cluster} could not carry out the query: {detail}")]
    ClusterRejected { cluster: String, detail: String },

    /// `[engine] cluster` is on another machine and `[engine] cluster_tls` is not set: the
    /// node would send its queries to whoever answers at that address.
    #[error(
        "[engine] cluster {cluster:?} is not on this machine, and a node sends queries only to a \
         cluster it can authenticate: set [engine] cluster_tls (the cluster's certificate \
         authority, this node's certificate and its key; see `segsync cluster certificates`)"
    )]
    ClusterUnauthenticated { cluster: String },

    /// A file of the cluster's TLS (`[engine] cluster_tls`, `--tls-*`) cannot be used.
    #[error("the cluster's TLS file {} cannot be used: {problem}", file.display())]
    ClusterTls {
        file: std::path::PathBuf,
        problem: String,
    },

    /// A task ran out of the memory its executor allows (`--memory-limit` of
    /// `segsync cluster executor`), beyond what it could spill.
    #[error(
        "an executor of the cluster ran out of memory; give the executors more \
         (--memory-limit of segsync cluster executor): {detail}"
    )]
    ExecutorMemory { detail: String },

    #[error("the query failed")]
    Query(#[from] datafusion::error::DataFusionError),
}

impl EngineError {
    /// What failed, in words that name no host, bucket, path, file or address: what anyone
    /// who may read segments may be told. The whole error is for the log and for admins.
    pub fn without_locations(&self) -> String {
        match self {
            Self::Source { part, .. } => match part {
                SourcePart::Options => "the profile source's options do not work".to_owned(),
                SourcePart::Credentials => {
                    "the profile source refused the configured credentials".to_owned()
                }
                SourcePart::Path => "nothing is at the profile source's location".to_owned(),
                SourcePart::Format => {
                    "the profile source does not hold profiles in its configured format".to_owned()
                }
                SourcePart::Connection => "the profile source could not be reached".to_owned(),
            },
            Self::Read { .. } => "a file of the profile source could not be read".to_owned(),
            Self::RelatedUnreadable { table, .. } => {
                format!("the source of the related table {table:?} could not be read")
            }
            Self::ClusterAddress { .. }
            | Self::ClusterUnavailable { .. }
            | Self::ClusterUnauthenticated { .. }
            | Self::ClusterTls { .. } => "the engine's cluster is unavailable".to_owned(),
            Self::Query(_) | Self::ClusterRejected { .. } => {
                "evaluating the segments over the profile source failed".to_owned()
            }
            Self::Related { .. }
            | Self::Segment(_)
            | Self::Compile(_)
            | Self::UnknownAttribute { .. }
            | Self::MemoryBudget { .. }
            | Self::ExecutorMemory { .. } => self.to_string(),
        }
    }
}

impl From<CompileError> for EngineError {
    fn from(error: CompileError) -> Self {
        match error {
            CompileError::Invalid(errors) => Self::Segment(errors),
            other => Self::Compile(other),
        }
    }
}

/// The part of a profile source that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourcePart {
    /// An option is unknown, malformed, or its file or environment variable is missing.
    Options,
    /// The store or database refused the credentials.
    Credentials,
    /// Nothing is at the location: no such file, folder, bucket, table or database.
    Path,
    /// Something is there, but not profiles in the format asked for.
    Format,
    /// The store or database could not be reached.
    Connection,
}

impl std::fmt::Display for SourcePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Options => "options",
            Self::Credentials => "credentials",
            Self::Path => "path",
            Self::Format => "format",
            Self::Connection => "connection",
        })
    }
}
