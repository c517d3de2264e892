//! One import contact written straight to JSON, without building it first: the same bytes as
//! an [`ImportContact`](crate::wire::imports::ImportContact) serialised (keys sorted, compact,
//! strings escaped by `serde_json`). Callers that remember a contact by a hash of its JSON (a
//! ledger's fingerprint) hash exactly these bytes, so they must never move.

use std::io::Write;

use crate::fields::{FieldKind, kind_and_limit};

/// Where one key of the contact takes its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Email,
    /// Text of the mapped field at this index, trimmed, cut to `max_length` characters.
    Text {
        field: usize,
        max_length: usize,
    },
    /// The month or the day of the date of the mapped field at this index, as a number.
    BirthdayMonth {
        field: usize,
    },
    BirthdayDay {
        field: usize,
    },
    /// The date of the mapped field at this index, as `YYYY-MM-DD`.
    Date {
        field: usize,
    },
}

/// One key of the contact: its name, already written as a JSON key, and its value's source.
#[derive(Debug, Clone)]
pub struct Slot {
    pub key: String,
    /// `"key":`, escaped once.
    json_key: Vec<u8>,
    pub source: Source,
}

/// The keys of every contact whose fields (after the email) have these import keys (`first_name`,
/// `birthday`, `cf:tier`), in the order the JSON carries them; a slot's source names the field
/// by its index here. When two fields share a key, the later one wins, as setting it twice on
/// a contact would. Fails on a key Constant Contact does not have.
pub fn slots<'k>(keys: impl IntoIterator<Item = &'k str>) -> Result<Vec<Slot>, UnknownField> {
    let mut keyed: Vec<(String, Source)> = vec![("email".to_owned(), Source::Email)];
    for (index, key) in keys.into_iter().enumerate() {
        let (kind, max_length) = kind_and_limit(key).ok_or_else(|| UnknownField(key.to_owned()))?;
        match kind {
            FieldKind::Birthday => {
                keyed.push((
                    "birthday_month".to_owned(),
                    Source::BirthdayMonth { field: index },
                ));
                keyed.push((
                    "birthday_day".to_owned(),
                    Source::BirthdayDay { field: index },
                ));
            }
            FieldKind::Date => keyed.push((key.to_owned(), Source::Date { field: index })),
            FieldKind::Text => keyed.push((
                key.to_owned(),
                Source::Text {
                    field: index,
                    max_length,
                },
            )),
        }
    }
    // A stable sort keeps the mapping's order among equal keys; the last of each is kept.
    keyed.sort_by(|(a, _), (b, _)| a.cmp(b));
    let mut slots: Vec<Slot> = Vec::with_capacity(keyed.len());
    for (key, source) in keyed {
        let mut json_key = serde_json::to_vec(&key).expect("a string serialises");
        json_key.push(b':');
        let slot = Slot {
            key,
            json_key,
            source,
        };
        match slots.last_mut() {
            Some(last) if last.key == slot.key => *last = slot,
            _ => slots.push(slot),
        }
    }
    Ok(slots)
}

/// An import key Constant Contact does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Constant Contact has no contact field {0:?}")]
pub struct UnknownField(pub String);

/// A value a slot takes for one member.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Text(&'a str),
    Number(u32),
    Date(chrono::NaiveDate),
}

/// Writes one contact's JSON into a buffer reused from member to member.
pub struct ContactWriter<'b> {
    json: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> ContactWriter<'b> {
    pub fn start(json: &'b mut Vec<u8>) -> Self {
        json.clear();
        json.push(b'{');
        Self { json, first: true }
    }

    pub fn entry(&mut self, slot: &Slot, value: Value<'_>) {
        if !self.first {
            self.json.push(b',');
        }
        self.first = false;
        self.json.extend_from_slice(&slot.json_key);
        match value {
            Value::Text(text) => {
                serde_json::to_writer(&mut *self.json, text).expect("writing to memory")
            }
            Value::Number(number) => {
                write!(self.json, "{number}").expect("writing to memory");
            }
            Value::Date(date) => {
                write!(self.json, "\"{}\"", date.format("%Y-%m-%d")).expect("writing to memory");
            }
        }
    }

    pub fn finish(self) {
        self.json.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::wire::imports::ImportContact;

    /// The bytes must not move: every ledger remembers contacts by their hash.
    #[test]
    fn writes_what_an_import_contact_serialises_to() {
        let keys = [
            "last_name",
            "cf:Tier \"A\"",
            "birthday",
            "first_name",
            "anniversary",
        ];
        let slots = slots(keys).unwrap();
        let date = NaiveDate::from_ymd_opt(1815, 12, 10).unwrap();
        let mut json = Vec::new();
        let mut writer = ContactWriter::start(&mut json);
        for slot in &slots {
            let value = match slot.source {
                Source::Email => Value::Text("ada@example.com"),
                Source::Text { field: 0, .. } => Value::Text("Lovelace\n"),
                Source::Text { field: 1, .. } => Value::Text("gold ✓"),
                Source::Text { .. } => Value::Text("Ada"),
                Source::BirthdayMonth { .. } => Value::Number(12),
                Source::BirthdayDay { .. } => Value::Number(10),
                Source::Date { .. } => Value::Date(date),
            };
            writer.entry(slot, value);
        }
        writer.finish();

        let mut contact = ImportContact::with_email("ada@example.com");
        contact
            .set("last_name", "Lovelace\n")
            .set("cf:Tier \"A\"", "gold ✓")
            .set_birthday(12, 10)
            .set("first_name", "Ada")
            .set("anniversary", "1815-12-10");
        assert_eq!(
            String::from_utf8(json).unwrap(),
            serde_json::to_string(&contact).unwrap()
        );
    }

    #[test]
    fn a_key_mapped_twice_takes_the_later_field() {
        let slots = slots(["first_name", "first_name"]).unwrap();
        let sources: Vec<Source> = slots.iter().map(|slot| slot.source).collect();
        assert_eq!(
            sources,
            [
                Source::Email,
                Source::Text {
                    field: 1,
                    max_length: 50
                }
            ]
        );
    }

    #[test]
    fn a_contact_without_fields_is_its_email() {
        let slots = slots([]).unwrap();
        let mut json = Vec::new();
        let mut writer = ContactWriter::start(&mut json);
        writer.entry(&slots[0], Value::Text("ada@example.com"));
        writer.finish();
        assert_eq!(json, br#"{"email":"ada@example.com"}"#);
    }

    #[test]
    fn a_key_constant_contact_does_not_have_is_refused() {
        assert_eq!(
            slots(["first_name", "nickname"]).unwrap_err(),
            UnknownField("nickname".into())
        );
    }
}
