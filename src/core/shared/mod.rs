//! Caches shared between processes: on one machine ([`DiskCache`]) or many ([`RedisCache`]).
//!
//! The in-memory entry (`sessions.rs`) stays in front: a hit never reaches these. On a miss the
//! one sign-in task of this process runs [`SharedSlot::obtain`]:
//!
//! 1. a usable session in the shared cache → use it, no sign-in;
//! 2. otherwise take the cross-process lock (polling the cache meanwhile: the holder may
//!    publish a session while we wait), look again, and only then sign in and publish;
//! 3. a cache that cannot be used (Redis down, directory unusable, lock held too long) degrades
//!    to signing in directly. The user's call never fails because of the cache.
//!
//! Entries are sealed ([`seal`]): only holders of the credential's secret can read them.

pub mod disk;
pub mod redis;
pub mod seal;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use disk::{DiskCache, TryLock};
pub use redis::RedisCache;
use seal::Sealer;

use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::{Error, Result};
use super::secret::Secret;
use super::session::Session;
use super::sessions::CacheKey;
use super::signin;

/// A cache shared with other processes.
#[derive(Clone)]
pub enum SharedCache {
    Disk(Arc<DiskCache>),
    Redis(Arc<RedisCache>),
}

/// The shared cache as seen by one cache key and one credential secret.
pub struct SharedSlot {
    cache: SharedCache,
    sealer: Sealer,
}

enum Held {
    Disk(disk::DiskLock),
    Redis(redis::RedisLock),
}

/// What waiting for the lock gave.
enum Turn {
    /// Another process published a usable session meanwhile.
    Found(Session),
    /// Ours: sign in and publish.
    Locked(Held),
    /// The cache cannot coordinate now: go ahead without it.
    Unavailable,
}

/// The longest wait between two looks at the cache while another process signs in.
const MAX_POLL: Duration = Duration::from_millis(25);

impl SharedCache {
    fn name(&self) -> String {
        match self {
            SharedCache::Disk(d) => format!("DiskCache {}", d.dir().display()),
            SharedCache::Redis(r) => format!("RedisCache {}", r.url()),
        }
    }

    /// How long to wait for another process's sign-in (and, for Redis, the lock's TTL);
    /// `None`: long enough for one sign-in with the client's timeout and retries.
    fn lock_timeout(&self) -> Option<Duration> {
        match self {
            SharedCache::Disk(d) => d.lock_timeout,
            SharedCache::Redis(r) => r.lock_timeout,
        }
    }
}

impl SharedSlot {
    /// The slot for `key`. Fails for credentials without a secret of their own (a `Jwt`
    /// minted elsewhere): there is nothing to seal the entry with.
    pub fn new(cache: SharedCache, creds: &Credentials, key: CacheKey) -> Result<SharedSlot> {
        let secret = creds.sealing_secret().ok_or_else(|| {
            Error::Configuration(format!(
                "{} needs credentials with a secret of their own to encrypt the cached session \
                 (a connected app, an external authorization server or unified access token \
                 key, a personal access token or a password); a Jwt minted elsewhere has none: \
                 use cache=\"memory\"",
                cache.name()
            ))
        })?;
        Ok(SharedSlot {
            sealer: Sealer::new(secret, key),
            cache,
        })
    }

    /// The same cache and secret for another key (after a site switch).
    pub fn for_key(&self, creds: &Credentials, key: CacheKey) -> Result<SharedSlot> {
        SharedSlot::new(self.cache.clone(), creds, key)
    }

    pub fn cache(&self) -> &SharedCache {
        &self.cache
    }

    fn key(&self) -> &CacheKey {
        self.sealer.key()
    }

    /// How long a sign-in may hold the lock.
    fn lock_bound(&self, cfg: &ClientConfig) -> Duration {
        self.cache.lock_timeout().unwrap_or_else(|| {
            (cfg.timeout * (cfg.retries + 1) + Duration::from_secs(10))
                .min(Duration::from_secs(600))
        })
    }

    fn open(
        &self,
        cfg: &ClientConfig,
        sealed: Option<Vec<u8>>,
        retired: Option<&Secret>,
    ) -> Option<Session> {
        let session = self.sealer.open(&sealed?, cfg.max_session_age)?;
        if retired.is_some_and(|r| r == &session.token) {
            return None;
        }
        Some(session)
    }

    /// A usable session from the disk cache, read on the calling thread (no runtime needed):
    /// what makes a fresh process's first call cheap. `None` for Redis.
    pub fn load_now(&self, cfg: &ClientConfig, retired: Option<&Secret>) -> Option<Session> {
        match &self.cache {
            SharedCache::Disk(d) => self.open(cfg, d.load(self.key()), retired),
            SharedCache::Redis(_) => None,
        }
    }

    /// A usable session from the shared cache.
    pub async fn load(&self, cfg: &ClientConfig, retired: Option<&Secret>) -> Option<Session> {
        let sealed = match &self.cache {
            SharedCache::Disk(d) => d.load(self.key()),
            SharedCache::Redis(r) => r.load(self.key()).await,
        };
        self.open(cfg, sealed, retired)
    }

