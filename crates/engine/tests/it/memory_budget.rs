//! Segments over related tables within the engine's memory limit: the grouped related rows
//! spill to disk and the members stay the same; measures too many for a hash table within the
//! limit are joined by sorting — from the start when the profiles' statistics say so, after the
//! hash join ran out otherwise, and counts too large to join at once are made in passes over
//! parts of the keys; a limit too small for what cannot spill fails with a clear error
//! naming the limit, not a read error and not the machine's memory. Many profiles' measures are
//! grouped in finer partitions than the cores, with the same members.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use segsync_domain::segment::{SegmentDefinition, SegmentFormat, parse_segments};
use segsync_engine::datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, TimestampMicrosecondArray,
};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::parquet::arrow::ArrowWriter;
use segsync_engine::{
    ByteSize, EngineError, EngineSettings, Evaluations, MemberQuery, ProfileSource, Profiles,
    RelatedTable,
};

use crate::differential::{clock, streamed_ids};
use crate::fixtures;

const PROFILES: usize = 60_000;
const ORDERS: usize = 600_000;

/// `count` orders spread over `profiles` profiles, dated over the last 200 days, as (customer,
/// amount, days ago).
fn orders(profiles: usize, count: usize) -> Vec<(i64, f64, i64)> {
    let mut rng = StdRng::seed_from_u64(5);
    (0..count)
        .map(|_| {
            (
                rng.gen_range(0..profiles as i64),
                f64::from(rng.gen_range(1..20_000)) / 100.0,
                rng.gen_range(0..200),
            )
        })
        .collect()
}

fn write_orders(path: &std::path::Path, orders: &[(i64, f64, i64)]) {
    let now = clock().now;
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, false),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]));
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema.clone(), None).unwrap();
    for chunk in orders.chunks(50_000) {
        let columns: Vec<ArrayRef> =
            vec![
                Arc::new(Int64Array::from_iter_values(chunk.iter().map(|o| o.0))),
                Arc::new(Float64Array::from_iter_values(chunk.iter().map(|o| o.1))),
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values(chunk.iter().map(|o| {
                        (now - Duration::days(o.2) - Duration::hours(1)).timestamp_micros()
                    }))
                    .with_timezone("UTC"),
                ),
            ];
        writer
            .write(&RecordBatch::try_new(schema.clone(), columns).unwrap())
            .unwrap();
    }
    writer.close().unwrap();
}

/// Profiles and their orders in a temporary folder, opened as many times as a test needs.
struct Data {
    folder: tempfile::TempDir,
    profiles: usize,
    orders: Vec<(i64, f64, i64)>,
}

impl Data {
    fn generate() -> Self {
        Self::generate_sized(PROFILES, ORDERS)
    }

    fn generate_sized(profiles: usize, order_count: usize) -> Self {
        let folder = tempfile::tempdir().unwrap();
        fixtures::write_parquet(
            &folder.path().join("profiles.parquet"),
            &fixtures::rows(profiles, 9),
        );
        let orders = orders(profiles, order_count);
        write_orders(&folder.path().join("orders.parquet"), &orders);
        Self {
            folder,
            profiles,
            orders,
        }
    }

    async fn open(&self, settings: &EngineSettings) -> Profiles {
        self.open_profiles("profiles.parquet", settings).await
    }

    /// The profiles' ids alone as CSV, which has no statistics to count its rows by.
    async fn open_as_csv(&self, settings: &EngineSettings) -> Profiles {
        let ids: String = (0..self.profiles).map(|id| format!("{id}\n")).collect();
        std::fs::write(self.path("profiles.csv"), format!("id\n{ids}")).unwrap();
        self.open_profiles("profiles.csv", settings).await
    }

    async fn open_profiles(&self, file: &str, settings: &EngineSettings) -> Profiles {
        Profiles::open_with(ProfileSource::new(self.path(file)), settings)
            .await
            .unwrap()
            .relate(&[self.orders_table()])
            .await
            .unwrap()
    }

