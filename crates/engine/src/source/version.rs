//! A source's version, told cheaply and without reading its rows: a Delta table's latest
//! version from its log; for files, a fingerprint of the listing DataFusion would read (paths,
//! sizes, modification times and ETags); for PostgreSQL, the value of the configured
//! `changed_by` column (its maximum) or query. Equal versions mean the same data; a source whose
//! version cannot be told (PostgreSQL without `changed_by`) is said to be unknown.

use chrono::{DateTime, Utc};
use datafusion::prelude::SessionContext;
use object_store::ObjectMeta;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::files::{FilesAt, listed_files};
use super::object_stores::{look_at, store_for};
use super::{Place, ProfileFormat, ProfileSource, STORAGE_NEUTRAL_KEYS, delta, files, postgres};
use crate::error::{EngineError, SourcePart};

/// What a source holds now, as far as change goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceVersion {
    /// A Delta table's latest committed version.
    Delta { version: u64 },
    /// The files read: how many, their bytes, the latest modification, and a fingerprint of
    /// every path, size, modification time and ETag.
    Files {
        files: u64,
        bytes: u64,
        latest_modified: Option<DateTime<Utc>>,
        fingerprint: String,
    },
    /// A PostgreSQL table's `changed_by` value.
    Postgres { changed_by: String },
    /// A PostgreSQL table without `changed_by`: its changes cannot be told.
    Unknown,
}

impl SourceVersion {
    /// What is compared for change: equal tokens, same data. None when unknown.
    pub fn token(&self) -> Option<String> {
        match self {
            Self::Delta { version } => Some(format!("delta:{version}")),
            Self::Files { fingerprint, .. } => Some(format!("files:{fingerprint}")),
            Self::Postgres { changed_by } => Some(format!("postgres:{changed_by}")),
            Self::Unknown => None,
        }
    }

    /// The fingerprint of a listing.
    pub(crate) fn of_files(listed: &[ObjectMeta]) -> Self {
        let mut digest = Sha256::new();
        for file in listed {
            digest.update(file.location.as_ref().as_bytes());
            digest.update([0]);
            digest.update(file.size.to_le_bytes());
            digest.update(
                file.last_modified
                    .timestamp_nanos_opt()
                    .unwrap_or_default()
                    .to_le_bytes(),
            );
            digest.update(file.e_tag.as_deref().unwrap_or_default().as_bytes());
            digest.update([0]);
        }
        let fingerprint: String = digest.finalize()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self::Files {
            files: listed.len() as u64,
            bytes: listed.iter().map(|file| file.size).sum(),
            latest_modified: listed.iter().map(|file| file.last_modified).max(),
            fingerprint,
        }
    }
}

/// `Delta version 7`, `3 files, 12.4 MB, latest modified …`, `changed_by 2026-…`.
impl std::fmt::Display for SourceVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Delta { version } => write!(f, "Delta version {version}"),
            Self::Files {
                files,
                bytes,
                latest_modified,
                fingerprint,
            } => {
                write!(
                    f,
                    "{files} file{}, {bytes} bytes",
                    if *files == 1 { "" } else { "s" }
                )?;
                if let Some(at) = latest_modified {
                    write!(
                        f,
                        ", latest modified {}",
                        at.format("%Y-%m-%d %H:%M:%S UTC")
                    )?;
                }
                write!(f, " (fingerprint {fingerprint})")
            }
            Self::Postgres { changed_by } => write!(f, "changed_by {changed_by}"),
            Self::Unknown => f.write_str("unknown: give the PostgreSQL source `changed_by`"),
        }
    }
}

impl ProfileSource {
    /// The source's version now, told without reading its rows.
    pub async fn version(&self) -> Result<SourceVersion, EngineError> {
        let ctx = SessionContext::new();
        let configured = self.configured_format()?;
        match self.place()? {
            Place::Postgres(url) => {
                let value = postgres::changed_by(&url, &self.options)
                    .await
                    .map_err(|failure| self.failed(failure))?;
                Ok(value.map_or(SourceVersion::Unknown, |changed_by| {
                    SourceVersion::Postgres { changed_by }
                }))
            }
            Place::Local => {
                let path = self.local_path();
                let format = match configured {
                    Some(format) => format,
                    None => files::local_format(&path).map_err(|f| self.failed(f))?,
                };
                if format == ProfileFormat::Delta {
                    let absolute = std::path::absolute(&path)
                        .map_err(|error| self.problem(SourcePart::Path, error.to_string()))?;
                    let url = Url::from_directory_path(&absolute)
                        .map_err(|()| self.problem(SourcePart::Path, "not a folder".to_owned()))?;
                    return self.delta_version_at(url, None).await;
                }
                let listed = listed_files(&ctx, self, FilesAt::Local(&path), format).await?;
                Ok(SourceVersion::of_files(&listed))
            }
            Place::Store(url) => {
                let location = store_for(
                    &url,
                    &self.options,
                    configured.map_or(STORAGE_NEUTRAL_KEYS, ProfileFormat::own_keys),
                )
                .map_err(|failure| self.failed(failure))?;
                let listing = look_at(&location)
                    .await
                    .map_err(|failure| self.failed(failure))?;
                let format = match configured {
                    Some(format) => format,
                    None if listing.delta_log => ProfileFormat::Delta,
                    None => listing
                        .first_file
                        .as_deref()
                        .and_then(ProfileFormat::from_extension)
                        .unwrap_or(ProfileFormat::Parquet),
                };
                if format == ProfileFormat::Delta {
                    let mut table_url = url.clone();
                    if !table_url.path().ends_with('/') {
                        table_url.set_path(&format!("{}/", table_url.path()));
                    }
                    return self.delta_version_at(table_url, Some(&location)).await;
                }
                ctx.register_object_store(&location.root, location.store.clone());
                let at = FilesAt::Store {
                    url: &url,
                    first_file: listing.first_file.as_deref(),
                };
                let listed = listed_files(&ctx, self, at, format).await?;
                Ok(SourceVersion::of_files(&listed))
            }
        }
    }

    async fn delta_version_at(
        &self,
        url: Url,
        store: Option<&super::object_stores::StoreLocation>,
    ) -> Result<SourceVersion, EngineError> {
        // A source pinned to a version stays at it.
        if let Some(version) = self.delta_version()? {
            return Ok(SourceVersion::Delta { version });
        }
        let version = delta::latest_version(url, store)
            .await
            .map_err(|failure| self.failed(failure))?;
        Ok(SourceVersion::Delta { version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64, seconds: i64) -> ObjectMeta {
        ObjectMeta {
            location: path.into(),
            last_modified: DateTime::from_timestamp(seconds, 0).unwrap(),
            size,
            e_tag: None,
            version: None,
        }
    }

    #[test]
    fn a_listings_fingerprint_changes_with_any_path_size_or_time_and_nothing_else() {
        let listing = [file("a.parquet", 10, 100), file("b.parquet", 20, 200)];
        let same = SourceVersion::of_files(&listing.clone());
        assert_eq!(SourceVersion::of_files(&listing), same);
        for changed in [
            [file("a.parquet", 11, 100), file("b.parquet", 20, 200)],
            [file("a.parquet", 10, 101), file("b.parquet", 20, 200)],
            [file("a.parquet", 10, 100), file("c.parquet", 20, 200)],
        ] {
            assert_ne!(SourceVersion::of_files(&changed).token(), same.token());
        }
        let SourceVersion::Files { files, bytes, .. } = same else {
            panic!("files")
        };
        assert_eq!((files, bytes), (2, 30));
        assert_eq!(SourceVersion::Unknown.token(), None);
    }
}
