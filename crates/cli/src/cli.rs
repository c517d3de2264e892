//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "segsync",
    version,
    about = "Keep Constant Contact lists in step with customer segments."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Log what happens (to stderr).
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate sample profiles and orders, start the sandbox, and export three segments (one
    /// over the orders) into a new list.
    Demo(DemoArgs),
    /// Check or preview segment definitions against profiles.
    Segments {
        #[command(subcommand)]
        command: SegmentsCommand,
    },
    /// Run one export described by a configuration file.
    Export(ExportArgs),
    /// Run the Constant Contact sandbox.
    Sandbox(cc_sandbox::SandboxArgs),
    /// Measure segment evaluation and a 1,000,000-member export.
    Bench(BenchArgs),
    /// Run the server: REST API over connections, segments, exports and runs.
    Serve(ServeArgs),
    /// Check a profile source: its schema, row count and (for Delta) version.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Manage the server's users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Tell a server that a source changed, as a pipeline's last step: the exports that follow
    /// the data and read it start; with --wait, exits non-zero when one of them fails.
    Trigger(TriggerArgs),
    /// Serve personal-data requests: erase people, or say what is held about one.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// Run a Ballista cluster that evaluates segments (`[engine] cluster` names its scheduler).
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TriggerArgs {
    /// The server's address, e.g. `https://segsync.example.com`.
    #[arg(long, env = "SEGSYNC_SERVER")]
    pub(crate) server: url::Url,
    /// The environment variable that holds the API token (a token scoped to `trigger`).
    #[arg(long, default_value = "SEGSYNC_TOKEN")]
    pub(crate) token_env: String,
    /// The source that changed: `profiles` or a related table's name; every source without.
    #[arg(long)]
    pub(crate) source: Option<String>,
    /// The version the pipeline wrote, for the audit log.
    #[arg(long = "source-version")]
    pub(crate) source_version: Option<String>,
    /// Wait for the runs started to end; exit non-zero when one did not succeed.
    #[arg(long)]
    pub(crate) wait: bool,
    /// The longest --wait waits, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub(crate) wait_seconds: u64,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PrivacyCommand {
    /// Erase people: a tombstone for each address (no export sends it again), the store purged
    /// of it, and the contact taken off every list segsync's exports manage. Waits for the
    /// erasure to end and prints its receipt (keyed hashes, never the addresses).
    Erase(EraseArgs),
    /// What segsync holds about an address, as JSON.
    Lookup(LookupArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EraseArgs {
    #[command(flatten)]
    pub(crate) config: ServerConfigArgs,
    /// The addresses to erase.
    pub(crate) emails: Vec<String>,
    /// A file of addresses: one per line, or a CSV whose header names an `email` column.
    #[arg(long)]
    pub(crate) file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    #[command(flatten)]
    pub(crate) config: ServerConfigArgs,
    pub(crate) email: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// The scheduler: it splits each query into tasks for the executors.
    Scheduler(SchedulerArgs),
    /// An executor: it runs tasks, reading the profiles itself.
    Executor(ExecutorArgs),
    /// Makes a certificate for one peer (scheduler, executor or node), signed by the cluster's
    /// authority in the folder, which is made first when the folder has none.
    Certificates(CertificatesArgs),
    /// What the scheduler says of the cluster: each executor, alive or not, with its task slots
    /// and last heartbeat, and the queries running. Exits non-zero when the scheduler cannot be
    /// reached or no executor is alive.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The scheduler's address.
    #[arg(
        long = "cluster",
        value_name = "df://HOST:PORT",
        default_value = "df://127.0.0.1:50050"
    )]
    pub(crate) cluster: String,
    /// The answer as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// This node's mutual TLS with the cluster: required when it is on another machine.
    #[command(flatten)]
    pub(crate) tls: ClusterTlsArgs,
}

/// The cluster's mutual TLS: all three files, or none (then only loopback is allowed).
#[derive(Debug, Args)]
pub(crate) struct ClusterTlsArgs {
    /// The cluster's certificate authority, PEM (`ca.pem` of `segsync cluster certificates`).
    #[arg(long = "tls-ca", value_name = "FILE", requires_all = ["tls_certificate", "tls_key"])]
    pub(crate) tls_ca: Option<PathBuf>,
    /// This peer's certificate, signed by the authority, PEM.
    #[arg(long = "tls-certificate", value_name = "FILE", requires_all = ["tls_ca", "tls_key"])]
    pub(crate) tls_certificate: Option<PathBuf>,
    /// This peer's private key, PEM.
    #[arg(long = "tls-key", value_name = "FILE", requires_all = ["tls_ca", "tls_certificate"])]
    pub(crate) tls_key: Option<PathBuf>,
}

impl ClusterTlsArgs {
    /// The files, when given.
    pub(crate) fn files(&self) -> Option<segsync_engine::ClusterTls> {
        Some(segsync_engine::ClusterTls {
            ca: self.tls_ca.clone()?,
            certificate: self.tls_certificate.clone()?,
            key: self.tls_key.clone()?,
        })
    }
}

#[derive(Debug, Args)]
pub(crate) struct CertificatesArgs {
    /// The peer's name: its files are NAME.pem and NAME.key.
    pub(crate) name: String,
    /// A host name or address the peer is reached by (as the others dial it); repeat for each.
    #[arg(long = "host", required = true, value_name = "HOST")]
    pub(crate) hosts: Vec<String>,
    /// The folder of the cluster's authority and certificates.
    #[arg(long, default_value = "cluster-tls")]
    pub(crate) folder: PathBuf,
    /// Days the certificate is valid.
    #[arg(long, default_value_t = 365)]
    pub(crate) days: u32,
}

/// Both roles listen on loopback unless told otherwise; beyond it, they require the cluster's
/// TLS files, and accept only peers with a certificate of the same authority.
#[derive(Debug, Args)]
pub(crate) struct SchedulerArgs {
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind_host: String,
    #[arg(long, default_value_t = 50050)]
    pub(crate) port: u16,
    /// The host name executors and segsync nodes reach it by, when not the bound address.
    #[arg(long)]
    pub(crate) external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is taken for dead and its tasks
    /// run on the others.
    #[arg(long, default_value_t = 60)]
    pub(crate) executor_timeout_seconds: u64,
    /// Seconds a query may wait while no executor is up before it is given up (its run fails,
    /// "engine unavailable", and is tried again later).
    #[arg(long, default_value_t = 60)]
    pub(crate) executor_wait_seconds: u64,
    /// Seconds an executor shutting down cleanly (SIGTERM, Ctrl-C) is kept: it takes no new
    /// task, finishes those it runs, and its results stay reachable meanwhile.
    #[arg(long, default_value_t = 30)]
    pub(crate) drain_seconds: u64,
    /// A TOML file of the storage options the scheduler lists object storage with when it
    /// plans a query over files there (as the executors' --source-options).
    #[arg(long, value_name = "FILE")]
    pub(crate) source_options: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) tls: ClusterTlsArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ExecutorArgs {
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) bind_host: String,
    /// The host name the scheduler and the other executors reach it by.
    #[arg(long)]
    pub(crate) external_host: Option<String>,
    /// The Arrow Flight port, where results are fetched.
    #[arg(long, default_value_t = 50051)]
    pub(crate) flight_port: u16,
    /// The gRPC port it reports to the scheduler; nothing listens on it, since executors ask
    /// the scheduler for work rather than wait to be called.
    #[arg(long, default_value_t = 50052)]
    pub(crate) grpc_port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub(crate) scheduler_host: String,
    #[arg(long, default_value_t = 50050)]
    pub(crate) scheduler_port: u16,
    /// Tasks run at once (default: the machine's cores).
    #[arg(long)]
    pub(crate) concurrency: Option<usize>,
    /// The memory its tasks may hold in all (`4GiB`); past it they spill.
    #[arg(long, value_name = "SIZE")]
    pub(crate) memory_limit: Option<segsync_engine::ByteSize>,
    /// Where shuffle files are written (default: a temporary folder).
    #[arg(long)]
    pub(crate) work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler; keep it well under the scheduler's
    /// --executor-timeout-seconds.
    #[arg(long, default_value_t = 10)]
    pub(crate) heartbeat_seconds: u64,
    /// A TOML file of the storage options the executor opens object storage with (`endpoint`,
    /// `region`, `access_key_id_env`, …, as a profile source takes them): the profiles and
    /// related tables in S3, GCS or Azure are read with these and the platform's credential
    /// chain, never with credentials sent in a plan.
    #[arg(long, value_name = "FILE")]
    pub(crate) source_options: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) tls: ClusterTlsArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ServerConfigArgs {
    /// The configuration file (default: ./segsync.toml when it exists).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…`; over the file and the environment.
    #[arg(long)]
    pub(crate) database_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) config: ServerConfigArgs,
    /// Address to listen on, e.g. 0.0.0.0:8910; over the file and the environment.
    #[arg(long)]
    pub(crate) listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// Add a user. Without --password-stdin a strong password is generated and shown once.
    Add(UserAddArgs),
    /// List the users.
    List(ServerConfigArgs),
    /// Disable a user: their sessions and API tokens end at once.
    Disable(UserArgs),
    /// Enable a disabled user again.
    Enable(UserArgs),
    /// Lift a user's sign-in lock after too many failed sign-ins, so they may sign in at once.
    Unlock(UserArgs),
    /// Give a user another role.
    Role(UserRoleArgs),
    /// Set a user's password (and end their sessions). Without --password-stdin a strong
    /// password is generated and shown once.
    Password(UserPasswordArgs),
}