    fn path(&self, name: &str) -> String {
        self.folder.path().join(name).to_string_lossy().into_owned()
    }

    /// The orders, related to the profiles by their id.
    fn orders_table(&self) -> RelatedTable {
        RelatedTable {
            name: "orders".into(),
            source: ProfileSource::new(self.path("orders.parquet")),
            key: "customer_id".into(),
            profile_key: "id".into(),
            dated_by: Some("ordered_at".into()),
        }
    }

    /// The profiles with at least three orders in the last 90 days, and those that spent more
    /// than 1,000 in all, counted here.
    fn expected(&self) -> (u64, u64) {
        let mut per_profile: HashMap<i64, (u64, f64)> = HashMap::new();
        for (customer, amount, days_ago) in &self.orders {
            let entry = per_profile.entry(*customer).or_default();
            if *days_ago < 90 {
                entry.0 += 1;
            }
            entry.1 += amount;
        }
        (
            per_profile
                .values()
                .filter(|(recent, _)| *recent >= 3)
                .count() as u64,
            per_profile
                .values()
                .filter(|(_, spent)| *spent > 1_000.0)
                .count() as u64,
        )
    }
}

const SEGMENTS: &str = r#"segments:
  - name: three-in-90-days
    rule: { has: orders, at_least: 3, window: { op: within_last, amount: 90, unit: days } }
  - name: spent-over-1000
    rule: { measure: sum, of: amount, over: orders, op: greater_than, value: 1000 }
"#;

fn segments() -> Vec<SegmentDefinition> {
    parse_segments(SEGMENTS, SegmentFormat::Yaml, "t.yaml").unwrap()
}

/// The members of either segment, by id.
fn both_segments(profiles: &Profiles) -> MemberQuery {
    let segments = segments();
    MemberQuery {
        columns: vec!["id".into()],
        segments: segments
            .iter()
            .map(|segment| {
                (
                    segment.name.clone(),
                    profiles.segment_expr(segment, &segments, &clock()).unwrap(),
                )
            })
            .collect(),
    }
}

async fn counts(profiles: &Profiles) -> Result<Vec<u64>, EngineError> {
    let segments = segments();
    let memberships = segments
        .iter()
        .map(|segment| profiles.segment_expr(segment, &segments, &clock()))
        .collect::<Result<Vec<_>, _>>()?;
    profiles.count_each(&memberships).await
}

#[tokio::test]
async fn grouping_spills_past_the_limit_and_the_members_stay_the_same() {
    let data = Data::generate();
    let (three_in_90_days, spent_over_1000) = data.expected();
    let spill = tempfile::tempdir().unwrap();
    // 4 MiB holds the joined measures (about 1 MB here) but not the grouped orders: without a
    // disk to spill to, this limit fails the count.
    let tight = EngineSettings {
        memory_limit: ByteSize::mib(4),
        spill_directory: Some(spill.path().to_owned()),
        sort_merge_joins: false,
        ..EngineSettings::default()
    };
    let within_limit = data.open(&tight).await;
    assert_eq!(
        counts(&within_limit).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );

    // A member stream of both segments under the same limit gives the members the default
    // settings give.
    let roomy = data.open(&EngineSettings::default()).await;
    let streamed = streamed_ids(&within_limit, &both_segments(&within_limit)).await;
    assert_eq!(streamed, streamed_ids(&roomy, &both_segments(&roomy)).await);
    assert!(streamed.len() as u64 >= three_in_90_days.max(spent_over_1000));
}

