//! The two trees the tool works on, and the only place where their paths are made.
//!
//! `root` is the OS tree whose `etc/machine-id` is initialized (`/sysroot` in an initramfs);
//! `host` is the running system whose `sys/`, `proc/`, `run/` and `dev/` are read. Every path the
//! tool touches is a relative path joined to one of them here, with symlinks resolved *inside*
//! that tree, so a fixture directory stands in for either and an absolute symlink in an image can
//! never reach the build host.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Relative paths of the files the tool writes or locks.
pub const ETC: &str = "etc";
pub const MACHINE_ID: &str = "etc/machine-id";
pub const RUN: &str = "run";
pub const RUN_MACHINE_ID: &str = "run/machine-id";
pub const KMSG: &str = "dev/kmsg";
pub const PROC_CMDLINE: &str = "proc/cmdline";
pub const PROC1_ENVIRON: &str = "proc/1/environ";
pub const PROC1_ROOT: &str = "proc/1/root";

/// Linux gives up after 40 links (`MAXSYMLINKS`); so do we.
const MAX_SYMLINKS: usize = 40;

#[derive(Debug, Clone)]
pub struct Roots {
    root: PathBuf,
    host: PathBuf,
}

/// A path after symlink resolution inside its tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Where the bytes live (the final target when the last component is a link).
    pub path: PathBuf,
    /// True when the last component was a symlink (followed); with a missing `path` it dangles.
    pub final_symlink: bool,
}

impl Roots {
    pub fn new(root: impl Into<PathBuf>, host: impl Into<PathBuf>) -> Self {
        Roots {
            root: root.into(),
            host: host.into(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn host(&self) -> &Path {
        &self.host
    }

    /// The host tree is the machine we run on: only then do CPUID and chroot checks mean anything.
    pub fn host_is_live(&self) -> bool {
        is_fs_root(&self.host)
    }

    /// `rel` inside the OS tree, without resolving anything (for messages and mount points).
    pub fn root_join(&self, rel: impl AsRef<Path>) -> PathBuf {
        join_inside(&self.root, rel.as_ref())
    }

    /// `rel` inside the host tree, without resolving anything.
    pub fn host_join(&self, rel: impl AsRef<Path>) -> PathBuf {
        join_inside(&self.host, rel.as_ref())
    }

    /// `rel` inside the OS tree, every symlink (the last one too) resolved inside it.
    pub fn in_root(&self, rel: impl AsRef<Path>) -> io::Result<Resolved> {
        resolve_in(&self.root, rel.as_ref(), true)
    }

    /// `rel` inside the OS tree, a final symlink left as it is.
    pub fn in_root_nofollow(&self, rel: impl AsRef<Path>) -> io::Result<Resolved> {
        resolve_in(&self.root, rel.as_ref(), false)
    }

    /// `rel` inside the host tree, every symlink resolved inside it.
    pub fn in_host(&self, rel: impl AsRef<Path>) -> io::Result<Resolved> {
        if self.host_is_live() {
            // The kernel resolves exactly like our walk when the tree is `/`, in one call.
            return Ok(Resolved {
                path: self.host_join(rel),
                final_symlink: false,
            });
        }
        resolve_in(&self.host, rel.as_ref(), true)
    }
}

pub fn is_fs_root(p: &Path) -> bool {
    p.components()
        .all(|c| matches!(c, Component::RootDir | Component::CurDir))
        && p.has_root()
}

/// Join a path to a base so that `..` and a leading `/` stay inside it.
fn join_inside(base: &Path, rel: &Path) -> PathBuf {
    let mut out = base.to_path_buf();
    let mut depth = 0usize;
    for c in rel.components() {
        match c {
            Component::Normal(n) => {
                out.push(n);
                depth += 1;
            }
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            _ => {}
        }
    }
    out
}

/// Resolve `rel` below `base` one component at a time, as `openat2(RESOLVE_IN_ROOT)` would:
/// an absolute link target starts again at `base`, and `..` never climbs above it. A missing
/// component is not an error: the result is then a path that does not exist.
pub fn resolve_in(base: &Path, rel: &Path, follow_last: bool) -> io::Result<Resolved> {
    let mut pending: Vec<OsString> = components(rel);
    pending.reverse();
    let mut done: Vec<OsString> = Vec::new();
    let mut links = 0usize;
    let mut final_symlink = false;

    while let Some(name) = pending.pop() {
        if name == ".." {
            done.pop();
            continue;
        }
        let is_last = pending.is_empty();
        let here = done
            .iter()
            .fold(base.to_path_buf(), |p, c| p.join(c))
            .join(&name);
        let meta = match std::fs::symlink_metadata(&here) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Nothing below a missing entry exists either: finish lexically. The caller
                // sees a path that does not exist (and, through `final_symlink`, whether a link
                // pointed there).
                done.push(name);
                while let Some(rest) = pending.pop() {
                    if rest == ".." {
                        done.pop();
                    } else {
                        done.push(rest);
                    }
                }
                break;
            }
            Err(e) => return Err(e),
        };
        if meta.file_type().is_symlink() && (follow_last || !is_last) {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(io::Error::from_raw_os_error(nix::libc::ELOOP));
            }
            final_symlink |= is_last;
            let target = std::fs::read_link(&here)?;
            if target.has_root() {
                done.clear();
            }
            let mut more = components(&target);
            more.reverse();
            pending.extend(more);
            continue;
        }
        if !is_last && !meta.is_dir() {
            return Err(io::Error::from_raw_os_error(nix::libc::ENOTDIR));
        }
        done.push(name);
    }

