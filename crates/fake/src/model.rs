//! The fake's plain data: the public types of its API ([`AppSecret`], [`PatSecret`],
//! [`AudienceRule`], [`Stats`], [`Misbehaviour`], [`ContentIds`]) and the records of its world
//! (a site and what it holds: users, apps, PATs, and content: projects, workbooks, views, data
//! sources). Data only; of the crate it uses nothing but [`PublicKey`], so that every other
//! module can use it.

use std::collections::BTreeMap;
use std::fmt;

use super::jwt_keys::PublicKey;

/// A connected app's client id and one of its secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret {
    /// The client id (JWT `iss`).
    pub client_id: String,
    /// The secret id (JWT header `kid`).
    pub secret_id: String,
    /// The secret value (the HS256 key).
    pub secret_value: String,
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppSecret")
            .field("client_id", &self.client_id)
            .field("secret_id", &self.secret_id)
            .field("secret_value", &"<redacted>")
            .finish()
    }
}

/// How the fake checks `aud` for EAS JWTs: Tableau Cloud wants `"tableau:<site-luid>"`, Tableau Server `"tableau"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudienceRule {
    /// `aud` must be the string `"tableau:<site-luid>"` (the LUID of the sign-in's site).
    Cloud,
    /// `aud` must be the string `"tableau"`.
    Server,
}

/// A personal access token.
#[derive(Clone, PartialEq, Eq)]
pub struct PatSecret {
    /// The token name.
    pub name: String,
    /// The token secret.
    pub secret: String,
}

impl fmt::Debug for PatSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PatSecret")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Counters since start (or the last [`FakeTableau::reset_stats`](crate::FakeTableau::reset_stats)).
///
/// The per-route counters (`sign_in_attempts`, `sign_outs`, `server_info`,
/// `sessions_current`, `workbooks`, `switch_site`, and the content lists `sites`, `users`,
/// `projects`, `datasources`, `views`) count every request on that route with the
/// route's method, whatever the answer (misbehaviours included); `metadata_api`, `vds` and
/// `pulse` count every request under those APIs' paths. `sign_ins` and
/// `sign_in_failures` count the sign-ins that Tableau's rules accepted / rejected (a sign-in
/// answered by a misbehaviour other than `Truncate` is neither). `rejections` counts every
/// Tableau error the rules produced, by code (`"401001/16"` with a JWT sub-code).
///
/// Tableau Cloud Manager has counters of its own (`cloud_manager_*`, see `cloud_manager.rs`):
/// its logins, sessions and calls never count in `sign_in_attempts`, `sign_ins`,
/// `sign_in_failures`, `sign_outs` or `active_sessions`. Its errors count in `rejections` under
/// their `errorCode` (`"E_401_TCM_INVALID_CREDENTIALS"`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// `POST auth/signin` requests.
    pub sign_in_attempts: u64,
    /// Sign-ins that succeeded (a session was created).
    pub sign_ins: u64,
    /// Sign-ins rejected by the rules.
    pub sign_in_failures: u64,
    /// `POST auth/signout` requests.
    pub sign_outs: u64,
    /// `GET serverinfo` requests.
    pub server_info: u64,
    /// `GET sessions/current` requests.
    pub sessions_current: u64,
    /// `GET sites/{luid}/workbooks` and `GET sites/{luid}/workbooks/{luid}` requests.
    pub workbooks: u64,
    /// `GET sites` and `GET sites/{luid, name or content URL}` requests.
    pub sites: u64,
    /// `GET sites/{luid}/users` requests.
    pub users: u64,
    /// `GET sites/{luid}/projects` requests.
    pub projects: u64,
    /// `GET sites/{luid}/datasources` and `GET sites/{luid}/datasources/{luid}` requests.
    pub datasources: u64,
    /// `GET sites/{luid}/views` requests.
    pub views: u64,
    /// `POST auth/switchSite` requests.
    pub switch_site: u64,
    /// Metadata API requests (`/api/metadata/graphql`, any method).
    pub metadata_api: u64,
    /// VizQL Data Service requests (`/api/v1/vizql-data-service/...`, any endpoint and method).
    pub vds: u64,
    /// Pulse requests (`/api/-/pulse/...`, any path and method).
    pub pulse: u64,
    /// Every HTTP request, any path and method.
    pub requests: u64,
    /// Live sessions when the stats were taken (not reset by `reset_stats`).
    pub active_sessions: u64,
    /// Tableau errors answered, by `code` or `code/sub-code`.
    pub rejections: BTreeMap<String, u64>,
    /// TLS connections whose handshake failed or timed out (always 0 without TLS).
    pub tls_handshake_failures: u64,
    /// Tableau Cloud Manager: `POST /api/v1/pat/login` and `POST /api/v1/jwt/login` requests,
    /// whatever the answer (misbehaviours included).
    pub cloud_manager_sign_in_attempts: u64,
    /// Tableau Cloud Manager logins that succeeded (a TCM session was created).
    pub cloud_manager_sign_ins: u64,
    /// Tableau Cloud Manager logins rejected by the rules (400, 401, 403).
    pub cloud_manager_sign_in_failures: u64,
    /// Tableau Cloud Manager sign-outs (`DELETE /api/v2/sessions`) that ended a live session.
    pub cloud_manager_sign_outs: u64,
    /// Tableau Cloud Manager calls other than login and sign-out that passed the session,
    /// tenant and scope checks and were answered by the rules (200, or 400 for bad paging).
    pub cloud_manager_requests: u64,
    /// Live Tableau Cloud Manager sessions when the stats were taken (not reset by
    /// `reset_stats`).
    pub active_cloud_manager_sessions: u64,
}

