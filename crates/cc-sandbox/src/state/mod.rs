//! Everything the sandbox remembers, behind one lock. Each concern lives in its own file;
//! request handlers take the lock briefly and never across an await.

pub mod account;
pub mod activities;
pub mod contact_exports;
pub mod contacts;
pub mod custom_fields;
pub mod faults;
pub mod imports;
pub mod limits;
pub mod lists;
pub mod oauth;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::config::SandboxConfig;

/// One request as the sandbox received it.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub received_at: DateTime<Utc>,
    /// Milliseconds since the sandbox started, from a monotonic clock.
    pub elapsed_ms: f64,
    pub method: String,
    pub path: String,
    /// The route's name, such as `contacts_json_import`.
    pub endpoint: String,
    /// The API key the bearer token belongs to, when there was a valid one.
    pub client_id: Option<String>,
    pub status: u16,
}

pub struct SandboxState {
    pub(crate) config: SandboxConfig,
    started: tokio::time::Instant,
    /// How far the sandbox's clock runs ahead of the real one, in milliseconds; see
    /// [`SandboxState::advance_clock`].
    clock_offset_ms: AtomicI64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) oauth: oauth::OAuthState,
    pub(crate) lists: lists::ListStore,
    pub(crate) custom_fields: custom_fields::CustomFieldStore,
    pub(crate) contacts: contacts::ContactStore,
    pub(crate) activities: activities::ActivityStore,
    pub(crate) export_files: contact_exports::ExportFiles,
    pub(crate) limits: limits::Limits,
    pub(crate) faults: faults::Faults,
    pub(crate) log: Vec<LoggedRequest>,
}

/// A list as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ListSummary {
    pub list_id: Uuid,
    pub name: String,
    pub membership_count: usize,
}

/// A contact as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ContactSummary {
    pub contact_id: Uuid,
    pub email: String,
    pub permission_to_send: String,
    pub fields: std::collections::BTreeMap<String, String>,
    pub list_ids: Vec<Uuid>,
}

impl SandboxState {
    pub fn new(config: SandboxConfig) -> Self {
        let mut inner = Inner::default();
        for client in &config.clients {
            inner.oauth.register_client(client.clone());
        }
        let now = Utc::now();
        for name in &config.seed_lists {
            inner
                .lists
                .create(name, None, false, config.max_lists, now)
                .expect("seed list names are unique");
        }
        for label in &config.seed_custom_fields {
            inner
                .custom_fields
                .create(label, "string", now)
                .unwrap_or_else(|error| panic!("seed custom field {label:?}: {error:?}"));
        }
        Self {
            config,
            started: tokio::time::Instant::now(),
            clock_offset_ms: AtomicI64::new(0),
            inner: Mutex::new(inner),
        }
    }

    /// The sandbox's time: the real time, moved forward by [`SandboxState::advance_clock`].
    /// Activities, contacts, tokens and the daily quota's day all run on it.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Moves the sandbox's clock forward, so that tests can see what days of waiting do (an
    /// activity older than ten days is gone).
    pub fn advance_clock(&self, by: std::time::Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.clock_offset_ms.fetch_add(millis, Ordering::Relaxed);
    }

    /// Creates a custom field as the account's owner would in Constant Contact's interface;
    /// returns its name (the label with blanks replaced by underscores).
    pub fn create_custom_field(
        &self,
        label: &str,
    ) -> Result<String, custom_fields::CreateFieldError> {
        let now = self.now();
        self.lock()
            .custom_fields
            .create(label, "string", now)
            .map(|field| field.name.clone())
    }

    /// Deletes a custom field by name, as the account's owner may at any time; returns whether
    /// it existed.
    pub fn delete_custom_field(&self, name: &str) -> bool {
        self.lock().custom_fields.delete(name)
    }

