//! Tableau Cloud Manager (TCM): the tenant-level REST API, served by the same server on paths
//! that no other API of the fake uses, with sessions of its own (`tenant.rs`), its own header
//! `x-tableau-session-token` and JSON errors `{"message", "errorCode"}`. Logins and sign-out
//! are in `cloud_manager_login.rs`; routing, the session check, the lists and the errors here.
//! `server.rs` hands a request here when [`Endpoint::parse`] knows its path, before anything
//! else (so `/api/v1/vizql-data-service/...` stays VizQL Data Service's).
//!
//! # Routes
//!
//! | request | answer | route names (misbehaviours, delays) |
//! |---|---|---|
//! | `POST /api/v1/pat/login` `{"token": "<TCM PAT secret>"}` | 200 login answer | `tcm/login`, `tcm/pat/login` |
//! | `POST /api/v1/jwt/login` `{"token": "<unified access token>"}` | 200 login answer | `tcm/login`, `tcm/jwt/login` |
//! | `DELETE /api/v2/sessions` | 204, the session ends | `tcm`, `tcm/sessions` |
//! | `GET /api/v1/tenants/{tenantId}/sites?pageNumber=&pageSize=` | `{"sites": [...]}` | `tcm`, `tcm/sites` |
//! | `GET /api/v1/tenants/{tenantId}/users?pageSize=&pageToken=` | `{"users": [...], "nextPageToken"}` | `tcm`, `tcm/users` |
//! | `GET /api/v1/tenants/{tenantId}/activitylog?pageSize=&pageToken=` (`startTime`, `endTime` accepted) | `{"files": [...], "nextPageToken"}` | `tcm`, `tcm/activitylog` |
//!
//! Any other path under `/api/v1/tenants`, `/api/v1/pat/`, `/api/v1/jwt/`,
//! `/api/v1/uat-configurations` or `/api/v2/` is TCM's too: 404 (route name `tcm`). A TCM path
//! matches no suffix route of the site API (`"users"` does not catch TCM's users), only `"*"`
//! and its names above.
//!
//! Login answer: `{"sessionToken", "tenantId", "userId", "sessionExpiration"}`, the last in
//! RFC 3339 UTC (`2026-12-01T07:00:00Z`). Paths, header, bodies and the login answer's members
//! [code: Tableau's tabcloud_platform_data_loader and third-party clients]; the format of
//! `sessionExpiration` [guess].
//!
//! # The later calls
//!
//! Checked in this order: the body (413 over 1 MiB), the path (404) and method (405); then
//! the header `x-tableau-session-token` (missing: 401; unknown, expired or signed out: 401; a
//! site session token is unknown here, and a TCM token is unknown to the site API); the tenant
//! in the path, which must be the session's (403 [guess]: it may be 404 on Tableau); for a
//! session opened with a unified access token, the scope (403 naming it [guess]: the site API
//! answers a missing scope 401002, TCM's answer is not documented):
//!
//! | list | scope | grade |
//! |---|---|---|
//! | sites | `tableau:tcm_sites:read` | [doc] |
//! | users | `tableau:tcm_users:read` | [doc] |
//! | activity log | `tableau:tcm_activity_log:read` | [guess] |
//!
//! A PAT session is not limited by scopes. Then the query: only the parameters listed above, each
//! at most once (another one is 400 [guess: Tableau may ignore it; refused here so that a client
//! mixing the two paging styles fails loudly]).
//!
//! # Lists
//!
//! * Sites: the fake's sites (what [`Setup::add_site`](crate::Setup::add_site) adds), by
//!   content URL; `{"siteUUID": <site LUID>, "name", "contentUrl", "tenantId", "podLocation",
//!   "status": "ACTIVE"}`. Paged by `pageNumber` (from 1, default 1) and `pageSize` (1 to 1000,
//!   default 100), with no totals; a page past the end is `{"sites": []}`. `siteUUID`,
//!   `contentUrl`, `status` [code: Tableau's loader]; the rest and the paging [guess: the TCM
//!   reference documents `pageNumber` from 0, 0 meaning "do not page", for List regions, and
//!   Tableau's loader pages sites with `maxResults` + `pageToken`].
//! * Users: the tenant's users by username; `{"userId", "email", "displayName", "cloudAdmin",
//!   "siteRoles": [{"siteId", "siteRole"}]}` (a site role for each fake site that has a user of
//!   that name). Paged by `pageSize` (1 to 1000, default 100) and `pageToken`; `nextPageToken`
//!   is there while more remain and absent on the last page; a token this list did not give is
//!   400. `userId`, `siteRoles`, the token paging [code: Tableau's loader, which sends
//!   `maxResults` for the page size]; the rest [guess].
//! * Activity log: the tenant's files, `{"path", "size"}`, paged like users; `startTime` and
//!   `endTime` (sent by Tableau's loader [code]) are accepted and do not filter [guess].
//!
//! # Errors
//!
//! Every error is JSON `{"message": …, "errorCode": …}` [code]; the codes here are
//! `E_<status>_TCM_<WHAT>`, shaped like the TCM operation error codes Tableau documents
//! (`E_400_USR_SVC_2010`) [doc for the shape; the values are guesses]:
//!
//! | status | errorCode | when |
//! |---|---|---|
//! | 400 | `E_400_TCM_BAD_REQUEST` | login body not `{"token": "<non-empty string>"}` exactly, or not `Content-Type: application/json`; a bad query parameter |
//! | 400 | `E_400_TCM_INVALID_PAGE_TOKEN` | a `pageToken` the list did not give |
//! | 401 | `E_401_TCM_INVALID_CREDENTIALS` | PAT login: unknown secret (a site PAT's included) |
//! | 401 | `E_401_TCM_INVALID_JWT` | JWT login: a failed check, named in the message (`jwt_rules.rs`), or a user who is not the tenant's |
//! | 401 | `E_401_TCM_NO_SESSION_TOKEN` | no `x-tableau-session-token` |
//! | 401 | `E_401_TCM_INVALID_SESSION` | unknown, expired or signed-out session token |
//! | 403 | `E_403_TCM_NOT_CLOUD_ADMIN` | login of a user who is not a cloud administrator |
//! | 403 | `E_403_TCM_TENANT_MISMATCH` | the path's tenant is not the session's |
//! | 403 | `E_403_TCM_MISSING_SCOPE` | a UAT session without the list's scope |
//! | 404 | `E_404_TCM_NOT_FOUND` | unknown TCM path |
//! | 405 | `E_405_TCM_METHOD_NOT_ALLOWED` | known path, wrong method |
//! | 413 | `E_413_TCM_PAYLOAD_TOO_LARGE` | body over 1 MiB |
//!
//! Misbehaviours on TCM routes answer the same shape: `Fail` is `{"message", "errorCode"}`
//! with the given code or `E_<status>_TCM_INJECTED`; `RateLimit` is 429
//! `E_429_TCM_TOO_MANY_REQUESTS` (or the HTML page); the others are as on the site API, JSON
//! where a body format matters.
//!
//! # Stats
//!
//! `cloud_manager_sign_in_attempts` (every POST to a login path), `cloud_manager_sign_ins`,
//! `cloud_manager_sign_in_failures` (logins the rules refused), `cloud_manager_sign_outs`
//! (sign-outs that ended a session), `cloud_manager_requests` (calls that passed the session,
//! tenant and scope checks), `active_cloud_manager_sessions`; errors in `rejections` by
//! `errorCode`. None of them touches the site's counters.

