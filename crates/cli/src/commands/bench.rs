//! `segsync bench`: (a) segment evaluation over generated profiles in Parquet, (b) a
//! 1,000,000-member export end to end into a sandbox that runs in its own process with
//! Constant Contact's real limits, so that the export's memory is measured alone.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use constant_contact::NewContactList;
use constant_contact::{ApiConfig, ConstantContact, Endpoints, MemoryTokenStore};
use secrecy::SecretString;
use segsync_domain::FieldMapping;
use segsync_domain::segment::{RunClock, SegmentDefinition, SegmentFormat, parse_segments};
use segsync_engine::{EngineSettings, Membership, ProfileSource, Profiles};
use segsync_export::{ExportPlan, NoProgress, run_export};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::demo::DEMO_SEGMENTS;
use crate::cli::BenchArgs;
use crate::connect::authorize_with_sandbox;
use crate::progress::counter;
use crate::sample::write_profiles;

const BENCH_SEGMENTS: &str = r#"segments:
  - name: everyone
    rule: { attribute: profile_id, op: greater_or_equal, value: 0 }
  - name: us-platinum-or-big-spenders
    rule:
      any:
        - all:
            - { attribute: country, op: equals, value: US }
            - { attribute: tier, op: equals, value: platinum }
        - { attribute: lifetime_value, op: greater_than, value: 4900 }
"#;

pub(crate) async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let temporary = tempfile::tempdir()?;
    let folder = args
        .work_dir
        .clone()
        .unwrap_or_else(|| temporary.path().to_path_buf());
    std::fs::create_dir_all(&folder)?;
    let only = args.only.as_deref();
    if only.is_none_or(|part| part == "export") {
        export_bench(&folder, args.members, args.cluster.clone()).await?;
    }
    if only.is_none_or(|part| part == "delta") {
        super::bench_delta::delta_bench(&folder, args.members).await?;
    }
    if only.is_none_or(|part| part == "removals") {
        super::bench_removals::removals_bench(&folder).await?;
    }
    if only.is_none_or(|part| part == "read-back") {
        super::bench_read_back::read_back_bench(&folder, args.members).await?;
    }
    if only.is_none_or(|part| part == "segments") {
        segment_bench(&folder, args.profiles).await?;
    }
    if only.is_none_or(|part| part == "sources") {
        super::bench_sources::sources_bench(&folder, &args).await?;
    }
    if only.is_none_or(|part| part == "behaviour") {
        super::bench_duckdb::behaviour_bench(&folder, &args).await?;
    }
    if only.is_none_or(|part| part == "parity") {
        super::bench_duckdb::parity_bench(&folder, &args).await?;
    }
    // Generates 30,000,000 profiles and 150,000,000 orders: only when asked for.
    if only == Some("growth") {
        super::bench_growth::growth_bench(&folder, &args).await?;
    }
    // Generates 2.4 GB of profiles and starts a cluster: only when asked for.
    if only == Some("cluster") {
        super::bench_cluster::cluster_bench(
            &folder,
            args.cluster_profiles,
            args.members,
            args.moto_server.as_deref(),
        )
        .await?;
    }
    Ok(())
}

/// The profiles file of the segment benchmarks, generated once.
pub(super) fn profiles_file(
    folder: &std::path::Path,
    count: usize,
) -> anyhow::Result<std::path::PathBuf> {
    generated_once(
        folder.join(format!("profiles-{count}.parquet")),
        count,
        "generating profiles",
        |path, progress| write_profiles(path, count, 11, progress),
    )
}

/// `path`, written by `write` with a progress bar of `rows` unless it exists: the benchmarks'
/// generated data is made once per work folder. `write` reports the rows written so far.
pub(super) fn generated_once<T>(
    path: std::path::PathBuf,
    rows: usize,
    message: &str,
    write: impl FnOnce(&std::path::Path, &dyn Fn(usize)) -> anyhow::Result<T>,
) -> anyhow::Result<std::path::PathBuf> {
    if !path.exists() {
        let bar = counter(rows as u64, message);
        write(&path, &|written| bar.set_position(written as u64))?;
        bar.finish_and_clear();
    }
    Ok(path)
}

/// The demo's segments and the benchmark's own.
pub(super) fn bench_segments() -> anyhow::Result<Vec<SegmentDefinition>> {
    let mut segments = parse_segments(DEMO_SEGMENTS, SegmentFormat::Yaml, "demo")
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    segments.extend(
        parse_segments(BENCH_SEGMENTS, SegmentFormat::Yaml, "bench")
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
    );
    Ok(segments)
}

