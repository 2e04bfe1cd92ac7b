//! `FakeTableau`: an in-process stand-in for the Tableau REST API server, on 127.0.0.1, for the
//! library's Rust and Python tests.
//!
//! It is strict on purpose: a lenient fake hides client bugs. It serves HTTP/1.1 (keep-alive)
//! on its own thread with its own current-thread tokio runtime, so the client under test may
//! have its own runtime (and may fork). [`FakeTableau::start_with`] serves it over TLS
//! instead, optionally requiring a client certificate (see TLS below).
//!
//! # Routes (under `/api/{version}/`)
//!
//! | route | auth | answer |
//! |---|---|---|
//! | `POST auth/signin` | none | 200 credentials block, new session |
//! | `POST auth/signout` | `X-Tableau-Auth` | 204, session ended |
//! | `POST auth/switchSite` | `X-Tableau-Auth` | 200 credentials block; the old session ends |
//! | `GET serverinfo` (or `serverInfo`) | none | product version, `restApiVersion` = the max version |
//! | `GET sessions/current` | `X-Tableau-Auth` | site and user of the session |
//! | `GET sites` | `X-Tableau-Auth` | the sites whose users include the session's username, paged |
//! | `GET sites/{id}` (`?key=name`, `?key=contentUrl`) | `X-Tableau-Auth` | the session's site |
//! | `GET sites/{site-luid}/users` | `X-Tableau-Auth` | the site's users, paged |
//! | `GET sites/{site-luid}/projects` | `X-Tableau-Auth` | the site's projects, paged |
//! | `GET sites/{site-luid}/workbooks[/{luid}]` | `X-Tableau-Auth` | the site's workbooks, paged (or one) |
//! | `GET sites/{site-luid}/views` | `X-Tableau-Auth` | every view of the site's workbooks, paged |
//! | `GET sites/{site-luid}/datasources[/{luid}]` | `X-Tableau-Auth` | the published data sources, paged (or one) |
//!
//! # The other APIs on the same session
//!
//! | path | auth | module |
//! |---|---|---|
//! | `POST /api/metadata/graphql` | `X-Tableau-Auth`; JWT: `tableau:content:read` | `metadata.rs` (executor in `graphql.rs`) |
//! | `POST /api/v1/vizql-data-service/{read-metadata,query-datasource,get-datasource-model}` | `X-Tableau-Auth`; JWT: `tableau:viz_data_service:read` | `vds.rs` |
//! | `GET /api/v1/vizql-data-service/simple-request` | none | `vds.rs` |
//! | `/api/-/pulse/{definitions, definitions:batchGet, definitions/{id}/metrics, metrics:batchGet}` | `X-Tableau-Auth`; JWT: `tableau:insight_definitions_metrics:read` / `tableau:insight_metrics:read` | `pulse.rs` |
//!
//! # Tableau Cloud Manager (TCM), on the same server
//!
//! | path | auth | module |
//! |---|---|---|
//! | `POST /api/v1/pat/login`, `POST /api/v1/jwt/login` | a TCM PAT secret / a unified access token in `{"token": …}` | `cloud_manager_login.rs` |
//! | `DELETE /api/v2/sessions` | `x-tableau-session-token` | `cloud_manager_login.rs` |
//! | `GET /api/v1/tenants/{tenantId}/{sites, users, activitylog}` | `x-tableau-session-token`; UAT: `tableau:tcm_sites:read`, `tableau:tcm_users:read`, `tableau:tcm_activity_log:read` | `cloud_manager.rs` |
//!
//! One tenant ([`FakeTableau::tenant_id`]) whose sites are the fake's sites, with users of its
//! own (only cloud administrators may log in), TCM PATs and UAT configurations
//! ([`Setup::add_cloud_manager_user`], [`Setup::add_cloud_manager_pat`],
//! [`Setup::add_cloud_manager_uat_configuration`]; the data in `tenant.rs`). TCM sessions are
//! not site sessions: a TCM token is unknown to the site API and the reverse. They live the
//! session ttl, else 4 hours, and [`FakeTableau::expire_all_sessions`] ends them too. Errors
//! are JSON `{"message", "errorCode"}`, misbehaviours included; misbehaviours and delays pick
//! TCM routes by the names `"tcm/login"` (both logins) and `"tcm"` (every other TCM call). TCM
//! counts in its own [`Stats`] (`cloud_manager_*`), never in the site's sign-in counters.
//!
//! Each module documents its wire shapes, errors and the grade of each (from Tableau's docs,
//! from Tableau's own code, or guessed). Settings: [`Setup::set_metadata_api_enabled`] and
//! the other `Setup::set_metadata_*`, `set_vds_*` and `set_pulse_*` methods;
//! [`FakeTableau::vds_datasource_id`]. Counted in [`Stats::metadata_api`], [`Stats::vds`],
//! [`Stats::pulse`].
//!
//! Bodies are XML unless the request's `Accept` contains `application/json` (then JSON, with
//! no `tsResponse` wrapper). Request bodies are XML, matched by local name under any
//! namespace, unless `Content-Type` is `application/json`.
//!
//! # Rules enforced
//!
//! * Version: `{version}` must be `MAJOR.MINOR` digits, at least 2.0 and at most the max
//!   (default 3.28, [`FakeTableau::set_max_api_version`]); otherwise 404 / 404003
//!   "Unknown resource '/{v}/…'". `isUat` on a path version before 3.27 is a schema
//!   error, 400 / 400000; PAT and `jwt` sign-ins are accepted at any version (TSC signs in
//!   at 2.4 with them).
//! * Routing: unknown path 404 / 404000; known path, wrong method 405 / 405000. Bodies over
//!   1 MiB: 413 / 413000 (checked first).
//! * Sign-in body: well-formed XML (no DOCTYPE, no unknown entity, no duplicate attribute),
//!   root `tsRequest`, exactly one `credentials` with exactly one `site` carrying `contentUrl`
//!   (an absent `contentUrl` is an error; `""` is the default site); JSON values of the
//!   documented types. Otherwise 400 / 400000.
//! * Sign-in: unknown site contentUrl → 401 / 401001. Exactly one complete method: `jwt`;
//!   `personalAccessTokenName` + `personalAccessTokenSecret`; `name` + `password`. None,
//!   several or an incomplete one → 401001. A `jwt` is checked by the rules below (with
//!   `isUat="true"`: as a unified access token). Wrong PAT or password, or a user without a
//!   password → 401001.
//!   `<user id>` (impersonation) must be a user LUID of the site, else 401001.
//! * One session per PAT: a PAT sign-in ends the PAT's previous session (its token then
//!   gets 401002).
//! * Authenticated calls: no `X-Tableau-Auth` → 401 / 401000; unknown, expired or
//!   signed-out token → 401 / 401002 (sign-out included). A session dies `ttl` after its
//!   creation ([`FakeTableau::set_session_ttl`]) or by [`FakeTableau::expire_all_sessions`].
//! * Content (sites, users, projects, workbooks, views, data sources): a JWT session needs
//!   one of the endpoint's scopes, else 401 / 401002 (the table is in `scopes.rs`:
//!   `tableau:content:read` opens all but users, which need `tableau:users:read`; PAT and
//!   password sessions are not limited). A site-scoped path's site LUID must be the token's
//!   site, else 403 / 403000 ("User '…' is authenticated for site '…' and may not access or
//!   modify resources on site '…'"); so must the site of `GET sites/{id}` (unknown: 404000).
//!   An unknown workbook or data source LUID is 404 / 404006, 404011.
//! * Paging (every list): `pageSize` 1 to 1000 (default 100), `pageNumber` from 1 (default
//!   1). A page size that is not an integer or is under 1 is 400 / 400007, over 1000 is 403 /
//!   403014; a bad page number is 400 / 400006. A page past the end is an empty list with the
//!   same `totalAvailable`. Pagination numbers are strings in JSON.
//! * Switch site: to the current site → 403 / 403070; to an unknown site or one where the
//!   user (by username) is not a member → 401 / 401000 (one answer for both); the old
//!   session survives a failed switch, and ends on a successful one.
//!
//! # Sign-in JWTs: connected apps (direct trust, OAuth 2.0 trust) and unified access tokens
//!
//! Each failure is 401 / 401001, summary "Signin Error", detail
//! "Error signing in to Tableau Server (N)", counted in [`Stats::rejections`] as `"401001/N"`.
//! The claim `iss` and the request's `isUat` pick the rules: with `isUat="true"`, a UAT
//! configuration of the site ([`Setup::add_uat_configuration`]); else a direct-trust
//! app's client id ([`Setup::add_connected_app`]; HS256); else an external authorization
//! server's issuer ([`Setup::add_external_authorization_server`]). Checked in this order
//! (the full table is in `jwt_rules.rs`):
//!
//! | N | when |
//! |---|---|
//! | 10084 | not three unpadded base64url parts; header or payload not a JSON object; claim `iss` not a string |
//! | 126 | claim `iss` missing or not an issuer of the kind above on the site (a UAT issuer without `isUat`, an EAS or app issuer with `isUat`, too) |
//! | 10084 | `alg`: direct trust `HS256`; EAS `RS256` (Tableau documents no other), or one of `RS384` `RS512` `PS256` `PS384` `PS512` `ES256` `ES384` `EdDSA` after [`Setup::allow_eas_algorithms`]; UAT `RS256`. Header `iss` present and ≠ claim `iss` |
//! | 126 | direct trust: the app is disabled |
//! | 10083 | header `kid` missing |
//! | 127 | direct trust: `kid` is not a secret of the app; or the HMAC-SHA256 signature does not verify with it |
//! | 10083 | EAS: no key of the issuer verifies the signature (`kid` does not pick the key); UAT: the configured key does not |
//! | 10084 | `aud`: direct trust `"tableau"`; EAS `"tableau:<site-luid>"` ([`AudienceRule::Cloud`]) or `"tableau"` ([`AudienceRule::Server`]); UAT: not checked. UAT: `https://tableau.com/tenantId` ≠ the configured tenant id |
//! | 16 | `exp` missing, not a number, not in the future, or more than 600 s ahead; `nbf` more than 5 s ahead |
//! | 10084 | `nbf` or `iat` not a number |
//! | 10084 / 10091 | `jti` missing or not a string / already seen by this server, any kind (recorded once the checks above pass) |
//! | 10099 / 10084 | `scp` missing / not an array of strings (also `https://tableau.com/groups` when present) |
//! | 10084 / 5 | `sub` (UAT: the configured username claim) not a string / not a user of the site (case-sensitive) |
//! | 67 | `sub` unknown, claim `https://tableau.com/oda` is `true` or `"true"`, and the direct-trust app does not allow on-demand access (if it does, the user is created), or the JWT is an EAS one. UATs ignore the claim (5) |
//!
//! Undocumented answers, chosen here: a signature no EAS / UAT key verifies is 10083 (Tableau
//! reports JWKS key problems as 10083 / 10085); an RSA key under 2048 bits (Tableau: 10088) is
//! refused at registration. `isUat` on a path version before 3.27 is 400000 (see Version).
//! [`FakeTableau::last_jwt_claims`] keeps the payload of the last JWT that passed.
//!
//! # Defaults
//!
//! Sites `"mysite"` ("My Site") and `""` ("Default"); user `me@example.com` (no password) and
//! `admin` ([`FakeTableau::default_password`]) on both; on each, four projects, three
//! workbooks (`"Superstore"`, `"Regional Sales"`, `Q&A <Draft> "v2"`) with six views and two
//! published data sources ([`Setup::add_site`]); the default site `""` has
//! [`DEFAULT_SITE_WORKBOOKS`] workbooks in all (the rest generated, two views each), so that
//! paging matters; `"mysite"` has a third published data source, "Superstore Datasource",
//! whose LUID is always [`DEFAULT_DATASOURCE_LUID`] ([`FakeTableau::datasource_id`]); the default connected app on both
//! (enabled, no on-demand access); PAT `fake-pat` for `me@example.com` on `mysite`. All
//! secrets are random per instance. `estimatedTimeToExpiration` is `"4:00:00"`. Tableau Cloud
//! Manager: a tenant (random id) with user `cloudadmin@example.com`, a cloud administrator,
//! and a TCM PAT of that user ([`FakeTableau::cloud_manager_pat_secret`]); no UAT
//! configuration. More sites,
//! users, apps, keys and PATs are registered with [`FakeTableau::configure`] ([`Setup`]).
//!
//! # TLS
//!
//! With [`FakeOptions::tls`], the fake makes a fresh CA at start (ECDSA P-256, PEM from
//! [`FakeTableau::ca_pem`]) and a server certificate it issues for `localhost` and IP
//! `127.0.0.1`, and serves HTTPS (TLS 1.2 / 1.3, ALPN `http/1.1`); [`FakeTableau::url`] is then
//! `https://127.0.0.1:PORT`. With [`FakeOptions::require_client_cert`] (which implies `tls`),
//! a client must present a certificate issued by that CA; one is made at start
//! ([`FakeTableau::client_identity_pem`]). A failed TLS handshake (untrusted server
//! certificate, missing or foreign client certificate, plain HTTP on the TLS port, no
//! handshake within 30 s) closes that connection only and counts in
//! [`Stats::tls_handshake_failures`]. Routes and rules are the same as over plain HTTP.
//!
//! # Test knobs
//!
//! [`FakeTableau::misbehave`] queues answers that are not Tableau's (errors, 429s, HTML, cut,
//! empty or oversized bodies, redirects); [`FakeTableau::set_delay`] slows a route without blocking the others;
//! [`FakeTableau::stats`] counts everything.