#[tokio::test]
async fn a_limit_too_small_for_the_measures_fails_naming_the_limit() {
    let data = Data::generate();
    let starved = EngineSettings::default().with_memory_limit(ByteSize::kib(64));
    let profiles = data.open(&starved).await;
    let error = counts(&profiles).await.unwrap_err();
    assert!(
        matches!(error, EngineError::MemoryBudget { limit, .. } if limit == ByteSize::kib(64)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("memory_limit in [engine]")
            && message.contains("sort_merge_joins")
            && message.contains("64.0 KiB"),
        "{message}"
    );
}

#[tokio::test]
async fn sort_merge_joins_spill_the_join_and_count_the_same() {
    let data = Data::generate();
    let (three_in_90_days, spent_over_1000) = data.expected();
    // Sorting merges what it spilled with buffers that cannot spill: a few MB here, which
    // leaves the limit less room than hashing needs at this small size (at ten million
    // profiles it is the other way round; see the README's benchmark).
    let limit = EngineSettings::default().with_memory_limit(ByteSize::mib(16));
    let explained = |profiles: Profiles| async move {
        let segments = segments();
        let membership = profiles
            .segment_expr(&segments[1], &segments, &clock())
            .unwrap();
        profiles.explain(membership).await.unwrap()
    };
    let hashed = explained(data.open(&limit).await).await;
    assert!(hashed.contains("HashJoinExec"), "{hashed}");

    // Joined by sorting both sides, which spills, rather than by a hash table of the
    // measures, which cannot: the members stay the same.
    let sorting = limit.with_sort_merge_joins(true);
    let sorted = explained(data.open(&sorting).await).await;
    assert!(
        sorted.contains("SortMergeJoin") && !sorted.contains("HashJoinExec"),
        "{sorted}"
    );
    assert_eq!(
        counts(&data.open(&sorting).await).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );
}

#[tokio::test]
async fn measures_too_many_for_a_hash_table_within_the_limit_are_joined_by_sorting() {
    // The measures of 600,000 customers need more than 10 MiB as a hash table, which cannot
    // spill (hash joins alone fail at 12 MiB); joined by sorting, which spills, they fit.
    let data = Data::generate_sized(600_000, 1_200_000);
    let (three_in_90_days, spent_over_1000) = data.expected();
    let limit = EngineSettings::default().with_memory_limit(ByteSize::mib(10));
    let roomy = data.open(&EngineSettings::default()).await;
    let expected_members = streamed_ids(&roomy, &both_segments(&roomy)).await;

    // Parquet says how many profiles there are: the join is made by sorting from the start.
    let counted_rows = data.open(&limit).await;
    let segments = segments();
    let membership = counted_rows
        .segment_expr(&segments[0], &segments, &clock())
        .unwrap();
    let plan = counted_rows.explain(membership).await.unwrap();
    assert!(
        plan.contains("SortMergeJoin") && !plan.contains("HashJoinExec"),
        "{plan}"
    );
    assert_eq!(
        counts(&counted_rows).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );
    let streamed = streamed_ids(&counted_rows, &both_segments(&counted_rows)).await;
    assert_eq!(streamed, expected_members);

    // CSV does not: the hash join is tried, runs out of memory before the first member, and
    // the count and the member stream are made again by sorting.
    let uncounted = data.open_as_csv(&limit).await;
    let membership = uncounted
        .segment_expr(&segments[0], &segments, &clock())
        .unwrap();
    let plan = uncounted.explain(membership).await.unwrap();
    assert!(plan.contains("HashJoinExec"), "{plan}");
    assert_eq!(
        counts(&uncounted).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );
    let streamed = streamed_ids(&uncounted, &both_segments(&uncounted)).await;
    assert_eq!(streamed, expected_members);
}

#[tokio::test]
async fn a_count_whose_measures_outgrow_the_limit_is_made_in_passes_over_parts_of_the_keys() {
    // The measures of 600,000 customers take about 29 MB as a hash table, far over three
    // quarters of 10 MiB: the count is made in four passes, each joining by hashing the
    // measures of the profiles whose ids fall in its part, and the passes' counts add up.
    let data = Data::generate_sized(600_000, 1_200_000);
    let (three_in_90_days, spent_over_1000) = data.expected();
    let profiles = data
        .open(&EngineSettings::default().with_memory_limit(ByteSize::mib(10)))
        .await;
    let segments = segments();
    let memberships: Vec<_> = segments
        .iter()
        .map(|segment| profiles.segment_expr(segment, &segments, &clock()).unwrap())
        .collect();

    let explained = profiles.explain_counts(&memberships).await.unwrap();
    assert_eq!(explained.len(), 4, "one plan per pass");
    for (part, (counted, plan)) in explained.iter().enumerate() {
        assert_eq!(counted, &[0, 1]);
        assert!(
            plan.contains(&format!("key_in_part(id@0, {part}, 4)"))
                && plan.contains("key_in_part(")
                && plan.contains("HashJoinExec")
                && !plan.contains("SortMergeJoin"),
            "pass {part}: {plan}"
        );
    }
    assert_eq!(
        counts(&profiles).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );
}

#[tokio::test]
async fn the_join_holds_only_the_customers_whose_conditions_differ_from_having_no_orders() {
    // Nearly every profile has orders, about ten each, but few bought nine times in 90 days,
    // spent over 1,500 or ordered more than 14 times. The conditions are decided beside the
    // grouped orders: the join reads those few customers from the orders' side, and every
    // other profile reads what a profile without orders gets (`at_most: 14` true, the others
    // false). Few enough that the plan's metrics show their number exactly (under 1,000).
    let data = Data::generate_sized(3_000, 30_000);
    let segments = parse_segments(
        r#"segments:
  - name: nine-in-90-days
    rule: { has: orders, at_least: 9, window: { op: within_last, amount: 90, unit: days } }
  - name: spent-over-1500
    rule: { measure: sum, of: amount, over: orders, op: greater_than, value: 1500 }
  - name: at-most-14-orders
    rule: { has: orders, at_most: 14 }
"#,
        SegmentFormat::Yaml,
        "t.yaml",
    )
    .unwrap();
    let mut per_profile: HashMap<i64, (u64, f64, u64)> = HashMap::new();
    for (customer, amount, days_ago) in &data.orders {
        let entry = per_profile.entry(*customer).or_default();
        entry.0 += u64::from(*days_ago < 90);
        entry.1 += amount;
        entry.2 += 1;
    }
    let decided = |(recent, spent, all): (u64, f64, u64)| [recent >= 9, spent > 1_500.0, all <= 14];
    let without_orders = decided((0, 0.0, 0));
    let expected: Vec<u64> = (0..3)
        .map(|i| {
            (0..data.profiles as i64)
                .filter(|id| {
                    per_profile
                        .get(id)
                        .map_or(without_orders, |&measures| decided(measures))[i]
                })
                .count() as u64
        })
        .collect();
    let differing = per_profile
        .values()
        .filter(|&&measures| decided(measures) != without_orders)
        .count();
    assert!(
        differing > 0 && differing < 1_000 && differing * 5 < per_profile.len(),
        "few differ: {differing} of {}",
        per_profile.len()
    );

    let profiles = data.open(&EngineSettings::default()).await;
    let memberships: Vec<_> = segments
        .iter()
        .map(|segment| profiles.segment_expr(segment, &segments, &clock()).unwrap())
        .collect();
    assert_eq!(profiles.count_each(&memberships).await.unwrap(), expected);
    let explained = profiles.explain_counts(&memberships).await.unwrap();
    let [(_, plan)] = explained.as_slice() else {
        panic!("one counting query in one pass: {explained:?}");
    };
    assert_eq!(
        join_input_rows(plan, "orders.parquet"),
        differing as f64,
        "{plan}"
    );
}

/// The rows a plan's hash join reads from its input that reads `file`, as `EXPLAIN ANALYZE`
/// shows that input's `output_rows` (exact below 1,000, then `12.34 K`).
fn join_input_rows(plan: &str, file: &str) -> f64 {
    let lines: Vec<&str> = plan.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let join = lines
        .iter()
        .position(|line| line.contains("HashJoinExec"))
        .unwrap_or_else(|| panic!("no hash join: {plan}"));
    let depth = indent(lines[join]);
    let end = (join + 1..lines.len())
        .find(|&i| indent(lines[i]) <= depth)
        .unwrap_or(lines.len());
    let inputs: Vec<usize> = (join + 1..end)
        .filter(|&i| indent(lines[i]) == depth + 2)
        .collect();
    for (n, &start) in inputs.iter().enumerate() {
        let until = inputs.get(n + 1).copied().unwrap_or(end);
        if lines[start..until].iter().any(|line| line.contains(file)) {
            return metric(lines[start], "output_rows");
        }
    }
    panic!("no input of the join reads {file}: {plan}")
}

/// An operator's metric `name` on its line of an analysed plan: `123`, `12.34 K` or `1.20 M`.
fn metric(line: &str, name: &str) -> f64 {
    let at = line
        .find(&format!("{name}="))
        .unwrap_or_else(|| panic!("no {name}: {line}"));
    let value = &line[at + name.len() + 1..];
    let value = &value[..value.find([',', ']']).unwrap_or(value.len())];
    let (number, scale) = match value.split_once(' ') {
        Some((number, "K")) => (number, 1e3),
        Some((number, "M")) => (number, 1e6),
        Some((_, unit)) => panic!("unknown unit {unit:?}: {line}"),
        None => (value, 1.0),
    };
    number.parse::<f64>().unwrap() * scale
}

/// The partition counts of the hash repartitions in a plan.
fn hash_partitions(plan: &str) -> Vec<usize> {
    plan.match_indices("partitioning=Hash([")
        .map(|(at, _)| {
            let after = &plan[at..];
            let count = &after[after.find("], ").unwrap() + 3..];
            count[..count.find(|c: char| !c.is_ascii_digit()).unwrap()]
                .parse()
                .unwrap()
        })
        .collect()
}

async fn spent_over_1000_plan(profiles: &Profiles) -> String {
    let segments = segments();
    let membership = profiles
        .segment_expr(&segments[1], &segments, &clock())
        .unwrap();
    profiles.explain(membership).await.unwrap()
}

#[tokio::test]
async fn many_profiles_measures_are_grouped_in_finer_partitions_and_count_the_same() {
    // 600,000 profiles whose Parquet statistics count them: their orders are grouped and
    // joined in a partition per quarter million profiles (three), or one per core if there
    // are more, so that each partition's hash table stays small; the members stay the same.
    let cores = std::thread::available_parallelism().unwrap().get();
    let data = Data::generate_sized(600_000, 1_200_000);
    let (three_in_90_days, spent_over_1000) = data.expected();
    let profiles = data.open(&EngineSettings::default()).await;
    let plan = spent_over_1000_plan(&profiles).await;
    let partitions = hash_partitions(&plan);
    assert!(!partitions.is_empty(), "{plan}");
    assert!(
        partitions.iter().all(|&count| count == cores.max(3)),
        "{plan}"
    );
    assert!(plan.contains("HashJoinExec"), "{plan}");
    assert_eq!(
        counts(&profiles).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );

    // 128 MiB affords four partitions of 32 MiB; in an evaluation pool of two, which share
    // it, each evaluation's query affords two, so it keeps the cores' count.
    let shared = EngineSettings {
        max_concurrent_evaluations: 2,
        ..EngineSettings::default().with_memory_limit(ByteSize::mib(128))
    };
    let alone = data.open(&shared).await;
    let plan = spent_over_1000_plan(&alone).await;
    assert!(
        hash_partitions(&plan)
            .iter()
            .all(|&count| count == cores.max(3)),
        "{plan}"
    );
    let evaluations = Evaluations::new(&shared);
    let in_pool = evaluations
        .open(
            ProfileSource::new(data.path("profiles.parquet")),
            &[data.orders_table()],
            evaluations.try_place().unwrap(),
        )
        .await
        .unwrap();
    let plan = spent_over_1000_plan(&in_pool).await;
    assert!(
        hash_partitions(&plan).iter().all(|&count| count == cores),
        "{plan}"
    );
    assert_eq!(
        counts(&in_pool).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );

    // Within a limit that affords no more than the cores' partitions, the same members.
    let tight = data
        .open(&EngineSettings::default().with_memory_limit(ByteSize::mib(64)))
        .await;
    assert_eq!(
        counts(&tight).await.unwrap(),
        [three_in_90_days, spent_over_1000]
    );
}
