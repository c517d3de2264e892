//! Profiles on Apache DataFusion: where they are read from, what their schema is, how a
//! segment becomes a DataFusion expression, and how members come out — as a stream of Arrow
//! record batches, never as a collection of Rust structs.

mod cluster;
mod cluster_codec;
mod cluster_status;
mod cluster_tls;
mod common_values;
mod compile;
mod compile_error;
mod equals_ignoring_case;
mod error;
mod evaluations;
mod grouping_partitions;
mod key_parts;
mod profiles;
mod related;
mod schema;
mod settings;
mod source;

pub use cluster::FAILED_ON_EXECUTOR;
pub use cluster_codec::{ClusterLogicalCodec, ClusterPhysicalCodec};
pub use cluster_status::{
    CLUSTER_STATUS_PATH, CLUSTER_STATUS_SERVICE, ClusterStatus, ClusterStatusRequest,
    ExecutorState, cluster_status,
};
pub use cluster_tls::{ClusterIdentity, ClusterTls, EndpointOverride, is_loopback};
pub use common_values::CommonValue;
pub use compile::{Membership, RelatedColumns, membership_expr};
pub use compile_error::CompileError;
pub use error::{EngineError, SourcePart};
pub use evaluations::{EvaluationPlace, Evaluations, EvaluationsBusy};
pub use profiles::{MemberQuery, Profiles, optimizer_rules};
pub use related::{RelatedTable, related_tables};
pub use schema::profile_schema;
pub use settings::EngineSettings;
pub use source::{
    OptionError, ProfileFormat, ProfileSource, SourceOptions, SourceSnapshot, SourceVersion,
    object_store_for,
};

/// Sizes in bytes, as the engine's settings take them.
pub use bytesize::ByteSize;
/// DataFusion and Arrow, as this crate uses them, for callers that read its batches.
pub use datafusion;
