//! A client for the parts of Constant Contact's v3 API that segment exports need.
//!
//! The pieces, in the order a request meets them:
//!
//! - [`oauth`]: authorization-code URLs with `state` and PKCE, code exchange, refresh with
//!   rotating refresh tokens, and the device flow for command lines;
//! - [`tokens`]: the access token of one connection, refreshed one at a time and persisted
//!   through a [`TokenStore`] before it is used;
//! - [`budget`]: one rate limiter and one daily quota per API key, shared by every caller;
//! - [`classify`] and [`retry`]: the one place that decides what a response means and
//!   whether, and when, to try again;
//! - [`ConstantContact`]: the endpoints (lists, bulk JSON imports, activities, contacts,
//!   list-membership removal), speaking the wire types of [`wire`];
//! - [`batch`]: splitting contacts into imports within Constant Contact's count and byte limits.

pub mod api;
pub mod batch;
pub mod budget;
pub mod classify;
pub mod config;
pub mod contact_json;
pub mod error;
/// Constant Contact's table of contact fields, kept in a crate of its own so that the domain
/// reads it without the HTTP client.
pub use constant_contact_fields as fields;
pub mod oauth;
pub mod retry;
pub mod tokens;
pub mod wire;

pub use api::ConstantContact;
pub use batch::{ImportBatch, ImportBatcher};
pub use budget::{ApiKeyBudget, BudgetRegistry};
pub use config::{ApiConfig, Endpoints};
pub use error::{ApiError, Error};
pub use oauth::OAuthClient;
pub use tokens::{MemoryTokenStore, RefreshTurn, TokenManager, TokenSet, TokenStore};
pub use wire::activities::{Activity, ActivityState, ActivityStatus};
pub use wire::custom_fields::{CustomField, NewCustomField};
pub use wire::lists::{ContactList, NewContactList};
