//! `segsync sources check`: opens a profile source the way runs do and says what it holds —
//! its format, schema, row count, and its version as change detection tells it (a Delta table's
//! version, a fingerprint of the files' listing, a PostgreSQL `changed_by` value), with each
//! related table's version — or which part of it failed. Secrets are never printed: the location hides a password and options show where a
//! secret comes from, not its value.

use std::io::Write;

use anyhow::bail;
use segsync_engine::Profiles;

use super::serve::server_config;
use crate::cli::{SourcesCheckArgs, profile_source};

pub(crate) async fn check(args: SourcesCheckArgs) -> anyhow::Result<()> {
    let (source, related) = match &args.location {
        Some(location) => (profile_source(location, &args.options)?, Vec::new()),
        None => {
            if !args.options.is_empty() {
                bail!("--profiles-option needs --profiles");
            }
            let config = server_config(&args.config, |figment| figment)?;
            match config.profiles.clone() {
                Some(source) => (source, config.related_tables()),
                None => bail!(
                    "no profile source: give --profiles, or set `profiles` in the server's configuration"
                ),
            }
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "profile source {}", source.display_location())?;
    for (key, value) in source.options.shown() {
        writeln!(out, "  {key} = {value}")?;
    }
    writeln!(out, "version: {}", source.version().await?)?;
    for table in &related {
        writeln!(
            out,
            "related {} ({}): version {}",
            table.name,
            table.source.display_location(),
            table.source.version().await?
        )?;
    }
    let profiles = Profiles::open(source).await?;
    let snapshot = profiles.snapshot();
    let rows = profiles.count_all().await?;
    writeln!(out, "format: {}", snapshot.format)?;
    if let Some(version) = snapshot.delta_version {
        writeln!(out, "Delta version: {version}")?;
    }
    writeln!(out, "rows: {rows}")?;
    writeln!(out, "schema:")?;
    let schema = profiles.schema();
    let width = schema
        .attributes()
        .iter()
        .map(|attribute| attribute.name.len())
        .max()
        .unwrap_or(0);
    for (attribute, field) in schema
        .attributes()
        .iter()
        .zip(profiles.arrow_schema().fields())
    {
        writeln!(
            out,
            "  {:width$}  {:9}  {}",
            attribute.name,
            attribute.kind.to_string(),
            field.data_type()
        )?;
    }
    Ok(())
}
