//! Caches shared between processes: on one machine ([`DiskCache`]) or many ([`RedisCache`]).
//!
//! The in-memory entry (`sessions.rs`) stays in front: a hit never reaches these. On a miss the
//! one sign-in task of this process runs [`SharedSlot::obtain`]:
//!
//! 1. a usable session in the shared cache → use it, no sign-in;
//! 2. otherwise take the cross-process lock (looking at the cache meanwhile: the holder may
//!    publish a session while we wait), look again, and only then sign in and publish;
//! 3. a cache that cannot be used (Redis down, directory unusable) degrades to signing in
//!    directly. The user's call never fails because of the cache.
//!
//! The lock holder renews its lock every third of `lock_timeout` while it works (Redis: the
//! key's TTL; disk: the lock file's mtime), so a slow sign-in (429 back-off, retries) keeps it,
//! while a holder that died or hung blocks the others for at most `lock_timeout`. A dead disk
//! holder releases at once (the OS drops its `flock`).
//!
//! Entries are sealed ([`seal`]): only holders of the credential's secret can read them, or even
//! tell which file or key is whose.

pub mod disk;
pub mod redis;
pub mod seal;
pub mod store;

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::{digest, pbkdf2};

pub use disk::DiskCache;
pub use redis::RedisCache;
use seal::Sealer;
pub use store::SharedStore;
use store::{StorageId, StoreLock, Stuck, TryLock};

use super::cache_key::CacheKey;
use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::{Error, Result};
use super::redact::Secret;
use super::session::Session;
use super::signin;
use super::stats;

/// The default `lock_timeout`: how long a lock holder that stopped working can block others.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(15);
/// `invalidate`/`sign_out` wait at most this long for the lock. Without it a disk entry is left
/// for its holder (this process has retired the token); Redis removes atomically either way.
const REMOVE_WAIT: Duration = Duration::from_secs(2);
/// The longest wait between two looks at the cache while another process signs in.
const MAX_POLL: Duration = Duration::from_millis(25);
/// PBKDF2 rounds that stretch a password before it keys a shared entry (passwords are guessable;
/// connected-app secrets, PAT secrets and private keys are not): OWASP's figure for
/// PBKDF2-HMAC-SHA256 (2023). Changing it needs a new entry format version (`seal::MAGIC`).
const PASSWORD_ROUNDS: u32 = 600_000;

/// Lower-case hex, for file names and Redis keys.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A cache shared with other processes.
#[derive(Clone)]
pub enum SharedCache {
    Disk(Arc<DiskCache>),
    Redis(Arc<RedisCache>),
}

/// The shared cache as seen by one cache key and one credential secret.
pub struct SharedSlot {
    store: Arc<dyn SharedStore>,
    /// Which kind of store, for the counters (`stats.rs`).
    kind: stats::Store,
    material: Material,
    key: CacheKey,
    /// Made on first use (see [`SharedSlot::sealer`]).
    sealer: OnceLock<Sealer>,
    /// What marks a session as held by this store under this key (`session::StoredIn`).
    mark: u64,
}

/// What waiting for the lock gave.
enum Turn {
    /// Another process published a usable session meanwhile.
    Found(Session),
    /// Ours: sign in and publish.
    Locked(StoreLock),
    /// The cache cannot coordinate now: go ahead without it.
    Unavailable,
}

impl SharedCache {
    /// Which kind of store, for the counters.
    pub fn kind(&self) -> stats::Store {
        match self {
            SharedCache::Disk(_) => stats::Store::Disk,
            SharedCache::Redis(_) => stats::Store::Redis,
        }
    }

    /// The backend, behind the one interface the slot uses.
    pub fn store(&self) -> Arc<dyn SharedStore> {
        match self {
            SharedCache::Disk(d) => d.clone(),
            SharedCache::Redis(r) => r.clone(),
        }
    }
}

/// The longest one sign-in with this configuration can take: every try's timeout, the
/// rate-limit waits between them, and their back-off. Waiting longer than this for another
/// process is pointless.
fn sign_in_bound(cfg: &ClientConfig) -> Duration {
    let tries = cfg.retries + 1;
    (cfg.timeout * tries + cfg.rate_limit_max_wait * cfg.retries + Duration::from_secs(30))
        .min(Duration::from_secs(3600))
}

