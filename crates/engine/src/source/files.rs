//! Parquet, CSV and newline-delimited JSON files: one, a folder of them or a glob, on the local
//! disk or in an object store, read as a DataFusion listing table.

use std::path::Path;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::file_format::options::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions,
};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::{DataFrame, SessionContext};
use futures_util::TryStreamExt;
use object_store::ObjectMeta;
use url::Url;

use super::object_stores::{Failure, query_failure};
use super::{ProfileFormat, ProfileSource};
use crate::error::{EngineError, SourcePart};

/// The format of a local file or folder: a folder with a `_delta_log` is a Delta table;
/// otherwise the first file with a known extension says.
pub(crate) fn local_format(path: &Path) -> Result<ProfileFormat, Failure> {
    if path.is_dir() {
        if path.join("_delta_log").is_dir() {
            return Ok(ProfileFormat::Delta);
        }
        let entries = std::fs::read_dir(path).map_err(|e| (SourcePart::Path, e.to_string()))?;
        for entry in entries {
            let name = entry
                .map_err(|e| (SourcePart::Path, e.to_string()))?
                .file_name();
            if let Some(format) = ProfileFormat::from_extension(&name.to_string_lossy()) {
                return Ok(format);
            }
        }
        return Err((
            SourcePart::Format,
            "the folder holds no .parquet, .csv or .json file and no Delta table".to_owned(),
        ));
    }
    ProfileFormat::from_extension(&path.to_string_lossy()).ok_or_else(|| {
        (
            SourcePart::Format,
            "the format cannot be told from the name; say parquet, csv, json or delta".to_owned(),
        )
    })
}

fn default_extension(format: ProfileFormat) -> &'static str {
    match format {
        ProfileFormat::Parquet => ".parquet",
        ProfileFormat::Csv => ".csv",
        ProfileFormat::Json => ".json",
        ProfileFormat::Delta | ProfileFormat::Postgres => "",
    }
}

/// The files of a local source, sorted; a glob or a missing path is returned as it is.
pub(crate) fn local_files(location: &str, format: Option<ProfileFormat>) -> Vec<String> {
    let path = Path::new(location);
    if path.is_file() {
        return vec![location.to_owned()];
    }
    if !path.is_dir() {
        return vec![location.to_owned()];
    }
    let extension = format.map(default_extension);
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
    files
}

/// The listing DataFusion reads for a local path: a folder by a trailing slash and the format's
/// extension; a single file with its own extension; a glob as it is.
fn local_table_path(path: &Path, format: ProfileFormat) -> (String, String) {
    let location = path.to_string_lossy();
    if path.is_dir() {
        (
            format!("{}/", location.trim_end_matches('/')),
            default_extension(format).to_owned(),
        )
    } else if path.is_file() {
        let extension = path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        (location.into_owned(), extension)
    } else {
        (location.into_owned(), String::new())
    }
}

pub(crate) async fn read_local(
    ctx: &SessionContext,
    source: &ProfileSource,
    path: &Path,
    format: ProfileFormat,
) -> Result<DataFrame, EngineError> {
    let location = path.to_string_lossy();
    if !path.exists() && !location.contains(['*', '?', '[']) {
        return Err(source.problem(SourcePart::Path, "no such file or folder".to_owned()));
    }
    let (table_path, extension) = local_table_path(path, format);
    read_listing(ctx, source, table_path, &extension, format).await
}

/// Files in an object store: a URL with an extension is one file; without, a folder, whose
/// files are those with the extension of the first file of the format found there.
pub(crate) async fn read_in_store(
    ctx: &SessionContext,
    source: &ProfileSource,
    url: &Url,
    format: ProfileFormat,
    first_file: Option<&str>,
) -> Result<DataFrame, EngineError> {
    let text = url.as_str();
    if text.contains(['*', '?', '[']) {
        return Err(source.problem(
            SourcePart::Path,
            "globs are read on the local disk only; in an object store, name the folder (with format if it holds other files)".to_owned(),
        ));
    }
    let (table_path, extension) = store_table_path(url, format, first_file);
    read_listing(ctx, source, table_path, &extension, format).await
}

/// The listing DataFusion reads in an object store: a URL with an extension is one file;
/// without, a folder, with the extension of the first file of the format found there.
fn store_table_path(
    url: &Url,
    format: ProfileFormat,
    first_file: Option<&str>,
) -> (String, String) {
    let text = url.as_str();
    let last = text.rsplit('/').next().unwrap_or_default();
    if ProfileFormat::from_extension(last).is_some() {
        (text.to_owned(), String::new())
    } else {
        let extension = first_file
            .filter(|name| ProfileFormat::from_extension(name) == Some(format))
            .and_then(|name| name.rsplit_once('.'))
            .map_or_else(
                || default_extension(format).to_owned(),
                |(_, extension)| format!(".{extension}"),
            );
        (format!("{}/", text.trim_end_matches('/')), extension)
    }
}

