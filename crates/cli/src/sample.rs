//! Realistic sample profiles, written to Parquet in chunks so that ten million of them never
//! sit in memory at once.
//!
//! About 2 % have no email, 1 % a malformed one, 0.2 % one over 50 characters, and 1 % reuse
//! the email of an earlier profile in another case or with spaces. Names carry accents and
//! apostrophes; a few last names are longer than Constant Contact's 50 characters.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{Duration, NaiveDate, Utc};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Zoë",
    "José",
    "Amélie",
    "Søren",
    "Ólafur",
    "D'Angelo",
    "Łukasz",
    "Siobhán",
    "François",
    "Mia",
    "Noah",
    "Chloé",
    "Björn",
    "Ines",
    "Mateo",
    "Aoife",
    "Renée",
    "Jürgen",
    "Priya",
    "Kenji",
    "Fatima",
    "Liam",
    "Émile",
];
const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "O'Brien",
    "Nuñez",
    "Müller",
    "Dubois",
    "García",
    "Kowalski",
    "Ní Bhriain",
    "D'Arcy",
    "Smith",
    "Johansson",
    "Rossi",
    "Nakamura",
    "Okafor",
    "Santos",
    "Lefèvre",
    "Van der Berg",
    "Ó Súilleabháin",
    "Chen",
    "Patel",
];
/// The last name that is over the limit on purpose.
const LONG_LAST_NAME: &str = "Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh";
const COUNTRIES: &[(&str, &[&str])] = &[
    ("US", &["CA", "NY", "TX", "WA", "MA", "IL"]),
    ("CA", &["ON", "QC", "BC"]),
    ("GB", &["ENG", "SCT", "WLS"]),
    ("FR", &["IDF", "ARA"]),
    ("DE", &["BY", "BE"]),
    ("IE", &["D", "C"]),
];
const TIERS: &[&str] = &["bronze", "silver", "gold", "platinum"];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "example.net",
    "corp.example.io",
];
const ROWS_PER_CHUNK: usize = 65_536;

pub(crate) fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("profile_id", DataType::Int64, false),
        Field::new("email", DataType::Utf8, true),
        Field::new("first_name", DataType::Utf8, true),
        Field::new("last_name", DataType::Utf8, true),
        Field::new("country", DataType::Utf8, true),
        Field::new("state", DataType::Utf8, true),
        Field::new("tier", DataType::Utf8, true),
        Field::new("lifetime_value", DataType::Float64, true),
        Field::new(
            "last_purchase_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("birth_date", DataType::Date32, true),
        Field::new("newsletter_opt_in", DataType::Boolean, true),
        Field::new("company", DataType::Utf8, true),
    ]))
}

/// Writes `count` profiles to a Parquet file and returns how many rows it wrote.
pub(crate) fn write_profiles(
    path: &Path,
    count: usize,
    seed: u64,
    on_chunk: impl FnMut(usize),
) -> anyhow::Result<usize> {
    write_profiles_changed(path, count, seed, |_| false, on_chunk)
}

/// Writes the same profiles as `write_profiles` with the same seed, except that those whose id
/// `changed` picks have another last name.
pub(crate) fn write_profiles_changed(
    path: &Path,
    count: usize,
    seed: u64,
    changed: impl Fn(usize) -> bool,
    on_chunk: impl FnMut(usize),
) -> anyhow::Result<usize> {
    write_profile_range(path, 0, count, seed, changed, on_chunk)
}

/// Writes `count` profiles whose ids start at `first_id`: one part of profiles split over
/// several files.
pub(crate) fn write_profile_part(
    path: &Path,
    first_id: usize,
    count: usize,
    seed: u64,
    on_chunk: impl FnMut(usize),
) -> anyhow::Result<usize> {
    write_profile_range(path, first_id, count, seed, |_| false, on_chunk)
}

fn write_profile_range(
    path: &Path,
    first_id: usize,
    count: usize,
    seed: u64,
    changed: impl Fn(usize) -> bool,
    mut on_chunk: impl FnMut(usize),
) -> anyhow::Result<usize> {
    let mut writer = parquet_writer(path, schema(), None)?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut written = 0;
    while written < count {
        let rows = ROWS_PER_CHUNK.min(count - written);
        writer.write(&chunk(&mut rng, first_id + written, rows, &changed)?)?;
        written += rows;
        on_chunk(written);
    }
    writer.close()?;
    Ok(written)
}

/// A Parquet file as the sample generators write them: zstd at level 1, row groups of at most
/// `row_group` rows (the writer's default, 1,048,576, without one).
pub(crate) fn parquet_writer(
    path: &Path,
    schema: Arc<Schema>,
    row_group: Option<usize>,
) -> anyhow::Result<ArrowWriter<File>> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut properties =
        WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?));
    if let Some(rows) = row_group {
        properties = properties.set_max_row_group_row_count(Some(rows));
    }
    Ok(ArrowWriter::try_new(
        file,
        schema,
        Some(properties.build()),
    )?)
}

