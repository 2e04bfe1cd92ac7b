//! Pulse on the client's session: `{server}/api/-/pulse/...` (a literal `-` where REST has a
//! version), JSON in snake_case. Lists page with `page_size` + `page_token` in and
//! `next_page_token` out; `definitions:batchGet` and `metrics:batchGet` read many by id.

use reqwest::Method;
use serde_json::{json, Value};

use super::api::{ApiRequest, Target};
use super::client::Client;
use super::error::{Error, Result};
use super::pages::check_page_size;

const PREFIX: &str = "/api/-/pulse/";

/// A Pulse list being paged: "definitions", "definitions/{id}/metrics", "subscriptions".
pub struct Listing {
    resource: String,
    /// The member holding the items: the resource's last word ("metrics").
    items: String,
    query: Vec<(String, String)>,
    page_size: Option<u32>,
    token: Option<String>,
}

/// "definitions/{id}/metrics" → its path and the member its items come in.
fn resource_and_items(resource: &str) -> Result<(String, String)> {
    let resource = resource.trim_matches('/');
    let items = resource.rsplit('/').next().unwrap_or("");
    if items.is_empty() || resource.contains("://") || resource.contains("..") {
        return Err(Error::Configuration(format!(
            "{resource:?} is not a Pulse resource: give e.g. \"definitions\", \
             \"definitions/<id>/metrics\" or \"subscriptions\""
        )));
    }
    Ok((resource.to_string(), items.to_string()))
}

impl Listing {
    pub fn new(
        resource: &str,
        query: Vec<(String, String)>,
        page_size: Option<i64>,
    ) -> Result<Listing> {
        let page_size = page_size
            .map(|size| check_page_size(size, "page_size"))
            .transpose()?;
        if query
            .iter()
            .any(|(k, _)| k == "page_token" || k == "page_size")
        {
            return Err(Error::Configuration(
                "params has page_token or page_size: the listing sets them itself; give \
                 page_size=... instead"
                    .into(),
            ));
        }
        let (resource, items) = resource_and_items(resource)?;
        Ok(Listing {
            resource,
            items,
            query,
            page_size,
            token: None,
        })
    }

    /// The next page's items, and whether there are more.
    pub(crate) async fn next(&mut self, client: &Client) -> Result<(Vec<Value>, bool)> {
        let mut request = ApiRequest::json(
            Method::GET,
            Target::Server(format!("{PREFIX}{}", self.resource)),
            None,
        );
        request.query = self.query.clone();
        if let Some(size) = self.page_size {
            request.query.push(("page_size".into(), size.to_string()));
        }
        if let Some(token) = &self.token {
            request.query.push(("page_token".into(), token.clone()));
        }
        let mut doc = client.call(request).await?.json()?;
        let items = take_items(&mut doc, &self.items)?;
        self.token = doc
            .get("next_page_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Ok((items, self.token.is_some()))
    }
}

/// The list in `member` of a Pulse answer; a loud error when the answer has none.
fn take_items(doc: &mut Value, member: &str) -> Result<Vec<Value>> {
    match doc.get_mut(member).map(Value::take) {
        Some(Value::Array(items)) => Ok(items),
        None if doc.get("next_page_token").is_some() => Ok(Vec::new()),
        _ => Err(Error::Protocol {
            status: None,
            message: format!("the Pulse answer has no {member:?} list"),
        }),
    }
}

/// `definitions:batchGet` or `metrics:batchGet`: the items with these ids.
pub async fn batch_get(
    client: &Client,
    resource: &str,
    ids: Vec<String>,
    view: Option<String>,
) -> Result<Vec<Value>> {
    let field = match resource {
        "definitions" => "definition_ids",
        "metrics" => "metric_ids",
        other => {
            return Err(Error::Configuration(format!(
                "Pulse has no {other:?} batch: use \"definitions\" or \"metrics\""
            )))
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut body = json!({ field: ids });
    if let Some(view) = view {
        body["definition_view"] = Value::String(view);
    }
    let mut doc = client
        .call(ApiRequest::json(
            Method::POST,
            Target::Server(format!("{PREFIX}{resource}:batchGet")),
            Some(&body),
        ))
        .await?
        .json()?;
    take_items(&mut doc, resource)
}
