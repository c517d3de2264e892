//! What callers see of connections, and what admins send to create or change one.

use chrono::{DateTime, Utc};
use segsync_store::{Health, UsableBy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The data-privacy and compliance terms an admin agrees to when adding a connection.
pub const CONSENT_TEXT: &str = "Data privacy and compliance: by connecting, you let segsync send the customer data of the \
selected segments (email addresses and the attributes you map) to Constant Contact, where it is governed by Constant Contact's terms \
and privacy policy. You confirm that your organisation may share this data with Constant Contact and that the contacts may be \
emailed under the laws that apply to you.";

/// What admins see of a connection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionView {
    pub id: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub usable_by: UsableBy,
    pub health: Health,
    pub health_reason: Option<String>,
    pub consent_by: Uuid,
    pub consent_at: DateTime<Utc>,
    pub export_user_id: Option<Uuid>,
    pub exports: Vec<String>,
    /// Whether erasing a person also deletes the contact in this account.
    pub contact_delete: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What contributors and viewers see: enough to pick it, nothing more. It has no other
/// fields, so that a full view is never taken for one (`additionalProperties: false`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSummary {
    pub id: Uuid,
    pub name: String,
    pub kind: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Visible {
    Full(Box<ConnectionView>),
    Summary(ConnectionSummary),
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentText {
    pub text: &'static str,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConnectionForm {
    pub name: String,
    #[serde(default = "admins_only")]
    pub usable_by: UsableBy,
    /// "I agree" to the data-privacy and compliance terms.
    #[serde(default)]
    pub consent: bool,
}

fn admins_only() -> UsableBy {
    UsableBy::Admins
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConnectionChange {
    pub name: Option<String>,
    pub usable_by: Option<UsableBy>,
    /// Whether erasing a person also deletes the contact in this account (deleting is not
    /// unsubscribing, and a later import revives a deleted contact).
    pub contact_delete: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ListView {
    pub list_id: Uuid,
    pub name: String,
    pub membership_count: Option<u64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomFieldView {
    /// What the data matching names: `cf:<name>`.
    pub key: String,
    /// The label with blanks replaced by underscores, unique in the account.
    pub name: String,
    /// What people are shown.
    pub label: String,
}

/// A contact who opted out, as Constant Contact said when segsync asked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OptOutView {
    pub email: String,
    pub contact_id: Option<Uuid>,
    /// When it opted out, as Constant Contact says (ISO-8601).
    pub opted_out_at: Option<String>,
    /// `Contact` (the person) or `Account` (the account's owner).
    pub opt_out_source: Option<String>,
    pub reason: Option<String>,
    pub connection_id: Uuid,
    /// When segsync learned it.
    pub learned_at: chrono::DateTime<chrono::Utc>,
}

impl From<segsync_store::OptOut> for OptOutView {
    fn from(opt_out: segsync_store::OptOut) -> Self {
        Self {
            email: opt_out.email,
            contact_id: opt_out.contact_id,
            opted_out_at: opt_out.opted_out_at,
            opt_out_source: opt_out.opt_out_source,
            reason: opt_out.reason,
            connection_id: opt_out.connection_id,
            learned_at: opt_out.learned_at,
        }
    }
}
