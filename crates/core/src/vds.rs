//! VizQL Data Service on the client's session: `POST /api/v1/vizql-data-service/{endpoint}`
//! with the published data source's LUID. Answers are JSON; errors (`errorCode`, `message`)
//! become our exceptions with hints (403800: API Access capability missing; 400804: response
//! too large).

use reqwest::Method;
use serde_json::{json, Value};

use super::api::{ApiRequest, Target};
use super::client::Client;
use super::error::{Error, Result};

const PREFIX: &str = "/api/v1/vizql-data-service/";

/// The endpoints that read a published data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    QueryDatasource,
    ReadMetadata,
    GetDatasourceModel,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [
        Endpoint::QueryDatasource,
        Endpoint::ReadMetadata,
        Endpoint::GetDatasourceModel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::QueryDatasource => "query-datasource",
            Endpoint::ReadMetadata => "read-metadata",
            Endpoint::GetDatasourceModel => "get-datasource-model",
        }
    }

    pub fn parse(name: &str) -> Result<Endpoint> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| {
                Error::Configuration(format!(
                    "VizQL Data Service has no endpoint {name:?}: use \"query-datasource\", \
                     \"read-metadata\" or \"get-datasource-model\""
                ))
            })
    }
}

/// Call `endpoint` on the published data source `datasource` (its LUID). `query` is required
/// by query-datasource and refused by the others; `options` is passed as given.
pub async fn call(
    client: &Client,
    endpoint: Endpoint,
    datasource: &str,
    query: Option<Value>,
    options: Option<Value>,
) -> Result<Value> {
    if datasource.trim().is_empty() {
        return Err(Error::Configuration(
            "datasource is empty: give the published data source's LUID".into(),
        ));
    }
    let mut body = json!({"datasource": {"datasourceLuid": datasource}});
    match (endpoint, query) {
        (Endpoint::QueryDatasource, Some(q @ Value::Object(_))) => body["query"] = q,
        (Endpoint::QueryDatasource, _) => {
            return Err(Error::Configuration(
                "query-datasource needs query={\"fields\": [{\"fieldCaption\": ...}, ...]}".into(),
            ))
        }
        (_, None) => {}
        (e, Some(_)) => {
            return Err(Error::Configuration(format!(
                "{} takes no query: leave query out",
                e.name()
            )))
        }
    }
    if let Some(options) = options {
        body["options"] = options;
    }
    client
        .call(ApiRequest::json(
            Method::POST,
            Target::Server(format!("{PREFIX}{}", endpoint.name())),
            Some(&body),
        ))
        .await?
        .json()
}