use std::collections::BTreeMap;
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::Method;
use serde_json::{json, Value};

use super::cloud_manager_login;
use super::scopes;
use super::state::State;
use super::tenant::TcmSession;

/// `Content-Type` of TCM's JSON answers.
pub(crate) const JSON: &str = "application/json;charset=utf-8";
/// The header that carries a TCM session token.
pub(crate) const SESSION_HEADER: &str = "x-tableau-session-token";

/// Scope of the sites list, for a UAT session [doc].
pub(crate) const SITES_SCOPE: &str = "tableau:tcm_sites:read";
/// Scope of the users list [doc].
pub(crate) const USERS_SCOPE: &str = "tableau:tcm_users:read";
/// Scope of the activity log [guess].
pub(crate) const ACTIVITY_LOG_SCOPE: &str = "tableau:tcm_activity_log:read";

const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;
/// Where the fake's sites say they live [guess].
const POD_LOCATION: &str = "us-west-2";

/// A TCM endpoint, from a request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    PatLogin,
    JwtLogin,
    SignOut,
    /// The tenant id in the path.
    Sites(String),
    Users(String),
    ActivityLog(String),
    /// A TCM path the fake does not serve.
    Unknown,
}

impl Endpoint {
    /// The endpoint of `path`, or `None` when the path is not TCM's.
    pub fn parse(path: &str) -> Option<Endpoint> {
        match path {
            "/api/v1/pat/login" => return Some(Endpoint::PatLogin),
            "/api/v1/jwt/login" => return Some(Endpoint::JwtLogin),
            "/api/v2/sessions" => return Some(Endpoint::SignOut),
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("/api/v1/tenants/") {
            let parts: Vec<&str> = rest.split('/').collect();
            return Some(match parts[..] {
                [tenant, "sites"] if !tenant.is_empty() => Endpoint::Sites(tenant.to_string()),
                [tenant, "users"] if !tenant.is_empty() => Endpoint::Users(tenant.to_string()),
                [tenant, "activitylog"] if !tenant.is_empty() => {
                    Endpoint::ActivityLog(tenant.to_string())
                }
                _ => Endpoint::Unknown,
            });
        }
        let ours = path == "/api/v1/tenants"
            || path == "/api/v1/uat-configurations"
            || [
                "/api/v1/pat/",
                "/api/v1/jwt/",
                "/api/v1/uat-configurations/",
                "/api/v2/",
            ]
            .iter()
            .any(|prefix| path.starts_with(prefix));
        ours.then_some(Endpoint::Unknown)
    }

    /// The method the endpoint answers (`None` for an unknown path).
    pub fn method(&self) -> Option<Method> {
        match self {
            Endpoint::PatLogin | Endpoint::JwtLogin => Some(Method::POST),
            Endpoint::SignOut => Some(Method::DELETE),
            Endpoint::Sites(_) | Endpoint::Users(_) | Endpoint::ActivityLog(_) => Some(Method::GET),
            Endpoint::Unknown => None,
        }
    }

    pub fn is_login(&self) -> bool {
        matches!(self, Endpoint::PatLogin | Endpoint::JwtLogin)
    }

    /// The `route` strings that pick this endpoint for a misbehaviour or a delay (besides
    /// `"*"`): `"tcm/login"` for both logins, `"tcm"` for every other TCM call, and one name of
    /// its own each.
    pub fn route_names(&self) -> &'static [&'static str] {
        match self {
            Endpoint::PatLogin => &["tcm/login", "tcm/pat/login"],
            Endpoint::JwtLogin => &["tcm/login", "tcm/jwt/login"],
            Endpoint::SignOut => &["tcm", "tcm/sessions"],
            Endpoint::Sites(_) => &["tcm", "tcm/sites"],
            Endpoint::Users(_) => &["tcm", "tcm/users"],
            Endpoint::ActivityLog(_) => &["tcm", "tcm/activitylog"],
            Endpoint::Unknown => &["tcm"],
        }
    }
}

