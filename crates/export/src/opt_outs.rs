//! The opt-outs since a moment, a page at a time as the client reads them, each address with
//! the ledger's key: what a run learns before it sends.

use chrono::{DateTime, Utc};
use constant_contact::ConstantContact;
use constant_contact::api::{OptOutPage, OptedOut};
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
    Ok(page_of(client.opt_outs_since(watermark).await?))
}

/// The page a previous page's `next` names.
pub async fn next_opt_outs_page(
    client: &ConstantContact,
    next: &url::Url,
) -> Result<OptOutsPage, constant_contact::Error> {
    Ok(page_of(client.next_opt_outs(next).await?))
}

/// The page with each address keyed as the ledger keys it; an address that is not one is left
/// out.
fn page_of(page: OptOutPage) -> OptOutsPage {
    OptOutsPage {
        opt_outs: page.opt_outs.into_iter().filter_map(learned).collect(),
        latest_update: page.latest_update,
        next: page.next,
    }
}

fn learned(opted_out: OptedOut) -> Option<LearnedOptOut> {
    let email = Email::parse(&opted_out.address).ok()?;
    Some(LearnedOptOut {
        email_key: email_key(email.as_str()),
        email: opted_out.address,
        contact_id: opted_out.contact_id,
        opted_out_at: opted_out.opted_out_at,
        opt_out_source: opted_out.opt_out_source,
        reason: opted_out.reason,
    })
}
