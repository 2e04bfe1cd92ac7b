//! The fake server's world: sites (registered through [`Setup`](crate::Setup)), sessions,
//! the Tableau Cloud Manager tenant and its sessions (`tenant.rs`), counters and the
//! misbehaviour queue, and the rules of sign-in, switch-site and sessions.
//! Everything sits behind one mutex in [`Shared`]; no lock is ever held across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::apis::ApisConfig;
use super::cloud_manager::Endpoint;
use super::jwt_rules;
use super::model::{Misbehaviour, Site, Stats, User};
use super::random::new_token;
use super::requests::{Credentials, SignInRequest};
use super::responses::ApiError;
use super::tenant::{TcmSessions, Tenant};

/// A REST API version such as `3.28`, ordered numerically (3.5 < 3.28).
pub(crate) type ApiVersion = (u32, u32);

/// Parses `MAJOR.MINOR` (ASCII digits only). Anything else is `None`.
pub(crate) fn parse_version(v: &str) -> Option<ApiVersion> {
    let (major, minor) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// A live session.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub site_luid: String,
    pub user_luid: String,
    pub username: String,
    pub expires: Option<Instant>,
    /// (site content URL, PAT name) when the session is backed by a PAT.
    pub pat: Option<(String, String)>,
    /// A JWT session's scopes (its `scp`); `None` for other sessions, which may do anything
    /// their user may (see `scopes.rs`).
    pub scopes: Option<Vec<String>>,
}

/// A queued misbehaviour.
#[derive(Clone, Debug)]
pub(crate) struct Queued {
    pub route: String,
    pub remaining: u32,
    pub what: Misbehaviour,
}

/// What a successful sign-in (or switch) produced.
#[derive(Clone, Debug)]
pub(crate) struct SignedIn {
    pub token: String,
    pub site_luid: String,
    pub site_content_url: String,
    pub user_luid: String,
}

/// The whole mutable world.
#[derive(Debug)]
pub(crate) struct State {
    /// By content URL.
    pub sites: BTreeMap<String, Site>,
    /// By token.
    pub sessions: HashMap<String, Session>,
    /// (site content URL, PAT name) → the token of the one session that PAT backs.
    pub pat_sessions: HashMap<(String, String), String>,
    /// Every `jti` that passed signature verification, ever.
    pub seen_jti: HashSet<String>,
    pub stats: Stats,
    pub queue: Vec<Queued>,
    pub delays: BTreeMap<String, Duration>,
    pub ttl: Option<Duration>,
    pub estimated_time_to_expiration: Option<String>,
    pub max_version: ApiVersion,
    pub max_version_text: String,
    pub last_sign_in: Option<(String, String)>,
    /// The payload JSON of the last JWT that passed verification.
    pub last_jwt_claims: Option<String>,
    /// The Metadata API, VizQL Data Service and Pulse (`apis.rs`).
    pub apis: ApisConfig,
    /// What Tableau Cloud Manager administers (its sites are `sites`).
    pub tenant: Tenant,
    /// Tableau Cloud Manager's sessions (never in `sessions`).
    pub tcm_sessions: TcmSessions,
    /// (path, body as lossy UTF-8) of the last TCM login whose body was read.
    pub last_cloud_manager_login: Option<(String, String)>,
}

/// The state plus its lock discipline, shared by the handle and the server thread.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub fn new(state: State) -> Self {
        Shared {
            state: Mutex::new(state),
        }
    }

    /// Locks the state; a poisoned mutex is recovered, never propagated.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

// ---------------------------------------------------------------------------------------------
// The world's rules

impl State {
    pub fn new() -> Self {
        State {
            sites: BTreeMap::new(),
            sessions: HashMap::new(),
            pat_sessions: HashMap::new(),
            seen_jti: HashSet::new(),
            stats: Stats::default(),
            queue: Vec::new(),
            delays: BTreeMap::new(),
            ttl: None,
            estimated_time_to_expiration: Some("4:00:00".to_string()),
            max_version: (3, 28),
            max_version_text: "3.28".to_string(),
            last_sign_in: None,
            last_jwt_claims: None,
            apis: ApisConfig::new(),
            tenant: Tenant::new(),
            tcm_sessions: TcmSessions::default(),
            last_cloud_manager_login: None,
        }
    }

