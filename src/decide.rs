//! Deciding: from what was observed (the target's state, the first-boot plan, the sources'
//! answers) a plain value saying what to write where, hand over, or leave, and why. `--dry-run`
//! and `--explain` render it; `apply.rs` carries it out. A new rule changes this decision, not
//! the plumbing around it.

use crate::Error;
use crate::cli::Options;
use crate::first_boot::{self, Plan};
use crate::machine_id::{FileState, MachineId};
use crate::roots::{self, Roots};
use crate::sources::{Candidate, Selection};
use crate::target::Target;

#[derive(Debug)]
pub struct Decision {
    pub target: Target,
    pub plan: Plan,
    pub intent: Intent,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The file is initialized: it is never modified.
    Keep(MachineId),
    /// Write the candidate's id to the file (empty, zero, invalid, or a first boot committed).
    Write(Candidate),
    /// First boot for systemd ≥ 256: leave the file, hand the id over in `run/machine-id`.
    Preserve(Candidate),
    /// The file needs an id and no source yields one.
    NoSource,
}

pub fn decide(opts: &Options, roots: &Roots, target: Target, sel: &Selection) -> Decision {
    let plan = first_boot::plan(opts.first_boot, &target.state, roots);
    let intent = match (&target.state, &sel.winner) {
        (FileState::Initialized(id), _) => Intent::Keep(*id),
        (_, None) => Intent::NoSource,
        (_, Some(c)) if plan == Plan::Preserve => Intent::Preserve(c.clone()),
        (_, Some(c)) => Intent::Write(c.clone()),
    };
    Decision {
        target,
        plan,
        intent,
    }
}

impl Decision {
    /// What a run would do, in words (for `--dry-run` and `--explain`).
    pub fn describe(&self, roots: &Roots) -> String {
        let link = self.target.link.display();
        match &self.intent {
            Intent::Keep(id) => format!("nothing to do: {link} already holds {id}"),
            Intent::NoSource => "nothing: no source yields an id (a run exits 1)".into(),
            Intent::Preserve(c) => format!(
                "hand over {} in {}, leaving {link} {} for systemd's first boot",
                c.id,
                roots.host_join(roots::RUN_MACHINE_ID).display(),
                self.target.state
            ),
            Intent::Write(c) => format!(
                "write {} to {}{}",
                c.id,
                self.target.path().display(),
                self.plan.note()
            ),
        }
    }

    /// The candidate a run would use, if it writes or hands over one.
    pub fn candidate(&self) -> Option<&Candidate> {
        match &self.intent {
            Intent::Write(c) | Intent::Preserve(c) => Some(c),
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
