//! Tableau Cloud Manager lists, page by page. TCM has two styles [code/community]:
//!
//! - `pageNumber` + `pageSize` (e.g. `tenants/{id}/sites`), 1-based [community];
//! - `pageToken` + `pageSize` in, `nextPageToken` out (e.g. `tenants/{id}/activitylog`).
//!
//! The first page is asked with `pageSize` only, and the answer says which style the list
//! uses: a `nextPageToken` member means tokens; otherwise page numbers, ending at the totals
//! the answer gives (`totalAvailable`/`totalCount`, `totalPages`) or, without totals, at the
//! first page that is not full. The items are the answer's one list-valued member (or the
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
        })
    }

    /// The next page's items, and whether more pages follow.
    pub async fn next(&mut self, client: &Client) -> Result<(Vec<Value>, bool)> {
        let mut query = self.query.clone();
        query.push(("pageSize".into(), self.page_size.to_string()));
        match &self.next {
            Next::First => {}
            Next::Page(n) => query.push(("pageNumber".into(), n.to_string())),
            Next::Token(t) => query.push(("pageToken".into(), t.clone())),
        }
        let mut request = ApiRequest::json(Method::GET, self.target.clone(), None);
        request.query = query;
        let answer = client.call(request).await?;
        let body = answer.json()?;
        let what = describe(&Method::GET, &answer.url);
        let protocol = |message: String| Error::Protocol {
            status: Some(answer.reply.status),
            message: format!("{what}: {message}"),
        };
        let object = match body {
            // A bare list is the whole list.
            Value::Array(items) => return Ok((items, false)),
            Value::Object(o) => o,
            _ => {
                return Err(protocol(
                    "the answer is neither a JSON object nor a list".into(),
                ))
            }
        };
        let items = self.items_of(&object).map_err(protocol)?;
        self.seen += items.len() as u64;
        let more = self.advance(&object, items.len()).map_err(protocol)?;
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
        let current = number(&["pageNumber"]).unwrap_or(match self.next {
            Next::Page(n) => n,
            _ => 1,
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
