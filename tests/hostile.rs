//! Hostile trees: links that try to leave the root, loops, and FIFOs, sockets, devices,
//! directories and 64 MiB files in place of every file the tool reads. Nothing outside
//! `--root`/`--host-root` may change, no run may hang, panic or read without bound.

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use common::*;

/// A hang, not a benchmark: every run here takes milliseconds.
const HANG: Duration = Duration::from_secs(1);
/// Peak RSS that reading any one of the planted 64 MiB files would exceed.
const RSS_BOUND_KIB: i64 = 32 * 1024;

/// Links that point out of the root, each with the exit status it must produce.
const ESCAPES: &[(&str, &str, i32)] = &[
    ("etc/machine-id", "../../../../outside/victim", 1),
    ("etc/machine-id", "/../../../outside/victim", 1),
    ("etc/machine-id", "/proc/self/root/outside/victim", 1),
    ("etc/machine-id", "machine-id", 1),
    ("etc", "../../../outside", 0),
    ("etc", "/../../outside", 0),
    ("etc", "/proc/self/root/outside", 1),
    ("etc", "etc", 1),
];

#[test]
fn links_never_leave_the_roots() {
    let base = scratch("hostile-links");
    // `outside` sits next to the roots; `victim` is what an escape would overwrite.
    let outside = base.join("outside");
    let mut n = 0;
    for (at, target, exit) in ESCAPES {
        for first_boot in ["commit", "preserve"] {
            let dir = base.join(format!("case{n}"));
            n += 1;
            fs::create_dir_all(dir.join("root/etc")).unwrap();
            vmware_host(&dir.join("host"));
            write(&outside.join("victim"), "");
            write(&outside.join("etc/machine-id"), "");
            // The host side too: run/ itself a link out of the host tree.
            fs::create_dir_all(dir.join("host")).unwrap();
            let _ = symlink("../../outside", dir.join("host/run"));
            let link = dir.join("root").join(at);
            if *at == "etc" {
                fs::remove_dir(&link).unwrap();
            }
            symlink(target, &link).unwrap();
            let before = snapshot(&base);
            let r = run(
                &mut tool(&dir, &["--first-boot", first_boot, "-v"]),
                Duration::from_secs(20),
            );
            let after = snapshot(&base);
            let outside_before: Vec<_> = before
                .iter()
                .filter(|(p, _)| p.starts_with("outside"))
                .collect();
            let outside_after: Vec<_> = after
                .iter()
                .filter(|(p, _)| p.starts_with("outside"))
                .collect();
            assert_eq!(
                outside_before, outside_after,
                "{at} -> {target}: something outside the roots changed\n{}",
                r.stderr
            );
            assert_eq!(
                r.code,
                Some(*exit),
                "{at} -> {target} ({first_boot}): {}",
                r.stderr
            );
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        }
    }
    let _ = fs::remove_dir_all(&base);
}

/// The kinds of tree `full_tree` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guest {
    VMware,
    Container,
    /// No DMI strings: the Xen and device-tree probes run.
    NoDmi,
    /// No DMI strings, `proc/xen`: what a Xen guest's detector reads.
    Xen,
}

/// A tree in which every source and detector reads something: a VMware guest with systemd 257,
/// an SMBIOS OEM-strings entry, dbus and run copies, a container UUID file; changed by `guest`.
fn full_tree(dir: &Path, guest: Guest) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("root/etc")).unwrap();
    vmware_host(&dir.join("host"));
    if matches!(guest, Guest::NoDmi | Guest::Xen) {
        fs::remove_dir_all(dir.join("host/sys/class/dmi")).unwrap();
    }
    if guest == Guest::Xen {
        write(&dir.join("host/proc/xen/capabilities"), "");
    }
    write(&dir.join("host/run/host/container-uuid"), UUID);
    if guest == Guest::Container {
        write(&dir.join("host/run/host/container-manager"), "podman");
    }
    // Type 11, 5-byte header, one string that is not ours.
    write(
        &dir.join("host/sys/firmware/dmi/entries/11-0/raw"),
        b"\x0b\x05\x00\x11\x01vendor string\0\0",
    );
    write(
        &dir.join("root/usr/lib/systemd/libsystemd-shared-257.so"),
        "",
    );
    write(&dir.join("root/etc/machine-id"), "uninitialized\n");
    write(&dir.join("root/var/lib/dbus/machine-id"), format!("{ID}\n"));
    write(&dir.join("host/run/machine-id"), format!("{ID}\n"));
    fs::create_dir_all(dir.join("host/dev")).unwrap();
}