/// A request body as the server read it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Body<'a> {
    Read(&'a [u8]),
    /// Over this many bytes.
    TooLarge(usize),
    Broken,
}

/// A request as TCM sees it.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    /// The raw query string (without `?`).
    pub query: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: Body<'a>,
    /// The `x-tableau-session-token` header (`Some("")` when unreadable).
    pub session_token: Option<&'a str>,
    pub now: Instant,
    /// Seconds since the Unix epoch.
    pub now_unix: f64,
}

/// An answer: status and JSON body (`None`: no body, as 204).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub body: Option<String>,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Answer {
        Answer {
            status,
            body: Some(body.to_string()),
        }
    }

    pub fn no_content() -> Answer {
        Answer {
            status: 204,
            body: None,
        }
    }
}

/// A TCM error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcmError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl TcmError {
    /// Status `status`, code `E_<status>_TCM_<what>`.
    pub fn new(status: u16, what: &str, message: impl Into<String>) -> Self {
        TcmError {
            status,
            code: format!("E_{status}_TCM_{what}"),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BAD_REQUEST", message)
    }

    fn invalid_page_token(name: &str) -> Self {
        Self::new(
            400,
            "INVALID_PAGE_TOKEN",
            format!("{name} is not a token this list gave; start again without it."),
        )
    }

    fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "No such Tableau Cloud Manager resource.")
    }

    fn method_not_allowed(method: &Method) -> Self {
        Self::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("Method {method} is not allowed on this resource."),
        )
    }

    /// 401 for a call whose session token is unknown, expired or signed out.
    pub fn invalid_session() -> Self {
        Self::new(
            401,
            "INVALID_SESSION",
            "The session token is not valid: it is unknown, expired or signed out. Log in again.",
        )
    }

    /// 401 for a call without `x-tableau-session-token`.
    pub fn no_session_token() -> Self {
        Self::new(
            401,
            "NO_SESSION_TOKEN",
            format!("The {SESSION_HEADER} header is missing: log in first."),
        )
    }

    /// Counts the error in `rejections` and makes its answer.
    pub fn answer(&self, st: &mut State) -> Answer {
        *st.stats.rejections.entry(self.code.clone()).or_insert(0) += 1;
        Answer {
            status: self.status,
            body: Some(error_body(&self.code, &self.message)),
        }
    }
}

