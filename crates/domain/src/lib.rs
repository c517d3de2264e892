//! segsync's domain: what a profile looks like, what a segment is, how profile attributes map
//! onto Constant Contact's contact fields, and what makes an email address sendable.
//!
//! Nothing here does IO. Values are parsed at the edge into types that cannot be wrong
//! ([`Email`], [`segment::SegmentDefinition`]) and passed inward.

pub mod email;
pub mod mapping;
pub mod schedule;
pub mod schema;
pub mod segment;
pub mod sync_mode;

pub use email::{Email, EmailProblem};
pub use mapping::{ContactField, FieldMapping, MappingError};
pub use schema::{Attribute, AttributeType, ProfileSchema, RelatedSchema};
pub use segment::{Rule, SegmentDefinition, SegmentError};
pub use sync_mode::SyncMode;
