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
            let want = if first_boot == "preserve" && *exit == 0 {
                0
            } else {
                *exit
            };
            assert_eq!(
                r.code,
                Some(want),
                "{at} -> {target} ({first_boot}): {}",
                r.stderr
            );
            assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        }
    }
    let _ = fs::remove_dir_all(&base);
}

/// Every file any source or detector reads, relative to the scratch dir.
const READ_PATHS: &[&str] = &[
    "root/etc/machine-id",
    "root/var/lib/dbus/machine-id",
    "root/usr/lib/systemd",
    "host/proc/cmdline",
    "host/proc/1/environ",
    "host/sys/class/dmi/id/product_name",
    "host/sys/class/dmi/id/sys_vendor",
    "host/sys/class/dmi/id/board_vendor",
    "host/sys/class/dmi/id/bios_vendor",
    "host/sys/class/dmi/id/product_version",
    "host/sys/class/dmi/id/product_uuid",
    "host/sys/hypervisor/type",
    "host/sys/hypervisor/uuid",
    "host/proc/xen/capabilities",
    "host/proc/device-tree/hypervisor/compatible",
    "host/proc/device-tree/vm,uuid",
    "host/run/host/container-manager",
    "host/run/host/container-uuid",
    "host/run/machine-id",
    "host/run/credentials/@system/system.machine_id",
    "host/creds/system.machine_id",
    "host/sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials/system.machine_id/raw",
    "host/sys/firmware/dmi/entries/11-0/raw",
    "host/dev/kmsg",
];

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
    let base = scratch("hostile-files");
    let mut runs = 0;
    let mut slowest = Duration::ZERO;
    let mut peak = 0;
    for rel in READ_PATHS {
        for kind in [
            Kind::Fifo,
            Kind::Socket,
            Kind::Directory,
            Kind::Device,
            Kind::Huge,
        ] {
            let dir = base.join("t");
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(dir.join("root/etc")).unwrap();
            vmware_host(&dir.join("host"));
            write(&dir.join("host/run/host/container-uuid"), UUID);
            write(
                &dir.join("root/usr/lib/systemd/libsystemd-shared-257.so"),
                "",
            );
            if *rel != "root/etc/machine-id" {
                write(&dir.join("root/etc/machine-id"), "uninitialized\n");
            }
            if !plant(&dir.join(rel), kind) {
                continue; // mknod needs privileges this run does not have
            }
            let mut cmd = tool(
                &dir,
                &[
                    "--sources",
                    "cmdline,credential,container,vm,firmware,dbus,run,random",
                    "--log-target",
                    "kmsg",
                ],
            );
            cmd.env("CREDENTIALS_DIRECTORY", "/creds");
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
            let fatal = (*rel == "root/etc/machine-id" && !matches!(kind, Kind::Huge))
                || (*rel == "host/run/machine-id" && matches!(kind, Kind::Directory));
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
    eprintln!("hostile: {runs} runs, slowest {slowest:?}, peak RSS {peak} KiB");
    assert!(runs >= READ_PATHS.len() * 4);
}
