//! Error injection: a system call of the write path fails (strace `inject=NAME:error=ERRNO`).
//! The tool exits 1 with a message naming the path and the errno, the file keeps its state and
//! no temporary file is left. Two calls are special by design and checked as such: a failed
//! `fsync` of the directory after the rename (the id is complete and in place: exit 0 with a
//! warning), and `EROFS` from `rename` (the file system is read-only: SPEC §5 hand-over).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(30);

struct Fault {
    syscall: &'static str,
    /// Which call of that name: the first whose trace line contains this.
    line_has: &'static str,
    errno: &'static str,
    /// Expected exit status, and log fragments (the path and the errno's text).
    exit: i32,
    log: &'static [&'static str],
    /// What `etc/machine-id` holds afterwards: `None` = unchanged (empty).
    result: Option<&'static str>,
    read_only_namespace: bool,
}

const FAULTS: &[Fault] = &[
    Fault {
        syscall: "write",
        line_has: "\"564dfa7e",
        errno: "EIO",
        exit: 1,
        log: &["Failed to write", "etc/machine-id", "Input/output error"],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "write",
        line_has: "\"564dfa7e",
        errno: "ENOSPC",
        exit: 1,
        log: &[
            "Failed to write",
            "etc/machine-id",
            "No space left on device",
        ],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "fsync",
        line_has: "fsync(",
        errno: "EIO",
        exit: 1,
        log: &["Failed to write", "etc/machine-id", "Input/output error"],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "rename",
        line_has: "rename(",
        errno: "EXDEV",
        exit: 1,
        log: &[
            "Failed to write",
            "etc/machine-id",
            "Invalid cross-device link",
        ],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "openat",
        line_has: ".#machine-id.machine-id-init",
        errno: "EACCES",
        exit: 1,
        log: &["Failed to write", "etc/machine-id", "Permission denied"],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "openat",
        line_has: "etc/machine-id\", O_RDONLY",
        errno: "EACCES",
        exit: 1,
        log: &["Failed to read", "etc/machine-id", "Permission denied"],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "openat",
        line_has: "etc/machine-id\", O_RDONLY",
        errno: "ENOMEM",
        exit: 1,
        log: &["Failed to read", "etc/machine-id", "Cannot allocate memory"],
        result: None,
        read_only_namespace: false,
    },
    Fault {
        syscall: "flock",
        line_has: "flock(",
        errno: "ENOLCK",
        exit: 1,
        log: &["Failed to lock", "root/etc", "No locks available"],
        result: None,
        read_only_namespace: false,
    },
    // The rename happened; only the directory's durability failed.
    Fault {
        syscall: "fsync",
        line_has: "fsync({etc-fd})",
        errno: "EIO",
        exit: 0,
        log: &[
            "Failed to sync the directory",
            "etc/machine-id",
            "Input/output error",
        ],
        result: Some(ID),
        read_only_namespace: false,
    },
    // A read-only file system: the id is handed over in run/machine-id and bind-mounted.
    Fault {
        syscall: "rename",
        line_has: "rename(",
        errno: "EROFS",
        exit: 0,
        log: &["is read-only", "bind-mounted over"],
        result: None,
        read_only_namespace: true,
    },
];

fn prepare(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir.join("root/etc")).unwrap();
    fs::create_dir_all(dir.join("host/run")).unwrap();
    vmware_host(&dir.join("host"));
    write(&dir.join("root/etc/machine-id"), "");
}

fn command(dir: &Path, strace: &[&str], namespace: bool) -> Command {
    let mut argv: Vec<String> = Vec::new();
    if namespace {
        argv.extend(["unshare", "-rm"].map(String::from));
    }
    argv.extend(["strace", "-qq"].map(String::from));
    argv.extend(strace.iter().map(|s| s.to_string()));
    argv.push("--".into());
    argv.push(BIN.into());
    for (flag, sub) in [("--root", "root"), ("--host-root", "host")] {
        argv.push(flag.into());
        argv.push(dir.join(sub).display().to_string());
    }
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c
}

