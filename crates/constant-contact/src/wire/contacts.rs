//! `ContactResource` as `GET /contacts` returns it, with the parts segment exports read.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PagingLinks;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EmailAddress {
    pub address: String,
    /// `explicit`, `implicit`, `not_set`, `pending_confirmation`, `temp_hold` or `unsubscribed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_to_send: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_in_date: Option<String>,
    /// `Contact` or `Account`: who unsubscribed the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_out_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Contact {
    pub contact_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<EmailAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Present when the request asked for `include=list_memberships`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_memberships: Option<Vec<Uuid>>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ContactPage {
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default, rename = "_links")]
    pub links: PagingLinks,
}