#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    #[command(flatten)]
    pub(crate) config: ServerConfigArgs,
    pub(crate) username: String,
}

#[derive(Debug, Args)]
pub(crate) struct UserRoleArgs {
    #[command(flatten)]
    pub(crate) user: UserArgs,
    #[arg(long, value_parser = ["admin", "contributor", "viewer"])]
    pub(crate) role: String,
}

#[derive(Debug, Args)]
pub(crate) struct UserPasswordArgs {
    #[command(flatten)]
    pub(crate) user: UserArgs,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UserAddArgs {
    #[command(flatten)]
    pub(crate) config: ServerConfigArgs,
    pub(crate) username: String,
    #[arg(long, value_parser = ["admin", "contributor", "viewer"])]
    pub(crate) role: String,
    #[arg(long)]
    pub(crate) display_name: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SegmentsCommand {
    /// Validate definitions against the profiles' schema.
    Check(SegmentArgs),
    /// Member counts and sample rows of each segment.
    Preview(PreviewArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// How many sample profiles to generate.
    #[arg(long, default_value_t = 200_000)]
    pub(crate) profiles: usize,
    /// Keep the generated files in this folder instead of a temporary one.
    #[arg(long)]
    pub(crate) keep_in: Option<PathBuf>,
    /// Seed of the sample generator.
    #[arg(long, default_value_t = 7)]
    pub(crate) seed: u64,
    /// Start the web console on the demo instead: the server on SQLite in the demo's folder,
    /// the sandbox in this process, three users, a connection, the segments and an export run
    /// once, until Ctrl-C.
    #[arg(long)]
    pub(crate) serve: bool,
    /// Where the console listens, with --serve.
    #[arg(long, default_value = "127.0.0.1:8910", requires = "serve")]
    pub(crate) listen: std::net::SocketAddr,
    /// Read the admin's password from the first line of standard input instead of generating
    /// one, with --serve.
    #[arg(long, requires = "serve")]
    pub(crate) password_stdin: bool,
}

/// A profile source on the command line: a location and its options.
#[derive(Debug, Args)]
pub(crate) struct ProfilesArgs {
    /// A Parquet, CSV or JSON file, a folder of them, a glob, a Delta table, or a URL:
    /// `s3://bucket/path`, `gs://…`, `az://…`, `postgres://user@host/db`.
    #[arg(long = "profiles", value_name = "LOCATION")]
    pub(crate) location: String,
    /// An option of the source (repeatable): `format=delta`, `version=3`, `table=crm.profiles`,
    /// `endpoint=http://…`, `secret_access_key_file=PATH`, `password_env=VARIABLE`…
    #[arg(long = "profiles-option", value_name = "KEY=VALUE")]
    pub(crate) options: Vec<String>,
}

impl ProfilesArgs {
    pub(crate) fn source(&self) -> anyhow::Result<segsync_engine::ProfileSource> {
        profile_source(&self.location, &self.options)
    }
}

/// A source from `--profiles` and its `--profiles-option key=value` pairs.
pub(crate) fn profile_source(
    location: &str,
    options: &[String],
) -> anyhow::Result<segsync_engine::ProfileSource> {
    let mut source = segsync_engine::ProfileSource::new(location);
    for pair in options {
        source.options.set_pair(pair)?;
    }
    Ok(source)
}

#[derive(Debug, Subcommand)]
pub(crate) enum SourcesCommand {
    /// Open a profile source and print its schema, row count and (for Delta) version, or say
    /// which part failed: options, credentials, path, format or connection.
    Check(SourcesCheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct SourcesCheckArgs {
    /// The source; without it, the `profiles` of the server's configuration.
    #[arg(long = "profiles", value_name = "LOCATION")]
    pub(crate) location: Option<String>,
    /// An option of the source (repeatable), as for `segments check`.
    #[arg(long = "profiles-option", value_name = "KEY=VALUE")]
    pub(crate) options: Vec<String>,
    #[command(flatten)]
    pub(crate) config: ServerConfigArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SegmentArgs {
    #[command(flatten)]
    pub(crate) profiles: ProfilesArgs,
    /// Segment definitions: YAML or JSON files (repeatable).
    #[arg(long = "segments", required = true)]
    pub(crate) segment_files: Vec<PathBuf>,
    /// A related table segments may count and measure (repeatable):
    /// `orders=orders.parquet,key=customer_id,profile_key=profile_id,dated_by=ordered_at`;
    /// other `key=value` pairs are options of its source (`format=csv`, `endpoint=…`).
    #[arg(
        long = "related",
        value_name = "NAME=LOCATION,key=COLUMN,profile_key=COLUMN[,dated_by=COLUMN]"
    )]
    pub(crate) related: Vec<String>,
    /// The most memory evaluating the segments may hold (`512MiB`, `2GB`); past it, grouping
    /// spills to disk, and what cannot spill fails with the operators that held the most.
    #[arg(long = "memory-limit", value_name = "SIZE", default_value_t = segsync_engine::EngineSettings::default().memory_limit)]
    pub(crate) memory_limit: segsync_engine::ByteSize,
    /// Join the profiles to the measures of related tables by sorting, which spills to disk,
    /// rather than by hash tables, which do not: slower, but holds a far smaller limit.
    #[arg(long = "sort-merge-joins")]
    pub(crate) sort_merge_joins: bool,
    /// Evaluate on the Ballista cluster whose scheduler is at this address
    /// (`df://host:50050`); its executors must be able to read the profiles.
    #[arg(long = "cluster", value_name = "df://HOST:PORT")]
    pub(crate) cluster: Option<String>,
    /// This node's mutual TLS with the cluster: required when it is on another machine.
    #[command(flatten)]
    pub(crate) cluster_tls: ClusterTlsArgs,
}

impl SegmentArgs {
    /// The engine's settings for these commands.
    pub(crate) fn engine(&self) -> segsync_engine::EngineSettings {
        segsync_engine::EngineSettings::default()
            .with_memory_limit(self.memory_limit)
            .with_sort_merge_joins(self.sort_merge_joins)
            .with_cluster(self.cluster.clone())
            .with_cluster_tls(self.cluster_tls.files())
    }

    pub(crate) fn related_tables(&self) -> anyhow::Result<Vec<segsync_engine::RelatedTable>> {
        self.related
            .iter()
            .map(|text| related_table(text))
            .collect()
    }
}

/// A related table from `--related NAME=LOCATION,key=…,profile_key=…[,dated_by=…][,option=…]`.
pub(crate) fn related_table(text: &str) -> anyhow::Result<segsync_engine::RelatedTable> {
    let usage = "give --related as NAME=LOCATION,key=COLUMN,profile_key=COLUMN[,dated_by=COLUMN]";
    let (name, rest) = text
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("--related {text:?}: {usage}"))?;
    let mut parts = rest.split(',');
    let location = parts.next().unwrap_or_default();
    let (mut key, mut profile_key, mut dated_by, mut options) = (None, None, None, Vec::new());
    for pair in parts {
        match pair.split_once('=') {
            Some(("key", column)) => key = Some(column.to_owned()),
            Some(("profile_key", column)) => profile_key = Some(column.to_owned()),
            Some(("dated_by", column)) => dated_by = Some(column.to_owned()),
            Some(_) => options.push(pair.to_owned()),
            None => anyhow::bail!("--related {name}: {pair:?} is not KEY=VALUE; {usage}"),
        }
    }
    let (Some(key), Some(profile_key)) = (key, profile_key) else {
        anyhow::bail!("--related {name}: key and profile_key are required; {usage}");
    };
    if name.trim().is_empty() || location.is_empty() {
        anyhow::bail!("--related {text:?}: {usage}");
    }
    Ok(segsync_engine::RelatedTable {
        name: name.trim().to_owned(),
        source: profile_source(location, &options)?,
        key,
        profile_key,
        dated_by,
    })
}

#[derive(Debug, Args)]
pub(crate) struct PreviewArgs {
    #[command(flatten)]
    pub(crate) segments: SegmentArgs,
    /// Sample rows per segment.
    #[arg(long, default_value_t = 5)]
    pub(crate) rows: usize,
    /// The IANA time zone relative dates are counted in.
    #[arg(long, default_value = "UTC")]
    pub(crate) time_zone: String,
    /// Count relative dates (`within_last`, windows) as of this instant (RFC 3339, e.g.
    /// `2026-06-30T00:00:00Z`) instead of now: what the segments held then, or the same answer
    /// twice.
    #[arg(long, value_name = "INSTANT")]
    pub(crate) as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// After the counts, run each counting query again as `EXPLAIN ANALYZE` and print its
    /// plan with every operator's metrics: rows, time, bytes read, row groups and pages pruned.
    #[arg(long)]
    pub(crate) explain_analyze: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The export's configuration (TOML); see `segsync.export.example.toml`.
    #[arg(long)]
    pub(crate) config: PathBuf,
    /// Say what the export would send and skip, and the requests it needs against the quota
    /// left today, sending nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Send every member, changed or not (with `export.state_file`; without it every run does).
    #[arg(long)]
    pub(crate) full_resync: bool,
    /// Go on with a mirror run's removals even when a guard would stop it (more than
    /// `export.guards.max_removal_share` of the list, a drop of more than `max_member_drop` in
    /// members, or empty profiles): you confirm them.
    #[arg(long)]
    pub(crate) confirm_removals: bool,
    /// Read the list back once the run has sent: what it holds against what the export means it
    /// to hold, missing and extra members by cause; the state file learns from it, so the next
    /// run adds back members someone removed.
    #[arg(long, conflicts_with = "dry_run")]
    pub(crate) verify: bool,
    /// Only read the list back, sending nothing (with `export.state_file`).
    #[arg(long, conflicts_with_all = ["dry_run", "verify", "full_resync", "confirm_removals"])]
    pub(crate) verify_only: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Profiles for the segment-evaluation benchmark.
    #[arg(long, default_value_t = 10_000_000)]
    pub(crate) profiles: usize,
    /// Members for the export benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) members: usize,
    /// Where to write the generated files (a temporary folder by default).
    #[arg(long)]
    pub(crate) work_dir: Option<PathBuf>,
    /// Run only one part: `segments`, `export`, `delta`, `removals`, `read-back`, `sources`,
    /// `behaviour` or `parity`; or `cluster` or `growth`, which run only when asked for.
    #[arg(long)]
    pub(crate) only: Option<String>,
    /// Evaluate the `export` part on the cluster whose scheduler is here (`df://HOST:PORT`);
    /// the `cluster` part runs it so, in a process of its own.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub(crate) cluster: Option<String>,
    /// The largest profile count of the `cluster` part, which counts over 10, 30 and 100
    /// million profiles up to it.
    #[arg(long, default_value_t = 100_000_000)]
    pub(crate) cluster_profiles: usize,
    /// The profile counts of the `growth` part, which counts (g)'s and (f)'s segments at each
    /// (with five orders per profile).
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = [1_000_000, 10_000_000, 30_000_000]
    )]
    pub(crate) growth_profiles: Vec<usize>,
    /// DuckDB's command-line tool, which `behaviour` and `parity` run side by side with
    /// segsync; without it their DuckDB side is left out. Give the binary itself (`pip install
    /// duckdb-cli` puts it in `site-packages/duckdb_cli/duckdb`; its `duckdb` script starts
    /// Python first).
    #[arg(long, env = "DUCKDB")]
    pub(crate) duckdb: Option<PathBuf>,
    /// moto's S3-compatible server (`pip install "moto[server]"`), for the object-storage part
    /// of `sources`; without it that part is left out.
    #[arg(long, env = "MOTO_SERVER")]
    pub(crate) moto_server: Option<PathBuf>,
    /// A PostgreSQL database the `sources` part may load the profiles into (schema
    /// `segsync_bench`); without it that part is left out.
    #[arg(long, env = "SEGSYNC_BENCH_POSTGRES_URL")]
    pub(crate) postgres_url: Option<String>,
    /// The data `behaviour` and `parity` count over: `uniform` (the benchmark's own profiles
    /// and orders), `varied` (wide rows, many nulls, skewed orders, uneven files) or `both`.
    #[arg(long, value_enum, default_value_t = BenchData::Both)]
    pub(crate) data: BenchData,
}

/// The data sets of the whole-process comparisons with DuckDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BenchData {
    Uniform,
    Varied,
    Both,
}

impl BenchData {
    pub(crate) fn includes(self, data: BenchData) -> bool {
        self == BenchData::Both || self == data
    }
}
