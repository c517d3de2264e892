//! Data matching: which profile attribute fills which Constant Contact field. Email is
//! required; everything else is optional, as in Customer Insights' "Add attribute".

use std::fmt;
use std::str::FromStr;

/// A Constant Contact contact field an attribute can fill (besides the email).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactField {
    FirstName,
    LastName,
    JobTitle,
    CompanyName,
    Phone,
    HomePhone,
    WorkPhone,
    MobilePhone,
    Street,
    Street2,
    City,
    State,
    Zip,
    Country,
    /// Month and day from a date attribute.
    Birthday,
    /// A date attribute, sent as `YYYY-MM-DD`.
    Anniversary,
    /// A custom field by its name: `cf:<name>` on the wire.
    Custom(String),
}

use constant_contact_fields::{
    CONTACT_FIELDS, CUSTOM_FIELD_NAME_MAX, CUSTOM_FIELD_PREFIX, kind_and_limit,
};

impl ContactField {
    /// Every standard field, in the order of Constant Contact's table of fields.
    pub const STANDARD: [Self; 16] = [
        Self::FirstName,
        Self::LastName,
        Self::JobTitle,
        Self::CompanyName,
        Self::Phone,
        Self::HomePhone,
        Self::WorkPhone,
        Self::MobilePhone,
        Self::Street,
        Self::Street2,
        Self::City,
        Self::State,
        Self::Zip,
        Self::Country,
        Self::Birthday,
        Self::Anniversary,
    ];

    /// The key in a JSON import (`first_name`, `cf:tier`). Birthday uses two keys and is
    /// named `birthday` here.
    pub fn import_key(&self) -> String {
        match self {
            Self::Custom(name) => format!("{CUSTOM_FIELD_PREFIX}{name}"),
            standard => standard.standard_key().to_owned(),
        }
    }

    fn standard_key(&self) -> &'static str {
        match self {
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::JobTitle => "job_title",
            Self::CompanyName => "company_name",
            Self::Phone => "phone",
            Self::HomePhone => "home_phone",
            Self::WorkPhone => "work_phone",
            Self::MobilePhone => "mobile_phone",
            Self::Street => "street",
            Self::Street2 => "street2",
            Self::City => "city",
            Self::State => "state",
            Self::Zip => "zip",
            Self::Country => "country",
            Self::Birthday => "birthday",
            Self::Anniversary => "anniversary",
            Self::Custom(_) => "cf:",
        }
    }

    /// The longest value the field takes, in characters, as Constant Contact's table says.
    pub fn max_length(&self) -> usize {
        kind_and_limit(&self.import_key()).map_or(50, |(_, max)| max)
    }

    /// Whether the field takes a date attribute.
    /// One of the phone numbers (a contact holds at most three).
    pub fn is_phone(&self) -> bool {
        matches!(
            self,
            Self::Phone | Self::HomePhone | Self::WorkPhone | Self::MobilePhone
        )
    }

    pub fn wants_date(&self) -> bool {
        matches!(self, Self::Birthday | Self::Anniversary)
    }
}

impl fmt::Display for ContactField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.import_key())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldNameError {
    #[error(
        "unknown contact field {name:?}; use one of {known} or cf:<custom field name>",
        name = .0,
        known = CONTACT_FIELDS.map(|field| field.key).join(", ")
    )]
    Unknown(String),
    #[error(
        "custom field names are 1 to {CUSTOM_FIELD_NAME_MAX} letters, digits and underscores, not {0:?}"
    )]
    BadCustomName(String),
}

impl FromStr for ContactField {
    type Err = FieldNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(custom) = name.strip_prefix(CUSTOM_FIELD_PREFIX) {
            let valid = (1..=CUSTOM_FIELD_NAME_MAX).contains(&custom.chars().count())
                && custom.chars().all(|c| c.is_alphanumeric() || c == '_');
            return if valid {
                Ok(Self::Custom(custom.to_owned()))
            } else {
                Err(FieldNameError::BadCustomName(custom.to_owned()))
            };
        }
        Self::STANDARD
            .into_iter()
            .find(|field| field.standard_key() == name)
            .ok_or_else(|| FieldNameError::Unknown(name.to_owned()))
    }
}

/// Why a written mapping is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("mapping.email is required: the attribute that holds the email address")]
    NoEmail,
    #[error("mapping.{field}: {problem}")]
    Field {
        field: String,
        problem: FieldNameError,
    },
    #[error(
        "mapping: {count} phone fields are filled and a Constant Contact contact holds at most {MAX_PHONES_PER_CONTACT} phone numbers; leave one out"
    )]
    TooManyPhones { count: usize },
}

/// Phone numbers one Constant Contact contact holds: an import setting more is refused.
pub const MAX_PHONES_PER_CONTACT: usize = 3;

/// Which attribute fills the email, and which fill the other fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    pub email: String,
    pub fields: Vec<(ContactField, String)>,
}

impl FieldMapping {
    pub fn email_only(email_attribute: impl Into<String>) -> Self {
        Self {
            email: email_attribute.into(),
            fields: Vec::new(),
        }
    }

    pub fn with(mut self, field: ContactField, attribute: impl Into<String>) -> Self {
        self.fields.push((field, attribute.into()));
        self
    }