    /// The names of the account's custom fields.
    pub fn custom_field_names(&self) -> Vec<String> {
        self.lock()
            .custom_fields
            .iter()
            .map(|field| field.name.clone())
            .collect()
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every mutation finishes before the lock is released, so a panic in one handler
        // leaves consistent data behind.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn elapsed_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// Every list with its member count.
    pub fn lists(&self) -> Vec<ListSummary> {
        let inner = self.lock();
        inner
            .lists
            .iter()
            .map(|list| ListSummary {
                list_id: list.list_id,
                name: list.name.clone(),
                membership_count: inner.contacts.count_in_list(list.index, false),
            })
            .collect()
    }

    /// Lower-cased emails of the members of a list, sorted.
    pub fn list_members(&self, list_id: Uuid) -> Vec<String> {
        let inner = self.lock();
        let Some(list) = inner.lists.get(list_id) else {
            return Vec::new();
        };
        let mut emails: Vec<String> = inner
            .contacts
            .iter()
            .filter(|contact| contact.lists.contains(&list.index))
            .map(|contact| contact.email_key.clone())
            .collect();
        emails.sort();
        emails
    }

    pub fn contact(&self, email: &str) -> Option<ContactSummary> {
        let inner = self.lock();
        let contact = inner.contacts.by_email(email)?;
        Some(ContactSummary {
            contact_id: contact.contact_id,
            email: contact.address.clone(),
            permission_to_send: contact.permission.as_str().to_owned(),
            fields: contact
                .fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            list_ids: contact
                .lists
                .iter()
                .filter_map(|index| inner.lists.id_of(*index))
                .collect(),
        })
    }

    pub fn contact_count(&self) -> usize {
        self.lock().contacts.len()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// Adds a fault; see [`faults::Fault`].
    pub fn add_fault(&self, fault: faults::Fault) {
        self.lock().faults.add(fault);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Puts a contact on a list as the account's owner would by hand (creating the contact when
    /// unknown). Returns false for an unknown list or an unsubscribed contact.
    pub fn add_to_list(&self, list_id: Uuid, email: &str) -> bool {
        self.add_to_list_as(list_id, email, contacts::HandAdded::Subscribed)
    }

    /// Puts a contact on a list by hand with the permission it signed up with: one still
    /// pending confirmation is a member but not an active contact.
    pub fn add_to_list_as(&self, list_id: Uuid, email: &str, as_: contacts::HandAdded) -> bool {
        let now = self.now();
        let mut inner = self.lock();
        let Some(index) = inner.lists.get(list_id).map(|list| list.index) else {
            return false;
        };
        let added = matches!(
            inner.contacts.upsert_from_import(email, &[], &[index], now),
            contacts::UpsertOutcome::Added
        );
        if added && as_ == contacts::HandAdded::PendingConfirmation {
            inner.contacts.mark_pending_confirmation(email);
        }
        added
    }

    /// Takes a contact off a list as the account's owner would by hand; the contact stays.
    /// Returns whether it was on the list.
    pub fn remove_from_list(&self, list_id: Uuid, email: &str) -> bool {
        let mut inner = self.lock();
        let Some(index) = inner.lists.get(list_id).map(|list| list.index) else {
            return false;
        };
        let Some(contact_id) = inner.contacts.by_email(email).map(|c| c.contact_id) else {
            return false;
        };
        inner.contacts.remove_memberships(contact_id, &[index])
    }

    /// How many contact imports the sandbox accepted, whether or not their caller heard back.
    pub fn imports_accepted(&self) -> usize {
        self.lock().activities.imports()
    }

    /// The next `count` activities end in `state` (`failed` or `timed_out`) without effect.
    pub fn fail_next_activities(&self, count: u32, state: activities::ActivityState) {
        self.lock().activities.fail_next(count, state);
    }

    /// Every access token expires now; refresh tokens stay valid.
    pub fn expire_access_tokens(&self) {
        self.lock().oauth.expire_access_tokens();
    }

    /// The refresh-token grants asked for so far, accepted and refused.
    pub fn refreshes(&self) -> oauth::RefreshCounts {
        self.lock().oauth.refreshes()
    }

    /// Every token is revoked: refreshing answers `invalid_grant`.
    pub fn revoke_tokens(&self) {
        self.lock().oauth.revoke_all();
    }

    /// Approves a pending device authorisation by its user code.
    pub fn approve_device(&self, user_code: &str) -> bool {
        self.lock().oauth.decide_device(user_code, true)
    }

    /// Unsubscribes contacts as if they had clicked "unsubscribe" (`opt_out_source` = Contact),
    /// which takes them off every list, creating them when they do not exist yet. Returns how
    /// many were changed.
    pub fn unsubscribe(&self, emails: &[String]) -> usize {
        self.unsubscribe_because(emails, None)
    }

    /// Unsubscribes contacts as [`SandboxState::unsubscribe`] does, with the reason they gave.
    pub fn unsubscribe_because(&self, emails: &[String], reason: Option<&str>) -> usize {
        let now = self.now();
        let mut inner = self.lock();
        emails
            .iter()
            .filter(|email| inner.contacts.unsubscribe(email, reason, now))
            .count()
    }

    /// Deletes contacts as the account's owner may in Constant Contact's interface; returns how
    /// many of the addresses were known.
    pub fn delete_contacts(&self, emails: &[String]) -> usize {
        let now = self.now();
        let mut inner = self.lock();
        emails
            .iter()
            .filter(|email| inner.contacts.delete(email, now))
            .count()
    }

    pub(crate) fn log_request(&self, mut entry: LoggedRequest) {
        entry.elapsed_ms = (entry.elapsed_ms * 1000.0).round() / 1000.0;
        self.lock().log.push(entry);
    }
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
