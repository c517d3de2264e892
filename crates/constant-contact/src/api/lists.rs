//! Contact lists: get one, page through all, find by name, create.

use reqwest::Method;
use uuid::Uuid;

use super::{ApiRequest, ConstantContact};
use crate::error::{Error, Result};
use crate::wire::lists::{ContactList, ContactListPage, NewContactList};

/// The largest page `GET /contact_lists` documents in its text (its schema allows 1,000).
const LIST_PAGE_SIZE: u32 = 500;

impl ConstantContact {
    /// One list, with its member count. A list that does not exist is `Rejected` with 404.
    pub async fn get_list(&self, list_id: Uuid) -> Result<ContactList> {
        self.get_json(
            &format!("contact_lists/{list_id}"),
            &[("include_membership_count", "all".to_owned())],
        )
        .await
    }

    /// Every list of the account, following `_links.next` to the last page.
    pub async fn all_lists(&self) -> Result<Vec<ContactList>> {
        let mut lists = Vec::new();
        let mut page: ContactListPage = self
            .get_json(
                "contact_lists",
                &[
                    ("limit", LIST_PAGE_SIZE.to_string()),
                    ("include_membership_count", "all".to_owned()),
                ],
            )
            .await?;
        loop {
            lists.append(&mut page.lists);
            let Some(next) = page.links.next.take() else {
                break;
            };
            let url = self.endpoints.resolve_link(&next.href).map_err(|error| {
                Error::UnexpectedResponse {
                    endpoint: "GET contact_lists".to_owned(),
                    detail: error.to_string(),
                }
            })?;
            page = self
                .send_json(&ApiRequest::new(Method::GET, url.to_string()))
                .await?;
        }
        Ok(lists)
    }

    /// The list with exactly this name, if there is one (names are unique per account).
    pub async fn find_list_by_name(&self, name: &str) -> Result<Option<ContactList>> {
        let page: ContactListPage = self
            .get_json(
                "contact_lists",
                &[
                    ("name", name.to_owned()),
                    ("include_membership_count", "all".to_owned()),
                ],
            )
            .await?;
        Ok(page.lists.into_iter().find(|list| list.name == name))
    }

    /// Creates a list. A name already taken is `Rejected` with 409.
    pub async fn create_list(&self, list: &NewContactList) -> Result<ContactList> {
        let body = serde_json::to_vec(list).expect("a list serialises");
        let request = ApiRequest::new(Method::POST, self.endpoints.api("contact_lists"))
            .with_json_body(body.into());
        self.send_json(&request).await
    }
}