mod apis;
mod clock;
mod cloud_manager;
mod cloud_manager_login;
mod content;
mod content_bodies;
mod content_routes;
mod graphql;
mod jwt_keys;
mod jwt_rules;
mod metadata;
mod model;
mod paging;
mod pulse;
mod random;
mod requests;
mod responses;
mod scopes;
mod server;
mod setup;
mod state;
mod tenant;
mod tls;
mod vds;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

pub use metadata::BackfillWarning;
use model::DEFAULT_DATASOURCE_NAME;
pub use model::{
    AppSecret, AudienceRule, ContentIds, Misbehaviour, PatSecret, Stats, DEFAULT_DATASOURCE_LUID,
};
pub use setup::Setup;

use random::{new_password, new_pat_secret, new_secret_value};
use state::{parse_version, Queued, Shared, State};

/// The default site's content URL.
const DEFAULT_SITE: &str = "mysite";
/// The default site's display name.
const DEFAULT_SITE_NAME: &str = "My Site";
/// The default user.
const DEFAULT_USERNAME: &str = "me@example.com";
/// The user that has a password.
const ADMIN_USERNAME: &str = "admin";
/// The default PAT's name.
const DEFAULT_PAT_NAME: &str = "fake-pat";
/// The default Tableau Cloud Manager user, a cloud administrator.
const DEFAULT_CLOUD_MANAGER_USERNAME: &str = "cloudadmin@example.com";
/// The workbooks of the default site `""` at start (three fixed ones, the rest generated).
pub const DEFAULT_SITE_WORKBOOKS: usize = 260;

