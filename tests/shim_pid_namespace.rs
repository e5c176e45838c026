//! The PID 1 shim in a PID namespace that no marker names (what `podman --read-only` and
//! `lxc-execute` give: no `container=`, no `run/.containerenv`): the kernel's word alone must make
//! it a container (SPEC §6, §10). So it mounts nothing, logs to stderr and not to `/dev/kmsg`,
//! takes `container_uuid=` and never the DMI UUID a VMware host shows, and still executes the
//! program after `--`. The tree is chrooted into as PID 1 of new PID and mount namespaces, with
//! a fake DMI on a tmpfs. Needs root, `unshare` and busybox; prints SKIP without them (a failure
//! under CI=true).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{BIN, have};

/// The host's UUID, visible to the container through DMI: it must never become the id.
const DMI_UUID: &str = "564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a";
const CONTAINER_UUID: &str = "0d6c6a3e-9f2b-4a47-8c3b-6d2e1f0a9b8c";

const SCRIPT: &str = r#"
set -eu
d=$1
# The test binary is linked dynamically: the host's libraries, as they are.
for t in usr lib lib32 lib64; do
  if [ -L "/$t" ]; then ln -s "$(readlink "/$t")" "$d/$t"
  elif [ -d "/$t" ]; then mkdir -p "$d/$t"; mount --rbind "/$t" "$d/$t"; fi
done
# NO_PROC: a container started without /proc (the shim mounts it for its question only).
[ -n "${NO_PROC:-}" ] || mount -t proc proc "$d/proc"
mount -t tmpfs tmpfs "$d/sys"
mkdir -p "$d/sys/class/dmi/id"
echo 'VMware, Inc.' > "$d/sys/class/dmi/id/sys_vendor"
echo 'VMware Virtual Platform' > "$d/sys/class/dmi/id/product_name"
echo "$DMI_UUID" > "$d/sys/class/dmi/id/product_uuid"
mount -t tmpfs tmpfs "$d/dev"
: > "$d/dev/kmsg"
: > "$d/dev/null"
mount -t tmpfs tmpfs "$d/run"
shift
exec chroot "$d" /bin/busybox sh -c '
  /bin/busybox cut -d" " -f5,9 /proc/self/mountinfo | /bin/busybox sort > /mounts-before
  exec "$@"' sh "$@"
"#;

/// After the shim: what the next program sees.
const AFTER: &str = r#"
echo "pid=$$"
echo "id=$(/bin/busybox cat /etc/machine-id)"
echo "kmsg=$(/bin/busybox wc -c < /dev/kmsg)"
if [ -e /proc/self ]; then echo proc=present; else echo proc=absent; fi
/bin/busybox cut -d" " -f5,9 /proc/self/mountinfo | /bin/busybox sort > /mounts-after
if /bin/busybox cmp -s /mounts-before /mounts-after; then echo mounts=same; else echo mounts=changed; fi
"#;

struct Outcome {
    stdout: String,
    stderr: String,
}

/// Run the shim as PID 1 of a fresh tree with `env` as its whole environment.
fn shim(name: &str, env: &[(&str, &str)], shim_args: &[&str]) -> Outcome {
    let dir = std::env::temp_dir().join(format!("mii-shim-ns-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for sub in ["bin", "etc", "proc", "sys", "dev", "run"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    fs::copy(BIN, dir.join("mii")).unwrap();
    fs::copy(busybox().unwrap(), dir.join("bin/busybox")).unwrap();
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "-p", "-f", "--mount-proc", "--propagation", "private"])
        .args(["sh", "-c", SCRIPT, "sh"])
        .arg(&dir)
        .arg("/mii")
        .args(shim_args)
        .args(["--", "/bin/busybox", "sh", "-c", AFTER])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("DMI_UUID", DMI_UUID);
    // The environment PID 1 gets (the script's variables are not exported to it).
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let _ = fs::remove_dir_all(&dir);
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn busybox() -> Option<String> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .map(String::from)
}

fn usable() -> bool {
    let root = fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let why = if !root {
        "needs root"
    } else if busybox().is_none() {
        "needs busybox (busybox-static)"
    } else if !have("unshare", &["-m", "-p", "-f", "--mount-proc", "true"]) {
        "needs mount and PID namespaces (unshare)"
    } else {
        return true;
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "under CI nothing may skip: {why}"
    );
    eprintln!("SKIP shim in a PID namespace: {why}");
    false
}

fn line<'a>(out: &'a Outcome, key: &str) -> &'a str {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {:?}; stderr:\n{}", out.stdout, out.stderr))
}

fn assert_contained(out: &Outcome) {
    assert_eq!(line(out, "pid="), "1", "the next program runs as PID 1");
    assert_eq!(
        line(out, "mounts="),
        "same",
        "the shim mounted something in a container:\n{}",
        out.stderr
    );
    assert_eq!(
        line(out, "kmsg="),
        "0",
        "the shim wrote to /dev/kmsg in a container"
    );
    let dmi_id = DMI_UUID.replace('-', "");
    assert_ne!(
        line(out, "id="),
        dmi_id,
        "the host's DMI UUID was taken:\n{}",
        out.stderr
    );
}

#[test]
fn container_uuid_is_taken_without_any_marker() {
    if !usable() {
        return;
    }
    let out = shim("uuid", &[("container_uuid", CONTAINER_UUID)], &[]);
    assert_contained(&out);
    let want = CONTAINER_UUID.replace('-', "");
    assert_eq!(line(&out, "id="), want, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "machine-id-init: Initialized machine ID from container UUID (container-other, \
             container_uuid= of PID 1): {want}"
        )),
        "our line on the container's stderr:\n{}",
        out.stderr
    );
}

#[test]
fn no_uuid_means_random_with_the_reason() {
    if !usable() {
        return;
    }
    let out = shim("random", &[], &[]);
    assert_contained(&out);
    let id = line(&out, "id=");
    assert!(
        id.len() == 32 && id.as_bytes()[12] == b'4',
        "a random v4 id, got {id:?}"
    );
    assert!(
        out.stderr.contains(
            "Initialized machine ID from the kernel's random source (the container manager \
             (container-other) passed no UUID)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_error_still_executes_the_program() {
    if !usable() {
        return;
    }
    let out = shim("usage", &[("container_uuid", CONTAINER_UUID)], &["--bogus"]);
    assert!(
        out.stderr.contains("invalid option '--bogus'"),
        "{}",
        out.stderr
    );
    assert_eq!(line(&out, "pid="), "1", "the program after -- ran as PID 1");
    assert_eq!(
        line(&out, "id="),
        "",
        "nothing was initialized on a usage error"
    );
    assert_eq!(line(&out, "mounts="), "same");
}

#[test]
fn proc_mounted_for_the_question_is_unmounted_again() {
    if !usable() {
        return;
    }
    let out = shim(
        "noproc",
        &[("NO_PROC", "1"), ("container_uuid", CONTAINER_UUID)],
        &[],
    );
    assert_eq!(line(&out, "pid="), "1", "the next program runs as PID 1");
    assert_eq!(
        line(&out, "proc="),
        "absent",
        "the shim left the /proc it mounted to ask 'container?':\n{}",
        out.stderr
    );
    assert_eq!(
        line(&out, "id="),
        CONTAINER_UUID.replace('-', ""),
        "{}",
        out.stderr
    );
    assert_eq!(line(&out, "kmsg="), "0", "nothing on the host's kernel log");
}
