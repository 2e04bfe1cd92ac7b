//! One (server, site, credentials) and where its sessions are kept: the operations the
//! blocking and the async Python clients both call.
//!
//! - `cache="memory"`: the process-wide entry (`sessions.rs`).
//! - a shared cache: the same entry, with a [`SharedSlot`] behind it, so other processes (and
//!   machines) reuse the session; sign-in, invalidate and sign-out reach it too.
//! - no cache: every `session()` is a fresh sign-in, and nothing is shared with other clients;
//!   `request()` uses the client's own latest session (signing in if it has none), so its
//!   calls do not sign in one by one (with a PAT they would end each other's sessions).

use std::sync::Arc;

use futures_util::future::FutureExt;

use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::{Error, Result};
use super::session::Session;
use super::sessions::{self, Entry, Lookup};
use super::shared::{SharedCache, SharedSlot};
use super::signin;

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
    pub cfg: Arc<ClientConfig>,
    pub creds: Arc<Credentials>,
    pub entry: Arc<Entry>,
    pub shared: Option<Arc<SharedSlot>>,
    /// As configured (`cache=`).
    pub cache: CacheChoice,
}

impl Client {
    pub fn new(cfg: ClientConfig, creds: Credentials, cache: CacheChoice) -> Result<Client> {
        let key = sessions::cache_key(&cfg, &creds);
        let kept = creds.reachable_later();
        let (entry, shared) = match &cache {
            CacheChoice::Memory => (sessions::entry(key, kept), None),
            CacheChoice::Shared(c) => (
                sessions::entry(key, kept),
                Some(Arc::new(SharedSlot::new(c.clone(), &creds, key)?)),
            ),
            CacheChoice::Off => (Arc::new(Entry::private()), None),
        };
        Ok(Client {
            cfg: Arc::new(cfg),
            creds: Arc::new(creds),
            entry,
            shared,
            cache,
        })
    }

    /// False with no cache: sessions are never handed out twice.
    fn reuses(&self) -> bool {
        !matches!(self.cache, CacheChoice::Off)
    }

    /// Run `f` on the cached session if it is fresh: lock-free, the hot path.
    pub fn with_fresh<R>(&self, f: impl FnOnce(&Arc<Session>) -> R) -> Option<R> {
        if !self.reuses() {
            return None;
        }
        self.entry.with_fresh(f)
    }

    /// A fresh cached session, or a sign-in to wait for.
    pub fn lookup(&self) -> Lookup {
        if !self.reuses() {
            let (entry, cfg, creds) = (self.entry.clone(), self.cfg.clone(), self.creds.clone());
            return Lookup::Wait(
                async move {
                    let s = signin::sign_in(&cfg, &creds).await?;
                    entry.store(s, &cfg)
                }
                .boxed()
                .shared(),
            );
        }
        self.entry
            .lookup(&self.cfg, &self.creds, self.shared.as_ref())
    }

    /// A fresh cached session, or the one sign-in in flight.
    pub async fn session(&self) -> Result<Arc<Session>> {
        self.lookup().session().await
    }

    /// The session `request()` uses: the cached one; with no cache, this client's own.
    pub async fn session_for_call(&self) -> Result<Arc<Session>> {
        if self.reuses() {
            return self.session().await;
        }
        self.entry
            .lookup(&self.cfg, &self.creds, None)
            .session()
            .await
    }

    /// A fresh sign-in that replaces the cached session (here and in the shared cache, where
    /// it is signed in holding the lock so that no older session is published over it).
    pub async fn sign_in(&self) -> Result<Arc<Session>> {
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
    /// entry in a background task. True if this process dropped it.
    pub fn invalidate_nowait(self: &Arc<Self>, token: String) -> bool {
        let dropped = self.entry.invalidate(&token);
        if self.shared.is_some() {
            let me = self.clone();
            super::transport::process().runtime().spawn(async move {
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

    /// What closing the client signs out: this process's cached session, unless it is kept in
    /// a cache other processes share (they go on using it).
    pub async fn close(&self) -> Result<()> {
        if self.shared.is_some() {
            return Ok(());
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
        let current = self.session().await?;
        if current.site_content_url == content_url {
            return Ok(current);
        }
        let target = ClientConfig {
            site: content_url.clone(),
            ..(*self.cfg).clone()
        };
        target.check_site()?;
        let key = sessions::cache_key(&target, &self.creds);
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
