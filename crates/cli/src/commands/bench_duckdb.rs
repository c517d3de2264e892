//! `segsync bench --only behaviour|parity`: whole processes side by side with DuckDB's
//! command-line tool on the same files, runs alternating.
//!
//! (f) three behaviour segments over 10,000,000 profiles and 50,000,000 orders, first counted
//! inside this process (median of three, with the peak memory), then as a whole
//! `segsync segments preview` process against `duckdb -c` running the equivalent SQL, and
//! the same process within a memory limit that makes the grouping spill;
//! (g) three ordinary segments over the same profiles, the same way.
//!
//! Each runs over the benchmark's own data and over data shaped otherwise (`--data`): wide
//! rows with many nulls in uneven files, orders skewed over the customers (see
//! `sample_varied`), so that no comparison is won on one data set's shape.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_engine::{ProfileSource, Profiles};

use super::bench::{
    count_three_times, generated_once, peak_memory_mb, profiles_file, reset_peak_memory,
};
use crate::cli::{BenchArgs, BenchData, related_table};
use crate::sample_orders::write_orders;
use crate::sample_varied::{parts_glob, write_skewed_orders, write_wide_profiles};

/// Rounds of each whole process, alternating.
const ROUNDS: usize = 5;

/// The memory limit of the behaviour counts' bounded processes, in MiB.
const BOUNDED_MIB: u64 = 256;

pub(super) const BEHAVIOUR_SEGMENTS: &str = r#"segments:
  - name: three-orders-in-90-days
    rule: { has: orders, at_least: 3, window: { op: within_last, amount: 90, unit: days } }
  - name: paid-over-500-in-365-days
    rule:
      measure: sum
      of: amount
      over: orders
      where: { attribute: status, op: equals, value: paid }
      window: { op: within_last, amount: 365, unit: days }
      op: greater_than
      value: 500
  - name: no-order-in-180-days
    rule: { not: { has: orders, window: { op: within_last, amount: 180, unit: days } } }
"#;

/// The same three counts in DuckDB's SQL; `{P}` and `{O}` are the profiles' and orders' files,
/// `{NOW}` the instant both sides count relative dates from. Amounts are summed exactly, as
/// segsync sums them.
pub(super) const BEHAVIOUR_SQL: &str = "\
SELECT count(*) FROM read_parquet('{P}') WHERE profile_id IN (SELECT customer_id FROM read_parquet('{O}') WHERE ordered_at >= {NOW} - INTERVAL 90 DAY AND ordered_at <= {NOW} GROUP BY customer_id HAVING count(*) >= 3);
SELECT count(*) FROM read_parquet('{P}') WHERE profile_id IN (SELECT customer_id FROM read_parquet('{O}') WHERE status = 'paid' AND ordered_at >= {NOW} - INTERVAL 365 DAY AND ordered_at <= {NOW} GROUP BY customer_id HAVING sum(CAST(amount AS DECIMAL(38, 9))) > 500);
SELECT count(*) FROM read_parquet('{P}') WHERE profile_id NOT IN (SELECT customer_id FROM read_parquet('{O}') WHERE ordered_at >= {NOW} - INTERVAL 180 DAY AND ordered_at <= {NOW});
";

pub(super) const ORDINARY_SEGMENTS: &str = r#"segments:
  - name: gold-us
    rule:
      all:
        - { attribute: tier, op: in, values: [gold, platinum] }
        - { attribute: country, op: equals, value: us, case_insensitive: true }
  - name: subscribed-big-spenders
    rule:
      all:
        - { attribute: newsletter_opt_in, op: is_true }
        - { attribute: lifetime_value, op: greater_or_equal, value: 1000 }
  - name: europe-recent
    rule:
      all:
        - { attribute: country, op: in, values: [FR, DE, IE] }
        - { attribute: last_purchase_at, op: within_last, amount: 90, unit: days }
"#;

pub(super) const ORDINARY_SQL: &str = "\
SELECT count(*) FROM read_parquet('{P}') WHERE tier IN ('gold', 'platinum') AND lower(country) = 'us';
SELECT count(*) FROM read_parquet('{P}') WHERE newsletter_opt_in AND lifetime_value >= 1000;
SELECT count(*) FROM read_parquet('{P}') WHERE country IN ('FR', 'DE', 'IE') AND last_purchase_at >= {NOW} - INTERVAL 90 DAY AND last_purchase_at <= {NOW};
";

/// The orders file of the behaviour benchmark, generated once: five per profile on average.
fn orders_file(folder: &Path, profiles: usize) -> anyhow::Result<PathBuf> {
    generated_once(
        folder.join(format!("orders-{}.parquet", profiles * 5)),
        profiles * 5,
        "generating orders",
        |path, progress| write_orders(path, profiles, 5, 17, progress),
    )
}

