//! From member rows to import contacts: the email checked and normalised, duplicates collapsed,
//! mapped fields read and cut to their limits, every row counted.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use constant_contact::wire::imports::ImportContact;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::arrow::record_batch::RecordBatch;
use nohash_hasher::IntSet;
use segsync_domain::mapping::truncate_to;
use segsync_domain::{ContactField, Email, FieldMapping};

use crate::report::SAMPLES;
use crate::sync::email_key;

/// What happened to the rows seen so far.
#[derive(Debug, Default)]
pub(crate) struct Tallies {
    pub(crate) processed: u64,
    pub(crate) members_per_segment: Vec<u64>,
    pub(crate) invalid: BTreeMap<String, u64>,
    pub(crate) invalid_samples: BTreeMap<String, Vec<String>>,
    pub(crate) duplicates: u64,
    /// Extra profiles per email that more than one profile had.
    pub(crate) duplicate_counts: HashMap<Box<str>, u64>,
    pub(crate) truncated: BTreeMap<String, u64>,
    /// Unique contacts handed on for sending.
    pub(crate) contacts: u64,
}

/// Turns member batches into contacts, remembering every email it has seen in this run (by its
/// 64-bit key: a million emails take a few megabytes, not a million allocations).
pub(crate) struct ContactBuilder {
    mapping: FieldMapping,
    /// The batch column of each mapped attribute, email first.
    columns: Vec<String>,
    seen: IntSet<u64>,
    pub(crate) tallies: Tallies,
    /// Members left out since the last `take_skipped`: the email as written and why.
    skipped: Vec<(String, String)>,
}

impl ContactBuilder {
    pub(crate) fn new(mapping: FieldMapping, n_segments: usize) -> Self {
        let mut columns: Vec<String> = Vec::new();
        for attribute in mapping.attributes() {
            if !columns.iter().any(|column| column == attribute) {
                columns.push(attribute.to_owned());
            }
        }
        let tallies = Tallies {
            members_per_segment: vec![0; n_segments],
            ..Tallies::default()
        };
        Self {
            mapping,
            columns,
            seen: IntSet::default(),
            tallies,
            skipped: Vec::new(),
        }
    }

    /// The attributes a member stream must carry, each once.
    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Reads one batch of members: the mapped columns, then one membership flag per segment.
    pub(crate) fn process(
        &mut self,
        batch: &RecordBatch,
        mut emit: impl FnMut(ImportContact) -> Result<(), constant_contact::Error>,
    ) -> Result<(), constant_contact::Error> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .expect("the member stream carries every mapped column")
        };
        let emails = Texts::read(column(&self.mapping.email));
        let fields: Vec<MappedColumn> = self
            .mapping
            .fields
            .iter()
            .map(|(field, attribute)| MappedColumn {
                field: field.clone(),
                key: field.import_key(),
                values: FieldValues::read(field, column(attribute)),
            })
            .collect();
        let flags: Vec<BooleanArray> = (0..self.tallies.members_per_segment.len())
            .map(|i| batch.column(self.columns.len() + i).as_boolean().clone())
            .collect();
        for row in 0..batch.num_rows() {
            self.tallies.processed += 1;
            for (segment, flag) in flags.iter().enumerate() {
                if flag.is_valid(row) && flag.value(row) {
                    self.tallies.members_per_segment[segment] += 1;
                }
            }
            let raw = emails.get(row).unwrap_or_default();
            let email = match Email::parse(raw) {
                Ok(email) => email,
                Err(problem) => {
                    self.invalid(problem.key(), raw);
                    continue;
                }
            };
            if !self.seen.insert(email_key(email.as_str())) {
                self.tallies.duplicates += 1;
                *self
                    .tallies
                    .duplicate_counts
                    .entry(email.as_str().into())
                    .or_default() += 1;
                continue;
            }
            let mut contact = ImportContact::with_email(email.as_str());
            for mapped in &fields {
                self.fill(&mut contact, mapped, row);
            }
            self.tallies.contacts += 1;
            emit(contact)?;
        }
        Ok(())
    }

    /// The members left out since the last call, for a list of every one of them.
    pub(crate) fn take_skipped(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.skipped)
    }

    fn invalid(&mut self, reason: &str, value: &str) {
        *self.tallies.invalid.entry(reason.to_owned()).or_default() += 1;
        self.skipped.push((value.to_owned(), reason.to_owned()));
        let samples = self
            .tallies
            .invalid_samples
            .entry(reason.to_owned())
            .or_default();
        if samples.len() < SAMPLES && !value.trim().is_empty() {
            samples.push(value.to_owned());
        }
    }

    fn fill(&mut self, contact: &mut ImportContact, mapped: &MappedColumn, row: usize) {
        match (&mapped.field, &mapped.values) {
            (ContactField::Birthday, FieldValues::Dates(dates)) => {
                if let Some(date) = date_at(dates, row) {
                    contact.set_birthday(date.month() as u8, date.day() as u8);
                }
            }
            (ContactField::Anniversary, FieldValues::Dates(dates)) => {
                if let Some(date) = date_at(dates, row) {
                    contact.set(mapped.key.clone(), date.format("%Y-%m-%d").to_string());
                }
            }
            (field, FieldValues::Text(texts)) => {
                let Some(value) = texts.get(row).map(str::trim).filter(|v| !v.is_empty()) else {
                    return;
                };
                let mut value = value.to_owned();
                if truncate_to(&mut value, field.max_length()) {
                    *self
                        .tallies
                        .truncated
                        .entry(mapped.key.clone().into_owned())
                        .or_default() += 1;
                }
                contact.set(mapped.key.clone(), value);
            }
            _ => {}
        }
    }
}