    Ok(Resolved {
        path: done.iter().fold(base.to_path_buf(), |p, c| p.join(c)),
        final_symlink,
    })
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mii-roots-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("etc")).unwrap();
        d
    }

    #[test]
    fn absolute_link_stays_inside() {
        let d = tmp("abs");
        symlink("/persist/id", d.join("etc/machine-id")).unwrap();
        std::fs::create_dir(d.join("persist")).unwrap();
        let r = resolve_in(&d, Path::new("etc/machine-id"), true).unwrap();
        assert_eq!(r.path, d.join("persist/id"));
        assert!(r.final_symlink);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn dotdot_never_climbs() {
        let d = tmp("dotdot");
        symlink("../../../../../x", d.join("etc/machine-id")).unwrap();
        let r = resolve_in(&d, Path::new("etc/machine-id"), true).unwrap();
        assert_eq!(r.path, d.join("x"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loop_is_eloop() {
        let d = tmp("loop");
        symlink("machine-id", d.join("etc/machine-id")).unwrap();
        let e = resolve_in(&d, Path::new("etc/machine-id"), true).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(nix::libc::ELOOP));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn missing_directory_is_not_an_error() {
        let d = tmp("missing");
        symlink("/nowhere/x/../id", d.join("etc/machine-id")).unwrap();
        let r = resolve_in(&d, Path::new("etc/machine-id"), true).unwrap();
        assert_eq!(r.path, d.join("nowhere/id"));
        assert!(r.final_symlink);
        let r = resolve_in(&d, Path::new("run/host/container-uuid"), true).unwrap();
        assert_eq!(r.path, d.join("run/host/container-uuid"));
        assert!(!r.final_symlink);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn nofollow_keeps_last_link() {
        let d = tmp("nofollow");
        symlink("/elsewhere", d.join("etc/machine-id")).unwrap();
        let r = resolve_in(&d, Path::new("etc/machine-id"), false).unwrap();
        assert_eq!(r.path, d.join("etc/machine-id"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn join_inside_ignores_escape() {
        assert_eq!(
            join_inside(Path::new("/r"), Path::new("/../../etc/x")),
            PathBuf::from("/r/etc/x")
        );
        assert!(is_fs_root(Path::new("/")));
        assert!(is_fs_root(Path::new("//")));
        assert!(!is_fs_root(Path::new("/sysroot")));
        assert!(!is_fs_root(Path::new(".")));
    }
}
