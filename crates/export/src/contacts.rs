//! From member rows to import contacts: the email checked and normalised, duplicates collapsed,
//! mapped fields read and cut to their limits, every row counted.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use constant_contact::wire::imports::ImportContact;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::arrow::record_batch::RecordBatch;
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
    seen: HashSet<u64>,
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
            seen: HashSet::new(),
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
        let emails = as_text(column(&self.mapping.email));
        let fields: Vec<(ContactField, FieldValues)> = self
            .mapping
            .fields
            .iter()
            .map(|(field, attribute)| (field.clone(), FieldValues::read(field, column(attribute))))
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
            let raw = if emails.is_null(row) {
                ""
            } else {
                emails.value(row)
            };
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
            for (field, values) in &fields {
                self.fill(&mut contact, field, values, row);
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

    fn fill(
        &mut self,
        contact: &mut ImportContact,
        field: &ContactField,
        values: &FieldValues,
        row: usize,
    ) {
        match (field, values) {
            (ContactField::Birthday, FieldValues::Dates(dates)) => {
                if let Some(date) = date_at(dates, row) {
                    contact.set_birthday(date.month() as u8, date.day() as u8);
                }
            }
            (ContactField::Anniversary, FieldValues::Dates(dates)) => {
                if let Some(date) = date_at(dates, row) {
                    contact.set("anniversary", date.format("%Y-%m-%d").to_string());
                }
            }
            (field, FieldValues::Text(texts)) => {
                if texts.is_null(row) {
                    return;
                }
                let mut value = texts.value(row).trim().to_owned();
                if value.is_empty() {
                    return;
                }
                if truncate_to(&mut value, field.max_length()) {
                    *self
                        .tallies
                        .truncated
                        .entry(field.import_key())
                        .or_default() += 1;
                }
                contact.set(field.import_key(), value);
            }
            _ => {}
        }
    }
}

/// The values of one mapped column, cast once per batch to what its field needs.
enum FieldValues {
    Text(StringArray),
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
            Self::Text(as_text(column))
        }
    }
}

fn as_text(column: &ArrayRef) -> StringArray {
    let cast = cast(column, &DataType::Utf8).unwrap_or_else(|_| {
        datafusion::arrow::array::new_null_array(&DataType::Utf8, column.len())
    });
    cast.as_string::<i32>().clone()
}

fn date_at(dates: &ArrayRef, row: usize) -> Option<NaiveDate> {
    let dates = dates.as_primitive::<Date32Type>();
    if dates.is_null(row) {
        return None;
    }
    NaiveDate::from_num_days_from_ce_opt(dates.value(row) + 719_163)
}
