//! `ContactList`, `ContactListArray` and `ListInput`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PagingLinks;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContactList {
    pub list_id: Uuid,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub favorite: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// Present only when the request asked for `include_membership_count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_count: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ContactListPage {
    #[serde(default)]
    pub lists: Vec<ContactList>,
    #[serde(default, rename = "_links")]
    pub links: PagingLinks,
}

/// The body of `POST /contact_lists`.
#[derive(Debug, Clone, Serialize)]
pub struct NewContactList {
    pub name: String,
    pub favorite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
