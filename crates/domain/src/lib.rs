//! segsync's domain: what a profile looks like, what a segment is, how profile attributes map
//! onto Constant Contact's contact fields, and what makes an email address sendable.
//!
//! Nothing here does IO. Values are parsed at the edge into types that cannot be wrong
//! ([`Email`], [`segment::SegmentDefinition`]) and passed inward.

pub mod connection_access;
pub mod email;
pub mod erasure;
pub mod error_chain;
pub mod list_drift;
pub mod mapping;
pub mod masking;
pub mod removal_guard;
pub mod role;
pub mod run_progress;
pub mod run_report;
pub mod run_status;
pub mod schedule;
pub mod schema;
pub mod segment;
pub mod sync_mode;
pub mod token_scope;

pub use connection_access::{Health, UsableBy};
pub use email::{Email, EmailProblem};
pub use erasure::{AccountRemoval, ErasureReceipt, LedgerPurged, PersonErased, PurgedRecords};
pub use error_chain::{ChainExt, ErrorChain};
pub use list_drift::{ListVerification, VerifySchedule};
pub use mapping::{ContactField, FieldMapping, MappingError};
pub use masking::masked;
pub use removal_guard::{Guard, GuardStop, RemovalGuards, RunFacts, Share};
pub use role::Role;
pub use run_progress::RunProgress;
pub use run_status::{RunPurpose, RunStatus, Trigger};
pub use schema::{Attribute, AttributeType, ProfileSchema, RelatedSchema};
pub use segment::{Rule, SegmentDefinition, SegmentError};
pub use sync_mode::SyncMode;
pub use token_scope::TokenScope;
