//! The APIs that share the REST session but not its `/api/{version}/` paths: the Metadata API
//! (GraphQL, `metadata.rs` + `graphql.rs`), VizQL Data Service (`vds.rs`) and Pulse
//! (`pulse.rs`). `server.rs` hands a request here when [`Api::parse`] knows its path, before
//! it looks for a REST version; this module checks the session (each API answers a missing
//! or dead token in its own shape), the scopes, and dispatches.
//!
//! Scopes (the fake's own table, from Tableau's docs; never shared with the client):
//!
//! | API | any one of | grade |
//! |---|---|---|
//! | Metadata API | `tableau:content:read` | [doc] (Cloud Oct 2023 / Server 2023.3) |
//! | VDS (all three POSTs) | `tableau:viz_data_service:read` | [doc]; the docs also say `content:read` opens VDS since Cloud Feb 2025 (localized pages only), not taken here |
//! | Pulse `GET definitions`, `POST definitions:batchGet`, `GET definitions/{id}/metrics` | `tableau:insight_definitions_metrics:read` | [doc via tableau-mcp: each method's comment and its docs site] |
//! | Pulse `POST metrics:batchGet` | `tableau:insight_metrics:read` | [doc via tableau-mcp] |

use std::time::Instant;

use hyper::Method;
use serde_json::{json, Value};

use super::model::Stats;
use super::scopes;
use super::state::{Session, State};
use super::{metadata, pulse, vds};

/// `Content-Type` of every answer here.
pub(crate) const JSON: &str = "application/json;charset=utf-8";

/// Which API a path belongs to (the route inside it is the API module's business).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /api/metadata/graphql`.
    Metadata,
    /// `/api/v1/vizql-data-service/{endpoint}`.
    Vds,
    /// `/api/-/pulse/...`.
    Pulse,
}

impl Api {
    /// The API of `path`, or `None` for REST and everything else.
    pub fn parse(path: &str) -> Option<Api> {
        let rest = path.strip_prefix("/api/")?;
        if rest == "metadata/graphql" {
            Some(Api::Metadata)
        } else if rest.starts_with("v1/vizql-data-service/") {
            Some(Api::Vds)
        } else if rest.starts_with("-/pulse/") {
            Some(Api::Pulse)
        } else {
            None
        }
    }

    /// Counts one request (any method, any answer) in the stats.
    pub fn count(self, stats: &mut Stats) {
        match self {
            Api::Metadata => stats.metadata_api += 1,
            Api::Vds => stats.vds += 1,
            Api::Pulse => stats.pulse += 1,
        }
    }
}

/// A request as these APIs see it.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub query: Option<&'a str>,
    pub body: &'a [u8],
    /// The `X-Tableau-Auth` header (`None` when absent).
    pub token: Option<&'a str>,
    pub now: Instant,
}

/// An answer: status and JSON body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            body: body.to_string(),
        }
    }
}

/// Why a session check failed: no header, or a dead (or out-of-scope) token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    /// No `X-Tableau-Auth` (REST: 401000).
    Missing,
    /// Unknown, expired or signed-out token, or a JWT session without the scope (401002).
    Invalid,
}

impl AuthFailure {
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::Missing => "401000",
            AuthFailure::Invalid => "401002",
        }
    }
}

/// The live session of `call` that may use an endpoint needing one of `needed` scopes.
pub(crate) fn session(
    st: &mut State,
    call: &Call<'_>,
    needed: &[&str],
) -> Result<Session, AuthFailure> {
    let token = call.token.ok_or(AuthFailure::Missing)?;
    let session = st
        .live_session(token, call.now)
        .ok_or(AuthFailure::Invalid)?;
    scopes::require(&session, needed).map_err(|_| AuthFailure::Invalid)?;
    Ok(session)
}

/// The REST-shaped JSON error for a failed session check on the Metadata API and Pulse
/// (their gateway is the REST one; the exact body there is a [guess], the 401 is [doc]).
pub(crate) fn rest_auth_error(st: &mut State, failure: AuthFailure) -> Answer {
    count_rejection(st, failure.code());
    let detail = match failure {
        AuthFailure::Missing => "No authentication credentials were provided.",
        AuthFailure::Invalid => "Invalid authentication credentials were provided.",
    };
    Answer::json(
        401,
        &json!({"error": {"code": failure.code(), "summary": "Unauthorized Access", "detail": detail}}),
    )
}

/// Counts an error answered by these APIs in `Stats::rejections` under `key`.
pub(crate) fn count_rejection(st: &mut State, key: &str) {
    *st.stats.rejections.entry(key.to_string()).or_insert(0) += 1;
}

/// Serves `call` on `api`.
pub(crate) fn answer(st: &mut State, api: Api, call: &Call<'_>) -> Answer {
    match api {
        Api::Metadata => metadata::answer(st, call),
        Api::Vds => vds::answer(st, call),
        Api::Pulse => pulse::answer(st, call),
    }
}

/// The value of query parameter `name` (percent-decoded), if present.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let query = query?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The settings of these APIs, kept in [`State`] (see [`Setup`](crate::Setup) for each).
#[derive(Clone, Debug)]
pub(crate) struct ApisConfig {
    pub metadata: metadata::MetadataConfig,
    pub vds: vds::VdsConfig,
    pub pulse: pulse::PulseConfig,
}

impl ApisConfig {
    pub fn new() -> Self {
        ApisConfig {
            metadata: metadata::MetadataConfig::default(),
            vds: vds::VdsConfig::new(),
            pulse: pulse::PulseConfig::new(pulse::DEFAULT_DEFINITIONS),
        }
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(Api::parse("/api/metadata/graphql"), Some(Api::Metadata));
        assert_eq!(Api::parse("/api/metadata/graphqlx"), None);
        assert_eq!(
            Api::parse("/api/v1/vizql-data-service/query-datasource"),
            Some(Api::Vds)
        );
        assert_eq!(Api::parse("/api/-/pulse/definitions"), Some(Api::Pulse));
        assert_eq!(Api::parse("/api/3.28/serverinfo"), None);
        assert_eq!(Api::parse("/api/v1/other"), None);
    }

    #[test]
    fn query_params_are_decoded() {
        assert_eq!(
            query_param(Some("page_size=5&page_token=a%2Bb"), "page_token").as_deref(),
            Some("a+b")
        );
        assert_eq!(query_param(Some("page_size=5"), "page_token"), None);
        assert_eq!(query_param(None, "x"), None);
    }
}
