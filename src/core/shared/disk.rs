//! `DiskCache`: sessions shared by the processes of one user on one machine.
//!
//! - One file per cache key, `<key>.session`, in a per-user directory (mode 0700; files 0600),
//!   written atomically: a temporary file, fsync, rename over the old one, fsync the directory.
//! - Single-flight across processes: an advisory `flock` on `<key>.lock`, held only around the
//!   sign-in. The OS drops it when its holder dies, even by SIGKILL. A forked child closes the
//!   lock descriptors it inherited (see `forget_locks_after_fork`), so a fork taken while the
//!   parent signs in cannot keep the lock alive.
//! - Files that are corrupt, truncated, foreign (another owner, loose permissions, not a plain
//!   file) or unreadable are ignored and replaced; the cache never fails a call.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};

use crate::core::error::{Error, Result};
use crate::core::sessions::CacheKey;

use super::seal::MAX_SEALED_LEN;
use super::{hex, TryLock};

const DIR_NAME: &str = "tableau_connected_auth";

/// A directory of cached sessions.
pub struct DiskCache {
    dir: PathBuf,
    /// True when the directory is our default location, which we may tighten to 0700.
    default_location: bool,
    /// The outcome of preparing the directory, once per process.
    prepared: Mutex<Option<(u32, bool)>>,
    warned: AtomicBool,
    /// How long a lock holder that stopped renewing its lock can block the others; `None`:
    /// the default (`shared::DEFAULT_LOCK_TIMEOUT`).
    pub lock_timeout: Option<std::time::Duration>,
}

/// The default directory: `$XDG_CACHE_HOME/tableau_connected_auth`, or
/// `~/.cache/tableau_connected_auth`.
pub fn default_dir() -> Result<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from) {
        if xdg.is_absolute() {
            return Ok(xdg.join(DIR_NAME));
        }
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home.join(".cache").join(DIR_NAME)),
        _ => Err(Error::Configuration(
            "DiskCache() found neither $XDG_CACHE_HOME nor $HOME: give a directory, \
             DiskCache(path=\"/some/private/dir\")"
                .into(),
        )),
    }
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
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

    /// Make sure the directory exists, is ours and is private. Checked once per process.
    fn usable(&self) -> bool {
        let pid = std::process::id();
        let mut prepared = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((p, ok)) = *prepared {
            if p == pid {
                return ok;
            }
        }
        let outcome = self.prepare();
        *prepared = Some((pid, outcome.is_ok()));
        drop(prepared);
        // Logged outside the lock: a log record may wait for the GIL.
        if let Err(what) = &outcome {
            self.warn_once(what);
        }
        outcome.is_ok()
    }

    fn prepare(&self) -> std::result::Result<(), String> {
        if let Some(parent) = self.dir.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create its parent: {e}"))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create it: {e}")),
        }
        let meta = fs::metadata(&self.dir).map_err(|e| format!("cannot read it: {e}"))?;
        if !meta.is_dir() {
            return Err("it is not a directory".into());
        }
        if meta.uid() != euid() {
            return Err(format!(
                "it belongs to user id {}, not to this user ({}): give a directory of your own",
                meta.uid(),
                euid()
            ));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            if !self.default_location {
                return Err(format!(
                    "it is open to other users (mode {mode:o}): run `chmod 700 {}` or give a \
                     private directory",
                    self.dir.display()
                ));
            }
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("cannot make it private (chmod 700): {e}"))?;
        }
        Ok(())
    }

    fn file(&self, key: &CacheKey, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", hex(key)))
    }

    /// The path of the entry for `key` (for tests and tools).
    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.file(key, "session")
    }

    /// The sealed bytes cached for `key`, if a trustworthy file holds them.
    pub fn load(&self, key: &CacheKey) -> Option<Vec<u8>> {
        if !self.usable() {
            return None;
        }
        let path = self.file(key, "session");
        // O_NONBLOCK: a FIFO put in the entry's place must not hang the open.
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
            .open(&path)
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file()
            || meta.uid() != euid()
            || meta.mode() & 0o077 != 0
            || meta.len() > MAX_SEALED_LEN as u64
        {
            log::debug!("ignoring {}: not a private file of ours", path.display());
            return None;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        Read::by_ref(&mut file)
            .take(MAX_SEALED_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    }

    /// Replace the entry for `key` atomically. False (logged) if it could not be written.
    pub fn store(&self, key: &CacheKey, sealed: &[u8]) -> bool {
        if !self.usable() {
            return false;
        }
        let path = self.file(key, "session");
        let mut nonce = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut nonce);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            hex(key),
            std::process::id(),
            hex(&nonce)
        ));
        let written = (|| -> std::io::Result<()> {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&tmp)?;
            f.write_all(sealed)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            // The rename itself is durable once the directory is synced.
            File::open(&self.dir)?.sync_all()
        })();
        match written {
            Ok(()) => true,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                self.warn_once(&format!("cannot write {}: {e}", path.display()));
                false
            }
        }
    }

    /// Remove the entry for `key` if it starts with `prefix` (it still holds that token).
    /// The caller holds the lock, so no writer can slip in between the check and the removal.
    pub fn remove_if(&self, key: &CacheKey, prefix: &[u8]) -> bool {
        match self.load(key) {
            Some(bytes) if bytes.starts_with(prefix) => {
                fs::remove_file(self.file(key, "session")).is_ok()
            }
            _ => false,
        }
    }

    /// How long ago the holder of `key`'s lock last renewed it (the lock file's mtime).
    pub fn lock_age(&self, key: &CacheKey) -> Option<std::time::Duration> {
        let modified = fs::symlink_metadata(self.file(key, "lock"))
            .ok()?
            .modified()
            .ok()?;
        std::time::SystemTime::now().duration_since(modified).ok()
    }

    /// Try to take the cross-process lock for `key` without waiting.
    pub fn try_lock(&self, key: &CacheKey) -> TryLock<DiskLock> {
        if !self.usable() {
            return TryLock::Unavailable;
        }
        let path = self.file(key, "lock");
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) => {
                self.warn_once(&format!(
                    "cannot open the lock file {}: {e}",
                    path.display()
                ));
                return TryLock::Unavailable;
            }
        };
        match file.metadata() {
            Ok(m) if m.is_file() && m.uid() == euid() => {}
            _ => {
                self.warn_once(&format!(
                    "the lock file {} is not a file of this user's",
                    path.display()
                ));
                return TryLock::Unavailable;
            }
        }
        // Recorded before locking, so that a fork at any point after this closes the child's copy.
        let lock = DiskLock::hold(file);
        // SAFETY: flock on a descriptor we own; LOCK_NB makes it return at once.
        let rc = unsafe { libc::flock(lock.file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            lock.renew();
            return TryLock::Locked(lock);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) || err.raw_os_error() == Some(libc::EINTR)
        {
            TryLock::Busy
        } else {
            self.warn_once(&format!("cannot lock {}: {err}", path.display()));
            TryLock::Unavailable
        }
    }
}