/// One mapped field of a batch: the field, its key in an import, and the column's values.
struct MappedColumn {
    field: ContactField,
    key: Cow<'static, str>,
    values: FieldValues,
}

/// The values of one mapped column, cast once per batch to what its field needs.
enum FieldValues {
    Text(Texts),
    Dates(ArrayRef),
}

impl FieldValues {
    fn read(field: &ContactField, column: &ArrayRef) -> Self {
        if field.wants_date() {
            // Text that does not parse as a date becomes null, and the field is left out.
            let options = datafusion::arrow::compute::CastOptions {
                safe: true,
                ..Default::default()
            };
            let dates =
                datafusion::arrow::compute::cast_with_options(column, &DataType::Date32, &options)
                    .unwrap_or_else(|_| {
                        datafusion::arrow::array::new_null_array(&DataType::Date32, column.len())
                    });
            Self::Dates(dates)
        } else {
            Self::Text(Texts::read(column))
        }
    }
}

/// A column's values as text: read in place when the column holds text (Parquet's strings come
/// as views), cast once otherwise.
enum Texts {
    Plain(StringArray),
    Views(StringViewArray),
}

impl Texts {
    fn read(column: &ArrayRef) -> Self {
        match column.data_type() {
            DataType::Utf8View => Self::Views(column.as_string_view().clone()),
            DataType::Utf8 => Self::Plain(column.as_string::<i32>().clone()),
            _ => {
                let cast = cast(column, &DataType::Utf8).unwrap_or_else(|_| {
                    datafusion::arrow::array::new_null_array(&DataType::Utf8, column.len())
                });
                Self::Plain(cast.as_string::<i32>().clone())
            }
        }
    }

    fn get(&self, row: usize) -> Option<&str> {
        match self {
            Self::Plain(texts) => texts.is_valid(row).then(|| texts.value(row)),
            Self::Views(texts) => texts.is_valid(row).then(|| texts.value(row)),
        }
    }
}

fn date_at(dates: &ArrayRef, row: usize) -> Option<NaiveDate> {
    let dates = dates.as_primitive::<Date32Type>();
    if dates.is_null(row) {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(dates.value(row) + 719_163)
}