async fn segment_bench(folder: &std::path::Path, count: usize) -> anyhow::Result<()> {
    let path = profiles_file(folder, count)?;
    let mut out = std::io::stdout();
    let size = std::fs::metadata(&path)?.len();
    writeln!(
        out,
        "(a) segment evaluation over {count} profiles ({:.0} MB of Parquet)",
        size as f64 / 1e6
    )?;
    let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy())).await?;
    count_each_segment(&profiles).await
}

/// Counts each benchmark segment three times and prints the members and the median.
pub(super) async fn count_each_segment(profiles: &Profiles) -> anyhow::Result<()> {
    count_three_times(profiles, &bench_segments()?).await
}

/// Counts each of `segments` three times and prints the members and the median.
pub(super) async fn count_three_times(
    profiles: &Profiles,
    segments: &[SegmentDefinition],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let segments = segments.to_vec();
    let clock = RunClock::new(Utc::now(), chrono_tz::UTC);
    for segment in &segments {
        let membership = profiles.segment_expr(segment, &segments, &clock)?;
        let (members, timings) = three_counts(profiles, &membership).await?;
        writeln!(
            out,
            "    {:<30} {members:>10} members   count in {:.3} s (median of 3; {:.3}–{:.3} s)",
            segment.name, timings[1], timings[0], timings[2]
        )?;
    }
    Ok(())
}

/// Counts a segment three times: its members, and the seconds each count took, fastest first
/// (the median is the middle one).
pub(super) async fn three_counts(
    profiles: &Profiles,
    membership: &Membership,
) -> anyhow::Result<(u64, [f64; 3])> {
    let mut timings = [0.0; 3];
    let mut members = 0;
    for timing in &mut timings {
        let started = Instant::now();
        members = profiles.count(membership.clone()).await?;
        *timing = started.elapsed().as_secs_f64();
    }
    timings.sort_by(f64::total_cmp);
    Ok((members, timings))
}

async fn export_bench(
    folder: &std::path::Path,
    members: usize,
    cluster: Option<String>,
) -> anyhow::Result<()> {
    let path = members_file(folder, members)?;
    let evaluated = match &cluster {
        Some(cluster) => format!(", evaluated on the cluster at {cluster}"),
        None => String::new(),
    };
    measure_export_with(
        &format!("(b) export of {members} members into the sandbox at 4 requests/s{evaluated}"),
        ProfileSource::new(path.to_string_lossy()),
        &EngineSettings::default().with_cluster(cluster),
    )
    .await
}

/// Exports every profile of `source` into a new list of a sandbox process with Constant
/// Contact's limits, and prints the wall time, the requests against the API floor, the peak
/// memory and the phases.
pub(super) async fn measure_export(heading: &str, source: ProfileSource) -> anyhow::Result<()> {
    measure_export_with(heading, source, &EngineSettings::default()).await
}

/// `measure_export`, evaluating with `settings` (on a cluster, say).
pub(super) async fn measure_export_with(
    heading: &str,
    source: ProfileSource,
    settings: &EngineSettings,
) -> anyhow::Result<()> {
    let (sandbox, client, plan) = sandbox_and_plan().await?;

    reset_peak_memory();
    let requests_before = client.requests_sent();
    let started = Instant::now();
    let profiles = Profiles::open_with(source, settings).await?;
    let report = run_export(
        &profiles,
        &plan,
        &client,
        &NoProgress,
        &CancellationToken::new(),
    )
    .await?
    .report;
    let wall = started.elapsed().as_secs_f64();
    let peak = peak_memory_mb();
    let requests = client.requests_sent() - requests_before + 1; // the list creation
    let floor = (requests as f64) / 4.0;
    let mut out = std::io::stdout();
    writeln!(out, "{heading}")?;
    writeln!(
        out,
        "    outcome {:?}; {} sent, {} invalid, {} duplicates; totals add up: {}",
        report.outcome,
        report.sent,
        report.invalid_total(),
        report.duplicates_collapsed,
        report.totals_add_up()
    )?;
    writeln!(
        out,
        "    wall time {wall:.2} s; {} requests of the run ({} imports); API floor {floor:.2} s; {:.2}× the floor",
        report.requests_used,
        report.activities.len(),
        wall / floor
    )?;
    writeln!(out, "    peak resident memory of the export {peak} MB")?;
    writeln!(out, "    phases: {}", report.phases_in_words())?;
    writeln!(
        out,
        "    answered 429 throttled by the sandbox: {}",
        sandbox.throttled().await?
    )?;
    drop(sandbox);
    Ok(())
}