/// The cross-process lock for one key; released on drop (and by the OS if the process dies).
pub struct DiskLock {
    file: File,
    slot: Option<usize>,
}

/// Descriptors of locks held by this process, so a forked child can close its copies: a
/// `flock` lives as long as any descriptor of it, and the child would otherwise hold the
/// parent's lock until it exits. A fixed table of atomics: the fork handler may not lock.
const SLOTS: usize = 64;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: AtomicI32 = AtomicI32::new(-1);
static HELD: [AtomicI32; SLOTS] = [EMPTY; SLOTS];
static AT_FORK: Once = Once::new();

extern "C" fn forget_locks_after_fork() {
    for slot in &HELD {
        let fd = slot.swap(-1, Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: the fd was ours in the parent and is a copy here; close is async-signal-safe
            // and the task that owned it never runs in the child.
            unsafe { libc::close(fd) };
        }
    }
}

impl DiskLock {
    /// Tell waiters the holder is alive (the lock file's mtime is its heartbeat).
    pub fn renew(&self) {
        let _ = self.file.set_modified(std::time::SystemTime::now());
    }

    fn hold(file: File) -> DiskLock {
        AT_FORK.call_once(|| {
            // SAFETY: registers a child handler that only touches atomics and closes fds.
            unsafe { libc::pthread_atfork(None, None, Some(forget_locks_after_fork)) };
        });
        let fd = file.as_raw_fd();
        let slot = HELD.iter().position(|s| {
            s.compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        DiskLock { file, slot }
    }
}

impl Drop for DiskLock {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            HELD[i].store(-1, Ordering::SeqCst);
        }
        // SAFETY: unlocking our own descriptor; closing the file would release it too.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tca-disk-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
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
        assert!(!cache.remove_if(&key, b"TCA\x02"));
        assert!(cache.remove_if(&key, b"TCA\x01"));
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
        let held = match cache.try_lock(&key) {
            TryLock::Locked(l) => l,
            _ => panic!("first lock"),
        };
        assert!(matches!(cache.try_lock(&key), TryLock::Busy));
        drop(held);
        assert!(matches!(cache.try_lock(&key), TryLock::Locked(_)));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_paths_are_refused() {
        assert!(DiskCache::new(Some(" ")).is_err());
    }
}