    pub fn site_by_luid(&self, luid: &str) -> Option<&Site> {
        self.sites.values().find(|s| s.luid == luid)
    }

    // -- sessions ---------------------------------------------------------------------------

    /// Removes every session (site or Tableau Cloud Manager) whose time has passed.
    pub fn purge_expired(&mut self, now: Instant) {
        self.tcm_sessions.purge_expired(now);
        let dead: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.expires.is_some_and(|e| e <= now))
            .map(|(t, _)| t.clone())
            .collect();
        for token in dead {
            self.end_session(&token);
        }
    }

    /// The live session named by `token` (an expired one is removed and is `None`).
    pub fn live_session(&mut self, token: &str, now: Instant) -> Option<Session> {
        let expired = self.sessions.get(token)?.expires.is_some_and(|e| e <= now);
        if expired {
            self.end_session(token);
            return None;
        }
        self.sessions.get(token).cloned()
    }

    /// Ends a session (no-op when it is not there).
    pub fn end_session(&mut self, token: &str) {
        if let Some(session) = self.sessions.remove(token) {
            if let Some(key) = session.pat {
                if self.pat_sessions.get(&key).is_some_and(|t| t == token) {
                    self.pat_sessions.remove(&key);
                }
            }
        }
    }

    /// Ends every session, site and Tableau Cloud Manager.
    pub fn end_all_sessions(&mut self) {
        self.sessions.clear();
        self.pat_sessions.clear();
        self.tcm_sessions.end_all();
    }

    /// Creates a session; when it is backed by a PAT, the PAT's previous session ends.
    fn create_session(
        &mut self,
        site: &Site,
        user: &User,
        pat: Option<(String, String)>,
        scopes: Option<Vec<String>>,
        now: Instant,
    ) -> SignedIn {
        let token = new_token(&site.luid);
        if let Some(key) = &pat {
            if let Some(old) = self.pat_sessions.remove(key) {
                self.sessions.remove(&old);
            }
            self.pat_sessions.insert(key.clone(), token.clone());
        }
        self.sessions.insert(
            token.clone(),
            Session {
                site_luid: site.luid.clone(),
                user_luid: user.luid.clone(),
                username: user.name.clone(),
                expires: self.ttl.and_then(|ttl| now.checked_add(ttl)),
                pat,
                scopes,
            },
        );
        SignedIn {
            token,
            site_luid: site.luid.clone(),
            site_content_url: site.content_url.clone(),
            user_luid: user.luid.clone(),
        }
    }

    /// The JWT checks of a sign-in and nothing else (its `jti` is recorded when they pass):
    /// what a server that fails after reading the request has done.
    pub fn check_jwt_only(&mut self, req: &SignInRequest, now_unix: f64) {
        if let Credentials::Jwt { jwt, is_uat } = &req.credentials {
            let _ = jwt_rules::verify(
                &mut self.sites,
                &mut self.seen_jti,
                &req.site_content_url,
                jwt,
                *is_uat,
                now_unix,
            );
        }
    }

    /// `POST auth/signin`, after the body was parsed.
    pub fn sign_in(
        &mut self,
        req: &SignInRequest,
        version: ApiVersion,
        now_unix: f64,
        now: Instant,
    ) -> Result<SignedIn, ApiError> {
        // `isUat` is refused on a path version before 3.27. PAT and connected-app JWT
        // sign-ins are accepted at any path version: TSC (Tableau's own client, since its
        // PR #1796) signs in at /api/2.4 with either and only then asks serverInfo.
        let needs = match &req.credentials {
            Credentials::Jwt { is_uat: true, .. } => Some((3, 27)),
            _ => None,
        };
        if let Some(min) = needs {
            if version < min {
                return Err(ApiError::bad_request(&format!(
                    "The sign-in attributes used are not part of REST API {}.{} (they need {}.{} or later).",
                    version.0, version.1, min.0, min.1
                )));
            }
        }
        let site = self
            .sites
            .get(&req.site_content_url)
            .cloned()
            .ok_or_else(ApiError::sign_in_failed)?;

        let (username, pat_key, scopes) = match &req.credentials {
            Credentials::Jwt { jwt, is_uat } => {
                let verified = jwt_rules::verify(
                    &mut self.sites,
                    &mut self.seen_jti,
                    &site.content_url,
                    jwt,
                    *is_uat,
                    now_unix,
                )
                .map_err(ApiError::jwt)?;
                self.last_jwt_claims = Some(verified.claims_json);
                (verified.username, None, Some(verified.scopes))
            }
            Credentials::Pat { name, secret } => {
                let pat = site
                    .pats
                    .get(name)
                    .filter(|p| constant_time_eq(p.secret.as_bytes(), secret.as_bytes()))
                    .ok_or_else(ApiError::sign_in_failed)?;
                (
                    pat.username.clone(),
                    Some((site.content_url.clone(), name.clone())),
                    None,
                )
            }
            Credentials::Password { name, password } => {
                let ok = site.users.get(name).is_some_and(|u| {
                    u.password
                        .as_deref()
                        .is_some_and(|p| constant_time_eq(p.as_bytes(), password.as_bytes()))
                });
                if !ok {
                    return Err(ApiError::sign_in_failed());
                }
                (name.clone(), None, None)
            }
            Credentials::Invalid => return Err(ApiError::sign_in_failed()),
        };
        // Re-read the site: an on-demand JWT sign-in may have just created the user.
        let site = self
            .sites
            .get(&req.site_content_url)
            .cloned()
            .ok_or_else(ApiError::sign_in_failed)?;
        let mut user = site
            .users
            .get(&username)
            .cloned()
            .ok_or_else(ApiError::sign_in_failed)?;
        if let Some(id) = &req.impersonate_user_id {
            user = site
                .user_by_luid(id)
                .cloned()
                .ok_or_else(ApiError::sign_in_failed)?;
        }
        Ok(self.create_session(&site, &user, pat_key, scopes, now))
    }

    /// `POST auth/switchSite` for the live session `token`.
    pub fn switch_site(
        &mut self,
        token: &str,
        session: &Session,
        content_url: &str,
        now: Instant,
    ) -> Result<SignedIn, ApiError> {
        let target = self
            .sites
            .get(content_url)
            .cloned()
            .ok_or_else(|| ApiError::switch_denied(content_url))?;
        if target.luid == session.site_luid {
            return Err(ApiError::switch_same_site(content_url));
        }
        let user = target
            .users
            .get(&session.username)
            .cloned()
            .ok_or_else(|| ApiError::switch_denied(content_url))?;
        let (pat, scopes) = (session.pat.clone(), session.scopes.clone());
        self.end_session(token);
        Ok(self.create_session(&target, &user, pat, scopes, now))
    }

    // -- misbehaviour & delays --------------------------------------------------------------

    /// Takes the first queued misbehaviour that matches `path` (consuming one use of it).
    pub fn take_misbehaviour(&mut self, path: &str) -> Option<Misbehaviour> {
        let idx = self
            .queue
            .iter()
            .position(|q| q.remaining > 0 && route_matches(&q.route, path))?;
        let entry = &mut self.queue[idx];
        entry.remaining -= 1;
        let what = entry.what.clone();
        if entry.remaining == 0 {
            self.queue.remove(idx);
        }
        Some(what)
    }

    /// The delay for `path`: the longest of the matching settings.
    pub fn delay_for(&self, path: &str) -> Duration {
        self.delays
            .iter()
            .filter(|(route, _)| route_matches(route, path))
            .map(|(_, d)| *d)
            .max()
            .unwrap_or_default()
    }

    /// Counts a rejection under its key (`"401001/16"`, `"404003"`, …).
    pub fn count_rejection(&mut self, err: &ApiError) {
        *self
            .stats
            .rejections
            .entry(err.rejection_key())
            .or_insert(0) += 1;
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// `"*"` matches every path. A Tableau Cloud Manager path matches only its own route names
/// (`"tcm/login"`, `"tcm"`, …: [`Endpoint::route_names`]); any other path matches a route it
/// ends with.
pub(crate) fn route_matches(route: &str, path: &str) -> bool {
    if route == "*" {
        return true;
    }
    match Endpoint::parse(path) {
        Some(endpoint) => endpoint.route_names().contains(&route),
        None => path.ends_with(route),
    }
}

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
