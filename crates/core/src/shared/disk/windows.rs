//! The private directory on Windows. What Windows gives, and what it does not:
//!
//! - Privacy comes from the directory's ACL, which a new directory inherits from its parent:
//!   under `%LOCALAPPDATA%` (our default) that is the user's own profile, closed to other
//!   users. The ACL is not inspected here (Unix checks owner and mode instead).
//! - Entries and lock files are opened without following reparse points (symbolic links,
//!   junctions): one in an entry's place is not read through, and is replaced by the next write.
//!   The directory itself is checked once and then used by path (Windows has no `openat`), so
//!   unlike Unix a directory swapped for a junction after the check would be followed.
//! - Replacing an entry is one `MoveFileEx(REPLACE_EXISTING)` (std's `rename`); a forked child
//!   does not exist on Windows.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::windows::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::Unread;

/// `FILE_FLAG_OPEN_REPARSE_POINT`: open a link itself, never its target.
const OPEN_REPARSE_POINT: u32 = 0x0020_0000;

/// A checked directory.
pub struct PrivateDir {
    path: PathBuf,
}

fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(OPEN_REPARSE_POINT)
}

/// A plain file, not a link.
fn is_plain_file(meta: &fs::Metadata) -> bool {
    meta.is_file() && !meta.file_type().is_symlink()
}

impl PrivateDir {
    /// Make the directory if need be and check that it is a directory, not a link
    /// (`_tighten`: Windows ACLs are inherited from the parent, not tightened here).
    pub fn open(path: &Path, _tighten: bool) -> Result<PrivateDir, String> {
        fs::create_dir_all(path).map_err(|e| format!("cannot create it: {e}"))?;
        let meta = fs::symlink_metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
        if meta.file_type().is_symlink() {
            return Err(
                "it is a symbolic link or junction, which is not followed: give the directory \
                 it points to"
                    .into(),
            );
        }
        if !meta.is_dir() {
            return Err("it is not a directory".into());
        }
        Ok(PrivateDir {
            path: path.to_path_buf(),
        })
    }

    /// The bytes of `name` if it is a plain file of at most `max` bytes.
    pub fn read(&self, name: &str, max: usize) -> Result<Vec<u8>, Unread> {
        let file = no_follow(OpenOptions::new().read(true))
            .open(self.path.join(name))
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => Unread::Missing,
                _ => Unread::NotOurs,
            })?;
        let meta = file.metadata().map_err(|_| Unread::NotOurs)?;
        if !is_plain_file(&meta) || meta.len() > max as u64 {
            return Err(Unread::NotOurs);
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(max as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| Unread::NotOurs)?;
        Ok(bytes)
    }

    /// Create `name`; fails if anything has that name.
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        no_follow(OpenOptions::new().write(true).create_new(true)).open(self.path.join(name))
    }

    /// Rename `from` over `to`, replacing whatever has that name.
    pub fn replace(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.path.join(from), self.path.join(to))
    }

    pub fn remove(&self, name: &str) -> bool {
        fs::remove_file(self.path.join(name)).is_ok()
    }

    /// When `name` (not followed if a link) was last modified.
    pub fn modified(&self, name: &str) -> Option<SystemTime> {
        fs::symlink_metadata(self.path.join(name))
            .ok()?
            .modified()
            .ok()
    }

    /// Open (or create) the lock file `name`: a plain file.
    pub fn open_lock_file(&self, name: &str) -> io::Result<File> {
        let file = no_follow(OpenOptions::new().read(true).write(true).create(true))
            .open(self.path.join(name))?;
        if !is_plain_file(&file.metadata()?) {
            return Err(io::Error::other("it is not a plain file"));
        }
        Ok(file)
    }

    /// The plain files whose names `matches`, with their modification times.
    pub fn files(&self, matches: impl Fn(&[u8]) -> bool) -> Vec<(String, SystemTime)> {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                if !matches(name.as_bytes()) {
                    return None;
                }
                Some((name, e.metadata().ok()?.modified().ok()?))
            })
            .collect()
    }
}

/// Windows has no `fork`: nothing to remember.
pub struct ForkSlot;

impl ForkSlot {
    pub fn remember(_file: &File) -> ForkSlot {
        ForkSlot
    }
}
