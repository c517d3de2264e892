//! The bulk JSON import: validating the request (400 for what the Swagger forbids), sorting
//! each contact into importable, correctable or erroneous, and applying it.
//!
//! Choices where Constant Contact's documentation is silent, stricter where in doubt so the
//! client is kept honest:
//! - an unknown list id answers 400 with the id in the message;
//! - a body over `max_import_bytes` is read in full for `list_ids`, but contacts that end beyond
//!   that many bytes are dropped without a trace, as Constant Contact documents;
//! - an email over 50 characters (the import schema's limit), malformed, or missing, and a bad
//!   birthday or anniversary, count as `correctable_count`;
//! - a field over its length limit, a key Constant Contact does not document, a non-text value,
//!   more than 25 custom fields, more than three phone numbers or street addresses (counting
//!   those the contact already has), and a `cf:` key that names no custom field of the account
//!   (checked when the import is accepted) count as `error_count`;
//! - an empty string changes nothing; within one request the last row of an email wins;
//! - an unsubscribed contact is neither changed nor added (`cannot_add_to_list_count`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::activities::Counters;
use super::contacts::{ContactStore, UpsertOutcome, within_phone_and_address_limits};
use super::custom_fields::CustomFieldStore;
use super::lists::ListStore;

pub const MAX_CONTACTS_PER_IMPORT: usize = 40_000;
pub const MAX_LISTS_PER_IMPORT: usize = 50;
pub const MAX_CUSTOM_FIELDS_PER_CONTACT: usize = 25;
const MAX_EMAIL_LENGTH: usize = 50;

/// Import keys and their maximum length in characters.
const FIELD_LIMITS: &[(&str, usize)] = &[
    ("first_name", 50),
    ("last_name", 50),
    ("job_title", 50),
    ("company_name", 50),
    ("anniversary", 10),
    ("phone", 50),
    ("home_phone", 50),
    ("work_phone", 50),
    ("mobile_phone", 50),
    ("other_phone", 50),
    ("street", 255),
    ("street2", 255),
    ("city", 50),
    ("state", 50),
    ("zip", 50),
    ("country", 50),
    ("home_street", 255),
    ("home_street2", 255),
    ("home_city", 50),
    ("home_state", 50),
    ("home_zip", 50),
    ("work_street", 255),
    ("work_street2", 255),
    ("work_city", 50),
    ("work_state", 50),
    ("work_zip", 50),
    ("work_country", 50),
    ("other_street", 255),
    ("other_street2", 255),
    ("other_city", 50),
    ("other_state", 50),
    ("other_zip", 50),
    ("other_country", 50),
    ("sms_number", 16),
    ("sms_consent_date", 16),
];
const CUSTOM_FIELD_VALUE_LIMIT: usize = 255;

#[derive(Debug)]
pub(crate) enum ImportRow {
    Valid {
        email: String,
        fields: Vec<(String, String)>,
    },
    Correctable,
    Error,
}

/// An import accepted by the endpoint: the body, where each contact lies in it, and the
/// lists. Contacts are read when the activity runs, as Constant Contact reads them after
/// answering 201.
#[derive(Debug)]
pub(crate) struct ImportRequest {
    pub(crate) body: bytes::Bytes,
    pub(crate) contact_ranges: Vec<std::ops::Range<usize>>,
    pub(crate) list_indexes: Vec<u32>,
    /// The names of the account's custom fields when the import was accepted.
    pub(crate) custom_field_names: std::collections::HashSet<String>,
}

/// The envelope of an import, read without touching the sandbox's state.
#[derive(Debug)]
pub(crate) struct ImportEnvelope {
    list_ids: Option<Value>,
    contact_ranges: Vec<std::ops::Range<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImport<'a> {
    #[serde(borrow, default)]
    import_data: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    list_ids: Option<Value>,
    #[serde(default)]
    #[allow(dead_code)]
    sms_permission_to_send: Option<String>,
}

