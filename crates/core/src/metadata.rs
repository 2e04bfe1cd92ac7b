//! The Metadata API (GraphQL) on the client's session: `POST /api/metadata/graphql` with
//! `{"query", "variables"}`. GraphQL `errors` become [`Error::Metadata`]; warnings (such as
//! BACKFILL_RUNNING: the metadata is still being indexed, results may be incomplete) are
//! returned beside the data. Connections page with `first` + `after` and `pageInfo`.

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::api::{ApiRequest, Target};
use super::client::Client;
use super::error::{Error, MetadataFailure, Result};

pub const PATH: &str = "/api/metadata/graphql";

/// What a query answered.
pub struct Answer {
    /// The `data` member (`null` when absent).
    pub data: Value,
    /// Warnings Tableau sent beside the data, one text each.
    pub warnings: Vec<String>,
}

/// Codes Tableau sends as warnings, not failures.
const WARNING_CODES: &[&str] = &["BACKFILL_RUNNING"];

/// Run one GraphQL query.
pub async fn query(client: &Client, query: &str, variables: Option<&Value>) -> Result<Answer> {
    check_query(query)?;
    send(client, query, variables_of(variables.cloned())?).await
}

/// The query's variables: a JSON object, or none.
fn variables_of(variables: Option<Value>) -> Result<Map<String, Value>> {
    match variables {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(v)) => Ok(v),
        Some(_) => Err(Error::Configuration(
            "variables must be a dict of the query's variables".into(),
        )),
    }
}

/// POST a checked query and read the answer.
async fn send(client: &Client, query: &str, variables: Map<String, Value>) -> Result<Answer> {
    let body = json!({"query": query, "variables": variables});
    let answer = client
        .call(ApiRequest::json(
            Method::POST,
            Target::Server(PATH.into()),
            Some(&body),
        ))
        .await?;
    // GraphQL errors may come with a non-2xx status too: they are read whatever the status.
    match serde_json::from_slice::<Value>(&answer.reply.body) {
        Ok(doc) if doc.get("errors").is_some() => read(doc),
        Ok(doc) => answer.check_status().and_then(|()| read(doc)),
        Err(_) => answer.check_status().and_then(|()| Err(answer.not_json())),
    }
}

fn check_query(query: &str) -> Result<()> {
    if query.trim().is_empty() {
        return Err(Error::Configuration(
            "query is empty: give a GraphQL query, e.g. \"{ workbooks { name } }\"".into(),
        ));
    }
    Ok(())
}

