//! machine-id-init: initialize `/etc/machine-id` from the VM or container UUID, atomically,
//! before systemd reads it. The behaviour contract is `SPEC.md`; `main.rs` only parses the
//! command line, sets up logging and maps [`Error`] to exit codes.

pub mod cli;
pub mod detect;
pub mod error;
pub mod explain;
pub mod log;
pub mod machine_id;
pub mod proc;
pub mod read;
pub mod roots;
pub mod seal;
pub mod shim;
pub mod sources;
pub mod startup;
pub mod write;

use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use ::log::{debug, info, warn};

use crate::cli::{FirstBoot, Options};
use crate::detect::Environment;
pub use crate::error::Error;
use crate::machine_id::{FileState, MachineId};
use crate::read::ID_FILE_MAX;
use crate::roots::{Resolved, Roots};
use crate::sources::{Candidate, Source};

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
    /// `--dry-run`: nothing was written.
    DryRun,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: MachineId,
    pub action: Action,
}

impl Report {
    fn new(id: MachineId, action: Action) -> Self {
        Report { id, action }
    }
}

/// How the first-boot states are handled for this run (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Empty, zero or invalid: not systemd's first boot, always written.
    Replace,
    /// First boot, and systemd ≥ 256 will take the id from `/run/machine-id`.
    Preserve,
    /// First boot, written now (no systemd, or one too old for the hand-off).
    Commit,
}

impl Plan {
    /// What the success line adds: writing a first-boot state is not silent.
    fn note(self) -> &'static str {
        match self {
            Plan::Commit => {
                " (first boot: committed now, so systemd will not treat this boot as its first)"
            }
            _ => "",
        }
    }
}

/// Initialize `etc/machine-id` of `opts.root` (SPEC §2-§5).
pub fn run(opts: &Options) -> Result<Report, Error> {
    let roots = Roots::new(&opts.root, &opts.host_root);
    run_in(opts, &Environment::new(&roots))
}

/// [`run`] in an environment the caller already looked at (the PID 1 shim decides "container"
/// before anything else, and that answer must be the one the sources see).
pub fn run_in(opts: &Options, env: &Environment) -> Result<Report, Error> {
    let roots = env.roots();
    require_directory(roots.root())?;
    require_directory(roots.host())?;

    let etc = resolved(roots.in_root(roots::ETC), roots.root_join(roots::ETC))?;
    let etc_existed = etc.meta.is_some();
    let result = initialize(opts, env, &etc);
    if result.is_err() && !etc_existed {
        // A failed run leaves the tree as it found it (rmdir only removes it while empty).
        let _ = std::fs::remove_dir(&etc.path);
    }
    result
}

fn initialize(opts: &Options, env: &Environment, etc: &Resolved) -> Result<Report, Error> {
    let roots = env.roots();
    let etc_read_only = !opts.dry_run && ensure_directory(etc)? == Directory::ReadOnly;
    let etc_lock = match opts.dry_run || etc_read_only {
        true => None,
        false => Some(lock(&etc.path)?),
    };

    let link = roots.root_join(roots::MACHINE_ID);
    let target = resolve_target(roots, &link)?;
    let state = read_state(&target, &link)?;
    if let Some(format) = opts.explain {
        return explain(opts, env, format, &link, &target, state);
    }
    if let FileState::Initialized(id) = state {
        debug!(
            "{} is already initialized ({id}); nothing to do.",
            link.display()
        );
        // A run killed before its rename, and the file initialized since by someone else.
        if etc_lock.is_some() {
            let _ = write::remove_stale_temp(&target.path);
        }
        return Ok(Report::new(id, Action::AlreadyInitialized));
    }
    if let FileState::Invalid(_) = state {
        warn!("{} is {state}; it will be replaced.", target.path.display());
    } else {
        debug!("{} is {state}.", link.display());
    }

    let plan = first_boot_plan(opts.first_boot, &state, roots);
    let cand = sources::select(&opts.sources, env).ok_or_else(|| no_source(opts, &link))?;

    if opts.dry_run {
        let what = intent(plan, &cand.id, roots, &link, &target, &state);
        info!("Dry run: machine ID from {}; would {what}.", cand.origin);
        return Ok(Report::new(cand.id, Action::DryRun));
    }

    if plan == Plan::Preserve {
        let (id, run) = hand_over(roots, &cand)?;
        info!(
            "Initialized machine ID from {}: {id}, in {}; {} stays {state} for systemd's first boot.",
            cand.origin,
            run.display(),
            link.display()
        );
        return Ok(Report::new(id, Action::Preserved(run)));
    }
    let written = match etc_read_only {
        true => Err(io::Error::from_raw_os_error(nix::libc::EROFS)),
        false => {
            let dir = etc_lock.as_ref().and_then(|l| l.directory_of(&target.path));
            write::write_id(&target.path, &cand.id, dir)
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
            Ok(Report::new(cand.id, Action::Written(target.path)))
        }
        Err(e) if write::is_read_only(&e) => {
            read_only_hand_over(opts, roots, &cand, &state, &target, &link, plan)
        }
        Err(source) => Err(Error::Write {
            path: target.path,
            source,
        }),
    }
}

