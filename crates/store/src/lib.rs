//! segsync's store: every durable fact of the server — users and their sessions, connections,
//! segments, exports, runs and the audit log — on an embedded SQLite file by default, or on
//! PostgreSQL when several nodes share the work.
//!
//! One set of queries serves both databases through sqlx's `Any` driver, so the SQL sticks to
//! what both understand: `$n` parameters, text, 64-bit integers and bytes. Each database has its
//! own migrations, kept in step by number.

mod accounts;
mod alert_feed;
mod attempts;
mod audit;
mod connections;
mod database;
mod erasures;
mod error;
mod exclusions;
mod exports;
mod ledger;
mod next_steps;
mod opt_outs;
mod person;
mod quota;
mod retention;
mod run_batches;
mod run_claims;
mod runs;
mod segments;
mod settings;
mod time;
mod token_refresh;
mod users;

pub use accounts::KeptCredential;
pub use alert_feed::FeedCursor;
pub use attempts::{AttemptsAt, LoginThrottle, PasswordAttempt};
pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use connections::{Connection, Health, NewConnection, OAuthFlow, UsableBy};
pub use database::{Backend, Store};
pub use erasures::{ERASED, Erasure, ErasureState, PurgedFromStore, without_address};
pub use error::StoreError;
pub use exclusions::Exclusion;
pub use exports::{Export, ExportDraft};
pub use ledger::{LedgerEntry, SentMember};
pub use opt_outs::OptOut;
pub use person::{PersonRecords, SentBy, SkippedEntry};
pub use quota::QuotaDay;
pub use retention::{HeldData, without_samples};
pub use run_batches::{BatchState, LedgerOf, RunBatch};
pub use run_claims::RunClaim;
pub use runs::{DriftPoint, QueueError, Run, RunFilter, RunPurpose, RunStatus, Trigger};
pub use segments::{Segment, SegmentDraft};
pub use time::{from_millis, to_millis};
pub use token_refresh::{RefreshTurn, StoredTokens};
pub use users::{ApiTokenRecord, NewUser, Role, SessionRecord, TokenUse, User};
