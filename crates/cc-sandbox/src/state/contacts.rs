//! Contacts keyed by lower-cased email, with permission to send, opt-out data, fields and list
//! memberships (at most 50).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Lists one contact may belong to.
pub const MAX_LISTS_PER_CONTACT: usize = 50;
/// Phone numbers one contact may have.
pub const MAX_PHONES_PER_CONTACT: usize = 3;
/// Street addresses one contact may have.
pub const MAX_ADDRESSES_PER_CONTACT: usize = 3;

const PHONE_KEYS: &[&str] = &[
    "phone",
    "home_phone",
    "work_phone",
    "mobile_phone",
    "other_phone",
];
const ADDRESS_PARTS: &[&str] = &["street", "street2", "city", "state", "zip", "country"];

/// The address an import key belongs to: `""` for the plain `street`, `city`, … keys, `home`,
/// `work` or `other` for the prefixed ones.
fn address_of(key: &str) -> Option<&str> {
    if ADDRESS_PARTS.contains(&key) {
        return Some("");
    }
    let (kind, part) = key.split_once('_')?;
    (matches!(kind, "home" | "work" | "other") && ADDRESS_PARTS.contains(&part)).then_some(kind)
}

/// Whether import keys stay within three phone numbers and three street addresses.
pub(crate) fn within_phone_and_address_limits<'a>(keys: impl Iterator<Item = &'a str>) -> bool {
    let mut phones = Vec::new();
    let mut addresses = Vec::new();
    for key in keys {
        if PHONE_KEYS.contains(&key) && !phones.contains(&key) {
            phones.push(key);
        } else if let Some(address) = address_of(key)
            && !addresses.contains(&address)
        {
            addresses.push(address);
        }
    }
    phones.len() <= MAX_PHONES_PER_CONTACT && addresses.len() <= MAX_ADDRESSES_PER_CONTACT
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Permission {
    Implicit,
    /// Signed up and not yet confirmed: a list member, but not an active contact.
    PendingConfirmation,
    Unsubscribed,
    /// Deleted in Constant Contact: on no list, sent nothing, and revived by the next import
    /// that names it.
    Deleted,
}

impl Permission {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Permission::Implicit => "implicit",
            Permission::PendingConfirmation => "pending_confirmation",
            Permission::Unsubscribed => "unsubscribed",
            Permission::Deleted => "deleted",
        }
    }

    /// The contact's status as `GET /contacts?status=` filters it.
    pub(crate) fn status(self) -> &'static str {
        match self {
            Permission::Implicit => "active",
            Permission::PendingConfirmation => "pending_confirmation",
            Permission::Unsubscribed => "unsubscribed",
            Permission::Deleted => "deleted",
        }
    }
}

/// How a contact put on a list by hand signed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandAdded {
    Subscribed,
    PendingConfirmation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContactRecord {
    pub(crate) contact_id: Uuid,
    /// The address as first imported.
    pub(crate) address: String,
    /// The address lower-cased: the key.
    pub(crate) email_key: String,
    pub(crate) permission: Permission,
    pub(crate) opt_out: Option<OptOut>,
    /// Import keys (`first_name`, `cf:tier`, …) and their values, in key order.
    pub(crate) fields: Vec<(Box<str>, Box<str>)>,
    /// Indexes of the lists, see `ListRecord::index`.
    pub(crate) lists: Vec<u32>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OptOut {
    /// `Contact` when the person unsubscribed; `Account` when the account did.
    pub(crate) source: String,
    pub(crate) at: DateTime<Utc>,
    /// What the person gave as their reason, when they gave one.
    pub(crate) reason: Option<String>,
}

impl ContactRecord {
    /// Whether the contact has one of the statuses asked for (`GET /contacts?status=`, a
    /// contact export's `status`). Deleted contacts are found only when asked for by name:
    /// no status, and `all`, mean every contact that is not deleted.
    pub(crate) fn has_status(&self, wanted: &[String]) -> bool {
        let status = self.permission.status();
        if wanted.is_empty() {
            return self.permission != Permission::Deleted;
        }
        wanted.iter().any(|wanted| {
            wanted == status || (wanted == "all" && self.permission != Permission::Deleted)
        })
    }

    pub(crate) fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .binary_search_by(|(existing, _)| existing.as_ref().cmp(key))
            .ok()
            .map(|position| self.fields[position].1.as_ref())
    }

    /// Sets one field, keeping the others: the partial update of an import.
    pub(crate) fn set_field(&mut self, key: &str, value: &str) {
        match self
            .fields
            .binary_search_by(|(existing, _)| existing.as_ref().cmp(key))
        {
            Ok(position) => self.fields[position].1 = value.into(),
            Err(position) => self.fields.insert(position, (key.into(), value.into())),
        }
    }
}

/// What an import did to one contact.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UpsertOutcome {
    Added,
    /// Unsubscribed: neither changed nor added to any list.
    CannotAddToList,
    /// Already on 50 lists: the new memberships did not fit.
    TooManyLists,
    /// With the sent fields the contact would have more than three phone numbers or street
    /// addresses: nothing changed.
    TooManyPhonesOrAddresses,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ContactStore {
    contacts: Vec<ContactRecord>,
    by_email: HashMap<String, usize>,
    by_id: HashMap<Uuid, usize>,
}

