//! `DiskCache`: sessions shared by the processes of one user on one machine.
//!
//! - One file per cache key, `<key>.session`, in a per-user directory, written atomically: a
//!   temporary file, fsync, rename over the old one (then, on Unix, fsync of the directory).
//! - The directory is opened and checked once per process (again in a forked child), and each
//!   platform keeps what it can of "private, and never through a link" ([`PrivateDir`]):
//!   - Unix (Linux, macOS): a directory of this user's, mode 0700, files 0600, opened once
//!     with `O_DIRECTORY|O_NOFOLLOW` and used only through that handle; no file is opened
//!     through a symbolic link. See `unix.rs`.
//!   - Windows: `%LOCALAPPDATA%\tableau_connected_auth`, private by the ACL it inherits from
//!     the user's profile (not inspected); files opened without following reparse points; the
//!     directory is used by path after its check. See `windows.rs`.
//! - Temporary files a crash left behind (older than a minute) are removed when the directory
//!   is opened.
//! - Single-flight across processes: an OS file lock (`flock` on Unix, `LockFileEx` on
//!   Windows, through std's `File::try_lock`) on `<key>.lock`, held only around the sign-in.
//!   The OS drops it when its holder dies, even when killed. On Unix a forked child closes the
//!   lock descriptors it inherited (see `unix::ForkSlot`), so a fork taken while the parent
//!   signs in cannot keep the lock alive.
//! - An entry is removed only by the holder of its lock (`remove_if` takes the held lock), so no
//!   writer can publish between the check of the entry and its removal.
//! - Files that are corrupt, truncated, foreign (on Unix: another owner, loose permissions) or
//!   not plain files are ignored and replaced; the cache never fails a call.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use platform::{ForkSlot, PrivateDir};

use crate::error::{Error, Result};

use super::seal::MAX_SEALED_LEN;
use futures_util::future::{ready, BoxFuture, FutureExt};

use super::store::{SharedStore, StorageId, StoreLock, Stuck, TryLock};
use super::{hex, DEFAULT_LOCK_TIMEOUT};

const DIR_NAME: &str = "tableau_connected_auth";
/// A temporary file older than this was left by a writer that died (a live one renames it
/// within milliseconds).
const STALE_TEMP: Duration = Duration::from_secs(60);

/// Why a file was not read.
pub enum Unread {
    Missing,
    /// Not a private plain file of ours (or too large, or unreadable).
    NotOurs,
}

/// A directory of cached sessions.
pub struct DiskCache {
    dir: PathBuf,
    /// True when the directory is our default location, which we may tighten to 0700.
    default_location: bool,
    /// The outcome of preparing the directory, once per process: the pid that prepared it and
    /// the opened directory (`None`: unusable). Never held across I/O.
    prepared: Mutex<Option<(u32, Option<Arc<PrivateDir>>)>>,
    warned: AtomicBool,
    /// How long a lock holder that stopped renewing its lock can block the others; `None`:
    /// the default (`shared::DEFAULT_LOCK_TIMEOUT`).
    pub lock_timeout: Option<Duration>,
}

/// The default directory: on Unix `$XDG_CACHE_HOME/tableau_connected_auth`, or
/// `~/.cache/tableau_connected_auth`; on Windows `%LOCALAPPDATA%\tableau_connected_auth`.
pub fn default_dir() -> Result<PathBuf> {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if cfg!(windows) {
        return absolute("LOCALAPPDATA")
            .map(|d| d.join(DIR_NAME))
            .ok_or_else(|| {
                Error::Configuration(
                    "DiskCache() found no %LOCALAPPDATA%: give a directory, \
                     DiskCache(path=\"C:\\some\\private\\dir\")"
                        .into(),
                )
            });
    }
    if let Some(xdg) = absolute("XDG_CACHE_HOME") {
        return Ok(xdg.join(DIR_NAME));
    }
    match absolute("HOME") {
        Some(home) => Ok(home.join(".cache").join(DIR_NAME)),
        None => Err(Error::Configuration(
            "DiskCache() found neither $XDG_CACHE_HOME nor $HOME: give a directory, \
             DiskCache(path=\"/some/private/dir\")"
                .into(),
        )),
    }
}