    async fn try_lock(&self, ttl: Duration) -> TryLock<Held> {
        match &self.cache {
            SharedCache::Disk(d) => match d.try_lock(self.key()) {
                TryLock::Locked(l) => TryLock::Locked(Held::Disk(l)),
                TryLock::Busy => TryLock::Busy,
                TryLock::Unavailable => TryLock::Unavailable,
            },
            SharedCache::Redis(r) => match r.try_lock(self.key(), ttl).await {
                TryLock::Locked(l) => TryLock::Locked(Held::Redis(l)),
                TryLock::Busy => TryLock::Busy,
                TryLock::Unavailable => TryLock::Unavailable,
            },
        }
    }

    async fn release(&self, held: Held) {
        match held {
            Held::Disk(lock) => drop(lock),
            Held::Redis(lock) => {
                if let SharedCache::Redis(r) = &self.cache {
                    r.release(lock).await;
                }
            }
        }
    }

    /// Wait for our turn to sign in, or for another process's session.
    async fn turn(&self, cfg: &ClientConfig, retired: Option<&Secret>, look_first: bool) -> Turn {
        let bound = self.lock_bound(cfg);
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        let mut look = look_first;
        loop {
            if look {
                if let Some(s) = self.load(cfg, retired).await {
                    return Turn::Found(s);
                }
            }
            look = true;
            match self.try_lock(bound).await {
                TryLock::Locked(held) => return Turn::Locked(held),
                TryLock::Unavailable => return Turn::Unavailable,
                TryLock::Busy => {}
            }
            if started.elapsed() >= bound {
                log::warn!(
                    "{}: another process has held the sign-in lock for {:.0} s; signing in \
                     without it",
                    self.cache.name(),
                    bound.as_secs_f64()
                );
                return Turn::Unavailable;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    async fn put(&self, session: &Session) {
        let sealed = self.sealer.seal(session);
        let stored = match &self.cache {
            SharedCache::Disk(d) => d.store(self.key(), &sealed),
            SharedCache::Redis(r) => {
                r.store(self.key(), &sealed, Sealer::time_to_live(session))
                    .await
            }
        };
        if stored {
            log::debug!(
                "{}: session published for other processes",
                self.cache.name()
            );
        }
    }

    /// A session for this key: another process's if there is a usable one, else ours, signed
    /// in while holding the cross-process lock and then published. `retired` is a token this
    /// process already knows to be dead (never taken from the cache again).
    pub async fn obtain(
        &self,
        cfg: &ClientConfig,
        creds: &Credentials,
        retired: Option<&Secret>,
        looked: bool,
    ) -> Result<Session> {
        match self.turn(cfg, retired, !looked).await {
            Turn::Found(s) => {
                log::debug!(
                    "{}: using a session another process signed in",
                    self.cache.name()
                );
                Ok(s)
            }
            Turn::Locked(held) => {
                // Someone may have published between our last look and taking the lock.
                if let Some(s) = self.load(cfg, retired).await {
                    self.release(held).await;
                    return Ok(s);
                }
                let result = signin::sign_in(cfg, creds).await;
                if let Ok(s) = &result {
                    self.put(s).await;
                }
                self.release(held).await;
                result
            }
            Turn::Unavailable => {
                let result = signin::sign_in(cfg, creds).await;
                if let Ok(s) = &result {
                    self.put(s).await;
                }
                result
            }
        }
    }

    /// Run `f` holding the lock if it can be had (it is done anyway if not).
    async fn locked<T>(&self, cfg: &ClientConfig, f: impl std::future::Future<Output = T>) -> T {
        let held = match self.turn_for_write(cfg).await {
            Some(h) => h,
            None => return f.await,
        };
        let out = f.await;
        self.release(held).await;
        out
    }

    async fn turn_for_write(&self, cfg: &ClientConfig) -> Option<Held> {
        let bound = self.lock_bound(cfg);
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match self.try_lock(bound).await {
                TryLock::Locked(h) => return Some(h),
                TryLock::Unavailable => return None,
                TryLock::Busy if started.elapsed() >= bound => return None,
                TryLock::Busy => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// Publish a session this process signed in explicitly (`sign_in()`, `switch_site`).
    pub async fn publish(&self, cfg: &ClientConfig, session: &Session) {
        self.locked(cfg, self.put(session)).await;
    }

    /// Remove the shared entry only if it still holds `token` (compare-and-swap across
    /// processes). True if it was removed.
    pub async fn remove(&self, cfg: &ClientConfig, token: &str) -> bool {
        let prefix = self.sealer.prefix(token);
        let removed = self
            .locked(cfg, async {
                match &self.cache {
                    SharedCache::Disk(d) => d.remove_if(self.key(), &prefix),
                    SharedCache::Redis(r) => r.remove_if(self.key(), &prefix).await,
                }
            })
            .await;
        if removed {
            log::debug!("{}: shared session removed", self.cache.name());
        }
        removed
    }
}