/// A TCM error body.
pub(crate) fn error_body(code: &str, message: &str) -> String {
    json!({"message": message, "errorCode": code}).to_string()
}

/// The body of a `Fail` misbehaviour on a TCM route.
pub(crate) fn injected_failure_body(status: u16, code: Option<&str>) -> String {
    let code = code.map_or_else(|| format!("E_{status}_TCM_INJECTED"), str::to_string);
    error_body(
        &code,
        "The server could not complete the request (injected failure).",
    )
}

/// The body of a `RateLimit` misbehaviour (not HTML) on a TCM route.
pub(crate) fn rate_limited_body(retry_after: Option<u64>) -> String {
    let message = match retry_after {
        Some(secs) => format!("Too many requests; retry after {secs} seconds."),
        None => "Too many requests.".to_string(),
    };
    error_body("E_429_TCM_TOO_MANY_REQUESTS", &message)
}

/// Serves `call` on `endpoint` (counting it in the stats).
pub(crate) fn answer(st: &mut State, endpoint: &Endpoint, call: &Call<'_>) -> Answer {
    let login = endpoint.is_login() && *call.method == Method::POST;
    match serve(st, endpoint, call) {
        Ok(answer) => answer,
        Err(err) => {
            if login {
                st.stats.cloud_manager_sign_in_failures += 1;
            }
            err.answer(st)
        }
    }
}

fn serve(st: &mut State, endpoint: &Endpoint, call: &Call<'_>) -> Result<Answer, TcmError> {
    let body = match call.body {
        Body::Read(body) => body,
        Body::TooLarge(limit) => {
            return Err(TcmError::new(
                413,
                "PAYLOAD_TOO_LARGE",
                format!("The request body exceeds {limit} bytes."),
            ))
        }
        Body::Broken => return Err(TcmError::bad_request("The request body could not be read.")),
    };
    let method = endpoint.method().ok_or_else(TcmError::not_found)?;
    if *call.method != method {
        return Err(TcmError::method_not_allowed(call.method));
    }
    let (tenant, scope) = match endpoint {
        Endpoint::PatLogin | Endpoint::JwtLogin => {
            return cloud_manager_login::login(st, endpoint, call, body)
        }
        Endpoint::SignOut => return cloud_manager_login::sign_out(st, call),
        Endpoint::Sites(t) => (t, SITES_SCOPE),
        Endpoint::Users(t) => (t, USERS_SCOPE),
        Endpoint::ActivityLog(t) => (t, ACTIVITY_LOG_SCOPE),
        Endpoint::Unknown => return Err(TcmError::not_found()),
    };
    let session = authorize(st, call, tenant, scope)?;
    st.stats.cloud_manager_requests += 1;
    let listed = match endpoint {
        Endpoint::Sites(_) => list_sites(st, &session, call.query)?,
        Endpoint::Users(_) => list_users(st, call.query)?,
        _ => list_activity_log(st, call.query)?,
    };
    Ok(Answer::json(200, &listed))
}