/// The name of `key`'s file with `suffix`, inside the directory.
fn name(key: &StorageId, suffix: &str) -> String {
    format!("{}.{suffix}", hex(key))
}

/// Remove the temporary files a crashed writer left: this user's plain files named `.*.tmp`,
/// older than [`STALE_TEMP`]. Errors are ignored.
fn sweep_stale_temp_files(dir: &PrivateDir) {
    let now = SystemTime::now();
    let temps =
        dir.files(|n| n.len() > ".tmp".len() && n.starts_with(b".") && n.ends_with(b".tmp"));
    for (temp, modified) in temps {
        let stale = now
            .duration_since(modified)
            .is_ok_and(|age| age >= STALE_TEMP);
        if stale && dir.remove(&temp) {
            log::debug!("DiskCache: removed {temp}, a temporary file left by a writer that died");
        }
    }
}

impl DiskCache {
    /// A cache in `path`, or in the default directory. No I/O here: the directory is made (or
    /// checked) on first use.
    pub fn new(path: Option<&str>) -> Result<DiskCache> {
        let (dir, default_location) = match path {
            Some(p) if p.trim().is_empty() => {
                return Err(Error::Configuration(
                    "DiskCache(path=...) is empty: give a directory, or leave it out for the \
                     default (~/.cache/tableau_connected_auth)"
                        .into(),
                ))
            }
            Some(p) => (PathBuf::from(p), false),
            None => (default_dir()?, true),
        };
        let dir = if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir()
                .map_err(|e| {
                    Error::Configuration(format!(
                        "DiskCache(path={dir:?}) is relative and the current directory is \
                         unknown ({e}): give an absolute path"
                    ))
                })?
                .join(dir)
        };
        Ok(DiskCache {
            dir,
            default_location,
            prepared: Mutex::new(None),
            warned: AtomicBool::new(false),
            lock_timeout: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn warn_once(&self, what: &str) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            log::warn!(
                "DiskCache {}: {what}; sessions are not shared across processes until this is \
                 fixed (signing in directly)",
                self.dir.display()
            );
        }
    }

    /// The opened directory, if it exists, is ours and is private (`None`: the cache cannot be
    /// used). Opened and checked once per process, and again in a forked child.
    fn handle(&self) -> Option<Arc<PrivateDir>> {
        let pid = crate::transport::pid();
        if let Some((p, handle)) = &*self.prepared.lock().unwrap_or_else(|e| e.into_inner()) {
            if *p == pid {
                return handle.clone();
            }
        }
        // Prepared with no lock held (disk I/O; a fork meanwhile must not inherit the lock
        // locked). Two threads may both prepare: it is idempotent, and the first to finish
        // wins, so that every thread uses the same handle.
        let outcome = self.prepare().map(Arc::new);
        let ours = outcome.as_ref().ok().cloned();
        let (handle, replaced) = {
            let mut prepared = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
            match &*prepared {
                Some((p, first)) if *p == pid => (first.clone(), None),
                _ => (ours.clone(), prepared.replace((pid, ours))),
            }
        };
        // Closed outside the lock: the handle of the parent process (in a forked child), or
        // ours if another thread finished first.
        drop(replaced);
        // Logged outside the lock: a log record may wait for the GIL.
        if let (None, Err(what)) = (&handle, &outcome) {
            self.warn_once(what);
        }
        handle
    }

    /// Open and check the directory, and sweep what a crash left in it.
    fn prepare(&self) -> std::result::Result<PrivateDir, String> {
        let dir = PrivateDir::open(&self.dir, self.default_location)?;
        sweep_stale_temp_files(&dir);
        Ok(dir)
    }

    fn file(&self, key: &StorageId, suffix: &str) -> PathBuf {
        self.dir.join(name(key, suffix))
    }

    /// The path of the entry for `key` (for tests, tools and messages; the cache itself reaches
    /// it through the opened directory).
    pub fn entry_path(&self, key: &StorageId) -> PathBuf {
        self.file(key, "session")
    }

    /// The sealed bytes cached for `key`, if a trustworthy file holds them.
    pub fn load(&self, key: &StorageId) -> Option<Vec<u8>> {
        let dir = self.handle()?;
        self.load_in(&dir, key)
    }

