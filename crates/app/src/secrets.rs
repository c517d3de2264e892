//! Random bearer secrets (session and API tokens) and the hashes the store keeps of them. The
//! tokens carry 256 random bits, so a fast hash is enough: nobody can guess their way back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new random token, with a prefix that says what it is (`sgs_` for API tokens).
pub fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token.
pub fn hash_token(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

/// Whether a secret sent by a client is the one expected, in time that depends on their
/// lengths only: where a comparison stops must not tell how much of a guess was right.
pub fn secrets_match(sent: &str, expected: &str) -> bool {
    let (sent, expected) = (sent.as_bytes(), expected.as_bytes());
    if sent.len() != expected.len() {
        return false;
    }
    let difference = sent.iter().zip(expected).fold(0u8, |difference, (a, b)| {
        std::hint::black_box(difference | (a ^ b))
    });
    difference == 0
}

/// Bytes as lowercase hexadecimal.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
