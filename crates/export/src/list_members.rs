//! What Constant Contact knows about the list's members that the run needs: who is on the
//! list (to tell what mirror mode owns and what update-only may touch, and to find the contact
//! ids of those to remove), and who is unsubscribed.

use constant_contact::api::{ContactQuery, MAX_CONTACT_PAGE_SIZE};
use constant_contact::{ConstantContact, Error as ClientError};
use nohash_hasher::IntMap;
use segsync_domain::Email;
use uuid::Uuid;

use crate::checkpoints::UnsubscribedMember;
use crate::sync::email_key;

/// The list's members when it was read: email key → contact id.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListSnapshot {
    members: IntMap<u64, Uuid>,
}

impl ListSnapshot {
    /// Reads every member of the list, 500 per request.
    pub(crate) async fn read(client: &ConstantContact, list_id: Uuid) -> Result<Self, ClientError> {
        let mut members = IntMap::default();
        let query = ContactQuery::in_list(list_id);
        each_contact(client, query, |email, contact_id| {
            members.insert(email_key(email.as_str()), contact_id);
        })
        .await?;
        Ok(Self { members })
    }

    pub(crate) fn contains(&self, key: u64) -> bool {
        self.members.contains_key(&key)
    }

    pub(crate) fn contact_id(&self, key: u64) -> Option<Uuid> {
        self.members.get(&key).copied()
    }
}

/// Pages of the list read at most for samples of the contacts a run would remove.
const SAMPLE_PAGES: usize = 10;

/// Up to `limit` emails of the list's members whose keys are among `keys`, reading at most
/// ten pages of 500: the samples a guard shows of the contacts a run would remove.
pub(crate) async fn emails_among(
    client: &ConstantContact,
    list_id: Uuid,
    keys: &nohash_hasher::IntSet<u64>,
    limit: usize,
) -> Result<Vec<String>, ClientError> {
    let mut found = Vec::new();
    let query = ContactQuery::in_list(list_id).with_limit(MAX_CONTACT_PAGE_SIZE);
    let mut page = client.contacts(&query).await?;
    for _ in 0..SAMPLE_PAGES {
        found.extend(
            page.items
                .iter()
                .filter_map(|contact| contact.email_address.as_ref())
                .filter_map(|email| Email::parse(&email.address).ok())
                .filter(|email| keys.contains(&email_key(email.as_str())))
                .map(|email| email.as_str().to_owned()),
        );
        if found.len() >= limit {
            break;
        }
        match page.next.take() {
            Some(next) => page = client.next_contacts(&next).await?,
            None => break,
        }
    }
    found.truncate(limit);
    Ok(found)
}

/// Every unsubscribed contact of the account, 500 per request.
pub(crate) async fn unsubscribed_contacts(
    client: &ConstantContact,
) -> Result<Vec<UnsubscribedMember>, ClientError> {
    let mut found = Vec::new();
    let query = ContactQuery::default().with_status("unsubscribed");
    each_contact(client, query, |email, _| {
        found.push(UnsubscribedMember {
            key: email_key(email.as_str()),
            email: email.as_str().into(),
        });
    })
    .await?;
    Ok(found)
}

/// Calls `each` with the email (normalised) and id of every contact `query` finds, page after
/// page of 500; contacts without a valid email are passed over.
async fn each_contact(
    client: &ConstantContact,
    query: ContactQuery,
    mut each: impl FnMut(Email, Uuid),
) -> Result<(), ClientError> {
    let mut page = client
        .contacts(&query.with_limit(MAX_CONTACT_PAGE_SIZE))
        .await?;
    loop {
        for contact in &page.items {
            if let Some(email) = contact
                .email_address
                .as_ref()
                .and_then(|email| Email::parse(&email.address).ok())
            {
                each(email, contact.contact_id);
            }
        }
        match page.next.take() {
            Some(next) => page = client.next_contacts(&next).await?,
            None => return Ok(()),
        }
    }
}
