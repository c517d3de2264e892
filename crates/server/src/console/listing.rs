//! What every list page shares: a search over the names it shows, and pages of a fixed size
//! with links to the pages before and after, keeping the search.

use serde::Deserialize;

/// Rows on one page of a list.
pub(crate) const PAGE: usize = 50;

/// A list page's query: what to look for, and where the page starts.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct ListQuery {
    #[serde(default)]
    pub(crate) q: String,
    #[serde(default)]
    pub(crate) offset: usize,
}

/// One page of a list, and how to reach the others.
pub(crate) struct Listing {
    /// The page's own path, such as `/segments`.
    pub(crate) path: &'static str,
    pub(crate) query: String,
    pub(crate) offset: usize,
    /// Rows on this page, and rows that match the search in all.
    pub(crate) shown: usize,
    pub(crate) total: usize,
}

impl Listing {
    /// The page of `items` that `query` asks for, among those whose text (as `text` gives it)
    /// holds the search, ignoring case.
    pub(crate) fn page<T>(
        path: &'static str,
        query: &ListQuery,
        items: Vec<T>,
        text: impl Fn(&T) -> String,
    ) -> (Vec<T>, Self) {
        let needle = query.q.trim().to_lowercase();
        let matching: Vec<T> = items
            .into_iter()
            .filter(|item| needle.is_empty() || text(item).to_lowercase().contains(&needle))
            .collect();
        let total = matching.len();
        let offset = query.offset.min(total.saturating_sub(1) / PAGE * PAGE);
        let page: Vec<T> = matching.into_iter().skip(offset).take(PAGE).collect();
        let listing = Self {
            path,
            query: query.q.trim().to_owned(),
            offset,
            shown: page.len(),
            total,
        };
        (page, listing)
    }

    /// Whether a search is narrowing the list.
    pub(crate) fn searching(&self) -> bool {
        !self.query.is_empty()
    }

    /// `Showing 51–100 of 230`, or nothing when one page holds them all.
    pub(crate) fn range(&self) -> String {
        if self.total <= PAGE {
            return String::new();
        }
        format!(
            "Showing {}–{} of {}",
            self.offset + 1,
            self.offset + self.shown,
            self.total
        )
    }

    fn link(&self, offset: usize) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if self.searching() {
            query.append_pair("q", &self.query);
        }
        if offset > 0 {
            query.append_pair("offset", &offset.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}?{query}", self.path)
        }
    }

    /// The page before this one, if any.
    pub(crate) fn previous(&self) -> Option<String> {
        (self.offset > 0).then(|| self.link(self.offset.saturating_sub(PAGE)))
    }

    /// The page after this one, if any.
    pub(crate) fn next(&self) -> Option<String> {
        (self.offset + self.shown < self.total).then(|| self.link(self.offset + PAGE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, offset: usize) -> ListQuery {
        ListQuery {
            q: q.to_owned(),
            offset,
        }
    }

    #[test]
    fn a_search_narrows_and_pages_keep_it() {
        let names: Vec<String> = (0..120).map(|i| format!("Segment {i:03}")).collect();
        let (page, listing) =
            Listing::page("/segments", &query("", 0), names.clone(), Clone::clone);
        assert_eq!(page.len(), PAGE);
        assert_eq!(listing.range(), "Showing 1–50 of 120");
        assert_eq!(listing.previous(), None);
        assert_eq!(listing.next().as_deref(), Some("/segments?offset=50"));

        let (page, listing) =
            Listing::page("/segments", &query("", 100), names.clone(), Clone::clone);
        assert_eq!(page.len(), 20);
        assert_eq!(listing.next(), None);
        assert_eq!(listing.previous().as_deref(), Some("/segments?offset=50"));

        let (page, listing) = Listing::page(
            "/segments",
            &query(" segment 1 ", 0),
            names.clone(),
            Clone::clone,
        );
        assert_eq!(page.len(), 20, "segment 100 to 119 hold 'segment 1'");
        assert_eq!(listing.range(), "", "one page holds them");
        assert!(listing.searching());

        // "Segment 0" is in Segment 000 to 099: a hundred, two pages.
        let (page, listing) =
            Listing::page("/segments", &query("Segment 0", 5000), names, Clone::clone);
        assert_eq!(page.len(), 50, "past the end is the last page");
        assert_eq!(listing.offset, 50);
        assert_eq!(listing.previous().as_deref(), Some("/segments?q=Segment+0"));
    }
}
