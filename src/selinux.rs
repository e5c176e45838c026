//! SELinux contexts of the files the tool writes (SPEC §8). On an enforcing system an unlabeled
//! `/etc/machine-id` stops systemd-journald from starting at all, and a rename drops the old
//! file's `security.selinux`. So a replaced file gets the old file's context, a created one the
//! context the root's policy gives its path (exact-path entries of `file_contexts.local`, then
//! `file_contexts`: `/etc/machine-id` is a literal entry in Fedora's policy and in the reference
//! policy Debian ships), and `relabel` gives `run/machine-id` — a tmpfs drops labels set before
//! the policy loads — the context of `/etc/machine-id` once the policy is loaded. No
//! libselinux: the kernel's xattr calls, and a reader for the one kind of entry needed.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use log::{debug, info, warn};

use crate::Error;
use crate::read;
use crate::roots::{self, Roots};

const XATTR: &str = "security.selinux";
/// In [`crate::roots::ETC`]: `etc/selinux/config`.
const CONFIG: &str = "selinux/config";
/// `file_contexts` of Fedora and refpolicy are well under this; a larger one is not read.
pub const FILE_CONTEXTS_MAX: usize = 16 << 20;
const CONFIG_MAX: usize = 64 << 10;
/// Contexts are short; the kernel caps them at a page.
const CONTEXT_MAX: usize = 4096;
/// What SELinux calls a file it has no label for.
const UNLABELED: &[u8] = b":unlabeled_t:";
/// `/sys/fs/selinux` exists only where SELinux is enabled.
const SELINUXFS_ENFORCE: &str = "sys/fs/selinux/enforce";

/// A context, as the kernel stores it (with the terminating NUL libselinux writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context(Vec<u8>);

impl Context {
    fn from_text(text: &str) -> Context {
        let mut v = text.as_bytes().to_vec();
        v.push(0);
        Context(v)
    }

    fn is_unlabeled(&self) -> bool {
        self.0.windows(UNLABELED.len()).any(|w| w == UNLABELED)
    }
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.strip_suffix(b"\0").unwrap_or(&self.0);
        f.write_str(&String::from_utf8_lossy(text))
    }
}

