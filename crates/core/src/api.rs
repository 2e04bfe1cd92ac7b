//! Authenticated REST calls: where a call goes ([`Target`]), sending it once with a session,
//! and the one rule that says whether a 401 means the session is dead. The client
//! (`client.rs`) owns what happens then: invalidate (compare-and-swap) and retry once.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue, ACCEPT};
use reqwest::Method;

use super::cloud_manager;
use super::config::ClientConfig;
use super::config::Service;
use super::error::{Error, Result};
use super::retry;
use super::session::Session;
use super::signin;
use super::transport::{self, Reply};

use super::wire;

/// Answers of general REST calls larger than this are refused (downloads stream elsewhere).
pub const MAX_API_BODY: usize = 512 << 20;

/// Where a call goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Under the session's site ("workbooks" → `{server}/api/{v}/sites/{site_id}/workbooks`)
    /// or, for Tableau Cloud Manager, its tenant ("sites" → `/api/v1/tenants/{tenant_id}/sites`).
    Relative(String),
    /// "/api/3.24/serverinfo" → `{server}/api/3.24/serverinfo`.
    Server(String),
}

impl Target {
    /// Read a user's path: absolute URLs must be on the client's own server (the session token
    /// must never go to another host).
    pub fn parse(cfg: &ClientConfig, path: &str) -> Result<Target> {
        if path.contains("://") {
            let prefix = format!("{}/", cfg.server);
            return match path.strip_prefix(&prefix) {
                Some(rest) => Ok(Target::Server(format!("/{rest}"))),
                None => Err(Error::Configuration(format!(
                    "{path:?} is not on this client's server {}: the session token is only sent \
                     to its own server",
                    cfg.server
                ))),
            };
        }
        if path.trim().is_empty() {
            return Err(Error::Configuration(
                "path is empty: give e.g. \"workbooks\" or \"/api/3.24/serverinfo\"".into(),
            ));
        }
        if path.starts_with('/') {
            Ok(Target::Server(path.to_string()))
        } else {
            Ok(Target::Relative(path.to_string()))
        }
    }

    fn url(&self, session: &Session) -> String {
        match self {
            Target::Relative(p) => session.url(p),
            Target::Server(p) => format!("{}{}", session.server, p),
        }
    }
}

/// One REST call.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    pub method: Method,
    pub target: Target,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
    pub timeout: Option<Duration>,
}

impl ApiRequest {
    /// A call of the JSON APIs beside REST (Metadata API, VizQL Data Service, Pulse): JSON in
    /// (when `body` is given) and JSON asked for.
    pub fn json(method: Method, target: Target, body: Option<&serde_json::Value>) -> ApiRequest {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        if body.is_some() {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
        }
        ApiRequest {
            method,
            target,
            query: Vec::new(),
            headers,
            body: body.map(|b| Bytes::from(b.to_string())),
            timeout: None,
        }
    }
}

/// The answer to a call, with the URL it went to.
pub struct ApiReply {
    pub url: String,
    pub reply: Reply,
    /// Who answered: a site's REST API or Tableau Cloud Manager (their errors differ).
    pub service: Service,
}

impl ApiReply {
    /// Ok for a 2xx answer; otherwise the typed error `raise_for_status` raises.
    pub fn check_status(&self) -> Result<()> {
        if (200..300).contains(&self.reply.status) {
            Ok(())
        } else {
            Err(match self.service {
                Service::Site => signin::failure(&self.reply, super::error::Call::Other),
                Service::CloudManager => {
                    cloud_manager::failure(&self.reply, super::error::Call::CloudManager)
                }
            })
        }
    }

    /// The body as JSON, for the JSON APIs: an error answer (non-2xx) fails like
    /// [`ApiReply::check_status`], a body that is not JSON is a `ProtocolError`.
    pub fn json(&self) -> Result<serde_json::Value> {
        self.check_status()?;
        serde_json::from_slice(&self.reply.body).map_err(|_| self.not_json())
    }

    /// The error for a 2xx answer whose body is not JSON.
    pub fn not_json(&self) -> Error {
        Error::Protocol {
            status: Some(self.reply.status),
            message: format!(
                "{} answered something that is not JSON: {}",
                path_of(&self.url),
                crate::redact::excerpt(&self.reply.body)
            ),
        }
    }
}

