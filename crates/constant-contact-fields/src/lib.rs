//! Constant Contact's contact fields that an import can set besides the email — their import
//! keys, what they take, how long a value may be and what people call them — and its custom
//! fields' rules. The one table that data matching, the console and the contact writer read.

/// What a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Month and day, sent as `birthday_month` and `birthday_day`, from a date.
    Birthday,
    /// A date, sent as `YYYY-MM-DD`.
    Date,
}

/// One standard contact field.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// The key in a JSON import (`birthday` stands for its two keys).
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    /// The longest value the field takes, in characters.
    pub max_length: usize,
}

const fn text(key: &'static str, label: &'static str, max_length: usize) -> FieldSpec {
    FieldSpec {
        key,
        label,
        kind: FieldKind::Text,
        max_length,
    }
}

/// Every standard field, in the order people are shown them.
pub const CONTACT_FIELDS: [FieldSpec; 16] = [
    text("first_name", "First name", 50),
    text("last_name", "Last name", 50),
    text("job_title", "Job title", 50),
    text("company_name", "Company name", 50),
    text("phone", "Phone", 50),
    text("home_phone", "Home phone", 50),
    text("work_phone", "Work phone", 50),
    text("mobile_phone", "Mobile phone", 50),
    text("street", "Street", 255),
    text("street2", "Street, line 2", 255),
    text("city", "City", 50),
    text("state", "State", 50),
    text("zip", "ZIP code", 50),
    text("country", "Country", 50),
    FieldSpec {
        key: "birthday",
        label: "Birthday",
        kind: FieldKind::Birthday,
        max_length: 10,
    },
    FieldSpec {
        key: "anniversary",
        label: "Anniversary",
        kind: FieldKind::Date,
        max_length: 10,
    },
];

/// What a custom field's import key starts with: `cf:<name>`.
pub const CUSTOM_FIELD_PREFIX: &str = "cf:";
/// Custom field names are at most 50 characters.
pub const CUSTOM_FIELD_NAME_MAX: usize = 50;
/// Custom field values are at most 255 characters.
pub const CUSTOM_FIELD_VALUE_MAX: usize = 255;

/// The standard field whose import key is `key`.
pub fn standard_field(key: &str) -> Option<&'static FieldSpec> {
    CONTACT_FIELDS.iter().find(|field| field.key == key)
}

/// What the field with import key `key` (standard or `cf:<name>`) takes, and its longest
/// value; none for a key Constant Contact does not have.
pub fn kind_and_limit(key: &str) -> Option<(FieldKind, usize)> {
    if key.starts_with(CUSTOM_FIELD_PREFIX) {
        return Some((FieldKind::Text, CUSTOM_FIELD_VALUE_MAX));
    }
    standard_field(key).map(|field| (field.kind, field.max_length))
}
