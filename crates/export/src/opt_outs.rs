//! The opt-outs since a moment, read a page at a time from `GET
//! /contacts?status=unsubscribed&updated_after=`: each contact's email (with the ledger's key),
//! id, when and why it opted out, and the latest `updated_at` seen, where the next poll starts.

use chrono::{DateTime, Utc};
use constant_contact::ConstantContact;
use constant_contact::api::{ContactQuery, MAX_CONTACT_PAGE_SIZE, Page};
use constant_contact::wire::contacts::Contact;
use segsync_domain::Email;
use uuid::Uuid;

use crate::sync::email_key;

/// One contact who opted out, as Constant Contact says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedOptOut {
    pub email: String,
    pub email_key: u64,
    pub contact_id: Uuid,
    pub opted_out_at: Option<String>,
    pub opt_out_source: Option<String>,
    pub reason: Option<String>,
}

/// One page of opt-outs, with the latest `updated_at` it held and the link to the next page.
#[derive(Debug, Clone)]
pub struct OptOutsPage {
    pub opt_outs: Vec<LearnedOptOut>,
    pub latest_update: Option<(DateTime<Utc>, String)>,
    pub next: Option<url::Url>,
}

/// The first page of the opt-outs after `watermark` (all of them without one).
pub async fn first_opt_outs_page(
    client: &ConstantContact,
    watermark: Option<&str>,
) -> Result<OptOutsPage, constant_contact::Error> {
    let mut query = ContactQuery::default()
        .with_status("unsubscribed")
        .with_limit(MAX_CONTACT_PAGE_SIZE);
    if let Some(watermark) = watermark {
        query = query.updated_after(watermark);
    }
    Ok(page_of(client.contacts(&query).await?))
}

/// The page a previous page's `next` names.
pub async fn next_opt_outs_page(
    client: &ConstantContact,
    next: &url::Url,
) -> Result<OptOutsPage, constant_contact::Error> {
    Ok(page_of(client.next_contacts(next).await?))
}

fn page_of(page: Page<Contact>) -> OptOutsPage {
    let mut latest_update: Option<(DateTime<Utc>, String)> = None;
    for updated_at in page.items.iter().filter_map(|c| c.updated_at.as_ref()) {
        if let Ok(at) = DateTime::parse_from_rfc3339(updated_at)
            && latest_update.as_ref().is_none_or(|(seen, _)| at > *seen)
        {
            latest_update = Some((at.with_timezone(&Utc), updated_at.clone()));
        }
    }
    OptOutsPage {
        opt_outs: page.items.iter().filter_map(opt_out_of).collect(),
        latest_update,
        next: page.next,
    }
}

fn opt_out_of(contact: &Contact) -> Option<LearnedOptOut> {
    let address = contact.email_address.as_ref()?;
    let email = Email::parse(&address.address).ok()?;
    Some(LearnedOptOut {
        email: address.address.clone(),
        email_key: email_key(email.as_str()),
        contact_id: contact.contact_id,
        opted_out_at: address.opt_out_date.clone(),
        opt_out_source: address.opt_out_source.clone(),
        reason: address.opt_out_reason.clone(),
    })
}
