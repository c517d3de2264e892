//! Sample orders of the sample profiles, written to Parquet a day at a time, oldest first (as
//! an order table grows), so that fifty million of them never sit in memory at once.
//!
//! Every seventh profile never ordered; the others order at random over the last two years,
//! about `per_profile` orders each. Most orders are paid, some refunded or pending; amounts run
//! from 5 to 300.

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, Utc};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::sample::parquet_writer;

const DAYS: i64 = 730;
const CATEGORIES: &[&str] = &["outdoor", "footwear", "apparel", "home", "electronics"];

pub(crate) fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, false),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// Writes about `per_profile` orders for each of `profiles` profiles and returns how many it
/// wrote; `on_day` hears the orders written so far.
pub(crate) fn write_orders(
    path: &Path,
    profiles: usize,
    per_profile: usize,
    seed: u64,
    on_day: impl FnMut(usize),
) -> anyhow::Result<usize> {
    write_orders_of(path, 0..profiles, per_profile, seed, on_day)
}

/// As [`write_orders`], for the profiles whose ids are `customers` (one part of many: order ids
/// start at `customers.start * per_profile`, so that parts never share one).
pub(crate) fn write_orders_of(
    path: &Path,
    customers: std::ops::Range<usize>,
    per_profile: usize,
    seed: u64,
    mut on_day: impl FnMut(usize),
) -> anyhow::Result<usize> {
    let profiles = customers.len();
    let first_order = customers.start * per_profile;
    let mut writer = parquet_writer(path, schema(), None)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let total = profiles * per_profile;
    let now = Utc::now();
    let mut written = 0;
    for day in 0..DAYS {
        let rows = (total * (day as usize + 1) / DAYS as usize) - written;
        let start = now - Duration::days(DAYS - day);
        let ids = first_order + written;
        writer.write(&day_of_orders(&mut rng, ids, rows, &customers, start)?)?;
        written += rows;
        on_day(written);
    }
    writer.close()?;
    Ok(written)
}

fn day_of_orders(
    rng: &mut StdRng,
    first_id: usize,
    rows: usize,
    customers: &std::ops::Range<usize>,
    start: chrono::DateTime<Utc>,
) -> anyhow::Result<RecordBatch> {
    let (first, last) = (
        customers.start as i64,
        customers.end.max(customers.start + 1) as i64 - 1,
    );
    let mut times: Vec<i64> = (0..rows)
        .map(|_| (start + Duration::seconds(rng.gen_range(0..86_400))).timestamp_micros())
        .collect();
    times.sort_unstable();
    let customers: Vec<i64> = (0..rows)
        .map(|_| {
            let customer = rng.gen_range(first..=last);
            // Every seventh profile never ordered: its orders go to the next profile.
            if customer % 7 == 0 {
                (customer + 1).min(last)
            } else {
                customer
            }
        })
        .collect();
    let statuses: Vec<&str> = (0..rows)
        .map(|_| match rng.gen_range(0..100) {
            0..85 => "paid",
            85..95 => "refunded",
            _ => "pending",
        })
        .collect();
    let categories: Vec<&str> = (0..rows)
        .map(|_| CATEGORIES[rng.gen_range(0..CATEGORIES.len())])
        .collect();
    let amounts: Vec<f64> = (0..rows)
        .map(|_| (rng.gen_range(5.0..300.0_f64) * 100.0).round() / 100.0)
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            (first_id..first_id + rows).map(|id| id as i64),
        )),
        Arc::new(Int64Array::from(customers)),
        Arc::new(StringArray::from(statuses)),
        Arc::new(StringArray::from(categories)),
        Arc::new(Float64Array::from(amounts)),
        Arc::new(TimestampMicrosecondArray::from(times).with_timezone("UTC")),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}
