//! The private directory on Unix (Linux, macOS): opened once without following a symbolic link,
//! checked through that handle (a directory of this user's, mode 0700), and used only through
//! it (`openat`, `renameat`, `unlinkat`, `fstatat`), so a directory swapped for a link after the
//! check cannot redirect a read or a write. No file in it is opened through a link
//! (`O_NOFOLLOW`). System calls through `rustix`.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::Unread;

/// An open, checked, private directory.
pub struct PrivateDir {
    fd: OwnedFd,
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// A plain file (not a link, directory, FIFO, ...) owned by this user.
fn is_our_file(st: &Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::RegularFile && st.st_uid == euid()
}

fn modified(st: &Stat) -> Option<SystemTime> {
    let secs = u64::try_from(st.st_mtime).ok()?;
    let nanos = u32::try_from(st.st_mtime_nsec).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

impl PrivateDir {
    /// Make the directory if need be (0700), open it and check it through the handle: a
    /// directory of this user's, open to nobody else (`tighten`: made so, for our default
    /// location; else refused with a message that says how to fix it).
    pub fn open(path: &Path, tighten: bool) -> Result<PrivateDir, String> {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create its parent: {e}"))?;
        }
        match fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create it: {e}")),
        }
        let fd = rustix::fs::open(
            path,
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
        let st = rustix::fs::fstat(&fd).map_err(|e| format!("cannot read it: {e}"))?;
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
            if !tighten {
                return Err(format!(
                    "it is open to other users (mode {mode:o}): run `chmod 700 {}` or give a \
                     private directory",
                    path.display()
                ));
            }
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o700))
                .map_err(|e| format!("cannot make it private (chmod 700): {e}"))?;
        }
        Ok(PrivateDir { fd })
    }

    /// The bytes of `name` if it is a private plain file of ours of at most `max` bytes.
    pub fn read(&self, name: &str, max: usize) -> Result<Vec<u8>, Unread> {
        // O_NONBLOCK: a FIFO put in the entry's place must not hang the open.
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOENT => Unread::Missing,
            _ => Unread::NotOurs,
        })?;
        let st = rustix::fs::fstat(&fd).map_err(|_| Unread::NotOurs)?;
        let len = u64::try_from(st.st_size).map_err(|_| Unread::NotOurs)?;
        if !is_our_file(&st) || st.st_mode & 0o077 != 0 || len > max as u64 {
            return Err(Unread::NotOurs);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        File::from(fd)
            .take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| Unread::NotOurs)?;
        Ok(bytes)
    }

    /// Create `name` (0600); fails if anything has that name.
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        Ok(File::from(fd))
    }

    /// Rename `from` over `to` (replacing whatever has that name, a link included, never its
    /// target), durably: the directory is synced after.
    pub fn replace(&self, from: &str, to: &str) -> io::Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to)?;
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }

    pub fn remove(&self, name: &str) -> bool {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()).is_ok()
    }

    /// When `name` (not followed if a link) was last modified.
    pub fn modified(&self, name: &str) -> Option<SystemTime> {
        modified(&rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW).ok()?)
    }

    /// Open (or create, 0600) the lock file `name`: a plain file of this user's.
    pub fn open_lock_file(&self, name: &str) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        match rustix::fs::fstat(&fd) {
            Ok(st) if is_our_file(&st) => Ok(File::from(fd)),
            _ => Err(io::Error::other("it is not a file of this user's")),
        }
    }

    /// This user's plain files whose names `matches`, with their modification times.
    pub fn files(&self, matches: impl Fn(&[u8]) -> bool) -> Vec<(String, SystemTime)> {
        let Ok(entries) = rustix::fs::Dir::read_from(&self.fd) else {
            return Vec::new();
        };
        let names: Vec<String> = entries
            .map_while(|e| e.ok())
            .filter(|e| matches(e.file_name().to_bytes()))
            .filter_map(|e| e.file_name().to_str().ok().map(str::to_owned))
            .collect();
        names
            .into_iter()
            .filter_map(|n| {
                let st =
                    rustix::fs::statat(&self.fd, n.as_str(), AtFlags::SYMLINK_NOFOLLOW).ok()?;
                if !is_our_file(&st) {
                    return None;
                }
                Some((n, modified(&st)?))
            })
            .collect()
    }
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

/// A lock file's place in the table a forked child closes. Dropped before the file is closed
/// (so a reused descriptor number is never closed in a child by mistake).
pub struct ForkSlot(Option<usize>);

impl ForkSlot {
    /// Remember `file` (before it is locked, so a fork at any point after closes its copy).
    pub fn remember(file: &File) -> ForkSlot {
        AT_FORK.call_once(|| {
            // SAFETY: registers a child handler that only touches atomics and closes fds.
            unsafe { libc::pthread_atfork(None, None, Some(forget_locks_after_fork)) };
        });
        let raw = file.as_raw_fd();
        ForkSlot(HELD.iter().position(|s| {
            s.compare_exchange(-1, raw, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        }))
    }
}

impl Drop for ForkSlot {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            HELD[i].store(-1, Ordering::SeqCst);
        }
    }
}
