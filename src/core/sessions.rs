//! The process-wide session cache.
//!
//! - One [`Entry`] per key (server, site, API version, impersonation, identity digest); two
//!   clients with the same configuration hold the same entry and so share one session.
//! - Single-flight: the first caller that misses starts one sign-in as its own task on the
//!   runtime; every other caller waits on the same shared result. The task stores its result
//!   itself, so a waiter that gives up (Ctrl-C, asyncio cancellation) breaks nothing.
//! - A failed sign-in reaches every waiter and is not cached.
//! - `invalidate` is compare-and-swap on the token: a burst of 401s with the same token causes
//!   one re-sign-in.
//! - Fork: cached sessions survive into the child; a sign-in in flight in the parent does not
//!   (its task lives on the parent's runtime), so the child ignores it and signs in itself.
//! - A shared cache (`shared/`), when the client has one, sits behind the entry: a miss looks
//!   there (the disk cache on the calling thread) before the sign-in task signs in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwapOption;
use aws_lc_rs::digest;
use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::{Error, Result};
use super::secret::Secret;
use super::session::{monotonic_ns, Session};
use super::shared::{SharedCache, SharedSlot};
use super::signin;
use super::transport;

/// The shared result of one sign-in.
pub type SignInResult = Result<Arc<Session>>;
pub type SharedSignIn = Shared<BoxFuture<'static, SignInResult>>;

/// The cache key: a digest of everything that makes a session different.
pub type CacheKey = [u8; 32];

/// A sign-in in flight in this process.
struct InFlight {
    pid: u32,
    generation: u64,
    shared: SharedSignIn,
}

/// The cached session (or sign-in in flight) for one key.
pub struct Entry {
    /// The cached session. Read without a lock: the cache-hit path is one atomic load.
    ready: ArcSwapOption<Session>,
    /// The sign-in in flight; also serializes every change of `ready` except `store`/`take`.
    flight: Mutex<Flight>,
}

#[derive(Default)]
struct Flight {
    in_flight: Option<InFlight>,
    /// The last token invalidated here: known dead, so never taken from a shared cache again.
    retired: Option<Secret>,
}

/// What a lookup found: a live session, or a sign-in to wait for.
pub enum Lookup {
    Hit(Arc<Session>),
    Wait(SharedSignIn),
}

impl Lookup {
    /// The session, waiting for the sign-in if need be.
    pub async fn session(self) -> SignInResult {
        match self {
            Lookup::Hit(s) => Ok(s),
            Lookup::Wait(shared) => shared.await,
        }
    }
}

