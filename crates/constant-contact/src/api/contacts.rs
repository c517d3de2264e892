//! Contacts: by email, or by list, with `include` and cursor paging.

use reqwest::Method;
use url::Url;
use uuid::Uuid;

use super::{ApiRequest, ConstantContact};
use crate::error::{Error, Result};
use crate::wire::contacts::{Contact, ContactPage};

/// Page size bounds of `GET /contacts`.
pub const MAX_CONTACT_PAGE_SIZE: u32 = 500;
/// `lists` filters by at most this many list ids.
pub const MAX_LIST_FILTER: usize = 25;

/// A filter for `GET /contacts`.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    pub email: Option<String>,
    pub list_ids: Vec<Uuid>,
    /// `custom_fields`, `list_memberships`, `phone_numbers`, `street_addresses`, …
    pub include: Vec<String>,
    /// `all`, `active`, `unsubscribed`, …; Constant Contact's default is every non-deleted one.
    pub status: Option<String>,
    /// Only contacts changed after this moment (ISO-8601), such as the opt-outs since the last
    /// time they were asked for.
    pub updated_after: Option<String>,
    /// 1 to 500; Constant Contact's default is 50.
    pub limit: Option<u32>,
}

impl ContactQuery {
    pub fn by_email(email: impl Into<String>) -> Self {
        Self {
            email: Some(email.into()),
            ..Self::default()
        }
    }

    pub fn in_list(list_id: Uuid) -> Self {
        Self {
            list_ids: vec![list_id],
            ..Self::default()
        }
    }

    pub fn including(mut self, part: impl Into<String>) -> Self {
        self.include.push(part.into());
        self
    }

    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    pub fn updated_after(mut self, moment: impl Into<String>) -> Self {
        self.updated_after = Some(moment.into());
        self
    }

    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    fn to_query(&self) -> Result<Vec<(&'static str, String)>> {
        if self.list_ids.len() > MAX_LIST_FILTER {
            return Err(Error::InvalidRequest(format!(
                "contacts can be filtered by at most {MAX_LIST_FILTER} lists, not {}",
                self.list_ids.len()
            )));
        }
        let mut query = Vec::new();
        if let Some(email) = &self.email {
            query.push(("email", email.clone()));
        }
        if !self.list_ids.is_empty() {
            let ids: Vec<String> = self.list_ids.iter().map(Uuid::to_string).collect();
            query.push(("lists", ids.join(",")));
        }
        if !self.include.is_empty() {
            query.push(("include", self.include.join(",")));
        }
        if let Some(status) = &self.status {
            query.push(("status", status.clone()));
        }
        if let Some(moment) = &self.updated_after {
            query.push(("updated_after", moment.clone()));
        }
        if let Some(limit) = self.limit {
            query.push(("limit", limit.clamp(1, MAX_CONTACT_PAGE_SIZE).to_string()));
        }
        Ok(query)
    }
}

/// One page of a collection and the link to the next, if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Url>,
}

impl ConstantContact {
    /// The first page of contacts matching `query`.
    pub async fn contacts(&self, query: &ContactQuery) -> Result<Page<Contact>> {
        let page: ContactPage = self.get_json("contacts", &query.to_query()?).await?;
        self.contact_page(page)
    }

    /// The page a previous page's `next` points to.
    pub async fn next_contacts(&self, next: &Url) -> Result<Page<Contact>> {
        let page: ContactPage = self
            .send_json(&ApiRequest::new(Method::GET, next.to_string()))
            .await?;
        self.contact_page(page)
    }

    /// Every contact matching `query`, page after page.
    pub async fn all_contacts(&self, query: &ContactQuery) -> Result<Vec<Contact>> {
        let mut page = self.contacts(query).await?;
        let mut contacts = std::mem::take(&mut page.items);
        while let Some(next) = page.next.take() {
            page = self.next_contacts(&next).await?;
            contacts.append(&mut page.items);
        }
        Ok(contacts)
    }

    /// The contact with this email address, if there is one.
    pub async fn contact_by_email(&self, email: &str, include: &[&str]) -> Result<Option<Contact>> {
        let mut query = ContactQuery::by_email(email).with_status("all");
        query.include = include.iter().map(|part| (*part).to_owned()).collect();
        let page = self.contacts(&query).await?;
        Ok(page.items.into_iter().next())
    }

    fn contact_page(&self, page: ContactPage) -> Result<Page<Contact>> {
        let next = match page.links.next {
            Some(link) => Some(self.endpoints.resolve_link(&link.href).map_err(|error| {
                Error::UnexpectedResponse {
                    endpoint: "GET contacts".to_owned(),
                    detail: error.to_string(),
                }
            })?),
            None => None,
        };
        Ok(Page {
            items: page.contacts,
            next,
        })
    }
}
