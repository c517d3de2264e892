//! Removing contacts from lists, and deleting contacts. Removing memberships unsubscribes
//! nobody and deletes no contact; deleting is not unsubscribing either, and a deleted contact
//! comes back when it is imported again.

use reqwest::Method;
use serde::Serialize;
use uuid::Uuid;

use super::activity_times::ActivityKind;
use super::{ApiRequest, ConstantContact};
use crate::error::{Error, Result};
use crate::wire::activities::Activity;

/// Contact ids one removal may name.
pub const MAX_CONTACT_IDS_PER_REMOVAL: usize = 500;
/// Lists one removal may target.
pub const MAX_LIST_IDS_PER_REMOVAL: usize = 50;

#[derive(Serialize)]
struct RemoveListMemberships<'a> {
    source: Source<'a>,
    list_ids: &'a [Uuid],
}

#[derive(Serialize)]
struct ContactDelete<'a> {
    contact_ids: &'a [Uuid],
}

#[derive(Serialize)]
struct Source<'a> {
    contact_ids: &'a [Uuid],
}

impl ConstantContact {
    /// Removes up to 500 contacts from up to 50 lists, as one activity.
    pub async fn remove_list_memberships(
        &self,
        contact_ids: &[Uuid],
        list_ids: &[Uuid],
    ) -> Result<Activity> {
        if contact_ids.is_empty() || contact_ids.len() > MAX_CONTACT_IDS_PER_REMOVAL {
            return Err(Error::InvalidRequest(format!(
                "a removal names 1 to {MAX_CONTACT_IDS_PER_REMOVAL} contacts, not {}",
                contact_ids.len()
            )));
        }
        if list_ids.is_empty() || list_ids.len() > MAX_LIST_IDS_PER_REMOVAL {
            return Err(Error::InvalidRequest(format!(
                "a removal targets 1 to {MAX_LIST_IDS_PER_REMOVAL} lists, not {}",
                list_ids.len()
            )));
        }
        let body = serde_json::to_vec(&RemoveListMemberships {
            source: Source { contact_ids },
            list_ids,
        })
        .expect("ids serialise");
        let request = ApiRequest::new(
            Method::POST,
            self.endpoints.api("activities/remove_list_memberships"),
        )
        .with_json_body(body.into());
        let activity: Activity = self.send_json(&request).await?;
        self.activity_times.accepted(
            activity.activity_id,
            ActivityKind::Removal,
            contact_ids.len() as u64,
        );
        Ok(activity)
    }

    /// Removes any number of contacts, 500 per activity.
    pub async fn remove_list_memberships_in_chunks(
        &self,
        contact_ids: &[Uuid],
        list_ids: &[Uuid],
    ) -> Result<Vec<Activity>> {
        let mut activities = Vec::new();
        for chunk in contact_ids.chunks(MAX_CONTACT_IDS_PER_REMOVAL) {
            activities.push(self.remove_list_memberships(chunk, list_ids).await?);
        }
        Ok(activities)
    }

    /// Deletes up to 500 contacts, as one `contact_delete` activity.
    pub async fn delete_contacts(&self, contact_ids: &[Uuid]) -> Result<Activity> {
        if contact_ids.is_empty() || contact_ids.len() > MAX_CONTACT_IDS_PER_REMOVAL {
            return Err(Error::InvalidRequest(format!(
                "a deletion names 1 to {MAX_CONTACT_IDS_PER_REMOVAL} contacts, not {}",
                contact_ids.len()
            )));
        }
        let body = serde_json::to_vec(&ContactDelete { contact_ids }).expect("ids serialise");
        let request = ApiRequest::new(
            Method::POST,
            self.endpoints.api("activities/contact_delete"),
        )
        .with_json_body(body.into());
        let activity: Activity = self.send_json(&request).await?;
        self.activity_times.accepted(
            activity.activity_id,
            ActivityKind::Removal,
            contact_ids.len() as u64,
        );
        Ok(activity)
    }
}
