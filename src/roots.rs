//! The two trees the tool works on, and the only place where their paths are made.
//!
//! `root` is the OS tree whose `etc/machine-id` is initialized (`/sysroot` in an initramfs);
//! `host` is the running system whose `sys/`, `proc/`, `run/` and `dev/` are read. Every path the
//! tool touches is a relative path joined to one of them here, with symlinks resolved *inside*
//! that tree, so a fixture directory stands in for either and an absolute symlink in an image can
//! never reach the build host.

use std::cell::OnceCell;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};

/// Relative paths of the files the tool writes or locks.
pub const ETC: &str = "etc";
/// The tool's own directory: configuration, deny-list drop-ins, origin record.
pub const OWN_DIR: &str = "etc/machine-id-init";
const OWN_NAME: &str = "machine-id-init";
pub const MACHINE_ID: &str = "etc/machine-id";
/// [`MACHINE_ID`] in [`ETC`].
pub const MACHINE_ID_NAME: &str = "machine-id";
pub const RUN: &str = "run";
pub const RUN_MACHINE_ID: &str = "run/machine-id";
pub const KMSG: &str = "dev/kmsg";
pub const PROC_CMDLINE: &str = "proc/cmdline";
pub const PROC1_ENVIRON: &str = "proc/1/environ";
pub const PROC1_ROOT: &str = "proc/1/root";

/// The one absolute path: what fills a closed stdin/stdout/stderr at start-up, before the
/// command line (and so the host tree) is known. Rust's own runtime uses the same.
pub const DEV_NULL: &str = "/dev/null";

/// Absolute paths that name things as the booted system sees them; never opened through here.
/// The init the PID 1 shim hands over to when no program is named.
pub const DEFAULT_INIT: &str = "/sbin/init";
/// What the kernel tries after `/sbin/init`.
pub const FALLBACK_INITS: &[&str] = &["/etc/init", "/bin/init", "/bin/sh"];
/// The content of the conventional `var/lib/dbus/machine-id` link.
pub const DBUS_LINK_TARGET: &str = "/etc/machine-id";

/// Linux gives up after 40 links (`MAXSYMLINKS`); so do we.
const MAX_SYMLINKS: usize = 40;

#[derive(Debug)]
pub struct Roots {
    root: PathBuf,
    host: PathBuf,
    /// The host tree opened once, for `openat2(RESOLVE_IN_ROOT)`; `None` when that fails.
    host_fd: OnceCell<Option<OwnedFd>>,
    /// [`OWN_DIR`] resolved once: the configuration, the drop-ins and the record are all below
    /// it, and on most roots it does not exist, which one look says for all three.
    own_dir: OnceCell<Option<Resolved>>,
    /// [`ETC`] resolved once per run: the id, the tool's own directory and the SELinux
    /// configuration are all below it, so its components are looked at once.
    etc: OnceCell<Resolved>,
}

/// A path after symlink resolution inside its tree.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Where the bytes live (the final target when the last component is a link).
    pub path: PathBuf,
    /// True when the last component was a symlink (followed); with a missing `path` it dangles.
    pub final_symlink: bool,
    /// What is at `path` (not following a last link when asked not to); `None`: nothing.
    pub meta: Option<std::fs::Metadata>,
}

