//! Who is calling: local accounts with argon2id password hashes, session cookies with a CSRF
//! token for browsers, API tokens for automation, and the role each route needs.

mod caller;
mod password;
mod secrets;

pub use caller::{CSRF_HEADER, Caller, SESSION_COOKIE, session_token};
pub use password::{MIN_PASSWORD_CHARS, hash_password, verify_password};
pub(crate) use secrets::to_hex;
pub use secrets::{hash_token, new_token};