fn chunk(
    rng: &mut StdRng,
    first_id: usize,
    rows: usize,
    changed: &impl Fn(usize) -> bool,
) -> anyhow::Result<RecordBatch> {
    let now = Utc::now();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch exists");
    let mut ids = Vec::with_capacity(rows);
    let mut emails = Vec::with_capacity(rows);
    let mut first_names = Vec::with_capacity(rows);
    let mut last_names = Vec::with_capacity(rows);
    let mut countries = Vec::with_capacity(rows);
    let mut states = Vec::with_capacity(rows);
    let mut tiers = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(rows);
    let mut purchases = Vec::with_capacity(rows);
    let mut births = Vec::with_capacity(rows);
    let mut opt_ins = Vec::with_capacity(rows);
    let mut companies = Vec::with_capacity(rows);
    for offset in 0..rows {
        let id = first_id + offset;
        let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
        let last = if rng.gen_ratio(1, 2_000) {
            LONG_LAST_NAME
        } else {
            LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())]
        };
        let (country, country_states) = COUNTRIES[weighted_country(rng)];
        ids.push(id as i64);
        emails.push(email(rng, id, first, last));
        first_names.push((!rng.gen_ratio(1, 50)).then(|| first.to_owned()));
        // A prefix: names cut to Constant Contact's length keep the change.
        last_names.push(Some(if changed(id) {
            format!("New-{last}")
        } else {
            last.to_owned()
        }));
        countries.push(Some(country));
        states.push(Some(country_states[rng.gen_range(0..country_states.len())]));
        tiers.push(Some(TIERS[weighted_tier(rng)]));
        values.push(Some(
            (rng.gen_range(0.0..5_000.0_f64) * 100.0).round() / 100.0,
        ));
        let days_ago = rng.gen_range(0..730);
        let purchase = now - Duration::days(days_ago) - Duration::seconds(rng.gen_range(0..86_400));
        purchases.push((!rng.gen_ratio(1, 20)).then_some(purchase.timestamp_micros()));
        let birth = NaiveDate::from_ymd_opt(
            rng.gen_range(1945..2006),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28),
        )
        .expect("a valid date");
        births.push((!rng.gen_ratio(1, 10)).then_some((birth - epoch).num_days() as i32));
        opt_ins.push(Some(rng.gen_ratio(3, 5)));
        companies.push(rng.gen_ratio(1, 3).then(|| format!("{last} & Co.")));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(emails)),
        Arc::new(StringArray::from(first_names)),
        Arc::new(StringArray::from(last_names)),
        Arc::new(StringArray::from(countries)),
        Arc::new(StringArray::from(states)),
        Arc::new(StringArray::from(tiers)),
        Arc::new(Float64Array::from(values)),
        Arc::new(TimestampMicrosecondArray::from(purchases).with_timezone("UTC")),
        Arc::new(Date32Array::from(births)),
        Arc::new(BooleanArray::from(opt_ins)),
        Arc::new(StringArray::from(companies)),
    ];
    Ok(RecordBatch::try_new(schema(), columns)?)
}

fn email(rng: &mut StdRng, id: usize, first: &str, last: &str) -> Option<String> {
    let local = |id: usize| format!("{}.{}.{id}", ascii(first), ascii(last));
    let domain = DOMAINS[id % DOMAINS.len()];
    match rng.gen_range(0..1_000) {
        0..20 => None,
        20..30 => Some(format!("{} at {domain}", local(id))),
        30..32 => Some(format!("{}.{}@{domain}", local(id), "x".repeat(40))),
        // The same person again: an earlier profile's address, shouted and padded.
        32..42 if id > 100 => {
            let earlier = id - rng.gen_range(1..100);
            Some(format!(
                "  {}@{}  ",
                local(earlier).to_uppercase(),
                DOMAINS[earlier % DOMAINS.len()].to_uppercase()
            ))
        }
        _ => Some(format!("{}@{domain}", local(id))),
    }
}

/// Letters without accents, apostrophes and spaces, for the local part of an address.
fn ascii(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'à'..='å' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'É' => Some('e'),
            'ó' | 'ö' | 'ø' | 'Ó' | 'Ö' => Some('o'),
            'í' | 'ï' => Some('i'),
            'ü' | 'ú' => Some('u'),
            'ñ' => Some('n'),
            'ç' => Some('c'),
            'Ł' | 'ł' => Some('l'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn weighted_country(rng: &mut StdRng) -> usize {
    match rng.gen_range(0..100) {
        0..50 => 0,
        50..62 => 1,
        62..77 => 2,
        77..86 => 3,
        86..95 => 4,
        _ => 5,
    }
}

fn weighted_tier(rng: &mut StdRng) -> usize {
    match rng.gen_range(0..100) {
        0..50 => 0,
        50..80 => 1,
        80..95 => 2,
        _ => 3,
    }
}