    fn load_in(&self, dir: &PrivateDir, key: &StorageId) -> Option<Vec<u8>> {
        match dir.read(&name(key, "session"), MAX_SEALED_LEN) {
            Ok(bytes) => Some(bytes),
            Err(Unread::Missing) => None,
            Err(Unread::NotOurs) => {
                log::debug!(
                    "ignoring {}: not a private file of ours",
                    self.entry_path(key).display()
                );
                None
            }
        }
    }

    /// Replace the entry for `key` atomically. False (logged) if it could not be written.
    pub fn store(&self, key: &StorageId, sealed: &[u8]) -> bool {
        let Some(dir) = self.handle() else {
            return false;
        };
        let mut nonce = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut nonce);
        let tmp = format!(".{}.{}.{}.tmp", hex(key), std::process::id(), hex(&nonce));
        let mut created = false;
        let written = (|| -> std::io::Result<()> {
            let mut file = dir.create_new(&tmp)?;
            created = true;
            file.write_all(sealed)?;
            file.sync_all()?;
            dir.replace(&tmp, &name(key, "session"))?;
            created = false;
            Ok(())
        })();
        match written {
            Ok(()) => true,
            Err(e) => {
                if created {
                    dir.remove(&tmp);
                }
                self.warn_once(&format!(
                    "cannot write {}: {e}",
                    self.entry_path(key).display()
                ));
                false
            }
        }
    }

    /// Remove the entry for `key` if it starts with `prefix` (it still holds that token).
    /// Only the holder of `key`'s lock can: no writer can publish between the check and the
    /// removal. False if `held` is not this cache's lock for `key` in this process.
    pub fn remove_if(&self, key: &StorageId, prefix: &[u8], held: &DiskLock) -> bool {
        let Some(dir) = self.handle() else {
            return false;
        };
        if held.key != *key || !Arc::ptr_eq(&held.dir, &dir) {
            log::debug!(
                "DiskCache {}: not removing an entry without holding its lock",
                self.dir.display()
            );
            return false;
        }
        match self.load_in(&dir, key) {
            Some(bytes) if bytes.starts_with(prefix) => dir.remove(&name(key, "session")),
            _ => false,
        }
    }

    /// How long ago the holder of `key`'s lock last renewed it (the lock file's mtime).
    pub fn lock_age(&self, key: &StorageId) -> Option<Duration> {
        let modified = self.handle()?.modified(&name(key, "lock"))?;
        SystemTime::now().duration_since(modified).ok()
    }

    /// Try to take the cross-process lock for `key` without waiting.
    pub fn try_lock(&self, key: &StorageId) -> TryLock<DiskLock> {
        let Some(dir) = self.handle() else {
            return TryLock::Unavailable;
        };
        let file = match dir.open_lock_file(&name(key, "lock")) {
            Ok(f) => f,
            Err(e) => {
                self.warn_once(&format!(
                    "cannot use the lock file {}: {e}",
                    self.file(key, "lock").display()
                ));
                return TryLock::Unavailable;
            }
        };
        // Remembered before locking, so that a fork at any point after this closes the child's
        // copy (Unix).
        let lock = DiskLock {
            _fork_slot: ForkSlot::remember(&file),
            file,
            dir,
            key: *key,
        };
        match lock.file.try_lock() {
            Ok(()) => {
                lock.renew();
                TryLock::Locked(lock)
            }
            Err(TryLockError::WouldBlock) => TryLock::Busy,
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                TryLock::Busy
            }
            Err(TryLockError::Error(e)) => {
                self.warn_once(&format!(
                    "cannot lock {}: {e}",
                    self.file(key, "lock").display()
                ));
                TryLock::Unavailable
            }
        }
    }
}

/// The cross-process lock for one key; released on drop (and by the OS if the process dies).
pub struct DiskLock {
    /// Declared before `file`: dropped (forgotten by the fork handler) before the file closes.
    _fork_slot: ForkSlot,
    file: File,
    /// The directory the lock was taken in, and the key it is for.
    dir: Arc<PrivateDir>,
    key: StorageId,
}

impl DiskLock {
    /// Tell waiters the holder is alive (the lock file's mtime is its heartbeat).
    pub fn renew(&self) {
        let _ = self.file.set_modified(SystemTime::now());
    }
}

impl Drop for DiskLock {
    fn drop(&mut self) {
        // Closing the file would release it too.
        let _ = self.file.unlock();
    }
}

