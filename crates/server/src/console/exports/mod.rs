//! Data › Exports, by job: the list with search, the export form and its conversions, the
//! actions (Run, Run all, Duplicate, Detach, Remove), and the dry run.

mod actions;
mod draft;
mod dry_run;
mod form;
mod list;

pub(crate) use actions::{detach, duplicate, remove, run, run_all, verify};
pub(crate) use dry_run::dry_run;
pub(crate) use form::{create, edit, new, update};
pub(crate) use list::list;
