//! `RedisCache`: sessions shared by processes on many machines through Redis.
//!
//! - Entries are sealed sessions under `{prefix}:session:{key}`, expiring at the session's
//!   refresh point.
//! - Single-flight across machines: `SET {prefix}:lock:{key} <random> NX PX <ttl>`, released by
//!   a script only if it still holds our random value; the TTL bounds how long a crashed holder
//!   blocks the others.
//! - Redis being down never fails a call: every operation gives up quickly, the outage is logged
//!   once, and the cache is skipped for a short while before it is tried again.
//! - One multiplexed connection per process, on the process runtime; a forked child makes its
//!   own (the parent's is leaked: its driver task lives on the parent's runtime).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};

use futures_util::future::{BoxFuture, FutureExt};

use super::store::{SharedStore, StorageId, StoreLock, Stuck, TryLock};
use super::{hex, DEFAULT_LOCK_TIMEOUT};
use crate::error::{Error, Result};
use crate::redact::mask_url;
use crate::session::{deadline_ns, monotonic_ns};

/// How long one Redis operation (or connecting) may take before Redis counts as down.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failure, Redis is skipped for this long.
const RETRY_AFTER_OUTAGE: Duration = Duration::from_secs(2);
pub const DEFAULT_PREFIX: &str = "tableau_connected_auth";

const RELEASE_LOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

const RENEW_LOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0";

/// Delete a lock key that cannot be a live holder's: one with no TTL (every holder sets one and
/// renews it; a key without is left by something else, or by a bug, and would never expire).
const BREAK_STUCK_LOCK: &str = r"
if redis.call('PTTL', KEYS[1]) == -1 then
  return redis.call('DEL', KEYS[1])
end
return 0";

const REMOVE_IF_PREFIX: &str = r"
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1])) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

pub struct RedisCache {
    client: redis::Client,
    url_shown: String,
    prefix: String,
    connection: Mutex<Option<(u32, MultiplexedConnection)>>,
    /// `monotonic_ns()` before which Redis is not tried (after a failure).
    skip_until: AtomicU64,
    /// An outage was logged and Redis has not answered since.
    in_outage: AtomicBool,
    /// The lock key's TTL, renewed every third of it while its holder works: how long a
    /// crashed holder can block the others. `None`: `shared::DEFAULT_LOCK_TIMEOUT`.
    pub lock_timeout: Option<Duration>,
}

/// The lock on one key, with the random value that proves it is ours.
pub struct RedisLock {
    key: String,
    token: String,
}