/// A sandbox process with Constant Contact's limits, a client signed in to it, and the plan of
/// an export of everyone (email, first and last name) to a new list.
pub(super) async fn sandbox_and_plan()
-> anyhow::Result<(SandboxProcess, ConstantContact, ExportPlan)> {
    let sandbox = SandboxProcess::start()?;
    let api = ApiConfig::new(SandboxProcess::CLIENT_ID)
        .with_endpoints(Endpoints::under(&Url::parse(&sandbox.base_url())?))
        .with_client_secret(SecretString::from(SandboxProcess::CLIENT_SECRET))
        .with_redirect_uri(Url::parse(SandboxProcess::REDIRECT_URI)?);
    let tokens = authorize_with_sandbox(&api).await?;
    let client = ConstantContact::connect(&api, tokens, Arc::new(MemoryTokenStore::default()))?;
    let list = client
        .create_list(&NewContactList {
            name: format!("bench {}", Utc::now().timestamp()),
            favorite: false,
            description: None,
        })
        .await?;
    let segments = parse_segments(BENCH_SEGMENTS, SegmentFormat::Yaml, "bench")
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let everyone = vec![segments[0].clone()];
    let mapping = FieldMapping::email_only("email")
        .with(segsync_domain::ContactField::FirstName, "first_name")
        .with(segsync_domain::ContactField::LastName, "last_name");
    let plan = ExportPlan::new(
        everyone,
        mapping,
        list.list_id,
        RunClock::new(Utc::now(), chrono_tz::UTC),
    );
    Ok((sandbox, client, plan))
}

/// The members file of the export benchmarks, generated once.
pub(super) fn members_file(
    folder: &std::path::Path,
    members: usize,
) -> anyhow::Result<std::path::PathBuf> {
    generated_once(
        folder.join(format!("members-{members}.parquet")),
        members,
        "generating members",
        |path, progress| write_profiles(path, members, MEMBERS_SEED, progress),
    )
}

/// The seed of the members file: the delta benchmark writes the same members, some changed.
pub(super) const MEMBERS_SEED: u64 = 13;

/// Forgets the peak so far, so the next reading is of what follows (Linux).
pub(super) fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub(super) fn peak_memory_mb() -> u64 {
    peak_memory_mb_of("self")
}

/// The peak resident memory of the process `process` (a pid, or `self`), in MB (Linux).
pub(super) fn peak_memory_mb_of(process: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb / 1024)
}

/// Waits up to 5 s for a process this benchmark started to listen on the loopback `port`.
pub(super) fn until_listening(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..200 {
        if TcpStream::connect(address).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// `segsync sandbox` as a child process.
pub(super) struct SandboxProcess {
    child: Child,
    port: u16,
}

impl SandboxProcess {
    const CLIENT_ID: &'static str = "bench";
    const CLIENT_SECRET: &'static str = "bench-secret";
    const REDIRECT_URI: &'static str = "http://127.0.0.1/bench/callback";

    fn start() -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(std::env::current_exe()?)
            .args([
                "sandbox",
                "--port",
                &port.to_string(),
                "--client-id",
                Self::CLIENT_ID,
                "--client-secret",
                Self::CLIENT_SECRET,
                "--redirect-uri",
                Self::REDIRECT_URI,
                "--auto-approve",
            ])
            .stdout(Stdio::null())
            .spawn()
            .context("starting the sandbox process")?;
        anyhow::ensure!(
            until_listening(port),
            "the sandbox did not start on port {port}"
        );
        Ok(Self { child, port })
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Drift made by hand in the account: `count` members of the list deleted and `count` more
    /// unsubscribed. Returns `count`.
    pub(super) async fn drift(&self, list_id: uuid::Uuid, count: usize) -> anyhow::Result<usize> {
        let base = self.base_url();
        let members: serde_json::Value =
            reqwest::get(format!("{base}/__sandbox/lists/{list_id}/members"))
                .await?
                .json()
                .await?;
        let emails: Vec<String> = members["members"]
            .as_array()
            .map(|members| {
                members
                    .iter()
                    .take(2 * count)
                    .filter_map(|email| email.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let (deleted, unsubscribed) = emails.split_at(count.min(emails.len()));
        let http = reqwest::Client::new();
        for (action, emails) in [("delete", deleted), ("unsubscribe", unsubscribed)] {
            http.post(format!("{base}/__sandbox/contacts/{action}"))
                .json(&serde_json::json!({ "emails": emails }))
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(count)
    }

    /// How many requests the sandbox has answered with 429 `throttled` so far.
    pub(super) async fn throttled(&self) -> anyhow::Result<usize> {
        let log: serde_json::Value =
            reqwest::get(format!("{}/__sandbox/requests", self.base_url()))
                .await?
                .json()
                .await?;
        Ok(log["requests"].as_array().map_or(0, |requests| {
            requests
                .iter()
                .filter(|request| request["status"] == 429)
                .count()
        }))
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
