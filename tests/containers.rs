//! The container tests with the real managers (tests/containers/*.sh): systemd-nspawn, podman
//! and LXC running busybox and Debian trees with the static binary, a fake VMware DMI UUID
//! visible inside every container. Each script prints one PASS or FAIL line per check and a
//! summary; it prints `SKIP <reason>` where a manager, busybox or root is missing, which fails
//! under `CI=true` (`.ci/run` installs `.ci/packages/containers.txt`).

use std::process::Command;
use std::time::Instant;

fn run(script: &str, scenario: &str, min_checks: usize) {
    let path = format!("{}/tests/containers/{script}", env!("CARGO_MANIFEST_DIR"));
    let start = Instant::now();
    let out = Command::new("bash")
        .arg(&path)
        .arg(scenario)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!(
        "{stdout}{stderr}== {script} {scenario}: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let skipped = stdout.lines().any(|l| l.starts_with("SKIP "));
    if skipped {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "a container test skipped under CI=true"
        );
        return;
    }
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(
        failed.is_empty(),
        "{} checks failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(out.status.success(), "{script} {scenario} failed");
    let passed = stdout.lines().filter(|l| l.starts_with("PASS ")).count();
    assert!(
        passed >= min_checks,
        "only {passed} checks passed (expected at least {min_checks})"
    );
}

/// nspawn with busybox: --uuid, none, -U, --read-only, --as-pid2, a usage error as PID 1.
#[test]
fn nspawn_busybox() {
    run("nspawn.sh", "busybox", 56);
}

/// nspawn: the shim as PID 1 before Debian trixie's systemd 257 (and systemd alone).
#[test]
fn nspawn_systemd_boot() {
    run("nspawn.sh", "boot", 10);
}

/// podman with busybox: default, --systemd=always, --privileged, --read-only (with and without
/// --systemd=always), a usage error.
#[test]
fn podman_busybox() {
    run("podman.sh", "busybox", 61);
}

/// podman with Debian bookworm's systemd 252: alone (the control) and after the shim.
#[test]
fn podman_systemd_252() {
    run("podman.sh", "systemd", 7);
}

/// LXC: lxc-start with and without lxc.environment, a usage error, lxc-execute.
#[test]
fn lxc() {
    run("lxc.sh", "all", 44);
}
