//! `CustomField`, `CustomFields` and `CustomFieldRequest`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PagingLinks;

/// A custom field of the account. Imports set it as `cf:<name>`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CustomField {
    pub custom_field_id: Uuid,
    /// What people are shown.
    pub label: String,
    /// The label with blanks replaced by underscores: the key after `cf:`.
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CustomFieldPage {
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    #[serde(default, rename = "_links")]
    pub links: PagingLinks,
}

/// The body of `POST /contact_custom_fields`.
#[derive(Debug, Clone, Serialize)]
pub struct NewCustomField {
    pub label: String,
    /// `string` or `date`.
    #[serde(rename = "type")]
    pub field_type: String,
}

impl NewCustomField {
    /// A text field with this label.
    pub fn text(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            field_type: "string".to_owned(),
        }
    }
}
