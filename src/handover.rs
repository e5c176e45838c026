//! Handing the id over through `<host-root>/run/machine-id`: for systemd's first boot (SPEC §4
//! `preserve`: systemd ≥ 256 takes it from there and commits it later), and on a read-only
//! `/etc` (§5: bind-mounted over `/etc/machine-id` as systemd's transient mode does, for
//! `systemd-machine-id-commit.service` to persist later).

use std::io;
use std::path::{Path, PathBuf};

use log::{debug, info};
use nix::mount::MsFlags;

use crate::cli::Options;
use crate::first_boot::Plan;
use crate::machine_id::{FileState, MachineId};
use crate::read::{self, ID_FILE_MAX};
use crate::roots::{self, Roots};
use crate::sources::{Candidate, random};
use crate::target::{self, Directory, Target};
use crate::{Action, Error, Report, write};

/// Write the id to `run/machine-id` under a lock on `run`, unless it holds one already that the
/// candidate must not displace (a random one never does); returns the id handed over.
pub fn hand_over(roots: &Roots, cand: &Candidate) -> Result<(MachineId, PathBuf), Error> {
    let run_dir = target::resolved(roots.in_host(roots::RUN), roots.host_join(roots::RUN))?;
    if target::ensure_directory(&run_dir)? == Directory::ReadOnly {
        return Err(Error::Write {
            path: run_dir.path,
            source: io::Error::from_raw_os_error(nix::libc::EROFS),
        });
    }
    let run_lock = target::lock(&run_dir.path)?;
    let file = target::resolved(
        roots.in_host(roots::RUN_MACHINE_ID),
        roots.host_join(roots::RUN_MACHINE_ID),
    )?
    .path;
    let existing = read::read_capped(&file, ID_FILE_MAX)
        .ok()
        .flatten()
        .map(|b| FileState::classify(&b));
    if let Some(FileState::Initialized(old)) = existing {
        if old == cand.id || random::keeps_earlier_handover(cand) {
            debug!("{} already holds {old}.", file.display());
            return Ok((old, file));
        }
    }
    write::write_id(&file, &cand.id, run_lock.directory_of(&file)).map_err(|source| {
        Error::Write {
            path: file.clone(),
            source,
        }
    })?;
    Ok((cand.id, file))
}

/// `/etc` is read-only and the file must be written: hand the id over in `run/machine-id` and
/// bind-mount it over the file (unless `--no-bind-mount`). A missing file cannot be mounted over:
/// the system would not boot like this, and the error says what to do.
pub fn read_only(
    opts: &Options,
    roots: &Roots,
    cand: &Candidate,
    target: &Target,
    plan: Plan,
) -> Result<Report, Error> {
    let dir = target.dir(roots);
    if target.state == FileState::Missing {
        return Err(Error::MissingOnReadOnly {
            path: target.link.clone(),
            dir,
        });
    }
    let (id, run) = hand_over(roots, cand)?;
    let placed = if opts.bind_mount {
        bind_mount_read_only(&run, target.path()).map_err(|source| Error::BindMount {
            source_path: run.clone(),
            target: target.path().to_path_buf(),
            source,
        })?;
        format!(", bind-mounted over {}", target.link.display())
    } else {
        " only (--no-bind-mount)".to_string()
    };
    info!(
        "{} is read-only: initialized machine ID from {}: {id}, in {}{placed}{}.",
        dir.display(),
        cand.origin,
        run.display(),
        plan.note()
    );
    let bind_mounted = opts.bind_mount;
    Ok(Report {
        id,
        action: Action::HandedOver { run, bind_mounted },
    })
}

/// Bind-mount `src` over `dst` read-only, as systemd's transient machine id.
fn bind_mount_read_only(src: &Path, dst: &Path) -> nix::Result<()> {
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
