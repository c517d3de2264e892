//! Where profiles live, named one way everywhere (the server's configuration, the export file,
//! the command line): a location — a path, a glob, an `s3://`, `gs://` or `az://` URL, or a
//! `postgres://` URL — and options for the format and the storage.
//!
//! Files are Parquet, CSV or newline-delimited JSON, one or a folder or a glob; a folder with a
//! `_delta_log` is a Delta table; a `postgres://` location is a table or view.

mod append;
mod config;
mod delta;
mod delta_files;
mod files;
mod object_stores;
mod options;
mod postgres;
mod postgres_on_cluster;
mod postgres_pushdown;
mod values;
mod version;

use std::fmt;
use std::path::Path;

use datafusion::prelude::{DataFrame, SessionContext};
use url::Url;

pub(crate) use delta_files::DeltaFiles;
pub use options::{OptionError, SourceOptions};
pub(crate) use postgres_on_cluster::{PostgresOnCluster, PostgresShares};
pub use version::SourceVersion;

use crate::error::{EngineError, SourcePart};
use object_stores::{Failure, StoreLocation};

/// Who carries out the queries over what a source reads: this process, or a cluster's
/// executors (which read a Delta table's files and a PostgreSQL table themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Node,
    Cluster,
}

impl Reader {
    /// Who reads for queries evaluated with `settings`.
    pub(crate) fn of(settings: &crate::EngineSettings) -> Self {
        match settings.cluster {
            None => Self::Node,
            Some(_) => Self::Cluster,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFormat {
    Parquet,
    Csv,
    /// Newline-delimited JSON: one profile object per line.
    Json,
    /// A Delta Lake table: a folder of Parquet files and a `_delta_log`.
    Delta,
    /// A PostgreSQL table or view.
    Postgres,
}

impl ProfileFormat {
    /// Guesses from a file name: `.parquet`/`.pq`, `.csv`, `.json`/`.ndjson`/`.jsonl`.
    pub fn from_extension(name: &str) -> Option<Self> {
        let lower = name.to_lowercase();
        let extension = lower.rsplit('.').next()?;
        match extension {
            "parquet" | "pq" => Some(Self::Parquet),
            "csv" => Some(Self::Csv),
            "json" | "ndjson" | "jsonl" => Some(Self::Json),
            _ => None,
        }
    }

    /// The format a `format` option names.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" => Some(Self::Parquet),
            "csv" => Some(Self::Csv),
            "json" | "ndjson" | "jsonl" => Some(Self::Json),
            "delta" => Some(Self::Delta),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Delta => "delta",
            Self::Postgres => "postgres",
        }
    }

    /// The options this format reads itself; the others go to the storage.
    fn own_keys(self) -> &'static [&'static str] {
        match self {
            Self::Csv => &["format", "csv_delimiter"],
            Self::Delta => &["format", "version"],
            Self::Postgres => postgres::POSTGRES_KEYS,
            Self::Parquet | Self::Json => &["format"],
        }
    }
}

impl fmt::Display for ProfileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A profile source as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSource {
    /// A file, a folder, a glob such as `profiles/*.parquet`, or a URL.
    pub location: String,
    /// Guessed from the location when absent.
    pub format: Option<ProfileFormat>,
    /// The format's and the storage's options: `csv_delimiter`, `version` (Delta), `table`
    /// (PostgreSQL), `endpoint`, `region`, credentials…
    pub options: SourceOptions,
}

/// What a source was read as: its format and, for a Delta table, the version read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSnapshot {
    pub format: ProfileFormat,
    pub delta_version: Option<u64>,
}

/// Where the location points.
enum Place {
    Local,
    Store(Url),
    Postgres(Url),
}

