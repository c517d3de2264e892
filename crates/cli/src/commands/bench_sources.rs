//! `segsync bench --only sources`: (e) the segment counts of (a) over the same 10,000,000
//! profiles read from each kind of source — the Parquet file on disk, the same file in an
//! S3-compatible server (moto's, on loopback), a Delta table made of that file, and a
//! PostgreSQL table loaded from it — and (f) a 1,000,000-member export read from the S3 server.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures_util::TryStreamExt;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as StorePath;
use segsync_engine::{ProfileSource, Profiles};
use sqlx::{Connection, PgConnection};
use tokio::io::AsyncWriteExt;

use super::bench::{count_each_segment, measure_export, members_file, profiles_file};
use crate::cli::BenchArgs;

const BUCKET: &str = "segsync-bench";
const POSTGRES_SCHEMA: &str = "segsync_bench";

pub(crate) async fn sources_bench(folder: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let count = args.profiles;
    let file = profiles_file(folder, count)?;
    let mut out = std::io::stdout();
    writeln!(
        out,
        "(e) the segments of (a) over {count} profiles from each kind of source (median of three counts; opening the source apart)"
    )?;
    count_segments(
        "Parquet on disk",
        ProfileSource::new(file.to_string_lossy()),
    )
    .await?;

    let moto = match &args.moto_server {
        Some(program) => Some(MotoProcess::start(program).await?),
        None => {
            writeln!(
                out,
                "  Parquet in S3: left out (give --moto-server or MOTO_SERVER)"
            )?;
            None
        }
    };
    if let Some(moto) = &moto {
        moto.upload(&file, "profiles.parquet").await?;
        count_segments("Parquet in S3 (moto)", moto.source("profiles.parquet")).await?;
    }

    let delta = delta_table_of(folder, &file).await?;
    count_segments("a Delta table", ProfileSource::new(delta.to_string_lossy())).await?;

    match &args.postgres_url {
        Some(url) => {
            let table = load_into_postgres(url, &file, count).await?;
            let source = ProfileSource::new(url.as_str())
                .with_option("table", table)
                .with_option("sslmode", "disable");
            count_segments("a PostgreSQL table", source).await?;
        }
        None => writeln!(
            out,
            "  a PostgreSQL table: left out (give --postgres-url or SEGSYNC_BENCH_POSTGRES_URL)"
        )?,
    }

    if let Some(moto) = &moto {
        let members = args.members;
        let members_path = members_file(folder, members)?;
        let key = format!("members-{members}.parquet");
        moto.upload(&members_path, &key).await?;
        measure_export(
            &format!("(f) export of {members} members read from the S3 server, into the sandbox at 4 requests/s"),
            moto.source(&key),
        )
        .await?;
    }
    Ok(())
}

/// Opens `source` and counts each benchmark segment three times.
async fn count_segments(label: &str, source: ProfileSource) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let started = Instant::now();
    let profiles = Profiles::open(source).await?;
    let opened = started.elapsed().as_secs_f64();
    writeln!(out, "  {label}: opened in {opened:.3} s")?;
    count_each_segment(&profiles).await
}

/// A Delta table whose one data file is the profiles file itself (hard-linked, or copied when
/// the folder is on another file system), made by converting the folder.
async fn delta_table_of(folder: &Path, file: &Path) -> anyhow::Result<PathBuf> {
    let table = folder.join(format!(
        "delta-{}",
        file.file_stem().unwrap_or_default().to_string_lossy()
    ));
    if table.join("_delta_log").exists() {
        return Ok(table);
    }
    std::fs::create_dir_all(&table)?;
    let data = table.join("part-00000.parquet");
    if std::fs::hard_link(file, &data).is_err() {
        std::fs::copy(file, &data)?;
    }
    deltalake_core::operations::convert_to_delta::ConvertToDeltaBuilder::new()
        .with_location(table.to_string_lossy())
        .await
        .with_context(|| format!("making a Delta table of {}", table.display()))?;
    Ok(table)
}