/// How [`FakeTableau::start_with`] serves.
#[derive(Clone, Debug, Default)]
pub struct FakeOptions {
    /// HTTPS with a server certificate issued by a CA made at start.
    pub tls: bool,
    /// Mutual TLS: clients must present a certificate issued by that CA (implies `tls`).
    pub require_client_cert: bool,
}

/// The fake Tableau server. `Send + Sync`; stops (and joins its thread) on drop.
pub struct FakeTableau {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Mutex<Option<JoinHandle<()>>>,
    shutdown: Arc<Notify>,
    app: AppSecret,
    pat: PatSecret,
    password: String,
    /// The secret of the default Tableau Cloud Manager PAT.
    cloud_manager_pat_secret: String,
    /// The CA's PEM when serving over TLS.
    ca_pem: Option<String>,
    /// Client certificate and key PEMs when client certificates are required.
    client_identity: Option<(String, String)>,
}

impl fmt::Debug for FakeTableau {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeTableau")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl FakeTableau {
    /// Binds 127.0.0.1:0 and serves plain HTTP on its own thread with its own current-thread
    /// tokio runtime. Pre-registers the defaults (see the module docs).
    pub fn start() -> std::io::Result<FakeTableau> {
        Self::start_with(FakeOptions::default())
    }

    /// Like [`FakeTableau::start`], served as `options` say: over TLS, with or without
    /// client certificates (see the module docs). `Err` if a certificate cannot be made.
    pub fn start_with(options: FakeOptions) -> std::io::Result<FakeTableau> {
        let tls = if options.tls || options.require_client_cert {
            Some(tls::setup(options.require_client_cert)?)
        } else {
            None
        };
        let app = AppSecret {
            client_id: uuid::Uuid::new_v4().to_string(),
            secret_id: uuid::Uuid::new_v4().to_string(),
            secret_value: new_secret_value(),
        };
        let pat = PatSecret {
            name: DEFAULT_PAT_NAME.to_string(),
            secret: new_pat_secret(),
        };
        let password = new_password();
        let cloud_manager_pat_secret = new_pat_secret();

        let mut state = State::new();
        let mut setup = Setup::new(&mut state);
        for (content_url, name) in [(DEFAULT_SITE, DEFAULT_SITE_NAME), ("", "Default")] {
            setup.add_site(content_url, name);
            setup
                .add_user(content_url, DEFAULT_USERNAME, None)
                .and_then(|_| setup.add_user(content_url, ADMIN_USERNAME, Some(&password)))
                .and_then(|_| {
                    setup.add_connected_app(
                        content_url,
                        &app.client_id,
                        &app.secret_id,
                        &app.secret_value,
                        true,
                        false,
                    )
                })
                .map_err(std::io::Error::other)?;
        }
        setup
            .add_pat(DEFAULT_SITE, DEFAULT_USERNAME, &pat.name, &pat.secret)
            .and_then(|_| {
                setup.add_datasource(
                    DEFAULT_SITE,
                    DEFAULT_DATASOURCE_NAME,
                    Some(DEFAULT_DATASOURCE_LUID),
                )
            })
            .and_then(|_| setup.add_workbooks("", DEFAULT_SITE_WORKBOOKS.saturating_sub(3)))
            .and_then(|_| setup.add_cloud_manager_user(DEFAULT_CLOUD_MANAGER_USERNAME, true))
            .and_then(|_| {
                setup.add_cloud_manager_pat(
                    DEFAULT_CLOUD_MANAGER_USERNAME,
                    &cloud_manager_pat_secret,
                )
            })
            .map_err(std::io::Error::other)?;

        let shared = Arc::new(Shared::new(state));
        let (acceptor, ca_pem, client_identity) = match tls {
            Some(t) => (Some(t.acceptor), Some(t.ca_pem), t.client_identity),
            None => (None, None, None),
        };
        let running = server::spawn(Arc::clone(&shared), acceptor)?;
        Ok(FakeTableau {
            shared,
            addr: running.addr,
            thread: Mutex::new(Some(running.thread)),
            shutdown: running.shutdown,
            app,
            pat,
            password,
            cloud_manager_pat_secret,
            ca_pem,
            client_identity,
        })
    }

