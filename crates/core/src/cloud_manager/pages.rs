//! Tableau Cloud Manager lists, page by page. TCM has two styles [code/community]:
//!
//! - `pageNumber` + `pageSize` (e.g. `tenants/{id}/sites`): 1-based in community code, 0-based
//!   in the reference of another TCM list [doc/community];
//! - `pageToken` + `pageSize` in, `nextPageToken` out (e.g. `tenants/{id}/activitylog`).
//!
//! The first page is asked with `pageSize` only, and the answer says which style the list
//! uses: a `nextPageToken` member means tokens; otherwise page numbers, ending at the totals
//! the answer gives (`totalAvailable`/`totalCount`, `totalPages`) or, without totals, at the
//! first page that is not full. When the first answer does not say its `pageNumber`, page 1 is
//! asked next and compared with it: the same items mean numbering from 1 (they are not given
//! twice), other items numbering from 0. Either way no page is skipped. The items are the answer's one list-valued member (or the
//! member named by `items`); an answer with none, or several, fails and says what to pass.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Map, Value};

use crate::api::{describe, ApiRequest, Target};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::pages::check_page_size;

const PAGING_PARAMS: [&str; 3] = ["pageSize", "pageNumber", "pageToken"];
/// Members of an answer that say where the list is, not what is in it.
const PAGING_MEMBERS: [&str; 9] = [
    "pagination",
    "nextPageToken",
    "pageToken",
    "pageNumber",
    "pageSize",
    "totalAvailable",
    "totalCount",
    "totalPages",
    "totalPageCount",
];

/// A TCM list being paged.
pub struct Listing {
    target: Target,
    query: Vec<(String, String)>,
    page_size: u32,
    items: Option<String>,
    next: Next,
    /// Items read so far (for `totalAvailable`/`totalCount`).
    seen: u64,
    /// Tokens already followed: one given twice would loop for ever.
    tokens: HashSet<String>,
    /// The first page's items, while page 1 is asked to learn where numbering starts.
    probe: Option<Vec<Value>>,
}

enum Next {
    First,
    Page(u64),
    Token(String),
}

