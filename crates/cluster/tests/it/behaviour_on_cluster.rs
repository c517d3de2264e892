//! Behaviour segments over related orders, several in one query as a preview counts them and an
//! export streams them, give on a cluster the counts the embedded engine gives.

use std::sync::Arc;

use chrono::Duration;
use segsync_domain::segment::{Rule, SegmentDefinition};
use segsync_engine::datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::parquet::arrow::ArrowWriter;
use segsync_engine::{EngineSettings, ProfileSource, Profiles, RelatedTable};
use serde_json::json;

use crate::differential::clock;
use crate::fixtures;
use crate::loopback_cluster::LoopbackCluster;

fn orders(profiles: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]));
    let now = fixtures::now();
    let mut ids = Vec::new();
    let mut amounts = Vec::new();
    let mut statuses = Vec::new();
    let mut times = Vec::new();
    for id in 0..profiles {
        for order in 0..(id % 5) {
            ids.push(Some(id));
            amounts.push(Some((id * 7 + order * 13) as f64 % 250.0));
            statuses.push(Some(if (id + order) % 3 == 0 {
                "refunded"
            } else {
                "paid"
            }));
            times.push(Some(
                (now - Duration::days((id * 11 + order * 17) % 200)).timestamp_micros(),
            ));
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(Float64Array::from(amounts)),
        Arc::new(StringArray::from(statuses)),
        Arc::new(TimestampMicrosecondArray::from(times).with_timezone("UTC")),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn segment(name: &str, rule: serde_json::Value) -> SegmentDefinition {
    SegmentDefinition {
        name: name.to_owned(),
        description: None,
        rule: serde_json::from_value::<Rule>(rule).unwrap(),
    }
}

async fn open(folder: &std::path::Path, settings: &EngineSettings) -> Profiles {
    Profiles::open_with(
        ProfileSource::new(folder.join("profiles").to_string_lossy()),
        settings,
    )
    .await
    .unwrap()
    .relate(&[RelatedTable {
        name: "orders".into(),
        source: ProfileSource::new(folder.join("orders").to_string_lossy()),
        key: "customer_id".into(),
        profile_key: "id".into(),
        dated_by: Some("ordered_at".into()),
    }])
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_behaviour_segments_in_one_query_count_the_same_on_a_cluster() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::create_dir(folder.path().join("profiles")).unwrap();
    std::fs::create_dir(folder.path().join("orders")).unwrap();
    let rows = fixtures::rows(2_000, 7);
    fixtures::write_parquet(&folder.path().join("profiles/part-0.parquet"), &rows);
    let batch = orders(2_000);
    let file = std::fs::File::create(folder.path().join("orders/part-0.parquet")).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let segments = vec![
        segment(
            "frequent",
            json!({ "has": "orders", "where": { "attribute": "status", "op": "equals", "value": "paid" },
                    "window": { "op": "within_last", "amount": 90, "unit": "days" }, "at_least": 2 }),
        ),
        segment(
            "big spenders",
            json!({ "all": [
                { "attribute": "country", "op": "is_not_null" },
                { "measure": "sum", "of": "amount", "over": "orders",
                  "where": { "attribute": "status", "op": "equals", "value": "paid" },
                  "window": { "op": "within_last", "amount": 90, "unit": "days" },
                  "op": "greater_than", "value": 100 }
            ] }),
        ),
        segment(
            "lapsed",
            json!({ "not": { "has": "orders", "window": { "op": "within_last", "amount": 30, "unit": "days" } } }),
        ),
    ];
    let embedded = open(folder.path(), &EngineSettings::default()).await;
    let cluster = LoopbackCluster::start(2).await;
    let on_cluster = open(folder.path(), &cluster.settings()).await;
    let memberships = |profiles: &Profiles| {
        segments
            .iter()
            .map(|segment| profiles.segment_expr(segment, &segments, &clock()).unwrap())
            .collect::<Vec<_>>()
    };
    let expected = embedded.count_each(&memberships(&embedded)).await.unwrap();
    assert!(expected.iter().all(|count| *count > 0), "{expected:?}");
    for segment in &segments {
        let alone = on_cluster
            .count(
                on_cluster
                    .segment_expr(segment, &segments, &clock())
                    .unwrap(),
            )
            .await
            .unwrap();
        let index = segments
            .iter()
            .position(|s| s.name == segment.name)
            .unwrap();
        assert_eq!(alone, expected[index], "{} alone", segment.name);
    }
    let together = on_cluster
        .count_each(&memberships(&on_cluster))
        .await
        .unwrap_or_else(|error| panic!("together: {error}"));
    assert_eq!(together, expected);

    // One stream for the three, as an export with several segments reads its members.
    let query = |profiles: &Profiles| segsync_engine::MemberQuery {
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
    };
    let embedded_members = crate::differential::streamed_ids(&embedded, &query(&embedded)).await;
    let cluster_members = crate::differential::streamed_ids(&on_cluster, &query(&on_cluster)).await;
    assert!(!embedded_members.is_empty());
    assert_eq!(cluster_members, embedded_members);
}