    /// The base URL, `"http://127.0.0.1:PORT"` (`"https://…"` over TLS).
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// PEM of the self-signed CA that issued the server certificate (None without TLS).
    pub fn ca_pem(&self) -> Option<String> {
        self.ca_pem.clone()
    }

    /// A client certificate and its private key (PEM), issued by the same CA, for mutual TLS
    /// (None unless require_client_cert).
    pub fn client_identity_pem(&self) -> Option<(String, String)> {
        self.client_identity.clone()
    }

    /// Tell the server to stop, without waiting for its thread to finish: for callers that
    /// must not block (a Python object being dropped while holding the GIL, which the server
    /// thread may need to log).
    pub fn stop_without_waiting(&self) {
        if self
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .is_some()
        {
            self.shutdown.notify_one();
        }
    }

    /// Stops the server: closes the listener and every connection, joins the thread.
    /// Idempotent. The state (sessions, stats) stays readable.
    pub fn stop(&self) {
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            self.shutdown.notify_one();
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
    }

    /// The default site's content URL, `"mysite"`.
    pub fn default_site(&self) -> String {
        DEFAULT_SITE.to_string()
    }

    /// The default user, `"me@example.com"` (on both default sites; no password).
    pub fn default_username(&self) -> String {
        DEFAULT_USERNAME.to_string()
    }

