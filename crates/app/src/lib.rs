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
//! - [`App::system`] shows the profile source, the request quota and the build (admins).
//! - [`App::alert_admin`] shows and tests the alert webhooks (admins); [`alerts::keep_sending`]
//!   delivers the alerts.
//! - [`App::sign_in`] and [`App::sign_out`] open and end sessions; [`App::session`] and
//!   [`App::caller_by_api_token`] say whom a request acts for.
//!
//! Errors carry a [`Code`] that gives each failure its HTTP status and stable text.

pub mod alerts;
pub mod audit;
mod caller;
pub mod connections;
pub mod error;
pub mod exclusions;
pub mod exports;
mod metered;
pub mod privacy;
pub mod runs;
pub mod schedule;
pub mod secrets;
pub mod segments;
pub mod sessions;
pub mod system;
pub mod triggers;
pub mod users;

pub use caller::{Admin, Caller, CallerToken, Contributor};
pub use error::{AppError, Code};

use std::sync::Arc;

use segsync_engine::Profiles;
use segsync_runs::RunEngine;
use segsync_store::Store;
use url::Url;

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
    /// The webhooks told of failed runs and connections that need re-authentication.
    alerts: Arc<alerts::AlertsConfig>,
    /// Where the console is reached, as links in alerts name it.
    public_url: Url,
    /// The sign-in limits and the failures counted per client address.
    sign_ins: Arc<sessions::SignIns>,
    /// Each connection's contact lists and custom fields of the last minute.
    look_ups: Arc<metered::LookUps>,
    /// How long what ages out is kept.
    retention: Arc<privacy::retention::RetentionConfig>,
}

/// What the application is configured with besides its run engine.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Where the console is reached, as links in alerts name it.
    pub public_url: Url,
    pub alerts: alerts::AlertsConfig,
    pub sign_in: sessions::SignInPolicy,
    /// How long a connection's contact lists and custom fields are kept once looked up.
    pub look_ups_kept_for: std::time::Duration,
    /// How long what ages out is kept (`[retention]`).
    pub retention: privacy::retention::RetentionConfig,
}

impl App {
    pub fn new(engine: RunEngine, settings: AppSettings) -> Self {
        Self {
            store: engine.store().clone(),
            engine,
            member_counts: Arc::default(),
            common_values: Arc::default(),
            passwords: Arc::new(users::PasswordPool::for_this_machine()),
            alerts: Arc::new(settings.alerts),
            public_url: settings.public_url,
            sign_ins: Arc::new(sessions::SignIns::new(settings.sign_in)),
            look_ups: Arc::new(metered::LookUps::new(settings.look_ups_kept_for)),
            retention: Arc::new(settings.retention),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What the cluster can do now, in words anyone may read (`/readyz`); none without a
    /// cluster.
    pub async fn cluster_readiness(&self) -> Option<String> {
        system::cluster_view(self).await.readiness()
    }

    /// The run engine: the clients of connections and the run queue.
    pub fn engine(&self) -> &RunEngine {
        &self.engine
    }

    /// Where passwords are hashed and checked, off the async workers and a few at a time.
    pub fn passwords(&self) -> &users::PasswordPool {
        &self.passwords
    }

    /// The configured profiles with their related tables, opened to be evaluated: in the
    /// process's evaluation pool, holding a place in it while they live; 429 `busy` when every
    /// place is taken.
    pub async fn profiles_to_evaluate(&self) -> Result<Profiles, AppError> {
        let place = self.engine.evaluations().try_place()?;
        Ok(self.engine.open_profiles(Some(place)).await?)
    }

    /// Whether a profile source is configured.
    pub fn has_profiles(&self) -> bool {
        self.engine.settings().profiles.is_some()
    }

    /// The configured profiles, opened with their related tables.
    pub async fn profiles(&self) -> Result<Profiles, AppError> {
        Ok(self.engine.open_profiles(None).await?)
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

    /// How long what ages out is kept.
    pub fn retention(&self) -> &privacy::retention::RetentionConfig {
        &self.retention
    }

    /// Telling segsync a source changed: contributors and admins.
    pub fn triggers<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<triggers::Triggers<'a>, AppError> {
        Ok(triggers::Triggers::new(self, caller.contributor(what)?))
    }

    /// Serving erasure and access requests: admins.
    pub fn privacy<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<privacy::Privacy<'a>, AppError> {
        Ok(privacy::Privacy::new(self, caller.admin(what)?))
    }

    /// Keeping the addresses no export may send: admins.
    pub fn exclusion_admin<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<exclusions::ExclusionAdmin<'a>, AppError> {
        Ok(exclusions::ExclusionAdmin::new(self, caller.admin(what)?))
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

    /// Seeing the alert webhooks and testing them: admins.
    pub fn alert_admin<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<alerts::AlertAdmin<'a>, AppError> {
        Ok(alerts::AlertAdmin::new(self, caller.admin(what)?))
    }

    /// The installation itself — its profile source, request quota and build: admins.
    pub fn system<'a>(
        &'a self,
        caller: &'a Caller,
        what: &str,
    ) -> Result<system::SystemAdmin<'a>, AppError> {
        Ok(system::SystemAdmin::new(self, caller.admin(what)?))
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
