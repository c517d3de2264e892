//! Profiles and orders shaped unlike the engine's tests and the other benchmarks' data, so that
//! a comparison cannot be tuned to one data set: wide rows (40 columns, of which segments read
//! five), many nulls, mixed case, several files whose row groups differ in size; orders whose
//! counts per customer are heavily skewed (a few customers hold tens of thousands, many none),
//! in no order of time, with nulls in their status and amount.
//!
//! Written in chunks, a file at a time, so that tens of millions of rows never sit in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Duration, Utc};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::sample::parquet_writer;

/// How the rows are split over files: each file's share of the rows (in tenths) and the size of
/// its row groups, uneven on purpose.
const FILES: &[(usize, usize)] = &[(4, 1_048_576), (3, 150_000), (2, 20_000), (1, 400_000)];

/// Rows generated at a time.
const CHUNK: usize = 50_000;

/// The columns that are neither read by the benchmarks' segments nor needed by an export.
const FILLER_COLUMNS: usize = 33;

/// A filler column's name and type, by its number.
fn filler(index: usize) -> (String, DataType) {
    let kind = match index % 4 {
        0 => DataType::Utf8,
        1 => DataType::Int64,
        2 => DataType::Float64,
        _ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
    };
    (format!("attribute_{index:02}"), kind)
}

pub(crate) fn profiles_schema() -> Arc<Schema> {
    let mut fields = vec![
        Field::new("profile_id", DataType::Int64, false),
        Field::new("email", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("tier", DataType::Utf8, true),
        Field::new("lifetime_value", DataType::Float64, true),
        Field::new(
            "last_purchase_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("newsletter_opt_in", DataType::Boolean, true),
    ];
    fields.extend((0..FILLER_COLUMNS).map(|index| {
        let (name, kind) = filler(index);
        Field::new(name, kind, true)
    }));
    Arc::new(Schema::new(fields))
}

pub(crate) fn orders_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("status", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("channel", DataType::Utf8, true),
    ]))
}

/// Writes `count` wide profiles into `folder`, one Parquet file per entry of [`FILES`].
pub(crate) fn write_wide_profiles(
    folder: &Path,
    count: usize,
    seed: u64,
    mut on_chunk: impl FnMut(usize),
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut written = 0;
    write_files(folder, count, &profiles_schema(), |first, rows| {
        let batch = wide_profiles(&mut rng, first, rows)?;
        written += rows;
        on_chunk(written);
        Ok(batch)
    })
}

/// Writes about `per_profile × profiles` orders into `folder`, their customers skewed.
pub(crate) fn write_skewed_orders(
    folder: &Path,
    profiles: usize,
    per_profile: usize,
    seed: u64,
    mut on_chunk: impl FnMut(usize),
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut written = 0;
    write_files(
        folder,
        profiles * per_profile,
        &orders_schema(),
        |first, rows| {
            let batch = skewed_orders(&mut rng, first, rows, profiles)?;
            written += rows;
            on_chunk(written);
            Ok(batch)
        },
    )
}

/// The files of a folder written by this module, for a source or a DuckDB glob.
pub(crate) fn parts_glob(folder: &Path) -> PathBuf {
    folder.join("*.parquet")
}

