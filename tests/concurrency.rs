//! Many runs at once on one root (32 at a time, 20 rounds) must agree on one id: the `flock` on the directory serializes
//! them and the losers re-read the winner's file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_machine-id-init");
const RUNS: usize = 32;
const ROUNDS: usize = 20;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mii-conc-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(d.join("root")).unwrap();
    fs::create_dir_all(d.join("host")).unwrap();
    d
}

/// Start `RUNS` instances before waiting for any, and return what each printed.
fn race(dir: &Path, extra: &[&str]) -> Vec<String> {
    let children: Vec<_> = (0..RUNS)
        .map(|_| {
            Command::new(BIN)
                .arg("--root")
                .arg(dir.join("root"))
                .arg("--host-root")
                .arg(dir.join("host"))
                .args(["--sources", "random", "--print", "-q"])
                .args(extra)
                .env_clear()
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{:?}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        })
        .collect()
}

fn assert_one_id(printed: &[String], file: &Path) {
    let content = fs::read_to_string(file).unwrap();
    assert_eq!(content.len(), 33, "{content:?}");
    for p in printed {
        assert_eq!(
            p,
            &content,
            "every run prints the id that is in {}",
            file.display()
        );
    }
}

fn no_temp_files(dir: &Path) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".machine-id-init"), "leftover {name}");
    }
}

#[test]
fn concurrent_runs_write_one_id() {
    let d = scratch("commit");
    fs::create_dir(d.join("root/etc")).unwrap();
    let mut ids = std::collections::HashSet::new();
    for _ in 0..ROUNDS {
        fs::write(d.join("root/etc/machine-id"), "").unwrap();
        let printed = race(&d, &[]);
        assert_one_id(&printed, &d.join("root/etc/machine-id"));
        no_temp_files(&d.join("root/etc"));
        ids.insert(printed[0].clone());
    }
    // Each round really raced for a fresh random id.
    assert_eq!(ids.len(), ROUNDS);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn concurrent_runs_create_etc_once() {
    let d = scratch("mkdir");
    let printed = race(&d, &[]);
    assert_one_id(&printed, &d.join("root/etc/machine-id"));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn concurrent_preserve_runs_hand_over_one_id() {
    let d = scratch("preserve");
    fs::create_dir(d.join("root/etc")).unwrap();
    fs::write(d.join("root/etc/machine-id"), "uninitialized\n").unwrap();
    let printed = race(&d, &["--first-boot", "preserve"]);
    assert_one_id(&printed, &d.join("host/run/machine-id"));
    assert_eq!(
        fs::read_to_string(d.join("root/etc/machine-id")).unwrap(),
        "uninitialized\n"
    );
    no_temp_files(&d.join("host/run"));
    fs::remove_dir_all(&d).unwrap();
}
