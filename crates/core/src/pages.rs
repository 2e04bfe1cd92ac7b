//! Paging through lists, one page per call on the client's session: REST lists
//! (`pageSize`/`pageNumber`, following `pagination`'s `totalAvailable`), Pulse lists
//! (`page_size`/`page_token`, following `next_page_token`), Metadata API connections
//! (`first`/`after`, following `pageInfo`) and Tableau Cloud Manager lists (`cloud_manager/`).
//!
//! Each page is one `Client::call`, so a session that dies mid-list is replaced and the same
//! page is asked again: no item is repeated or skipped.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use super::api::{ApiRequest, Target};
use super::client::Client;
use super::cloud_manager;
use super::error::{Error, Result};
use super::metadata;
use super::pulse;
use super::wire;

/// Tableau's largest `pageSize`.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Where a list is in its paging, and how it pages.
pub struct Pager {
    client: Arc<Client>,
    paging: Paging,
    finished: bool,
}

enum Paging {
    Rest {
        target: Target,
        query: Vec<(String, String)>,
        page_size: u32,
        next_page: u64,
    },
    Pulse(pulse::Listing),
    Metadata(metadata::Connection),
    CloudManager(cloud_manager::Listing),
}

impl Pager {
    /// A REST list: `path` as `Client.request` takes it ("workbooks", "/api/3.24/sites").
    pub fn rest(
        client: Arc<Client>,
        path: &str,
        query: Vec<(String, String)>,
        page_size: i64,
    ) -> Result<Pager> {
        let page_size = check_page_size(page_size, "page_size")?;
        if let Some((name, _)) = query.iter().find(|(k, _)| {
            k.eq_ignore_ascii_case("pageSize") || k.eq_ignore_ascii_case("pageNumber")
        }) {
            return Err(Error::Configuration(format!(
                "params has {name:?}: paginate sets pageSize and pageNumber itself; give \
                 page_size=... instead"
            )));
        }
        let target = Target::parse(client.config(), path)?;
        Ok(Pager {
            client,
            paging: Paging::Rest {
                target,
                query,
                page_size,
                next_page: 1,
            },
            finished: false,
        })
    }

    pub fn pulse(client: Arc<Client>, listing: pulse::Listing) -> Pager {
        Pager {
            client,
            paging: Paging::Pulse(listing),
            finished: false,
        }
    }

    /// A Tableau Cloud Manager list (`pageNumber` or `pageToken` style).
    pub fn cloud_manager(client: Arc<Client>, listing: cloud_manager::Listing) -> Pager {
        Pager {
            client,
            paging: Paging::CloudManager(listing),
            finished: false,
        }
    }

    pub fn metadata(client: Arc<Client>, connection: metadata::Connection) -> Pager {
        Pager {
            client,
            paging: Paging::Metadata(connection),
            finished: false,
        }
    }

    /// True once the last page was read.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// The next page's items: empty only once finished (an empty page in the middle of a
    /// list is skipped). Fails like `raise_for_status` for an error answer.
    pub async fn next_page(&mut self) -> Result<Vec<Value>> {
        while !self.finished {
            let items = self.fetch().await?;
            if !items.is_empty() {
                return Ok(items);
            }
        }
        Ok(Vec::new())
    }

    async fn fetch(&mut self) -> Result<Vec<Value>> {
        let (items, more) = match &mut self.paging {
            Paging::Rest {
                target,
                query,
                page_size,
                next_page,
            } => {
                let mut query = query.clone();
                query.push(("pageSize".into(), page_size.to_string()));
                query.push(("pageNumber".into(), next_page.to_string()));
                let answer = self
                    .client
                    .call(ApiRequest {
                        method: Method::GET,
                        target: target.clone(),
                        query,
                        headers: Vec::new(),
                        body: None,
                        timeout: None,
                    })
                    .await?;
                answer.check_status()?;
                let reply = &answer.reply;
                let page = wire::parse_page(&reply.body).map_err(|e| Error::Protocol {
                    status: Some(reply.status),
                    message: format!("{}: {e}", super::api::describe(&Method::GET, &answer.url)),
                })?;
                let more = match &page.pagination {
                    // The page Tableau says it answered, of the size it says it used.
                    Some(p) => {
                        !page.items.is_empty()
                            && p.page_number.saturating_mul(p.page_size.max(1)) < p.total_available
                    }
                    None => false,
                };
                *next_page += 1;
                (page.items, more)
            }
            Paging::Pulse(listing) => listing.next(&self.client).await?,
            Paging::Metadata(connection) => connection.next(&self.client).await?,
            Paging::CloudManager(listing) => listing.next(&self.client).await?,
        };
        self.finished = !more;
        Ok(items)
    }
}

/// `page_size` must be 1–1000 (Tableau's bounds).
pub(crate) fn check_page_size(page_size: i64, name: &str) -> Result<u32> {
    match u32::try_from(page_size) {
        Ok(size) if (1..=MAX_PAGE_SIZE).contains(&size) => Ok(size),
        _ => Err(Error::Configuration(format!(
            "{name} is {page_size}: Tableau pages hold 1 to {MAX_PAGE_SIZE} items"
        ))),
    }
}
