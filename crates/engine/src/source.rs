//! Where profiles live: a Parquet, CSV or newline-delimited JSON file, a folder of them, or a
//! glob. The location is a URL DataFusion's object store understands, so `s3://`, `gs://` and
//! `az://` sources need only their object store registered, not a new reader.

use std::path::Path;

use datafusion::datasource::file_format::options::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions,
};
use datafusion::prelude::{DataFrame, SessionContext};

use crate::error::EngineError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileFormat {
    Parquet,
    Csv,
    /// Newline-delimited JSON: one profile object per line.
    Json,
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

    fn default_extension(self) -> &'static str {
        match self {
            Self::Parquet => ".parquet",
            Self::Csv => ".csv",
            Self::Json => ".json",
        }
    }
}

/// A profile source as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSource {
    /// A file, a folder, or a glob such as `profiles/*.parquet`.
    pub location: String,
    /// Guessed from the location when absent.
    pub format: Option<ProfileFormat>,
    /// CSV: field delimiter (`,` by default). CSV files always start with a header row.
    pub csv_delimiter: u8,
}

impl ProfileSource {
    pub fn new(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            format: None,
            csv_delimiter: b',',
        }
    }

    pub fn with_format(mut self, format: ProfileFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// The format, from the configuration or the location's extension.
    pub fn resolved_format(&self) -> Result<ProfileFormat, EngineError> {
        if let Some(format) = self.format {
            return Ok(format);
        }
        let path = Path::new(&self.location);
        if path.is_dir() {
            for entry in std::fs::read_dir(path).map_err(|error| self.problem(error.to_string()))? {
                let name = entry
                    .map_err(|error| self.problem(error.to_string()))?
                    .file_name();
                if let Some(format) = ProfileFormat::from_extension(&name.to_string_lossy()) {
                    return Ok(format);
                }
            }
            return Err(self.problem("the folder holds no .parquet, .csv or .json file".to_owned()));
        }
        ProfileFormat::from_extension(&self.location).ok_or_else(|| {
            self.problem(
                "the format cannot be told from the name; say parquet, csv or json".to_owned(),
            )
        })
    }

    /// The files this source reads, for naming the one that fails. Globs and folders on the
    /// local disk are listed; other locations are returned as they are.
    pub fn files(&self) -> Vec<String> {
        let path = Path::new(&self.location);
        if path.is_file() {
            return vec![self.location.clone()];
        }
        if path.is_dir() {
            let extension = self.format.map(ProfileFormat::default_extension);
            let mut files: Vec<String> = std::fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|entry| entry.path())
                .filter(|file| file.is_file())
                .filter(|file| {
                    let name = file.to_string_lossy();
                    match extension {
                        Some(extension) => name.ends_with(extension),
                        None => ProfileFormat::from_extension(&name).is_some(),
                    }
                })
                .map(|file| file.to_string_lossy().into_owned())
                .collect();
            files.sort();
            return files;
        }
        vec![self.location.clone()]
    }

    /// Reads the source into a DataFrame, discovering its schema.
    pub(crate) async fn read(&self, ctx: &SessionContext) -> Result<DataFrame, EngineError> {
        let format = self.resolved_format()?;
        let path = Path::new(&self.location);
        let local = !self.location.contains("://");
        if local && !path.exists() && !self.location.contains(['*', '?', '[']) {
            return Err(self.problem("no such file or folder".to_owned()));
        }
        // A folder is listed by a trailing slash; a single file keeps its own extension.
        let (table_path, extension) = if path.is_dir() {
            (
                format!("{}/", self.location.trim_end_matches('/')),
                format.default_extension().to_owned(),
            )
        } else if path.is_file() {
            let extension = path
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default();
            (self.location.clone(), extension)
        } else {
            (self.location.clone(), String::new())
        };
        let read = match format {
            ProfileFormat::Parquet => {
                let options = ParquetReadOptions {
                    file_extension: &extension,
                    ..ParquetReadOptions::default()
                };
                ctx.read_parquet(table_path, options).await
            }
            ProfileFormat::Csv => {
                let options = CsvReadOptions::new()
                    .has_header(true)
                    .delimiter(self.csv_delimiter)
                    .file_extension(&extension)
                    .schema_infer_max_records(10_000);
                ctx.read_csv(table_path, options).await
            }
            ProfileFormat::Json => {
                let options = JsonReadOptions {
                    file_extension: &extension,
                    ..JsonReadOptions::default()
                };
                ctx.read_json(table_path, options).await
            }
        };
        read.map_err(|error| EngineError::Read {
            file: self.location.clone(),
            detail: error.to_string(),
        })
    }

    fn problem(&self, problem: String) -> EngineError {
        EngineError::Source {
            location: self.location.clone(),
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
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
    }
}
