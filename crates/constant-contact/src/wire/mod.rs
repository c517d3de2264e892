//! Constant Contact's JSON, as its Swagger file defines it. These types stay inside this
//! crate's API: callers get them from the endpoints and build requests through constructors.

pub mod activities;
pub mod contacts;
pub mod custom_fields;
pub mod errors;
pub mod imports;
pub mod lists;

use serde::{Deserialize, Serialize};

/// `_links` of a collection: `next.href` is a path such as `/v3/contacts?cursor=…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PagingLinks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Link {
    pub href: String,
}
