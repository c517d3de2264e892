//! Runs that follow the data. An export whose schedule is `on_change` runs when the sources its
//! segments read — the profiles, and the related tables they test — changed since its last
//! successful run and have settled (the same version for `settle_seconds`: a load in progress
//! is not a change yet), at most `max_runs_per_day` times a day and not within
//! `min_minutes_between` of its last run. Every node watches (`watch_seconds`, cheap calls
//! only: a Delta log, a listing, a `changed_by` value); the store's one-active-run-per-export
//! rule and the versions recorded in the run's report make one change start one run. A pipeline
//! says a source changed (`source_changed`) and the dependent exports run at once, within the
//! same limits. A clock schedule may skip an export whose sources did not change since its last
//! successful run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use segsync_domain::ChainExt;
use segsync_domain::run_report::SourceRead;
use segsync_domain::segment::Rule;
use segsync_engine::ProfileSource;
use segsync_store::{Export, Run, RunFilter, RunPurpose, RunStatus, Store, Trigger};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::schedule::{schedule_of, system_schedule};
use crate::start::Started;
use crate::{RunEngine, RunsError};

/// The name of the profiles among the sources.
pub const PROFILES: &str = "profiles";

/// How the watcher looks and how often on-change runs may start (`[schedule]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchConfig {
    /// How often the sources are looked at, in seconds; 0 watches nothing (pipelines still
    /// trigger).
    pub watch_seconds: u64,
    /// How long a source must keep one version before its change counts, in seconds.
    pub settle_seconds: u64,
    /// The most on-change and pipeline runs of one export a day (UTC).
    pub max_runs_per_day: u32,
    /// The least time between two runs of one export started by a change, in minutes.
    pub min_minutes_between: u32,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self {
            watch_seconds: 60,
            settle_seconds: 120,
            max_runs_per_day: 24,
            min_minutes_between: 15,
        }
    }
}

/// What this node saw of each source: its version's display, and since when.
#[derive(Debug, Default)]
pub struct Sightings {
    seen: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
}

impl Sightings {
    /// Notes `version` of `source` at `now`; whether it has kept it for `settle`.
    fn settled(&self, source: &str, version: &str, now: DateTime<Utc>, settle: Duration) -> bool {
        let mut seen = self
            .seen
            .lock()
            .expect("the sightings' lock is never poisoned");
        let since = match seen.get(source) {
            Some((known, since)) if known == version => *since,
            _ => {
                seen.insert(source.to_owned(), (version.to_owned(), now));
                now
            }
        };
        now - since >= chrono::Duration::from_std(settle).unwrap_or_default()
    }
}

/// What became of one export when a pipeline said a source changed.
#[derive(Debug)]
pub enum Triggered {
    Started(Box<Started>),
    /// Not started, and why.
    Held {
        export: Uuid,
        reason: String,
    },
}

impl RunEngine {
    /// The sources `export` reads: the profiles, and the related tables its segments (and the
    /// segments they use) test.
    pub async fn sources_of(&self, export: &Export) -> Result<BTreeSet<String>, RunsError> {
        let segments = self.store.segments().await?;
        let rules: BTreeMap<&str, Rule> = segments
            .iter()
            .map(|segment| (segment.name.as_str(), segment.definition().rule))
            .collect();
        let mut names: Vec<&str> = segments
            .iter()
            .filter(|segment| export.segment_ids.contains(&segment.id))
            .map(|segment| segment.name.as_str())
            .collect();
        let mut visited = BTreeSet::new();
        let mut sources = BTreeSet::from([PROFILES.to_owned()]);
        while let Some(name) = names.pop() {
            if !visited.insert(name) {
                continue;
            }
            if let Some(rule) = rules.get(name) {
                sources.extend(rule.related_tables().into_iter().map(str::to_owned));
                names.extend(rule.references());
            }
        }
        Ok(sources)
    }

    fn source_named(&self, name: &str) -> Option<&ProfileSource> {
        if name == PROFILES {
            return self.settings.profiles.as_ref();
        }
        self.settings
            .related
            .iter()
            .find(|table| table.name == name)
            .map(|table| &table.source)
    }

