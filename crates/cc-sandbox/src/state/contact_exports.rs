//! Contact exports: which contacts and fields a `contact_exports` activity writes, the CSV file
//! it makes when it completes, and the files kept for download until they expire.

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::activities::ACTIVITY_RETENTION;
use super::contacts::{ContactRecord, ContactStore};
use super::timestamp;

/// The fields a contact export may name, in the order of the file's columns when it names none.
/// The file's headers are these names (how Constant Contact heads its columns is not
/// documented; its fields are named so).
pub(crate) const EXPORT_FIELDS: &[&str] = &[
    "email_address",
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "birthday_month",
    "birthday_day",
    "anniversary",
    "email_optin_source",
    "email_optin_date",
    "email_optout_source",
    "email_optout_date",
    "email_optout_reason",
    "created_at",
    "updated_at",
];

/// Fields exported only beside `email_address`, as Constant Contact's Swagger file says.
pub(crate) const NEEDS_EMAIL_ADDRESS: &[&str] = &[
    "email_optin_source",
    "email_optin_date",
    "email_optout_source",
    "email_optout_date",
    "email_optout_reason",
];

/// Which contacts an export writes.
#[derive(Debug, Clone)]
pub(crate) enum Selection {
    /// Every contact of the account (no filter given).
    All,
    Contacts(Vec<Uuid>),
    Lists {
        lists: Vec<u32>,
        exclude: Vec<Uuid>,
    },
    /// Contacts who subscribed within the last 30 days, on `lists` when any are named.
    NewSubscribers {
        lists: Vec<u32>,
        exclude: Vec<Uuid>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct ExportRequest {
    pub(crate) selection: Selection,
    /// Empty: every status but deleted.
    pub(crate) statuses: Vec<String>,
    pub(crate) fields: Vec<&'static str>,
}

impl ExportRequest {
    pub(crate) fn selects(&self, contact: &ContactRecord, now: DateTime<Utc>) -> bool {
        if !contact.has_status(&self.statuses) {
            return false;
        }
        let on_any = |lists: &[u32]| contact.lists.iter().any(|list| lists.contains(list));
        match &self.selection {
            Selection::All => true,
            Selection::Contacts(ids) => ids.contains(&contact.contact_id),
            Selection::Lists { lists, exclude } => {
                on_any(lists) && !exclude.contains(&contact.contact_id)
            }
            Selection::NewSubscribers { lists, exclude } => {
                contact.created_at > now - chrono::TimeDelta::days(30)
                    && (lists.is_empty() || on_any(lists))
                    && !exclude.contains(&contact.contact_id)
            }
        }
    }

    /// How many contacts the export would write now.
    pub(crate) fn count(&self, contacts: &ContactStore, now: DateTime<Utc>) -> u64 {
        contacts
            .iter()
            .filter(|contact| self.selects(contact, now))
            .count() as u64
    }

    /// The file: a header of the fields, then one row per selected contact. Returns it with
    /// its number of rows.
    pub(crate) fn write_csv(&self, contacts: &ContactStore, now: DateTime<Utc>) -> (Bytes, u64) {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(&self.fields)
            .expect("writing to memory does not fail");
        let mut rows = 0;
        for contact in contacts.iter().filter(|contact| self.selects(contact, now)) {
            writer
                .write_record(
                    self.fields
                        .iter()
                        .map(|field| value_of(contact, field).unwrap_or_default()),
                )
                .expect("writing to memory does not fail");
            rows += 1;
        }
        let csv = writer
            .into_inner()
            .expect("flushing to memory does not fail");
        (Bytes::from(csv), rows)
    }
}

fn value_of(contact: &ContactRecord, field: &str) -> Option<String> {
    let opt_out = contact.opt_out.as_ref();
    match field {
        "email_address" => Some(contact.address.clone()),
        "email_optin_source" => Some("Account".to_owned()),
        "email_optin_date" | "created_at" => Some(timestamp(contact.created_at)),
        "updated_at" => Some(timestamp(contact.updated_at)),
        "email_optout_source" => opt_out.map(|opt_out| opt_out.source.to_owned()),
        "email_optout_date" => opt_out.map(|opt_out| timestamp(opt_out.at)),
        "email_optout_reason" => opt_out.and_then(|opt_out| opt_out.reason.clone()),
        other => contact.field(other).map(str::to_owned),
    }
}

/// How long an export's file can be downloaded. Constant Contact does not document it; the
/// sandbox keeps it as long as the activity's status.
pub const EXPORT_FILE_RETENTION: chrono::TimeDelta = ACTIVITY_RETENTION;

struct ExportFile {
    csv: Bytes,
    completed_at: DateTime<Utc>,
}

/// The files of completed exports, by the activity's id (the `file_export_id`).
#[derive(Default)]
pub(crate) struct ExportFiles {
    files: HashMap<Uuid, ExportFile>,
}

impl ExportFiles {
    pub(crate) fn keep(&mut self, file_export_id: Uuid, csv: Bytes, completed_at: DateTime<Utc>) {
        self.files
            .insert(file_export_id, ExportFile { csv, completed_at });
    }

    /// The file, unless it is unknown or expired (then it is forgotten).
    pub(crate) fn get(&mut self, file_export_id: Uuid, now: DateTime<Utc>) -> Option<Bytes> {
        self.files
            .retain(|_, file| file.completed_at + EXPORT_FILE_RETENTION > now);
        self.files.get(&file_export_id).map(|file| file.csv.clone())
    }
}