fn write_files(
    folder: &Path,
    count: usize,
    schema: &Arc<Schema>,
    mut chunk: impl FnMut(usize, usize) -> anyhow::Result<RecordBatch>,
) -> anyhow::Result<()> {
    let partial = folder.with_extension("partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial)?;
    let tenths: usize = FILES.iter().map(|(share, _)| share).sum();
    let mut first = 0;
    for (number, &(share, row_group)) in FILES.iter().enumerate() {
        let rows = if number + 1 == FILES.len() {
            count - first
        } else {
            count * share / tenths
        };
        let path = partial.join(format!("part-{number}.parquet"));
        let mut writer = parquet_writer(&path, Arc::clone(schema), Some(row_group))?;
        let end = first + rows;
        while first < end {
            let rows = CHUNK.min(end - first);
            writer.write(&chunk(first, rows)?)?;
            first += rows;
        }
        writer.close()?;
    }
    // Complete or absent: an interrupted generation is started again, never read.
    std::fs::rename(&partial, folder)?;
    Ok(())
}

fn wide_profiles(rng: &mut StdRng, first: usize, rows: usize) -> anyhow::Result<RecordBatch> {
    const COUNTRIES: &[&str] = &["US", "us", "Us", "CA", "GB", "FR", "DE", "IE", "BR", "JP"];
    const TIERS: &[&str] = &["bronze", "silver", "gold", "platinum", "Gold"];
    let now = Utc::now();
    let maybe = |rng: &mut StdRng, nulls_in_100: u32| rng.gen_range(0..100) >= nulls_in_100;
    let ids = Int64Array::from_iter_values((first..first + rows).map(|id| id as i64));
    let emails: StringArray = (first..first + rows)
        .map(|id| maybe(rng, 15).then(|| format!("person.{id}@example.com")))
        .collect();
    // Countries and tiers lean hard on a few values and are often missing.
    let countries: StringArray = (0..rows)
        .map(|_| {
            maybe(rng, 30).then(|| {
                let skewed =
                    (rng.gen_range(0.0..1.0_f64).powi(3) * COUNTRIES.len() as f64) as usize;
                COUNTRIES[skewed.min(COUNTRIES.len() - 1)]
            })
        })
        .collect();
    let tiers: StringArray = (0..rows)
        .map(|_| maybe(rng, 40).then(|| TIERS[rng.gen_range(0..TIERS.len())]))
        .collect();
    // Lifetime values: most small, a long tail of large ones.
    let values: Float64Array = (0..rows)
        .map(|_| {
            maybe(rng, 25).then(|| {
                let tail = 1.0 / (1.0 - rng.gen_range(0.0..0.999_f64));
                (tail * 40.0 * 100.0).round() / 100.0
            })
        })
        .collect();
    let purchases = TimestampMicrosecondArray::from_iter((0..rows).map(|_| {
        maybe(rng, 50).then(|| {
            // Recent purchases are the rare ones: skewed towards five years ago.
            let days = 1_825.0 * (1.0 - rng.gen_range(0.0..1.0_f64).powi(4));
            (now - Duration::seconds((days * 86_400.0) as i64)).timestamp_micros()
        })
    }))
    .with_timezone("UTC");
    let opt_ins: BooleanArray = (0..rows)
        .map(|_| maybe(rng, 35).then(|| rng.gen_ratio(1, 4)))
        .collect();
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(emails),
        Arc::new(countries),
        Arc::new(tiers),
        Arc::new(values),
        Arc::new(purchases),
        Arc::new(opt_ins),
    ];
    for index in 0..FILLER_COLUMNS {
        let nulls = (index as u32 * 7) % 90;
        let column: ArrayRef = match filler(index).1 {
            DataType::Utf8 => {
                Arc::new(StringArray::from_iter((0..rows).map(|_| {
                    maybe(rng, nulls).then(|| format!("value-{}", rng.gen_range(0..1_000)))
                })))
            }
            DataType::Int64 => {
                Arc::new(Int64Array::from_iter((0..rows).map(|_| {
                    maybe(rng, nulls).then(|| rng.gen_range(0..1_000_000_i64))
                })))
            }
            DataType::Float64 => Arc::new(Float64Array::from_iter(
                (0..rows).map(|_| maybe(rng, nulls).then(|| rng.gen_range(0.0..1.0_f64))),
            )),
            _ => Arc::new(
                TimestampMicrosecondArray::from_iter((0..rows).map(|_| {
                    maybe(rng, nulls).then(|| {
                        (now - Duration::seconds(rng.gen_range(0..200_000_000))).timestamp_micros()
                    })
                }))
                .with_timezone("UTC"),
            ),
        };
        columns.push(column);
    }
    Ok(RecordBatch::try_new(profiles_schema(), columns)?)
}

