//! The opt-outs since a moment, a page at a time: `GET
//! /contacts?status=unsubscribed&updated_after=` read into each contact's address, id, when and
//! why it opted out, and the latest `updated_at` of the page (where the next poll starts).

use chrono::{DateTime, Utc};
use url::Url;
use uuid::Uuid;

use super::ConstantContact;
use super::contacts::{ContactQuery, MAX_CONTACT_PAGE_SIZE, Page};
use crate::error::Result;
use crate::wire::contacts::Contact;

/// One contact who opted out, as Constant Contact says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptedOut {
    /// The address as Constant Contact holds it.
    pub address: String,
    pub contact_id: Uuid,
    pub opted_out_at: Option<String>,
    /// `Contact` (the person) or `Account` (the account's owner).
    pub opt_out_source: Option<String>,
    pub reason: Option<String>,
}

/// One page of opt-outs, with the latest `updated_at` it held (parsed, and as written) and
/// the link to the next page.
#[derive(Debug, Clone)]
pub struct OptOutPage {
    pub opt_outs: Vec<OptedOut>,
    pub latest_update: Option<(DateTime<Utc>, String)>,
    pub next: Option<Url>,
}

impl ConstantContact {
    /// The first page of the opt-outs updated after `watermark` (all of them without one).
    pub async fn opt_outs_since(&self, watermark: Option<&str>) -> Result<OptOutPage> {
        let mut query = ContactQuery::default()
            .with_status("unsubscribed")
            .with_limit(MAX_CONTACT_PAGE_SIZE);
        if let Some(watermark) = watermark {
            query = query.updated_after(watermark);
        }
        Ok(page_of(self.contacts(&query).await?))
    }

    /// The page a previous page's `next` names.
    pub async fn next_opt_outs(&self, next: &Url) -> Result<OptOutPage> {
        Ok(page_of(self.next_contacts(next).await?))
    }
}

fn page_of(page: Page<Contact>) -> OptOutPage {
    let mut latest_update: Option<(DateTime<Utc>, String)> = None;
    for updated_at in page.items.iter().filter_map(|c| c.updated_at.as_ref()) {
        if let Ok(at) = DateTime::parse_from_rfc3339(updated_at)
            && latest_update.as_ref().is_none_or(|(seen, _)| at > *seen)
        {
            latest_update = Some((at.with_timezone(&Utc), updated_at.clone()));
        }
    }
    OptOutPage {
        opt_outs: page
            .items
            .iter()
            .filter_map(|contact| {
                let address = contact.email_address.as_ref()?;
                Some(OptedOut {
                    address: address.address.clone(),
                    contact_id: contact.contact_id,
                    opted_out_at: address.opt_out_date.clone(),
                    opt_out_source: address.opt_out_source.clone(),
                    reason: address.opt_out_reason.clone(),
                })
            })
            .collect(),
        latest_update,
        next: page.next,
    }
}
