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
//! - The entry knows nothing of where a missing session comes from: the client (`client.rs`,
//!   the one owner of the session lifecycle) gives each lookup a quick look (a disk cache read
//!   on the calling thread) and the sign-in task (which may go through a shared cache).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use arc_swap::ArcSwapOption;
use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::cache_key::CacheKey;
use super::config::ClientConfig;
use super::error::{Error, Result};
use super::missing_scopes::MissingScopes;
use super::redact::Secret;
use super::session::{monotonic_ns, Session};
use super::signin;
use super::stats::{self, Why};
use super::transport;

/// The shared result of one sign-in.
pub type SignInResult = Result<Arc<Session>>;
/// One sign-in that every caller who missed waits on.
pub type PendingSignIn = Shared<BoxFuture<'static, SignInResult>>;

/// A sign-in in flight in this process.
struct InFlight {
    pid: u32,
    generation: u64,
    pending: PendingSignIn,
}

/// The cached session (or sign-in in flight) for one key.
pub struct Entry {
    /// The cached session. Read without a lock: the cache-hit path is one atomic load.
    ready: ArcSwapOption<Session>,
    /// The sign-in in flight, the retired token and the entry's user. Held to start a sign-in,
    /// to store one's result and to admit a session; `ready` itself changes only by atomic
    /// swaps (`invalidate` is a compare-and-swap, so it needs no lock).
    flight: Mutex<Flight>,
    /// What calls learned about 401002 on this entry's JWT sessions.
    missing_scopes: MissingScopes,
}

#[derive(Default)]
struct Flight {
    in_flight: Option<InFlight>,
    /// The last token invalidated here: known dead, so never taken from a shared cache again.
    retired: Option<Secret>,
    /// The user (LUID) of this entry's first session: every later session must be the same
    /// user's, or it is refused (a `Jwt` source that changed who it mints for).
    owner: Option<String>,
    /// The cached session was dropped as dead since the last sign-in started (for `stats.rs`).
    dropped_as_dead: bool,
}

/// What a lookup found: a live session, or a sign-in to wait for.
pub enum Lookup {
    Hit(Arc<Session>),
    Wait(PendingSignIn),
}

impl Lookup {
    /// The session, waiting for the sign-in if need be (the wait is counted, `stats.rs`).
    pub async fn session(self) -> SignInResult {
        match self {
            Lookup::Hit(s) => Ok(s),
            Lookup::Wait(pending) => {
                let started = std::time::Instant::now();
                let result = pending.await;
                stats::waited_for_sign_in(started.elapsed());
                result
            }
        }
    }
}

/// How the registry holds an entry: for good when a later client can compute its key again,
/// or only while a live client holds it (a `Jwt` with a random identity of its own: once its
/// clients are gone, nothing can reach the entry, so it is freed).
enum Held {
    Kept(Arc<Entry>),
    WhileUsed(Weak<Entry>),
}

impl Held {
    fn get(&self) -> Option<Arc<Entry>> {
        match self {
            Held::Kept(e) => Some(e.clone()),
            Held::WhileUsed(w) => w.upgrade(),
        }
    }

    fn alive(&self) -> bool {
        match self {
            Held::Kept(_) => true,
            Held::WhileUsed(w) => w.strong_count() > 0,
        }
    }
}

