//! machine-id-init: initialize `/etc/machine-id` from the VM or container UUID, atomically,
//! before systemd reads it. The behaviour contract is `SPEC.md`; `main.rs` only parses the
//! command line, sets up logging, prints what the library returns and maps [`Error`] to exit
//! codes.
//!
//! A run observes (the target file: `target.rs`; the environment: `detect.rs`; the sources:
//! `sources/`), decides (`decide.rs`, with the first-boot rule of `first_boot.rs`) and applies
//! (`apply.rs`: the atomic write of `write.rs`, the hand-over of `handover.rs`). Where each SPEC
//! rule lives: §2 file states `machine_id.rs`, `target.rs`, `write.rs`; §3 sources `sources/`,
//! deny-list `deny_list.rs`; §4 `first_boot.rs`; §5 `handover.rs`, lock `target.rs`; §6
//! `detect.rs` (chroot refusal in `sources/mod.rs`); §7 `cli.rs`; §8 `read.rs`, `error.rs`, SELinux labels `selinux.rs`; §10
//! `shim.rs`, `startup.rs`, kernel-log logging `log.rs`; `seal` `seal.rs`; `--explain`
//! `explain.rs`; §9 clones `clones.rs`, the record `origin.rs` and its `fingerprint.rs`, the
//! configuration file `config.rs`.

pub mod apply;
pub mod cli;
pub mod clones;
pub mod config;
pub mod decide;
pub mod deny_list;
pub mod detect;
pub mod error;
pub mod explain;
pub mod fingerprint;
pub mod first_boot;
pub mod handover;
pub mod log;
pub mod machine_id;
pub mod origin;
pub mod proc;
pub mod read;
pub mod roots;
pub mod seal;
pub mod selinux;
pub mod shim;
pub mod sources;
pub mod startup;
pub mod target;
pub mod write;

use std::path::PathBuf;

use ::log::{debug, info, warn};

use crate::cli::Options;
use crate::decide::{Decision, Intent};
use crate::detect::Environment;
pub use crate::error::Error;
use crate::explain::Explanation;
use crate::machine_id::{FileState, MachineId};
use crate::roots::{Resolved, Roots};
use crate::sources::Selection;
use crate::target::Target;

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The file already held an id; nothing was touched.
    AlreadyInitialized,
    /// The id was written to the file (at this path, the link's target if it is a link).
    Written(PathBuf),
    /// First boot for systemd ≥ 256: the file was left alone, the id handed over in `run`.
    Preserved(PathBuf),
    /// `/etc` is read-only: the id is in `run`, bind-mounted over the file unless asked not to.
    HandedOver { run: PathBuf, bind_mounted: bool },
    /// `--dry-run` or `--explain`: nothing was written.
    DryRun,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: MachineId,
    pub action: Action,
}

/// Initialize `etc/machine-id` of `opts.root` (SPEC §2-§5).
pub fn run(opts: &Options) -> Result<Report, Error> {
    let roots = Roots::new(&opts.root, &opts.host_root);
    run_in(opts, &Environment::new(&roots))
}

/// [`run`] in an environment the caller already looked at (the PID 1 shim decides "container"
/// before anything else, and that answer must be the one the sources see).
pub fn run_in(opts: &Options, env: &Environment) -> Result<Report, Error> {
    with_etc(env.roots(), |etc| {
        let etc = apply::Etc::prepare(etc, opts.dry_run)?;
        let target = Target::observe(env.roots())?;
        log_state(&target);
        // An initialized file needs no source (only §9's check asks the record's one).
        let sel = match target.state {
            FileState::Initialized(_) => Selection::default(),
            _ => sources::select(&opts.sources, env, false),
        };
        let (policy, clone) = clones::observe(opts, env, &target);
        let mut decision = decide::decide(opts, env.roots(), target, &sel, policy, clone);
        if opts.dry_run {
            decision.observe_read_only(env.roots());
            return dry_run(opts, env.roots(), &decision);
        }
        apply::apply(opts, env.roots(), &decision, &etc)
    })
}

/// `--explain`: what a run would do and why, and what it would report.
pub struct Explained {
    pub explanation: Explanation,
    pub outcome: Result<Report, Error>,
}

/// Ask every source (also past the winner) and decide, writing nothing.
pub fn explain_in(opts: &Options, env: &Environment) -> Result<Explained, Error> {
    with_etc(env.roots(), |_| {
        let target = Target::observe(env.roots())?;
        let sel = sources::select(&opts.sources, env, true);
        let (policy, clone) = clones::observe(opts, env, &target);
        let mut decision = decide::decide(opts, env.roots(), target, &sel, policy, clone);
        decision.observe_read_only(env.roots());
        Ok(Explained {
            explanation: explain::build(env, &decision, &sel, opts.bind_mount),
            outcome: would_report(opts, &decision),
        })
    })
}

/// Check the trees, resolve `etc`, and run `f` on it; a failed run leaves no `etc` it created.
fn with_etc<T>(roots: &Roots, f: impl FnOnce(&Resolved) -> Result<T, Error>) -> Result<T, Error> {
    target::require_directory(roots.root())?;
    target::require_directory(roots.host())?;
    let etc = target::resolved(roots.etc().cloned(), roots.root_join(roots::ETC))?;
    let result = f(&etc);
    if result.is_err() && etc.meta.is_none() {
        // rmdir only removes it while empty.
        let _ = std::fs::remove_dir(&etc.path);
    }
    result
}

fn log_state(target: &Target) {
    match &target.state {
        FileState::Initialized(id) => debug!(
            // Not "nothing to do": SPEC §9's check may still find a copied machine.
            "{} is already initialized ({id}).",
            target.link.display()
        ),
        state @ FileState::Invalid(_) => warn!(
            "{} is {state}; it will be replaced.",
            target.path().display()
        ),
        state => debug!("{} is {state}.", target.link.display()),
    }
}

fn dry_run(opts: &Options, roots: &Roots, decision: &Decision) -> Result<Report, Error> {
    if let Some(check) = &decision.clone {
        ::log::log!(check.level, "Dry run: {}", check.says);
    }
    if let Some(c) = decision.candidate() {
        info!(
            "Dry run: machine ID from {}; would {}.",
            c.origin,
            decision.describe(roots, opts.bind_mount)
        );
    }
    would_report(opts, decision)
}

/// What a dry run reports for `decision`.
fn would_report(opts: &Options, decision: &Decision) -> Result<Report, Error> {
    match &decision.intent {
        Intent::Keep(id) => Ok(Report {
            id: *id,
            action: Action::AlreadyInitialized,
        }),
        Intent::Write(c) | Intent::Preserve(c) | Intent::Reinit { cand: c, .. } => Ok(Report {
            id: c.id,
            action: Action::DryRun,
        }),
        Intent::NoSource => Err(decision.no_source(opts)),
    }
}
