//! Erasure per person, carried out. A request keeps a tombstone of each address at once (no run
//! sends it from then on) and queues a job; the job waits for runs that began before the
//! request, purges the store of the addresses, takes them off every list segsync's exports
//! manage in each Constant Contact account (and deletes the contacts where the connection says
//! so), and ends done with a receipt, or failed with the reason, to be retried. The addresses
//! are kept sealed with the encryption key until the job is done, never in the clear.

use std::collections::BTreeSet;

use chrono::Utc;
use constant_contact::ConstantContact;
use constant_contact::api::{MAX_CONTACT_IDS_PER_REMOVAL, MAX_LIST_IDS_PER_REMOVAL, PollPolicy};
use segsync_domain::{AccountRemoval, ChainExt, Email, ErasureReceipt, LedgerPurged, PersonErased};
use segsync_export::{email_key, keyed_hash_hex};
use segsync_store::{Connection, PurgedFromStore, StoreError};
use tracing::{info, warn};
use uuid::Uuid;

use crate::RunEngine;
use crate::privacy_key::{PrivacyKeyError, installation_hash_key};
use crate::quota::SharedQuota;

/// What the sealed addresses are bound to.
const SUBJECTS_CONTEXT: &str = "erasure subjects";
/// A job left removing this long by a node that stopped is taken up by another.
const STALE_AFTER_MINUTES: i64 = 10;
/// Requests an activity's polls are reckoned to take.
const POLLS_PER_ACTIVITY: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("the store")]
    Store(#[from] StoreError),
    #[error("the installation's hashing key")]
    Key(#[from] PrivacyKeyError),
}

/// Why taking the people off the lists stopped: the first failure, kept with its cause.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RemovalFailure {
    #[error("the store")]
    Store(#[from] StoreError),
    #[error("connection {connection:?}")]
    InAccount {
        connection: String,
        #[source]
        source: AccountFailure,
    },
}

/// What failed in one Constant Contact account.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccountFailure {
    #[error(transparent)]
    Unusable(#[from] segsync_connections::ConnectionUnusable),
    #[error("the store")]
    Store(#[from] StoreError),
    #[error("{step}")]
    Request {
        step: &'static str,
        #[source]
        source: constant_contact::Error,
    },
    #[error("{what} (activity {activity_id}) ended {state}")]
    Ended {
        what: &'static str,
        activity_id: Uuid,
        state: constant_contact::ActivityState,
    },
    #[error(
        "the day's quota of requests has {left} left and the removal needs {needed}; retry after midnight UTC"
    )]
    OverQuota { left: u64, needed: u64 },
}

/// What became of an attempt to carry an erasure out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Carried {
    Done,
    Failed(String),
    /// Runs that began before the request are still going: tried again later.
    Waiting,
    /// Another node has it, or it is not waiting.
    NotTaken,
}

impl RunEngine {
    /// Records an erasure of `emails`: their tombstones, in force at once, and the job that
    /// carries the rest out. Returns the job's id.
    pub async fn request_erasure(
        &self,
        by: Option<Uuid>,
        emails: &[Email],
    ) -> Result<Uuid, ErasureError> {
        let key = installation_hash_key(&self.store, self.clients.sealer()).await?;
        let addresses: BTreeSet<String> = emails.iter().map(|e| e.as_str().to_owned()).collect();
        let addresses: Vec<String> = addresses.into_iter().collect();
        let mut receipt = ErasureReceipt::default();
        let mut hashes = Vec::with_capacity(addresses.len());
        for address in &addresses {
            let hash = keyed_hash_hex(&key, address);
            let erased_before = self.store.tombstone(&hash).await?.is_some();
            receipt.people.push(PersonErased {
                hash: hash.clone(),
                erased_before,
                ..PersonErased::default()
            });
            hashes.push(hash);
        }
        let id = Uuid::new_v4();
        let sealed = self.clients.sealer().seal(
            &serde_json::to_vec(&addresses).expect("addresses serialise"),
            SUBJECTS_CONTEXT,
        );
        self.store
            .create_erasure(id, by, &hashes, &sealed, &receipt_json(&receipt))
            .await?;
        info!(erasure = %id, people = addresses.len(), "An erasure was requested.");
        Ok(id)
    }

    /// Carries out every erasure waiting (and any a stopped node left), one after another.
    pub async fn carry_out_waiting_erasures(&self) -> Result<(), ErasureError> {
        let waiting = self
            .store
            .erasures_to_carry_out(chrono::Duration::minutes(STALE_AFTER_MINUTES))
            .await?;
        for id in waiting {
            self.carry_out_erasure(id).await?;
        }
        Ok(())
    }