/// What keys a shared entry: the credential's own secret, or for a password, the password
/// stretched with PBKDF2 (slow on purpose, so it is done lazily, on a blocking thread).
#[derive(Clone)]
enum Material {
    Secret(Arc<[u8]>),
    Password { username: String, password: Secret },
}

/// Passwords already stretched in this process, by a digest of (username, password). The lock
/// is held only to look up or insert, never while stretching (a fork taken meanwhile must not
/// inherit it locked).
static STRETCHED: Mutex<Option<HashMap<[u8; 32], [u8; 32]>>> = Mutex::new(None);

impl Material {
    fn of(creds: &Credentials) -> Option<Material> {
        let secret = creds.sealing_secret()?;
        Some(match creds {
            Credentials::Password { username, password } => Material::Password {
                username: username.clone(),
                password: password.clone(),
            },
            _ => Material::Secret(Arc::from(secret)),
        })
    }

    fn memo_key(username: &str, password: &Secret) -> [u8; 32] {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&(username.len() as u64).to_le_bytes());
        ctx.update(username.as_bytes());
        ctx.update(password.expose().as_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(ctx.finish().as_ref());
        k
    }

    /// The key material if it costs nothing now (not a password, or one already stretched).
    fn ready(&self) -> Option<Vec<u8>> {
        match self {
            Material::Secret(s) => Some(s.to_vec()),
            Material::Password { username, password } => {
                let k = Material::memo_key(username, password);
                let memo = STRETCHED.lock().unwrap_or_else(|e| e.into_inner());
                memo.as_ref()?.get(&k).map(|v| v.to_vec())
            }
        }
    }

    /// The key material, stretching a password if need be (~0.2 s; call off the event loop).
    fn compute(&self) -> Vec<u8> {
        if let Some(ready) = self.ready() {
            return ready;
        }
        let Material::Password { username, password } = self else {
            unreachable!("only passwords need stretching");
        };
        let mut out = [0u8; 32];
        let salt = [
            b"tableau_connected_auth/password/v2/".as_slice(),
            username.as_bytes(),
        ]
        .concat();
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            NonZeroU32::new(PASSWORD_ROUNDS).expect("non-zero"),
            &salt,
            password.expose().as_bytes(),
            &mut out,
        );
        STRETCHED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(Material::memo_key(username, password), out);
        out.to_vec()
    }
}

impl SharedSlot {
    /// The slot for `key`. Fails for credentials without a secret of their own (a `Jwt`
    /// minted elsewhere): there is nothing to seal the entry with. No slow work here: a
    /// password is stretched on first use, on a blocking thread.
    pub fn new(cache: &SharedCache, creds: &Credentials, key: CacheKey) -> Result<SharedSlot> {
        SharedSlot::in_store(cache.store(), cache.kind(), creds, key)
    }