static REGISTRY: Mutex<Option<HashMap<CacheKey, Arc<Entry>>>> = Mutex::new(None);
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The key for a configuration and credentials. Holds no secret: the identity part is
/// already a keyed digest, and the whole is hashed again.
pub fn cache_key(cfg: &ClientConfig, creds: &Credentials) -> CacheKey {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let identity = creds.identity_digest();
    let fields: [&[u8]; 5] = [
        cfg.server.as_bytes(),
        cfg.site.as_bytes(),
        cfg.api_version.as_bytes(),
        cfg.impersonate.as_deref().unwrap_or("").as_bytes(),
        &identity,
    ];
    for f in fields {
        ctx.update(&(f.len() as u64).to_le_bytes());
        ctx.update(f);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

/// The entry for a key, shared by every client with that key.
pub fn entry(key: CacheKey) -> Arc<Entry> {
    let mut registry = lock(&REGISTRY);
    registry
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert_with(|| Arc::new(Entry::private()))
        .clone()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Entry {
    /// An entry of one client's own, not in the process-wide registry.
    pub fn private() -> Entry {
        Entry {
            ready: ArcSwapOption::empty(),
            flight: Mutex::new(Flight::default()),
        }
    }

    /// Run `f` on the cached session if it is still fresh. Lock-free and allocation-free:
    /// the hot path.
    pub fn with_fresh<R>(&self, f: impl FnOnce(&Arc<Session>) -> R) -> Option<R> {
        let guard = self.ready.load();
        match &*guard {
            Some(s) if s.is_fresh(monotonic_ns()) => Some(f(s)),
            _ => None,
        }
    }

    /// The cached session if it is still fresh.
    pub fn cached(&self) -> Option<Arc<Session>> {
        self.with_fresh(Arc::clone)
    }

    /// A fresh cached session, or the one sign-in in flight for this key (started if needed).
    /// With a shared cache, a miss looks there first (a disk cache right here, on the calling
    /// thread, so a fresh process's first call needs no runtime).
    pub fn lookup(
        self: &Arc<Self>,
        cfg: &Arc<ClientConfig>,
        creds: &Arc<Credentials>,
        shared: Option<&Arc<SharedSlot>>,
    ) -> Lookup {
        let pid = std::process::id();
        // The disk cache is read with no lock held: reading may log, and a log record may wait
        // for the GIL, which a thread waiting on our lock could hold.
        let mut from_disk = None;
        let mut looked = false;
        if let Some(slot) = shared {
            if matches!(slot.cache(), SharedCache::Disk(_)) {
                let retired = match self.current_or_waiting(pid) {
                    Ok(found) => return found,
                    Err(retired) => retired,
                };
                from_disk = slot.load_now(cfg, retired.as_ref());
                looked = true;
            }
        }
        let mut flight = lock(&self.flight);
        if let Some(found) = self.settled(&flight, pid) {
            return found;
        }
        if let Some(s) = from_disk {
            let s = Arc::new(s);
            self.ready.store(Some(s.clone()));
            return Lookup::Hit(s);
        }
        let retired = self.retired(&flight);
        let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let task = {
            let entry = self.clone();
            let cfg = cfg.clone();
            let creds = creds.clone();
            let shared = shared.cloned();
            async move {
                let result = match shared {
                    Some(slot) => slot.obtain(&cfg, &creds, retired.as_ref(), looked).await,
                    None => signin::sign_in(&cfg, &creds).await,
                };
                let result = result.map(Arc::new);
                entry.finish(generation, &result);
                result
            }
        };
        let handle = transport::process().runtime().spawn(task);
        let shared = async move {
            handle
                .await
                .unwrap_or_else(|e| Err(Error::Transport(format!("the sign-in task failed: {e}"))))
        }
        .boxed()
        .shared();
        flight.in_flight = Some(InFlight {
            pid,
            generation,
            shared: shared.clone(),
        });
        Lookup::Wait(shared)
    }

    /// A fresh session, or this process's sign-in in flight, if there is one. (A sign-in
    /// started by the parent before a fork has no task here: it is ignored.)
    fn settled(&self, flight: &Flight, pid: u32) -> Option<Lookup> {
        if let Some(s) = self.cached() {
            return Some(Lookup::Hit(s));
        }
        match &flight.in_flight {
            Some(f) if f.pid == pid => Some(Lookup::Wait(f.shared.clone())),
            _ => None,
        }
    }

    /// What [`Entry::settled`] finds (`Ok`), or else the token not to take back.
    fn current_or_waiting(&self, pid: u32) -> std::result::Result<Lookup, Option<Secret>> {
        let flight = lock(&self.flight);
        self.settled(&flight, pid)
            .ok_or_else(|| self.retired(&flight))
    }

    /// The token being replaced (stale here, or invalidated): not to be taken back from a
    /// shared cache.
    fn retired(&self, flight: &Flight) -> Option<Secret> {
        match &*self.ready.load() {
            Some(stale) => Some(stale.token.clone()),
            None => flight.retired.clone(),
        }
    }

    /// Remember `token` as dead (signed out) without touching the cached session.
    pub fn retire(&self, token: &str) {
        lock(&self.flight).retired = Some(Secret::new(token));
    }

    /// Called by the sign-in task: store the result if this sign-in is still the current one.
    /// A failure is not cached (and drops the stale session it was replacing).
    fn finish(&self, generation: u64, result: &SignInResult) {
        let mut flight = lock(&self.flight);
        if flight
            .in_flight
            .as_ref()
            .is_some_and(|f| f.generation == generation)
        {
            flight.in_flight = None;
            self.ready.store(result.as_ref().ok().cloned());
        }
    }

    /// Make `session` the cached one (after an explicit fresh sign-in).
    pub fn store(&self, session: Arc<Session>) {
        self.ready.store(Some(session));
    }

    /// Drop the cached session only if it still has this token (an atomic compare-and-swap).
    /// True if it was dropped.
    pub fn invalidate(&self, token: &str) -> bool {
        self.retire(token);
        let current = self.ready.load();
        let matches = current.as_ref().is_some_and(|s| s.token.expose() == token);
        if !matches {
            return false;
        }
        let previous = self.ready.compare_and_swap(&*current, None);
        let dropped = match (&*previous, &*current) {
            (Some(p), Some(c)) => Arc::ptr_eq(p, c),
            _ => false,
        };
        if dropped {
            log::debug!("session invalidated; the next call signs in again");
        }
        dropped
    }

    /// Drop whatever is cached (sign-out). Returns the session that was cached, if any.
    pub fn take(&self) -> Option<Arc<Session>> {
        self.ready.swap(None)
    }

    /// The cached session even if stale.
    pub fn current(&self) -> Option<Arc<Session>> {
        self.ready.load_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::TransportConfig;
    use crate::core::secret::Secret;
    use std::time::{Duration, SystemTime};

    fn cfg(site: &str) -> ClientConfig {
        ClientConfig::new(
            "https://h",
            site,
            "3.24",
            30.0,
            0,
            "xml",
            None,
            TransportConfig::default(),
        )
        .unwrap()
    }

    fn session(token: &str, fresh_for: Duration) -> Arc<Session> {
        Arc::new(Session {
            token: Secret::new(token),
            site_id: "sid".into(),
            site_content_url: "s".into(),
            user_id: "uid".into(),
            server: "https://h".into(),
            api_version: "3.24".into(),
            signed_in_at: SystemTime::now(),
            expires_at: None,
            refresh_after_ns: crate::core::session::deadline_ns(fresh_for),
        })
    }

    #[test]
    fn keys_differ_by_site_and_secret_and_hold_no_secret() {
        let a = Credentials::personal_access_token("n", "secret-one").unwrap();
        let b = Credentials::personal_access_token("n", "secret-two").unwrap();
        let k = cache_key(&cfg("x"), &a);
        assert_eq!(k, cache_key(&cfg("x"), &a));
        assert_ne!(k, cache_key(&cfg("y"), &a));
        assert_ne!(k, cache_key(&cfg("x"), &b));
        assert!(!k.windows(3).any(|w| w == b"sec"));
    }

    #[test]
    fn invalidate_is_compare_and_swap() {
        let e = entry([7u8; 32]);
        e.store(session("t1", Duration::from_secs(60)));
        assert!(!e.invalidate("other"));
        assert!(e.cached().is_some());
        assert!(e.invalidate("t1"));
        assert!(e.cached().is_none());
        assert!(!e.invalidate("t1"));
    }

    #[test]
    fn stale_sessions_are_not_handed_out() {
        let e = entry([8u8; 32]);
        e.store(session("t", Duration::ZERO));
        assert!(e.cached().is_none());
        assert!(e.current().is_some());
        assert!(Arc::ptr_eq(&entry([8u8; 32]), &e));
    }
}