static REGISTRY: Mutex<Option<HashMap<CacheKey, Held>>> = Mutex::new(None);
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The entry for a key, shared by every client with that key. `kept`: held for good (a later
/// client can compute the same key); otherwise only while some client holds it.
pub fn entry(key: CacheKey, kept: bool) -> Arc<Entry> {
    let mut guard = lock(&REGISTRY);
    let registry = guard.get_or_insert_with(HashMap::new);
    if let Some(found) = registry.get(&key).and_then(Held::get) {
        return found;
    }
    // A new entry: first forget those no live client can reach any more.
    registry.retain(|_, held| held.alive());
    let entry = Arc::new(Entry::private());
    let held = if kept {
        Held::Kept(entry.clone())
    } else {
        Held::WhileUsed(Arc::downgrade(&entry))
    };
    registry.insert(key, held);
    entry
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Admit `session` to an entry: the first one names the entry's user; later ones must be that
/// user's. (A session is never handed to a caller it was not signed in for.)
fn admit(flight: &mut Flight, session: &Session) -> Result<()> {
    match &flight.owner {
        None => {
            flight.owner = Some(session.user_id.clone());
            Ok(())
        }
        Some(owner) if *owner == session.user_id => Ok(()),
        Some(owner) => Err(Error::Configuration(format!(
            "these credentials signed in as another user (id {}) than this client's first \
             sign-in (id {owner}); the session was refused and signed out. A Jwt callable \
             must mint JWTs for one user: give each user a Jwt of its own (or the same \
             identity= only to Jwts for the same user)",
            session.user_id
        ))),
    }
}

/// Sign out a session that was refused, in the background (it must not live on unused).
/// Called with no lock held (it may build the runtime).
fn sign_out_stray(cfg: &Arc<ClientConfig>, session: Session) {
    let cfg = cfg.clone();
    transport::process().runtime().spawn(async move {
        let _ = signin::sign_out(&cfg, &session).await;
    });
}

impl Entry {
    /// An entry of one client's own, not in the process-wide registry.
    pub fn private() -> Entry {
        Entry {
            ready: ArcSwapOption::empty(),
            flight: Mutex::new(Flight::default()),
            missing_scopes: MissingScopes::default(),
        }
    }

    /// What calls learned about 401002 on this entry's sessions (see `missing_scopes.rs`).
    pub fn missing_scopes(&self) -> &MissingScopes {
        &self.missing_scopes
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
    ///
    /// On a miss, with no lock held, `peek` may look somewhere quick for a session (`None`: it
    /// did not look; `Some(found)`: it did). It is given the token not to take back (stale
    /// here, or invalidated). `sign_in` makes the sign-in task, given that token and whether
    /// `peek` looked.
    pub fn lookup<P, S>(self: &Arc<Self>, cfg: &Arc<ClientConfig>, peek: P, sign_in: S) -> Lookup
    where
        P: FnOnce(Option<&Secret>) -> Option<Option<Session>>,
        S: FnOnce(Option<Secret>, bool) -> BoxFuture<'static, Result<Session>>,
    {
        let pid = super::transport::pid();
        // Looked with no lock held: a look may log, and a log record may wait for the GIL,
        // which a thread waiting on our lock could hold.
        let retired = match self.current_or_waiting(pid) {
            Ok(found) => {
                match &found {
                    Lookup::Hit(_) => stats::memory_hit(),
                    Lookup::Wait(_) => stats::memory_miss(),
                }
                return found;
            }
            Err(retired) => retired,
        };
        stats::memory_miss();
        let (peeked, looked) = match peek(retired.as_ref()) {
            Some(found) => (found, true),
            None => (None, false),
        };
        // A miss signs in on the runtime: built (on a process's first call, a forked child's
        // too) before our lock is taken, as building starts threads and a fork meanwhile must
        // not find the lock held. A session found by the look needs no runtime at all.
        let runtime = peeked.is_none().then(|| transport::process().runtime());
        let mut flight = lock(&self.flight);
        if let Some(found) = self.settled(&flight, pid) {
            return found;
        }
        if let Some(s) = peeked.filter(|s| admit(&mut flight, s).is_ok()) {
            let s = Arc::new(s);
            self.ready.store(Some(s.clone()));
            return Lookup::Hit(s);
        }
        let retired = self.retired(&flight);
        stats::sign_in_started(if self.ready.load().is_some() {
            Why::Refresh
        } else if std::mem::take(&mut flight.dropped_as_dead) {
            Why::Dead
        } else {
            Why::First
        });
        let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let task = {
            let entry = self.clone();
            let cfg = cfg.clone();
            let signing_in = sign_in(retired, looked);
            async move {
                let result = signing_in.await;
                entry.finish(generation, result, &cfg)
            }
        };
        // (Built under the lock only after a session of another user was refused.)
        let runtime = runtime.unwrap_or_else(|| transport::process().runtime());
        let handle = runtime.spawn(task);
        let pending = async move {
            handle
                .await
                .unwrap_or_else(|e| Err(Error::Transport(format!("the sign-in task failed: {e}"))))
        }
        .boxed()
        .shared();
        flight.in_flight = Some(InFlight {
            pid,
            generation,
            pending: pending.clone(),
        });
        Lookup::Wait(pending)
    }

    /// A fresh session, or this process's sign-in in flight, if there is one. (A sign-in
    /// started by the parent before a fork has no task here: it is ignored.)
    fn settled(&self, flight: &Flight, pid: u32) -> Option<Lookup> {
        if let Some(s) = self.cached() {
            return Some(Lookup::Hit(s));
        }
        match &flight.in_flight {
            Some(f) if f.pid == pid => Some(Lookup::Wait(f.pending.clone())),
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

    /// This process's sign-in in flight, if there is one.
    pub fn in_flight(&self) -> Option<PendingSignIn> {
        let pid = super::transport::pid();
        match &lock(&self.flight).in_flight {
            Some(f) if f.pid == pid => Some(f.pending.clone()),
            _ => None,
        }
    }

    /// Remember `token` as dead (signed out) without touching the cached session.
    pub fn retire(&self, token: &str) {
        lock(&self.flight).retired = Some(Secret::new(token));
    }

    /// Called by the sign-in task: admit the session (same user as the entry's first), and
    /// store the result if this sign-in is still the current one. A failure is not cached (and
    /// drops the stale session it was replacing).
    fn finish(
        &self,
        generation: u64,
        result: Result<Session>,
        cfg: &Arc<ClientConfig>,
    ) -> SignInResult {
        let mut flight = lock(&self.flight);
        let mut stray = None;
        let result = result.and_then(|s| match admit(&mut flight, &s) {
            Ok(()) => Ok(Arc::new(s)),
            Err(e) => {
                stray = Some(s);
                Err(e)
            }
        });
        if flight
            .in_flight
            .as_ref()
            .is_some_and(|f| f.generation == generation)
        {
            flight.in_flight = None;
            self.ready.store(result.as_ref().ok().cloned());
        }
        drop(flight);
        if let Some(s) = stray {
            sign_out_stray(cfg, s);
        }
        result
    }

    /// Make `session` the cached one (after an explicit fresh sign-in, or a site switch), if
    /// it is the entry's user's.
    pub fn store(&self, session: Session, cfg: &Arc<ClientConfig>) -> SignInResult {
        let mut flight = lock(&self.flight);
        if let Err(e) = admit(&mut flight, &session) {
            drop(flight);
            sign_out_stray(cfg, session);
            return Err(e);
        }
        let session = Arc::new(session);
        self.ready.store(Some(session.clone()));
        Ok(session)
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
            lock(&self.flight).dropped_as_dead = true;
            log::debug!("session invalidated; the next call signs in again");
        }
        dropped
    }

    /// Drop whatever is cached (sign-out). Returns the session that was cached, if any.
    pub fn take(&self) -> Option<Arc<Session>> {
        self.ready.swap(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::Secret;
    use std::time::{Duration, SystemTime};

    fn cfg(site: &str) -> ClientConfig {
        crate::config::test_config(site)
    }

    fn session(token: &str, fresh_for: Duration) -> Session {
        Session {
            token: Secret::new(token),
            realm: crate::session::Realm::Site {
                id: "sid".into(),
                content_url: "s".into(),
            },
            user_id: "uid".into(),
            server: "https://h".into(),
            api_version: "3.24".into(),
            signed_in_at: SystemTime::now(),
            expires_at: None,
            refresh_after_ns: crate::session::deadline_ns(fresh_for),
            stored_in: Default::default(),
        }
    }

    #[test]
    fn invalidate_is_compare_and_swap() {
        let e = entry([7u8; 32], true);
        e.store(session("t1", Duration::from_secs(60)), &Arc::new(cfg("x")))
            .unwrap();
        assert!(!e.invalidate("other"));
        assert!(e.cached().is_some());
        assert!(e.invalidate("t1"));
        assert!(e.cached().is_none());
        assert!(!e.invalidate("t1"));
    }

    #[test]
    fn a_session_of_another_user_is_refused() {
        let e = entry([9u8; 32], true);
        let cfg = Arc::new(cfg("x"));
        e.store(session("t1", Duration::from_secs(60)), &cfg)
            .unwrap();
        let mut other = session("t2", Duration::from_secs(60));
        other.user_id = "someone-else".into();
        match e.store(other, &cfg) {
            Err(Error::Configuration(m)) => assert!(m.contains("another user"), "{m}"),
            other => panic!("{:?}", other.map(|s| s.user_id.clone())),
        }
        assert_eq!(e.cached().unwrap().token.expose(), "t1");
    }

    #[test]
    fn entries_only_live_clients_can_reach_are_freed() {
        let key = [10u8; 32];
        let e = entry(key, false);
        assert!(Arc::ptr_eq(&entry(key, false), &e));
        drop(e);
        // The next new entry sweeps the dead one out.
        let _other = entry([11u8; 32], false);
        assert!(!lock(&REGISTRY).as_ref().unwrap().contains_key(&key));
    }

    #[test]
    fn stale_sessions_are_not_handed_out() {
        let e = entry([8u8; 32], true);
        e.store(session("t", Duration::ZERO), &Arc::new(cfg("x")))
            .unwrap();
        assert!(e.cached().is_none());
        // Still there (its token is the one a re-sign-in must not take back), only not handed out.
        assert!(e.ready.load().is_some());
        assert!(Arc::ptr_eq(&entry([8u8; 32], true), &e));
    }
}
