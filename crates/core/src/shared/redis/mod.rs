//! `RedisCache`: sessions shared by processes on many machines through Redis: one server
//! (`redis://`), a Redis Cluster (`redis+cluster://`) or the primary Sentinel names
//! (`redis+sentinel://`); the URL formats are in [`target`].
//!
//! - Entries are sealed sessions under `<prefix>:session:<id>` (`<id>`: the storage id in hex),
//!   expiring at the session's refresh point; the lock is `<prefix>:lock:<id>`. In a cluster the
//!   id is a hash tag, `<prefix>:session:{<id>}` and `<prefix>:lock:{<id>}`, so a session's
//!   entry and lock live in one slot (one node) and the scripts below, which a cluster runs only
//!   on keys of one slot, stay atomic wherever the slot moves. One server and Sentinel keep the
//!   names without braces that earlier versions wrote, so their entries are still found.
//! - Single-flight across machines: `SET <prefix>:lock:<id> <random> NX PX <ttl>`, released by
//!   a script only if it still holds our random value; the TTL bounds how long a crashed holder
//!   blocks the others.
//! - Redis being down never fails a call: every operation gives up quickly, the outage is logged
//!   once, and the cache is skipped for a short while before it is tried again. A connection
//!   that broke since its last use (a restarted server; a Sentinel failover, after which the
//!   old primary drops its clients or answers READONLY) is replaced at once, once: for
//!   Sentinel, the new one goes to the primary the sentinels name now.
//! - A plain `redis://` URL that reaches a cluster node (it answers MOVED) or a replica (it
//!   answers READONLY) is told apart from an outage: one warning says which URL to use, and
//!   the cache is skipped for the keys it cannot serve.
//! - One connection per process, on the process runtime; a forked child makes its own (the
//!   parent's is leaked: its driver task lives on the parent's runtime).

pub mod connection;
pub mod target;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use redis::{ErrorKind, RedisResult, Script, ServerErrorKind};

use futures_util::future::{BoxFuture, FutureExt};

use super::store::{SharedStore, StorageId, StoreLock, Stuck, TryLock};
use super::{hex, DEFAULT_LOCK_TIMEOUT};
use crate::error::{Error, Result};
use crate::session::{deadline_ns, monotonic_ns};
use connection::Connection;
use target::{Kind, Target};

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
    target: Target,
    url_shown: String,
    prefix: String,
    connection: Mutex<Option<(u32, Connection)>>,
    /// `monotonic_ns()` before which Redis is not tried (after a failure).
    skip_until: AtomicU64,
    /// An outage was logged and Redis has not answered since.
    in_outage: AtomicBool,
    /// The warning that the URL reaches the wrong kind of server (MOVED, READONLY) was logged.
    misdirected_told: AtomicBool,
    /// The lock key's TTL, renewed every third of it while its holder works: how long a
    /// crashed holder can block the others. `None`: `shared::DEFAULT_LOCK_TIMEOUT`.
    pub lock_timeout: Option<Duration>,
}

/// The lock on one key, with the random value that proves it is ours.
pub struct RedisLock {
    key: String,
    token: String,
}

/// What a failed reply means.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The server answered, but is not where these keys can be served: a cluster node reached
    /// through a plain URL (MOVED, ASK), or a replica (READONLY).
    Misdirected,
    /// The connection broke or the server went away: worth a new connection, once.
    Broken,
    /// Anything else (a timeout, an error reply).
    Other,
}

