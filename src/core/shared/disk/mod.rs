//! `DiskCache`: sessions shared by the processes of one user on one machine.
//!
//! - One file per cache key, `<key>.session`, in a per-user directory (mode 0700; files 0600),
//!   written atomically: a temporary file, fsync, rename over the old one, fsync the directory.
//! - The directory is opened once per process (again in a forked child), without following a
//!   symbolic link, and checked through that handle: a directory of this user's, private. Every
//!   later operation goes through the handle (`openat`, `renameat`, `unlinkat`, `fstatat`),
//!   never through a path, so a directory swapped for a symbolic link after the check cannot
//!   redirect a read or a write. No file in it is opened through a symbolic link either
//!   (`O_NOFOLLOW`): a link put in an entry's place is ignored, and replaced by the next write.
//! - Temporary files a crash left behind (this user's, older than a minute) are removed when
//!   the directory is opened.
//! - Single-flight across processes: an advisory `flock` on `<key>.lock`, held only around the
//!   sign-in. The OS drops it when its holder dies, even by SIGKILL. A forked child closes the
//!   lock descriptors it inherited (see `forget_locks_after_fork`), so a fork taken while the
//!   parent signs in cannot keep the lock alive.
//! - An entry is removed only by the holder of its lock (`remove_if` takes the held lock), so no
//!   writer can publish between the check of the entry and its removal.
//! - Files that are corrupt, truncated, foreign (another owner, loose permissions, not a plain
//!   file) or unreadable are ignored and replaced; the cache never fails a call.

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags, Stat, Timespec, Timestamps};
use rustix::io::Errno;

use crate::core::error::{Error, Result};
use crate::core::sessions::CacheKey;

use super::seal::MAX_SEALED_LEN;
use super::{hex, TryLock};

const DIR_NAME: &str = "tableau_connected_auth";
/// A temporary file older than this was left by a writer that died (a live one renames it
/// within milliseconds).
const STALE_TEMP: Duration = Duration::from_secs(60);

/// A directory of cached sessions.
pub struct DiskCache {
    dir: PathBuf,
    /// True when the directory is our default location, which we may tighten to 0700.
    default_location: bool,
    /// The outcome of preparing the directory, once per process: the pid that prepared it and
    /// the directory's handle (`None`: unusable). Never held across I/O.
    prepared: Mutex<Option<(u32, Option<Arc<OwnedFd>>)>>,
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
    rustix::process::geteuid().as_raw()
}

/// A plain file (not a link, directory, FIFO, ...) owned by this user.
fn is_our_file(st: &Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::RegularFile && st.st_uid == euid()
}

