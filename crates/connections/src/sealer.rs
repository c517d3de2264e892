//! Sealing secrets for the store with AES-256-GCM. Each sealed value is a fresh 96-bit nonce
//! followed by the ciphertext and its tag, and is bound to what it belongs to (a connection's
//! id, say) so that it cannot be moved to another row and opened there.
//!
//! Key rotation: put the new key in `encryption_key` and the old one in
//! `previous_encryption_keys`. Values sealed with an old key still open, and are sealed again
//! with the new key the next time they are written (tokens are, at every refresh).

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a sealed secret did not open with any configured key: the key changed without being listed in previous_encryption_keys, or the value was tampered with"
)]
pub struct OpenError;

pub struct Sealer {
    current: Aes256Gcm,
    previous: Vec<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("previous_keys", &self.previous.len())
            .finish_non_exhaustive()
    }
}

impl Sealer {
    pub fn new(current: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        let cipher = |key: &[u8; 32]| Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
        Self {
            current: cipher(current),
            previous: previous.iter().map(cipher).collect(),
        }
    }

    /// `plaintext` sealed and bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .current
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM seals any message under 64 GiB");
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        sealed
    }

    /// Opens a value sealed for `context` with the current key or a previous one.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_BYTES {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce = Nonce::from_slice(nonce);
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find_map(|cipher| {
                cipher
                    .decrypt(
                        nonce,
                        Payload {
                            msg: ciphertext,
                            aad: context.as_bytes(),
                        },
                    )
                    .ok()
            })
            .ok_or(OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let sealer = Sealer::new(&[1; 32], &[]);
        let sealed = sealer.seal(b"refresh-token", "connection-a");
        assert!(
            !sealed.windows(13).any(|window| window == b"refresh-token"),
            "no plaintext in the sealed bytes"
        );
        assert_eq!(
            sealer.open(&sealed, "connection-a").unwrap(),
            b"refresh-token"
        );
        assert_eq!(
            sealer.open(&sealed, "connection-b"),
            Err(OpenError),
            "bound to its row"
        );
        assert_ne!(
            sealer.seal(b"refresh-token", "connection-a"),
            sealed,
            "a fresh nonce each time"
        );

        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(sealer.open(&tampered, "connection-a"), Err(OpenError));
        assert_eq!(
            Sealer::new(&[2; 32], &[]).open(&sealed, "connection-a"),
            Err(OpenError)
        );
    }

    #[test]
    fn a_rotated_key_still_opens_what_the_old_one_sealed() {
        let old = Sealer::new(&[1; 32], &[]);
        let sealed = old.seal(b"token", "c");
        let rotated = Sealer::new(&[2; 32], &[[1; 32]]);
        assert_eq!(rotated.open(&sealed, "c").unwrap(), b"token");
        let resealed = rotated.seal(b"token", "c");
        assert_eq!(
            Sealer::new(&[2; 32], &[]).open(&resealed, "c").unwrap(),
            b"token"
        );
    }
}
