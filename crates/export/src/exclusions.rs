//! Addresses no export may ever send, whatever the segments hold: those an admin keeps in the
//! store (as keyed hashes — HMAC-SHA-256 with the installation's own key, never the addresses)
//! and those read for the run from an exclusions source. Every export checks each member
//! against them; an excluded member is counted and sampled as `excluded`. Tombstones, the keyed
//! hashes of erased addresses, hold members back the same way, counted as `erased` and never
//! sampled.

use std::collections::HashSet;

use hmac::{Hmac, Mac};
use nohash_hasher::IntSet;
use sha2::Sha256;

/// The bytes of a keyed hash kept: 128 bits, far beyond any chance of two addresses meeting.
pub const KEYED_HASH_BYTES: usize = 16;

/// The keyed hash of a normalised email: HMAC-SHA-256 under `key`, cut to 128 bits.
pub fn keyed_hash(key: &[u8; 32], email: &str) -> [u8; KEYED_HASH_BYTES] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(email.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut hash = [0; KEYED_HASH_BYTES];
    hash.copy_from_slice(&digest[..KEYED_HASH_BYTES]);
    hash
}

/// The keyed hash of a normalised email in hex, as the store keeps exclusions and tombstones.
pub fn keyed_hash_hex(key: &[u8; 32], email: &str) -> String {
    keyed_hash(key, email)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The stored exclusions: their keyed hashes and the key that made them.
#[derive(Clone, Default)]
pub struct KeyedHashes {
    pub key: [u8; 32],
    pub hashes: HashSet<[u8; KEYED_HASH_BYTES]>,
}

impl std::fmt::Debug for KeyedHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedHashes")
            .field("hashes", &self.hashes.len())
            .finish_non_exhaustive()
    }
}

/// What a run excludes.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    /// The ledger's keys of the addresses an exclusions source held when the run read it.
    pub source_keys: IntSet<u64>,
    pub stored: KeyedHashes,
    /// Erased addresses.
    pub tombstones: KeyedHashes,
}

/// Why a member is held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldBack {
    Excluded,
    Erased,
}

impl Exclusions {
    pub fn is_empty(&self) -> bool {
        self.source_keys.is_empty()
            && self.stored.hashes.is_empty()
            && self.tombstones.hashes.is_empty()
    }

    /// Why the member of normalised `email` (ledger key `key`) is held back, if it is: an
    /// erasure before an exclusion.
    pub fn holds_back(&self, email: &str, key: u64) -> Option<HeldBack> {
        if !self.tombstones.hashes.is_empty()
            && self
                .tombstones
                .hashes
                .contains(&keyed_hash(&self.tombstones.key, email))
        {
            return Some(HeldBack::Erased);
        }
        self.excludes(email, key).then_some(HeldBack::Excluded)
    }

    /// Whether the member of normalised `email` (ledger key `key`) is excluded.
    pub fn excludes(&self, email: &str, key: u64) -> bool {
        self.source_keys.contains(&key)
            || (!self.stored.hashes.is_empty()
                && self
                    .stored
                    .hashes
                    .contains(&keyed_hash(&self.stored.key, email)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::email_key;

    #[test]
    fn stored_and_source_exclusions_both_exclude_and_the_key_matters() {
        let key = [7; 32];
        let mut exclusions = Exclusions::default();
        assert!(exclusions.is_empty());
        exclusions
            .stored
            .hashes
            .insert(keyed_hash(&key, "ada@example.com"));
        exclusions.stored.key = key;
        exclusions.source_keys.insert(email_key("zoe@example.com"));
        for (email, excluded) in [
            ("ada@example.com", true),
            ("zoe@example.com", true),
            ("bob@example.com", false),
        ] {
            assert_eq!(
                exclusions.excludes(email, email_key(email)),
                excluded,
                "{email}"
            );
        }
        exclusions
            .tombstones
            .hashes
            .insert(keyed_hash(&key, "ada@example.com"));
        exclusions.tombstones.key = key;
        assert_eq!(
            exclusions.holds_back("ada@example.com", email_key("ada@example.com")),
            Some(HeldBack::Erased)
        );
        assert_eq!(
            exclusions.holds_back("zoe@example.com", email_key("zoe@example.com")),
            Some(HeldBack::Excluded)
        );
        assert_eq!(
            exclusions.holds_back("bob@example.com", email_key("bob@example.com")),
            None
        );
        assert_ne!(
            keyed_hash(&key, "ada@example.com"),
            keyed_hash(&[8; 32], "ada@example.com")
        );
    }
}