/// Loads the profiles file into `segsync_bench.profiles_COUNT` with COPY, unless a table of that
/// name already holds `count` rows; returns the table's name.
async fn load_into_postgres(url: &str, file: &Path, count: usize) -> anyhow::Result<String> {
    let table = format!("{POSTGRES_SCHEMA}.profiles_{count}");
    let mut connection = PgConnection::connect(url)
        .await
        .context("connecting to --postgres-url")?;
    let existing: Option<i64> = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut connection)
        .await
        .ok();
    if existing == Some(count as i64) {
        return Ok(table);
    }
    let started = Instant::now();
    let ctx = SessionContext::new();
    let frame = ctx
        .read_parquet(
            file.to_string_lossy().as_ref(),
            ParquetReadOptions::default(),
        )
        .await?;
    let schema = frame.schema().as_arrow().clone();
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {POSTGRES_SCHEMA}"))
        .execute(&mut connection)
        .await?;
    sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
        .execute(&mut connection)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {table} ({})",
        column_definitions(&schema)?
    ))
    .execute(&mut connection)
    .await?;
    let mut copy = connection
        .copy_in_raw(&format!(
            "COPY {table} FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ))
        .await?;
    let mut batches = frame.execute_stream().await?;
    while let Some(batch) = batches.try_next().await? {
        let mut writer = WriterBuilder::new()
            .with_header(false)
            .with_null("\\N".to_owned())
            .build(Vec::new());
        writer.write(&batch)?;
        copy.send(writer.into_inner()).await?;
    }
    let rows = copy.finish().await?;
    sqlx::query(&format!("ANALYZE {table}"))
        .execute(&mut connection)
        .await?;
    writeln!(
        std::io::stdout(),
        "  (loaded {rows} rows into PostgreSQL's {table} in {:.1} s)",
        started.elapsed().as_secs_f64()
    )?;
    Ok(table)
}

fn column_definitions(schema: &Schema) -> anyhow::Result<String> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let kind = match field.data_type() {
                DataType::Int64 => "bigint",
                DataType::Int32 => "integer",
                DataType::Float64 => "double precision",
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
                DataType::Boolean => "boolean",
                DataType::Date32 => "date",
                DataType::Timestamp(_, Some(_)) => "timestamptz",
                DataType::Timestamp(_, None) => "timestamp",
                other => bail!("no PostgreSQL type for {other} ({})", field.name()),
            };
            Ok(format!("{} {kind}", field.name()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(columns.join(", "))
}

/// moto's S3-compatible server as a child process on a loopback port it picks, with one bucket.
pub(super) struct MotoProcess {
    child: Child,
    endpoint: String,
}

impl MotoProcess {
    pub(super) async fn start(program: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stderr = child.stderr.take().context("moto's output")?;
        let mut lines = BufReader::new(stderr).lines();
        let endpoint = loop {
            let Some(line) = lines.next().transpose()? else {
                bail!(
                    "{} ended without saying where it listens",
                    program.display()
                );
            };
            if let Some(at) = line.find("http://127.0.0.1:") {
                break line[at..].trim().to_owned();
            }
        };
        // moto writes a line per request: read them so that it never blocks.
        std::thread::spawn(move || lines.for_each(drop));
        let moto = Self { child, endpoint };
        let created = reqwest::Client::new()
            .put(format!("{}/{BUCKET}", moto.endpoint))
            .send()
            .await?;
        if !created.status().is_success() {
            bail!("moto did not create the bucket: {}", created.status());
        }
        Ok(moto)
    }

    fn store(&self) -> anyhow::Result<Arc<dyn ObjectStore>> {
        Ok(Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_bucket_name(BUCKET)
                .with_region("us-east-1")
                .with_access_key_id("bench")
                .with_secret_access_key("bench")
                .build()?,
        ))
    }

    pub(super) async fn upload(&self, file: &Path, key: &str) -> anyhow::Result<()> {
        let mut writer = BufWriter::new(self.store()?, StorePath::from(key));
        let mut reader = tokio::fs::File::open(file).await?;
        tokio::io::copy(&mut reader, &mut writer).await?;
        writer.shutdown().await?;
        Ok(())
    }

    pub(super) fn source(&self, key: &str) -> ProfileSource {
        let mut source = ProfileSource::new(format!("s3://{BUCKET}/{key}"));
        for (option, value) in self.options() {
            source = source.with_option(option, &value);
        }
        source
    }

    /// The storage options that reach the bucket.
    fn options(&self) -> [(&'static str, String); 5] {
        [
            ("endpoint", self.endpoint.clone()),
            ("allow_http", "true".to_owned()),
            ("region", "us-east-1".to_owned()),
            ("access_key_id", "bench".to_owned()),
            ("secret_access_key", "bench".to_owned()),
        ]
    }

    /// Writes the options as a `--source-options` file for a cluster's processes.
    pub(super) fn write_options_file(&self, path: &Path) -> anyhow::Result<()> {
        let lines: String = self
            .options()
            .iter()
            .map(|(option, value)| format!("{option} = {value:?}\n"))
            .collect();
        std::fs::write(path, lines)?;
        Ok(())
    }

    /// moto's process id, for its peak memory.
    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for MotoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
