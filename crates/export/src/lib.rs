//! The export run: the members of one or more segments, streamed from the profiles, mapped
//! to Constant Contact's fields, checked, de-duplicated by email, sorted against what the export
//! sent before, batched within Constant Contact's limits and imported into one list — with
//! leavers removed in mirror mode — and a report that accounts for every profile; and the list
//! read back and compared with what the export means it to hold.

mod checkpoints;
mod contacts;
mod dry_run;
mod error;
mod exclusions;
mod failure;
mod list_members;
mod member_sorter;
mod opt_outs;
mod plan;
mod progress;
mod report;
mod requests;
mod run;
mod sync;
mod verify;

pub use checkpoints::{
    BatchMember, CheckpointError, Checkpoints, NoCheckpoints, Reservation, UnsubscribedMember,
};
pub use dry_run::{DryRunReport, dry_run, dry_run_in_step};
pub use error::ExportError;
pub use exclusions::{
    Exclusions, HeldBack, KEYED_HASH_BYTES, KeyedHashes, keyed_hash, keyed_hash_hex,
};
pub use failure::{ExportFailure, Step};
pub use member_sorter::SyncCounts;
pub use opt_outs::{LearnedOptOut, OptOutsPage, first_opt_outs_page, next_opt_outs_page};
pub use plan::{DEFAULT_MEMBER_LIMIT, ExportPlan, GuardPlan, missing_custom_fields};
pub use progress::{NoProgress, Progress};
pub use report::{
    ActivityReport, ActivityState, ConstantContactCounters, RelatedRead, RunOutcome, RunReport,
    SourceRead, TableRead, source_read,
};
pub use requests::{RequestEstimate, RunWork, imports_at_least};
pub use run::{RunEnded, run_export, run_export_in_step};
pub use sync::{Ledger, RESEND, Remembered, SyncMode, email_key, fingerprint};
pub use verify::{
    DriftCount, ExtraCause, LedgerCorrection, ListVerification, MissingCause, READ_BACK_REQUESTS,
    verify_list,
};