impl ContactStore {
    pub(crate) fn len(&self) -> usize {
        self.contacts.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &ContactRecord> {
        self.contacts.iter()
    }

    /// Contacts from position `start` on, with their positions: cursors are positions.
    pub(crate) fn iter_from(&self, start: usize) -> impl Iterator<Item = (usize, &ContactRecord)> {
        self.contacts.iter().enumerate().skip(start)
    }

    pub(crate) fn by_email(&self, email: &str) -> Option<&ContactRecord> {
        self.by_email
            .get(&email.to_lowercase())
            .map(|position| &self.contacts[*position])
    }

    pub(crate) fn by_id_mut(&mut self, contact_id: Uuid) -> Option<&mut ContactRecord> {
        self.by_id
            .get(&contact_id)
            .map(|position| &mut self.contacts[*position])
    }

    /// Members of a list; `active_only` counts only the active ones (`include_membership_count`
    /// `active` rather than `all`).
    pub(crate) fn count_in_list(&self, list_index: u32, active_only: bool) -> usize {
        self.contacts
            .iter()
            .filter(|contact| contact.lists.contains(&list_index))
            .filter(|contact| !active_only || contact.permission == Permission::Implicit)
            .count()
    }

    /// A contact added by hand who has not confirmed yet.
    pub(crate) fn mark_pending_confirmation(&mut self, email: &str) {
        if let Some(position) = self.by_email.get(&email.to_lowercase()) {
            self.contacts[*position].permission = Permission::PendingConfirmation;
        }
    }

    /// Creates or partly updates the contact of `email` with the import's rules: only the sent
    /// fields change, new contacts get implicit permission, unsubscribed contacts are left
    /// alone and not added to lists.
    pub(crate) fn upsert_from_import(
        &mut self,
        email: &str,
        fields: &[(String, String)],
        lists: &[u32],
        now: DateTime<Utc>,
    ) -> UpsertOutcome {
        let key = email.to_lowercase();
        let position = match self.by_email.get(&key) {
            Some(position) => *position,
            None => self.insert(email, key, Permission::Implicit, now),
        };
        let contact = &mut self.contacts[position];
        if contact.permission == Permission::Unsubscribed {
            return UpsertOutcome::CannotAddToList;
        }
        if contact.permission == Permission::Deleted {
            // Deleting is not unsubscribing: an import brings the contact back.
            contact.permission = Permission::Implicit;
        }
        let merged_keys = contact
            .fields
            .iter()
            .map(|(key, _)| key.as_ref())
            .chain(fields.iter().map(|(key, _)| key.as_str()));
        if !within_phone_and_address_limits(merged_keys) {
            return UpsertOutcome::TooManyPhonesOrAddresses;
        }
        for (field, value) in fields {
            contact.set_field(field, value);
        }
        contact.updated_at = now;
        let new_lists: Vec<u32> = lists
            .iter()
            .copied()
            .filter(|list| !contact.lists.contains(list))
            .collect();
        if contact.lists.len() + new_lists.len() > MAX_LISTS_PER_CONTACT {
            return UpsertOutcome::TooManyLists;
        }
        contact.lists.extend(new_lists);
        UpsertOutcome::Added
    }

    /// Marks a contact unsubscribed by their own action, creating it when unknown. As Constant
    /// Contact does, an unsubscribed contact is taken off every list: no list counts or returns
    /// them any more.
    pub(crate) fn unsubscribe(
        &mut self,
        email: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> bool {
        let key = email.trim().to_lowercase();
        if key.is_empty() {
            return false;
        }
        let position = match self.by_email.get(&key) {
            Some(position) => *position,
            None => self.insert(email.trim(), key, Permission::Unsubscribed, now),
        };
        let contact = &mut self.contacts[position];
        contact.permission = Permission::Unsubscribed;
        contact.lists.clear();
        contact.opt_out = Some(OptOut {
            source: "Contact".to_owned(),
            at: now,
            reason: reason.map(str::to_owned),
        });
        contact.updated_at = now;
        true
    }

    /// Deletes a known contact as the account's owner may: it leaves every list and counts as
    /// active nowhere, but an import brings it back. Returns whether the address was known.
    pub(crate) fn delete(&mut self, email: &str, now: DateTime<Utc>) -> bool {
        let Some(position) = self.by_email.get(&email.trim().to_lowercase()).copied() else {
            return false;
        };
        let contact = &mut self.contacts[position];
        if contact.permission != Permission::Unsubscribed {
            contact.permission = Permission::Deleted;
        }
        contact.lists.clear();
        contact.updated_at = now;
        true
    }

    /// Deletes a contact by its id, as `contact_delete` does; returns whether it was known.
    pub(crate) fn delete_by_id(&mut self, contact_id: Uuid, now: DateTime<Utc>) -> bool {
        let Some(address) = self
            .by_id_mut(contact_id)
            .map(|contact| contact.email_key.clone())
        else {
            return false;
        };
        self.delete(&address, now)
    }

    /// Removes the contact from the lists; returns whether it was on any of them.
    pub(crate) fn remove_memberships(&mut self, contact_id: Uuid, lists: &[u32]) -> bool {
        let Some(contact) = self.by_id_mut(contact_id) else {
            return false;
        };
        let before = contact.lists.len();
        contact.lists.retain(|list| !lists.contains(list));
        contact.lists.len() != before
    }

    fn insert(
        &mut self,
        address: &str,
        key: String,
        permission: Permission,
        now: DateTime<Utc>,
    ) -> usize {
        let position = self.contacts.len();
        let contact_id = Uuid::new_v4();
        self.contacts.push(ContactRecord {
            contact_id,
            address: address.to_owned(),
            email_key: key.clone(),
            permission,
            opt_out: None,
            fields: Vec::new(),
            lists: Vec::new(),
            created_at: now,
            updated_at: now,
        });
        self.by_email.insert(key, position);
        self.by_id.insert(contact_id, position);
        position
    }
}