    /// A mapping written as Constant Contact field name → attribute, as files and the API
    /// hold it; `email` is required.
    pub fn from_names<'a>(
        names: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self, MappingError> {
        let mut email = None;
        let mut fields = Vec::new();
        for (field, attribute) in names {
            if field == "email" {
                email = Some(attribute.clone());
            } else {
                let parsed: ContactField =
                    field.parse().map_err(|problem| MappingError::Field {
                        field: field.clone(),
                        problem,
                    })?;
                fields.push((parsed, attribute.clone()));
            }
        }
        let email = email.ok_or(MappingError::NoEmail)?;
        let phones = fields.iter().filter(|(field, _)| field.is_phone()).count();
        if phones > MAX_PHONES_PER_CONTACT {
            return Err(MappingError::TooManyPhones { count: phones });
        }
        Ok(Self { email, fields })
    }

    /// The mapping as Constant Contact field name → attribute, as files and the API hold it:
    /// what [`FieldMapping::from_names`] reads.
    pub fn names(&self) -> std::collections::BTreeMap<String, String> {
        std::iter::once(("email".to_owned(), self.email.clone()))
            .chain(
                self.fields
                    .iter()
                    .map(|(field, attribute)| (field.import_key(), attribute.clone())),
            )
            .collect()
    }

    /// The custom fields the mapping fills, by name, in its order.
    pub fn custom_fields(&self) -> Vec<&str> {
        self.fields
            .iter()
            .filter_map(|(field, _)| match field {
                ContactField::Custom(name) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Every attribute the mapping reads, email first.
    pub fn attributes(&self) -> Vec<&str> {
        let mut attributes = vec![self.email.as_str()];
        attributes.extend(self.fields.iter().map(|(_, attribute)| attribute.as_str()));
        attributes
    }
}

/// `value` cut to `max` characters, and whether it had to be.
pub fn cut_to(value: &str, max: usize) -> (&str, bool) {
    if value.len() <= max {
        return (value, false);
    }
    match value.char_indices().nth(max) {
        Some((byte, _)) => (&value[..byte], true),
        None => (value, false),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_standard_fields_are_constant_contacts_table_in_its_order() {
        let keys: Vec<String> = ContactField::STANDARD
            .iter()
            .map(ContactField::import_key)
            .collect();
        let table: Vec<&str> = CONTACT_FIELDS.iter().map(|field| field.key).collect();
        assert_eq!(keys, table);
        for field in &ContactField::STANDARD {
            assert_eq!(
                field.import_key().parse::<ContactField>().as_ref(),
                Ok(field)
            );
        }
    }

    use super::*;

    #[test]
    fn a_mapping_written_as_names_reads_back_as_itself() {
        let mapping = FieldMapping::email_only("email")
            .with(ContactField::FirstName, "first_name")
            .with(ContactField::Birthday, "birth_date")
            .with(ContactField::Custom("tier".into()), "tier");
        let names = mapping.names();
        assert_eq!(names["cf:tier"], "tier");
        let read = FieldMapping::from_names(&names).unwrap();
        assert_eq!(read.email, mapping.email);
        let mut fields = mapping.fields.clone();
        fields.sort_by_key(|(field, _)| field.import_key());
        assert_eq!(read.fields, fields);
    }

    #[test]
    fn field_names_round_trip() {
        for name in [
            "first_name",
            "company_name",
            "zip",
            "birthday",
            "anniversary",
            "cf:Loyalty_tier",
        ] {
            let field: ContactField = name.parse().unwrap();
            assert_eq!(field.import_key(), name);
        }
        assert!(matches!(
            "nickname".parse::<ContactField>(),
            Err(FieldNameError::Unknown(_))
        ));
        assert!(matches!(
            "cf:has space".parse::<ContactField>(),
            Err(FieldNameError::BadCustomName(_))
        ));
    }

    #[test]
    fn a_mapping_fills_at_most_three_phone_numbers() {
        let names = |fields: &[&str]| -> Vec<(String, String)> {
            std::iter::once(("email".to_owned(), "email".to_owned()))
                .chain(
                    fields
                        .iter()
                        .map(|f| ((*f).to_owned(), format!("attr_{f}"))),
                )
                .collect()
        };
        let three = names(&["phone", "home_phone", "mobile_phone"]);
        assert!(FieldMapping::from_names(three.iter().map(|(a, b)| (a, b))).is_ok());
        let four = names(&["phone", "home_phone", "work_phone", "mobile_phone"]);
        assert_eq!(
            FieldMapping::from_names(four.iter().map(|(a, b)| (a, b))),
            Err(MappingError::TooManyPhones { count: 4 })
        );
    }

    #[test]
    fn cuts_by_characters_not_bytes() {
        let name = "Zoë".repeat(20);
        let (cut, was_cut) = cut_to(&name, 50);
        assert!(was_cut);
        assert_eq!(cut.chars().count(), 50);
        assert!(cut.starts_with("ZoëZoë"));
        let accented = "é".repeat(30);
        assert_eq!(
            cut_to(&accented, 50),
            (accented.as_str(), false),
            "60 bytes, 30 characters"
        );
        assert_eq!(cut_to("Ada", 50), ("Ada", false));
    }
}
