//! One (server, site, credentials) and where its sessions are kept: the one owner of the
//! session lifecycle. Every change of a session (look up, sign in, invalidate now or in the
//! background, sign out, close, switch site, and a call's re-sign-in after a dead-session 401)
//! goes through [`Client`]; the blocking and the async Python clients both call it.
//!
//! - `cache="memory"`: the process-wide entry (`sessions.rs`).
//! - a shared cache: the same entry, with a [`SharedSlot`] behind it, so other processes (and
//!   machines) reuse the session; sign-in, invalidate and sign-out reach it too.
//! - no cache: every `session()` is a fresh sign-in, and nothing is shared with other clients;
//!   `request()` uses the client's own latest session (signing in if it has none), so its
//!   calls do not sign in one by one (with a PAT they would end each other's sessions).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_util::future::FutureExt;

use super::api::{self, ApiReply, ApiRequest};
use super::cache_key::cache_key;
use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::{Call, Error, Result, TableauFailure};
use super::missing_scopes::Verdict;
use super::scopes::{self, ScopeNeed};
use super::session::Session;
pub use super::sessions::Lookup;
use super::sessions::{self, Entry};
use super::shared::{SharedCache, SharedSlot};
use super::signin;
use super::stats;
use super::transport;
use super::wire;

/// Where a client keeps its sessions (`cache=`).
#[derive(Clone)]
pub enum CacheChoice {
    /// Process-wide, in memory (the default).
    Memory,
    /// In memory, with a cache shared by other processes behind it.
    Shared(SharedCache),
    /// No caching: every `session()` signs in.
    Off,
}

pub struct Client {
    cfg: Arc<ClientConfig>,
    creds: Arc<Credentials>,
    entry: Arc<Entry>,
    /// The cache shared with other processes, as this client's key and secret see it.
    shared: Option<Arc<SharedSlot>>,
    /// As configured (`cache=`).
    cache: CacheChoice,
    closed: AtomicBool,
}