impl ProfileSource {
    pub fn new(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            format: None,
            options: SourceOptions::default(),
        }
    }

    pub fn with_format(mut self, format: ProfileFormat) -> Self {
        self.format = Some(format);
        self
    }

    pub fn with_option(mut self, key: &str, value: impl Into<String>) -> Self {
        self.options.set(key, value);
        self
    }

    /// The location as it may be shown: a password in a URL is replaced.
    pub fn display_location(&self) -> String {
        match Url::parse(&self.location) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("(secret)"));
                url.to_string()
            }
            _ => self.location.clone(),
        }
    }

    /// A path relative to `base` (the folder of the file that configured it); URLs and absolute
    /// paths stay as they are.
    pub fn relative_to(mut self, base: &Path) -> Self {
        if !self.location.contains("://") && !Path::new(&self.location).is_absolute() {
            self.location = base.join(&self.location).to_string_lossy().into_owned();
        }
        self
    }

    fn place(&self) -> Result<Place, EngineError> {
        if !self.location.contains("://") {
            return Ok(Place::Local);
        }
        let url = Url::parse(&self.location)
            .map_err(|error| self.problem(SourcePart::Path, format!("not a URL: {error}")))?;
        Ok(match url.scheme() {
            "file" => Place::Local,
            "postgres" | "postgresql" => Place::Postgres(url),
            _ => Place::Store(url),
        })
    }

    /// Whether the location is in object storage (`s3://`, `gs://`, `az://`).
    pub fn is_in_object_storage(&self) -> bool {
        matches!(self.place(), Ok(Place::Store(_)))
    }

    /// The format the configuration or the `format` option names; otherwise `read` tells it
    /// from the name or from what is there.
    fn configured_format(&self) -> Result<Option<ProfileFormat>, EngineError> {
        if self.format.is_some() {
            return Ok(self.format);
        }
        match self.options.get("format") {
            Ok(None) => Ok(None),
            Ok(Some(name)) => ProfileFormat::from_name(&name).map(Some).ok_or_else(|| {
                self.problem(
                    SourcePart::Options,
                    format!("format is parquet, csv, json, delta or postgres, not {name:?}"),
                )
            }),
            Err(error) => Err(self.problem(SourcePart::Options, error.to_string())),
        }
    }

    fn local_path(&self) -> std::path::PathBuf {
        match self.location.strip_prefix("file://") {
            Some(path) => path.into(),
            None => self.location.clone().into(),
        }
    }

    /// The files this source reads, for naming the one that fails. Globs and folders on the
    /// local disk are listed; other locations are returned as they are.
    pub fn files(&self) -> Vec<String> {
        match (self.place(), self.configured_format()) {
            (Ok(Place::Local), Ok(format)) if format != Some(ProfileFormat::Delta) => {
                files::local_files(&self.location, format)
            }
            _ => vec![self.location.clone()],
        }
    }

    /// Reads the source into a DataFrame, discovering its schema.
    pub(crate) async fn read(
        &self,
        ctx: &SessionContext,
        reader: Reader,
    ) -> Result<(DataFrame, SourceSnapshot), EngineError> {
        let configured = self.configured_format()?;
        let snapshot = |format, delta_version| SourceSnapshot {
            format,
            delta_version,
        };
        match self.place()? {
            Place::Postgres(url) => {
                let frame = postgres::read_postgres(ctx, &url, &self.options, reader)
                    .await
                    .map_err(|failure| self.failed(failure))?;
                Ok((frame, snapshot(ProfileFormat::Postgres, None)))
            }
            Place::Local => {
                let path = self.local_path();
                let format = match configured {
                    Some(format) => format,
                    None => files::local_format(&path).map_err(|f| self.failed(f))?,
                };
                self.check_local_options(format)?;
                if format == ProfileFormat::Delta {
                    let absolute = std::path::absolute(&path)
                        .map_err(|error| self.problem(SourcePart::Path, error.to_string()))?;
                    let url = Url::from_directory_path(&absolute)
                        .map_err(|()| self.problem(SourcePart::Path, "not a folder".to_owned()))?;
                    let read = delta::read_delta(ctx, url, None, self.delta_version()?, reader)
                        .await
                        .map_err(|failure| self.failed(failure))?;
                    return Ok((read.frame, snapshot(format, Some(read.version))));
                }
                let frame = files::read_local(ctx, self, &path, format).await?;
                Ok((frame, snapshot(format, None)))
            }
            Place::Store(url) => {
                let location = object_stores::store_for(
                    &url,
                    &self.options,
                    configured.map_or(STORAGE_NEUTRAL_KEYS, ProfileFormat::own_keys),
                )
                .map_err(|failure| self.failed(failure))?;
                let listing = object_stores::look_at(&location)
                    .await
                    .map_err(|failure| self.failed(failure))?;
                let format = match configured {
                    Some(format) => format,
                    None if listing.delta_log => ProfileFormat::Delta,
                    None => listing
                        .first_file
                        .as_deref()
                        .and_then(ProfileFormat::from_extension)
                        .ok_or_else(|| {
                            self.problem(
                                SourcePart::Format,
                                "no .parquet, .csv, .json file or Delta table here; say the format"
                                    .to_owned(),
                            )
                        })?,
                };
                ctx.register_object_store(&location.root, location.store.clone());
                if format == ProfileFormat::Delta {
                    let read = self
                        .read_delta_in_store(ctx, &url, &location, reader)
                        .await?;
                    return Ok((read.frame, snapshot(format, Some(read.version))));
                }
                let frame =
                    files::read_in_store(ctx, self, &url, format, listing.first_file.as_deref())
                        .await?;
                Ok((frame, snapshot(format, None)))
            }
        }
    }

    async fn read_delta_in_store(
        &self,
        ctx: &SessionContext,
        url: &Url,
        location: &StoreLocation,
        reader: Reader,
    ) -> Result<delta::DeltaRead, EngineError> {
        let mut table_url = url.clone();
        if !table_url.path().ends_with('/') {
            table_url.set_path(&format!("{}/", table_url.path()));
        }
        delta::read_delta(
            ctx,
            table_url,
            Some(location),
            self.delta_version()?,
            reader,
        )
        .await
        .map_err(|failure| self.failed(failure))
    }

    fn delta_version(&self) -> Result<Option<u64>, EngineError> {
        match self.options.get("version") {
            Ok(None) => Ok(None),
            Ok(Some(text)) => text.trim().parse().map(Some).map_err(|_| {
                self.problem(
                    SourcePart::Options,
                    format!("version is a Delta table's version number, not {text:?}"),
                )
            }),
            Err(error) => Err(self.problem(SourcePart::Options, error.to_string())),
        }
    }

    /// A local source reads no storage options: every option must be its format's.
    fn check_local_options(&self, format: ProfileFormat) -> Result<(), EngineError> {
        match self
            .options
            .keys()
            .find(|key| !format.own_keys().contains(key))
        {
            Some(unknown) => Err(self.problem(
                SourcePart::Options,
                format!(
                    "{unknown:?} is not an option of a local {format} source ({})",
                    format.own_keys().join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    pub(crate) fn problem(&self, part: SourcePart, problem: String) -> EngineError {
        EngineError::Source {
            location: self.display_location(),
            part,
            problem,
        }
    }

    fn failed(&self, (part, problem): Failure) -> EngineError {
        self.problem(part, problem)
    }
}

/// Before the format is known, the options no storage reads.
const STORAGE_NEUTRAL_KEYS: &[&str] = &["format", "csv_delimiter", "version"];

/// The object store a `scheme://bucket/…` URL names (S3 and S3-compatible, Google Cloud
/// Storage, Azure Blob), built from storage `options` and the platform's credential chain: what
/// a cluster's executor builds for the locations a node's plans read.
pub fn object_store_for(
    url: &Url,
    options: &SourceOptions,
) -> Result<std::sync::Arc<dyn object_store::ObjectStore>, EngineError> {
    object_stores::store_for(url, options, STORAGE_NEUTRAL_KEYS)
        .map(|location| location.store)
        .map_err(|failure| ProfileSource::new(url.as_str()).failed(failure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions_and_names() {
        assert_eq!(
            ProfileFormat::from_extension("a/b/profiles.PARQUET"),
            Some(ProfileFormat::Parquet)
        );
        assert_eq!(
            ProfileFormat::from_extension("p.jsonl"),
            Some(ProfileFormat::Json)
        );
        assert_eq!(
            ProfileFormat::from_extension("p.csv"),
            Some(ProfileFormat::Csv)
        );
        assert_eq!(ProfileFormat::from_extension("p.xlsx"), None);
        assert_eq!(
            ProfileFormat::from_name("Delta"),
            Some(ProfileFormat::Delta)
        );
    }

    #[test]
    fn a_password_in_the_location_is_never_shown() {
        let source = ProfileSource::new("postgres://ada:hunter2@db.example.com:5432/crm");
        let shown = source.display_location();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.example.com:5432/crm"), "{shown}");
    }
}