/// Split a GraphQL answer into data, warnings and errors.
fn read(mut doc: Value) -> Result<Answer> {
    let mut warnings = Vec::new();
    let mut failures = Vec::new();
    if let Some(Value::Array(errors)) = doc.get("errors") {
        for e in errors {
            let code = e
                .pointer("/extensions/code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let message = e.get("message").and_then(Value::as_str).unwrap_or("");
            let warning = WARNING_CODES.contains(&code.as_str())
                || e.pointer("/extensions/severity").and_then(Value::as_str) == Some("WARNING");
            if warning {
                warnings.push(describe(&code, message));
            } else {
                failures.push((e.clone(), code, message.to_string()));
            }
        }
    }
    if let Some(Value::Array(extra)) = doc.pointer("/extensions/warnings") {
        for w in extra {
            let code = w.get("code").and_then(Value::as_str).unwrap_or("");
            let message = w.get("message").and_then(Value::as_str).unwrap_or("");
            warnings.push(describe(code, message));
        }
    }
    if !failures.is_empty() {
        let errors_json = Value::Array(failures.iter().map(|(e, _, _)| e.clone()).collect());
        let message = failures
            .iter()
            .map(|(_, code, message)| {
                let hint = hint(code);
                let text = describe(code, message);
                if hint.is_empty() {
                    text
                } else {
                    format!("{text} (hint: {hint})")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::Metadata(Box::new(MetadataFailure {
            errors_json: errors_json.to_string(),
            codes: failures.into_iter().map(|(_, code, _)| code).collect(),
            message,
        })));
    }
    Ok(Answer {
        data: doc.get_mut("data").map(Value::take).unwrap_or(Value::Null),
        warnings,
    })
}

fn describe(code: &str, message: &str) -> String {
    match (code.is_empty(), message.is_empty()) {
        (false, false) => format!("{code}: {message}"),
        (false, true) => code.to_string(),
        (true, _) => message.to_string(),
    }
}

/// What to do about the Metadata API's documented error codes.
fn hint(code: &str) -> &'static str {
    match code {
        "ACCESS_DENIED" => {
            "the user may not see this content or these fields (derived permissions): query as \
             a user who can, or leave the fields out"
        }
        "FEATURE_DISABLED" => {
            "the Metadata API is off on this server: an administrator turns it on with \
             `tsm maintenance metadata-services enable` (Tableau Server)"
        }
        "FILTER_REQUIRED" => {
            "this query would return too much: add a filter, or page the connection with first/after"
        }
        "INVALID_ARGUMENT" => {
            "an argument is invalid (e.g. both offset and after in one connection): fix the query"
        }
        _ => "",
    }
}

/// A connection paged with `first`/`after`: the query declares `$after` (and passes it to the
/// connection), and selects `nodes` (or `edges { node }`) and `pageInfo { hasNextPage endCursor }`.
pub struct Connection {
    query: String,
    variables: Map<String, Value>,
    /// "workbooksConnection", or a dotted path to it ("site.workbooksConnection").
    path: Vec<String>,
    after: Option<String>,
}

impl Connection {
    pub fn new(query: String, variables: Option<Value>, connection: &str) -> Result<Connection> {
        check_query(&query)?;
        if !query.contains("$after") {
            return Err(Error::Configuration(
                "the query does not declare $after: page a connection with e.g. \
                 query($after: String) { workbooksConnection(first: 100, after: $after) \
                 { nodes { name } pageInfo { hasNextPage endCursor } } }"
                    .into(),
            ));
        }
        let variables = variables_of(variables)?;
        let path: Vec<String> = connection.split('.').map(str::to_string).collect();
        if path.iter().any(|p| p.trim().is_empty()) {
            return Err(Error::Configuration(
                "connection is empty: name the connection field, e.g. \"workbooksConnection\""
                    .into(),
            ));
        }
        Ok(Connection {
            query,
            variables,
            path,
            after: None,
        })
    }

    /// The next page's nodes, and whether there are more.
    pub(crate) async fn next(&mut self, client: &Client) -> Result<(Vec<Value>, bool)> {
        let mut variables = self.variables.clone();
        variables.insert(
            "after".into(),
            self.after.clone().map_or(Value::Null, Value::String),
        );
        let answer = send(client, &self.query, variables).await?;
        for w in &answer.warnings {
            log::warn!("Metadata API: {w}");
        }
        let name = self.path.join(".");
        let mut node = &answer.data;
        for key in &self.path {
            node = node.get(key).ok_or_else(|| {
                Error::Configuration(format!(
                    "the answer's data has no {name:?}: connection= must name the connection \
                     field the query selects (e.g. \"workbooksConnection\")"
                ))
            })?;
        }
        let nodes = match (node.get("nodes"), node.get("edges")) {
            (Some(Value::Array(n)), _) => n.clone(),
            (_, Some(Value::Array(edges))) => edges
                .iter()
                .map(|e| e.get("node").cloned().unwrap_or(Value::Null))
                .collect(),
            _ => {
                return Err(Error::Configuration(format!(
                    "{name} has no nodes: select nodes {{ ... }} (or edges {{ node {{ ... }} }})"
                )))
            }
        };
        let page_info = node.get("pageInfo").ok_or_else(|| {
            Error::Configuration(format!(
                "{name} has no pageInfo: add pageInfo {{ hasNextPage endCursor }} to its selection"
            ))
        })?;
        let more = page_info.get("hasNextPage").and_then(Value::as_bool);
        let cursor = page_info.get("endCursor").and_then(Value::as_str);
        match (more, cursor) {
            (Some(true), Some(c)) => {
                self.after = Some(c.to_string());
                Ok((nodes, true))
            }
            (Some(false), _) => Ok((nodes, false)),
            _ => Err(Error::Configuration(format!(
                "{name}'s pageInfo lacks hasNextPage or endCursor: select both"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_warnings_are_told_apart() {
        let answer = read(json!({
            "data": {"workbooks": []},
            "errors": [{"message": "still indexing", "extensions": {"code": "BACKFILL_RUNNING"}}]
        }))
        .unwrap();
        assert_eq!(answer.warnings, vec!["BACKFILL_RUNNING: still indexing"]);
        assert_eq!(answer.data, json!({"workbooks": []}));
        let Err(Error::Metadata(m)) = read(json!({
            "data": null,
            "errors": [{"message": "no", "extensions": {"code": "ACCESS_DENIED"}}]
        })) else {
            panic!("an error")
        };
        assert_eq!(m.codes, vec!["ACCESS_DENIED"]);
        assert!(m.message.contains("ACCESS_DENIED: no (hint:"));
    }

    #[test]
    fn connections_need_after() {
        assert!(Connection::new("{ workbooks { name } }".into(), None, "workbooks").is_err());
        assert!(Connection::new("query($after: String) { x }".into(), None, "").is_err());
        assert!(
            Connection::new("query($after: String) { x }".into(), Some(json!([1])), "x").is_err()
        );
        assert!(Connection::new("query($after: String) { x }".into(), None, "x").is_ok());
    }
}