    /// Carries out erasure `id` if it is waiting and no run that began before it is going.
    pub async fn carry_out_erasure(&self, id: Uuid) -> Result<Carried, ErasureError> {
        let erasure = self.store.erasure(id).await?;
        if self
            .store
            .runs_going_since_before(erasure.requested_at)
            .await?
            > 0
        {
            return Ok(Carried::Waiting);
        }
        let stale_before = Utc::now() - chrono::Duration::minutes(STALE_AFTER_MINUTES);
        let Some(sealed) = self.store.take_up_erasure(id, stale_before).await? else {
            return Ok(Carried::NotTaken);
        };
        let mut receipt: ErasureReceipt =
            serde_json::from_value(erasure.receipt).unwrap_or_default();
        let addresses = match self
            .clients
            .sealer()
            .open(&sealed, SUBJECTS_CONTEXT)
            .ok()
            .and_then(|plain| serde_json::from_slice::<Vec<String>>(&plain).ok())
        {
            Some(addresses) if addresses.len() == receipt.people.len() => addresses,
            _ => {
                let reason =
                    "the erasure's addresses do not open with the configured encryption keys";
                self.store
                    .end_erasure(id, Some(reason), &receipt_json(&receipt))
                    .await?;
                return Ok(Carried::Failed(reason.to_owned()));
            }
        };
        for (person, address) in receipt.people.iter_mut().zip(&addresses) {
            let purged = self.store.purge_person(address, email_key(address)).await?;
            add_purged(person, purged);
        }
        self.store
            .erasure_progress(id, &receipt_json(&receipt))
            .await?;
        let outcome = self
            .remove_from_accounts(id, &addresses, &mut receipt)
            .await;
        match outcome {
            Ok(()) => {
                receipt.finished_at = Some(Utc::now());
                self.store
                    .end_erasure(id, None, &receipt_json(&receipt))
                    .await?;
                info!(erasure = %id, "An erasure is done.");
                Ok(Carried::Done)
            }
            Err(failure) => {
                let reason = failure.chain().to_string();
                warn!(erasure = %id, %reason, "An erasure failed; it may be retried.");
                self.store
                    .end_erasure(id, Some(&reason), &receipt_json(&receipt))
                    .await?;
                Ok(Carried::Failed(reason))
            }
        }
    }

    /// Takes the people off every list the exports of each connection manage, account by
    /// account; the reason of the first failure.
    async fn remove_from_accounts(
        &self,
        id: Uuid,
        addresses: &[String],
        receipt: &mut ErasureReceipt,
    ) -> Result<(), RemovalFailure> {
        let exports = self.store.exports().await?;
        for connection in self.store.connections().await? {
            let mut lists: BTreeSet<Uuid> = BTreeSet::new();
            for export in exports
                .iter()
                .filter(|e| e.connection_id == Some(connection.id))
            {
                lists.insert(export.list_id);
                for person in &receipt.people {
                    lists.extend(
                        person
                            .store
                            .ledgers
                            .iter()
                            .filter(|ledger| ledger.export_id == export.id)
                            .filter_map(|ledger| ledger.list_id.parse::<Uuid>().ok()),
                    );
                }
            }
            if lists.is_empty() {
                continue;
            }
            let removals = self
                .remove_from_account(&connection, addresses, &lists)
                .await
                .map_err(|source| RemovalFailure::InAccount {
                    connection: connection.name.clone(),
                    source,
                })?;
            for (person, removal) in receipt.people.iter_mut().zip(removals) {
                person
                    .constant_contact
                    .retain(|done| done.connection_id != connection.id);
                person.constant_contact.push(removal);
            }
            self.store
                .erasure_progress(id, &receipt_json(receipt))
                .await?;
        }
        Ok(())
    }

    async fn remove_from_account(
        &self,
        connection: &Connection,
        addresses: &[String],
        lists: &BTreeSet<Uuid>,
    ) -> Result<Vec<AccountRemoval>, AccountFailure> {
        let client = self.clients.for_connection(connection)?;
        let api = self.clients.api();
        let quota = SharedQuota::new(api.client_id.clone(), u64::from(api.daily_quota));
        let requests_before = client.requests_sent();
        let outcome = self
            .remove_contacts(&client, &quota, connection, addresses, lists)
            .await;
        let used = client.requests_sent() - requests_before;
        if let Err(error) = quota.settle(&self.store, used).await {
            warn!(error = %error.chain(), "The requests an erasure used could not be counted.");
        }
        outcome
    }

