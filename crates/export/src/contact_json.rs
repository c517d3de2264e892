//! One member's import contact written straight to JSON, without building it first: the same
//! bytes as Constant Contact's `ImportContact` serialised (keys sorted, compact, strings escaped
//! by `serde_json`), because the ledger remembers a contact by a hash of exactly those bytes.

use std::io::Write;

use segsync_domain::ContactField;

/// Where one key of the contact takes its value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
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
pub(crate) struct Slot {
    pub(crate) key: String,
    /// `"key":`, escaped once.
    json_key: Vec<u8>,
    pub(crate) source: Source,
}

/// The keys of every contact of a mapping, in the order the JSON carries them. When two mapped
/// fields share a key, the later one wins, as setting it twice on a contact would.
pub(crate) fn slots(fields: &[ContactField]) -> Vec<Slot> {
    let mut keyed: Vec<(String, Source)> = vec![("email".to_owned(), Source::Email)];
    for (index, field) in fields.iter().enumerate() {
        match field {
            ContactField::Birthday => {
                keyed.push((
                    "birthday_month".to_owned(),
                    Source::BirthdayMonth { field: index },
                ));
                keyed.push((
                    "birthday_day".to_owned(),
                    Source::BirthdayDay { field: index },
                ));
            }
            ContactField::Anniversary => {
                keyed.push((field.import_key(), Source::Date { field: index }));
            }
            text => keyed.push((
                text.import_key(),
                Source::Text {
                    field: index,
                    max_length: text.max_length(),
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
    slots
}

/// A value a slot takes for one member.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Text(&'a str),
    Number(u32),
    Date(chrono::NaiveDate),
}

/// Writes one contact's JSON into a buffer reused from member to member.
pub(crate) struct ContactWriter<'b> {
    json: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> ContactWriter<'b> {
    pub(crate) fn start(json: &'b mut Vec<u8>) -> Self {
        json.clear();
        json.push(b'{');
        Self { json, first: true }
    }

    pub(crate) fn entry(&mut self, slot: &Slot, value: Value<'_>) {
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

    pub(crate) fn finish(self) {
        self.json.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use constant_contact::wire::imports::ImportContact;

    use super::*;

    /// The bytes must not move: every ledger remembers contacts by their hash.
    #[test]
    fn writes_what_an_import_contact_serialises_to() {
        let fields = [
            ContactField::LastName,
            ContactField::Custom("Tier \"A\"".into()),
            ContactField::Birthday,
            ContactField::FirstName,
            ContactField::Anniversary,
        ];
        let slots = slots(&fields);
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
        let slots = slots(&[ContactField::FirstName, ContactField::FirstName]);
        let sources: Vec<Source> = slots.iter().map(|slot| slot.source).collect();
        assert_eq!(
            sources,
            [
                Source::Email,
                Source::Text {
                    field: 1,
                    max_length: ContactField::FirstName.max_length()
                }
            ]
        );
    }

    #[test]
    fn a_contact_without_fields_is_its_email() {
        let slots = slots(&[]);
        let mut json = Vec::new();
        let mut writer = ContactWriter::start(&mut json);
        writer.entry(&slots[0], Value::Text("ada@example.com"));
        writer.finish();
        assert_eq!(json, br#"{"email":"ada@example.com"}"#);
    }
}
