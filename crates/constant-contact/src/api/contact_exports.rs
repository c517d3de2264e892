//! Contact exports: one activity writes a list's contacts (or those of a status) to a CSV file,
//! which one request downloads — a list of any size read back in a handful of requests instead
//! of one per 500 members.

use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;

use super::activity_times::ActivityKind;
use super::{ApiRequest, ConstantContact, PollPolicy};
use crate::error::{Error, Result};
use crate::wire::activities::{Activity, ActivityState};

/// Lists one contact export may read.
pub const MAX_EXPORT_LISTS: usize = 50;

/// What a contact export writes: the contacts of `list_ids` (or, with no list, every contact of
/// the account), of `status` when one is given, with the columns `fields` (the file's headers
/// are these names).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ContactExport {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub list_ids: Vec<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub fields: Vec<String>,
}

impl ContactExport {
    /// The members of one list, with the fields named.
    pub fn of_list(list_id: Uuid, fields: &[&str]) -> Self {
        Self {
            list_ids: vec![list_id],
            status: None,
            fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        }
    }

    /// Every contact of the account with `status` (`unsubscribed`, `deleted`, …).
    pub fn with_status(status: &str, fields: &[&str]) -> Self {
        Self {
            list_ids: Vec::new(),
            status: Some(status.to_owned()),
            fields: fields.iter().map(|field| (*field).to_owned()).collect(),
        }
    }
}

impl ConstantContact {
    /// Starts a contact export; the activity's `_links.results` names its file once completed.
    pub async fn export_contacts(&self, export: &ContactExport) -> Result<Activity> {
        if export.list_ids.len() > MAX_EXPORT_LISTS {
            return Err(Error::InvalidRequest(format!(
                "a contact export reads at most {MAX_EXPORT_LISTS} lists, not {}",
                export.list_ids.len()
            )));
        }
        let body = serde_json::to_vec(export).expect("an export request serialises");
        let request = ApiRequest::new(
            Method::POST,
            self.endpoints.api("activities/contact_exports"),
        )
        .with_json_body(body.into());
        let activity: Activity = self.send_json(&request).await?;
        self.activity_times.accepted(
            activity.activity_id,
            ActivityKind::ContactExport,
            activity.status.items_total_count,
        );
        Ok(activity)
    }

    /// The CSV file of a completed contact export. Once Constant Contact no longer keeps it:
    /// `Rejected` with 404.
    pub async fn contact_export_file(&self, file_export_id: &str) -> Result<Bytes> {
        let request = ApiRequest::new(
            Method::GET,
            self.endpoints
                .api(&format!("contact_exports/{file_export_id}")),
        )
        .accepting("text/csv");
        Ok(self.send(&request).await?.body)
    }

    /// Starts a contact export, polls it to its end and downloads its file: the file, and the
    /// activity as it ended. An export that does not complete is
    /// [`Error::ActivityDidNotComplete`].
    pub async fn export_contacts_to_file(
        &self,
        export: &ContactExport,
        policy: &PollPolicy,
    ) -> Result<(Bytes, Activity)> {
        let started = self.export_contacts(export).await?;
        let ended = self.wait_for_activity(started.activity_id, policy).await?;
        if ended.state != ActivityState::Completed {
            return Err(Error::ActivityDidNotComplete {
                activity_id: ended.activity_id,
                state: ended.state,
                errors: ended
                    .activity_errors
                    .iter()
                    .map(|error| error.message().to_owned())
                    .collect(),
            });
        }
        let Some(file_export_id) = ended.file_export_id() else {
            return Err(Error::UnexpectedResponse {
                endpoint: format!("GET activities/{}", ended.activity_id),
                detail: "a completed contact export names no results file".to_owned(),
            });
        };
        let file = self.contact_export_file(file_export_id).await?;
        Ok((file, ended))
    }
}
