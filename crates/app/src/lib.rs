//! What segsync does, once. Each use case lives here, and the API, the console and the command
//! line are adapters over it: they read the request, call the use case, and show its answer or
//! its [`AppError`].
//!
//! A use case is reached through a handle that the caller's role allows, so the role rules are
//! in the types rather than in checks spread over handlers:
//!
//! - [`App::connections`] reads connections as the caller's role shows them;
//!   [`App::connection_admin`] creates, changes, authenticates and removes them (admins).
//! - [`App::exports`] reads exports (every signed-in caller); [`App::export_changes`] saves,
//!   duplicates, detaches and removes them (contributors and admins, on connections they may
//!   use).
//! - [`App::segments`] reads, checks, counts and previews segments; [`App::segment_changes`]
//!   creates, changes, (de)activates, removes and imports them.
//! - [`App::user_admin`] manages users and reads the audit log (admins); [`App::account`] is
//!   the caller's own password and API tokens.
//! - [`App::schedule`] reads the refresh schedule; [`App::change_schedule`] takes an
//!   [`Admin`].
//! - [`App::runs`] reads runs; [`App::run_control`] starts, cancels and dry-runs them.
//!
//! Errors carry a [`Code`] that gives each failure its HTTP status and stable text.

pub mod audit;
mod caller;
pub mod connections;
pub mod error;
pub mod exports;
pub mod runs;
pub mod schedule;
pub mod secrets;
pub mod segments;
pub mod users;

pub use caller::{Admin, Caller, Contributor};
pub use error::{AppError, Code};

use std::sync::Arc;

use segsync_engine::Profiles;
use segsync_runs::RunEngine;
use segsync_runs::stored_segments::open_profiles;
use segsync_store::Store;

/// The application: the store and the run engine every use case works with.
#[derive(Clone)]
pub struct App {
    store: Store,
    engine: RunEngine,
    /// Each segment's member count, evaluated again only when what it depends on changed.
    member_counts: Arc<segments::MemberCounts>,
    /// The common values of attributes the segment builder offers, kept the same way.
    common_values: Arc<segments::CommonValues>,
    /// Where passwords are hashed and checked, a few at a time.
    passwords: Arc<users::PasswordPool>,
}

impl App {
    pub fn new(engine: RunEngine) -> Self {
        Self {
            store: engine.store().clone(),
            engine,
            member_counts: Arc::default(),
            common_values: Arc::default(),
            passwords: Arc::new(users::PasswordPool::for_this_machine()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The run engine: the clients of connections and the run queue.
    pub fn engine(&self) -> &RunEngine {
        &self.engine
    }

    /// Where passwords are hashed and checked, off the async workers and a few at a time.
    pub fn passwords(&self) -> &users::PasswordPool {
        &self.passwords
    }

    /// Whether a profile source is configured.
    pub fn has_profiles(&self) -> bool {
        self.engine.settings().profiles.is_some()
    }

    /// The configured profiles, opened with their related tables.
    pub async fn profiles(&self) -> Result<Profiles, AppError> {
        let settings = self.engine.settings();
        Ok(open_profiles(
            settings.profiles.as_ref(),
            &settings.related,
            &settings.engine,
        )
        .await?)
    }

    /// Reading connections (as much as the caller's role shows) and the lists and custom fields
    /// of those the caller may use: every signed-in caller.
    pub fn connections<'a>(&'a self, caller: &'a Caller) -> connections::Connections<'a> {
        connections::Connections::new(self, caller)
    }

    /// Creating, changing, authenticating and removing connections: admins.
    pub fn connection_admin<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<connections::ConnectionAdmin<'a>, AppError> {
        Ok(connections::ConnectionAdmin::new(self, caller.admin(what)?))
    }

    /// Reading exports: every signed-in caller.
    pub fn exports<'a>(&'a self, caller: &'a Caller) -> exports::Exports<'a> {
        exports::Exports::new(self, caller)
    }

    /// Changing exports: contributors and admins.
    pub fn export_changes<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<exports::ExportChanges<'a>, AppError> {
        Ok(exports::ExportChanges::new(self, caller.contributor(what)?))
    }

    /// Reading, checking, counting and previewing segments: every signed-in caller.
    pub fn segments<'a>(&'a self, caller: &'a Caller) -> segments::Segments<'a> {
        segments::Segments::new(self, caller)
    }

    /// Creating, changing, (de)activating, removing and importing segments: contributors and
    /// admins.
    pub fn segment_changes<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<segments::SegmentChanges<'a>, AppError> {
        Ok(segments::SegmentChanges::new(
            self,
            caller.contributor(what)?,
        ))
    }

    /// Managing users and reading the audit log: admins.
    pub fn user_admin<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<users::UserAdmin<'a>, AppError> {
        Ok(users::UserAdmin::new(self, caller.admin(what)?))
    }

    /// The caller's own account: their password and API tokens.
    pub fn account<'a>(&'a self, caller: &'a Caller) -> users::Account<'a> {
        users::Account::new(self, caller)
    }

    /// Reading runs: every signed-in caller.
    pub fn runs<'a>(&'a self, caller: &'a Caller) -> runs::Runs<'a> {
        runs::Runs::new(self, caller)
    }

    /// Starting, cancelling and dry-running runs: contributors and admins, on exports they may
    /// manage.
    pub fn run_control<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<runs::RunControl<'a>, AppError> {
        Ok(runs::RunControl::new(self, caller.contributor(what)?))
    }
}