    /// The password of user `"admin"` (on both default sites). Random per instance; it
    /// contains `&<>"'` so that unescaped XML cannot carry it.
    pub fn default_password(&self) -> String {
        self.password.clone()
    }

    /// The default connected app (registered on both default sites, enabled, no on-demand
    /// access): uuid4 client and secret ids, a 44-character random base64 secret value.
    pub fn default_app(&self) -> AppSecret {
        self.app.clone()
    }

    /// The default PAT (`"fake-pat"`, for `me@example.com` on `"mysite"`), random secret.
    pub fn default_pat(&self) -> PatSecret {
        self.pat.clone()
    }

    /// The id (a UUID, random per instance) of the tenant Tableau Cloud Manager administers.
    pub fn tenant_id(&self) -> String {
        self.shared.lock().tenant.id.clone()
    }

    /// The default Tableau Cloud Manager user, `"cloudadmin@example.com"`, a cloud
    /// administrator (not a user of any site).
    pub fn cloud_manager_username(&self) -> String {
        DEFAULT_CLOUD_MANAGER_USERNAME.to_string()
    }

    /// The secret of the default Tableau Cloud Manager PAT (of
    /// [`FakeTableau::cloud_manager_username`]); random per instance, never a site PAT's.
    pub fn cloud_manager_pat_secret(&self) -> String {
        self.cloud_manager_pat_secret.clone()
    }

