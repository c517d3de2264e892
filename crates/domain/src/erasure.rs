//! What an erasure did, person by person, with no address in it: each person is named by the
//! keyed hash of their address (the tombstone's), never by the address.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An erasure's receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ErasureReceipt {
    pub people: Vec<PersonErased>,
    /// When the last account was done with.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What was done for one person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PersonErased {
    /// The keyed hash of the address (HMAC-SHA-256 with the installation's key, hex).
    pub hash: String,
    /// The tombstone was already there (erased before).
    pub erased_before: bool,
    pub store: PurgedRecords,
    /// Per connection whose exports manage lists, once the removal reached it.
    pub constant_contact: Vec<AccountRemoval>,
}

/// What the store held of the person, now purged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PurgedRecords {
    /// Ledgers that had sent the person: the export and its list.
    pub ledgers: Vec<LedgerPurged>,
    pub skipped_entries: u64,
    pub opt_outs: u64,
    /// Runs whose report, progress, guard or reason named the address (replaced).
    pub runs_rewritten: u64,
    /// Audit entries whose detail named the address (replaced).
    pub audit_entries_rewritten: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerPurged {
    pub export_id: Uuid,
    pub list_id: String,
}

/// What happened to the person in one Constant Contact account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AccountRemoval {
    pub connection_id: Uuid,
    pub connection_name: String,
    /// Whether the account has a contact of that address.
    pub contact_found: bool,
    /// The lists managed by segsync's exports that the contact was taken off.
    pub removed_from_lists: Vec<Uuid>,
    /// Whether the contact was deleted (the connection's `contact_delete`).
    pub contact_deleted: bool,
    pub at: Option<DateTime<Utc>>,
}
