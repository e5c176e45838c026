//! The file the tool initializes, `<root>/etc/machine-id` (SPEC §2): its resolution inside the
//! root, its state, the directory it lives in and the lock on it. Shared by the run and `seal`.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use log::debug;

use crate::Error;
use crate::machine_id::FileState;
use crate::read::{self, ID_FILE_MAX};
use crate::roots::{self, Resolved, Roots};

/// `etc/machine-id`, resolved and read.
#[derive(Debug)]
pub struct Target {
    /// The path as named (`<root>/etc/machine-id`), for messages: it may be a link.
    pub link: PathBuf,
    /// Where the bytes live: the link's target when it is one.
    pub resolved: Resolved,
    pub state: FileState,
}

impl Target {
    /// Resolve `etc/machine-id` inside the root and read its state (a loop, a dangling link, a
    /// file used as a directory, or anything but a regular file fails here).
    pub fn observe(roots: &Roots) -> Result<Target, Error> {
        let link = roots.root_join(roots::MACHINE_ID);
        let resolved = resolved(roots.in_etc(roots::MACHINE_ID_NAME), link.clone())?;
        let state = read_state(&resolved, &link)?;
        Ok(Target {
            link,
            resolved,
            state,
        })
    }

    /// Where the id is written.
    pub fn path(&self) -> &Path {
        &self.resolved.path
    }

    /// The directory the file is in.
    pub fn dir(&self, roots: &Roots) -> PathBuf {
        self.path().parent().unwrap_or(roots.root()).to_path_buf()
    }
}

/// The state of a resolved file, refusing anything that is not a regular file.
pub fn read_state(target: &Resolved, link: &Path) -> Result<FileState, Error> {
    let read_err = |source| Error::Read {
        path: target.path.clone(),
        source,
    };
    match &target.meta {
        None if target.final_symlink => Err(Error::DanglingSymlink {
            link: link.to_path_buf(),
            target: target.path.clone(),
        }),
        None => Ok(FileState::Missing),
        Some(m) if !m.is_file() => Err(Error::NotRegular {
            path: target.path.clone(),
            kind: read::describe(m.file_type()),
        }),
        Some(_) => {
            let file = read::open_regular(&target.path).map_err(read_err)?;
            let head = read::read_up_to(file, ID_FILE_MAX).map_err(read_err)?;
            Ok(FileState::classify(&head))
        }
    }
}

/// `--root` and `--host-root` must be directories.
pub fn require_directory(path: &Path) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(Error::RootNotDirectory {
            path: path.to_path_buf(),
        }),
    }
}

/// A resolution failure names the unresolved path (`path`).
pub fn resolved(r: io::Result<Resolved>, path: PathBuf) -> Result<Resolved, Error> {
    r.map_err(|source| Error::Resolve { path, source })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directory {
    Existed,
    Created,
    /// Missing, and the file system is read-only.
    ReadOnly,
}

/// Create a missing directory (0755, as systemd does).
pub fn ensure_directory(dir: &Resolved) -> Result<Directory, Error> {
    let path = &dir.path;
    match &dir.meta {
        Some(m) if m.is_dir() => return Ok(Directory::Existed),
        Some(m) => {
            return Err(Error::NotDirectory {
                path: path.clone(),
                kind: read::describe(m.file_type()),
            });
        }
        None => {}
    }
    match DirBuilder::new().mode(0o755).create(path) {
        Ok(()) => {
            debug!("Created {}.", path.display());
            Ok(Directory::Created)
        }
        Err(e) if is_read_only(&e) => Ok(Directory::ReadOnly),
        // A concurrent run created it first.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {
            Ok(Directory::Existed)
        }
        Err(source) => Err(Error::CreateDirectory {
            path: path.clone(),
            source,
        }),
    }
}

pub fn is_read_only(e: &io::Error) -> bool {
    e.raw_os_error() == Some(nix::libc::EROFS)
}

/// An exclusive `flock` on a directory (SPEC §5): needs no lock file, works on a read-only file
/// system, and is released when the descriptor closes (even when we are killed).
pub struct DirLock {
    dir: File,
    path: PathBuf,
}

impl DirLock {
    /// The locked directory, open for reading, when `file` is in it: what `fsync` needs after a
    /// rename there, without opening the directory again.
    pub fn directory_of(&self, file: &Path) -> Option<&File> {
        (file.parent() == Some(self.path.as_path())).then_some(&self.dir)
    }
}

/// Lock `dir`, waiting for whoever holds it.
pub fn lock(dir: &Path) -> Result<DirLock, Error> {
    lock_dir(dir).map_err(|source| Error::Lock {
        path: dir.to_path_buf(),
        source,
    })
}

fn lock_dir(dir: &Path) -> io::Result<DirLock> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY)
        .open(dir)?;
    loop {
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { nix::libc::flock(file.as_raw_fd(), nix::libc::LOCK_EX) };
        if r == 0 {
            return Ok(DirLock {
                dir: file,
                path: dir.to_path_buf(),
            });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Observed missing, then created by a concurrent run before our mkdir: that is no error;
    /// a file put there meanwhile is one, naming the path.
    #[test]
    fn created_meanwhile() {
        let d = std::env::temp_dir().join(format!("mii-target-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let missing = |name: &str| Resolved {
            path: d.join(name),
            final_symlink: false,
            meta: None,
        };
        assert_eq!(
            ensure_directory(&missing("new")).unwrap(),
            Directory::Created
        );
        std::fs::create_dir(d.join("other")).unwrap();
        assert_eq!(
            ensure_directory(&missing("other")).unwrap(),
            Directory::Existed
        );
        std::fs::write(d.join("file"), "").unwrap();
        match ensure_directory(&missing("file")) {
            Err(Error::CreateDirectory { path, .. }) => assert_eq!(path, d.join("file")),
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
