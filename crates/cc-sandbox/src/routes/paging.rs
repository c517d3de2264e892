//! Cursor paging: a cursor carries the position and the original filter, as Constant Contact's
//! opaque `cursor` does, so `_links.next.href` alone fetches the next page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Cursor<Q> {
    position: usize,
    query: Q,
}

pub(crate) fn encode<Q: Serialize>(position: usize, query: &Q) -> String {
    let json = serde_json::to_vec(&Cursor { position, query }).expect("a query serialises");
    URL_SAFE_NO_PAD.encode(json)
}

pub(crate) fn decode<Q: DeserializeOwned>(cursor: &str) -> Option<(usize, Q)> {
    let json = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let cursor: Cursor<Q> = serde_json::from_slice(&json).ok()?;
    Some((cursor.position, cursor.query))
}

/// Reads `limit`: absent gives the default, anything outside `1..=max` is an error message.
pub(crate) fn limit(raw: Option<&str>, default: usize, max: usize) -> Result<usize, String> {
    match raw {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if (1..=max).contains(&limit) => Ok(limit),
            _ => Err(format!(
                "limit must be a number from 1 to {max}, not {text:?}."
            )),
        },
    }
}

/// Where a page starts: from the `cursor`, when there is one, with the query it carries;
/// otherwise at the start, with `query`. An unreadable cursor is a 400.
pub(crate) fn resume<Q: DeserializeOwned>(
    cursor: Option<&str>,
    query: Q,
) -> Result<(Option<usize>, Q), axum::response::Response> {
    match cursor {
        Some(cursor) => decode::<Q>(cursor)
            .map(|(position, query)| (Some(position), query))
            .ok_or_else(|| super::errors::validation(&["The cursor is invalid.".to_owned()])),
        None => Ok((None, query)),
    }
}