/// The files one comparison counts over, as segsync's flags and DuckDB's SQL name them.
pub(super) struct DataSet {
    pub(super) description: String,
    /// A file or a folder of files.
    profiles: PathBuf,
    /// What DuckDB's `read_parquet` reads: the file, or a glob of the folder's files.
    profiles_sql: String,
    orders: Option<(PathBuf, String)>,
}

impl DataSet {
    pub(super) fn uniform(
        folder: &Path,
        profiles: usize,
        with_orders: bool,
    ) -> anyhow::Result<Self> {
        let profiles_path = profiles_file(folder, profiles)?;
        let mut description = format!(
            "the benchmark's own data: {profiles} profiles of 12 columns ({:.0} MB of Parquet)",
            megabytes(&profiles_path)?
        );
        let orders = if with_orders {
            let orders_path = orders_file(folder, profiles)?;
            description += &format!(
                " and {} orders, about 5 per profile, by day ({:.0} MB)",
                profiles * 5,
                megabytes(&orders_path)?
            );
            let sql = orders_path.to_string_lossy().into_owned();
            Some((orders_path, sql))
        } else {
            None
        };
        Ok(Self {
            description,
            profiles_sql: profiles_path.to_string_lossy().into_owned(),
            profiles: profiles_path,
            orders,
        })
    }

    fn varied(folder: &Path, profiles: usize, with_orders: bool) -> anyhow::Result<Self> {
        let profiles_path = generated_once(
            folder.join(format!("varied-profiles-{profiles}")),
            profiles,
            "generating wide profiles",
            |path, progress| write_wide_profiles(path, profiles, 29, progress),
        )?;
        let mut description = format!(
            "varied data: {profiles} profiles of 40 columns with many nulls, in 4 files of \
             uneven row groups ({:.0} MB)",
            megabytes(&profiles_path)?
        );
        let orders = if with_orders {
            let orders_path = generated_once(
                folder.join(format!("varied-orders-{}", profiles * 5)),
                profiles * 5,
                "generating skewed orders",
                |path, progress| write_skewed_orders(path, profiles, 5, 31, progress),
            )?;
            description += &format!(
                " and {} orders skewed over the customers, in no order of time ({:.0} MB)",
                profiles * 5,
                megabytes(&orders_path)?
            );
            let sql = parts_glob(&orders_path).to_string_lossy().into_owned();
            Some((orders_path, sql))
        } else {
            None
        };
        Ok(Self {
            description,
            profiles_sql: parts_glob(&profiles_path).to_string_lossy().into_owned(),
            profiles: profiles_path,
            orders,
        })
    }

    /// The data sets `args` asks for.
    fn chosen(folder: &Path, args: &BenchArgs, with_orders: bool) -> anyhow::Result<Vec<Self>> {
        let mut sets = Vec::new();
        if args.data.includes(BenchData::Uniform) {
            sets.push(Self::uniform(folder, args.profiles, with_orders)?);
        }
        if args.data.includes(BenchData::Varied) {
            sets.push(Self::varied(folder, args.profiles, with_orders)?);
        }
        Ok(sets)
    }

    /// `sql` reading these files.
    pub(super) fn sql(&self, sql: &str) -> String {
        let sql = sql.replace("{P}", &self.profiles_sql);
        match &self.orders {
            Some((_, orders)) => sql.replace("{O}", orders),
            None => sql,
        }
    }

    /// segsync's `--related` flag for the orders.
    pub(super) fn related_flag(&self) -> Option<String> {
        self.orders.as_ref().map(|(orders, _)| {
            format!(
                "orders={},key=customer_id,profile_key=profile_id,dated_by=ordered_at",
                orders.display()
            )
        })
    }
}

pub(super) async fn behaviour_bench(folder: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let segments_file = folder.join("behaviour-segments.yaml");
    std::fs::write(&segments_file, BEHAVIOUR_SEGMENTS)?;
    for data in DataSet::chosen(folder, args, true)? {
        writeln!(out, "(f) behaviour segments over {}", data.description)?;
        let related = data.related_flag().expect("behaviour data has orders");
        if data.profiles.is_file() {
            count_in_this_process(&data.profiles, &related).await?;
        }
        side_by_side(
            args,
            &data,
            &segments_file,
            &["--related", &related],
            BEHAVIOUR_SQL,
            ROUNDS,
        )?;
        // The same process within a memory limit far below what the grouping takes
        // unbounded: the grouping and the sorts of a sort-merge join spill to disk (a hash
        // join's table of the measures, ten million profiles' worth, would not fit and cannot
        // spill). Measured as processes of their own, so that what an earlier count left to
        // the allocator does not count.
        let limit = format!("{BOUNDED_MIB}MiB");
        let mut bounded = Vec::new();
        for _ in 0..ROUNDS {
            bounded.push(measured(
                &std::env::current_exe()?,
                &preview_arguments(
                    &data.profiles,
                    &segments_file,
                    &[
                        "--related",
                        &related,
                        "--memory-limit",
                        &limit,
                        "--sort-merge-joins",
                    ],
                ),
            )?);
        }
        report(
            &mut out,
            &format!("the same, --memory-limit {limit} --sort-merge-joins"),
            &bounded,
        )?;
    }
    Ok(())
}