/// Reads the envelope of an import body; `Err` carries the messages of a 400. Contacts that end
/// beyond `max_bytes` are left out.
pub(crate) fn parse_envelope(body: &[u8], max_bytes: usize) -> Result<ImportEnvelope, Vec<String>> {
    let raw: RawImport<'_> = serde_json::from_slice(body)
        .map_err(|error| vec![format!("The request body is not valid JSON: {error}.")])?;
    let mut problems = Vec::new();
    if raw.list_ids.is_none() {
        problems.push("list_ids is required.".to_owned());
    }
    let import_data = raw.import_data.unwrap_or_else(|| {
        problems.push("import_data is required.".to_owned());
        Vec::new()
    });
    if import_data.is_empty() && problems.is_empty() {
        problems.push("import_data must contain at least one contact.".to_owned());
    }
    if import_data.len() > MAX_CONTACTS_PER_IMPORT {
        problems.push(format!(
            "import_data contains {} contacts; at most {MAX_CONTACTS_PER_IMPORT} are allowed.",
            import_data.len()
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let body_start = body.as_ptr() as usize;
    let contact_ranges = import_data
        .into_iter()
        .map(|raw| {
            let start = raw.get().as_ptr() as usize - body_start;
            start..start + raw.get().len()
        })
        .take_while(|range| range.end <= max_bytes)
        .collect();
    Ok(ImportEnvelope {
        list_ids: raw.list_ids,
        contact_ranges,
    })
}

impl ImportEnvelope {
    /// Checks the lists against the account and completes the request.
    pub(crate) fn resolve(
        self,
        body: bytes::Bytes,
        lists: &ListStore,
        custom_fields: &CustomFieldStore,
    ) -> Result<ImportRequest, Vec<String>> {
        let mut problems = Vec::new();
        let list_value = self.list_ids.unwrap_or(Value::Null);
        let list_indexes = validate_list_ids(&list_value, lists, &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ImportRequest {
            body,
            contact_ranges: self.contact_ranges,
            list_indexes,
            custom_field_names: custom_fields
                .iter()
                .map(|field| field.name.clone())
                .collect(),
        })
    }
}

impl ImportRequest {
    /// Sorts every contact into importable, correctable or erroneous.
    pub(crate) fn rows(&self) -> Vec<ImportRow> {
        self.contact_ranges
            .iter()
            .map(
                |range| match std::str::from_utf8(&self.body[range.clone()]) {
                    Ok(json) => parse_row(json, &self.custom_field_names),
                    Err(_) => ImportRow::Error,
                },
            )
            .collect()
    }
}

fn validate_list_ids(value: &Value, lists: &ListStore, problems: &mut Vec<String>) -> Vec<u32> {
    let Some(ids) = value.as_array() else {
        problems.push("list_ids must be an array of list ids.".to_owned());
        return Vec::new();
    };
    if ids.is_empty() || ids.len() > MAX_LISTS_PER_IMPORT {
        problems.push(format!(
            "list_ids must contain 1 to {MAX_LISTS_PER_IMPORT} list ids, not {}.",
            ids.len()
        ));
        return Vec::new();
    }
    let mut indexes = Vec::new();
    for id in ids {
        let Some(text) = id.as_str() else {
            problems.push(format!("list_ids contains {id}, which is not a string."));
            continue;
        };
        let Ok(list_id) = Uuid::parse_str(text) else {
            problems.push(format!(
                "list_ids contains {text:?}, which is not a valid UUID."
            ));
            continue;
        };
        match lists.get(list_id) {
            Some(list) if !indexes.contains(&list.index) => indexes.push(list.index),
            Some(_) => {}
            None => problems.push(format!("List {list_id} does not exist.")),
        }
    }
    indexes
}

fn parse_row(json: &str, custom_field_names: &std::collections::HashSet<String>) -> ImportRow {
    let Ok(object) = serde_json::from_str::<serde_json::Map<String, Value>>(json) else {
        return ImportRow::Error;
    };
    let mut email = None;
    let mut fields = Vec::new();
    let mut custom_fields = 0;
    let mut birthday = (None, None);
    for (key, value) in object {
        let text = match &value {
            Value::String(text) => text.clone(),
            Value::Number(number) if key.starts_with("birthday_") => number.to_string(),
            Value::Null => continue,
            _ => return ImportRow::Error,
        };
        if text.is_empty() {
            continue;
        }
        let length = text.chars().count();
        match key.as_str() {
            "email" => email = Some(text),
            "birthday_month" => birthday.0 = Some(text),
            "birthday_day" => birthday.1 = Some(text),
            custom if custom.starts_with("cf:") => {
                custom_fields += 1;
                if !custom_field_names.contains(&custom[3..]) || length > CUSTOM_FIELD_VALUE_LIMIT {
                    return ImportRow::Error;
                }
                fields.push((key, text));
            }
            known => match FIELD_LIMITS.iter().find(|(name, _)| *name == known) {
                Some((_, limit)) if length <= *limit => fields.push((key, text)),
                _ => return ImportRow::Error,
            },
        }
    }
    if custom_fields > MAX_CUSTOM_FIELDS_PER_CONTACT
        || !within_phone_and_address_limits(fields.iter().map(|(key, _)| key.as_str()))
    {
        return ImportRow::Error;
    }
    match birthday {
        (None, None) => {}
        (Some(month), Some(day)) => match (month.parse::<u8>(), day.parse::<u8>()) {
            (Ok(month @ 1..=12), Ok(day @ 1..=31)) => {
                fields.push(("birthday_month".to_owned(), month.to_string()));
                fields.push(("birthday_day".to_owned(), day.to_string()));
            }
            _ => return ImportRow::Correctable,
        },
        _ => return ImportRow::Correctable,
    }
    if let Some((_, anniversary)) = fields.iter().find(|(key, _)| key == "anniversary")
        && !is_valid_anniversary(anniversary)
    {
        return ImportRow::Correctable;
    }
    match email {
        Some(email) if is_valid_email(&email) => ImportRow::Valid { email, fields },
        _ => ImportRow::Correctable,
    }
}

/// Applies a validated import to the contacts and returns its counters.
pub(crate) fn apply_import(
    contacts: &mut ContactStore,
    rows: &[ImportRow],
    list_indexes: &[u32],
    now: DateTime<Utc>,
) -> Counters {
    let n_rows = rows.len() as u64;
    let mut counters = Counters {
        items_total_count: n_rows,
        items_completed_count: n_rows,
        person_count: n_rows,
        ..Counters::default()
    };
    for row in rows {
        match row {
            ImportRow::Valid { email, fields } => {
                match contacts.upsert_from_import(email, fields, list_indexes, now) {
                    UpsertOutcome::Added => {}
                    UpsertOutcome::CannotAddToList => counters.cannot_add_to_list_count += 1,
                    UpsertOutcome::TooManyLists | UpsertOutcome::TooManyPhonesOrAddresses => {
                        counters.error_count += 1
                    }
                }
            }
            ImportRow::Correctable => counters.correctable_count += 1,
            ImportRow::Error => counters.error_count += 1,
        }
    }
    counters
}

/// An address Constant Contact can send to: ASCII, one `@`, a dot-atom local part of at most 64
/// characters, a domain of at least two labels ending in a letters-only top-level domain.
pub(crate) fn is_valid_email(email: &str) -> bool {
    if email.len() > MAX_EMAIL_LENGTH || !email.is_ascii() {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// The anniversary formats of the import schema: MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD, YYYY/M/D,
/// YYYY-MM-DD, YYYY-M-D, M-D-YYYY, M-DD-YYYY.
fn is_valid_anniversary(text: &str) -> bool {
    let parts: Vec<&str> = text.split(['/', '-']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|part| part.is_empty() || !part.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let numbers: Vec<u32> = parts.iter().map(|part| part.parse().unwrap_or(0)).collect();
    let (year, month, day) = if parts[0].len() == 4 {
        (numbers[0], numbers[1], numbers[2])
    } else if parts[2].len() == 4 {
        (numbers[2], numbers[0], numbers[1])
    } else {
        return false;
    };
    chrono::NaiveDate::from_ymd_opt(year as i32, month, day).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        for valid in [
            "ada@example.com",
            "o'brien+tag@mail.example.co.uk",
            "a.b-c@x-y.io",
        ] {
            assert!(is_valid_email(valid), "{valid}");
        }
        for invalid in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada @example.com",
            ".ada@example.com",
            "ada..b@example.com",
            "ada@-example.com",
            "ada@example.c0m",
            "zoë@example.com",
            &*format!("{}@example.com", "a".repeat(40)),
        ] {
            assert!(!is_valid_email(invalid), "{invalid}");
        }
    }

    #[test]
    fn anniversary_formats() {
        for valid in [
            "12/31/2020",
            "1/2/2020",
            "2020/12/31",
            "2020-1-2",
            "1-2-2020",
        ] {
            assert!(is_valid_anniversary(valid), "{valid}");
        }
        for invalid in ["2020-13-01", "31/12/20", "yesterday", "2020-02-30"] {
            assert!(!is_valid_anniversary(invalid), "{invalid}");
        }
    }

    #[test]
    fn rows_are_sorted_by_what_is_wrong_with_them() {
        let account_fields: std::collections::HashSet<String> = ["tier".to_owned()].into();
        let parse = |json: &str| parse_row(json, &account_fields);
        assert!(matches!(
            parse(r#"{"email":"a@example.com","first_name":"Ada"}"#),
            ImportRow::Valid { .. }
        ));
        assert!(matches!(
            parse(r#"{"email":"not-an-email"}"#),
            ImportRow::Correctable
        ));
        assert!(matches!(
            parse(r#"{"first_name":"Nobody"}"#),
            ImportRow::Correctable
        ));
        assert!(matches!(
            parse(r#"{"email":"a@example.com","birthday_month":13,"birthday_day":1}"#),
            ImportRow::Correctable
        ));
        let long_name = format!(
            r#"{{"email":"a@example.com","first_name":"{}"}}"#,
            "x".repeat(51)
        );
        assert!(matches!(parse(&long_name), ImportRow::Error));
        assert!(matches!(
            parse(r#"{"email":"a@example.com","favourite_colour":"blue"}"#),
            ImportRow::Error
        ));
        assert!(matches!(parse(r#"["a@example.com"]"#), ImportRow::Error));
        assert!(matches!(
            parse(r#"{"email":"a@example.com","cf:tier":"gold"}"#),
            ImportRow::Valid { .. }
        ));
        assert!(matches!(
            parse(r#"{"email":"a@example.com","cf:Tier":"gold"}"#),
            ImportRow::Error
        ));
        assert!(matches!(
            parse(r#"{"email":"a@example.com","cf:":"gold"}"#),
            ImportRow::Error
        ));
        assert!(matches!(
            parse(
                r#"{"email":"a@example.com","phone":"1","home_phone":"2","work_phone":"3","mobile_phone":"4"}"#
            ),
            ImportRow::Error
        ));
        assert!(matches!(
            parse(
                r#"{"email":"a@example.com","street":"1","home_city":"2","work_zip":"3","other_street":"4"}"#
            ),
            ImportRow::Error
        ));
        assert!(matches!(
            parse(
                r#"{"email":"a@example.com","phone":"1","home_phone":"2","work_phone":"3","street":"1","home_city":"2","work_zip":"3"}"#
            ),
            ImportRow::Valid { .. }
        ));
    }
}