const ALL_SOURCES: &str = "cmdline,credential,container,vm,firmware,dbus,run,random";
const CREDENTIALS_DIRECTORY: &str = "/creds";

/// Every file the tool opens below the trees (to read, or the kernel log to write), relative to
/// the scratch dir: taken from strace of `--explain` (which asks every source) in each kind of
/// `full_tree`, so a source added later is covered without editing this test.
fn read_paths(base: &Path) -> Vec<String> {
    let mut paths = std::collections::BTreeSet::new();
    for (i, guest) in [Guest::VMware, Guest::Container, Guest::NoDmi, Guest::Xen]
        .into_iter()
        .enumerate()
    {
        let dir = base.join(format!("trace{i}"));
        full_tree(&dir, guest);
        let trace = base.join(format!("trace{i}.strace"));
        let root = dir.join("root").display().to_string();
        let host = dir.join("host").display().to_string();
        let out = std::process::Command::new("strace")
            .args(["-qq", "-e", "trace=openat,openat2", "-o"])
            .arg(&trace)
            .arg(BIN)
            .args(["--root", &root, "--host-root", &host, "--explain"])
            .args(["--sources", ALL_SOURCES, "--log-target", "kmsg"])
            .env_clear()
            .env("CREDENTIALS_DIRECTORY", CREDENTIALS_DIRECTORY)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in fs::read_to_string(&trace).unwrap().lines() {
            // Existence probes (O_PATH) read nothing.
            let Some(quoted) = line.split('"').nth(1).filter(|_| !line.contains("O_PATH")) else {
                continue;
            };
            // openat2 names host files relative to the host tree's descriptor.
            let rel = if line.starts_with("openat2(") {
                Some(format!("host/{quoted}"))
            } else if let Some(r) = quoted.strip_prefix(&format!("{root}/")) {
                Some(format!("root/{r}"))
            } else {
                quoted
                    .strip_prefix(&format!("{host}/"))
                    .map(|h| format!("host/{h}"))
            };
            paths.extend(rel);
        }
        once_per_run(&dir, guest);
    }
    let paths: Vec<String> = paths.into_iter().collect();
    // The trace must have seen the obvious ones, or it proves nothing about the rest.
    for anchor in [
        "root/etc/machine-id",
        "root/var/lib/dbus/machine-id",
        "host/proc/cmdline",
        "host/sys/class/dmi/id/product_uuid",
        "host/run/host/container-uuid",
        "host/run/machine-id",
        "host/dev/kmsg",
        "host/creds/system.machine_id",
        "host/sys/hypervisor/type",
        "host/proc/device-tree/vm,uuid",
        "host/proc/xen/capabilities",
        "host/sys/firmware/dmi/entries/11-0/raw",
    ] {
        assert!(
            paths.iter().any(|p| p == anchor),
            "the trace lacks {anchor}: {paths:?}"
        );
    }
    paths
}

/// A run (not `--explain`, which asks every source) opens each file once, however many
/// sources and detectors need it: the README's "reads each detector input once".
fn once_per_run(dir: &Path, guest: Guest) {
    let trace = dir.with_extension("run.strace");
    let out = std::process::Command::new("strace")
        .args(["-qq", "-e", "trace=openat,openat2", "-o"])
        .arg(&trace)
        .arg(BIN)
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--host-root")
        .arg(dir.join("host"))
        .args(["--log-target", "kmsg"])
        .env_clear()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut opened: std::collections::BTreeMap<&str, usize> = Default::default();
    let text = fs::read_to_string(&trace).unwrap();
    for line in text
        .lines()
        .filter(|l| !l.contains("O_PATH") && !l.contains("O_DIRECTORY"))
    {
        if let Some(path) = line.split('"').nth(1) {
            *opened.entry(path).or_default() += 1;
        }
    }
    let twice: Vec<_> = opened.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{guest:?}: opened more than once in one run: {twice:?}"
    );
    assert!(
        opened.keys().any(|p| p.ends_with("etc/machine-id")),
        "{guest:?}: the trace saw no etc/machine-id: {opened:?}"
    );
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Fifo,
    Socket,
    Directory,
    Device,
    Huge,
}