/// Does this answer say the session is dead (so a fresh one may help)? The one rule for it:
/// a 401 with Tableau's code 401000 (expired or unknown session) or 401002 (invalid token), or
/// with no Tableau error at all. Other 401s (401001: the sign-in itself failed) are not:
/// signing in again would not help. Its error is read once, for whoever needs its code (a 401
/// without a Tableau error gives an empty code); `None` for any other answer. Tableau Cloud
/// Manager's codes are not documented: every 401 to a call with its session says the session
/// is dead (as Tableau's own TCM client reads it).
pub fn dead_session(service: Service, status: u16, body: &[u8]) -> Option<wire::TableauErrorBody> {
    if status != 401 {
        return None;
    }
    if service == Service::CloudManager {
        return Some(wire::TableauErrorBody {
            code: String::new(),
            summary: String::new(),
            detail: String::new(),
        });
    }
    match wire::parse_error(body) {
        Some(e) if e.code == "401000" || e.code == "401002" => Some(e),
        Some(_) => None,
        None => Some(wire::TableauErrorBody {
            code: String::new(),
            summary: String::new(),
            detail: String::new(),
        }),
    }
}

/// Send `request` once with `session` (a transient failure of a call that is safe to repeat is
/// retried as configured). What to do about a dead session is the client's business.
pub(crate) async fn send(
    cfg: &ClientConfig,
    http: &reqwest::Client,
    session: &Session,
    request: &ApiRequest,
) -> Result<ApiReply> {
    let url = with_query(request.target.url(session), &request.query)?;
    let what = describe(&request.method, &url);
    let mut attempt = 0u32;
    loop {
        let mut builder = http
            .request(request.method.clone(), &url)
            .header(session.header_name(), signin::auth_header(&session.token)?);
        if !request
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
        {
            builder = builder.header(ACCEPT, cfg.wire_format.content_type());
        }
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::Configuration(format!("header name {name:?} is not valid")))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                Error::Configuration(format!("the value of header {name} is not valid"))
            })?;
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let outcome = transport::send(
            builder,
            request.timeout.unwrap_or(cfg.timeout),
            MAX_API_BODY,
            &what,
        )
        .await;
        // Only calls that are safe to repeat are retried on transient failures.
        let idempotent = matches!(request.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if idempotent && retry::again(cfg, &outcome, &mut attempt, &what).await {
            continue;
        }
        return Ok(ApiReply {
            url,
            reply: outcome?,
            service: cfg.service,
        });
    }
}

/// "GET /api/3.24/sites/…/workbooks": a call, for messages (no host, no query).
pub fn describe(method: &Method, url: &str) -> String {
    format!("{method} {}", path_of(url))
}

/// `url` with `query` appended (percent-encoded).
fn with_query(url: String, query: &[(String, String)]) -> Result<String> {
    if query.is_empty() {
        return Ok(url);
    }
    let mut u = url::Url::parse(&url)
        .map_err(|_| Error::Configuration(format!("{url:?} is not a valid URL")))?;
    u.query_pairs_mut().extend_pairs(query);
    Ok(u.to_string())
}

/// The path part of a URL, for messages (no host, no query).
pub(crate) fn path_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_read_from_paths() {
        let cfg = crate::config::test_config("s");
        assert_eq!(
            Target::parse(&cfg, "workbooks").unwrap(),
            Target::Relative("workbooks".into())
        );
        assert_eq!(
            Target::parse(&cfg, "/api/3.24/serverinfo").unwrap(),
            Target::Server("/api/3.24/serverinfo".into())
        );
        assert_eq!(
            Target::parse(&cfg, "https://h/api/3.24/sites/x/views").unwrap(),
            Target::Server("/api/3.24/sites/x/views".into())
        );
        assert!(Target::parse(&cfg, "https://evil.example.com/api/3.24/x").is_err());
        assert!(Target::parse(&cfg, "https://h.evil.com/x").is_err());
        assert!(Target::parse(&cfg, " ").is_err());
    }

    #[test]
    fn dead_session_answers_are_recognized() {
        let dead = |service, status, body: &[u8]| dead_session(service, status, body).is_some();
        let xml = |code: &str| {
            format!("<tsResponse><error code=\"{code}\"><summary>x</summary></error></tsResponse>")
        };
        assert!(dead(Service::Site, 401, xml("401002").as_bytes()));
        assert!(dead(Service::Site, 401, b""));
        assert!(!dead(Service::Site, 401, xml("401001").as_bytes()));
        assert!(!dead(Service::Site, 403, b""));
        assert!(dead(
            Service::CloudManager,
            401,
            br#"{"errorCode":"E_401","message":"x"}"#
        ));
        assert!(!dead(Service::CloudManager, 403, b"{}"));
    }
}