/// The behaviour segments counted inside this process, median of three, with its peak memory.
async fn count_in_this_process(profiles_path: &Path, related: &str) -> anyhow::Result<()> {
    let segments = parse_segments(BEHAVIOUR_SEGMENTS, SegmentFormat::Yaml, "bench")
        .map_err(|errors| anyhow::anyhow!("{errors:?}"))?;
    reset_peak_memory();
    let profiles = Profiles::open(ProfileSource::new(profiles_path.to_string_lossy()))
        .await?
        .relate(&[related_table(related)?])
        .await?;
    count_three_times(&profiles, &segments).await?;
    writeln!(
        std::io::stdout(),
        "    peak resident memory of this process while counting: {} MB",
        peak_memory_mb()
    )?;
    Ok(())
}

pub(super) async fn parity_bench(folder: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let segments_file = folder.join("ordinary-segments.yaml");
    std::fs::write(&segments_file, ORDINARY_SEGMENTS)?;
    for data in DataSet::chosen(folder, args, false)? {
        writeln!(
            std::io::stdout(),
            "(g) three ordinary segments over {}, whole processes",
            data.description
        )?;
        side_by_side(args, &data, &segments_file, &[], ORDINARY_SQL, ROUNDS)?;
    }
    Ok(())
}

/// The size of a file, or of the files in a folder.
fn megabytes(path: &Path) -> anyhow::Result<f64> {
    let mut bytes = 0;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            bytes += entry?.metadata()?.len();
        }
    } else {
        bytes = std::fs::metadata(path)?.len();
    }
    Ok(bytes as f64 / 1e6)
}

/// The medians of one side's rounds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Medians {
    pub(super) wall: f64,
    pub(super) cpu: f64,
    pub(super) peak_mb: f64,
}

/// A `segsync segments preview` process and, with `--duckdb`, a `duckdb -c` process counting
/// the same segments over `data` (`sql` with its files), `rounds` times alternating; prints
/// each one's medians and its counts, and fails when the counts differ. Returns segsync's
/// medians and DuckDB's.
pub(super) fn side_by_side(
    args: &BenchArgs,
    data: &DataSet,
    segments: &Path,
    extra: &[&str],
    sql: &str,
    rounds: usize,
) -> anyhow::Result<(Medians, Option<Medians>)> {
    let profiles = &data.profiles;
    let sql = data.sql(sql);
    let mut out = std::io::stdout();
    let segsync = std::env::current_exe()?;
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    // Both sides count relative dates as of one instant: orders cross a window's edge every
    // second, so two processes asking "now" a few seconds apart would count different members.
    let as_of = chrono::Utc::now();
    let as_of_flag = as_of.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let sql = sql.replace(
        "{NOW}",
        &format!("TIMESTAMPTZ '{}'", as_of.format("%Y-%m-%d %H:%M:%S%.6f+00")),
    );
    let mut preview = preview_arguments(profiles, segments, extra);
    preview.extend([
        std::ffi::OsStr::new("--as-of"),
        std::ffi::OsStr::new(&as_of_flag),
    ]);
    let query: Vec<&std::ffi::OsStr> = ["-noheader", "-csv", "-c", sql.as_str()]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .collect();
    for _ in 0..rounds {
        ours.push(measured(&segsync, &preview)?);
        if let Some(duckdb) = &args.duckdb {
            theirs.push(measured(duckdb, &query)?);
        }
    }
    let counts: Vec<String> = ours[0]
        .output
        .lines()
        .filter(|line| line.contains(" members"))
        .map(str::to_owned)
        .collect();
    writeln!(out, "    segsync: {}", counts.join("; "))?;
    let ours_medians = report(&mut out, "segsync segments preview (whole process)", &ours)?;
    if theirs.is_empty() {
        writeln!(out, "    (no --duckdb given: DuckDB's side left out)")?;
        return Ok((ours_medians, None));
    }
    let duckdb_counts: Vec<u64> = theirs[0]
        .output
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("DuckDB's counts: {:?}", theirs[0].output))?;
    let segsync_counts = member_counts(&counts)?;
    anyhow::ensure!(
        segsync_counts == duckdb_counts,
        "the counts differ: segsync {segsync_counts:?}, DuckDB {duckdb_counts:?}"
    );
    writeln!(out, "    DuckDB: the same counts")?;
    let theirs_medians = report(&mut out, "duckdb -c, same files and counts", &theirs)?;
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(&theirs)
        .map(|(ours, theirs)| ours.wall / theirs.wall)
        .collect();
    ratios.sort_by(f64::total_cmp);
    writeln!(
        out,
        "    segsync ÷ DuckDB, round by round: wall {:.2}× (median; {:.2}–{:.2}× over {} \
         alternated rounds); CPU {:.2}×, peak memory {:.2}× (ratios of medians)",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1],
        ratios.len(),
        ours_medians.cpu / theirs_medians.cpu,
        ours_medians.peak_mb / theirs_medians.peak_mb
    )?;
    Ok((ours_medians, Some(theirs_medians)))
}

