//! What a backend of the shared cache provides ([`SharedStore`]): sealed bytes under a storage
//! id, and a cross-process lock per id. `DiskCache` and `RedisCache` implement it; everything
//! above (sealing, single-flight across processes, lock renewal, compare-and-swap removal) is
//! written once, in [`super::SharedSlot`], over this trait.

use std::any::Any;
use std::time::Duration;

use futures_util::future::BoxFuture;

/// Where one entry lives in a backend: a keyed digest of the cache key that only holders of the
/// credential's secret can compute (`seal::Sealer::storage_id`).
pub type StorageId = [u8; 32];

/// A held cross-process lock, as the backend that took it represents it. Dropping it releases
/// what the OS releases (a disk lock); [`SharedStore::release`] releases the rest.
pub type StoreLock = Box<dyn Any + Send + Sync>;

/// The outcome of trying to take the cross-process lock.
pub enum TryLock<G> {
    Locked(G),
    /// Another process holds it.
    Busy,
    /// The cache cannot be used right now (directory or backend unusable).
    Unavailable,
}

/// What [`SharedStore::holder_stuck`] found.
pub enum Stuck {
    No,
    /// The holder stopped working: go ahead without the lock.
    GoAhead,
    /// A lock no live holder could have set was removed: try again now.
    Broken,
}

/// A backend of the shared cache. Operations never fail the user's call: a backend that cannot
/// answer returns `None`/`false`/[`TryLock::Unavailable`] (and logs why, once).
pub trait SharedStore: Send + Sync + 'static {
    /// For messages: "DiskCache /path", "RedisCache redis://host:port/0" (no password).
    fn name(&self) -> String;

    /// How long a lock holder that stopped working can block the others.
    fn lock_timeout(&self) -> Duration;

    /// Whether [`SharedStore::load_now`] works: the backend reads cheaply on the calling
    /// thread, with no runtime (a local file).
    fn reads_on_calling_thread(&self) -> bool {
        false
    }

    /// The sealed entry, read right now on the calling thread (only if
    /// [`SharedStore::reads_on_calling_thread`]).
    fn load_now(&self, _id: &StorageId) -> Option<Vec<u8>> {
        None
    }

    /// The sealed entry, if there is one.
    fn load<'a>(&'a self, id: &'a StorageId) -> BoxFuture<'a, Option<Vec<u8>>>;

    /// Replace the entry; it may be dropped after `ttl`. True if it was written.
    fn store<'a>(
        &'a self,
        id: &'a StorageId,
        sealed: &'a [u8],
        ttl: Duration,
    ) -> BoxFuture<'a, bool>;

    /// Remove the entry only if it starts with `prefix` (it still holds that token). `held`:
    /// this process's lock on `id`, if it has it. True if it was removed.
    fn remove_if<'a>(
        &'a self,
        id: &'a StorageId,
        prefix: &'a [u8],
        held: Option<&'a StoreLock>,
    ) -> BoxFuture<'a, bool>;

    /// Whether [`SharedStore::remove_if`] can only remove holding the lock (it compares and
    /// removes in two steps); otherwise it is atomic by itself.
    fn removal_needs_lock(&self) -> bool;

    /// Try to take the lock on `id` without waiting.
    fn try_lock<'a>(&'a self, id: &'a StorageId) -> BoxFuture<'a, TryLock<StoreLock>>;

    /// Tell waiters the holder of `lock` is still working.
    fn renew<'a>(&'a self, lock: &'a StoreLock) -> BoxFuture<'a, ()>;

    /// Release `lock` (if it is still ours).
    fn release(&self, lock: StoreLock) -> BoxFuture<'_, ()>;

    /// Has the holder of the busy lock on `id` stopped working, after we `waited` this long?
    fn holder_stuck<'a>(&'a self, id: &'a StorageId, waited: Duration) -> BoxFuture<'a, Stuck>;
}
