//! Keeping a list in step instead of re-sending it: the sync mode of an export, and the ledger
//! of what the export last sent to its list for each email, from which a run decides what to do
//! with each member.
//!
//! The ledger holds two 64-bit hashes per email — of the email and of the contact's JSON as last
//! sent — so a million members take a few tens of megabytes, never the members themselves.

use nohash_hasher::IntMap;
pub use segsync_domain::SyncMode;
use xxhash_rust::xxh3::xxh3_64;

/// The key of an email (already normalised) in the ledger.
pub fn email_key(email: &str) -> u64 {
    xxh3_64(email.as_bytes())
}

/// The fingerprint of a contact as sent: its import JSON.
pub fn fingerprint(contact_json: &[u8]) -> u64 {
    xxh3_64(contact_json)
}

/// A fingerprint no contact has: what a member whose sending failed is remembered with, so the
/// next run sends it again.
pub const RESEND: u64 = 0;

/// What an export last did with one email on its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remembered {
    pub fingerprint: u64,
    /// The export put the contact on the list (it was not there before): mirror mode may remove
    /// it when it leaves the segments.
    pub owned: bool,
    /// Constant Contact said the contact is unsubscribed: it is never sent again.
    pub unsubscribed: bool,
    /// Sent by an earlier attempt of the run going on now (interrupted, then resumed).
    pub sent_by_this_run: bool,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    remembered: Remembered,
    seen: bool,
}

/// What an export last sent to its list, by email key, and which of those emails the run going
/// on has met.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Keyed by email key, a hash already: looked up without hashing it again.
    entries: IntMap<u64, Entry>,
}

/// What a run does with one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// New to this export's list: sent.
    Add,
    /// Sent before and changed since, or a full resync: sent again.
    Update,
    /// Sent before exactly as it is now: not sent.
    Unchanged,
    /// Already sent by an interrupted attempt of this same run.
    SentEarlier,
    /// Unsubscribed in Constant Contact: never sent.
    Unsubscribed,
    /// Update-only mode, and the contact is not on the list.
    NotOnList,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: IntMap::with_capacity_and_hasher(capacity, Default::default()),
        }
    }

    pub fn insert(&mut self, key: u64, remembered: Remembered) {
        self.entries.insert(
            key,
            Entry {
                remembered,
                seen: false,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: u64) -> Option<Remembered> {
        self.entries.get(&key).map(|entry| entry.remembered)
    }

    /// Every entry, by email key, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, Remembered)> + '_ {
        self.entries
            .iter()
            .map(|(key, entry)| (*key, entry.remembered))
    }

    /// Decides what to do with a member and notes that the run met it. `on_list` is known in
    /// update-only mode.
    pub(crate) fn decide(
        &mut self,
        key: u64,
        fingerprint: u64,
        mode: SyncMode,
        full_resync: bool,
        on_list: Option<bool>,
    ) -> Decision {
        let entry = self.entries.get_mut(&key).map(|entry| {
            entry.seen = true;
            entry.remembered
        });
        decide(entry, fingerprint, mode, full_resync, on_list)
    }

    /// Forgets which emails were met, after a counting pass.
    pub(crate) fn forget_seen(&mut self) {
        for entry in self.entries.values_mut() {
            entry.seen = false;
        }
    }

    /// Emails this export put on the list and that are still subscribed: the most a mirror run
    /// can remove.
    pub(crate) fn owned_on_list(&self) -> u64 {
        self.entries
            .values()
            .filter(|entry| entry.remembered.owned && !entry.remembered.unsubscribed)
            .count() as u64
    }

    /// Emails this export put on the list that the run did not meet: mirror mode removes them.
    pub(crate) fn leavers(&self) -> Vec<u64> {
        self.entries
            .iter()
            .filter(|(_, entry)| {
                !entry.seen && entry.remembered.owned && !entry.remembered.unsubscribed
            })
            .map(|(key, _)| *key)
            .collect()
    }
}

fn decide(
    entry: Option<Remembered>,
    fingerprint: u64,
    mode: SyncMode,
    full_resync: bool,
    on_list: Option<bool>,
) -> Decision {
    if let Some(remembered) = entry {
        if remembered.unsubscribed {
            return Decision::Unsubscribed;
        }
        if remembered.sent_by_this_run && remembered.fingerprint == fingerprint {
            return Decision::SentEarlier;
        }
    }
    if mode == SyncMode::UpdateOnly && on_list == Some(false) {
        return Decision::NotOnList;
    }
    match entry {
        Some(remembered) if !full_resync && remembered.fingerprint == fingerprint => {
            Decision::Unchanged
        }
        Some(_) => Decision::Update,
        None if mode == SyncMode::UpdateOnly => Decision::Update,
        None => Decision::Add,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(fingerprint: u64) -> Remembered {
        Remembered {
            fingerprint,
            owned: true,
            unsubscribed: false,
            sent_by_this_run: false,
        }
    }

    #[test]
    fn a_member_is_sent_when_new_or_changed_and_not_when_unchanged() {
        let mut ledger = Ledger::new();
        ledger.insert(1, sent(10));
        ledger.insert(2, sent(20));
        let mode = SyncMode::AddOnly;
        assert_eq!(ledger.decide(1, 10, mode, false, None), Decision::Unchanged);
        assert_eq!(ledger.decide(2, 21, mode, false, None), Decision::Update);
        assert_eq!(ledger.decide(3, 30, mode, false, None), Decision::Add);
        assert_eq!(ledger.decide(1, 10, mode, true, None), Decision::Update);
    }

    #[test]
    fn unsubscribed_members_are_never_sent_even_on_a_full_resync() {
        let mut ledger = Ledger::new();
        ledger.insert(
            1,
            Remembered {
                unsubscribed: true,
                ..sent(10)
            },
        );
        assert_eq!(
            ledger.decide(1, 11, SyncMode::Mirror, true, None),
            Decision::Unsubscribed
        );
        assert!(ledger.leavers().is_empty());
    }

    #[test]
    fn a_resumed_run_does_not_send_again_what_its_first_attempt_sent() {
        let mut ledger = Ledger::new();
        ledger.insert(
            1,
            Remembered {
                sent_by_this_run: true,
                ..sent(10)
            },
        );
        assert_eq!(
            ledger.decide(1, 10, SyncMode::AddOnly, true, None),
            Decision::SentEarlier
        );
    }

    #[test]
    fn update_only_sends_only_contacts_on_the_list() {
        let mut ledger = Ledger::new();
        let mode = SyncMode::UpdateOnly;
        assert_eq!(
            ledger.decide(1, 10, mode, false, Some(false)),
            Decision::NotOnList
        );
        assert_eq!(
            ledger.decide(2, 20, mode, false, Some(true)),
            Decision::Update
        );
    }

    #[test]
    fn leavers_are_the_owned_emails_the_run_did_not_meet() {
        let mut ledger = Ledger::new();
        ledger.insert(1, sent(10));
        ledger.insert(2, sent(20));
        ledger.insert(
            3,
            Remembered {
                owned: false,
                ..sent(30)
            },
        );
        ledger.decide(1, 10, SyncMode::Mirror, false, None);
        assert_eq!(ledger.leavers(), vec![2]);
    }

    #[test]
    fn keys_and_fingerprints_are_stable_across_versions() {
        // Stored values: a change here would make every export re-send its whole list.
        assert_eq!(email_key("ada@example.com"), 5_153_404_444_407_775_775);
        assert_ne!(fingerprint(b"{}"), RESEND);
    }
}