/// An answer that is not Tableau's, queued with [`FakeTableau::misbehave`](crate::FakeTableau::misbehave).
///
/// A misbehaviour is taken before normal handling (so, except for `Truncate`, the request has
/// no effect on sessions); the route's delay applies to it too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// A Tableau error body with this status; `code` defaults to `status * 1000`
    /// (e.g. `"503000"`). Statuses outside 200..=599 become 500.
    Fail {
        /// HTTP status.
        status: u16,
        /// Tableau error code.
        code: Option<String>,
    },
    /// Status 429, with `Retry-After: N` (seconds) when `retry_after` is `Some(N)`. The body
    /// is an HTML page when `html`, else a Tableau 429000 error whose detail says
    /// "retry after M minutes" (M = N / 60 rounded up) when `retry_after` is `Some`.
    RateLimit {
        /// Seconds for the `Retry-After` header.
        retry_after: Option<u64>,
        /// HTML body instead of a Tableau error.
        html: bool,
    },
    /// An SSO login HTML page with this status (`text/html`).
    Html {
        /// HTTP status.
        status: u16,
    },
    /// The normal answer (with its effects, e.g. a new session), its body cut in half;
    /// `Content-Length` is the cut length.
    Truncate,
    /// An empty body with this status (the Content-Type the request asked for).
    Empty {
        /// HTTP status.
        status: u16,
    },
    /// A redirect: this status with a `Location` header and an empty body (no Content-Type).
    /// Meant for 301, 302, 303, 307 and 308; statuses outside 300..=399 become 302. A
    /// `location` that is not a valid header value makes the answer a bare 500.
    Redirect {
        /// HTTP status.
        status: u16,
        /// The `Location` header's value, sent as is.
        location: String,
    },
    /// Status 200, the Content-Type the request asked for, and a body of exactly `bytes`
    /// bytes that starts like a Tableau answer (XML declaration and `tsResponse`, or a JSON
    /// object) and is padded with spaces (inside a comment for XML); it is well-formed when
    /// `bytes` leaves room for the end. For testing a client's body-size limit.
    Oversize {
        /// Body length in bytes.
        bytes: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// The world's records

/// A user of one site (user LUIDs are per site, as on Tableau).
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub luid: String,
    pub name: String,
    pub password: Option<String>,
}

/// A direct-trust connected app registered on one site.
#[derive(Clone, Debug)]
pub(crate) struct App {
    /// (secret id, secret value); at most two, as on Tableau.
    pub secrets: Vec<(String, String)>,
    pub enabled: bool,
    pub on_demand_access: bool,
}

/// An external authorization server (connected app with OAuth 2.0 trust) of one site.
#[derive(Clone, Debug)]
pub(crate) struct Eas {
    /// Every key registered for the issuer (the JWT `kid` does not pick one).
    pub keys: Vec<PublicKey>,
    pub audience: AudienceRule,
    /// The `alg` values accepted: only what Tableau documents (RS256) unless a test opts in
    /// to more ([`Setup::allow_eas_algorithms`](crate::Setup::allow_eas_algorithms)).
    pub algorithms: Vec<String>,
}

