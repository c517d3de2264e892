//! One load per run: the version of each source (the profiles and every related table) is
//! told when the run begins and again when it ends. A Delta table is read at one version from
//! start to end anyway; files and PostgreSQL rows are read afresh by each pass, so a listing or
//! `changed_by` value that moved during the run fails it with "… changed while the run read
//! them" instead of leaving a list built from two loads unremarked. The report records the
//! versions read.

use segsync_domain::run_report::SourceRead;
use segsync_engine::{ProfileSource, SourceVersion};

use crate::RunEngine;
use crate::error::RunsError;
use crate::failure::RunFailure;

/// Each source's version when the run began: the profiles first, then the related tables.
#[derive(Debug, Clone, Default)]
pub struct SourceVersions {
    tables: Vec<(String, ProfileSource, SourceVersion)>,
}

impl RunEngine {
    /// The version of every source a run reads, now.
    pub async fn source_versions(&self) -> Result<SourceVersions, RunFailure> {
        let mut tables = Vec::new();
        if let Some(profiles) = &self.settings.profiles {
            tables.push(("profiles".to_owned(), profiles.clone()));
        }
        for related in &self.settings.related {
            tables.push((
                format!("related table {:?}", related.name),
                related.source.clone(),
            ));
        }
        SourceVersions::told(tables).await
    }
}

impl SourceVersions {
    /// The version of each named source, now.
    pub async fn told(tables: Vec<(String, ProfileSource)>) -> Result<Self, RunFailure> {
        let mut versions = Self::default();
        for (name, source) in tables {
            let version = source
                .version()
                .await
                .map_err(|error| RunFailure::Setup(RunsError::from(error)))?;
            versions.tables.push((name, source, version));
        }
        Ok(versions)
    }

    /// The version of the sources `profiles` read, now.
    pub async fn of_profiles(profiles: &segsync_engine::Profiles) -> Result<Self, RunFailure> {
        let mut tables = vec![("profiles".to_owned(), profiles.source().clone())];
        tables.extend(profiles.related_reads().map(|(related, _)| {
            (
                format!("related table {:?}", related.name),
                related.source.clone(),
            )
        }));
        Self::told(tables).await
    }

    /// Writes each version into the report's account of what was read.
    pub fn record_in(&self, read: &mut SourceRead) {
        let mut versions = self
            .tables
            .iter()
            .map(|(_, _, version)| version.to_string());
        read.profiles.version = versions.next();
        for (related, version) in read.related.iter_mut().zip(versions) {
            related.read.version = Some(version);
        }
    }

    /// The first source whose files or rows changed since, if any. Delta tables are left out:
    /// a run reads them at one version whatever is committed meanwhile.
    pub async fn changed_since(&self) -> Result<(), RunFailure> {
        for (table, source, before) in &self.tables {
            if matches!(before, SourceVersion::Delta { .. } | SourceVersion::Unknown) {
                continue;
            }
            let now = source
                .version()
                .await
                .map_err(|error| RunFailure::Setup(RunsError::from(error)))?;
            if now.token() != before.token() {
                return Err(RunFailure::SourceChanged {
                    table: table.clone(),
                    before: before.to_string(),
                    now: now.to_string(),
                });
            }
        }
        Ok(())
    }
}