impl SharedStore for DiskCache {
    fn name(&self) -> String {
        format!("DiskCache {}", self.dir.display())
    }

    fn lock_timeout(&self) -> Duration {
        self.lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT)
    }

    /// A local file: read on the calling thread, so a fresh process's first call needs no
    /// runtime.
    fn reads_on_calling_thread(&self) -> bool {
        true
    }

    fn load_now(&self, id: &StorageId) -> Option<Vec<u8>> {
        DiskCache::load(self, id)
    }

    fn load<'a>(&'a self, id: &'a StorageId) -> BoxFuture<'a, Option<Vec<u8>>> {
        ready(DiskCache::load(self, id)).boxed()
    }

    /// Files do not expire: a stale entry is refused when read (`seal`), and replaced.
    fn store<'a>(
        &'a self,
        id: &'a StorageId,
        sealed: &'a [u8],
        _ttl: Duration,
    ) -> BoxFuture<'a, bool> {
        ready(DiskCache::store(self, id, sealed)).boxed()
    }

    fn remove_if<'a>(
        &'a self,
        id: &'a StorageId,
        prefix: &'a [u8],
        held: Option<&'a StoreLock>,
    ) -> BoxFuture<'a, bool> {
        let lock = held.and_then(|h| h.downcast_ref::<DiskLock>());
        ready(lock.is_some_and(|lock| DiskCache::remove_if(self, id, prefix, lock))).boxed()
    }

    /// Reading and removing a file are two steps: only the lock holder may do them.
    fn removal_needs_lock(&self) -> bool {
        true
    }

    fn try_lock<'a>(&'a self, id: &'a StorageId) -> BoxFuture<'a, TryLock<StoreLock>> {
        let outcome = match DiskCache::try_lock(self, id) {
            TryLock::Locked(lock) => TryLock::Locked(Box::new(lock) as StoreLock),
            TryLock::Busy => TryLock::Busy,
            TryLock::Unavailable => TryLock::Unavailable,
        };
        ready(outcome).boxed()
    }

    fn renew<'a>(&'a self, lock: &'a StoreLock) -> BoxFuture<'a, ()> {
        if let Some(lock) = lock.downcast_ref::<DiskLock>() {
            lock.renew();
        }
        ready(()).boxed()
    }

    /// Dropping the lock releases it (and the OS does if the process dies).
    fn release(&self, lock: StoreLock) -> BoxFuture<'_, ()> {
        drop(lock);
        ready(()).boxed()
    }

    /// Stuck when its lock file was not renewed for `lock_timeout` (a dead holder has released
    /// it already: the OS drops its `flock`).
    fn holder_stuck<'a>(&'a self, id: &'a StorageId, waited: Duration) -> BoxFuture<'a, Stuck> {
        let timeout = SharedStore::lock_timeout(self);
        let stuck = waited >= timeout && self.lock_age(id).is_some_and(|age| age >= timeout);
        ready(if stuck { Stuck::GoAhead } else { Stuck::No }).boxed()
    }
}

