//! `ContactsJsonImport` and `JsonImportContact`: the body of a bulk JSON import.
//!
//! A contact is a flat object of optional strings keyed as Constant Contact names them
//! (`email`, `first_name`, `cf:Loyalty_tier`, …). Absent keys leave the contact's existing
//! values untouched, so a contact carries only the fields a caller sets.

use std::collections::BTreeMap;

use serde::Serialize;

/// Keys Constant Contact accepts in a JSON import, besides `cf:<custom field name>`.
pub const IMPORT_FIELD_KEYS: &[&str] = &[
    "email",
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "birthday_month",
    "birthday_day",
    "anniversary",
    "phone",
    "home_phone",
    "work_phone",
    "mobile_phone",
    "other_phone",
    "street",
    "street2",
    "city",
    "state",
    "zip",
    "country",
    "home_street",
    "home_street2",
    "home_city",
    "home_state",
    "home_zip",
    "work_street",
    "work_street2",
    "work_city",
    "work_state",
    "work_zip",
    "work_country",
    "other_street",
    "other_street2",
    "other_city",
    "other_state",
    "other_zip",
    "other_country",
    "sms_number",
    "sms_consent_date",
];

/// One contact of an import. `birthday_month` and `birthday_day` are integers on the wire;
/// every other field is a string.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportContact {
    #[serde(flatten)]
    fields: BTreeMap<String, ImportValue>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
enum ImportValue {
    Text(String),
    Number(u8),
}

impl ImportContact {
    pub fn with_email(email: impl Into<String>) -> Self {
        let mut contact = Self::default();
        contact
            .fields
            .insert("email".to_owned(), ImportValue::Text(email.into()));
        contact
    }

    /// Sets a text field. `key` is an import key (`first_name`) or `cf:<name>`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.fields
            .insert(key.into(), ImportValue::Text(value.into()));
        self
    }

    pub fn set_birthday(&mut self, month: u8, day: u8) -> &mut Self {
        self.fields
            .insert("birthday_month".to_owned(), ImportValue::Number(month));
        self.fields
            .insert("birthday_day".to_owned(), ImportValue::Number(day));
        self
    }

    pub fn email(&self) -> Option<&str> {
        match self.fields.get("email") {
            Some(ImportValue::Text(email)) => Some(email),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_flat_with_numbers_for_the_birthday() {
        let mut contact = ImportContact::with_email("ada@example.com");
        contact
            .set("first_name", "Ada")
            .set("cf:Loyalty_tier", "gold")
            .set_birthday(12, 10)
            .set("first_name", "Ada Lovelace");
        assert_eq!(
            serde_json::to_string(&contact).unwrap(),
            r#"{"birthday_day":10,"birthday_month":12,"cf:Loyalty_tier":"gold","email":"ada@example.com","first_name":"Ada Lovelace"}"#
        );
    }
}
