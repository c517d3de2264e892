//! The account's custom fields: at most 100, each with a label people read and a unique name
//! built from it by replacing blanks with underscores. An import may set only the fields that
//! exist, by `cf:<name>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Custom fields one account may define.
pub const MAX_CUSTOM_FIELDS_PER_ACCOUNT: usize = 100;
/// Longest label (and so name), in characters.
pub const MAX_LABEL_LENGTH: usize = 50;
/// The types a custom field may take.
pub const FIELD_TYPES: &[&str] = &["string", "date"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CustomFieldRecord {
    pub(crate) custom_field_id: Uuid,
    pub(crate) label: String,
    pub(crate) name: String,
    pub(crate) field_type: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// Why a custom field was not created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateFieldError {
    /// The label or the type is not one Constant Contact takes (400); the message says why.
    Invalid(String),
    /// A field of this name exists (409).
    NameTaken(String),
    /// The account has 100 fields already (400).
    TooManyFields,
}

impl std::fmt::Display for CreateFieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(message) => f.write_str(message),
            Self::NameTaken(name) => write!(f, "A custom field named {name:?} already exists."),
            Self::TooManyFields => write!(
                f,
                "A user can configure up to {MAX_CUSTOM_FIELDS_PER_ACCOUNT} custom_fields in their account."
            ),
        }
    }
}

impl std::error::Error for CreateFieldError {}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct CustomFieldStore {
    fields: Vec<CustomFieldRecord>,
}

/// The unique name of a label: blanks become underscores.
pub(crate) fn name_of(label: &str) -> String {
    label
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

impl CustomFieldStore {
    pub(crate) fn create(
        &mut self,
        label: &str,
        field_type: &str,
        now: DateTime<Utc>,
    ) -> Result<&CustomFieldRecord, CreateFieldError> {
        let label = label.trim();
        if label.is_empty() {
            return Err(CreateFieldError::Invalid("label is required.".to_owned()));
        }
        if label.chars().count() > MAX_LABEL_LENGTH {
            return Err(CreateFieldError::Invalid(format!(
                "label must be at most {MAX_LABEL_LENGTH} characters."
            )));
        }
        if !FIELD_TYPES.contains(&field_type) {
            return Err(CreateFieldError::Invalid(format!(
                "type must be one of {}, not {field_type:?}.",
                FIELD_TYPES.join(", ")
            )));
        }
        let name = name_of(label);
        // Names are compared without regard to case: the stricter reading of "unique".
        if self
            .fields
            .iter()
            .any(|field| field.name.eq_ignore_ascii_case(&name))
        {
            return Err(CreateFieldError::NameTaken(name));
        }
        if self.fields.len() >= MAX_CUSTOM_FIELDS_PER_ACCOUNT {
            return Err(CreateFieldError::TooManyFields);
        }
        self.fields.push(CustomFieldRecord {
            custom_field_id: Uuid::new_v4(),
            label: label.to_owned(),
            name,
            field_type: field_type.to_owned(),
            created_at: now,
            updated_at: now,
        });
        Ok(self.fields.last().expect("just pushed"))
    }

    /// Deletes the field of this name; returns whether there was one.
    pub(crate) fn delete(&mut self, name: &str) -> bool {
        let before = self.fields.len();
        self.fields.retain(|field| field.name != name);
        self.fields.len() != before
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &CustomFieldRecord> {
        self.fields.iter()
    }

    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_labels_and_are_unique_and_the_account_holds_at_most_a_hundred() {
        let mut fields = CustomFieldStore::default();
        let now = Utc::now();
        let field = fields
            .create("Vehicle make and model year", "string", now)
            .unwrap();
        assert_eq!(field.name, "Vehicle_make_and_model_year");
        assert_eq!(
            fields
                .create("vehicle make and model year", "string", now)
                .unwrap_err(),
            CreateFieldError::NameTaken("vehicle_make_and_model_year".to_owned())
        );
        assert!(matches!(
            fields.create(" ", "string", now),
            Err(CreateFieldError::Invalid(_))
        ));
        assert!(matches!(
            fields.create("Colour", "colour", now),
            Err(CreateFieldError::Invalid(_))
        ));
        assert!(matches!(
            fields.create(&"x".repeat(51), "string", now),
            Err(CreateFieldError::Invalid(_))
        ));
        for n in 1..MAX_CUSTOM_FIELDS_PER_ACCOUNT {
            fields.create(&format!("field {n}"), "string", now).unwrap();
        }
        assert_eq!(fields.len(), MAX_CUSTOM_FIELDS_PER_ACCOUNT);
        assert_eq!(
            fields.create("one too many", "string", now).unwrap_err(),
            CreateFieldError::TooManyFields
        );
        assert!(fields.iter().any(|field| field.name == "field_7"));
        assert!(fields.delete("field_7"));
        assert!(!fields.delete("field_7"));
    }
}
