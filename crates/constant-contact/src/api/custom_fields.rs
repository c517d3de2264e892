//! The account's custom fields: page through all, create one.

use reqwest::Method;

use super::{ApiRequest, ConstantContact};
use crate::error::{Error, Result};
use crate::wire::custom_fields::{CustomField, CustomFieldPage, NewCustomField};

/// The largest page of `GET /contact_custom_fields` (an account has at most 100 fields).
const CUSTOM_FIELD_PAGE_SIZE: u32 = 100;

impl ConstantContact {
    /// Every custom field of the account, following `_links.next` to the last page.
    pub async fn custom_fields(&self) -> Result<Vec<CustomField>> {
        let mut fields = Vec::new();
        let mut page: CustomFieldPage = self
            .get_json(
                "contact_custom_fields",
                &[("limit", CUSTOM_FIELD_PAGE_SIZE.to_string())],
            )
            .await?;
        loop {
            fields.append(&mut page.custom_fields);
            let Some(next) = page.links.next.take() else {
                break;
            };
            let url = self.endpoints.resolve_link(&next.href).map_err(|error| {
                Error::UnexpectedResponse {
                    endpoint: "GET contact_custom_fields".to_owned(),
                    detail: error.to_string(),
                }
            })?;
            page = self
                .send_json(&ApiRequest::new(Method::GET, url.to_string()))
                .await?;
        }
        Ok(fields)
    }

    /// Creates a custom field. A name already taken is `Rejected` with 409.
    pub async fn create_custom_field(&self, field: &NewCustomField) -> Result<CustomField> {
        let body = serde_json::to_vec(field).expect("a custom field serialises");
        let request = ApiRequest::new(Method::POST, self.endpoints.api("contact_custom_fields"))
            .with_json_body(body.into());
        self.send_json(&request).await
    }
}
