//! In a chroot of the live system, sources that describe the outer machine are refused, as
//! systemd does. Needs real root (to read `/proc/1/root`) and mount namespaces; skips otherwise.

use std::fs;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_machine-id-init");

#[test]
fn chroot_refuses_outer_machine_sources() {
    let uid = fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    let namespaces = || {
        Command::new("unshare")
            .args(["-m", "-p", "-f", "--mount-proc", "true"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if uid.ok() != Some(0) || !namespaces() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "under CI nothing may skip: the chroot test needs root, and mount and PID namespaces"
        );
        eprintln!("SKIP chroot test: needs root, and mount and PID namespaces");
        return;
    }
    let dir = std::env::temp_dir().join(format!("mii-chroot-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("etc")).unwrap();
    fs::write(dir.join("etc/machine-id"), "").unwrap();
    fs::copy(BIN, dir.join("mii")).unwrap();

    // New mount and PID namespaces: PID 1 is the shell outside the chroot (whose root we may
    // inspect, unlike a sandbox's real PID 1), and the chroot sees /usr, /proc, /sys, /dev.
    // Top-level symlinks (merged /usr) are copied as they are.
    let script = r#"
set -e
d=$1
for t in usr lib lib32 lib64 bin sbin; do
  if [ -L /$t ]; then ln -s "$(readlink /$t)" "$d/$t"
  elif [ -d /$t ]; then mkdir -p "$d/$t"; mount --rbind /$t "$d/$t"; fi
done
for t in proc sys dev; do mkdir -p "$d/$t"; mount --rbind /$t "$d/$t"; done
chroot "$d" /mii --sources cmdline,credential,container,vm,firmware,random --print
"#;
    let out = Command::new("unshare")
        .args(["-m", "-p", "-f", "--mount-proc", "--propagation", "private"])
        .args(["sh", "-c", script, "sh"])
        .arg(&dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let written = fs::read_to_string(dir.join("etc/machine-id")).unwrap_or_default();
    let _ = fs::remove_dir_all(&dir);

    assert!(out.status.success(), "{log}");
    for source in ["cmdline", "credential", "container", "vm", "firmware"] {
        assert!(
            log.contains(&format!("Not using source '{source}': running in a chroot")),
            "{source} not refused:\n{log}"
        );
    }
    assert!(log.contains("random source"), "{log}");
    assert_eq!(written, stdout, "the printed id is the written one");
    assert_eq!(written.len(), 33);
}