/// `--explain`: ask every source (also past the winner), and describe what a run would do.
fn explain(
    opts: &Options,
    env: &Environment,
    format: cli::Format,
    link: &Path,
    target: &Resolved,
    state: FileState,
) -> Result<Report, Error> {
    let roots = env.roots();
    let plan = first_boot_plan(opts.first_boot, &state, roots);
    let cand = sources::select_explaining(&opts.sources, env);
    let action = match (&state, &cand) {
        (FileState::Initialized(id), _) => {
            format!("nothing to do: {} already holds {id}", link.display())
        }
        (_, None) => "nothing: no source yields an id (a run exits 1)".to_string(),
        (_, Some(c)) => intent(plan, &c.id, roots, link, target, &state),
    };
    let x = explain::Explanation {
        root: roots.root().display().to_string(),
        host_root: roots.host().display().to_string(),
        file: link.display().to_string(),
        state: state.to_string(),
        container: env.container().map(str::to_string),
        hypervisor: env.hypervisor().map(str::to_string),
        chroot: env.in_chroot(),
        pid1: env.is_pid1(),
        systemd: detect::systemd_version(roots).map(|(v, _)| v),
        first_boot: match plan {
            Plan::Preserve => Some("preserve"),
            Plan::Commit => Some("commit"),
            Plan::Replace => None,
        },
        notes: env.trail().notes(),
        chosen: cand.as_ref().map(|c| {
            (
                c.id.to_string(),
                c.source.name().to_string(),
                c.origin.clone(),
            )
        }),
        action,
    };
    let text = match format {
        cli::Format::Text => explain::render_text(&x),
        cli::Format::Json => explain::render_json(&x),
    };
    // The explanation is this mode's output; it is printed even when a run would fail.
    {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }
    match (state, cand) {
        (FileState::Initialized(id), _) => Ok(Report::new(id, Action::AlreadyInitialized)),
        (_, Some(c)) => Ok(Report::new(c.id, Action::DryRun)),
        (_, None) => Err(no_source(opts, link)),
    }
}

/// What a run would do with `id`, in words: for `--dry-run` and `--explain`.
fn intent(
    plan: Plan,
    id: &MachineId,
    roots: &Roots,
    link: &Path,
    target: &Resolved,
    state: &FileState,
) -> String {
    match plan {
        Plan::Preserve => format!(
            "hand over {id} in {}, leaving {} {state} for systemd's first boot",
            roots.host_join(roots::RUN_MACHINE_ID).display(),
            link.display()
        ),
        _ => format!("write {id} to {}{}", target.path.display(), plan.note()),
    }
}

fn no_source(opts: &Options, link: &Path) -> Error {
    Error::NoSource {
        tried: opts
            .sources
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(","),
        path: link.to_path_buf(),
    }
}

