//! Bulk JSON import: one batch, already within the limits, becomes one activity.

use reqwest::Method;

use super::activity_times::ActivityKind;
use super::{ApiRequest, ConstantContact};
use crate::batch::ImportBatch;
use crate::error::Result;
use crate::wire::activities::Activity;

impl ConstantContact {
    /// Sends one import. Constant Contact answers with an activity in state `initialized`;
    /// follow it with [`ConstantContact::wait_for_activity`] or
    /// [`ConstantContact::wait_for_activities`].
    ///
    /// A retried import after a timeout may create a second activity for the same contacts.
    /// The data effect is the same (imports upsert by email), only a request is spent twice.
    pub async fn import_contacts(&self, batch: &ImportBatch) -> Result<Activity> {
        let request = ApiRequest::new(
            Method::POST,
            self.endpoints.api("activities/contacts_json_import"),
        )
        .with_json_body(batch.body().clone());
        let activity: Activity = self.send_json(&request).await?;
        self.activity_times.accepted(
            activity.activity_id,
            ActivityKind::Import,
            batch.n_contacts() as u64,
        );
        Ok(activity)
    }
}
