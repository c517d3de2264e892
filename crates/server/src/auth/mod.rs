//! Who is calling: local accounts with argon2id password hashes, session cookies with a CSRF
//! token for browsers, API tokens for automation, and the role each route needs.

mod caller;

pub use caller::{CSRF_HEADER, Caller, SESSION_COOKIE, session_token};
pub(crate) use segsync_app::secrets::secrets_match;
pub use segsync_app::secrets::{hash_token, new_token};
pub use segsync_app::users::{MIN_PASSWORD_CHARS, PasswordError, hash_password, verify_password};