impl Roots {
    pub fn new(root: impl Into<PathBuf>, host: impl Into<PathBuf>) -> Self {
        Roots {
            root: root.into(),
            host: host.into(),
            host_fd: OnceCell::new(),
            own_dir: OnceCell::new(),
            etc: OnceCell::new(),
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

    /// [`ETC`] resolved (once; a missing one is not an error, its `meta` is `None`).
    pub fn etc(&self) -> io::Result<&Resolved> {
        if let Some(etc) = self.etc.get() {
            return Ok(etc);
        }
        let etc = self.in_root(ETC)?;
        Ok(self.etc.get_or_init(|| etc))
    }

    /// `rel` (a relative path) in [`ETC`], every symlink resolved inside the tree.
    pub fn in_etc(&self, rel: impl AsRef<Path>) -> io::Result<Resolved> {
        self.in_root_dir(self.etc()?, rel.as_ref())
    }

    /// Whether [`OWN_DIR`] may hold anything: false only when resolving it found nothing. Asked
    /// before the run writes anything (the record's write, which may create the directory, is
    /// the last thing a run does), so the answer cannot go stale within a run.
    pub fn own_dir_exists(&self) -> bool {
        self.own_dir().is_none_or(|r| r.meta.is_some())
    }

    /// [`OWN_DIR`] resolved (`None`: resolving failed, e.g. a link loop; callers then resolve
    /// their own path and report that error).
    pub fn own_dir(&self) -> Option<&Resolved> {
        self.own_dir
            .get_or_init(|| self.in_etc(OWN_NAME).ok())
            .as_ref()
    }

    /// `name` (a relative path) in [`OWN_DIR`], every symlink resolved inside the tree.
    pub fn in_own_dir(&self, name: &str) -> io::Result<Resolved> {
        match self.own_dir() {
            Some(dir) => self.in_root_dir(dir, Path::new(name)),
            None => self.in_root(Path::new(OWN_DIR).join(name)),
        }
    }

    /// `name` in `dir`, a directory of the OS tree resolved before in this run (its
    /// components are not looked at again), every symlink resolved inside the tree.
    pub fn in_root_dir(&self, dir: &Resolved, name: &Path) -> io::Result<Resolved> {
        // Every resolved path is made below the root.
        let prefix = dir
            .path
            .strip_prefix(&self.root)
            .map_err(io::Error::other)?;
        match &dir.meta {
            Some(m) if m.is_dir() => resolve_from(&self.root, components(prefix), name, true),
            // Created since, or not a directory: resolving says which.
            _ => self.in_root(prefix.join(name)),
        }
    }

    /// `rel` inside the OS tree, a final symlink left as it is.
    pub fn in_root_nofollow(&self, rel: impl AsRef<Path>) -> io::Result<Resolved> {
        resolve_in(&self.root, rel.as_ref(), false)
    }

    /// `rel` inside the host tree, every symlink resolved inside it.
    pub fn in_host(&self, rel: impl AsRef<Path>) -> io::Result<Resolved> {
        if self.host_is_live() {
            // The kernel resolves exactly like our walk when the tree is `/`.
            let path = self.host_join(rel);
            return Ok(Resolved {
                meta: std::fs::metadata(&path).ok(),
                path,
                final_symlink: false,
            });
        }
        resolve_in(&self.host, rel.as_ref(), true)
    }

    /// Open `rel` in the host tree for reading, without blocking on a FIFO and without taking
    /// a terminal. One `openat2(RESOLVE_IN_ROOT)` call where the kernel has it (Linux ≥ 5.6),
    /// else the same resolution done component by component.
    pub fn open_host(&self, rel: impl AsRef<Path>, directory: bool) -> io::Result<File> {
        let mut flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        if directory {
            flags |= OFlag::O_DIRECTORY;
        }
        self.open_host_with(rel.as_ref(), flags)
    }

    /// Whether anything is at `rel` in the host tree (a dangling link is nothing).
    pub fn host_exists(&self, rel: impl AsRef<Path>) -> bool {
        self.open_host_with(rel.as_ref(), OFlag::O_PATH | OFlag::O_CLOEXEC)
            .is_ok()
    }

    fn open_host_with(&self, rel: &Path, flags: OFlag) -> io::Result<File> {
        if self.host_is_live() {
            return open_read(&self.host_join(rel), flags);
        }
        if let Some(dir) = self.host_dir() {
            let how = OpenHow::new()
                .flags(flags)
                .resolve(ResolveFlag::RESOLVE_IN_ROOT);
            match nix::fcntl::openat2(dir.as_fd(), strip_root(rel), how) {
                Ok(fd) => return Ok(File::from(fd)),
                // Old kernel, or a seccomp filter that refuses the call: walk instead.
                Err(nix::Error::ENOSYS | nix::Error::EPERM) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.open_host_by_walk(rel, flags)
    }

    fn open_host_by_walk(&self, rel: &Path, flags: OFlag) -> io::Result<File> {
        open_read(&resolve_in(&self.host, rel, true)?.path, flags)
    }

    fn host_dir(&self) -> Option<&OwnedFd> {
        self.host_fd
            .get_or_init(|| {
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(nix::libc::O_PATH | nix::libc::O_DIRECTORY)
                    .open(&self.host)
                    .ok()
                    .map(OwnedFd::from)
            })
            .as_ref()
    }
}

fn open_read(path: &Path, flags: OFlag) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() & !nix::libc::O_RDONLY)
        .open(path)
}

/// `openat2` takes a path relative to its directory descriptor.
fn strip_root(rel: &Path) -> &Path {
    rel.strip_prefix("/").unwrap_or(rel)
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
    resolve_from(base, Vec::new(), rel, follow_last)
}

/// [`resolve_in`] of `rel` below `done`, a directory already resolved below `base` (its
/// components are not looked at again).
fn resolve_from(
    base: &Path,
    mut done: Vec<OsString>,
    rel: &Path,
    follow_last: bool,
) -> io::Result<Resolved> {
    let mut pending: Vec<OsString> = components(rel);
    pending.reverse();
    let mut links = 0usize;
    let mut final_symlink = false;
    let mut last_meta = None;

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
        if is_last {
            last_meta = Some(meta);
        }
    }

    Ok(Resolved {
        path: done.iter().fold(base.to_path_buf(), |p, c| p.join(c)),
        final_symlink,
        meta: last_meta,
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

    /// Resolving below a directory resolved once (etc, the tool's own directory) must land
    /// where resolving the whole path lands, links and escapes included.
    #[test]
    fn below_a_resolved_dir_agrees_with_the_whole_walk() {
        let d = tmp("below");
        std::fs::create_dir_all(d.join("real/machine-id-init")).unwrap();
        std::fs::remove_dir(d.join("etc")).unwrap();
        symlink("/real", d.join("etc")).unwrap();
        symlink("../../elsewhere/id", d.join("real/machine-id")).unwrap();
        symlink("/etc/machine-id-init", d.join("real/own")).unwrap();
        symlink("loop", d.join("real/loop")).unwrap();
        let roots = Roots::new(&d, "/");
        let etc = roots.etc().unwrap();
        assert_eq!(etc.path, d.join("real"));
        for rel in [
            "machine-id",
            "own/origin",
            "machine-id-init/deny.d",
            "missing/x",
            "loop",
        ] {
            let whole = roots.in_root(Path::new("etc").join(rel));
            let below = roots.in_etc(rel);
            match (whole, below) {
                (Ok(w), Ok(b)) => {
                    assert_eq!(
                        (&w.path, w.final_symlink),
                        (&b.path, b.final_symlink),
                        "{rel}"
                    );
                    assert_eq!(w.meta.is_some(), b.meta.is_some(), "{rel}");
                }
                (Err(w), Err(b)) => assert_eq!(w.raw_os_error(), b.raw_os_error(), "{rel}"),
                (w, b) => panic!("{rel}: {w:?} vs {b:?}"),
            }
        }
        assert_eq!(
            roots.in_own_dir("origin").unwrap().path,
            d.join("real/machine-id-init/origin")
        );
        assert!(roots.own_dir_exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Like Linux, 40 links on the way resolve and the 41st is ELOOP.
    #[test]
    fn forty_links_resolve() {
        let d = tmp("links");
        std::fs::write(d.join("etc/target"), "x").unwrap();
        let chain = |n: usize| {
            for i in 0..n {
                let next = if i + 1 == n {
                    "target".to_string()
                } else {
                    format!("l{}", i + 1)
                };
                let _ = std::fs::remove_file(d.join(format!("etc/l{i}")));
                symlink(next, d.join(format!("etc/l{i}"))).unwrap();
            }
            resolve_in(&d, Path::new("etc/l0"), true)
        };
        assert_eq!(chain(40).unwrap().path, d.join("etc/target"));
        let e = chain(41).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(nix::libc::ELOOP), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Only a missing entry ends the walk lexically; any other error is the caller's.
    #[test]
    fn a_failing_lookup_is_an_error_not_a_missing_file() {
        let d = tmp("toolong");
        let long = "x".repeat(300);
        let e = resolve_in(&d, Path::new(&format!("etc/{long}")), true).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(nix::libc::ENAMETOOLONG), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Where there is no `openat2` (and on the live system) the host's files are opened by path:
    /// with the same flags, so a FIFO planted there still cannot block the boot.
    #[test]
    fn the_walk_never_blocks_on_a_fifo() {
        let d = tmp("fifo");
        nix::unistd::mkfifo(&d.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        let roots = Roots::new(&d, &d);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
            let _ = tx.send(roots.open_host_by_walk(Path::new("fifo"), flags).is_ok());
        });
        let opened = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(opened, Ok(true), "opening a FIFO without a writer blocked");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// `openat2(RESOLVE_IN_ROOT)` and the fallback walk must agree on every hostile path.
    #[test]
    fn openat2_and_walk_agree() {
        use std::io::Read;
        let d = tmp("agree");
        let host = d.join("host");
        std::fs::create_dir_all(host.join("sys/firmware/devicetree/base")).unwrap();
        std::fs::create_dir_all(host.join("proc")).unwrap();
        std::fs::write(host.join("sys/firmware/devicetree/base/vm,uuid"), "in").unwrap();
        std::fs::write(d.join("outside"), "out").unwrap();
        symlink(
            "/sys/firmware/devicetree/base",
            host.join("proc/device-tree"),
        )
        .unwrap();
        symlink("../../../../outside", host.join("proc/up")).unwrap();
        symlink("/../../outside", host.join("proc/abs-up")).unwrap();
        symlink("loop", host.join("proc/loop")).unwrap();
        symlink("/nowhere", host.join("proc/dangling")).unwrap();
        let roots = Roots::new(&d, &host);
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let read = |r: io::Result<File>| {
            r.map(|mut f| {
                let mut s = String::new();
                f.read_to_string(&mut s).unwrap();
                s
            })
            .map_err(|e| e.raw_os_error())
        };
        for rel in [
            "proc/device-tree/vm,uuid",
            "proc/up",
            "proc/abs-up",
            "proc/loop",
            "proc/dangling",
            "proc/../../outside",
            "missing/dir/file",
        ] {
            let kernel = read(roots.open_host(rel, false));
            let walk = read(roots.open_host_by_walk(Path::new(rel), flags));
            assert_eq!(kernel, walk, "{rel}");
        }
        assert_eq!(
            read(roots.open_host("proc/device-tree/vm,uuid", false)),
            Ok("in".into())
        );
        assert_eq!(
            read(roots.open_host("proc/up", false)),
            Err(Some(nix::libc::ENOENT)),
            "never the file above the host root"
        );
        assert!(roots.host_exists("proc/device-tree"));
        assert!(!roots.host_exists("proc/dangling"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn join_inside_ignores_escape() {
        assert_eq!(
            join_inside(Path::new("/r"), Path::new("/../../etc/x")),
            PathBuf::from("/r/etc/x")
        );
        // `..` takes back what the path itself went down, never more.
        for (rel, want) in [
            ("a/../c", "/r/c"),
            ("a/b/../../c", "/r/c"),
            ("a/b/../../../c", "/r/c"),
            ("a/..", "/r"),
            ("../a/./b", "/r/a/b"),
        ] {
            assert_eq!(
                join_inside(Path::new("/r"), Path::new(rel)),
                PathBuf::from(want),
                "{rel}"
            );
        }
        assert!(is_fs_root(Path::new("/")));
        assert!(is_fs_root(Path::new("//")));
        assert!(!is_fs_root(Path::new("/sysroot")));
        assert!(!is_fs_root(Path::new(".")));
    }
}