    /// Registers sites, users, connected apps, external authorization servers, UAT
    /// configurations and PATs through [`Setup`], under the state's lock (the server waits
    /// meanwhile: make no request to this fake inside `f`). Returns what `f` returns, e.g.
    /// `fake.configure(|s| s.add_user("mysite", "bob@example.com", None))`.
    pub fn configure<R>(&self, f: impl FnOnce(&mut Setup<'_>) -> R) -> R {
        f(&mut Setup::new(&mut self.shared.lock()))
    }

    /// The LUID of a site, by content URL.
    pub fn site_luid(&self, content_url: &str) -> Option<String> {
        self.shared
            .lock()
            .sites
            .get(content_url)
            .map(|site| site.luid.clone())
    }

    /// The LUIDs of what a site (by content URL) holds: users, projects, workbooks, views,
    /// published data sources, in the order the REST lists give them.
    pub fn content_ids(&self, content_url: &str) -> Option<ContentIds> {
        self.shared
            .lock()
            .sites
            .get(content_url)
            .map(|site| site.content_ids())
    }

    /// The LUID of the published data source "Superstore Datasource" on `"mysite"`,
    /// [`DEFAULT_DATASOURCE_LUID`].
    pub fn datasource_id(&self) -> String {
        DEFAULT_DATASOURCE_LUID.to_string()
    }

    /// The LUID of the VizQL Data Service's published data source (on `"mysite"`; random
    /// per fake, fixed for its life).
    pub fn vds_datasource_id(&self) -> String {
        self.configure(|s| s.vds_datasource_id())
    }

    /// A snapshot of the counters; `active_sessions` and `active_cloud_manager_sessions` are
    /// the numbers of live site and Tableau Cloud Manager sessions now.
    pub fn stats(&self) -> Stats {
        let mut st = self.shared.lock();
        st.purge_expired(Instant::now());
        let mut stats = st.stats.clone();
        stats.active_sessions = st.sessions.len() as u64;
        stats.active_cloud_manager_sessions = st.tcm_sessions.len() as u64;
        stats
    }

    /// Zeroes the counters (sessions stay).
    pub fn reset_stats(&self) {
        self.shared.lock().stats = Stats::default();
    }

    /// Queues a misbehaviour for the next `times` requests whose path ends with `route`
    /// (`"auth/signin"`, `"auth/signout"`, `"serverinfo"` (TSC's spelling `"serverInfo"` is
    /// another suffix), `"sessions/current"`, `"workbooks"`, `"users"`, `"auth/switchSite"`, …),
    /// or every request for `"*"`. Tableau Cloud Manager paths match only `"*"` and their own
    /// names: `"tcm/login"` (both logins), `"tcm"` (every other TCM call), and
    /// `"tcm/pat/login"`, `"tcm/jwt/login"`, `"tcm/sessions"`, `"tcm/sites"`, `"tcm/users"`,
    /// `"tcm/activitylog"`; their misbehaviours answer TCM's JSON errors. Entries are used in
    /// queue order: a request takes the first matching entry. `times == 0` queues nothing.
    pub fn misbehave(&self, route: &str, times: u32, what: Misbehaviour) {
        if times == 0 {
            return;
        }
        self.shared.lock().queue.push(Queued {
            route: route.to_string(),
            remaining: times,
            what,
        });
    }

    /// Delays every answer on `route` (`"*"` for all) by `delay`, without blocking other
    /// connections. When several settings match, the longest applies. Zero clears.
    pub fn set_delay(&self, route: &str, delay: Duration) {
        let mut st = self.shared.lock();
        if delay.is_zero() {
            st.delays.remove(route);
        } else {
            st.delays.insert(route.to_string(), delay);
        }
    }

    /// Sessions created after this call die `ttl` after their sign-in (`None`: never; a
    /// Tableau Cloud Manager session then lives 4 hours).
    pub fn set_session_ttl(&self, ttl: Option<Duration>) {
        self.shared.lock().ttl = ttl;
    }

    /// Kills every live session now, Tableau Cloud Manager's too (their tokens get 401002,
    /// TCM's a 401).
    pub fn expire_all_sessions(&self) {
        self.shared.lock().end_all_sessions();
    }

    /// The `estimatedTimeToExpiration` of sign-in answers (default `Some("4:00:00")`, the
    /// 240-minute idle timeout of Tableau Server); `None` omits the attribute.
    pub fn set_estimated_time_to_expiration(&self, value: Option<String>) {
        self.shared.lock().estimated_time_to_expiration = value;
    }

    /// The highest REST API version served (default `"3.28"`): a path version above it is
    /// 404 / 404003, and `serverinfo` reports it. A value that is not `MAJOR.MINOR` digits is
    /// ignored.
    pub fn set_max_api_version(&self, v: &str) {
        if let Some(parsed) = parse_version(v) {
            let mut st = self.shared.lock();
            st.max_version = parsed;
            st.max_version_text = v.to_string();
        }
    }

    /// True while `token` names a live session, site or Tableau Cloud Manager.
    pub fn is_session_alive(&self, token: &str) -> bool {
        let now = Instant::now();
        let mut st = self.shared.lock();
        st.live_session(token, now).is_some() || st.tcm_sessions.live(token, now).is_some()
    }

    /// The Content-Type (`""` when absent) and the body (lossy UTF-8) of the last
    /// `POST auth/signin` whose body was read.
    pub fn last_sign_in_request(&self) -> Option<(String, String)> {
        self.shared.lock().last_sign_in.clone()
    }

    /// The path and the body (lossy UTF-8) of the last Tableau Cloud Manager login (`pat/login`
    /// or `jwt/login`) whose body was read.
    pub fn last_cloud_manager_login(&self) -> Option<(String, String)> {
        self.shared.lock().last_cloud_manager_login.clone()
    }

    /// The payload JSON (as received, decoded from base64url) of the last sign-in JWT that
    /// passed every JWT check (direct trust, EAS or UAT); `None` before the first one.
    pub fn last_jwt_claims(&self) -> Option<String> {
        self.shared.lock().last_jwt_claims.clone()
    }
}

impl Drop for FakeTableau {
    fn drop(&mut self) {
        self.stop();
    }
}
