//! Prepare: everything a run (or a dry run) needs, gathered from the stored export before
//! anything is sent.

use chrono::Utc;
use constant_contact::ConstantContact;
use segsync_domain::segment::RunClock;
use segsync_domain::{ChainExt, Email};
use segsync_domain::{FieldMapping, VerifySchedule};
use segsync_engine::{EngineError, EvaluationPlace, Profiles};
use segsync_export::{Exclusions, ExportPlan, GuardPlan, KEYED_HASH_BYTES, email_key};
use segsync_store::{Connection, LedgerOf, Role, Run};
use std::sync::Arc;
use uuid::Uuid;

use crate::RunEngine;
use crate::failure::RunFailure;
use crate::privacy_key::installation_hash_key;
use crate::schedule::system_schedule;
use crate::stored_segments::catalogue;

/// Everything a run needs, gathered before anything is sent.
pub struct Prepared {
    pub connection: Connection,
    pub client: ConstantContact,
    pub profiles: Profiles,
    pub plan: ExportPlan,
    /// Where the export's ledger for its list is.
    pub ledger_of: LedgerOf,
    /// When the export reads its list back.
    pub verify: VerifySchedule,
    /// Each source's version before anything was read.
    pub versions: super::SourceVersions,
}

impl RunEngine {
    /// What runs exclude: the exclusions admins keep and the tombstones of erased addresses
    /// (keyed hashes, with the installation's key), and the addresses the exclusions source
    /// holds now.
    pub async fn exclusions(&self) -> Result<Arc<Exclusions>, RunFailure> {
        let mut exclusions = Exclusions::default();
        let stored = self.store.exclusion_hashes().await?;
        let tombstones = self.store.tombstone_hashes().await?;
        if !stored.is_empty() || !tombstones.is_empty() {
            let key = installation_hash_key(&self.store, self.clients.sealer())
                .await
                .map_err(|error| RunFailure::Exclusions(error.to_string()))?;
            exclusions.stored.key = key;
            exclusions.stored.hashes = stored.iter().filter_map(|hex| from_hex(hex)).collect();
            exclusions.tombstones.key = key;
            exclusions.tombstones.hashes =
                tombstones.iter().filter_map(|hex| from_hex(hex)).collect();
        }
        if let Some(source) = &self.settings.exclusions_source {
            source
                .source
                .each_text(&source.email_column, |text| {
                    if let Ok(email) = Email::parse(text) {
                        exclusions.source_keys.insert(email_key(email.as_str()));
                    }
                })
                .await
                .map_err(|error| {
                    RunFailure::Exclusions(format!("the exclusions source: {}", error.chain()))
                })?;
        }
        Ok(Arc::new(exclusions))
    }

    /// What `run` needs, once the user it acts as may still run exports: an export user
    /// disabled or demoted since the run was queued (a scheduled run queues as the export user
    /// of the moment) fails the run before anything is read or sent.
    pub async fn prepare_run(&self, run: &Run) -> Result<Prepared, RunFailure> {
        if let Some(acting_user) = run.acting_user {
            let user = self.store.user(acting_user).await?;
            let why = if user.disabled {
                Some("disabled")
            } else if user.role != Role::Admin {
                Some("no longer an admin")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(RunFailure::ExportUserMayNotRun {
                    username: user.username,
                    why,
                });
            }
        }
        self.prepare(run.export_id, None).await
    }

    /// The plan, client and profiles for a run of the export, or why the run cannot start. With
    /// `place` (a dry run's), the profiles are opened in the process's evaluation pool; without,
    /// in a memory limit of their own (a run's).
    pub async fn prepare(
        &self,
        export_id: Uuid,
        place: Option<EvaluationPlace>,
    ) -> Result<Prepared, RunFailure> {
        let export = self.store.export(export_id).await?;
        let connection_id = export.connection_id.ok_or(RunFailure::Detached)?;
        let connection = self.store.connection(connection_id).await?;
        tracing::Span::current().record("connection", tracing::field::display(connection.id));
        let client = self.clients.for_connection(&connection)?;
        let mut segments = Vec::new();
        for id in &export.segment_ids {
            let segment = self.store.segment(*id).await?;
            if !segment.active {
                return Err(RunFailure::SegmentInactive { name: segment.name });
            }
            segments.push(segment.definition());
        }
        let mapping =
            FieldMapping::from_names(&export.mapping).map_err(RunFailure::MappingInvalid)?;
        let time_zone = system_schedule(&self.store).await?.time_zone;
        let catalogue = catalogue(&self.store).await?;
        // Told before anything is read, so a load that lands during the run shows at its end.
        let versions = self.source_versions().await?;
        let profiles = self.open_profiles(place).await?;
        let clock = RunClock::new(Utc::now(), time_zone);
        // A stored segment that no longer fits the profiles (an attribute gone, a referred
        // segment changed) fails the run naming it and every problem, before anything is sent.
        for segment in &segments {
            if let Err(EngineError::Segment(problems)) =
                profiles.segment_expr(segment, &catalogue, &clock)
            {
                return Err(RunFailure::SegmentInvalid {
                    name: segment.name.clone(),
                    problems: problems.0,
                });
            }
        }
        // What the guards compare with is read when the plan is carried out (`perform`,
        // `dry_run`), on the one path of every run.
        let guard = GuardPlan {
            guards: export.guards,
            ..GuardPlan::default()
        };
        let exclusions = self.exclusions().await?;
        let plan = ExportPlan::new(segments, mapping, export.list_id, clock)
            .with_exclusions(exclusions)
            .with_catalogue(catalogue)
            .with_member_limit(self.settings.member_limit)
            .with_mode(export.sync_mode)
            .with_guard(guard);
        Ok(Prepared {
            connection,
            client,
            profiles,
            plan,
            ledger_of: LedgerOf {
                export_id: export.id,
                list_id: export.list_id,
            },
            verify: export.verify,
            versions,
        })
    }
}

/// A keyed hash from its hex; none for text that is not one.
fn from_hex(hex: &str) -> Option<[u8; KEYED_HASH_BYTES]> {
    let mut hash = [0; KEYED_HASH_BYTES];
    if hex.len() != KEYED_HASH_BYTES * 2 {
        return None;
    }
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(hash)
}
