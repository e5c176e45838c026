//! `machine-id-init seal --root DIR`: leave an image ready for a first boot that takes its id
//! from the hypervisor. Touches only the image: never the build host's own identity.

use std::io;
use std::path::{Path, PathBuf};

use log::warn;

use crate::Error;
use crate::cli::{SealMode, SealOptions};
use crate::machine_id::FileState;
use crate::read::{self, ID_FILE_MAX};
use crate::roots::{self, DBUS_LINK_TARGET, Roots};
use crate::sources::dbus::DBUS_MACHINE_ID;
use crate::{origin, selinux, target, write};

/// Seal the image; returns one line per change (none: it was sealed already).
pub fn seal(opts: &SealOptions) -> Result<Vec<String>, Error> {
    let roots = Roots::new(&opts.root, &opts.root);
    target::require_directory(roots.root())?;
    let mut changes = Vec::new();

    let etc = target::resolved(roots.in_root(roots::ETC), roots.root_join(roots::ETC))?;
    if target::ensure_directory(&etc)? == target::Directory::ReadOnly {
        return Err(write_error(&etc.path, read_only()));
    }
    let lock = target::lock(&etc.path)?;
    let link = roots.root_join(roots::MACHINE_ID);
    let target = target::resolved(roots.in_root(roots::MACHINE_ID), link.clone())?;
    let state = target::read_state(&target, &link)?;
    // A dbus copy that cannot be sealed fails the run before anything is changed.
    dbus_copy(&roots)?;

    // What the file becomes (None: removed), the state that already is that, and its name.
    let (wanted, sealed, new): (Option<&[u8]>, FileState, &str) = match opts.mode {
        SealMode::Uninitialized => (
            Some(b"uninitialized\n"),
            FileState::FirstBootMarker,
            "\"uninitialized\"",
        ),
        SealMode::Empty => (Some(b""), FileState::Empty, "empty"),
        SealMode::Missing => (None, FileState::Missing, "removed"),
    };
    if state != sealed {
        match wanted {
            Some(bytes) => {
                let label =
                    selinux::label_for_write(&roots, &target.path, state != FileState::Missing);
                write::write_bytes(
                    &target.path,
                    bytes,
                    lock.directory_of(&target.path),
                    label.as_ref(),
                    write::MODE,
                )
                .map_err(|e| write_error(&target.path, e))?;
            }
            // The link itself goes: a missing file is what this mode asks for.
            None => std::fs::remove_file(&link).map_err(|e| write_error(&link, e))?,
        }
        changes.push(format!("{}: {state} -> {new}", link.display()));
    }
    match opts.mode {
        SealMode::Missing => warn!(
            "{} is missing: systemd cannot boot this image if its /etc is read-only at first boot; \
             the default \"uninitialized\" is safe there.",
            link.display()
        ),
        SealMode::Empty => warn!(
            "{} is empty: systemd will not treat the first boot as its first (no presets, no \
             ConditionFirstBoot= units); the default \"uninitialized\" keeps them.",
            link.display()
        ),
        SealMode::Uninitialized => {}
    }
    drop(lock);

    if let Some(change) = seal_dbus(&roots, opts.dbus_symlink)? {
        changes.push(change);
    }
    // The image's record describes the build machine's UUID; every copy records its own.
    let record = target::resolved(
        roots.in_root_nofollow(origin::ORIGIN),
        roots.root_join(origin::ORIGIN),
    )?;
    if record.meta.is_some() {
        std::fs::remove_file(&record.path).map_err(|e| write_error(&record.path, e))?;
        changes.push(format!("{}: removed", record.path.display()));
    }
    Ok(changes)
}

/// `var/lib/dbus/machine-id` when it is a regular file (a copy to seal); `None` when it is a
/// link or missing (left alone); an error for anything else.
fn dbus_copy(roots: &Roots) -> Result<Option<PathBuf>, Error> {
    let resolved = target::resolved(
        roots.in_root_nofollow(DBUS_MACHINE_ID),
        roots.root_join(DBUS_MACHINE_ID),
    )?;
    match &resolved.meta {
        Some(m) if m.is_file() => Ok(Some(resolved.path)),
        Some(m) if m.file_type().is_symlink() => Ok(None),
        Some(m) => Err(Error::NotRegular {
            path: resolved.path,
            kind: read::describe(m.file_type()),
        }),
        None => Ok(None),
    }
}

/// A regular `var/lib/dbus/machine-id` is a copy of the template's id: remove it (or make it
/// the conventional link). A link is left alone.
fn seal_dbus(roots: &Roots, symlink: bool) -> Result<Option<String>, Error> {
    let Some(path) = dbus_copy(roots)? else {
        return Ok(None);
    };
    let held = read::read_capped(&path, ID_FILE_MAX)
        .ok()
        .flatten()
        .map(|b| FileState::classify(&b).to_string())
        .unwrap_or_else(|| "unreadable".into());
    if symlink {
        write::remove_stale_temp(&path).map_err(|e| write_error(&path, e))?;
        let tmp = write::temp_path(&path);
        std::os::unix::fs::symlink(DBUS_LINK_TARGET, &tmp)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                write_error(&path, e)
            })?;
        Ok(Some(format!(
            "{}: {held} -> link to {DBUS_LINK_TARGET}",
            path.display()
        )))
    } else {
        std::fs::remove_file(&path).map_err(|e| write_error(&path, e))?;
        Ok(Some(format!("{}: {held} -> removed", path.display())))
    }
}

fn read_only() -> io::Error {
    io::Error::from_raw_os_error(nix::libc::EROFS)
}

fn write_error(path: &Path, source: io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source,
    }
}
