//! The export run: the members of one or more segments, streamed from the profiles, mapped
//! to Constant Contact's fields, checked, de-duplicated by email, batched within Constant
//! Contact's limits and imported into one list, with a report that accounts for every profile.

mod contacts;
mod dry_run;
mod error;
mod plan;
mod progress;
mod report;
mod run;

pub use dry_run::{DryRunReport, dry_run};
pub use error::ExportError;
pub use plan::{DEFAULT_MEMBER_LIMIT, ExportPlan, fewest_requests_to_send};
pub use progress::{NoProgress, Progress};
pub use report::{ActivityReport, ConstantContactCounters, RunOutcome, RunReport};
pub use run::run_export;
