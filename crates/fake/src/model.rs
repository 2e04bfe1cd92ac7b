//! The fake's plain data: the public types of its API ([`AppSecret`], [`PatSecret`],
//! [`AudienceRule`], [`Stats`], [`Misbehaviour`]) and the records of its world (a site and what
//! it holds). Data only; of the crate it uses nothing but [`PublicKey`], so that every other
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
/// `sessions_current`, `workbooks`, `switch_site`) count every request on that route with the
/// route's method, whatever the answer (misbehaviours included). `sign_ins` and
/// `sign_in_failures` count the sign-ins that Tableau's rules accepted / rejected (a sign-in
/// answered by a misbehaviour other than `Truncate` is neither). `rejections` counts every
/// Tableau error the rules produced, by code (`"401001/16"` with a JWT sub-code).
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
    /// `GET sites/{luid}/workbooks` requests.
    pub workbooks: u64,
    /// `POST auth/switchSite` requests.
    pub switch_site: u64,
    /// Every HTTP request, any path and method.
    pub requests: u64,
    /// Live sessions when the stats were taken (not reset by `reset_stats`).
    pub active_sessions: u64,
    /// Tableau errors answered, by `code` or `code/sub-code`.
    pub rejections: BTreeMap<String, u64>,
    /// TLS connections whose handshake failed or timed out (always 0 without TLS).
    pub tls_handshake_failures: u64,
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

/// A workbook listed by `GET sites/{luid}/workbooks`.
#[derive(Clone, Debug)]
pub(crate) struct Workbook {
    pub luid: String,
    pub name: String,
    pub content_url: String,
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
    pub project_luid: String,
    pub workbooks: Vec<Workbook>,
}

impl Site {
    pub fn user_by_luid(&self, luid: &str) -> Option<&User> {
        self.users.values().find(|u| u.luid == luid)
    }
}