impl Client {
    pub fn new(cfg: ClientConfig, creds: Credentials, cache: CacheChoice) -> Result<Client> {
        let key = cache_key(&cfg, &creds);
        let kept = creds.reachable_later();
        let (entry, shared) = match &cache {
            CacheChoice::Memory => (sessions::entry(key, kept), None),
            CacheChoice::Shared(c) => (
                sessions::entry(key, kept),
                Some(Arc::new(SharedSlot::new(c, &creds, key)?)),
            ),
            CacheChoice::Off => (Arc::new(Entry::private()), None),
        };
        Ok(Client {
            cfg: Arc::new(cfg),
            creds: Arc::new(creds),
            entry,
            shared,
            cache,
            closed: AtomicBool::new(false),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    /// Where sessions are kept, as configured (`cache=`).
    pub fn cache(&self) -> &CacheChoice {
        &self.cache
    }

    /// Whether sessions are shared with other processes: then `invalidate` reaches them too
    /// (and waits for the shared cache).
    pub fn shares_sessions(&self) -> bool {
        self.shared.is_some()
    }

    /// An error once the client is closed.
    pub fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(Error::Configuration(
                "this Client was closed: make a new one".into(),
            ));
        }
        Ok(())
    }

    /// False with no cache: sessions are never handed out twice.
    fn reuses(&self) -> bool {
        !matches!(self.cache, CacheChoice::Off)
    }

    /// Run `f` on the cached session if it is fresh (and the client open): lock-free, the hot
    /// path.
    pub fn with_fresh<R>(&self, f: impl FnOnce(&Arc<Session>) -> R) -> Option<R> {
        if !self.reuses() || self.closed.load(Ordering::Relaxed) {
            return None;
        }
        let found = self.entry.with_fresh(|s| {
            self.share(s);
            f(s)
        });
        if found.is_some() {
            stats::memory_hit();
        }
        found
    }

    /// With a shared cache, a session from this process's cache that the store is not known
    /// to hold (another client of this process signed it in without that cache) is published
    /// there in the background ([`SharedSlot::adopt`]), once.
    fn share(&self, session: &Arc<Session>) {
        if let Some(slot) = &self.shared {
            if slot.should_adopt(session) {
                let (slot, cfg, session) = (slot.clone(), self.cfg.clone(), session.clone());
                transport::process().runtime().spawn(async move {
                    slot.adopt(&cfg, &session).await;
                });
            }
        }
    }

    /// A fresh cached session, or a sign-in to wait for.
    pub fn lookup(&self) -> Result<Lookup> {
        self.check_open()?;
        if !self.reuses() {
            let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
            return Ok(Lookup::Wait(
                async move {
                    let s = signin::sign_in(&cfg, &creds).await?;
                    entry.store(s, &cfg)
                }
                .boxed()
                .shared(),
            ));
        }
        let found = self.lookup_in_entry(self.shared.as_ref());
        if let Lookup::Hit(s) = &found {
            self.share(s);
        }
        Ok(found)
    }

    /// The entry's session, or its one sign-in: with a shared cache behind it, a quick look
    /// there (a disk cache, on this thread) and a sign-in that goes through it.
    fn lookup_in_entry(&self, shared: Option<&Arc<SharedSlot>>) -> Lookup {
        let (cfg, creds) = (&self.cfg, &self.creds);
        match shared {
            Some(slot) => self.entry.lookup(
                cfg,
                |retired| slot.peek(cfg, retired),
                |retired, looked| {
                    let (slot, cfg, creds) = (slot.clone(), cfg.clone(), creds.clone());
                    async move { slot.obtain(&cfg, &creds, retired.as_ref(), looked).await }.boxed()
                },
            ),
            None => self.entry.lookup(
                cfg,
                |_| None,
                |_, _| {
                    let (cfg, creds) = (cfg.clone(), creds.clone());
                    async move { signin::sign_in(&cfg, &creds).await }.boxed()
                },
            ),
        }
    }

    /// A fresh cached session, or the one sign-in in flight.
    pub async fn session(&self) -> Result<Arc<Session>> {
        self.lookup()?.session().await
    }

    /// The session `call()` uses: the cached one; with no cache, this client's own.
    async fn session_for_call(&self) -> Result<Arc<Session>> {
        if self.reuses() {
            return self.session().await;
        }
        self.lookup_in_entry(None).session().await
    }

    /// An authenticated REST call with the session. An answer that says the session is dead
    /// ([`Client::judge`]) drops it here (compare-and-swap, so a burst of such 401s causes one
    /// re-sign-in) and sends the call once more with a fresh one; a missing scope is an error.
    pub async fn call(&self, request: ApiRequest) -> Result<ApiReply> {
        let started = stats::telemetry_on().then(std::time::SystemTime::now);
        let result = self.call_once_or_twice(&request).await;
        if let Some(started) = started {
            self.call_event(&request, started, &result);
        }
        result
    }

    /// The telemetry event of a call: method, path (no query), status, server and site.
    fn call_event(
        &self,
        request: &ApiRequest,
        started: std::time::SystemTime,
        result: &Result<ApiReply>,
    ) {
        let (path, status) = match result {
            Ok(answer) => (api::path_of(&answer.url), Some(answer.reply.status)),
            Err(_) => (String::new(), None),
        };
        stats::event(
            "tableau.request",
            started,
            std::time::SystemTime::now(),
            result.as_ref().err(),
            || {
                let (host, port) = stats::server_attributes(&self.cfg.server);
                serde_json::json!({
                    "http.request.method": request.method.as_str(),
                    "url.path": path,
                    "http.response.status_code": status,
                    "server.address": host,
                    "server.port": port,
                    "tableau.site": self.cfg.site,
                })
            },
        );
    }

    async fn call_once_or_twice(&self, request: &ApiRequest) -> Result<ApiReply> {
        self.check_open()?;
        let http = transport::process().http(&self.cfg.transport)?;
        let session = self.session_for_call().await?;
        let answer = api::send(&self.cfg, &http, &session, request).await?;
        let token = session.token.expose();
        let (status, body) = (answer.reply.status, &answer.reply.body);
        if !self.judge(
            token,
            request.method.as_str(),
            &answer.url,
            status,
            body,
            false,
        )? {
            return Ok(answer);
        }
        // This process drops it; the shared cache, if any, is replaced by the re-sign-in
        // (which will not take this token back from it).
        let dropped = self.entry.invalidate(token);
        log::info!(
            "{}: the session is dead (401); {}",
            api::describe(&request.method, &answer.url),
            if dropped {
                "signing in again"
            } else {
                "another caller already replaced it"
            }
        );
        let session = self.session_for_call().await?;
        let again = api::send(&self.cfg, &http, &session, request).await?;
        let (status, body) = (again.reply.status, &again.reply.body);
        self.judge(
            session.token.expose(),
            request.method.as_str(),
            &again.url,
            status,
            body,
            true,
        )?;
        Ok(again)
    }

    /// What an answer (`status`, `body`) to `method url`, sent with the session `token`,
    /// means: `Ok(true)` when the session is dead and a fresh one may help (the caller drops
    /// it and sends the call again, once: `retried` says this answer is to that second send);
    /// `Ok(false)` to keep the answer as it is; [`Error::MissingScope`] when, on a JWT session,
    /// this kind of call answered 401002 on another session already (see `missing_scopes.rs`).
    /// The one rule `call()` and the requests and httpx adapters follow.
    pub fn judge(
        &self,
        token: &str,
        method: &str,
        url: &str,
        status: u16,
        body: &[u8],
        retried: bool,
    ) -> Result<bool> {
        let memory = self.entry.missing_scopes();
        // (Tableau Cloud Manager's scope refusals are not 401s.)
        let limited = self.creds.limited_by_scopes() && !self.cfg.is_cloud_manager();
        let Some(error) = api::dead_session(self.cfg.service, status, body) else {
            if retried && limited {
                // Its 401002 (if it had one) was a dead session after all.
                memory.worked(&scopes::needed(method, &api::path_of(url)).key());
            }
            return Ok(false);
        };
        // 401002 on a JWT session: a dead session, or a missing scope (Tableau says both alike).
        if limited && error.code == "401002" {
            let path = api::path_of(url);
            let need = scopes::needed(method, &path);
            if memory.failed(&need.key(), token) == Verdict::ScopeMissing {
                return Err(self.missing_scope(format!("{method} {path}"), status, error, &need));
            }
        }
        Ok(!retried)
    }

    /// The error for a call whose kind (needed scopes) answered 401002 on two sessions.
    fn missing_scope(
        &self,
        call: String,
        status: u16,
        error: wire::TableauErrorBody,
        need: &ScopeNeed,
    ) -> Error {
        let failure = TableauFailure::new(
            status,
            &error.code,
            &error.summary,
            &error.detail,
            Call::Other,
        );
        log::warn!(
            "{call}: 401002 again on a fresh session: the JWT lacks the scope ({})",
            need.any_of.join(" or ")
        );
        scopes::missing_scope(call, failure, need, self.creds.asked_scopes())
    }

    /// A fresh sign-in that replaces the cached session (here and in the shared cache, where
    /// it is signed in holding the lock so that no older session is published over it).
    pub async fn sign_in(&self) -> Result<Arc<Session>> {
        self.check_open()?;
        let session = match &self.shared {
            Some(slot) => {
                slot.publish_from(&self.cfg, signin::sign_in(&self.cfg, &self.creds))
                    .await?
            }
            None => signin::sign_in(&self.cfg, &self.creds).await?,
        };
        self.entry.store(session, &self.cfg)
    }

    /// Drop the session with `token` if it is still the cached one, here and (compare-and-swap)
    /// in the shared cache. True if it was dropped anywhere.
    pub async fn invalidate(&self, token: &str) -> bool {
        let dropped = self.entry.invalidate(token);
        match &self.shared {
            Some(slot) => slot.remove(&self.cfg, token).await || dropped,
            None => dropped,
        }
    }

    /// `invalidate` for callers that must not wait: this process's entry now, the shared
    /// entry (if any) in a background task. True if this process dropped it.
    pub fn invalidate_in_background(self: &Arc<Self>, token: String) -> bool {
        let dropped = self.entry.invalidate(&token);
        if self.shared.is_some() {
            let me = self.clone();
            transport::process().runtime().spawn(async move {
                me.invalidate(&token).await;
            });
        }
        dropped
    }

    /// Sign out of the cached session (this process's, or else the shared one) and remove it
    /// from the shared cache. Nothing cached is not an error, nor is a session already dead.
    pub async fn sign_out(&self) -> Result<()> {
        let session = match (self.entry.take(), &self.shared) {
            (Some(s), _) => Some(s),
            (None, Some(slot)) => slot.load(&self.cfg, None).await.map(Arc::new),
            (None, None) => None,
        };
        let Some(session) = session else {
            return Ok(());
        };
        self.entry.retire(session.token.expose());
        if let Some(slot) = &self.shared {
            slot.remove(&self.cfg, session.token.expose()).await;
        }
        signin::sign_out(&self.cfg, &session).await
    }

    /// Close the client (later `session`, `sign_in`, `call` and `switch_site` fail) and sign
    /// out of this process's cached session, unless it is kept in a cache other processes
    /// share (they go on using it). A sign-in still in flight is waited for and signed out
    /// too: no session outlives a closed client. Closing again does nothing.
    pub async fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::Relaxed) || self.shared.is_some() {
            return Ok(());
        }
        if let Some(signing_in) = self.entry.in_flight() {
            let _ = signing_in.await;
        }
        match self.entry.take() {
            Some(session) => signin::sign_out(&self.cfg, &session).await,
            None => Ok(()),
        }
    }

    /// Switch to another site: Tableau ends the current session and answers one for
    /// `content_url`, which is cached under that site's key (a `Client` for that site finds
    /// it, in this process or, with a shared cache, in others). Switching to the site the
    /// session is already on returns the current session.
    pub async fn switch_site(&self, content_url: String) -> Result<Arc<Session>> {
        if self.cfg.is_cloud_manager() {
            return Err(Error::Configuration(
                "a Tableau Cloud Manager session has no site to switch: use a Client for the \
                 site"
                    .into(),
            ));
        }
        let current = self.session().await?;
        if current.site_content_url() == content_url {
            return Ok(current);
        }
        let target = ClientConfig {
            site: content_url.clone(),
            ..(*self.cfg).clone()
        };
        target.check_site()?;
        let key = cache_key(&target, &self.creds);
        let switch = signin::switch_site(&self.cfg, &current, &content_url);
        // With a shared cache the new site's session is published under that site's lock.
        let switched = match &self.shared {
            Some(slot) => {
                slot.for_key(&self.creds, key)?
                    .publish_from(&target, switch)
                    .await
            }
            None => switch.await,
        };
        let switched = match switched {
            Ok(s) => s,
            Err(Error::SignIn(f)) if f.code == "403070" => return Ok(current),
            Err(e) => return Err(e),
        };
        // Tableau ended the old session: drop it here and from the shared cache.
        self.invalidate(current.token.expose()).await;
        // Cached under the new site's key, where a client for that site finds it; a Jwt with a
        // random identity of its own has no such client, so its new session is only returned.
        if self.reuses() && self.creds.reachable_later() {
            let target = Arc::new(target);
            return sessions::entry(key, true).store(switched, &target);
        }
        Ok(Arc::new(switched))
    }
}