impl RedisCache {
    /// Check the URL and prefix; no I/O (the connection is made on first use).
    pub fn new(url: &str, prefix: &str) -> Result<RedisCache> {
        let shown = mask_url(url);
        let scheme_ok = ["redis://", "rediss://", "redis+unix://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s));
        if !scheme_ok {
            return Err(Error::Configuration(format!(
                "RedisCache url {shown:?} is not a Redis URL: give e.g. \
                 \"redis://127.0.0.1:6379/0\" (or rediss:// for TLS)"
            )));
        }
        let client = redis::Client::open(url).map_err(|e| {
            Error::Configuration(format!(
                "RedisCache url {shown:?} is not valid ({:?}): give e.g. \"redis://host:6379/0\"",
                e.kind()
            ))
        })?;
        if prefix.is_empty() || prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::Configuration(
                "RedisCache prefix must be a non-empty string without spaces".into(),
            ));
        }
        Ok(RedisCache {
            client,
            url_shown: shown,
            prefix: prefix.to_string(),
            connection: Mutex::new(None),
            skip_until: AtomicU64::new(0),
            in_outage: AtomicBool::new(false),
            lock_timeout: None,
        })
    }

    /// The URL with its password masked.
    pub fn url(&self) -> &str {
        &self.url_shown
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn entry_key(&self, key: &StorageId) -> String {
        format!("{}:session:{}", self.prefix, hex(key))
    }

    fn lock_key(&self, key: &StorageId) -> String {
        format!("{}:lock:{}", self.prefix, hex(key))
    }

    /// This process's connection, made if needed; `None` while Redis is down (unless `force`:
    /// releasing a lock is worth one try even then).
    async fn connection(&self, force: bool) -> Option<MultiplexedConnection> {
        if !force && monotonic_ns() < self.skip_until.load(Ordering::Relaxed) {
            return None;
        }
        let pid = crate::transport::pid();
        {
            let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
            match slot.take() {
                Some((p, c)) if p == pid => {
                    *slot = Some((p, c.clone()));
                    return Some(c);
                }
                // Inherited from the parent: its driver is on the parent's runtime.
                Some(inherited) => std::mem::forget(inherited),
                None => {}
            }
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(OPERATION_TIMEOUT))
            .set_response_timeout(Some(OPERATION_TIMEOUT));
        match self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(c) => {
                *self.connection.lock().unwrap_or_else(|e| e.into_inner()) = Some((pid, c.clone()));
                Some(c)
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// Note a failure: log the outage once, skip Redis for a while, reconnect next time.
    fn failed(&self, e: &redis::RedisError) {
        self.skip_until
            .store(deadline_ns(RETRY_AFTER_OUTAGE), Ordering::Relaxed);
        *self.connection.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if !self.in_outage.swap(true, Ordering::Relaxed) {
            log::warn!(
                "RedisCache {}: Redis is not answering ({:?}); signing in directly until it is back",
                self.url_shown,
                e.kind()
            );
        }
    }

    fn answered(&self) {
        if self.in_outage.swap(false, Ordering::Relaxed) {
            log::info!("RedisCache {}: Redis answers again", self.url_shown);
        }
    }

    /// Run one command; `None` if Redis is down or failed.
    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        let mut c = self.connection(false).await?;
        self.outcome(cmd.query_async::<T>(&mut c).await)
    }

    /// A reply, noting whether Redis answered.
    fn outcome<T>(&self, reply: redis::RedisResult<T>) -> Option<T> {
        match reply {
            Ok(v) => {
                self.answered();
                Some(v)
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    async fn script(&self, source: &str, key: String, args: &[&[u8]], force: bool) -> Option<i64> {
        let mut c = self.connection(force).await?;
        let script = Script::new(source);
        let mut invocation = script.key(key);
        for a in args {
            invocation.arg(*a);
        }
        self.outcome(invocation.invoke_async::<i64>(&mut c).await)
    }

    /// The sealed bytes cached for `key`.
    pub async fn load(&self, key: &StorageId) -> Option<Vec<u8>> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(self.entry_key(key));
        self.run::<Option<Vec<u8>>>(cmd).await.flatten()
    }

    /// Cache `sealed` under `key` for `ttl`.
    pub async fn store(&self, key: &StorageId, sealed: &[u8], ttl: Duration) -> bool {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.entry_key(key))
            .arg(sealed)
            .arg("PX")
            .arg(ttl.as_millis().clamp(1_000, u64::MAX as u128) as u64);
        self.run::<()>(cmd).await.is_some()
    }

    /// Remove the entry for `key` if it starts with `prefix` (it still holds that token).
    pub async fn remove_if(&self, key: &StorageId, prefix: &[u8]) -> bool {
        self.script(REMOVE_IF_PREFIX, self.entry_key(key), &[prefix], false)
            .await
            .is_some_and(|n| n > 0)
    }

    /// Try to take the lock for `key` for at most `ttl`.
    pub async fn try_lock(&self, key: &StorageId, ttl: Duration) -> TryLock<RedisLock> {
        let mut random = [0u8; 16];
        let _ = aws_lc_rs::rand::fill(&mut random);
        let lock = RedisLock {
            key: self.lock_key(key),
            token: hex(&random),
        };
        let mut cmd = redis::cmd("SET");
        cmd.arg(&lock.key)
            .arg(&lock.token)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().clamp(1_000, u64::MAX as u128) as u64);
        match self.run::<Option<String>>(cmd).await {
            Some(Some(_)) => TryLock::Locked(lock),
            Some(None) => TryLock::Busy,
            None => TryLock::Unavailable,
        }
    }

    /// Delete the lock of `key` if it has no TTL (no holder of ours sets one without). True if
    /// it was deleted.
    pub async fn break_stuck_lock(&self, key: &StorageId) -> bool {
        self.script(BREAK_STUCK_LOCK, self.lock_key(key), &[], false)
            .await
            .is_some_and(|n| n > 0)
    }

    /// Extend `lock` to `ttl` from now, if it is still ours.
    pub async fn renew(&self, lock: &RedisLock, ttl: Duration) {
        let ms = ttl.as_millis().clamp(1_000, u64::MAX as u128).to_string();
        let _ = self
            .script(
                RENEW_LOCK,
                lock.key.clone(),
                &[lock.token.as_bytes(), ms.as_bytes()],
                false,
            )
            .await;
    }

    /// Release `lock` if it is still ours (it may have expired and been taken by another).
    /// Tried even during an outage back-off: a lock left behind blocks others for its TTL.
    pub async fn release(&self, lock: RedisLock) {
        let _ = self
            .script(RELEASE_LOCK, lock.key, &[lock.token.as_bytes()], true)
            .await;
    }
}

impl SharedStore for RedisCache {
    fn name(&self) -> String {
        format!("RedisCache {}", self.url_shown)
    }

    fn lock_timeout(&self) -> Duration {
        self.lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT)
    }

    fn load<'a>(&'a self, id: &'a StorageId) -> BoxFuture<'a, Option<Vec<u8>>> {
        RedisCache::load(self, id).boxed()
    }

    fn store<'a>(
        &'a self,
        id: &'a StorageId,
        sealed: &'a [u8],
        ttl: Duration,
    ) -> BoxFuture<'a, bool> {
        RedisCache::store(self, id, sealed, ttl).boxed()
    }

    /// An atomic compare-and-delete (a script), with or without the lock.
    fn remove_if<'a>(
        &'a self,
        id: &'a StorageId,
        prefix: &'a [u8],
        _held: Option<&'a StoreLock>,
    ) -> BoxFuture<'a, bool> {
        RedisCache::remove_if(self, id, prefix).boxed()
    }

    fn removal_needs_lock(&self) -> bool {
        false
    }

    fn try_lock<'a>(&'a self, id: &'a StorageId) -> BoxFuture<'a, TryLock<StoreLock>> {
        async move {
            match RedisCache::try_lock(self, id, SharedStore::lock_timeout(self)).await {
                TryLock::Locked(lock) => TryLock::Locked(Box::new(lock) as StoreLock),
                TryLock::Busy => TryLock::Busy,
                TryLock::Unavailable => TryLock::Unavailable,
            }
        }
        .boxed()
    }

    fn renew<'a>(&'a self, lock: &'a StoreLock) -> BoxFuture<'a, ()> {
        async move {
            if let Some(lock) = lock.downcast_ref::<RedisLock>() {
                RedisCache::renew(self, lock, SharedStore::lock_timeout(self)).await;
            }
        }
        .boxed()
    }

    fn release(&self, lock: StoreLock) -> BoxFuture<'_, ()> {
        async move {
            if let Ok(lock) = lock.downcast::<RedisLock>() {
                RedisCache::release(self, *lock).await;
            }
        }
        .boxed()
    }

    /// A lock with a TTL expires by itself if its holder stops renewing it. After 2 ×
    /// `lock_timeout` of waiting, a lock key with no TTL (which none of our holders sets) is
    /// deleted, and the lock tried again.
    fn holder_stuck<'a>(&'a self, id: &'a StorageId, waited: Duration) -> BoxFuture<'a, Stuck> {
        async move {
            if waited >= SharedStore::lock_timeout(self) * 2 && self.break_stuck_lock(id).await {
                Stuck::Broken
            } else {
                Stuck::No
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_masked() {
        let c = RedisCache::new("redis://:hunter2@127.0.0.1:6379/0", "p").unwrap();
        assert_eq!(c.url(), "redis://:***@127.0.0.1:6379/0");
        let unix = RedisCache::new("redis+unix:///run/redis.sock?db=2&pass=hunter2", "p").unwrap();
        assert!(!unix.url().contains("hunter2"), "{}", unix.url());
        assert!(unix.url().contains("db=2"), "{}", unix.url());
        assert!(RedisCache::new("http://127.0.0.1:6379", "p").is_err());
        assert!(RedisCache::new("127.0.0.1:6379", "p").is_err());
        assert!(RedisCache::new("redis://127.0.0.1:6379", "").is_err());
        assert!(RedisCache::new("redis://127.0.0.1:6379", "a b").is_err());
        let e = RedisCache::new("redis://u:pw-secret@h:notaport/0", "p")
            .err()
            .unwrap();
        assert!(!e.to_string().contains("pw-secret"), "{e}");
    }
}