    /// The version of each named source now, as a report records it; none for a source whose
    /// version cannot be told.
    async fn versions_now(
        &self,
        names: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, Option<String>>, RunsError> {
        let mut versions = BTreeMap::new();
        for name in names {
            let Some(source) = self.source_named(name) else {
                continue;
            };
            let version = source.version().await?;
            versions.insert(name.clone(), version.token().map(|_| version.to_string()));
        }
        Ok(versions)
    }

    /// One look at the sources: starts the on-change runs their settled changes call for.
    pub async fn watch_once(
        &self,
        sightings: &Sightings,
        now: DateTime<Utc>,
    ) -> Result<Vec<Started>, RunsError> {
        let system = system_schedule(&self.store).await?;
        let mut dependents = Vec::new();
        for export in self.store.exports().await? {
            // An export that cannot run (detached, or no export user) waits quietly: a run
            // recorded skipped at every look would bury its history.
            let Some(connection_id) = export.connection_id else {
                continue;
            };
            if !schedule_of(&export, &system).on_change()
                || self
                    .store
                    .connection(connection_id)
                    .await?
                    .export_user_id
                    .is_none()
            {
                continue;
            }
            let sources = self.sources_of(&export).await?;
            dependents.push((export, sources));
        }
        if dependents.is_empty() {
            return Ok(Vec::new());
        }
        let watched: BTreeSet<String> = dependents
            .iter()
            .flat_map(|(_, sources)| sources.iter().cloned())
            .collect();
        let versions = self.versions_now(&watched).await?;
        let settle = Duration::from_secs(self.settings.watch.settle_seconds);
        let settled: BTreeSet<&str> = versions
            .iter()
            .filter_map(|(name, version)| {
                let version = version.as_deref()?;
                sightings
                    .settled(name, version, now, settle)
                    .then_some(name.as_str())
            })
            .collect();
        let mut started = Vec::new();
        for (export, sources) in &dependents {
            if !sources
                .iter()
                .all(|source| settled.contains(source.as_str()))
            {
                continue;
            }
            if self
                .unchanged_since(export, sources, &versions)
                .await?
                .is_some()
            {
                continue;
            }
            if self.held_back(export, now).await?.is_some() {
                continue;
            }
            if let Some(outcome) = self.start_quietly(export, Trigger::OnChange).await? {
                info!(export = %export.id, "A change of the data started a run.");
                started.push(outcome);
            }
        }
        Ok(started)
    }

    /// A pipeline's word that `source` (every source when none) changed: the on-change exports
    /// that read it start now, within the day's and the interval's limits.
    pub async fn source_changed(
        &self,
        source: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Triggered>, RunsError> {
        let system = system_schedule(&self.store).await?;
        let mut answers = Vec::new();
        for export in self.store.exports().await? {
            if !schedule_of(&export, &system).on_change() {
                continue;
            }
            if let Some(source) = source
                && !self.sources_of(&export).await?.contains(source)
            {
                continue;
            }
            if let Some(reason) = self.held_back(&export, now).await? {
                answers.push(Triggered::Held {
                    export: export.id,
                    reason,
                });
                continue;
            }
            let outcome = self.start(&export, Trigger::Pipeline, None).await?;
            info!(export = %export.id, "A pipeline's word started a run.");
            answers.push(Triggered::Started(Box::new(outcome)));
        }
        Ok(answers)
    }

    /// When the export's `sources` are at the versions its last successful run read: that
    /// run's end. Unknown versions never count as unchanged.
    pub async fn unchanged_since(
        &self,
        export: &Export,
        sources: &BTreeSet<String>,
        versions: &BTreeMap<String, Option<String>>,
    ) -> Result<Option<DateTime<Utc>>, RunsError> {
        let Some(last) = last_successful_sync(&self.store, export.id).await? else {
            return Ok(None);
        };
        let Some(report) = &last.report else {
            return Ok(None);
        };
        let read = recorded_versions(&report.source);
        let same = sources.iter().all(|name| {
            let now = versions.get(name).cloned().flatten();
            now.is_some() && read.get(name.as_str()).cloned().flatten() == now
        });
        Ok(same.then_some(last.finished_at.unwrap_or(last.queued_at)))
    }

    /// Why a change may not start a run of `export` now: the day's most, or too soon after the
    /// last.
    async fn held_back(
        &self,
        export: &Export,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, RunsError> {
        let watch = &self.settings.watch;
        let recent = self
            .store
            .runs(
                &RunFilter {
                    export_id: Some(export.id),
                    status: None,
                },
                watch.max_runs_per_day + 1,
                0,
            )
            .await?;
        let today = now.date_naive();
        let followed = recent
            .iter()
            .filter(|run| matches!(run.trigger, Trigger::OnChange | Trigger::Pipeline))
            .filter(|run| run.status != RunStatus::Skipped)
            .filter(|run| run.queued_at.date_naive() == today)
            .count();
        if followed >= watch.max_runs_per_day as usize {
            return Ok(Some(format!(
                "{followed} runs started by changes today, the most a day ([schedule] max_runs_per_day)"
            )));
        }
        let between = chrono::Duration::minutes(i64::from(watch.min_minutes_between));
        if let Some(last) = recent.iter().find(|run| run.status != RunStatus::Skipped)
            && now - last.queued_at < between
        {
            return Ok(Some(format!(
                "the last run was queued at {}, less than {} minutes ago ([schedule] min_minutes_between)",
                last.queued_at.format("%Y-%m-%d %H:%M:%S UTC"),
                watch.min_minutes_between
            )));
        }
        Ok(None)
    }

    /// Starts a run unless one of the export is going (another node may have just started it):
    /// nothing is recorded then.
    async fn start_quietly(
        &self,
        export: &Export,
        trigger: Trigger,
    ) -> Result<Option<Started>, RunsError> {
        Ok(self.start_unless_going(export, trigger, None).await?.ok())
    }

    /// The clock's check before a scheduled run: an export whose schedule skips unchanged
    /// data, and whose sources are as its last successful run read them, is recorded skipped.
    pub(crate) async fn skip_if_unchanged(
        &self,
        export: &Export,
    ) -> Result<Option<Run>, RunsError> {
        let sources = self.sources_of(export).await?;
        let versions = self.versions_now(&sources).await?;
        let Some(since) = self.unchanged_since(export, &sources, &versions).await? else {
            return Ok(None);
        };
        let reason = format!(
            "unchanged since {}: the sources are as the last successful run read them",
            since.format("%Y-%m-%d %H:%M:%S UTC")
        );
        Ok(Some(
            self.store
                .record_skipped_run(export.id, Trigger::Schedule, None, &reason)
                .await?,
        ))
    }
}

/// The versions a report recorded, by source name.
fn recorded_versions(read: &SourceRead) -> BTreeMap<&str, Option<String>> {
    let mut versions = BTreeMap::from([(PROFILES, read.profiles.version.clone())]);
    for related in &read.related {
        versions.insert(related.name.as_str(), related.read.version.clone());
    }
    versions
}

/// The export's latest run that succeeded in sending (not a reading of the list).
async fn last_successful_sync(store: &Store, export_id: Uuid) -> Result<Option<Run>, RunsError> {
    let runs = store
        .runs(
            &RunFilter {
                export_id: Some(export_id),
                status: Some(RunStatus::Succeeded),
            },
            20,
            0,
        )
        .await?;
    Ok(runs.into_iter().find(|run| run.purpose == RunPurpose::Sync))
}

/// Watches until `stopping` is cancelled.
pub(crate) async fn keep_watching(engine: RunEngine, stopping: CancellationToken) {
    let every = Duration::from_secs(engine.settings.watch.watch_seconds);
    let sightings = Sightings::default();
    loop {
        if let Err(error) = engine.watch_once(&sightings, Utc::now()).await {
            warn!(error = %error.chain(), "The sources could not be watched; the watcher tries again.");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stopping.cancelled() => return,
        }
    }
}
