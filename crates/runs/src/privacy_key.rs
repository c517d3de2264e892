//! The installation's own key for keyed hashes of addresses (exclusions): 32 random bytes made
//! once, kept in the store sealed with the encryption key (so rotating that key re-seals it and
//! the hashes stay valid), the same for every process on the store.

use segsync_connections::Sealer;
use segsync_store::{Store, StoreError};
use uuid::Uuid;

const SETTING: &str = "privacy_hash_key";
/// What the sealed key is bound to.
const CONTEXT: &str = "privacy hash key";

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyKeyError {
    #[error("the store")]
    Store(#[from] StoreError),
    #[error("the installation's hashing key does not open with the configured encryption keys")]
    Sealed,
}

/// The installation's hashing key, made on first use.
pub async fn installation_hash_key(
    store: &Store,
    sealer: &Sealer,
) -> Result<[u8; 32], PrivacyKeyError> {
    loop {
        if let Some(value) = store.setting(SETTING).await? {
            let sealed: Vec<u8> =
                serde_json::from_value(value).map_err(|_| PrivacyKeyError::Sealed)?;
            let key = sealer
                .open(&sealed, CONTEXT)
                .map_err(|_| PrivacyKeyError::Sealed)?;
            return key.try_into().map_err(|_| PrivacyKeyError::Sealed);
        }
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        let sealed = serde_json::json!(sealer.seal(&key, CONTEXT));
        // Another process may have made one first: then that one is read.
        if store.replace_setting(SETTING, None, &sealed).await? {
            return Ok(key);
        }
    }
}
