//! Generated profiles, kept both as Rust rows (for the independent evaluator) and as files.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use segsync_engine::datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::parquet::arrow::ArrowWriter;

pub const COUNTRIES: &[&str] = &["US", "us", "CA", "GB", "FR", " ", ""];
pub const NAMES: &[&str] = &[
    "Ada",
    "ada",
    "Zoë",
    "O'Brien",
    "Adam",
    "Bea",
    "Ó Súilleabháin",
    // Lower-cased, these meet other names only as `lower()` has it: a final sigma, the Kelvin
    // sign that lowers to an ASCII `k`, a long s that stays apart from `s`, a dotted capital I
    // that lowers to two characters.
    "ΟΔΥΣΣΕΥΣ",
    "οδυσσευς",
    "\u{212A}elvin",
    "Kelvin",
    "ſam",
    "Sam",
    "İstanbul",
    "i\u{307}stanbul",
];

#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub name: Option<String>,
    pub country: Option<String>,
    pub age: Option<i64>,
    pub score: Option<f64>,
    pub joined: Option<NaiveDate>,
    pub seen_at: Option<DateTime<Utc>>,
    pub active: Option<bool>,
}

/// The run's fixed time for relative dates.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

pub fn rows(count: usize, seed: u64) -> Vec<Row> {
    let mut rng = StdRng::seed_from_u64(seed);
    let maybe = |rng: &mut StdRng| rng.gen_ratio(9, 10);
    (0..count)
        .map(|i| Row {
            id: i as i64,
            name: maybe(&mut rng).then(|| NAMES[rng.gen_range(0..NAMES.len())].to_owned()),
            country: maybe(&mut rng)
                .then(|| COUNTRIES[rng.gen_range(0..COUNTRIES.len())].to_owned()),
            age: maybe(&mut rng).then(|| rng.gen_range(15..90)),
            score: maybe(&mut rng).then(|| f64::from(rng.gen_range(0..1000)) / 10.0),
            joined: maybe(&mut rng)
                .then(|| now().date_naive() - Duration::days(rng.gen_range(0..400))),
            seen_at: maybe(&mut rng).then(|| now() - Duration::hours(rng.gen_range(0..24 * 200))),
            active: maybe(&mut rng).then(|| rng.gen_bool(0.5)),
        })
        .collect()
}

pub fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("age", DataType::Int64, true),
        Field::new("score", DataType::Float64, true),
        Field::new("joined", DataType::Date32, true),
        Field::new(
            "seen_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("active", DataType::Boolean, true),
    ]))
}

pub fn batch(rows: &[Row]) -> RecordBatch {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.country.clone()).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.age).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            rows.iter().map(|r| r.score).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            rows.iter()
                .map(|r| r.joined.map(|d| (d - epoch).num_days() as i32))
                .collect::<Vec<_>>(),
        )),
        Arc::new(
            TimestampMicrosecondArray::from(
                rows.iter()
                    .map(|r| r.seen_at.map(|t| t.timestamp_micros()))
                    .collect::<Vec<_>>(),
            )
            .with_timezone("UTC"),
        ),
        Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.active).collect::<Vec<_>>(),
        )),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

pub fn write_parquet(path: &std::path::Path, rows: &[Row]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, schema(), None).unwrap();
    for chunk in rows.chunks(1_000) {
        writer.write(&batch(chunk)).unwrap();
    }
    writer.close().unwrap();
}