/// The Unix guarantees (modes, owners, links); Windows's are checked by its own CI legs.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, DirBuilderExt, MetadataExt, PermissionsExt};

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tca-disk-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn locked(cache: &DiskCache, key: &StorageId) -> DiskLock {
        match cache.try_lock(key) {
            TryLock::Locked(l) => l,
            _ => panic!("the lock should be free"),
        }
    }

    #[test]
    fn makes_a_private_directory_and_private_files() {
        let dir = temp_dir("perm");
        let cache = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        let key = [9u8; 32];
        assert!(cache.load(&key).is_none());
        assert!(cache.store(&key, b"TCA\x01sealed"));
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let file = cache.entry_path(&key);
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
        assert_eq!(cache.load(&key).unwrap(), b"TCA\x01sealed");
        let held = locked(&cache, &key);
        assert!(!cache.remove_if(&key, b"TCA\x02", &held));
        let other = locked(&cache, &[10u8; 32]);
        assert!(
            !cache.remove_if(&key, b"TCA\x01", &other),
            "the lock of another key does not do"
        );
        assert!(cache.remove_if(&key, b"TCA\x01", &held));
        assert!(cache.load(&key).is_none());
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loose_files_and_directories_are_not_trusted() {
        let dir = temp_dir("loose");
        let cache = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        let key = [5u8; 32];
        assert!(cache.store(&key, b"x"));
        fs::set_permissions(cache.entry_path(&key), fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            cache.load(&key).is_none(),
            "a world-readable file is ignored"
        );
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let again = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        assert!(
            !again.store(&key, b"y"),
            "an explicit open directory is refused"
        );
        assert!(matches!(again.try_lock(&key), TryLock::Unavailable));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_lock_excludes_a_second_holder_until_dropped() {
        let dir = temp_dir("lock");
        let cache = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        let key = [6u8; 32];
        let held = locked(&cache, &key);
        assert!(cache.lock_age(&key).is_some_and(|age| age < STALE_TEMP));
        assert!(matches!(cache.try_lock(&key), TryLock::Busy));
        drop(held);
        assert!(matches!(cache.try_lock(&key), TryLock::Locked(_)));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_paths_are_refused() {
        assert!(DiskCache::new(Some(" ")).is_err());
    }

    #[test]
    fn a_symlinked_entry_is_neither_read_nor_written_through() {
        let dir = temp_dir("link");
        let outside = temp_dir("link-target");
        fs::create_dir_all(&outside).unwrap();
        let target = outside.join("target");
        fs::write(&target, b"TCA\x01not ours").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        let cache = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        let key = [7u8; 32];
        assert!(cache.load(&key).is_none());
        let entry = cache.entry_path(&key);
        symlink(&target, &entry).unwrap();
        assert!(cache.load(&key).is_none(), "not read through the link");
        let held = locked(&cache, &key);
        assert!(!cache.remove_if(&key, b"TCA\x01", &held));
        drop(held);
        assert!(cache.store(&key, b"TCA\x01ours"));
        assert!(
            fs::symlink_metadata(&entry).unwrap().file_type().is_file(),
            "the write replaced the link itself"
        );
        assert_eq!(fs::read(&entry).unwrap(), b"TCA\x01ours");
        assert_eq!(fs::read(&target).unwrap(), b"TCA\x01not ours");
        assert_eq!(cache.load(&key).unwrap(), b"TCA\x01ours");
        fs::remove_dir_all(&dir).unwrap();
        fs::remove_dir_all(&outside).unwrap();
    }

    #[test]
    fn a_directory_swapped_for_a_symlink_is_not_followed() {
        let dir = temp_dir("swap");
        let moved = temp_dir("swap-moved");
        let elsewhere = temp_dir("swap-elsewhere");
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&elsewhere)
            .unwrap();
        let cache = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        let key = [8u8; 32];
        assert!(cache.store(&key, b"one"));
        fs::rename(&dir, &moved).unwrap();
        symlink(&elsewhere, &dir).unwrap();
        assert!(cache.store(&key, b"two"), "written through the handle");
        assert_eq!(fs::read(moved.join(name(&key, "session"))).unwrap(), b"two");
        assert!(!elsewhere.join(name(&key, "session")).exists());
        assert_eq!(cache.load(&key).unwrap(), b"two");
        let fresh = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        assert!(fresh.load(&key).is_none());
        assert!(
            !fresh.store(&key, b"three"),
            "a symlinked directory is refused"
        );
        assert!(!elsewhere.join(name(&key, "session")).exists());
        fs::remove_file(&dir).unwrap();
        fs::remove_dir_all(&moved).unwrap();
        fs::remove_dir_all(&elsewhere).unwrap();
    }

    #[test]
    fn stale_temporary_files_are_swept_when_the_directory_is_opened() {
        let dir = temp_dir("sweep");
        fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
        let old = dir.join(".x.1.2.tmp");
        let fresh = dir.join(".y.1.2.tmp");
        fs::write(&old, b"left by a crash").unwrap();
        fs::write(&fresh, b"being written").unwrap();
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(120))
            .unwrap();
        let cache = DiskCache::new(Some(dir.to_str().unwrap())).unwrap();
        assert!(cache.load(&[4u8; 32]).is_none());
        assert!(!old.exists(), "the stale temporary file is removed");
        assert!(fresh.exists(), "a fresh one is left to its writer");
        fs::remove_dir_all(&dir).unwrap();
    }
}