/// `/etc` is read-only (SPEC §5): the id goes to `run/machine-id`, bind-mounted over the file as
/// systemd's transient mode does, for `systemd-machine-id-commit.service` to persist later.
fn read_only_hand_over(
    opts: &Options,
    roots: &Roots,
    cand: &Candidate,
    state: &FileState,
    target: &Resolved,
    link: &Path,
    plan: Plan,
) -> Result<Report, Error> {
    let dir = target.path.parent().unwrap_or(roots.root()).to_path_buf();
    if *state == FileState::Missing {
        return Err(Error::MissingOnReadOnly {
            path: link.to_path_buf(),
            dir,
        });
    }
    let (id, run) = hand_over(roots, cand)?;
    let placed = if opts.bind_mount {
        write::bind_mount_read_only(&run, &target.path).map_err(|source| Error::BindMount {
            source_path: run.clone(),
            target: target.path.clone(),
            source,
        })?;
        format!(", bind-mounted over {}", link.display())
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
    Ok(Report::new(id, Action::HandedOver { run, bind_mounted }))
}

pub(crate) fn require_directory(path: &Path) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(()),
        _ => Err(Error::RootNotDirectory {
            path: path.to_path_buf(),
        }),
    }
}

/// A resolution failure names the unresolved path (`path`).
pub(crate) fn resolved(r: io::Result<Resolved>, path: PathBuf) -> Result<Resolved, Error> {
    r.map_err(|source| Error::Resolve { path, source })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Directory {
    Existed,
    Created,
    /// Missing, and the file system is read-only.
    ReadOnly,
}

/// Create a missing directory (0755, as systemd does).
pub(crate) fn ensure_directory(dir: &Resolved) -> Result<Directory, Error> {
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
        Err(e) if write::is_read_only(&e) => Ok(Directory::ReadOnly),
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

pub(crate) fn lock(dir: &Path) -> Result<write::DirLock, Error> {
    write::lock_dir(dir).map_err(|source| Error::Lock {
        path: dir.to_path_buf(),
        source,
    })
}

/// Resolve `etc/machine-id` inside the root (a loop or a file used as a directory fails here).
fn resolve_target(roots: &Roots, link: &Path) -> Result<Resolved, Error> {
    resolved(roots.in_root(roots::MACHINE_ID), link.to_path_buf())
}

/// The state of the (resolved) target, refusing anything that is not a regular file.
pub(crate) fn read_state(target: &Resolved, link: &Path) -> Result<FileState, Error> {
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

fn first_boot_plan(mode: FirstBoot, state: &FileState, roots: &Roots) -> Plan {
    if !state.is_first_boot() {
        return Plan::Replace;
    }
    match mode {
        FirstBoot::Preserve => Plan::Preserve,
        FirstBoot::Commit => Plan::Commit,
        FirstBoot::Auto => match detect::systemd_version(roots) {
            Some((v, lib)) if v >= 256 => {
                debug!(
                    "systemd {v} ({}) takes the id from run/machine-id on first boot.",
                    lib.display()
                );
                Plan::Preserve
            }
            Some((v, lib)) => {
                debug!(
                    "systemd {v} ({}) ignores run/machine-id: committing.",
                    lib.display()
                );
                Plan::Commit
            }
            None => {
                debug!("No systemd in {}: committing.", roots.root().display());
                Plan::Commit
            }
        },
    }
}

/// Write the id to `run/machine-id` under a lock on `run`. A random id never displaces one that
/// an earlier stage of this boot already handed over, so repeated runs agree.
fn hand_over(roots: &Roots, cand: &Candidate) -> Result<(MachineId, PathBuf), Error> {
    let run_dir = resolved(roots.in_host(roots::RUN), roots.host_join(roots::RUN))?;
    if ensure_directory(&run_dir)? == Directory::ReadOnly {
        return Err(Error::Write {
            path: run_dir.path,
            source: io::Error::from_raw_os_error(nix::libc::EROFS),
        });
    }
    let run_lock = lock(&run_dir.path)?;
    let file = resolved(
        roots.in_host(roots::RUN_MACHINE_ID),
        roots.host_join(roots::RUN_MACHINE_ID),
    )?
    .path;
    let existing = read::read_capped(&file, ID_FILE_MAX)
        .ok()
        .flatten()
        .map(|b| FileState::classify(&b));
    if let Some(FileState::Initialized(old)) = existing {
        if old == cand.id || cand.source == Source::Random {
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
