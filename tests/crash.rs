//! Kill the tool at every system call of a normal run, for every initial state, and check that
//! the file is never torn: after each kill it holds its initial content (or is absent) or a
//! complete id, and a normal re-run finishes the job and leaves no temporary file.
//!
//! strace's `inject=NAME:signal=KILL:when=K` counts calls per syscall name, so one normal run is
//! recorded first and every position i of it becomes (name of call i, how many calls of that
//! name came up to i).

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(30);

struct Scenario {
    name: &'static str,
    /// `etc/machine-id` as the image ships it (`None`: missing).
    initial: Option<&'static [u8]>,
    args: &'static [&'static str],
    /// Extra set-up after the VMware host and the initial file.
    extra: fn(&Path),
    /// Run with `root/etc` bind-mounted read-only in a private mount namespace.
    read_only: bool,
    /// The file that must never be torn, and holds the id at the end.
    watched: &'static str,
}

fn no_extra(_: &Path) {}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "missing",
        initial: None,
        args: &[],
        extra: no_extra,
        read_only: false,
        watched: "root/etc/machine-id",
    },
    Scenario {
        name: "empty",
        initial: Some(b""),
        args: &[],
        extra: no_extra,
        read_only: false,
        watched: "root/etc/machine-id",
    },
    Scenario {
        name: "uninitialized-commit",
        initial: Some(b"uninitialized\n"),
        args: &["--first-boot", "commit"],
        extra: no_extra,
        read_only: false,
        watched: "root/etc/machine-id",
    },
    Scenario {
        name: "invalid",
        initial: Some(b"01234567-89ab-cdef-0123-456789abcdef\r\n"),
        args: &[],
        extra: no_extra,
        read_only: false,
        watched: "root/etc/machine-id",
    },
    Scenario {
        name: "symlink-to-empty",
        initial: None,
        args: &[],
        extra: |d| {
            write(&d.join("root/persist/machine-id"), "");
            symlink("/persist/machine-id", d.join("root/etc/machine-id")).unwrap();
        },
        read_only: false,
        watched: "root/persist/machine-id",
    },
    Scenario {
        name: "read-only-handoff",
        initial: Some(b""),
        args: &[],
        extra: no_extra,
        read_only: true,
        watched: "host/run/machine-id",
    },
];

fn prepare(dir: &Path, s: &Scenario) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("root/etc")).unwrap();
    fs::create_dir_all(dir.join("host/run")).unwrap();
    vmware_host(&dir.join("host"));
    if let Some(b) = s.initial {
        write(&dir.join("root/etc/machine-id"), b);
    }
    (s.extra)(dir);
}

/// The command for one run: optionally under strace, optionally with a read-only etc.
fn command(dir: &Path, s: &Scenario, strace: &[String]) -> Command {
    let mut argv: Vec<String> = Vec::new();
    if s.read_only {
        let etc = dir.join("root/etc");
        let script = format!(
            "mount --bind '{0}' '{0}' && mount -o remount,bind,ro '{0}' && exec \"$@\"",
            etc.display()
        );
        argv.extend(["unshare", "-rm", "sh", "-c", &script, "sh"].map(String::from));
    }
    if !strace.is_empty() {
        argv.extend(["strace", "-qq"].map(String::from));
        argv.extend(strace.iter().cloned());
        argv.push("--".into());
    }
    argv.push(BIN.into());
    argv.extend(
        [
            "--root".to_string(),
            dir.join("root").display().to_string(),
            "--host-root".to_string(),
            dir.join("host").display().to_string(),
        ]
        .into_iter()
        .chain(s.args.iter().map(|a| a.to_string())),
    );
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

/// Names of the system calls of one normal run, in order.
fn record(dir: &Path, s: &Scenario) -> Vec<String> {
    prepare(dir, s);
    let trace = dir.with_extension("trace");
    let r = run(
        &mut command(dir, s, &["-o".into(), trace.display().to_string()]),
        LIMIT,
    );
    assert_eq!(
        r.code,
        Some(0),
        "{}: normal run failed: {}",
        s.name,
        r.stderr
    );
    let text = fs::read_to_string(&trace).unwrap();
    let _ = fs::remove_file(&trace);
    text.lines()
        .filter_map(|l| {
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && l[name.len()..].starts_with('(')).then_some(name)
        })
        .collect()
}

fn state_ok(dir: &Path, s: &Scenario) -> Result<(), String> {
    let watched = dir.join(s.watched);
    let now = fs::read(&watched).ok();
    let initial: Option<Vec<u8>> = if s.watched == "root/etc/machine-id" {
        s.initial.map(<[u8]>::to_vec)
    } else if s.name == "symlink-to-empty" {
        Some(Vec::new())
    } else {
        None
    };
    if now == initial || now.as_deref().is_some_and(is_id) {
        Ok(())
    } else {
        Err(format!(
            "{} is {:?}",
            s.watched,
            now.map(|b| String::from_utf8_lossy(&b).into_owned())
        ))
    }
}

#[test]
fn kill_at_every_syscall() {
    if !have("strace", &["-V"]) {
        skip("crash test: strace is not installed");
        return;
    }
    if !have("unshare", &["-rm", "true"]) {
        skip("crash test: needs user and mount namespaces (unshare -rm)");
        return;
    }
    let base = std::env::temp_dir().join(format!("mii-crash-{}", std::process::id()));
    let mut failures = Vec::new();
    let mut points = 0;
    for s in SCENARIOS {
        let dir: PathBuf = base.join(s.name);
        fs::create_dir_all(&base).unwrap();
        let calls = record(&dir, s);
        assert!(calls.len() > 20, "{}: trace too short: {calls:?}", s.name);
        for i in 0..calls.len() {
            let name = &calls[i];
            let nth = calls[..=i].iter().filter(|c| *c == name).count();
            prepare(&dir, s);
            let inject = format!("inject={name}:signal=KILL:when={nth}");
            let killed = run(
                &mut command(
                    &dir,
                    s,
                    &["-o".into(), "/dev/null".into(), "-e".into(), inject.clone()],
                ),
                LIMIT,
            );
            let ctx = format!("{} at #{i} ({inject})", s.name);
            if let Err(e) = state_ok(&dir, s) {
                failures.push(format!("{ctx}: after the kill {e}"));
                continue;
            }
            let again = run(&mut command(&dir, s, &[]), LIMIT);
            if again.code != Some(0) {
                failures.push(format!(
                    "{ctx}: re-run exit {:?}: {} (killed run: {})",
                    again.code, again.stderr, killed.stderr
                ));
                continue;
            }
            let final_bytes = fs::read(dir.join(s.watched)).unwrap_or_default();
            if final_bytes != format!("{ID}\n").into_bytes() {
                failures.push(format!(
                    "{ctx}: after the re-run {} is {:?}",
                    s.watched,
                    String::from_utf8_lossy(&final_bytes)
                ));
            }
            let temps = temp_files(&dir);
            if !temps.is_empty() {
                failures.push(format!("{ctx}: temporary files left: {temps:?}"));
            }
            points += 1;
        }
        eprintln!("crash: {}: {} kill points", s.name, calls.len());
    }
    let _ = fs::remove_dir_all(&base);
    eprintln!(
        "crash: {points} crash points covered, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
