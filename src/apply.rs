//! Applying a [`Decision`]: the lock on `etc`, the atomic write (SPEC §2), the hand-over in
//! `run/machine-id` (§4, §5), and the log line that says what was done.

use std::io;

use std::os::unix::fs::PermissionsExt;

use log::{debug, info, log, warn};

use crate::cli::Options;
use crate::decide::{Decision, Intent};
use crate::machine_id::{FileState, MachineId};
use crate::read::{self, ID_FILE_MAX};
use crate::roots::{self, Resolved, Roots};
use crate::sources::Candidate;
use crate::sources::dbus::DBUS_MACHINE_ID;
use crate::target::{self, DirLock, Directory};
use crate::{Action, Error, Report, handover, origin, selinux, write};

/// `<root>/etc`, made ready for writing: created when missing, and locked.
pub struct Etc {
    /// Missing, and the file system is read-only (the id can only be handed over).
    read_only: bool,
    lock: Option<DirLock>,
}

impl Etc {
    /// Create `etc` when missing (0755) and take its lock, so that concurrent runs agree on one
    /// id; a dry run does neither.
    pub fn prepare(etc: &Resolved, dry_run: bool) -> Result<Etc, Error> {
        if dry_run {
            return Ok(Etc {
                read_only: false,
                lock: None,
            });
        }
        let read_only = target::ensure_directory(etc)? == Directory::ReadOnly;
        let lock = match read_only {
            true => None,
            false => Some(target::lock(&etc.path)?),
        };
        Ok(Etc { read_only, lock })
    }
}

pub fn apply(
    opts: &Options,
    roots: &Roots,
    decision: &Decision,
    etc: &Etc,
) -> Result<Report, Error> {
    let (target, plan) = (&decision.target, decision.plan);
    let report = match &decision.intent {
        Intent::NoSource => return Err(decision.no_source(opts)),
        Intent::Keep(id) => {
            // A run killed before its rename, and the file initialized since by someone else.
            if etc.lock.is_some() {
                let _ = write::remove_stale_temp(target.path());
            }
            if let Some(check) = &decision.clone {
                log!(check.level, "{}", check.says);
            }
            Report {
                id: *id,
                action: Action::AlreadyInitialized,
            }
        }
        Intent::Preserve(cand) => {
            let (id, run) = handover::hand_over(roots, cand)?;
            info!(
                "Initialized machine ID from {}: {id}, in {}; {} stays {} for systemd's first \
                 boot.",
                cand.origin,
                run.display(),
                target.link.display(),
                target.state
            );
            Report {
                id,
                action: Action::Preserved(run),
            }
        }
        Intent::Write(cand) => {
            let report = write_target(opts, roots, decision, etc, cand)?;
            if matches!(report.action, Action::Written(_)) {
                info!(
                    "Initialized machine ID from {}: {}{}.",
                    cand.origin,
                    cand.id,
                    plan.note()
                );
            }
            report
        }
        Intent::Reinit { old, cand } => {
            let report = write_target(opts, roots, decision, etc, cand)?;
            // The warning that names the old and the new id, then the copies that follow.
            if let Some(check) = &decision.clone {
                log!(check.level, "{}", check.says);
            }
            replace_copies(roots, old, &cand.id);
            report
        }
    };
    // The record comes after the id: a crash between the two is a re-baseline, never a copy.
    // `/etc` handed over read-only takes none.
    if let Some(record) = &decision.record {
        if !matches!(report.action, Action::HandedOver { .. }) {
            match origin::write(roots, record) {
                Ok(_) => {}
                Err(e) if target::is_read_only(&e) => {
                    debug!("Not recording the origin of the id: {e}.");
                }
                Err(e) => warn!(
                    "Failed to write the origin record {}: {e}; a copy of this machine will not \
                     be recognized.",
                    roots.root_join(origin::ORIGIN).display()
                ),
            }
        }
    }
    Ok(report)
}

/// Write the candidate's id to the target; on a read-only `/etc`, hand it over (SPEC §5).
fn write_target(
    opts: &Options,
    roots: &Roots,
    decision: &Decision,
    etc: &Etc,
    cand: &Candidate,
) -> Result<Report, Error> {
    let (target, plan) = (&decision.target, decision.plan);
    let written = match etc.read_only {
        true => Err(io::Error::from_raw_os_error(nix::libc::EROFS)),
        false => {
            let dir = etc
                .lock
                .as_ref()
                .and_then(|l| l.directory_of(target.path()));
            let replaced = target.state != FileState::Missing;
            let label = selinux::label_for_write(roots, target.path(), replaced);
            write::write_id(target.path(), &cand.id, dir, label.as_ref())
        }
    };
    match written {
        Ok(()) => Ok(Report {
            id: cand.id,
            action: Action::Written(target.path().to_path_buf()),
        }),
        Err(e) if target::is_read_only(&e) => handover::read_only(opts, roots, cand, target, plan),
        Err(source) => Err(Error::Write {
            path: target.path().to_path_buf(),
            source,
        }),
    }
}

/// Re-identifying also replaces the copied id where the machine keeps copies of it: a regular
/// `var/lib/dbus/machine-id` of the root (a link to `/etc/machine-id` follows by itself) and
/// `run/machine-id` of the host, each keeping its mode (SPEC §9).
fn replace_copies(roots: &Roots, old: &MachineId, new: &MachineId) {
    let dbus = roots.in_root_nofollow(DBUS_MACHINE_ID).ok();
    let run = roots.in_host(roots::RUN_MACHINE_ID).ok();
    for file in [dbus, run].into_iter().flatten() {
        let Some(meta) = file.meta.as_ref().filter(|m| m.is_file()) else {
            continue;
        };
        let holds_old = read::read_capped(&file.path, ID_FILE_MAX)
            .ok()
            .flatten()
            .is_some_and(|b| FileState::classify(&b) == FileState::Initialized(*old));
        if !holds_old {
            continue;
        }
        let label = selinux::context_of(&file.path);
        let mode = meta.permissions().mode() & 0o7777;
        match write::write_bytes(&file.path, &new.file_contents(), None, label.as_ref(), mode) {
            Ok(()) => info!("Replaced the copied machine ID in {}.", file.path.display()),
            Err(e) => warn!(
                "Failed to replace the copied machine ID in {}: {e}.",
                file.path.display()
            ),
        }
    }
}
