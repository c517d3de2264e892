//! The rows a related table's measures count are chosen in its scan, where Parquet statistics
//! can skip row groups: orders written oldest first, a window over the last weeks, and the
//! scan reads only the row groups that window reaches.

use std::sync::Arc;

use chrono::Duration;
use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_engine::datafusion::arrow::array::{ArrayRef, Int64Array, TimestampMicrosecondArray};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::parquet::arrow::ArrowWriter;
use segsync_engine::datafusion::parquet::file::properties::WriterProperties;
use segsync_engine::{ProfileSource, Profiles, RelatedTable};

use crate::differential::clock;
use crate::fixtures;

const PROFILES: usize = 2_000;
/// Row groups of the orders, each twenty days of them, oldest first.
const ROW_GROUPS: i64 = 20;
const ORDERS_PER_DAY: i64 = 50;

/// Orders over the last 400 days, oldest first, a row group per twenty days; customer `n`
/// orders on the days `d` with `d % 7 == n % 7`.
fn write_orders(path: &std::path::Path) {
    let now = clock().now;
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]));
    let rows_per_group = (20 * ORDERS_PER_DAY) as usize;
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(properties)).unwrap();
    for days_ago in (0..ROW_GROUPS * 20).rev() {
        let customers = (0..ORDERS_PER_DAY).map(|i| (days_ago % 7) + 7 * i);
        let at = (now - Duration::days(days_ago) - Duration::hours(1)).timestamp_micros();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(customers)),
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(std::iter::repeat_n(
                    at,
                    ORDERS_PER_DAY as usize,
                ))
                .with_timezone("UTC"),
            ),
        ];
        writer
            .write(&RecordBatch::try_new(schema.clone(), columns).unwrap())
            .unwrap();
    }
    writer.close().unwrap();
}

/// `(total, matched)` of `row_groups_pruned_statistics` on the scan of `file` in a plan with
/// metrics.
fn row_groups_read(plan: &str, file: &str) -> (u64, u64) {
    let scan = plan
        .lines()
        .find(|line| line.contains("DataSourceExec") && line.contains(file))
        .unwrap_or_else(|| panic!("no scan of {file} in\n{plan}"));
    let metric = scan
        .split("row_groups_pruned_statistics=")
        .nth(1)
        .unwrap_or_else(|| panic!("no row-group metrics in {scan}"));
    let mut numbers = metric
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse::<u64>().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

#[tokio::test]
async fn a_window_over_related_rows_skips_the_row_groups_it_cannot_reach() {
    let folder = tempfile::tempdir().unwrap();
    let profiles_path = folder.path().join("profiles.parquet");
    let orders_path = folder.path().join("orders.parquet");
    fixtures::write_parquet(&profiles_path, &fixtures::rows(PROFILES, 4));
    write_orders(&orders_path);
    let profiles = Profiles::open(ProfileSource::new(profiles_path.to_string_lossy()))
        .await
        .unwrap()
        .relate(&[RelatedTable {
            name: "orders".into(),
            source: ProfileSource::new(orders_path.to_string_lossy()),
            key: "customer_id".into(),
            profile_key: "id".into(),
            dated_by: Some("ordered_at".into()),
        }])
        .await
        .unwrap();
    let segments = parse_segments(
        "segments:\n  - name: bought-lately\n    rule: { has: orders, at_least: 3, window: { op: within_last, amount: 30, unit: days } }\n",
        SegmentFormat::Yaml,
        "t.yaml",
    )
    .unwrap();
    let memberships = vec![
        profiles
            .segment_expr(&segments[0], &segments, &clock())
            .unwrap(),
    ];
    let explained = profiles.explain_counts(&memberships).await.unwrap();
    let (total, matched) = row_groups_read(&explained[0].1, "orders.parquet");
    assert_eq!(total, ROW_GROUPS as u64);
    // Thirty days reach the last two row groups (and a third at a day's edge), not twenty.
    assert!(
        matched <= 3,
        "{matched} of {total} row groups read:\n{}",
        explained[0].1
    );
    // Counted here: each customer orders every seventh day, so four or five times in 30 days;
    // the customers are those below 7 × ORDERS_PER_DAY that are profiles.
    let expected = (0..7 * ORDERS_PER_DAY)
        .filter(|&customer| (customer as usize) < PROFILES)
        .count() as u64;
    assert_eq!(
        profiles.count_each(&memberships).await.unwrap(),
        vec![expected]
    );
}
