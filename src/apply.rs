//! Applying a [`Decision`]: the lock on `etc`, the atomic write (SPEC §2), the hand-over in
//! `run/machine-id` (§4, §5), and the log line that says what was done.

use std::io;

use log::info;

use crate::cli::Options;
use crate::decide::{Decision, Intent};
use crate::roots::{Resolved, Roots};
use crate::target::{self, DirLock, Directory};
use crate::{Action, Error, Report, handover, write};

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
    let cand = match &decision.intent {
        Intent::NoSource => return Err(decision.no_source(opts)),
        Intent::Keep(id) => {
            // A run killed before its rename, and the file initialized since by someone else.
            if etc.lock.is_some() {
                let _ = write::remove_stale_temp(target.path());
            }
            return Ok(Report {
                id: *id,
                action: Action::AlreadyInitialized,
            });
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
            return Ok(Report {
                id,
                action: Action::Preserved(run),
            });
        }
        Intent::Write(cand) => cand,
    };
    let written = match etc.read_only {
        true => Err(io::Error::from_raw_os_error(nix::libc::EROFS)),
        false => {
            let dir = etc
                .lock
                .as_ref()
                .and_then(|l| l.directory_of(target.path()));
            write::write_id(target.path(), &cand.id, dir)
        }
    };
    match written {
        Ok(()) => {
            info!(
                "Initialized machine ID from {}: {}{}.",
                cand.origin,
                cand.id,
                plan.note()
            );
            Ok(Report {
                id: cand.id,
                action: Action::Written(target.path().to_path_buf()),
            })
        }
        Err(e) if target::is_read_only(&e) => handover::read_only(opts, roots, cand, target, plan),
        Err(source) => Err(Error::Write {
            path: target.path().to_path_buf(),
            source,
        }),
    }
}
