//! The PID 1 shim (SPEC §10): as `init=`, `rdinit=` or a container's entrypoint the tool must
//! never exit. It mounts what the sources read and the hand-off writes — but only on a VM or
//! bare metal: in a container the manager has set up `/proc`, `/sys`, `/dev` and `/run`, a
//! devtmpfs would expose the host's devices and a tmpfs on `/run` would hide the manager's
//! markers. Afterwards it executes the next program, whatever happened.

use std::ffi::OsString;
use std::path::Path;

use nix::mount::{MsFlags, mount};

use crate::detect::Environment;
use crate::roots::{self, Roots};

/// What the shim did before the run, for the log (which is set up after it, knowing whether
/// this is a container).
pub struct Prepared {
    pub notes: Vec<String>,
}

/// As PID 1 of the live system: decide whether this is a container first (the kernel's word
/// needs `/proc`, which is mounted for the question and unmounted again in a container), then
/// mount what is missing — on a VM or bare metal only.
pub fn prepare(env: &Environment) -> Prepared {
    let roots = env.roots();
    let mut notes = Vec::new();
    let proc_mounted = mount_missing(roots, &API_FILESYSTEMS[0], &mut notes);
    if let Some(name) = env.container() {
        if proc_mounted {
            // Leave the container's mount table as the manager made it.
            let path = roots.host_join(API_FILESYSTEMS[0].dir);
            match nix::mount::umount(&path) {
                Ok(()) => notes.push(format!("Unmounted {}: in a container.", path.display())),
                Err(e) => notes.push(format!("Cannot unmount {}: {e}.", path.display())),
            }
        }
        notes.push(format!(
            "PID 1 in a container ({name}): mounting nothing, logging to stderr."
        ));
        return Prepared { notes };
    }
    for fs in &API_FILESYSTEMS[1..] {
        mount_missing(roots, fs, &mut notes);
    }
    Prepared { notes }
}

struct ApiFilesystem {
    dir: &'static str,
    fstype: &'static str,
    flags: MsFlags,
    data: Option<&'static str>,
    /// A file only that file system has: present means mounted already. Empty: `dir` is
    /// mounted when it is a mount point.
    probe: &'static str,
}

const HIDDEN: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// `proc` first: the container question needs it.
const API_FILESYSTEMS: [ApiFilesystem; 4] = [
    ApiFilesystem {
        dir: "proc",
        fstype: "proc",
        flags: HIDDEN,
        data: None,
        probe: "proc/self",
    },
    ApiFilesystem {
        dir: "sys",
        fstype: "sysfs",
        flags: HIDDEN,
        data: None,
        probe: "sys/kernel",
    },
    ApiFilesystem {
        dir: "dev",
        fstype: "devtmpfs",
        flags: MsFlags::MS_NOSUID,
        data: Some("mode=0755"),
        probe: roots::KMSG,
    },
    ApiFilesystem {
        dir: "run",
        fstype: "tmpfs",
        flags: MsFlags::MS_NOSUID.union(MsFlags::MS_NODEV),
        data: Some("mode=0755"),
        probe: "",
    },
];

/// Mount `fs` unless something is there already; true when this call mounted it.
fn mount_missing(roots: &Roots, fs: &ApiFilesystem, notes: &mut Vec<String>) -> bool {
    let path = roots.host_join(fs.dir);
    let mounted = match fs.probe {
        "" => is_mount_point(&path),
        probe => roots.host_join(probe).exists(),
    };
    if mounted {
        return false;
    }
    let _ = std::fs::create_dir(&path);
    match mount(Some(fs.fstype), &path, Some(fs.fstype), fs.flags, fs.data) {
        Ok(()) => {
            notes.push(format!("Mounted {} on {}.", fs.fstype, path.display()));
            true
        }
        Err(e) => {
            notes.push(format!(
                "Cannot mount {} on {}: {e}.",
                fs.fstype,
                path.display()
            ));
            false
        }
    }
}

fn is_mount_point(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(path),
        path.parent().map(std::fs::metadata),
    ) {
        (Ok(dir), Some(Ok(parent))) => dir.dev() != parent.dev(),
        _ => false,
    }
}

/// Replace this process with `argv[0]` and its arguments, keeping the environment. Returns only
/// when that failed. As PID 1 with the default init, the kernel's own fallbacks are tried.
pub fn exec(argv: &[OsString], pid1: bool) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    // What we ignored for ourselves must not stay ignored in the next program.
    // SAFETY: resetting a signal disposition has no preconditions.
    unsafe {
        nix::libc::signal(nix::libc::SIGPIPE, nix::libc::SIG_DFL);
    }
    let mut last = std::io::Error::from_raw_os_error(nix::libc::ENOENT);
    for program in programs(argv, pid1) {
        last = std::process::Command::new(&program)
            .arg0(&program)
            .args(&argv[1..])
            .exec();
        log::error!("Failed to execute {}: {last}.", program.to_string_lossy());
    }
    last
}

/// What to try, in order: the program named; and as PID 1 with the default init, the
/// kernel's own fallbacks after it (a named program is the administrator's choice).
fn programs(argv: &[OsString], pid1: bool) -> Vec<OsString> {
    let default = argv.first().is_some_and(|p| p == roots::DEFAULT_INIT);
    let mut programs = vec![argv[0].clone()];
    if pid1 && default {
        programs.extend(roots::FALLBACK_INITS.iter().map(Into::into));
    }
    programs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks_only_for_pid1_and_the_default_init() {
        let init: Vec<OsString> = vec![roots::DEFAULT_INIT.into(), "single".into()];
        let mut all = vec![OsString::from(roots::DEFAULT_INIT)];
        all.extend(roots::FALLBACK_INITS.iter().map(OsString::from));
        assert_eq!(programs(&init, true), all);
        assert_eq!(
            programs(&init, false),
            vec![OsString::from(roots::DEFAULT_INIT)]
        );
        let named: Vec<OsString> = vec!["/usr/lib/systemd/systemd".into()];
        assert_eq!(programs(&named, true), named);
        assert_eq!(programs(&named, false), named);
    }

    #[test]
    fn mount_points_by_their_device() {
        // /proc is a file system of its own wherever the tests run; src/ is on its parent's.
        assert!(is_mount_point(Path::new("/proc")));
        assert!(!is_mount_point(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
        ));
        assert!(!is_mount_point(Path::new("/nonexistent-mii")));
    }
}