fn plant(path: &Path, kind: Kind) -> bool {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let _ = fs::remove_file(path);
    let _ = fs::remove_dir_all(path);
    let mode = nix::sys::stat::Mode::from_bits_truncate(0o644);
    match kind {
        Kind::Fifo => nix::unistd::mkfifo(path, mode).unwrap(),
        // Bound at a short path (sun_path is 108 bytes) and moved into place.
        Kind::Socket => {
            let short = std::env::temp_dir().join(format!("mii-sock-{}", std::process::id()));
            let _ = fs::remove_file(&short);
            drop(std::os::unix::net::UnixListener::bind(&short).unwrap());
            fs::rename(&short, path).unwrap();
        }
        Kind::Directory => fs::create_dir_all(path.join("sub")).unwrap(),
        // /dev/zero never ends: reading it without a bound would never return.
        Kind::Device => {
            if nix::sys::stat::mknod(
                path,
                nix::sys::stat::SFlag::S_IFCHR,
                mode,
                nix::sys::stat::makedev(1, 5),
            )
            .is_err()
            {
                return false;
            }
        }
        // Sparse: 64 MiB to read, nothing on disk.
        Kind::Huge => fs::File::create(path).unwrap().set_len(64 << 20).unwrap(),
    }
    true
}

#[test]
fn special_files_everywhere() {
    if !have("strace", &["-V"]) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "under CI nothing may skip: strace is missing"
        );
        eprintln!("SKIP hostile files: needs strace (to find what the tool reads)");
        return;
    }
    let base = scratch("hostile-files");
    let read_paths = read_paths(&base);
    const KINDS: [Kind; 5] = [
        Kind::Fifo,
        Kind::Socket,
        Kind::Directory,
        Kind::Device,
        Kind::Huge,
    ];
    let (mut runs, mut not_planted) = (0, 0);
    let mut slowest = Duration::ZERO;
    let mut peak = 0;
    for rel in &read_paths {
        for kind in KINDS {
            let dir = base.join("t");
            full_tree(&dir, Guest::VMware);
            if !plant(&dir.join(rel), kind) {
                not_planted += 1; // mknod needs privileges this run does not have
                continue;
            }
            let mut cmd = tool(&dir, &["--sources", ALL_SOURCES, "--log-target", "kmsg"]);
            cmd.env("CREDENTIALS_DIRECTORY", CREDENTIALS_DIRECTORY);
            let r = run(&mut cmd, HANG);
            let ctx = format!("{kind:?} at {rel}");
            assert!(
                r.signal.is_none(),
                "{ctx}: killed by signal {:?} (hang or crash): {}",
                r.signal,
                r.stderr
            );
            // Only what is written is fatal: the target (anything but a file), and the
            // first-boot hand-off file when a directory stands there (it cannot be replaced).
            // Elsewhere the source is skipped with a logged reason.
            let fatal = (rel == "root/etc/machine-id" && !matches!(kind, Kind::Huge))
                || (rel == "host/run/machine-id" && matches!(kind, Kind::Directory));
            assert_eq!(
                r.code,
                Some(if fatal { 1 } else { 0 }),
                "{ctx}: {}",
                r.stderr
            );
            assert!(
                r.max_rss_kib < RSS_BOUND_KIB,
                "{ctx}: peak RSS {} KiB",
                r.max_rss_kib
            );
            slowest = slowest.max(r.elapsed);
            peak = peak.max(r.max_rss_kib);
            runs += 1;
        }
    }
    let _ = fs::remove_dir_all(&base);
    eprintln!(
        "hostile: {} read paths, {runs} runs, slowest {slowest:?}, peak RSS {peak} KiB",
        read_paths.len()
    );
    assert_eq!(runs + not_planted, read_paths.len() * KINDS.len());
    if is_root() {
        assert_eq!(not_planted, 0, "as root every kind is planted");
    }
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// An empty `CREDENTIALS_DIRECTORY` names no directory: neither the current one, where a
/// `system.machine_id` of whoever started us may lie, nor the top of the host tree.
#[test]
fn empty_credentials_directory_is_no_directory() {
    let base = std::env::temp_dir().join(format!("mii-hostile-creds-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let dir = base.join("tree");
    full_tree(&dir, Guest::VMware);
    write(&dir.join("root/etc/machine-id"), "");
    let cwd = base.join("cwd");
    for planted in [
        cwd.join("system.machine_id"),
        dir.join("host/system.machine_id"),
    ] {
        // A credential holds exactly the value: no newline.
        write(&planted, "0123456789abcdef0123456789abcdef");
    }
    let out = std::process::Command::new(BIN)
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--host-root")
        .arg(dir.join("host"))
        .args(["--print", "--first-boot", "commit"])
        .current_dir(&cwd)
        .env_clear()
        .env("CREDENTIALS_DIRECTORY", "")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{ID}\n"));
    fs::remove_dir_all(&base).unwrap();
}
