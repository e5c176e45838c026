//! Crash-safe writing: a temporary file in the target's directory, fsync, rename, fsync of the
//! directory. At no instant does the target exist torn or empty, and a crash leaves at most a
//! temporary file that the next run removes.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use log::debug;

use crate::machine_id::MachineId;
use crate::selinux::{self, Context};

pub const MODE: u32 = 0o444;

/// The temporary file is `.#<name>.machine-id-init`: ours alone, so removing it can never
/// remove another tool's file. One fixed name is enough because writers hold the directory
/// lock, and it means a killed run's leftover is exactly what the next run removes.
const TEMP_TAG: &str = ".machine-id-init";

/// The one temporary name for `path` (see [`TEMP_TAG`]).
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(".#");
    name.push(path.file_name().unwrap_or(OsStr::new("machine-id")));
    name.push(TEMP_TAG);
    path.with_file_name(name)
}

/// Remove the temporary file a killed earlier run may have left next to `path`. Call with the
/// directory lock held: then nobody else is writing it.
pub fn remove_stale_temp(path: &Path) -> io::Result<()> {
    let tmp = temp_path(path);
    match std::fs::remove_file(&tmp) {
        Ok(()) => debug!("Removed stale temporary file {}.", tmp.display()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Atomically replace (or create) `path` with the id. `path` must already be resolved: its last
/// component is replaced, never followed. Call with the directory lock held; `dir`, when given,
/// is that directory open, to `fsync` it without opening it again. `label`: the SELinux context
/// the new file gets before it takes the name (SPEC §8).
pub fn write_id(
    path: &Path,
    id: &MachineId,
    dir: Option<&File>,
    label: Option<&Context>,
) -> io::Result<()> {
    write_bytes(path, &id.file_contents(), dir, label, MODE)
}

/// [`write_id`] for any content and mode (`seal` writes "uninitialized", the origin record is
/// 0600).
pub fn write_bytes(
    path: &Path,
    contents: &[u8],
    dir: Option<&File>,
    label: Option<&Context>,
    mode: u32,
) -> io::Result<()> {
    let tmp = temp_path(path);
    // Creating first and clearing a killed run's leftover only when the name is taken costs one
    // call less on every ordinary write than clearing first.
    let created = match write_temp(&tmp, contents, label, mode) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            remove_stale_temp(path)?;
            write_temp(&tmp, contents, label, mode)
        }
        other => other,
    };
    let result = created.and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // The rename is durable only once the directory entry is.
    let synced = match dir {
        Some(d) => d.sync_all(),
        None => File::open(path.parent().unwrap_or(Path::new("."))).and_then(|d| d.sync_all()),
    };
    if let Err(e) = synced {
        // The id is complete and in place; only its durability across a crash is in doubt.
        log::warn!(
            "Failed to sync the directory of {}: {e}; the id may not survive a crash.",
            path.display()
        );
    }
    Ok(())
}

fn write_temp(tmp: &Path, contents: &[u8], label: Option<&Context>, mode: u32) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(tmp)?;
    if let Some(ctx) = label {
        // Before the name is taken: no instant with the wrong label. A file system without
        // xattrs keeps none, which is what it had before.
        if let Err(e) = selinux::set_context(&f, ctx) {
            log::warn!(
                "Failed to set the SELinux context {ctx} on {}: {e}.",
                tmp.display()
            );
        }
    }
    f.write_all(contents)?;
    // The umask may have narrowed the mode; the spec's mode is exact.
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    f.sync_all()
}