/// A customer drawn so that low draws are far likelier, then scattered over the ids (a
/// multiplication modulo the count, one to one when the multiplier shares no factor with it):
/// the top customer holds about one order in 600, the last ones about two each or none.
fn skewed_customer(rng: &mut StdRng, profiles: usize) -> i64 {
    let rank = (rng.gen_range(0.0..1.0_f64).powf(2.5) * profiles as f64) as u128;
    let profiles = profiles.max(1) as u128;
    let mut multiplier = 2_654_435_761_u128 % profiles;
    while multiplier == 0 || gcd(multiplier, profiles) != 1 {
        multiplier += 1;
    }
    ((rank.min(profiles - 1) * multiplier) % profiles) as i64
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn skewed_orders(
    rng: &mut StdRng,
    first: usize,
    rows: usize,
    profiles: usize,
) -> anyhow::Result<RecordBatch> {
    const CHANNELS: &[&str] = &["web", "store", "phone", "app"];
    let now = Utc::now();
    let ids = Int64Array::from_iter_values((first..first + rows).map(|id| id as i64));
    let customers = Int64Array::from_iter_values((0..rows).map(|_| skewed_customer(rng, profiles)));
    let statuses: StringArray = (0..rows)
        .map(|_| match rng.gen_range(0..100) {
            0..70 => Some("paid"),
            70..80 => Some("refunded"),
            80..88 => Some("pending"),
            _ => None,
        })
        .collect();
    let amounts: Float64Array = (0..rows)
        .map(|_| {
            (rng.gen_range(0..100) >= 10).then(|| {
                let tail = 1.0 / (1.0 - rng.gen_range(0.0..0.99_f64));
                (tail * 20.0 * 100.0).round() / 100.0
            })
        })
        .collect();
    // In no order of time: a table loaded from many sources, not appended day by day.
    let times = TimestampMicrosecondArray::from_iter_values(
        (0..rows)
            .map(|_| (now - Duration::seconds(rng.gen_range(0..63_072_000))).timestamp_micros()),
    )
    .with_timezone("UTC");
    let channels: StringArray = (0..rows)
        .map(|_| (rng.gen_range(0..100) >= 60).then(|| CHANNELS[rng.gen_range(0..CHANNELS.len())]))
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(customers),
        Arc::new(statuses),
        Arc::new(amounts),
        Arc::new(times),
        Arc::new(channels),
    ];
    Ok(RecordBatch::try_new(orders_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skewed_customers_stay_within_the_profiles_and_lean_on_a_few() {
        let mut rng = StdRng::seed_from_u64(3);
        let profiles = 10_000;
        let mut orders = vec![0_u32; profiles];
        for _ in 0..50_000 {
            let customer = skewed_customer(&mut rng, profiles);
            orders[usize::try_from(customer).unwrap()] += 1;
        }
        let mut sorted = orders.clone();
        sorted.sort_unstable();
        let never = sorted.iter().filter(|&&count| count == 0).count();
        assert!(
            sorted[profiles - 1] > 500,
            "the top customer: {}",
            sorted[profiles - 1]
        );
        assert!(never > profiles / 20, "{never} customers never ordered");
    }

    #[test]
    fn the_files_split_the_rows_unevenly_and_completely() {
        let folder = tempfile::tempdir().unwrap();
        let orders = folder.path().join("orders");
        write_skewed_orders(&orders, 1_000, 5, 1, |_| {}).unwrap();
        let mut rows = Vec::new();
        for number in 0..FILES.len() {
            let file = std::fs::File::open(orders.join(format!("part-{number}.parquet"))).unwrap();
            let reader =
                datafusion::parquet::file::reader::SerializedFileReader::new(file).unwrap();
            use datafusion::parquet::file::reader::FileReader;
            rows.push(reader.metadata().file_metadata().num_rows());
        }
        assert_eq!(rows, vec![2_000, 1_500, 1_000, 500]);
        assert!(!orders.with_extension("partial").exists());
    }
}