    async fn remove_contacts(
        &self,
        client: &ConstantContact,
        quota: &SharedQuota,
        connection: &Connection,
        addresses: &[String],
        lists: &BTreeSet<Uuid>,
    ) -> Result<Vec<AccountRemoval>, AccountFailure> {
        self.reserve(quota, addresses.len() as u64).await?;
        let mut removals = Vec::with_capacity(addresses.len());
        for address in addresses {
            let contact = client
                .contact_by_email(address, &["list_memberships"])
                .await
                .map_err(|source| AccountFailure::Request {
                    step: "looking the contact up",
                    source,
                })?;
            removals.push(match contact {
                Some(contact) => (
                    Some(contact.contact_id),
                    contact
                        .list_memberships
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|list| lists.contains(list))
                        .collect::<Vec<_>>(),
                ),
                None => (None, Vec::new()),
            });
        }
        let on_lists: Vec<Uuid> = removals
            .iter()
            .filter(|(_, on)| !on.is_empty())
            .filter_map(|(contact, _)| *contact)
            .collect();
        let found: Vec<Uuid> = removals
            .iter()
            .filter_map(|(contact, _)| *contact)
            .collect();
        let list_ids: Vec<Uuid> = lists.iter().copied().collect();
        let policy = PollPolicy::default();
        let removal_activities = on_lists.len().div_ceil(MAX_CONTACT_IDS_PER_REMOVAL)
            * list_ids.len().div_ceil(MAX_LIST_IDS_PER_REMOVAL);
        let delete_activities = if connection.contact_delete {
            found.len().div_ceil(MAX_CONTACT_IDS_PER_REMOVAL)
        } else {
            0
        };
        self.reserve(
            quota,
            (removal_activities + delete_activities) as u64 * (1 + POLLS_PER_ACTIVITY),
        )
        .await?;
        for contacts in on_lists.chunks(MAX_CONTACT_IDS_PER_REMOVAL) {
            for targets in list_ids.chunks(MAX_LIST_IDS_PER_REMOVAL) {
                let activity = client
                    .remove_list_memberships(contacts, targets)
                    .await
                    .map_err(|source| AccountFailure::Request {
                        step: "removing list memberships",
                        source,
                    })?;
                completed(client, activity.activity_id, &policy, REMOVAL).await?;
            }
        }
        if connection.contact_delete {
            for contacts in found.chunks(MAX_CONTACT_IDS_PER_REMOVAL) {
                let activity = client.delete_contacts(contacts).await.map_err(|source| {
                    AccountFailure::Request {
                        step: "deleting contacts",
                        source,
                    }
                })?;
                completed(client, activity.activity_id, &policy, DELETION).await?;
            }
        }
        let at = Some(Utc::now());
        Ok(removals
            .into_iter()
            .map(|(contact, removed_from_lists)| AccountRemoval {
                connection_id: connection.id,
                connection_name: connection.name.clone(),
                contact_found: contact.is_some(),
                removed_from_lists,
                contact_deleted: contact.is_some() && connection.contact_delete,
                at,
            })
            .collect())
    }

    async fn reserve(&self, quota: &SharedQuota, requests: u64) -> Result<(), AccountFailure> {
        if requests == 0 {
            return Ok(());
        }
        match self
            .store
            .reserve_requests(&quota.api_key, quota.day, requests, quota.requests_per_day)
            .await?
        {
            Ok(()) => {
                quota.note_reserved(requests);
                Ok(())
            }
            Err(left) => Err(AccountFailure::OverQuota {
                left,
                needed: requests,
            }),
        }
    }
}

/// An activity's work, and the step of waiting for it.
#[derive(Clone, Copy)]
struct Work {
    what: &'static str,
    waiting: &'static str,
}

const REMOVAL: Work = Work {
    what: "the removal",
    waiting: "waiting for the removal",
};
const DELETION: Work = Work {
    what: "the deletion",
    waiting: "waiting for the deletion",
};

/// Waits for an activity to end, and says so when it did not complete.
async fn completed(
    client: &ConstantContact,
    activity_id: Uuid,
    policy: &PollPolicy,
    work: Work,
) -> Result<(), AccountFailure> {
    let activity = client
        .wait_for_activity(activity_id, policy)
        .await
        .map_err(|source| AccountFailure::Request {
            step: work.waiting,
            source,
        })?;
    if activity.state != constant_contact::ActivityState::Completed {
        return Err(AccountFailure::Ended {
            what: work.what,
            activity_id,
            state: activity.state,
        });
    }
    Ok(())
}

fn add_purged(person: &mut PersonErased, purged: PurgedFromStore) {
    let records = &mut person.store;
    records.ledgers.extend(
        purged
            .ledgers
            .into_iter()
            .map(|(export_id, list_id)| LedgerPurged { export_id, list_id }),
    );
    records.skipped_entries += purged.skipped_entries;
    records.opt_outs += purged.opt_outs;
    records.runs_rewritten += purged.runs_rewritten;
    records.audit_entries_rewritten += purged.audit_entries_rewritten;
}

fn receipt_json(receipt: &ErasureReceipt) -> serde_json::Value {
    serde_json::to_value(receipt).expect("a receipt serialises")
}
