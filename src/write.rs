//! Crash-safe writing: a temporary file in the target's directory, fsync, rename, fsync of the
//! directory. At no instant does the target exist torn or empty, and a crash leaves at most a
//! temporary file that the next run removes.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use log::debug;
use nix::mount::MsFlags;

use crate::machine_id::MachineId;

pub const MODE: u32 = 0o444;

/// Temporary files are `.#<name>.machine-id-init.<pid>`: ours alone, so cleaning them up can
/// never remove another tool's file.
const TEMP_TAG: &str = ".machine-id-init.";

/// An exclusive `flock` on a directory: needs no lock file, works on a read-only file system,
/// and is released when the descriptor closes (even when we are killed).
pub struct DirLock {
    _dir: File,
}

pub fn lock_dir(dir: &Path) -> io::Result<DirLock> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY)
        .open(dir)?;
    loop {
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { nix::libc::flock(file.as_raw_fd(), nix::libc::LOCK_EX) };
        if r == 0 {
            return Ok(DirLock { _dir: file });
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn temp_prefix(name: &OsStr) -> OsString {
    let mut p = OsString::from(".#");
    p.push(name);
    p.push(TEMP_TAG);
    p
}

/// Remove temporary files a killed earlier run left next to `path`. Call with the lock held.
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = temp_prefix(name);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().as_bytes().starts_with(prefix.as_bytes()) {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => debug!("Removed stale temporary file {}.", entry.path().display()),
                Err(e) => debug!("Cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
}

/// Atomically replace (or create) `path` with the id. `path` must already be resolved: its last
/// component is replaced, never followed.
pub fn write_id(path: &Path, id: &MachineId) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or(OsStr::new("machine-id"));
    remove_stale_temps(path);
    let mut tmp_name = temp_prefix(name);
    tmp_name.push(std::process::id().to_string());
    let tmp: PathBuf = dir.join(tmp_name);

    let result = write_temp(&tmp, id).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // The rename is durable only once the directory entry is.
    File::open(dir)?.sync_all()
}

fn write_temp(tmp: &Path, id: &MachineId) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(tmp)?;
    f.write_all(&id.file_contents())?;
    // The umask may have narrowed the mode; the spec's mode is exact.
    f.set_permissions(std::fs::Permissions::from_mode(MODE))?;
    f.sync_all()
}

pub fn is_read_only(e: &io::Error) -> bool {
    e.raw_os_error() == Some(nix::libc::EROFS)
}

/// Bind-mount `src` over `dst` read-only, as systemd's transient machine id.
pub fn bind_mount_read_only(src: &Path, dst: &Path) -> nix::Result<()> {
    nix::mount::mount(Some(src), dst, None::<&str>, MsFlags::MS_BIND, None::<&str>)?;
    if let Err(e) = nix::mount::mount(
        None::<&str>,
        dst,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None::<&str>,
    ) {
        log::warn!(
            "Failed to make the bind mount on {} read-only: {e}; it stays writable.",
            dst.display()
        );
    }
    Ok(())
}