/// The context of `path` (not following a final link); `None` when it has none, or when the
/// file system keeps no such attribute.
pub fn context_of(path: &Path) -> Option<Context> {
    let c = CString::new(path.as_os_str().as_bytes()).ok()?;
    let name = CString::new(XATTR).ok()?;
    let mut buf = vec![0u8; CONTEXT_MAX];
    // SAFETY: both strings are NUL-terminated, and `buf` is writable for its length.
    let n = unsafe {
        nix::libc::lgetxattr(
            c.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n <= 0 {
        return None;
    }
    buf.truncate(n as usize);
    Some(Context(buf))
}

/// Give the open file `file` the context `ctx`.
pub fn set_context(file: &File, ctx: &Context) -> io::Result<()> {
    let name = CString::new(XATTR).map_err(io::Error::other)?;
    // SAFETY: a descriptor we own, a NUL-terminated name, and a buffer of the given length.
    done(unsafe {
        nix::libc::fsetxattr(
            file.as_raw_fd(),
            name.as_ptr(),
            ctx.0.as_ptr().cast(),
            ctx.0.len(),
            0,
        )
    })
}

/// Give `path` (not following a final link) the context `ctx`.
fn set_path_context(path: &Path, ctx: &Context) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let name = CString::new(XATTR).map_err(io::Error::other)?;
    // SAFETY: NUL-terminated strings and a buffer of the given length.
    done(unsafe {
        nix::libc::lsetxattr(
            c.as_ptr(),
            name.as_ptr(),
            ctx.0.as_ptr().cast(),
            ctx.0.len(),
            0,
        )
    })
}

/// A C call's `0` or `-1` with `errno`, as a `Result`.
fn done(r: nix::libc::c_int) -> io::Result<()> {
    match r {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// The label a file written at `path` (inside `roots.root()`) gets: the replaced file's own,
/// else, for a file created where none was, the root policy's for that path.
pub fn label_for_write(roots: &Roots, path: &Path, replaced: bool) -> Option<Context> {
    if replaced {
        return context_of(path);
    }
    let in_root = path.strip_prefix(roots.root()).ok()?;
    Policy::of_root(roots)?.context_for(&Path::new("/").join(in_root))
}

/// The root's SELinux policy: where its `file_contexts` are.
pub struct Policy {
    dir: PathBuf,
}

impl Policy {
    /// The policy `<root>/etc/selinux/config` names (`SELINUXTYPE=`); `None` without one.
    pub fn of_root(roots: &Roots) -> Option<Policy> {
        let config = roots.in_etc(CONFIG).ok()?;
        // Most roots have none: resolving told already.
        config.meta.as_ref()?;
        let text = match read::read_capped(&config.path, CONFIG_MAX) {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(e) => {
                warn!("Ignoring {}: {e}.", config.path.display());
                return None;
            }
        };
        let text = String::from_utf8_lossy(&text);
        let name = text.lines().find_map(|l| {
            let v = l.trim().strip_prefix("SELINUXTYPE=")?.trim();
            // A policy name, not a path.
            (!v.is_empty() && !v.contains('/') && v != "..").then(|| v.to_string())
        })?;
        let dir = roots.root_join(Path::new("etc/selinux").join(&name).join("contexts/files"));
        debug!("SELinux policy {name} in {}.", dir.display());
        Some(Policy { dir })
    }

    /// The context the policy gives the file at `path` (a path of the booted system, like
    /// `/etc/machine-id`): the last exact entry of `file_contexts.local`, else of
    /// `file_contexts`. Exact entries beat every regular expression in libselinux, and the one
    /// path asked about has them in every policy that matters, so no regex engine is needed.
    pub fn context_for(&self, path: &Path) -> Option<Context> {
        let path = path.to_str()?;
        ["file_contexts.local", "file_contexts"]
            .iter()
            .find_map(|f| exact_entry(&self.dir.join(f), path))
            .flatten()
    }
}

/// `Some(None)`: the file says `<<none>>` (do not label); `None`: it has no exact entry.
fn exact_entry(file: &Path, path: &str) -> Option<Option<Context>> {
    let bytes = match read::read_whole(file, FILE_CONTEXTS_MAX) {
        Ok(Some(b)) => b,
        Ok(None) => return None,
        Err(e) => {
            warn!("Ignoring {}: {e}.", file.display());
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut found = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (spec, kind, ctx) = match fields[..] {
            [spec, ctx] => (spec, None, ctx),
            [spec, kind, ctx] => (spec, Some(kind), ctx),
            _ => continue,
        };
        // A regular file: entries for all kinds, or for regular files ("--").
        if spec != path || kind.is_some_and(|k| k != "--") {
            continue;
        }
        found = Some((ctx != "<<none>>").then(|| Context::from_text(ctx)));
    }
    found
}

/// `machine-id-init relabel`: once the policy is loaded, give `run/machine-id` (and an
/// unlabeled `etc/machine-id`) the context the policy gives `/etc/machine-id`. Nothing where
/// SELinux is off or the root has no policy. Returns one line per change.
pub fn relabel(root: &Path) -> Result<Vec<String>, Error> {
    let roots = Roots::new(root, root);
    if !roots.root_join(SELINUXFS_ENFORCE).exists() {
        debug!("SELinux is off: nothing to relabel.");
        return Ok(Vec::new());
    }
    let Some(policy) = Policy::of_root(&roots) else {
        debug!(
            "No SELinux policy in {}: nothing to relabel.",
            root.display()
        );
        return Ok(Vec::new());
    };
    let Some(ctx) = policy.context_for(Path::new("/").join(roots::MACHINE_ID).as_path()) else {
        info!("The SELinux policy has no context for /etc/machine-id: nothing to relabel.");
        return Ok(Vec::new());
    };
    let mut changes = Vec::new();
    for (rel, only_unlabeled) in [(roots::RUN_MACHINE_ID, false), (roots::MACHINE_ID, true)] {
        let Ok(file) = roots.in_root(rel) else {
            continue;
        };
        if !file.meta.as_ref().is_some_and(|m| m.is_file()) {
            continue;
        }
        let old = context_of(&file.path);
        let wanted = match &old {
            Some(o) if *o == ctx => false,
            Some(o) if only_unlabeled => o.is_unlabeled(),
            _ => true,
        };
        if !wanted {
            continue;
        }
        match set_path_context(&file.path, &ctx) {
            Ok(()) => changes.push(format!(
                "{}: {} -> {ctx}",
                file.path.display(),
                old.map_or("unlabeled".into(), |o| o.to_string())
            )),
            // A read-only bind mount of run/machine-id, relabeled through run already.
            Err(e) if only_unlabeled && e.raw_os_error() == Some(nix::libc::EROFS) => {
                debug!("{} is read-only: {e}.", file.path.display());
            }
            Err(source) => {
                return Err(Error::Relabel {
                    path: file.path,
                    source,
                });
            }
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_entries_only() {
        let d = std::env::temp_dir().join(format!("mii-selinux-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let fc = d.join("file_contexts");
        std::fs::write(
            &fc,
            "# comment\n\
             /etc/.*\t\tsystem_u:object_r:etc_t:s0\n\
             /etc/machine-id\t--\tsystem_u:object_r:etc_runtime_t:s0\n\
             /etc/machine-id\t-d\tsystem_u:object_r:wrong_t:s0\n\
             /run/.*\t<<none>>\n\
             /run/machine-id\t<<none>>\n",
        )
        .unwrap();
        assert_eq!(
            exact_entry(&fc, "/etc/machine-id"),
            Some(Some(Context::from_text(
                "system_u:object_r:etc_runtime_t:s0"
            )))
        );
        assert_eq!(exact_entry(&fc, "/run/machine-id"), Some(None));
        assert_eq!(exact_entry(&fc, "/etc/hostname"), None);
        assert_eq!(exact_entry(&d.join("missing"), "/etc/machine-id"), None);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn unlabeled_is_recognized() {
        assert!(Context::from_text("system_u:object_r:unlabeled_t:s0").is_unlabeled());
        assert!(!Context::from_text("system_u:object_r:etc_t:s0").is_unlabeled());
        assert_eq!(
            Context::from_text("system_u:object_r:etc_t:s0").to_string(),
            "system_u:object_r:etc_t:s0"
        );
    }
}