    fn in_store(
        store: Arc<dyn SharedStore>,
        kind: stats::Store,
        creds: &Credentials,
        key: CacheKey,
    ) -> Result<SharedSlot> {
        let material = Material::of(creds).ok_or_else(|| {
            Error::Configuration(format!(
                "{} needs credentials with a secret of their own to encrypt the cached session \
                 (a connected app, an external authorization server or unified access token \
                 key, a personal access token or a password); a Jwt minted elsewhere has none: \
                 use cache=\"memory\"",
                store.name()
            ))
        })?;
        let mark = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (store.name(), key).hash(&mut h);
            h.finish().max(1) // 0 means "no store"
        };
        let slot = SharedSlot {
            store,
            kind,
            material,
            key,
            sealer: OnceLock::new(),
            mark,
        };
        slot.sealer_now();
        Ok(slot)
    }

    /// The sealer if it can be had without slow work.
    fn sealer_now(&self) -> Option<&Sealer> {
        if let Some(s) = self.sealer.get() {
            return Some(s);
        }
        let material = self.material.ready()?;
        Some(self.sealer.get_or_init(|| Sealer::new(&material, self.key)))
    }

    /// The sealer, stretching a password on a blocking thread if need be.
    async fn sealer(&self) -> &Sealer {
        if let Some(s) = self.sealer_now() {
            return s;
        }
        let material = self.material.clone();
        let stretched = match tokio::task::spawn_blocking(move || material.compute()).await {
            Ok(m) => m,
            // The blocking pool is gone (runtime shutting down): stretch here.
            Err(_) => self.material.compute(),
        };
        self.sealer
            .get_or_init(|| Sealer::new(&stretched, self.key))
    }

    /// The same cache and secret for another key (after a site switch).
    pub fn for_key(&self, creds: &Credentials, key: CacheKey) -> Result<SharedSlot> {
        SharedSlot::in_store(self.store.clone(), self.kind, creds, key)
    }

    /// The sealer, made here if an entry point did not await [`SharedSlot::sealer`] first.
    fn keys(&self) -> &Sealer {
        self.sealer
            .get_or_init(|| Sealer::new(&self.material.compute(), self.key))
    }

    /// Where this slot's entry lives (file name stem / Redis key suffix).
    fn id(&self) -> &StorageId {
        self.keys().storage_id()
    }

    fn open(
        &self,
        cfg: &ClientConfig,
        sealed: Option<Vec<u8>>,
        retired: Option<&Secret>,
    ) -> Option<Session> {
        let session = self.keys().open(&sealed?, cfg.max_session_age)?;
        if retired.is_some_and(|r| r == &session.token) {
            return None;
        }
        session.stored_in.set(self.mark);
        Some(session)
    }

    /// A look at the shared cache on the calling thread (no runtime needed), if the backend
    /// can read there (a disk cache): what makes a fresh process's first call cheap. `None`:
    /// it cannot (Redis); `Some(None)`: nothing usable, or a password still needs stretching
    /// (that is not done on this thread).
    pub fn peek(&self, cfg: &ClientConfig, retired: Option<&Secret>) -> Option<Option<Session>> {
        if !self.store.reads_on_calling_thread() {
            return None;
        }
        if self.sealer_now().is_none() {
            return Some(None);
        }
        let found = self.open(cfg, self.store.load_now(self.id()), retired);
        if found.is_some() {
            stats::shared_lookup(self.kind, true);
        }
        Some(found)
    }

    /// A usable session from the shared cache.
    pub async fn load(&self, cfg: &ClientConfig, retired: Option<&Secret>) -> Option<Session> {
        self.sealer().await;
        let sealed = self.store.load(self.id()).await;
        self.open(cfg, sealed, retired)
    }

    /// Run `work` holding `held`, renewing it every third of `lock_timeout` meanwhile.
    async fn holding<T>(&self, held: &StoreLock, work: impl Future<Output = T>) -> T {
        let every = self.store.lock_timeout() / 3;
        let renewing = async {
            loop {
                tokio::time::sleep(every).await;
                self.store.renew(held).await;
            }
        };
        tokio::select! {
            out = work => out,
            _ = renewing => unreachable!("renewing never ends"),
        }
    }

    /// Wait for the lock for at most `bound`. With `look`, also look for another process's
    /// session while waiting (`retired` excluded); `look_first`: before the first try too.
    async fn turn(
        &self,
        cfg: &ClientConfig,
        look: Option<Option<&Secret>>,
        look_first: bool,
        bound: Duration,
    ) -> Turn {
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        let mut first = true;
        loop {
            if let Some(retired) = look {
                if !first || look_first {
                    if let Some(s) = self.load(cfg, retired).await {
                        return Turn::Found(s);
                    }
                }
            }
            first = false;
            match self.store.try_lock(self.id()).await {
                TryLock::Locked(held) => return Turn::Locked(held),
                TryLock::Unavailable => return Turn::Unavailable,
                TryLock::Busy => {}
            }
            let waited = started.elapsed();
            if waited >= bound {
                return Turn::Unavailable;
            }
            match self.store.holder_stuck(self.id(), waited).await {
                Stuck::No => {}
                Stuck::GoAhead => {
                    log::warn!(
                        "{}: the process holding the sign-in lock has not renewed it for {:.0} \
                         s; signing in without it",
                        self.store.name(),
                        waited.as_secs_f64()
                    );
                    return Turn::Unavailable;
                }
                Stuck::Broken => {
                    log::warn!(
                        "{}: the sign-in lock has no expiry (no TTL) after {:.0} s of waiting; \
                         removed it",
                        self.store.name(),
                        waited.as_secs_f64()
                    );
                    continue;
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// The lock, if it can be had within `bound` (without looking at the cache meanwhile).
    async fn lock_within(&self, cfg: &ClientConfig, bound: Duration) -> Option<StoreLock> {
        match self.turn(cfg, None, false, bound).await {
            Turn::Locked(h) => Some(h),
            Turn::Found(_) | Turn::Unavailable => None,
        }
    }

    async fn put(&self, session: &Session) {
        let sealed = self.keys().seal(session);
        let stored = self
            .store
            .store(self.id(), &sealed, Sealer::time_to_live(session))
            .await;
        if stored {
            session.stored_in.set(self.mark);
            log::debug!(
                "{}: session published for other processes",
                self.store.name()
            );
        }
    }

    /// True (once) if `session`, found in this process's cache, is not known to be in this
    /// store: the caller then has it adopted. Cheap: the cache-hit path asks.
    pub fn should_adopt(&self, session: &Session) -> bool {
        if session.stored_in.is(self.mark) {
            return false;
        }
        session.stored_in.set(self.mark); // one adoption per session, not one per hit
        true
    }

    /// Publish `session` (signed in by a client of this process without this cache) unless
    /// the store already holds a usable session, which may be another process's newer one;
    /// holding the store's lock when it can be had, so no other process's sign-in publishes
    /// meanwhile (without it, as a sign-in does when the store cannot coordinate).
    pub async fn adopt(&self, cfg: &ClientConfig, session: &Session) {
        self.sealer().await;
        let held = self.lock_within(cfg, sign_in_bound(cfg)).await;
        if self.load(cfg, None).await.is_none() {
            self.put(session).await;
        }
        if let Some(h) = held {
            self.store.release(h).await;
        }
    }

    /// Sign in holding the lock (renewed meanwhile) and publish the session.
    async fn sign_in_holding(
        &self,
        held: Option<StoreLock>,
        sign_in: impl Future<Output = Result<Session>>,
    ) -> Result<Session> {
        let result = match &held {
            Some(h) => self.holding(h, sign_in).await,
            None => sign_in.await,
        };
        if let Ok(s) = &result {
            self.put(s).await;
        }
        if let Some(h) = held {
            self.store.release(h).await;
        }
        result
    }

    /// A session for this key: another process's if there is a usable one, else ours, signed
    /// in while holding the cross-process lock and then published. `retired` is a token this
    /// process already knows to be dead (never taken from the cache again); `looked` says the
    /// caller just looked in the cache.
    pub async fn obtain(
        &self,
        cfg: &ClientConfig,
        creds: &Credentials,
        retired: Option<&Secret>,
        looked: bool,
    ) -> Result<Session> {
        self.sealer().await;
        let bound = sign_in_bound(cfg);
        let held = match self.turn(cfg, Some(retired), !looked, bound).await {
            Turn::Found(s) => {
                log::debug!(
                    "{}: using a session another process signed in",
                    self.store.name()
                );
                stats::shared_lookup(self.kind, true);
                return Ok(s);
            }
            Turn::Locked(held) => {
                // Someone may have published between our last look and taking the lock.
                if let Some(s) = self.load(cfg, retired).await {
                    self.store.release(held).await;
                    stats::shared_lookup(self.kind, true);
                    return Ok(s);
                }
                Some(held)
            }
            Turn::Unavailable => None,
        };
        stats::shared_lookup(self.kind, false);
        self.sign_in_holding(held, signin::sign_in(cfg, creds))
            .await
    }

    /// Run `sign_in` (an explicit fresh sign-in, or a site switch that yields this key's
    /// session) holding the lock, and publish what it gives: no other process can publish an
    /// older session over it.
    pub async fn publish_from(
        &self,
        cfg: &ClientConfig,
        sign_in: impl Future<Output = Result<Session>>,
    ) -> Result<Session> {
        self.sealer().await;
        let held = self.lock_within(cfg, sign_in_bound(cfg)).await;
        self.sign_in_holding(held, sign_in).await
    }

    /// Remove the shared entry only if it still holds `token` (compare-and-swap across
    /// processes). True if it was removed.
    pub async fn remove(&self, cfg: &ClientConfig, token: &str) -> bool {
        let prefix = self.sealer().await.prefix(token);
        let held = self.lock_within(cfg, REMOVE_WAIT).await;
        let removed = if held.is_none() && self.store.removal_needs_lock() {
            // This process has retired the token already and never takes it back.
            log::debug!(
                "{}: the sign-in lock could not be had within {:.0} s; the shared entry is \
                 left for its holder",
                self.store.name(),
                REMOVE_WAIT.as_secs_f64()
            );
            false
        } else {
            self.store
                .remove_if(self.id(), &prefix, held.as_ref())
                .await
        };
        if let Some(h) = held {
            self.store.release(h).await;
        }
        if removed {
            log::debug!("{}: shared session removed", self.store.name());
        }
        removed
    }
}
