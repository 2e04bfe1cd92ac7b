//! REST paging: the `pageSize` and `pageNumber` query parameters of every list endpoint.
//!
//! `pageSize` defaults to 100 and may be 1 to 1000; `pageNumber` defaults to 1. The errors
//! are Tableau's, as its reference lists them for the list methods (e.g. Get Users on Site):
//! 400007 "Invalid page size" (not an integer, or less than one), 403014 "Page size limit
//! exceeded" (more than 1000), 400006 "Invalid page number" (not an integer, or less than
//! one). A page past the end is an empty list with the same `totalAvailable` (Tableau's
//! reference also allows 400006 there for some methods; the fake answers the empty page).

use super::responses::ApiError;

/// The default page size.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 100;
/// The largest page size.
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

/// One page of a list: its 1-based number and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Page {
    pub number: usize,
    pub size: usize,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            number: 1,
            size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Page {
    /// The page a request's query string asks for (the first `pageSize` and the first
    /// `pageNumber` count; other parameters are ignored).
    pub fn from_query(query: Option<&str>) -> Result<Page, ApiError> {
        let mut size: Option<String> = None;
        let mut number: Option<String> = None;
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "pageSize" if size.is_none() => size = Some(value.into_owned()),
                "pageNumber" if number.is_none() => number = Some(value.into_owned()),
                _ => {}
            }
        }
        let mut page = Page::default();
        if let Some(text) = size {
            page.size = match parse_positive(&text) {
                Some(n) if n <= MAX_PAGE_SIZE => n,
                Some(_) => return Err(page_size_limit()),
                None => return Err(invalid_page_size(&text)),
            };
        }
        if let Some(text) = number {
            page.number = parse_positive(&text).ok_or_else(|| invalid_page_number(&text))?;
        }
        Ok(page)
    }

    /// The items of this page (empty past the end).
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.number - 1).saturating_mul(self.size);
        let start = start.min(items.len());
        let end = start.saturating_add(self.size).min(items.len());
        &items[start..end]
    }
}

/// An integer of at least 1 written in ASCII digits (a huge one saturates).
fn parse_positive(text: &str) -> Option<usize> {
    if text.is_empty() || text.len() > 40 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = text.parse::<usize>().unwrap_or(usize::MAX);
    (n >= 1).then_some(n)
}

/// 400007.
fn invalid_page_size(text: &str) -> ApiError {
    ApiError::new(
        400,
        "400007",
        "Invalid page size",
        &format!("The page size '{text}' is not an integer, or is less than one."),
    )
}

/// 403014.
fn page_size_limit() -> ApiError {
    ApiError::new(
        403,
        "403014",
        "Page size limit exceeded",
        &format!("The specified page size is larger than the maximum page size ({MAX_PAGE_SIZE})."),
    )
}

/// 400006.
fn invalid_page_number(text: &str) -> ApiError {
    ApiError::new(
        400,
        "400006",
        "Invalid page number",
        &format!("The page number '{text}' is not an integer, or is less than one."),
    )
}

#[cfg(test)]
mod unit {
    use super::*;

    fn code(q: &str) -> Option<String> {
        Page::from_query(Some(q)).err().map(|e| e.code)
    }

    #[test]
    fn defaults_and_values() {
        assert_eq!(Page::from_query(None), Ok(Page::default()));
        assert_eq!(
            Page::from_query(Some("fields=_all_&pageNumber=3&pageSize=1000")),
            Ok(Page {
                number: 3,
                size: 1000
            })
        );
        assert_eq!(Page::from_query(Some("pageSize=1")).map(|p| p.size), Ok(1));
    }

    #[test]
    fn bad_values_are_tableau_errors() {
        for q in [
            "pageSize=0",
            "pageSize=",
            "pageSize=x",
            "pageSize=-1",
            "pageSize=1.5",
        ] {
            assert_eq!(code(q).as_deref(), Some("400007"), "{q}");
        }
        for q in ["pageSize=1001", "pageSize=99999999999999999999999999"] {
            assert_eq!(code(q).as_deref(), Some("403014"), "{q}");
        }
        for q in ["pageNumber=0", "pageNumber=a", "pageNumber="] {
            assert_eq!(code(q).as_deref(), Some("400006"), "{q}");
        }
    }

    #[test]
    fn slices() {
        let items: Vec<u32> = (1..=7).collect();
        let page = |number, size| Page { number, size };
        assert_eq!(page(1, 3).slice(&items), &[1, 2, 3]);
        assert_eq!(page(3, 3).slice(&items), &[7]);
        assert!(page(4, 3).slice(&items).is_empty());
        assert!(page(usize::MAX, 1000).slice(&items).is_empty());
    }
}
