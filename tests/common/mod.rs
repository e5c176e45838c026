//! Helpers shared by the integration tests: a scratch tree, a VMware guest's host files,
//! whole-tree snapshots (the fixture harness's too), and a run with a hang limit and peak memory.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_machine-id-init");
/// The planted SMBIOS UUID and the id it must become.
pub const UUID: &str = "564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a";
pub const ID: &str = "564dfa7e6a3c11ef8c9a3f2e1d0c4b5a";

pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mii-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(d.join("root/etc")).unwrap();
    fs::create_dir_all(d.join("host/run")).unwrap();
    d
}

pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// A VMware guest: the hypervisor is detected and its UUID is the id.
pub fn vmware_host(host: &Path) {
    write(&host.join("sys/class/dmi/id/sys_vendor"), "VMware, Inc.\n");
    write(
        &host.join("sys/class/dmi/id/product_name"),
        "VMware Virtual Platform\n",
    );
    write(
        &host.join("sys/class/dmi/id/product_uuid"),
        format!("{UUID}\n"),
    );
    write(&host.join("proc/cmdline"), "root=/dev/vda1 ro\n");
    write(&host.join("proc/1/environ"), "HOME=/\0");
}

pub fn is_id(bytes: &[u8]) -> bool {
    bytes.len() == 33
        && bytes[32] == b'\n'
        && bytes[..32]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir(u32),
    File(Vec<u8>, u32),
    Link(PathBuf),
    Fifo,
    Socket,
    Other,
}

/// Every entry below `base` (not following links), by relative path: what the fixtures and
/// the robustness tests compare before and after a run.
pub fn snapshot(base: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    walk(base, base, &mut out);
    out
}

fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        let m = fs::symlink_metadata(&p).unwrap();
        let mode = m.permissions().mode() & 0o7777;
        let ft = m.file_type();
        let entry = if ft.is_symlink() {
            Entry::Link(fs::read_link(&p).unwrap())
        } else if ft.is_dir() {
            walk(base, &p, out);
            Entry::Dir(mode)
        } else if ft.is_file() {
            // Unreadable files are compared by mode and size only.
            let bytes = fs::read(&p).unwrap_or_else(|_| format!("<{} bytes>", m.size()).into());
            Entry::File(bytes, mode)
        } else if ft.is_fifo() {
            Entry::Fifo
        } else if ft.is_socket() {
            Entry::Socket
        } else {
            Entry::Other
        };
        out.insert(rel, entry);
    }
}

/// Leftover temporary files of ours below `base`.
pub fn temp_files(base: &Path) -> Vec<String> {
    snapshot(base)
        .into_keys()
        .filter(|p| p.ends_with(".machine-id-init"))
        .collect()
}

pub struct Run {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stderr: String,
    pub stdout: String,
    pub elapsed: Duration,
    pub max_rss_kib: i64,
}

/// Run to completion, killed after `limit` (a hang, not a timing check), with its peak RSS.
pub fn run(cmd: &mut Command, limit: Duration) -> Run {
    let out_dir = std::env::temp_dir().join(format!(
        "mii-out-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    fs::create_dir_all(&out_dir).unwrap();
    let (o, e) = (out_dir.join("stdout"), out_dir.join("stderr"));
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(fs::File::create(&o).unwrap())
        .stderr(fs::File::create(&e).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { nix::libc::wait4(pid, &mut status, nix::libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if start.elapsed() > limit {
            // SAFETY: our child, not reaped yet.
            unsafe { nix::libc::kill(pid, nix::libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = start.elapsed();
    std::mem::forget(child);
    let exited = nix::libc::WIFEXITED(status);
    let res = Run {
        code: exited.then(|| nix::libc::WEXITSTATUS(status)),
        signal: nix::libc::WIFSIGNALED(status).then(|| nix::libc::WTERMSIG(status)),
        stdout: fs::read_to_string(&o).unwrap_or_default(),
        stderr: fs::read_to_string(&e).unwrap_or_default(),
        elapsed,
        max_rss_kib: usage.ru_maxrss,
    };
    let _ = fs::remove_dir_all(&out_dir);
    res
}

/// The tool on `dir/root` and `dir/host` with `args`.
pub fn tool(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--root")
        .arg(dir.join("root"))
        .arg("--host-root")
        .arg(dir.join("host"))
        .args(args)
        .env_clear();
    c
}

pub fn have(cmd: &str, probe: &[&str]) -> bool {
    Command::new(cmd)
        .args(probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A test that cannot run here says why and returns; under CI=true, where .ci/run installed
/// everything, that is a failure instead (a skip there would hide a broken install).
pub fn skip(why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "under CI nothing may skip: {why}"
    );
    eprintln!("SKIP {why}");
}
