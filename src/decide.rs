//! Deciding: from what was observed (the target's state, the first-boot plan, the sources'
//! answers) a plain value saying what to write where, hand over, or leave, and why. `--dry-run`
//! and `--explain` render it; `apply.rs` carries it out. A new rule changes this decision, not
//! the plumbing around it.

use crate::Error;
use crate::cli::Options;
use crate::clones::Check;
use crate::config::OnClone;
use crate::first_boot::{self, Plan};
use crate::machine_id::{FileState, MachineId};
use crate::origin::Record;
use crate::roots::{self, Roots};
use crate::sources::{Candidate, Selection};
use crate::target::Target;

#[derive(Debug)]
pub struct Decision {
    pub target: Target,
    pub plan: Plan,
    pub intent: Intent,
    /// The file's directory is on a read-only file system, so a write becomes the hand-over of
    /// SPEC §5. Observed only to describe a run (`--dry-run`, `--explain`): a real run learns it
    /// from the write itself.
    pub read_only: bool,
    /// SPEC §9's policy, and what it made of an initialized file.
    pub policy: OnClone,
    pub clone: Option<Check>,
    /// The origin record to write after the id, if any.
    pub record: Option<Record>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The file is initialized: it is never modified.
    Keep(MachineId),
    /// Write the candidate's id to the file (empty, zero, invalid, or a first boot committed).
    Write(Candidate),
    /// First boot for systemd ≥ 256: leave the file, hand the id over in `run/machine-id`.
    Preserve(Candidate),
    /// A copied machine under `on-clone=reinit`: replace the copied id (and its dbus and run
    /// copies) with the candidate's.
    Reinit { old: MachineId, cand: Candidate },
    /// The file needs an id and no source yields one.
    NoSource,
}

pub fn decide(
    opts: &Options,
    roots: &Roots,
    target: Target,
    sel: &Selection,
    policy: OnClone,
    clone: Option<Check>,
) -> Decision {
    let plan = first_boot::plan(opts.first_boot, &target.state, roots);
    let intent = match (&target.state, &sel.winner, &clone) {
        (
            FileState::Initialized(_),
            _,
            Some(Check {
                reinit: Some((old, cand)),
                ..
            }),
        ) => Intent::Reinit {
            old: *old,
            cand: cand.clone(),
        },
        (FileState::Initialized(id), _, _) => Intent::Keep(*id),
        (_, None, _) => Intent::NoSource,
        (_, Some(c), _) if plan == Plan::Preserve => Intent::Preserve(c.clone()),
        (_, Some(c), _) => Intent::Write(c.clone()),
    };
    // An id written from the manager's or the administrator's word is recorded (SPEC §9).
    let record = match (&intent, &clone) {
        (_, Some(check)) => check.record.clone(),
        (Intent::Write(c) | Intent::Preserve(c), None)
            if policy != OnClone::Keep && c.source.recorded() =>
        {
            Some(Record::new(c.id, c.source, &c.id, 0))
        }
        _ => None,
    };
    Decision {
        target,
        plan,
        intent,
        read_only: false,
        policy,
        clone,
        record,
    }
}

impl Decision {
    /// What a run would do, in words (for `--dry-run` and `--explain`).
    pub fn describe(&self, roots: &Roots, bind_mount: bool) -> String {
        let link = self.target.link.display();
        match &self.intent {
            Intent::Keep(id) => match &self.clone {
                Some(c) if c.record.is_some() => format!(
                    "keep {id} in {link}, and only write its origin record ({})",
                    c.says.trim_end_matches('.')
                ),
                Some(c) => format!(
                    "nothing to do: {link} already holds {id} ({})",
                    c.says.trim_end_matches('.')
                ),
                None => format!("nothing to do: {link} already holds {id}"),
            },
            Intent::Reinit { old, cand } => format!(
                "re-identify this copied machine: replace {old} with {} in {} (and in a dbus or \
                 run copy)",
                cand.id,
                self.target.path().display()
            ),
            Intent::NoSource => "nothing: no source yields an id (a run exits 1)".into(),
            Intent::Preserve(c) => format!(
                "hand over {} in {}, leaving {link} {} for systemd's first boot",
                c.id,
                roots.host_join(roots::RUN_MACHINE_ID).display(),
                self.target.state
            ),
            Intent::Write(_) if self.read_only && self.target.state == FileState::Missing => {
                format!(
                    "nothing: {link} is missing and {} is read-only (a run exits 1)",
                    self.target.dir(roots).display()
                )
            }
            Intent::Write(c) if self.read_only => format!(
                "hand over {} in {}, {} ({} is read-only){}",
                c.id,
                roots.host_join(roots::RUN_MACHINE_ID).display(),
                match bind_mount {
                    true => format!("bind-mounted over {link}"),
                    false => "only (--no-bind-mount)".to_string(),
                },
                self.target.dir(roots).display(),
                self.plan.note()
            ),
            Intent::Write(c) => format!(
                "write {} to {}{}",
                c.id,
                self.target.path().display(),
                self.plan.note()
            ),
        }
    }

    /// Look whether the file's directory is read-only, for [`Decision::describe`].
    pub fn observe_read_only(&mut self, roots: &Roots) {
        use nix::sys::statvfs::{FsFlags, statvfs};
        let dir = self.target.dir(roots);
        self.read_only = statvfs(&dir).is_ok_and(|v| v.flags().contains(FsFlags::ST_RDONLY));
    }

    /// The candidate a run would use, if it writes or hands over one.
    pub fn candidate(&self) -> Option<&Candidate> {
        match &self.intent {
            Intent::Write(c) | Intent::Preserve(c) | Intent::Reinit { cand: c, .. } => Some(c),
            Intent::Keep(_) | Intent::NoSource => None,
        }
    }

    pub fn no_source(&self, opts: &Options) -> Error {
        Error::NoSource {
            tried: opts
                .sources
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(","),
            path: self.target.link.clone(),
        }
    }
}