/// The live session of `call`, if its tenant is `tenant` and (for a UAT session) it holds
/// `scope`.
fn authorize(
    st: &mut State,
    call: &Call<'_>,
    tenant: &str,
    scope: &str,
) -> Result<TcmSession, TcmError> {
    let token = call.session_token.ok_or_else(TcmError::no_session_token)?;
    let session = st
        .tcm_sessions
        .live(token, call.now)
        .ok_or_else(TcmError::invalid_session)?;
    if tenant != session.tenant_id {
        return Err(TcmError::new(
            403,
            "TENANT_MISMATCH",
            format!("The session belongs to another tenant than '{tenant}'."),
        ));
    }
    if let Some(granted) = &session.scopes {
        if !scopes::allows(granted, &[scope]) {
            return Err(TcmError::new(
                403,
                "MISSING_SCOPE",
                format!(
                    "The unified access token of this session does not grant the scope '{scope}' this method needs."
                ),
            ));
        }
    }
    Ok(session)
}

// ---------------------------------------------------------------------------------------------
// Lists

/// A list's query parameters: only `allowed` ones, each at most once.
struct Query(BTreeMap<String, String>);

impl Query {
    fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Query, TcmError> {
        let mut params = BTreeMap::new();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if !allowed.contains(&key.as_ref()) {
                return Err(TcmError::bad_request(format!(
                    "Unknown query parameter '{key}': this method takes {}.",
                    allowed.join(", ")
                )));
            }
            if params.insert(key.to_string(), value.into_owned()).is_some() {
                return Err(TcmError::bad_request(format!(
                    "Query parameter '{key}' is given more than once."
                )));
            }
        }
        Ok(Query(params))
    }

    /// An integer parameter from 1 to `max` (`default` when absent).
    fn number(&self, name: &str, default: usize, max: usize) -> Result<usize, TcmError> {
        let Some(text) = self.0.get(name) else {
            return Ok(default);
        };
        let digits =
            !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
        match text.parse::<usize>() {
            Ok(n) if digits && (1..=max).contains(&n) => Ok(n),
            _ if max == usize::MAX => Err(TcmError::bad_request(format!(
                "{name} must be an integer of at least 1, not '{text}'."
            ))),
            _ => Err(TcmError::bad_request(format!(
                "{name} must be an integer from 1 to {max}, not '{text}'."
            ))),
        }
    }

    /// The offset a `pageToken` stands for in the list `list` of `len` items (0 without one;
    /// an empty token is none).
    fn offset(&self, list: &str, len: usize) -> Result<usize, TcmError> {
        match self.0.get("pageToken").map(String::as_str) {
            None | Some("") => Ok(0),
            Some(token) => read_token(token, list)
                .filter(|n| (1..=len).contains(n))
                .ok_or_else(|| TcmError::invalid_page_token("pageToken")),
        }
    }
}

/// The token of the page of `list` that starts at `offset`.
fn page_token(list: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("tcm:{list}:{offset}"))
}

fn read_token(token: &str, list: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    text.strip_prefix("tcm:")?
        .strip_prefix(list)?
        .strip_prefix(':')?
        .parse()
        .ok()
}