impl Listing {
    /// `path` as `request` takes it ("sites" → `/api/v1/tenants/{tenant_id}/sites`).
    pub fn new(
        client: &Client,
        path: &str,
        query: Vec<(String, String)>,
        page_size: i64,
        items: Option<String>,
    ) -> Result<Listing> {
        let page_size = check_page_size(page_size, "page_size")?;
        if let Some((name, _)) = query
            .iter()
            .find(|(k, _)| PAGING_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)))
        {
            return Err(Error::Configuration(format!(
                "params has {name:?}: paginate sets pageSize, pageNumber and pageToken itself; \
                 give page_size=... instead"
            )));
        }
        if items.as_deref().is_some_and(|i| i.trim().is_empty()) {
            return Err(Error::Configuration(
                "items is empty: give the member the list's items come in, e.g. \"sites\"".into(),
            ));
        }
        Ok(Listing {
            target: Target::parse(client.config(), path)?,
            query,
            page_size,
            items,
            next: Next::First,
            seen: 0,
            tokens: HashSet::new(),
            probe: None,
        })
    }

    /// The next page's items, and whether more pages follow.
    pub async fn next(&mut self, client: &Client) -> Result<(Vec<Value>, bool)> {
        let mut request = ApiRequest::json(Method::GET, self.target.clone(), None);
        request.query = self.query_for_next();
        let answer = client.call(request).await?;
        let body = answer.json()?;
        self.read(body).map_err(|message| Error::Protocol {
            status: Some(answer.reply.status),
            message: format!("{}: {message}", describe(&Method::GET, &answer.url)),
        })
    }

    /// The query of the next page.
    fn query_for_next(&self) -> Vec<(String, String)> {
        let mut query = self.query.clone();
        query.push(("pageSize".into(), self.page_size.to_string()));
        match &self.next {
            Next::First => {}
            Next::Page(n) => query.push(("pageNumber".into(), n.to_string())),
            Next::Token(t) => query.push(("pageToken".into(), t.clone())),
        }
        query
    }

    /// Read one answer: its items (none twice) and whether more pages follow.
    fn read(&mut self, body: Value) -> std::result::Result<(Vec<Value>, bool), String> {
        let object = match body {
            // A bare list is the whole list.
            Value::Array(items) => return Ok((items, false)),
            Value::Object(o) => o,
            _ => return Err("the answer is neither a JSON object nor a list".into()),
        };
        let mut items = self.items_of(&object)?;
        let count = items.len();
        let first = matches!(self.next, Next::First);
        if self
            .probe
            .take()
            .is_some_and(|first_page| first_page == items)
        {
            items.clear(); // numbering from 1: page 1 is the first page again
        }
        self.seen += items.len() as u64;
        let more = self.advance(&object, count)?;
        if first && more && matches!(self.next, Next::Page(1)) {
            self.probe = Some(items.clone());
        }
        Ok((items, more))
    }

    fn items_of(&self, object: &Map<String, Value>) -> std::result::Result<Vec<Value>, String> {
        if let Some(name) = &self.items {
            return match object.get(name) {
                Some(Value::Array(items)) => Ok(items.clone()),
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(_) => Err(format!("{name:?} in the answer is not a list")),
            };
        }
        let lists: Vec<&String> = object
            .iter()
            .filter(|(_, v)| v.is_array())
            .map(|(k, _)| k)
            .collect();
        match lists.as_slice() {
            [one] => Ok(object[one.as_str()].as_array().cloned().unwrap_or_default()),
            // An empty page may leave its list out, keeping only its paging members.
            [] if object.keys().all(|k| PAGING_MEMBERS.contains(&k.as_str())) => Ok(Vec::new()),
            _ => {
                let mut members: Vec<&str> = object.keys().map(String::as_str).collect();
                members.sort_unstable();
                Err(format!(
                    "cannot tell which member holds the items (the answer has: {}): pass \
                     items=\"<member>\"",
                    members.join(", ")
                ))
            }
        }
    }

    /// Set the next page from the answer; true if there is one.
    fn advance(
        &mut self,
        object: &Map<String, Value>,
        count: usize,
    ) -> std::result::Result<bool, String> {
        if let Some(token) = object.get("nextPageToken") {
            let token = match token {
                Value::String(t) => t.trim().to_string(),
                Value::Null => String::new(),
                _ => return Err("nextPageToken is not a string".into()),
            };
            if token.is_empty() {
                return Ok(false);
            }
            if !self.tokens.insert(token.clone()) {
                return Err("Tableau Cloud Manager gave the same nextPageToken twice".into());
            }
            self.next = Next::Token(token);
            return Ok(true);
        }
        if matches!(self.next, Next::Token(_)) {
            // A token list whose last page leaves nextPageToken out.
            return Ok(false);
        }
        let pagination = object.get("pagination").and_then(Value::as_object);
        let number = |names: &[&str]| {
            names.iter().find_map(|n| {
                pagination
                    .and_then(|p| p.get(*n))
                    .or_else(|| object.get(*n))
                    .and_then(|v| match v {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    })
            })
        };
        // An unnumbered first page counts as 0: page 1 is asked next, and compared with it.
        let current = number(&["pageNumber"]).unwrap_or(match self.next {
            Next::Page(n) => n,
            _ => 0,
        });
        let more = if count == 0 {
            false
        } else if let Some(total) = number(&["totalAvailable", "totalCount"]) {
            self.seen < total
        } else if let Some(pages) = number(&["totalPages", "totalPageCount"]) {
            current < pages
        } else {
            count >= self.page_size as usize
        };
        self.next = Next::Page(current + 1);
        Ok(more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing(page_size: u32) -> Listing {
        Listing {
            target: Target::Relative("sites".into()),
            query: Vec::new(),
            page_size,
            items: None,
            next: Next::First,
            seen: 0,
            tokens: HashSet::new(),
            probe: None,
        }
    }

    /// A server numbering its pages from `base`, answering `pageNumber` or the first page.
    fn serve(all: &[u32], base: u64, query: &[(String, String)]) -> Value {
        let size: usize = query
            .iter()
            .find(|(k, _)| k == "pageSize")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let number = query
            .iter()
            .find(|(k, _)| k == "pageNumber")
            .map_or(base, |(_, v)| v.parse().unwrap());
        let start = (number.saturating_sub(base)) as usize * size;
        let page: Vec<Value> = all
            .iter()
            .skip(start)
            .take(size)
            .map(|i| json!({"id": i}))
            .collect();
        json!({ "sites": page })
    }

    fn list_all(
        mut l: Listing,
        server: impl Fn(&[(String, String)]) -> Value,
    ) -> (Vec<Value>, usize) {
        let (mut out, mut calls) = (Vec::new(), 0);
        loop {
            calls += 1;
            let (items, more) = l.read(server(&l.query_for_next())).unwrap();
            out.extend(items);
            if !more {
                return (out, calls);
            }
        }
    }

    #[test]
    fn numbering_from_0_or_1_loses_and_repeats_nothing() {
        let all: Vec<u32> = (0..11).collect();
        let expected: Vec<Value> = all.iter().map(|i| json!({"id": i})).collect();
        for base in [0, 1] {
            let (got, calls) = list_all(listing(4), |q| serve(&all, base, q));
            assert_eq!(got, expected, "numbering from {base}");
            // Pages of 4, 4 and 3; from 1, page 1 is asked twice (the probe).
            assert_eq!(calls, if base == 1 { 4 } else { 3 });
        }
    }

    #[test]
    fn a_numbered_answer_needs_no_probe_and_totals_end_the_list() {
        let mut l = listing(2);
        let page = |n: u64, ids: &[u32]| {
            json!({"sites": ids.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(),
                   "pagination": {"pageNumber": n.to_string(), "totalAvailable": "3"}})
        };
        assert!(l.read(page(1, &[1, 2])).unwrap().1);
        assert_eq!(
            l.query_for_next().last().unwrap(),
            &("pageNumber".to_string(), "2".to_string())
        );
        let (items, more) = l.read(page(2, &[3])).unwrap();
        assert_eq!((items.len(), more), (1, false));
    }

    #[test]
    fn tokens_are_followed_and_a_repeated_token_is_refused() {
        let mut l = listing(2);
        assert!(
            l.read(json!({"files": [1, 2], "nextPageToken": "t1"}))
                .unwrap()
                .1
        );
        assert_eq!(
            l.query_for_next().last().unwrap(),
            &("pageToken".to_string(), "t1".to_string())
        );
        assert!(l
            .read(json!({"files": [3], "nextPageToken": "t1"}))
            .unwrap_err()
            .contains("twice"));
        let mut l = listing(2);
        l.read(json!({"files": [1], "nextPageToken": "t"})).unwrap();
        assert_eq!(
            l.read(json!({"files": [2]})).unwrap(),
            (vec![json!(2)], false)
        );
    }

    #[test]
    fn the_items_member_must_be_clear() {
        let mut l = listing(10);
        let e = l.read(json!({"sites": [], "regions": []})).unwrap_err();
        assert!(e.contains("items=") && e.contains("regions, sites"), "{e}");
        assert_eq!(
            listing(10).read(json!({"nextPageToken": ""})).unwrap(),
            (vec![], false)
        );
        assert!(listing(10).read(json!({"data": {"sites": []}})).is_err());
        assert!(listing(10).read(json!("text")).is_err());
        let mut named = listing(10);
        named.items = Some("regions".into());
        assert_eq!(
            named.read(json!({"sites": [1], "regions": [2]})).unwrap(),
            (vec![json!(2)], false)
        );
    }
}
