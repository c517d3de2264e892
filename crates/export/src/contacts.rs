//! From member rows to import contacts: the email checked and normalised, duplicates collapsed,
//! mapped fields read and cut to their limits, every row counted.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, StringArray, StringViewArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};
use datafusion::arrow::record_batch::RecordBatch;
use nohash_hasher::IntSet;
use segsync_domain::mapping::cut_to;
use segsync_domain::{ContactField, Email, FieldMapping};

use crate::exclusions::HeldBack;
use crate::report::SAMPLES;
use crate::sync::email_key;
use constant_contact::contact_json::{ContactWriter, Slot, Source, Value, slots};

/// The reason an excluded member is left out, in the list of those left out.
pub(crate) const EXCLUDED: &str = "excluded";

/// What happened to the rows seen so far.
#[derive(Debug, Default)]
pub(crate) struct Tallies {
    pub(crate) processed: u64,
    pub(crate) members_per_segment: Vec<u64>,
    pub(crate) invalid: BTreeMap<String, u64>,
    pub(crate) invalid_samples: BTreeMap<String, Vec<String>>,
    pub(crate) duplicates: u64,
    /// Members an exclusion held back, with a few of their emails.
    pub(crate) excluded: u64,
    pub(crate) excluded_samples: Vec<String>,
    /// Members a tombstone held back: counted, never sampled nor listed.
    pub(crate) erased: u64,
    /// Extra profiles per email that more than one profile had.
    pub(crate) duplicate_counts: HashMap<Box<str>, u64>,
    pub(crate) truncated: BTreeMap<String, u64>,
    /// Unique contacts handed on for sending.
    pub(crate) contacts: u64,
}

/// One member's contact as the import carries it, handed on by [`ContactBuilder::process`].
pub(crate) struct BuiltContact<'a> {
    /// The normalised email.
    pub(crate) email: &'a str,
    pub(crate) key: u64,
    /// The contact as the import's JSON, the bytes its fingerprint is taken from.
    pub(crate) json: &'a [u8],
}

/// Turns member batches into contacts, remembering every email it has seen in this run (by its
/// 64-bit key: a million emails take a few megabytes, not a million allocations).
pub(crate) struct ContactBuilder {
    mapping: FieldMapping,
    /// The batch column of each mapped attribute, email first.
    columns: Vec<String>,
    /// The contact's keys in the order its JSON carries them.
    slots: Vec<Slot>,
    seen: IntSet<u64>,
    /// The keys of erased addresses seen so far (their later profiles are erased too).
    erased: IntSet<u64>,
    exclusions: std::sync::Arc<crate::exclusions::Exclusions>,
    pub(crate) tallies: Tallies,
    /// Members left out since the last `take_skipped`: the email as written and why.
    skipped: Vec<(String, String)>,
    /// The member being read: its email and its contact's JSON, buffers kept from row to row.
    email: String,
    json: Vec<u8>,
}

impl ContactBuilder {
    /// A builder for about `expected_members` members: the set of emails seen is sized for
    /// them once, rather than grown (and rehashed) as they come.
    pub(crate) fn new(mapping: FieldMapping, n_segments: usize, expected_members: u64) -> Self {
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
        let keys: Vec<String> = mapping
            .fields
            .iter()
            .map(|(field, _)| field.import_key())
            .collect();
        let slots = slots(keys.iter().map(String::as_str))
            .expect("every contact field of the domain is one of Constant Contact's");
        Self {
            slots,
            mapping,
            columns,
            seen: IntSet::with_capacity_and_hasher(
                usize::try_from(expected_members).unwrap_or(0),
                Default::default(),
            ),
            erased: IntSet::default(),
            exclusions: std::sync::Arc::default(),
            tallies,
            skipped: Vec::new(),
            email: String::new(),
            json: Vec::with_capacity(256),
        }
    }

    /// Holds back the members `exclusions` names.
    pub(crate) fn with_exclusions(
        mut self,
        exclusions: std::sync::Arc<crate::exclusions::Exclusions>,
    ) -> Self {
        self.exclusions = exclusions;
        self
    }

    /// The attributes a member stream must carry, each once.
    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Reads one batch of members: the mapped columns, then one membership flag per segment.
    pub(crate) fn process(
        &mut self,
        batch: &RecordBatch,
        mut emit: impl FnMut(BuiltContact<'_>) -> Result<(), constant_contact::Error>,
    ) -> Result<(), constant_contact::Error> {
        let column = |name: &str| {
            batch
                .column_by_name(name)
                .expect("the member stream carries every mapped column")
        };
        let emails = Texts::read(column(&self.mapping.email));
        let values: Vec<FieldValues> = self
            .mapping
            .fields
            .iter()
            .map(|(field, attribute)| FieldValues::read(field, column(attribute)))
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
            if let Err(problem) = Email::parse_into(raw, &mut self.email) {
                self.invalid(problem.key(), raw);
                continue;
            }
            let key = email_key(&self.email);
            if !self.seen.insert(key) {
                // A later profile of an erased address is erased too, never sampled.
                if self.erased.contains(&key) {
                    self.tallies.erased += 1;
                    continue;
                }
                self.tallies.duplicates += 1;
                *self
                    .tallies
                    .duplicate_counts
                    .entry(self.email.as_str().into())
                    .or_default() += 1;
                continue;
            }
            match self.exclusions.holds_back(&self.email, key) {
                Some(HeldBack::Erased) => {
                    self.tallies.erased += 1;
                    self.erased.insert(key);
                    continue;
                }
                Some(HeldBack::Excluded) => {
                    self.tallies.excluded += 1;
                    if self.tallies.excluded_samples.len() < SAMPLES {
                        self.tallies.excluded_samples.push(self.email.clone());
                    }
                    self.skipped.push((self.email.clone(), EXCLUDED.to_owned()));
                    continue;
                }
                None => {}
            }
            let mut contact = ContactWriter::start(&mut self.json);
            for slot in &self.slots {
                let value = match slot.source {
                    Source::Email => Some(Value::Text(&self.email)),
                    Source::Text { field, max_length } => values[field]
                        .text(row)
                        .map(str::trim)
                        .filter(|text| !text.is_empty())
                        .map(|text| {
                            let (text, was_cut) = cut_to(text, max_length);
                            if was_cut {
                                *self.tallies.truncated.entry(slot.key.clone()).or_default() += 1;
                            }
                            Value::Text(text)
                        }),
                    Source::BirthdayMonth { field } => values[field]
                        .date(row)
                        .map(|date| Value::Number(date.month())),
                    Source::BirthdayDay { field } => values[field]
                        .date(row)
                        .map(|date| Value::Number(date.day())),
                    Source::Date { field } => values[field].date(row).map(Value::Date),
                };
                if let Some(value) = value {
                    contact.entry(slot, value);
                }
            }
            contact.finish();
            self.tallies.contacts += 1;
            emit(BuiltContact {
                email: &self.email,
                key,
                json: &self.json,
            })?;
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

    fn text(&self, row: usize) -> Option<&str> {
        match self {
            Self::Text(texts) => texts.get(row),
            Self::Dates(_) => None,
        }
    }

    fn date(&self, row: usize) -> Option<NaiveDate> {
        match self {
            Self::Dates(dates) => date_at(dates, row),
            Self::Text(_) => None,
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