/// A unified-access-token configuration of one site.
#[derive(Clone, Debug)]
pub(crate) struct Uat {
    /// An RSA key (UATs are RS256).
    pub key: PublicKey,
    /// The value the claim `https://tableau.com/tenantId` must have.
    pub tenant_id: String,
    /// The claim that names the user.
    pub username_claim: String,
}

/// A personal access token.
#[derive(Clone, Debug)]
pub(crate) struct Pat {
    pub username: String,
    pub secret: String,
}

/// The LUIDs of what a site holds, in the order the REST lists give them (users by name,
/// content in creation order); from [`FakeTableau::content_ids`](crate::FakeTableau::content_ids).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentIds {
    /// The site's own LUID.
    pub site: String,
    /// Users, by username.
    pub users: Vec<String>,
    pub projects: Vec<String>,
    pub workbooks: Vec<String>,
    /// Every view of every workbook, workbook by workbook.
    pub views: Vec<String>,
    /// Published data sources.
    pub datasources: Vec<String>,
}

/// A project.
#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub luid: String,
    pub name: String,
    pub description: String,
    /// `None` for a top-level project.
    pub parent_luid: Option<String>,
    pub created_at: String,
}

/// A workbook.
#[derive(Clone, Debug)]
pub(crate) struct Workbook {
    pub luid: String,
    pub name: String,
    pub content_url: String,
    pub project_luid: String,
    pub created_at: String,
}

/// A view (a sheet of a published workbook).
#[derive(Clone, Debug)]
pub(crate) struct View {
    pub luid: String,
    pub name: String,
    /// `{workbook content URL}/sheets/{view URL name}`, as Tableau gives it.
    pub content_url: String,
    pub view_url_name: String,
    pub workbook_luid: String,
    pub project_luid: String,
    pub created_at: String,
}

/// The LUID of the published data source "Superstore Datasource" on `"mysite"`: the same in
/// every instance, for code that needs a data source to name. It is also the one VizQL Data
/// Service and the Metadata API serve.
pub const DEFAULT_DATASOURCE_LUID: &str = "5b8e3c2a-7f14-4d6e-9a0b-1c2d3e4f5a6b";
/// Its name.
pub(crate) const DEFAULT_DATASOURCE_NAME: &str = "Superstore Datasource";

/// A published data source.
#[derive(Clone, Debug)]
pub(crate) struct Datasource {
    pub luid: String,
    pub name: String,
    pub content_url: String,
    /// The connection type, e.g. `"hyper"`, `"postgres"`.
    pub kind: String,
    pub has_extracts: bool,
    pub is_certified: bool,
    pub project_luid: String,
    pub created_at: String,
}

/// What a site holds besides its users, in creation order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Content {
    pub projects: Vec<Project>,
    pub workbooks: Vec<Workbook>,
    pub views: Vec<View>,
    pub datasources: Vec<Datasource>,
}

impl Content {
    pub fn project(&self, luid: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.luid == luid)
    }
}

/// One site.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    pub luid: String,
    pub content_url: String,
    pub name: String,
    /// By username (case-sensitive).
    pub users: BTreeMap<String, User>,
    /// By client id.
    pub apps: BTreeMap<String, App>,
    /// External authorization servers, by issuer.
    pub eas: BTreeMap<String, Eas>,
    /// Unified-access-token configurations, by issuer.
    pub uat: BTreeMap<String, Uat>,
    /// By token name.
    pub pats: BTreeMap<String, Pat>,
    pub content: Content,
}

impl Site {
    pub fn user_by_luid(&self, luid: &str) -> Option<&User> {
        self.users.values().find(|u| u.luid == luid)
    }

    /// The LUIDs of everything the site holds.
    pub fn content_ids(&self) -> ContentIds {
        let luids = |it: &mut dyn Iterator<Item = &String>| it.cloned().collect::<Vec<_>>();
        ContentIds {
            site: self.luid.clone(),
            users: luids(&mut self.users.values().map(|u| &u.luid)),
            projects: luids(&mut self.content.projects.iter().map(|p| &p.luid)),
            workbooks: luids(&mut self.content.workbooks.iter().map(|w| &w.luid)),
            views: luids(&mut self.content.views.iter().map(|v| &v.luid)),
            datasources: luids(&mut self.content.datasources.iter().map(|d| &d.luid)),
        }
    }
}
