//! Pages of a list: `?limit=` (100 by default, at most 500) and `?offset=`. The answer is the
//! page's array; the header `X-Next-Offset` gives the offset of the next page while there is
//! one, and `X-Total-Count` the number of entries where it is known.

use axum::Json;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 500;

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Entries per page: 100 unless given, at most 500.
    pub(crate) limit: Option<u32>,
    /// Entries to skip.
    pub(crate) offset: Option<u64>,
}

impl PageQuery {
    pub(crate) fn limit(self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    pub(crate) fn offset(self) -> u64 {
        self.offset.unwrap_or(0)
    }

    /// This page of a list held whole.
    pub(crate) fn of<T>(self, all: Vec<T>) -> Paged<T> {
        let total = all.len() as u64;
        let items: Vec<T> = all
            .into_iter()
            .skip(usize::try_from(self.offset()).unwrap_or(usize::MAX))
            .take(self.limit() as usize)
            .collect();
        let end = self.offset() + items.len() as u64;
        Paged {
            items,
            total: Some(total),
            next_offset: (end < total).then_some(end),
        }
    }

    /// A page read from the store with one entry more than the limit, which tells whether
    /// another page follows.
    pub(crate) fn page_of_one_more<T>(self, mut items: Vec<T>) -> Paged<T> {
        let more = items.len() > self.limit() as usize;
        items.truncate(self.limit() as usize);
        let next_offset = more.then(|| self.offset() + items.len() as u64);
        Paged {
            items,
            total: None,
            next_offset,
        }
    }
}

pub(crate) struct Paged<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total: Option<u64>,
    pub(crate) next_offset: Option<u64>,
}

impl<T> Paged<T> {
    /// The same page with other items, such as views of these.
    pub(crate) fn with_items<U>(self, items: Vec<U>) -> Paged<U> {
        Paged {
            items,
            total: self.total,
            next_offset: self.next_offset,
        }
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut response = Json(self.items).into_response();
        let headers = response.headers_mut();
        if let Some(next) = self.next_offset {
            headers.insert("x-next-offset", HeaderValue::from(next));
        }
        if let Some(total) = self.total {
            headers.insert("x-total-count", HeaderValue::from(total));
        }
        response
    }
}