/// The members of each segment a preview printed (`name — N members`), in order.
fn member_counts(lines: &[impl AsRef<str>]) -> anyhow::Result<Vec<u64>> {
    lines
        .iter()
        .map(|line| {
            let line = line.as_ref();
            let before = line.split(" members").next().unwrap_or_default().trim_end();
            before
                .rsplit(' ')
                .next()
                .unwrap_or_default()
                .replace(',', "")
                .parse::<u64>()
                .with_context(|| format!("a preview's count in {line:?}"))
        })
        .collect()
}

/// The arguments of a `segsync segments preview` that counts `segments` over `profiles`.
fn preview_arguments<'a>(
    profiles: &'a Path,
    segments: &'a Path,
    extra: &'a [&'a str],
) -> Vec<&'a std::ffi::OsStr> {
    let mut preview: Vec<&std::ffi::OsStr> = ["segments", "preview", "--rows", "0", "--profiles"]
        .into_iter()
        .map(std::ffi::OsStr::new)
        .collect();
    preview.extend([
        profiles.as_os_str(),
        "--segments".as_ref(),
        segments.as_os_str(),
    ]);
    preview.extend(extra.iter().map(std::ffi::OsStr::new));
    preview
}

/// Prints the medians of `runs` under `label`, and returns them.
fn report(out: &mut impl Write, label: &str, runs: &[Measured]) -> anyhow::Result<Medians> {
    let median = |pick: fn(&Measured) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let medians = Medians {
        wall: median(|m| m.wall),
        cpu: median(|m| m.cpu),
        peak_mb: median(|m| m.peak_mb),
    };
    writeln!(
        out,
        "    {label:<45} wall {:.3} s, CPU {:.3} s, peak memory {:.0} MB (medians of {})",
        medians.wall,
        medians.cpu,
        medians.peak_mb,
        runs.len()
    )?;
    Ok(medians)
}

/// What one whole process took.
struct Measured {
    wall: f64,
    /// User and system time.
    cpu: f64,
    peak_mb: f64,
    output: String,
}

/// GNU time, which reports a whole process's CPU time and peak memory (Debian's `time`).
const GNU_TIME: &str = "/usr/bin/time";

/// Runs `program` with `arguments` to its end under GNU time: its wall time, its CPU time and
/// its peak resident memory, as the kernel accounted them.
fn measured(program: &Path, arguments: &[&std::ffi::OsStr]) -> anyhow::Result<Measured> {
    if !Path::new(GNU_TIME).exists() {
        anyhow::bail!("{GNU_TIME} is missing: install GNU time (Debian's package `time`)");
    }
    let accounting = tempfile::NamedTempFile::new()?;
    let started = Instant::now();
    let output = Command::new(GNU_TIME)
        .arg("-f")
        .arg("%U %S %M")
        .arg("-o")
        .arg(accounting.path())
        .arg(program)
        .args(arguments)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("starting {}", program.display()))?;
    let wall = started.elapsed().as_secs_f64();
    if !output.status.success() {
        anyhow::bail!("{} failed (its errors are above)", program.display());
    }
    let accounted = std::fs::read_to_string(accounting.path())?;
    let fields: Vec<f64> = accounted
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(|field| field.parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading GNU time's {accounted:?}"))?;
    let [user, system, peak_kb] = fields[..] else {
        anyhow::bail!("GNU time wrote {accounted:?}");
    };
    Ok(Measured {
        wall,
        cpu: user + system,
        peak_mb: peak_kb / 1024.0,
        output: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::member_counts;

    #[test]
    fn a_preview_s_counts_are_read_in_order() {
        let lines = [
            "three-orders-in-90-days — 1,077,832 members",
            "no-order-in-180-days — 12 members (0.1 %)",
        ];
        assert_eq!(member_counts(&lines).unwrap(), vec![1_077_832, 12]);
        assert!(member_counts(&["gold — many members"]).is_err());
    }
}