/// One page of `items` by token: `{key: [...], "nextPageToken"?}`.
fn token_page(key: &str, items: Vec<Value>, query: &Query) -> Result<Value, TcmError> {
    let size = query.number("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let start = query.offset(key, items.len())?;
    let end = start.saturating_add(size).min(items.len());
    let mut page = serde_json::Map::new();
    page.insert(key.to_string(), Value::Array(items[start..end].to_vec()));
    if end < items.len() {
        page.insert("nextPageToken".into(), json!(page_token(key, end)));
    }
    Ok(Value::Object(page))
}

fn list_sites(st: &State, session: &TcmSession, query: Option<&str>) -> Result<Value, TcmError> {
    let query = Query::parse(query, &["pageNumber", "pageSize"])?;
    let size = query.number("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let number = query.number("pageNumber", 1, usize::MAX)?;
    let sites: Vec<Value> = st
        .sites
        .values()
        .skip((number - 1).saturating_mul(size))
        .take(size)
        .map(|site| {
            json!({
                "siteUUID": site.luid,
                "name": site.name,
                "contentUrl": site.content_url,
                "tenantId": session.tenant_id,
                "podLocation": POD_LOCATION,
                "status": "ACTIVE",
            })
        })
        .collect();
    Ok(json!({ "sites": sites }))
}

fn list_users(st: &State, query: Option<&str>) -> Result<Value, TcmError> {
    let query = Query::parse(query, &["pageSize", "pageToken"])?;
    let users = st
        .tenant
        .users
        .values()
        .map(|user| {
            let site_roles: Vec<Value> = st
                .sites
                .values()
                .filter(|site| site.users.contains_key(&user.email))
                .map(|site| json!({"siteId": site.luid, "siteRole": "Explorer"}))
                .collect();
            json!({
                "userId": user.id,
                "email": user.email,
                "displayName": user.display_name(),
                "cloudAdmin": user.cloud_admin,
                "siteRoles": site_roles,
            })
        })
        .collect();
    token_page("users", users, &query)
}

fn list_activity_log(st: &State, query: Option<&str>) -> Result<Value, TcmError> {
    let query = Query::parse(query, &["pageSize", "pageToken", "startTime", "endTime"])?;
    let files = st
        .tenant
        .activity_log
        .iter()
        .map(|f| json!({"path": f.path, "size": f.size}))
        .collect();
    token_page("files", files, &query)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn paths() {
        let t = "0d2c6a9e-1111-4222-8333-944455556666";
        assert_eq!(
            Endpoint::parse("/api/v1/pat/login"),
            Some(Endpoint::PatLogin)
        );
        assert_eq!(
            Endpoint::parse("/api/v1/jwt/login"),
            Some(Endpoint::JwtLogin)
        );
        assert_eq!(Endpoint::parse("/api/v2/sessions"), Some(Endpoint::SignOut));
        assert_eq!(
            Endpoint::parse(&format!("/api/v1/tenants/{t}/sites")),
            Some(Endpoint::Sites(t.into()))
        );
        assert_eq!(
            Endpoint::parse(&format!("/api/v1/tenants/{t}/activitylog")),
            Some(Endpoint::ActivityLog(t.into()))
        );
        for unknown in [
            "/api/v1/tenants",
            "/api/v1/tenants/",
            "/api/v1/tenants//sites",
            "/api/v1/tenants/x/sites/y",
            "/api/v1/pat/logout",
            "/api/v1/uat-configurations",
            "/api/v2/sessions/current",
        ] {
            assert_eq!(
                Endpoint::parse(unknown),
                Some(Endpoint::Unknown),
                "{unknown}"
            );
        }
        for not_ours in [
            "/api/v1/vizql-data-service/query-datasource",
            "/api/v1/other",
            "/api/3.28/auth/signin",
            "/api/-/pulse/definitions",
            "/api/v1/patx/login",
        ] {
            assert_eq!(Endpoint::parse(not_ours), None, "{not_ours}");
        }
    }

    #[test]
    fn route_names() {
        assert!(Endpoint::PatLogin.route_names().contains(&"tcm/login"));
        assert!(Endpoint::JwtLogin.route_names().contains(&"tcm/login"));
        assert!(!Endpoint::JwtLogin.route_names().contains(&"tcm"));
        assert!(Endpoint::Users("t".into()).route_names().contains(&"tcm"));
        assert!(!Endpoint::Users("t".into()).route_names().contains(&"users"));
    }

    #[test]
    fn query_rules() {
        let q = Query::parse(Some("pageSize=5&pageToken="), &["pageSize", "pageToken"]).unwrap();
        assert_eq!(q.number("pageSize", 100, 1000), Ok(5));
        assert_eq!(q.offset("users", 10), Ok(0));
        for bad in [
            "pageSize=0",
            "pageSize=1001",
            "pageSize=x",
            "pageSize=-1",
            "pageSize=",
        ] {
            let q = Query::parse(Some(bad), &["pageSize"]).unwrap();
            assert_eq!(
                q.number("pageSize", 100, 1000).map_err(|e| e.status),
                Err(400),
                "{bad}"
            );
        }
        assert!(Query::parse(Some("pageSize=1&pageSize=2"), &["pageSize"]).is_err());
        assert!(Query::parse(Some("maxResults=2"), &["pageSize"]).is_err());
        let token = page_token("users", 4);
        let q = Query::parse(Some(&format!("pageToken={token}")), &["pageToken"]).unwrap();
        assert_eq!(q.offset("users", 10), Ok(4));
        assert!(q.offset("files", 10).is_err(), "another list's token");
        assert!(q.offset("users", 3).is_err(), "past the end");
        let q = Query::parse(Some("pageToken=bm9wZQ"), &["pageToken"]).unwrap();
        assert!(q.offset("users", 10).is_err());
    }
}