/// Where the files of a source are listed: a local path, or an object store's URL with the
/// first file found there.
pub(crate) enum FilesAt<'a> {
    Local(&'a Path),
    Store {
        url: &'a Url,
        first_file: Option<&'a str>,
    },
}

/// The files DataFusion would read for the source, as their object metadata (path, size, last
/// modified, ETag), sorted by path: what a listing's fingerprint is made of.
pub(crate) async fn listed_files(
    ctx: &SessionContext,
    source: &ProfileSource,
    at: FilesAt<'_>,
    format: ProfileFormat,
) -> Result<Vec<ObjectMeta>, EngineError> {
    let (table_path, extension) = match at {
        FilesAt::Local(path) => {
            let location = path.to_string_lossy();
            if !path.exists() && !location.contains(['*', '?', '[']) {
                return Err(source.problem(SourcePart::Path, "no such file or folder".to_owned()));
            }
            local_table_path(path, format)
        }
        FilesAt::Store { url, first_file } => store_table_path(url, format, first_file),
    };
    let listing_failed = |detail: String| EngineError::Read {
        file: source.display_location(),
        detail,
    };
    let url =
        ListingTableUrl::parse(&table_path).map_err(|error| listing_failed(error.to_string()))?;
    let store = ctx
        .runtime_env()
        .object_store(&url)
        .map_err(|error| listing_failed(error.to_string()))?;
    let state = ctx.state();
    let mut files: Vec<ObjectMeta> = url
        .list_all_files(&state, store.as_ref(), &extension)
        .await
        .map_err(|error| listing_failed(error.to_string()))?
        .try_collect()
        .await
        .map_err(|error| listing_failed(error.to_string()))?;
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(files)
}

async fn read_listing(
    ctx: &SessionContext,
    source: &ProfileSource,
    table_path: String,
    extension: &str,
    format: ProfileFormat,
) -> Result<DataFrame, EngineError> {
    let read = match format {
        ProfileFormat::Parquet => {
            let options = ParquetReadOptions {
                file_extension: extension,
                ..ParquetReadOptions::default()
            };
            ctx.read_parquet(table_path, options).await
        }
        ProfileFormat::Csv => {
            let delimiter = csv_delimiter(source)?;
            let options = || {
                CsvReadOptions::new()
                    .has_header(true)
                    .delimiter(delimiter)
                    .file_extension(extension)
                    .schema_infer_max_records(10_000)
            };
            // A column without a single value (every column of a file with only its header)
            // is inferred as Null, which no rule can compare; it is text, as written.
            match ctx.read_csv(table_path.clone(), options()).await {
                Ok(frame) if has_columns_without_values(frame.schema().as_arrow()) => {
                    let typed = columns_without_values_as_text(frame.schema().as_arrow());
                    ctx.read_csv(table_path, options().schema(&typed)).await
                }
                read => read,
            }
        }
        ProfileFormat::Json => {
            let options = JsonReadOptions {
                file_extension: extension,
                ..JsonReadOptions::default()
            };
            ctx.read_json(table_path, options).await
        }
        ProfileFormat::Delta | ProfileFormat::Postgres => {
            unreachable!("Delta tables and PostgreSQL are not listing tables")
        }
    };
    read.map_err(|error| match query_failure(&error) {
        Some((part, problem)) => source.problem(part, problem),
        None => EngineError::Read {
            file: source.display_location(),
            detail: error.to_string(),
        },
    })
}

fn has_columns_without_values(schema: &Schema) -> bool {
    schema
        .fields()
        .iter()
        .any(|field| field.data_type() == &DataType::Null)
}

/// The schema with every Null column (no value to infer a type from) read as text.
fn columns_without_values_as_text(schema: &Schema) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|field| match field.data_type() {
                DataType::Null => Field::new(field.name(), DataType::Utf8, true),
                _ => field.as_ref().clone(),
            })
            .collect::<Vec<_>>(),
    )
}

/// CSV: the field delimiter, one ASCII character (`,` unless the source says).
fn csv_delimiter(source: &ProfileSource) -> Result<u8, EngineError> {
    match source.options.get("csv_delimiter") {
        Ok(None) => Ok(b','),
        Ok(Some(text)) => match text.as_bytes() {
            [byte] if byte.is_ascii() => Ok(*byte),
            _ if text == "\\t" || text == "tab" => Ok(b'\t'),
            _ => Err(source.problem(
                SourcePart::Options,
                format!("csv_delimiter is one ASCII character, not {text:?}"),
            )),
        },
        Err(error) => Err(source.problem(SourcePart::Options, error.to_string())),
    }
}
