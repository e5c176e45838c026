//! The program after `--` (the init the shim hands over to, SPEC §10) inherits no descriptor of
//! ours: not the kernel log, not the lock on `etc`, not the host tree. Compared with the same
//! program started directly, so descriptors the test itself inherited do not count.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use common::BIN;

/// The descriptors `ls /proc/self/fd` sees in a shell started by `cmd` (its own directory
/// descriptor included, in both runs alike).
fn fds(cmd: &mut Command) -> BTreeSet<String> {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn tree(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    let dmi = dir.join("host/sys/class/dmi/id");
    fs::create_dir_all(&dmi).unwrap();
    fs::write(dmi.join("sys_vendor"), "VMware, Inc.\n").unwrap();
    fs::write(dmi.join("product_name"), "VMware Virtual Platform\n").unwrap();
    fs::write(
        dmi.join("product_uuid"),
        "564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("host/dev")).unwrap();
    fs::write(dir.join("host/dev/kmsg"), "").unwrap();
    fs::create_dir_all(dir.join("root/etc")).unwrap();
}

#[test]
fn the_next_program_inherits_no_descriptor() {
    let dir = std::env::temp_dir().join(format!("mii-exec-fds-{}", std::process::id()));
    let list = ["sh", "-c", "ls /proc/self/fd"];
    let direct = fds(Command::new(list[0]).args(&list[1..]));
    tree(&dir);
    // The first run writes the id (lock, temporary file, kernel log); the second finds it.
    for what in ["writing the id", "on an initialized id"] {
        let ours = fds(Command::new(BIN)
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--host-root")
            .arg(dir.join("host"))
            .args(["--log-target", "kmsg", "--"])
            .args(list));
        assert_eq!(
            ours, direct,
            "{what}: the program inherited more than it would have"
        );
        let log = fs::read_to_string(dir.join("host/dev/kmsg")).unwrap();
        assert!(
            log.contains("machine-id-init["),
            "{what}: the kernel log was not written, so nothing was open to leak: {log:?}"
        );
    }
    assert_eq!(
        fs::read_to_string(dir.join("root/etc/machine-id")).unwrap(),
        "564dfa7e6a3c11ef8c9a3f2e1d0c4b5a\n"
    );
    fs::remove_dir_all(&dir).unwrap();
}