impl RedisCache {
    /// Check the URL and prefix; no I/O (the connection is made on first use).
    pub fn new(url: &str, prefix: &str) -> Result<RedisCache> {
        let (target, shown) = target::parse(url, OPERATION_TIMEOUT)?;
        if prefix.is_empty() || prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::Configuration(
                "RedisCache prefix must be a non-empty string without spaces".into(),
            ));
        }
        if target.kind() == Kind::Cluster && prefix.contains(['{', '}']) {
            return Err(Error::Configuration(
                "RedisCache prefix must not contain { or } with a redis+cluster:// URL: the \
                 session part of each key is its hash tag"
                    .into(),
            ));
        }
        Ok(RedisCache {
            target,
            url_shown: shown,
            prefix: prefix.to_string(),
            connection: Mutex::new(None),
            skip_until: AtomicU64::new(0),
            in_outage: AtomicBool::new(false),
            misdirected_told: AtomicBool::new(false),
            lock_timeout: None,
        })
    }

    /// The URL with its passwords masked.
    pub fn url(&self) -> &str {
        &self.url_shown
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The part of a key that names the session: a hash tag in a cluster.
    fn key_part(&self, key: &StorageId) -> String {
        match self.target.kind() {
            Kind::Cluster => format!("{{{}}}", hex(key)),
            Kind::Single | Kind::Sentinel => hex(key),
        }
    }

    pub fn entry_key(&self, key: &StorageId) -> String {
        format!("{}:session:{}", self.prefix, self.key_part(key))
    }

    fn lock_key(&self, key: &StorageId) -> String {
        format!("{}:lock:{}", self.prefix, self.key_part(key))
    }

    /// This process's connection, made if needed, and whether it was made just now; `None`
    /// while Redis is down (unless `force`: releasing a lock is worth one try even then).
    async fn connection(&self, force: bool) -> Option<(Connection, bool)> {
        if !force && monotonic_ns() < self.skip_until.load(Ordering::Relaxed) {
            return None;
        }
        let pid = crate::transport::pid();
        {
            let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
            match slot.take() {
                Some((p, c)) if p == pid => {
                    *slot = Some((p, c.clone()));
                    return Some((c, false));
                }
                // Inherited from the parent: its driver is on the parent's runtime.
                Some(inherited) => std::mem::forget(inherited),
                None => {}
            }
        }
        match connection::connect(&self.target, OPERATION_TIMEOUT).await {
            Ok(c) => {
                *self.connection.lock().unwrap_or_else(|e| e.into_inner()) = Some((pid, c.clone()));
                Some((c, true))
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// Drop this process's connection (the next operation makes a new one).
    fn disconnect(&self) {
        let mut slot = self.connection.lock().unwrap_or_else(|e| e.into_inner());
        match slot.take() {
            Some((p, c)) if p != crate::transport::pid() => std::mem::forget((p, c)),
            _ => {}
        }
    }

    /// Note a failure: log the outage once, skip Redis for a while, reconnect next time.
    fn failed(&self, e: &redis::RedisError) {
        self.skip_until
            .store(deadline_ns(RETRY_AFTER_OUTAGE), Ordering::Relaxed);
        self.disconnect();
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

    fn failure(&self, e: &redis::RedisError) -> Failure {
        let kind = self.target.kind();
        match e.kind() {
            ErrorKind::Server(ServerErrorKind::Moved | ServerErrorKind::Ask)
                if kind != Kind::Cluster =>
            {
                Failure::Misdirected
            }
            // A Sentinel primary that answers READONLY has just been demoted: reconnect.
            ErrorKind::Server(ServerErrorKind::ReadOnly) if kind == Kind::Single => {
                Failure::Misdirected
            }
            ErrorKind::Server(ServerErrorKind::ReadOnly) if kind == Kind::Sentinel => {
                Failure::Broken
            }
            _ if e.is_connection_dropped() || e.is_unrecoverable_error() => Failure::Broken,
            _ => Failure::Other,
        }
    }

    /// Say once that the URL reaches a server that cannot serve these keys, and which URL to
    /// use instead.
    fn misdirected(&self, e: &redis::RedisError) {
        if self.misdirected_told.swap(true, Ordering::Relaxed) {
            return;
        }
        if matches!(e.kind(), ErrorKind::Server(ServerErrorKind::ReadOnly)) {
            log::warn!(
                "RedisCache {}: this Redis is a read-only replica (it answered READONLY), so \
                 sessions cannot be shared through it: point the URL at the primary, or follow \
                 the primary through Sentinel with redis+sentinel://sentinel1:26379,\
                 sentinel2:26379/mymaster. Signing in directly meanwhile",
                self.url_shown
            );
        } else {
            log::warn!(
                "RedisCache {}: this Redis is a node of a Redis Cluster (it answered MOVED) and \
                 holds only some keys: use a redis+cluster:// URL (e.g. \
                 redis+cluster://node1:6379,node2:6379) to share sessions through the whole \
                 cluster. Until then, sessions whose keys live on other nodes are signed in \
                 directly",
                self.url_shown
            );
        }
    }

    /// A reply, noting whether Redis answered.
    fn outcome<T>(&self, reply: RedisResult<T>) -> Option<T> {
        match reply {
            Ok(v) => {
                self.answered();
                Some(v)
            }
            Err(e) if self.failure(&e) == Failure::Misdirected => {
                self.answered();
                self.misdirected(&e);
                None
            }
            Err(e) => {
                self.failed(&e);
                None
            }
        }
    }

    /// Run `op` on this process's connection; `None` if Redis is down or failed. A connection
    /// made earlier that turns out broken is replaced and `op` run again, once (a fresh one
    /// that fails means Redis is down).
    async fn with_connection<T, F, Fut>(&self, force: bool, op: F) -> Option<T>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let (c, fresh) = self.connection(force).await?;
        match op(c).await {
            Err(e) if !fresh && self.failure(&e) == Failure::Broken => {
                log::debug!(
                    "RedisCache {}: the connection broke ({:?}); connecting again",
                    self.url_shown,
                    e.kind()
                );
                self.disconnect();
                let (c, _) = self.connection(true).await?;
                self.outcome(op(c).await)
            }
            reply => self.outcome(reply),
        }
    }

    /// Run one command; `None` if Redis is down or failed.
    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        let cmd = &cmd;
        self.with_connection(
            false,
            |mut c| async move { cmd.query_async::<T>(&mut c).await },
        )
        .await
    }

    async fn script(&self, source: &str, key: String, args: &[&[u8]], force: bool) -> Option<i64> {
        let script = Script::new(source);
        let mut invocation = script.key(key);
        for a in args {
            invocation.arg(*a);
        }
        let invocation = &invocation;
        self.with_connection(force, |mut c| async move {
            invocation.invoke_async::<i64>(&mut c).await
        })
        .await
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
    use redis::cluster_routing::Slot;

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
        let cluster = RedisCache::new("redis+cluster://:hunter2@h1:7000,h2:7001", "p").unwrap();
        assert_eq!(cluster.url(), "redis+cluster://:***@h1:7000,h2:7001");
        let sentinel = RedisCache::new(
            "redis+sentinel://u:hunter2@s1,s2:26380/mymaster/1?sentinel_password=hunter3",
            "p",
        )
        .unwrap();
        assert_eq!(
            sentinel.url(),
            "redis+sentinel://u:***@s1,s2:26380/mymaster/1?sentinel_password=***"
        );
    }

    #[test]
    fn one_server_and_sentinel_keep_the_key_names_of_earlier_versions() {
        let id = [0xabu8; 32];
        let hex = "ab".repeat(32);
        for url in ["redis://h:6379/0", "redis+sentinel://s1:26379/mymaster"] {
            let c = RedisCache::new(url, "tca").unwrap();
            assert_eq!(c.entry_key(&id), format!("tca:session:{hex}"), "{url}");
            assert_eq!(c.lock_key(&id), format!("tca:lock:{hex}"), "{url}");
        }
    }

    #[test]
    fn in_a_cluster_a_sessions_entry_and_lock_share_a_hash_slot() {
        let c = RedisCache::new("redis+cluster://h1:7000,h2:7001", "tca").unwrap();
        let id = [0xabu8; 32];
        let ab = "ab".repeat(32);
        assert_eq!(c.entry_key(&id), format!("tca:session:{{{ab}}}"));
        assert_eq!(c.lock_key(&id), format!("tca:lock:{{{ab}}}"));
        let mut slots = std::collections::HashSet::new();
        for n in 0..64u8 {
            let id = [n; 32];
            let slot = Slot::for_key(c.entry_key(&id));
            assert_eq!(
                slot,
                Slot::for_key(c.lock_key(&id)),
                "entry and lock of session {n}"
            );
            assert_eq!(
                slot,
                Slot::for_key(hex(&id)),
                "the slot is the session's own"
            );
            slots.insert(slot);
        }
        assert!(slots.len() > 32, "sessions spread over the slots");
        let e = RedisCache::new("redis+cluster://h1:7000", "{tca}")
            .err()
            .unwrap();
        assert!(e.to_string().contains("must not contain {"), "{e}");
        assert!(RedisCache::new("redis://h1:7000", "{tca}").is_ok());
    }

    #[test]
    fn wrong_kinds_of_server_are_told_apart_from_outages() {
        let moved = redis::RedisError::from((
            ErrorKind::Server(ServerErrorKind::Moved),
            "MOVED",
            "3999 127.0.0.1:7001".to_string(),
        ));
        let read_only = redis::RedisError::from((
            ErrorKind::Server(ServerErrorKind::ReadOnly),
            "READONLY",
            "You can't write against a read only replica.".to_string(),
        ));
        let dropped =
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let single = RedisCache::new("redis://h:6379/0", "p").unwrap();
        let cluster = RedisCache::new("redis+cluster://h:7000", "p").unwrap();
        let sentinel = RedisCache::new("redis+sentinel://h:26379/m", "p").unwrap();
        assert_eq!(single.failure(&moved), Failure::Misdirected);
        assert_eq!(single.failure(&read_only), Failure::Misdirected);
        assert_eq!(single.failure(&dropped), Failure::Broken);
        assert_eq!(
            sentinel.failure(&read_only),
            Failure::Broken,
            "a demoted primary"
        );
        assert_ne!(cluster.failure(&moved), Failure::Misdirected);
        assert_eq!(cluster.failure(&dropped), Failure::Broken);
    }
}
