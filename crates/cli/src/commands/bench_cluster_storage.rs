//! (l) of `segsync bench --only cluster`: the three behaviour segments of (f) over the
//! partitioned profiles and five orders each, both in object storage (moto's S3 server),
//! counted embedded (this process reads the bucket) and on the loopback cluster (the executors
//! read it with their own `--source-options`), median of three; the counts must agree.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use segsync_domain::segment::{RunClock, SegmentFormat, parse_segments};
use segsync_engine::{EngineSettings, Membership, Profiles, RelatedTable};

use super::bench::{peak_memory_mb, reset_peak_memory};
use super::bench_cluster::ROWS_PER_PART;
use super::bench_duckdb::BEHAVIOUR_SEGMENTS;
use super::bench_sources::MotoProcess;
use crate::progress::counter;
use crate::sample_orders::write_orders_of;

/// Orders per profile, as in (f).
const ORDERS_PER_PROFILE: usize = 5;

/// What the two executors of the loopback cluster may hold together, about: each takes a share
/// of the machine's memory (Ballista's default).
const EXECUTORS_MEMORY_GIB: u64 = 4;

fn is_memory_budget(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<segsync_engine::EngineError>(),
        Some(segsync_engine::EngineError::MemoryBudget { .. })
    )
}

pub(super) struct ObjectStorageBench<'a> {
    pub(super) folder: &'a Path,
    /// The profiles' parts, ten million each.
    pub(super) parts: &'a [PathBuf],
    pub(super) moto: &'a MotoProcess,
    /// The scheduler's address.
    pub(super) cluster: &'a str,
}

