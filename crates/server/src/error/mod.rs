//! Errors of the API, always answered as `{ "code": "...", "message": "..." }` with a stable
//! code a client can match on. The vocabulary is the application's (`segsync_app::error`); the
//! server only answers it.

pub(crate) use segsync_app::error::ErrorBody;
pub use segsync_app::error::{AppError, Code};