#[test]
fn injected_errors() {
    if !have("strace", &["-V"]) || !have("unshare", &["-rm", "true"]) {
        skip("fault injection: needs strace and unshare -rm");
        return;
    }
    let dir = std::env::temp_dir().join(format!("mii-faults-{}", std::process::id()));
    let trace = dir.with_extension("trace");
    prepare(&dir);
    let normal = run(
        &mut command(&dir, &["-o", trace.to_str().unwrap()], false),
        LIMIT,
    );
    assert_eq!(normal.code, Some(0), "{}", normal.stderr);
    let lines: Vec<String> = fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let _ = fs::remove_file(&trace);

    // The directory's descriptor is whatever number the kernel gave it (the test runner may
    // have left descriptors open): read it off the trace, never assume it.
    let etc = dir.join("root/etc").display().to_string();
    let etc_fd = lines
        .iter()
        .find(|l| l.starts_with("openat(") && l.contains(&format!("\"{etc}\"")))
        .and_then(|l| l.rsplit_once(" = "))
        .map(|(_, fd)| fd.trim().to_string())
        .unwrap_or_else(|| panic!("no open of {etc} in the trace:\n{}", lines.join("\n")));

    let mut failures = Vec::new();
    for f in FAULTS {
        let prefix = format!("{}(", f.syscall);
        let calls: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        let line_has = f.line_has.replace("{etc-fd}", &etc_fd);
        let Some(nth) = calls.iter().position(|l| l.contains(&line_has)) else {
            failures.push(format!(
                "{} {}: no call matching {:?} in the trace",
                f.syscall, f.errno, line_has
            ));
            continue;
        };
        let inject = format!("inject={}:error={}:when={}", f.syscall, f.errno, nth + 1);
        prepare(&dir);
        let before_run = snapshot(&dir.join("host/run"));
        let r = run(
            &mut command(
                &dir,
                &["-o", "/dev/null", "-e", &inject],
                f.read_only_namespace,
            ),
            LIMIT,
        );
        let ctx = format!("{inject} on {line_has:?}");
        if r.code != Some(f.exit) {
            failures.push(format!(
                "{ctx}: exit {:?}, expected {}: {}",
                r.code, f.exit, r.stderr
            ));
        }
        for frag in f.log {
            if !r.stderr.contains(frag) {
                failures.push(format!("{ctx}: log lacks {frag:?}: {}", r.stderr));
            }
        }
        let now = fs::read(dir.join("root/etc/machine-id")).unwrap();
        let want = f
            .result
            .map(|id| format!("{id}\n").into_bytes())
            .unwrap_or_default();
        if now != want {
            failures.push(format!(
                "{ctx}: etc/machine-id is {:?}",
                String::from_utf8_lossy(&now)
            ));
        }
        let run_after = snapshot(&dir.join("host/run"));
        let handed_over = fs::read(dir.join("host/run/machine-id")).ok();
        if f.read_only_namespace {
            if handed_over != Some(format!("{ID}\n").into_bytes()) {
                failures.push(format!("{ctx}: run/machine-id is {handed_over:?}"));
            }
        } else if run_after != before_run {
            failures.push(format!("{ctx}: host/run changed"));
        }
        let temps = temp_files(&dir);
        if !temps.is_empty() {
            failures.push(format!("{ctx}: temporary files left: {temps:?}"));
        }
        eprintln!("fault: {ctx}: exit {:?}", r.code);
    }
    let _ = fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The random source: an interrupted `getrandom` is asked again and the id is written; one that
/// fails leaves the file as it is, names the cause and exits 1 (no source yields an id).
#[test]
fn random_source_faults() {
    if !have("strace", &["-V"]) {
        skip("random source faults: needs strace");
        return;
    }
    let dir = std::env::temp_dir().join(format!("mii-faults-random-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("root/etc")).unwrap();
    fs::create_dir_all(dir.join("host")).unwrap();
    let id_file = dir.join("root/etc/machine-id");
    let tool = |strace: &[&str]| {
        write(&id_file, "");
        let mut c = Command::new("strace");
        c.arg("-qq").args(strace).arg("--").arg(BIN);
        c.arg("--root").arg(dir.join("root"));
        c.arg("--host-root").arg(dir.join("host"));
        c.args(["--sources", "random"]).env_clear();
        run(&mut c, LIMIT)
    };
    // Ours is the call for 16 bytes (the C library and std may ask for their own).
    let trace = dir.with_extension("trace");
    assert_eq!(tool(&["-o", trace.to_str().unwrap()]).code, Some(0));
    let calls: Vec<String> = fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("getrandom("))
        .map(String::from)
        .collect();
    let nth = 1 + calls
        .iter()
        .position(|l| l.contains(", 16, 0)"))
        .unwrap_or_else(|| panic!("no getrandom of 16 bytes: {calls:?}"));
    for (errno, exit, written) in [("EINTR", 0, true), ("EAGAIN", 1, false), ("EIO", 1, false)] {
        let inject = format!("inject=getrandom:error={errno}:when={nth}");
        let r = tool(&["-o", "/dev/null", "-e", &inject]);
        assert_eq!(r.code, Some(exit), "{inject}: {}", r.stderr);
        let now = fs::read_to_string(&id_file).unwrap();
        match written {
            true => assert!(
                now.len() == 33 && now.as_bytes()[12] == b'4',
                "{inject}: {now:?}"
            ),
            false => {
                assert_eq!(now, "", "{inject}");
                assert!(r.stderr.contains("random source"), "{inject}: {}", r.stderr);
            }
        }
    }
    let _ = fs::remove_file(&trace);
    fs::remove_dir_all(&dir).unwrap();
}

/// A read of a host file: an interrupted one is asked again (the UUID is taken); one that fails
/// rejects that source with the path and the cause, and the next source decides.
#[test]
fn host_read_faults() {
    if !have("strace", &["-V"]) {
        skip("host read faults: needs strace");
        return;
    }
    let dir = std::env::temp_dir().join(format!("mii-faults-read-{}", std::process::id()));
    prepare(&dir);
    let trace = dir.with_extension("trace");
    let normal = run(
        &mut command(&dir, &["-o", trace.to_str().unwrap()], false),
        LIMIT,
    );
    assert_eq!(normal.code, Some(0), "{}", normal.stderr);
    let reads: Vec<String> = fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("read("))
        .map(String::from)
        .collect();
    let _ = fs::remove_file(&trace);
    let nth = 1 + reads
        .iter()
        .position(|l| l.contains("\"564dfa7e-"))
        .unwrap_or_else(|| panic!("no read of the product UUID: {reads:?}"));
    for (errno, uuid_taken) in [("EINTR", true), ("EIO", false)] {
        prepare(&dir);
        let inject = format!("inject=read:error={errno}:when={nth}");
        let r = run(
            &mut command(&dir, &["-o", "/dev/null", "-e", &inject], false),
            LIMIT,
        );
        assert_eq!(r.code, Some(0), "{inject}: {}", r.stderr);
        let now = fs::read_to_string(dir.join("root/etc/machine-id")).unwrap();
        if uuid_taken {
            assert_eq!(now, format!("{ID}\n"), "{inject}: {}", r.stderr);
        } else {
            assert!(
                now.len() == 33 && now != format!("{ID}\n"),
                "{inject}: {now:?}"
            );
            for frag in ["sys/class/dmi/id/product_uuid", "Input/output error"] {
                assert!(
                    r.stderr.contains(frag),
                    "{inject}: log lacks {frag:?}: {}",
                    r.stderr
                );
            }
        }
    }
    let _ = fs::remove_dir_all(&dir);
}