/// When the file was last modified.
fn modified(st: &Stat) -> Option<SystemTime> {
    let secs = u64::try_from(st.st_mtime).ok()?;
    let nanos = u32::try_from(st.st_mtime_nsec).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// The name of `key`'s file with `suffix`, inside the directory.
fn name(key: &CacheKey, suffix: &str) -> String {
    format!("{}.{suffix}", hex(key))
}

/// Remove the temporary files a crashed writer left in `dir`: this user's plain files named
/// `.*.tmp`, older than [`STALE_TEMP`]. Links are not followed; errors are ignored.
fn sweep_stale_temp_files(dir: &OwnedFd) {
    let Ok(entries) = rustix::fs::Dir::read_from(dir) else {
        return;
    };
    let temps: Vec<CString> = entries
        .map_while(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_bytes();
            n.len() > ".tmp".len() && n.starts_with(b".") && n.ends_with(b".tmp")
        })
        .map(|e| e.file_name().to_owned())
        .collect();
    let now = SystemTime::now();
    for temp in temps {
        let Ok(st) = rustix::fs::statat(dir, temp.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let stale = modified(&st)
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= STALE_TEMP);
        if stale
            && is_our_file(&st)
            && rustix::fs::unlinkat(dir, temp.as_c_str(), AtFlags::empty()).is_ok()
        {
            log::debug!(
                "DiskCache: removed {}, a temporary file left by a writer that died",
                temp.to_string_lossy()
            );
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

    /// The directory's handle, if it exists, is ours and is private (`None`: the cache cannot
    /// be used). Opened and checked once per process, and again in a forked child.
    fn handle(&self) -> Option<Arc<OwnedFd>> {
        let pid = std::process::id();
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

    /// Make the directory if need be, open it and check it through the handle.
    fn prepare(&self) -> std::result::Result<OwnedFd, String> {
        if let Some(parent) = self.dir.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create its parent: {e}"))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create it: {e}")),
        }
        let dir = rustix::fs::open(
            &self.dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOTDIR => "it is not a directory".to_string(),
            Errno::LOOP => "it is a symbolic link, which is not followed: give the directory \
                            it points to"
                .to_string(),
            e => format!("cannot open it: {e}"),
        })?;
        let st = rustix::fs::fstat(&dir).map_err(|e| format!("cannot read it: {e}"))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
            return Err("it is not a directory".into());
        }
        if st.st_uid != euid() {
            return Err(format!(
                "it belongs to user id {}, not to this user ({}): give a directory of your own",
                st.st_uid,
                euid()
            ));
        }
        let mode = st.st_mode & 0o777;
        if mode & 0o077 != 0 {
            if !self.default_location {
                return Err(format!(
                    "it is open to other users (mode {mode:o}): run `chmod 700 {}` or give a \
                     private directory",
                    self.dir.display()
                ));
            }
            rustix::fs::fchmod(&dir, Mode::from_raw_mode(0o700))
                .map_err(|e| format!("cannot make it private (chmod 700): {e}"))?;
        }
        sweep_stale_temp_files(&dir);
        Ok(dir)
    }

    fn file(&self, key: &CacheKey, suffix: &str) -> PathBuf {
        self.dir.join(name(key, suffix))
    }

    /// The path of the entry for `key` (for tests, tools and messages; the cache itself only
    /// reaches it through the directory's handle).
    pub fn entry_path(&self, key: &CacheKey) -> PathBuf {
        self.file(key, "session")
    }

    /// The sealed bytes cached for `key`, if a trustworthy file holds them.
    pub fn load(&self, key: &CacheKey) -> Option<Vec<u8>> {
        let dir = self.handle()?;
        self.load_in(&dir, key)
    }

    fn load_in(&self, dir: &OwnedFd, key: &CacheKey) -> Option<Vec<u8>> {
        // O_NONBLOCK: a FIFO put in the entry's place must not hang the open.
        let fd = rustix::fs::openat(
            dir,
            name(key, "session"),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        let len = u64::try_from(st.st_size).ok()?;
        if !is_our_file(&st) || st.st_mode & 0o077 != 0 || len > MAX_SEALED_LEN as u64 {
            log::debug!(
                "ignoring {}: not a private file of ours",
                self.entry_path(key).display()
            );
            return None;
        }
        let mut bytes = Vec::with_capacity(len as usize);
        File::from(fd)
            .take(MAX_SEALED_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .ok()?;
        Some(bytes)
    }

    /// Replace the entry for `key` atomically. False (logged) if it could not be written.
    pub fn store(&self, key: &CacheKey, sealed: &[u8]) -> bool {
        let Some(dir) = self.handle() else {
            return false;
        };
        let entry = name(key, "session");
        let mut nonce = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut nonce);
        let tmp = format!(".{}.{}.{}.tmp", hex(key), std::process::id(), hex(&nonce));
        let mut created = false;
        let written = (|| -> std::io::Result<()> {
            let fd = rustix::fs::openat(
                &*dir,
                &tmp,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            created = true;
            let mut file = File::from(fd);
            file.write_all(sealed)?;
            rustix::fs::fsync(&file)?;
            // Replaces whatever has the entry's name, a symbolic link included (not its target).
            rustix::fs::renameat(&*dir, &tmp, &*dir, &entry)?;
            created = false;
            // The rename itself is durable once the directory is synced.
            rustix::fs::fsync(&*dir)?;
            Ok(())
        })();
        match written {
            Ok(()) => true,
            Err(e) => {
                if created {
                    let _ = rustix::fs::unlinkat(&*dir, &tmp, AtFlags::empty());
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
    pub fn remove_if(&self, key: &CacheKey, prefix: &[u8], held: &DiskLock) -> bool {
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
            Some(bytes) if bytes.starts_with(prefix) => {
                rustix::fs::unlinkat(&*dir, name(key, "session"), AtFlags::empty()).is_ok()
            }
            _ => false,
        }
    }

    /// How long ago the holder of `key`'s lock last renewed it (the lock file's mtime).
    pub fn lock_age(&self, key: &CacheKey) -> Option<Duration> {
        let dir = self.handle()?;
        let st = rustix::fs::statat(&*dir, name(key, "lock"), AtFlags::SYMLINK_NOFOLLOW).ok()?;
        SystemTime::now().duration_since(modified(&st)?).ok()
    }

    /// Try to take the cross-process lock for `key` without waiting.
    pub fn try_lock(&self, key: &CacheKey) -> TryLock<DiskLock> {
        let Some(dir) = self.handle() else {
            return TryLock::Unavailable;
        };
        let fd = match rustix::fs::openat(
            &*dir,
            name(key, "lock"),
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                self.warn_once(&format!(
                    "cannot open the lock file {}: {e}",
                    self.file(key, "lock").display()
                ));
                return TryLock::Unavailable;
            }
        };
        match rustix::fs::fstat(&fd) {
            Ok(st) if is_our_file(&st) => {}
            _ => {
                self.warn_once(&format!(
                    "the lock file {} is not a file of this user's",
                    self.file(key, "lock").display()
                ));
                return TryLock::Unavailable;
            }
        }
        // Recorded before locking, so that a fork at any point after this closes the child's copy.
        let lock = DiskLock::hold(fd, dir, *key);
        match rustix::fs::flock(&lock.fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {
                lock.renew();
                TryLock::Locked(lock)
            }
            Err(e) if e == Errno::WOULDBLOCK || e == Errno::INTR => TryLock::Busy,
            Err(e) => {
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
    fd: OwnedFd,
    slot: Option<usize>,
    /// The directory handle the lock was taken through, and the key it is for.
    dir: Arc<OwnedFd>,
    key: CacheKey,
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
        let Ok(now) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) else {
            return;
        };
        let times = Timestamps {
            last_access: Timespec {
                tv_sec: 0,
                tv_nsec: rustix::fs::UTIME_OMIT,
            },
            last_modification: Timespec {
                tv_sec: now.as_secs() as i64,
                tv_nsec: now.subsec_nanos().into(),
            },
        };
        let _ = rustix::fs::futimens(&self.fd, &times);
    }

    fn hold(fd: OwnedFd, dir: Arc<OwnedFd>, key: CacheKey) -> DiskLock {
        AT_FORK.call_once(|| {
            // SAFETY: registers a child handler that only touches atomics and closes fds.
            unsafe { libc::pthread_atfork(None, None, Some(forget_locks_after_fork)) };
        });
        let raw = fd.as_raw_fd();
        let slot = HELD.iter().position(|s| {
            s.compare_exchange(-1, raw, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        });
        DiskLock { fd, slot, dir, key }
    }
}

impl Drop for DiskLock {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            HELD[i].store(-1, Ordering::SeqCst);
        }
        // Closing the descriptor would release it too.
        let _ = rustix::fs::flock(&self.fd, FlockOperation::Unlock);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tca-disk-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn locked(cache: &DiskCache, key: &CacheKey) -> DiskLock {
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