impl ObjectStorageBench<'_> {
    pub(super) async fn run(&self) -> anyhow::Result<()> {
        let mut out = std::io::stdout();
        let profiles = self.parts.len() * ROWS_PER_PART;
        let mut orders = 0;
        let mut bytes = 0;
        for (part, profile_file) in self.parts.iter().enumerate() {
            let (orders_file, written) = self.orders_part(part)?;
            orders += written;
            bytes +=
                std::fs::metadata(profile_file)?.len() + std::fs::metadata(&orders_file)?.len();
            self.moto
                .upload(
                    profile_file,
                    &format!("lake/profiles/part-{part:02}.parquet"),
                )
                .await?;
            self.moto
                .upload(&orders_file, &format!("lake/orders/part-{part:02}.parquet"))
                .await?;
        }
        writeln!(
            out,
            "(l) behaviour segments over {profiles} profiles and {orders} orders in object \
             storage (moto's S3 server, {:.1} GB of Parquet), embedded and on the loopback \
             cluster, median of three",
            bytes as f64 / 1e9
        )?;
        let segments = parse_segments(BEHAVIOUR_SEGMENTS, SegmentFormat::Yaml, "bench")
            .map_err(|problems| anyhow::anyhow!("{problems:?}"))?;
        let related = RelatedTable {
            name: "orders".to_owned(),
            source: self.moto.source("lake/orders/"),
            key: "customer_id".to_owned(),
            profile_key: "profile_id".to_owned(),
            dated_by: Some("ordered_at".to_owned()),
        };
        let open = |settings: EngineSettings| {
            let source = self.moto.source("lake/profiles/");
            let related = related.clone();
            async move {
                Profiles::open_with(source, &settings)
                    .await?
                    .relate(&[related])
                    .await
            }
        };
        let clock = RunClock::new(Utc::now(), chrono_tz::UTC);
        let memberships = {
            let planning = open(EngineSettings::default()).await?;
            segments
                .iter()
                .map(|segment| planning.segment_expr(segment, &segments, &clock))
                .collect::<Result<Vec<_>, _>>()?
        };
        // Either side may fail where the other does not (the embedded engine past its memory
        // limit, say): what failed is said, and the other side still measured.
        reset_peak_memory();
        let embedded = match open(EngineSettings::default()).await {
            Ok(profiles) => median_of_three(&profiles, &memberships).await,
            Err(error) => Err(error.into()),
        };
        let mut embedded_peak = peak_memory_mb();
        // Past the engine's default limit, the embedded engine is given what the cluster's two
        // executors may hold together, so that both sides are timed.
        let embedded = match embedded {
            Err(error) if is_memory_budget(&error) => {
                writeln!(
                    out,
                    "    embedded at its default memory limit: failed: {error:#}"
                )?;
                let limit = segsync_engine::ByteSize::gib(EXECUTORS_MEMORY_GIB);
                reset_peak_memory();
                let retried = match open(EngineSettings::default().with_memory_limit(limit)).await {
                    Ok(profiles) => median_of_three(&profiles, &memberships).await,
                    Err(error) => Err(error.into()),
                };
                embedded_peak = peak_memory_mb();
                writeln!(out, "    embedded again with memory_limit = {limit}:")?;
                retried
            }
            other => other,
        };
        let settings = EngineSettings::default().with_cluster(Some(self.cluster.to_owned()));
        let on_cluster = match open(settings).await {
            Ok(profiles) => median_of_three(&profiles, &memberships).await,
            Err(error) => Err(error.into()),
        };
        let counted = match (&embedded, &on_cluster) {
            (Ok((here, _)), Ok((there, _))) => {
                anyhow::ensure!(
                    here == there,
                    "the cluster counted {there:?}, the embedded engine {here:?}"
                );
                Some(here)
            }
            (Ok((here, _)), Err(_)) => Some(here),
            (Err(_), Ok((there, _))) => Some(there),
            (Err(_), Err(_)) => None,
        };
        if let Some(counted) = counted {
            for (segment, members) in segments.iter().zip(counted) {
                writeln!(out, "    {:<30} {members:>11} members", segment.name)?;
            }
        }
        match &embedded {
            Ok((_, seconds)) => writeln!(
                out,
                "    embedded: the three together in {seconds:.2} s (peak {embedded_peak} MB of \
                 this process)"
            )?,
            Err(error) => writeln!(out, "    embedded: failed: {error:#}")?,
        }
        match (&on_cluster, &embedded) {
            (Ok((_, there)), Ok((_, here))) => writeln!(
                out,
                "    cluster: the three together in {there:.2} s ({:.2}× embedded)",
                there / here
            )?,
            (Ok((_, there)), Err(_)) => {
                writeln!(out, "    cluster: the three together in {there:.2} s")?;
            }
            (Err(error), _) => writeln!(out, "    cluster: failed: {error:#}")?,
        }
        Ok(())
    }

    /// The orders of the profiles of part `part`, generated once; with how many it holds.
    fn orders_part(&self, part: usize) -> anyhow::Result<(PathBuf, usize)> {
        let folder = self.folder.join("cluster-orders");
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("part-{part:02}.parquet"));
        let expected = ROWS_PER_PART * ORDERS_PER_PROFILE;
        if !path.exists() {
            let partial = path.with_extension("partial");
            let bar = counter(
                expected as u64,
                &format!("generating orders of part {part}"),
            );
            let first = part * ROWS_PER_PART;
            write_orders_of(
                &partial,
                first..first + ROWS_PER_PART,
                ORDERS_PER_PROFILE,
                300 + part as u64,
                |written| bar.set_position(written as u64),
            )?;
            bar.finish_and_clear();
            std::fs::rename(&partial, &path)?;
        }
        Ok((path, expected))
    }
}

/// Each segment's members, and the median wall time of three counts of them together.
async fn median_of_three(
    profiles: &Profiles,
    memberships: &[Membership],
) -> anyhow::Result<(Vec<u64>, f64)> {
    let mut timings = [0.0; 3];
    let mut members = Vec::new();
    for timing in &mut timings {
        let started = Instant::now();
        members = profiles.count_each(memberships).await?;
        *timing = started.elapsed().as_secs_f64();
    }
    timings.sort_by(f64::total_cmp);
    Ok((members, timings[1]))
}
