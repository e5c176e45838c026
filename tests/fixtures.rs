//! Runs the real binary on a temporary copy of every `fixtures/<case>/` tree and checks exit
//! status, stdout, log and the whole resulting tree against `fixtures/<case>/expect`: one test
//! per case, named after it (`cargo test --test fixtures state-missing`). The format of a case is
//! described in `fixtures/README.md`, whose index of cases is checked against the cases here
//! (`FIXTURES_BLESS=1` rewrites it).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, Entry, snapshot};

/// Not a timing assertion: a run that takes this long is hung, and is killed.
const HANG: Duration = Duration::from_secs(20);

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    let Ok(entries) = fs::read_dir(from) else {
        return;
    };
    for e in entries.flatten() {
        let src = e.path();
        let dst = to.join(e.file_name());
        let ft = fs::symlink_metadata(&src).unwrap().file_type();
        if ft.is_symlink() {
            let _ = fs::remove_file(&dst);
            symlink(fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else if e.file_name() != ".keep" {
            // A case's file replaces the base's.
            let _ = fs::remove_file(&dst);
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// `\n`, `\r`, `\t`, `\0`, `\\` and `\xNN` escapes, so odd bytes stay readable in the case files.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            i += 1;
            match b[i] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0' => out.push(0),
                b'x' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    out
}

fn lines(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(' ') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

fn split_path(v: &str) -> (&str, &str) {
    v.split_once(' ').unwrap_or((v, ""))
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn works(cmd: &[&str]) -> bool {
    Command::new(cmd[0])
        .args(&cmd[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Outcome {
    work: PathBuf,
    code: Option<i32>,
    stdout: String,
    log: String,
    seen: BTreeMap<String, Vec<u8>>,
}

/// Run one case; `Err` is a failure message, `Ok(Some)` a skip reason.
fn run_case(case: &Path, work: &Path) -> Result<Option<String>, String> {
    let root = work.join("root");
    let host = work.join("host");
    let _ = fs::remove_dir_all(work);
    // A shared base tree first (`base NAME` in setup), then what makes this case different.
    for (k, v) in lines(&case.join("setup")) {
        if k == "base" {
            let base = case.parent().unwrap().join(BASES).join(&v);
            assert!(base.is_dir(), "{}: no base tree {v}", case.display());
            copy_tree(&base.join("root"), &root);
            copy_tree(&base.join("host"), &host);
        }
    }
    copy_tree(&case.join("root"), &root);
    copy_tree(&case.join("host"), &host);

    let mut read_only = Vec::new();
    let mut pid1 = false;
    let mut drop_dac = false;
    let mut no_mount = false;
    let mut close_fds = Vec::new();
    for (k, v) in lines(&case.join("setup")) {
        let (p, rest) = split_path(&v);
        let path = work.join(p);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        match k.as_str() {
            "write" => fs::write(&path, unescape(rest)).unwrap(),
            "append" => {
                use std::io::Write;
                let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
                f.write_all(&unescape(rest)).unwrap();
            }
            "huge" => fs::write(&path, vec![b'7'; rest.parse().unwrap()]).unwrap(),
            "mkdir" => fs::create_dir_all(&path).unwrap(),
            "symlink" => symlink(rest, &path).unwrap(),
            "mkfifo" => {
                nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap()
            }
            "socket" => drop(std::os::unix::net::UnixListener::bind(&path).unwrap()),
            "xattr" => {
                // security.* needs root (it is stored as it is when no LSM claims it).
                if !is_root() {
                    return Ok(Some("setting security.* xattrs needs root".into()));
                }
                let (name, value) = split_path(rest);
                set_xattr(&path, name, &unescape(value))
                    .map_err(|e| format!("setup xattr {p} {name}: {e}"))?;
            }
            "chardev" => {
                if !is_root() {
                    return Ok(Some("mknod needs root".into()));
                }
                nix::sys::stat::mknod(
                    &path,
                    nix::sys::stat::SFlag::S_IFCHR,
                    nix::sys::stat::Mode::from_bits_truncate(0o644),
                    nix::sys::stat::makedev(1, 3),
                )
                .unwrap();
            }
            "chmod" => {
                let mode = u32::from_str_radix(rest, 8).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
                drop_dac = true;
            }
            "readonly" => read_only.push(path),
            "pid1" => pid1 = true,
            "nomount" => no_mount = true,
            "close" => close_fds.push(v.parse::<u8>().unwrap()),
            "base" => {}
            other => panic!("{}: unknown setup directive {other}", case.display()),
        }
    }

    let before = snapshot(work);
    let how = How {
        read_only,
        pid1,
        drop_dac,
        no_mount,
        close_fds,
    };
    let outcome = execute(case, work, &root, &host, &how)?;
    let Some(outcome) = outcome else {
        return Ok(Some("needs unshare (user and mount namespaces)".into()));
    };
    let after = snapshot(work);
    check(case, &before, &after, &outcome).map(|()| None)
}

/// How the binary is started, from `setup`.
struct How {
    read_only: Vec<PathBuf>,
    pid1: bool,
    drop_dac: bool,
    /// Without CAP_SYS_ADMIN (inside the namespace, after the setup's own mounts).
    no_mount: bool,
    close_fds: Vec<u8>,
}

fn execute(
    case: &Path,
    work: &Path,
    root: &Path,
    host: &Path,
    how: &How,
) -> Result<Option<Outcome>, String> {
    let How {
        read_only,
        pid1,
        drop_dac,
        no_mount,
        close_fds,
    } = how;
    let mut args: Vec<OsString> = Vec::new();
    let arg_lines = fs::read_to_string(case.join("args")).unwrap_or_default();
    let mut arg_lines: Vec<&str> = arg_lines.lines().filter(|l| !l.is_empty()).collect();
    if arg_lines.first() == Some(&"!raw") {
        arg_lines.remove(0);
    } else {
        args.extend([
            "--root".into(),
            root.into(),
            "--host-root".into(),
            host.into(),
        ]);
    }
    for a in arg_lines {
        args.push(
            a.replace("{root}", root.to_str().unwrap())
                .replace("{host}", host.to_str().unwrap())
                .into(),
        );
    }
    let expect = lines(&case.join("expect"));
    // `seen` reads a path inside the namespace, `seen-mode` tries to open it for writing there.
    let seen: Vec<String> = expect
        .iter()
        .filter(|(k, _)| k == "seen" || k == "seen-mode")
        .map(|(k, v)| format!("{k} {}", split_path(v).0))
        .collect();

    let mut argv: Vec<OsString> = Vec::new();
    if !close_fds.is_empty() {
        // Start with these descriptors closed, as an initramfs may start a hook.
        let closes: String = close_fds.iter().map(|fd| format!(" {fd}>&-")).collect();
        argv.extend(["sh", "-c", &format!("exec \"$@\"{closes}"), "sh"].map(Into::into));
    }
    if *drop_dac && is_root() {
        // Root reads anything; without these capabilities a mode-000 file is unreadable.
        argv.extend(
            [
                "setpriv",
                "--bounding-set",
                "-dac_override,-dac_read_search",
            ]
            .map(Into::into),
        );
    }
    if !read_only.is_empty() {
        if !works(&["unshare", "-rm", "true"]) {
            return Ok(None);
        }
        // Make the paths read-only in a private mount namespace, run, and record what the
        // namespace sees before it (and any bind mount made in it) goes away.
        let mut script = String::from("set -e\n");
        for p in read_only {
            script += &format!(
                "mount --bind '{0}' '{0}'\nmount -o remount,bind,ro '{0}'\n",
                p.display()
            );
        }
        script += "set +e\n\"$@\"\nrc=$?\n";
        for (i, s) in seen.iter().enumerate() {
            let (kind, path) = s.split_once(' ').unwrap();
            let (path, out) = (work.join(path), seen_file(work, i));
            script += &match kind {
                "seen" => format!(
                    "cat '{}' > '{}' 2>/dev/null\n",
                    path.display(),
                    out.display()
                ),
                // Opening to append writes nothing; a read-only mount refuses the open.
                _ => format!(
                    "if ( : >> '{}' ) 2>/dev/null; then echo writable; else echo read-only; fi > '{}'\n",
                    path.display(),
                    out.display()
                ),
            };
        }
        script += "exit $rc\n";
        argv.extend(["unshare", "-rm", "sh", "-c", &script, "sh"].map(Into::into));
    } else if *pid1 {
        if !works(&["unshare", "-rpf", "true"]) {
            return Ok(None);
        }
        argv.extend(["unshare", "-rpf"].map(Into::into));
    }
    if *no_mount {
        argv.extend(["setpriv", "--bounding-set", "-sys_admin"].map(Into::into));
    }
    argv.push(BIN.into());
    argv.extend(args);

    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // `env`: one NAME=VALUE a line, taken as it is (values may hold spaces).
    let env_text = fs::read_to_string(case.join("env")).unwrap_or_default();
    for line in env_text.lines().filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        cmd.env(name, value.replace("{host}", host.to_str().unwrap()));
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    // Drained while it runs: a run that writes more than a pipe holds must not look hung.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            return Err(format!("hung for more than {HANG:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    let mut log = String::from_utf8_lossy(&out.stderr).into_owned();
    if let Ok(k) = fs::read(host.join("dev/kmsg")) {
        log += &String::from_utf8_lossy(&k);
    }
    let mut seen_bytes = BTreeMap::new();
    for (i, s) in seen.iter().enumerate() {
        let f = seen_file(work, i);
        seen_bytes.insert(s.clone(), fs::read(&f).unwrap_or_default());
        let _ = fs::remove_file(f);
    }
    Ok(Some(Outcome {
        work: work.to_path_buf(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        log,
        seen: seen_bytes,
    }))
}

/// Where a `readonly` case's namespace leaves what it saw: beside the case's tree (not in it,
/// where the snapshot would see it), and named after it, since cases run in parallel.
fn seen_file(work: &Path, i: usize) -> PathBuf {
    let mut name = work.file_name().unwrap().to_os_string();
    name.push(format!(".seen-{i}"));
    work.with_file_name(name)
}

/// SPEC §9's fingerprint, computed independently of the tool: the first 16 bytes of
/// HMAC-SHA256 keyed with the id, over the context string and the UUID's bytes.
fn fingerprint(id: &str, uuid: &str) -> String {
    use hmac::{Hmac, Mac};
    let bytes = |h: &str| -> Vec<u8> {
        (0..32)
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&bytes(id)).unwrap();
    mac.update(b"machine-id-init origin v1");
    mac.update(&bytes(uuid));
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a buffer of the given length.
    let r = unsafe {
        nix::libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn get_xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let p = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    let n = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: NUL-terminated strings and a writable buffer of the given length.
    let len =
        unsafe { nix::libc::lgetxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (len >= 0).then(|| {
        buf.truncate(len as usize);
        buf
    })
}

fn is_random_id(bytes: &[u8]) -> bool {
    bytes.len() == 33
        && bytes[32] == b'\n'
        && bytes[..32]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        && bytes[12] == b'4'
        && matches!(bytes[16], b'8' | b'9' | b'a' | b'b')
}

fn expected_file(value: &str) -> Vec<u8> {
    let mut v = value.as_bytes().to_vec();
    v.push(b'\n');
    v
}

fn check(
    case: &Path,
    before: &BTreeMap<String, Entry>,
    after: &BTreeMap<String, Entry>,
    o: &Outcome,
) -> Result<(), String> {
    let mut errors = Vec::new();
    let mut changed: Vec<String> = vec!["host/dev/kmsg".into()];
    let mut stdout_checked = false;
    let mut log_checked = false;
    let file_of = |p: &str| match after.get(p) {
        Some(Entry::File(b, _)) => Some(b.clone()),
        _ => None,
    };
    for (k, v) in lines(&case.join("expect")) {
        let (p, rest) = split_path(&v);
        match k.as_str() {
            "exit" => {
                if o.code != Some(v.parse().unwrap()) {
                    errors.push(format!("exit {:?}, expected {v}", o.code));
                }
            }
            "stdout" => {
                stdout_checked = true;
                let want = match v.strip_prefix('=') {
                    Some(path) => file_of(path)
                        .map(|b| String::from_utf8_lossy(&b[..32.min(b.len())]).into_owned())
                        .unwrap_or_default(),
                    None => v.clone(),
                };
                if o.stdout != format!("{want}\n") {
                    errors.push(format!("stdout {:?}, expected {want:?}", o.stdout));
                }
            }
            "stdout-contains" => {
                stdout_checked = true;
                if !o.stdout.contains(&v) {
                    errors.push(format!("stdout {:?} lacks {v:?}", o.stdout));
                }
            }
            "stdout-lacks" => {
                if o.stdout.contains(&v) {
                    errors.push(format!("stdout {:?} has {v:?}", o.stdout));
                }
            }
            "log" => {
                log_checked = true;
                if !o.log.contains(&v) {
                    errors.push(format!("log lacks {v:?}"));
                }
            }
            "nolog" => {
                if o.log.contains(&v) {
                    errors.push(format!("log has {v:?}"));
                }
            }
            "log-empty" => {
                log_checked = true;
                if !o.log.is_empty() {
                    errors.push("log is not empty".into());
                }
            }
            "file" => {
                changed.push(p.into());
                let got = file_of(p);
                let ok = match rest {
                    "random" => got.as_deref().is_some_and(is_random_id),
                    "empty" => got.as_deref() == Some(&b""[..]),
                    r if r.starts_with('=') => got.is_some() && got == file_of(&r[1..]),
                    r => got.as_deref() == Some(&expected_file(r)[..]),
                };
                if !ok {
                    errors.push(format!(
                        "{p} is {:?}, expected {rest}",
                        got.map(|b| String::from_utf8_lossy(&b).into_owned())
                    ));
                }
            }
            "mode" => {
                let m = u32::from_str_radix(rest, 8).unwrap();
                match after.get(p) {
                    Some(Entry::File(_, mode) | Entry::Dir(mode)) if *mode == m => {}
                    other => errors.push(format!("{p}: {other:?}, expected mode {rest}")),
                }
            }
            "link" => {
                changed.push(p.into());
                match after.get(p) {
                    Some(Entry::Link(t)) if t == Path::new(rest) => {}
                    other => errors.push(format!("{p}: {other:?}, expected a link to {rest}")),
                }
            }
            "absent" => {
                changed.push(p.into());
                if after.contains_key(p) {
                    errors.push(format!("{p} exists"));
                }
            }
            "origin" => {
                // origin SOURCE ID [UUID REINITS]: the record names ID and SOURCE, its
                // fingerprint is UUID's (ID's when not given) under ID, computed here.
                let mut w: Vec<&str> = v.split_whitespace().collect();
                // Where `etc` is a link, the record follows it: `origin PATH SOURCE ID ...`.
                let path = match w[0].contains('/') {
                    true => w.remove(0),
                    false => "root/etc/machine-id-init/origin",
                };
                changed.push(path.into());
                let (source, id) = (w[0], w[1]);
                let uuid = w.get(2).copied().unwrap_or(id).replace('-', "");
                let reinits = w.get(3).copied().unwrap_or("0");
                let want = format!(
                    "# machine-id-init: where etc/machine-id came from (removed by `machine-id-init seal`)\n\
                     version=1\nmachine-id={id}\nsource={source}\nfingerprint={}\nreinits={reinits}\n",
                    fingerprint(id, &uuid)
                );
                match after.get(path) {
                    Some(Entry::File(b, 0o600)) if *b == want.as_bytes() => {}
                    other => errors.push(format!(
                        "{path}: {:?}, expected mode 600 and {want:?}",
                        other.map(short)
                    )),
                }
            }
            "xattr" => {
                let (name, value) = split_path(rest);
                let got = get_xattr(&o.work.join(p), name);
                let want = (value != "absent").then(|| unescape(value));
                if got != want {
                    errors.push(format!(
                        "{p}: xattr {name} is {:?}, expected {value}",
                        got.map(|v| String::from_utf8_lossy(&v).into_owned())
                    ));
                }
            }
            "seen-mode" => {
                let got = o
                    .seen
                    .get(&format!("seen-mode {p}"))
                    .cloned()
                    .unwrap_or_default();
                if String::from_utf8_lossy(&got).trim() != rest {
                    errors.push(format!(
                        "inside the namespace {p} is {:?}, expected {rest}",
                        String::from_utf8_lossy(&got).trim()
                    ));
                }
            }
            "seen" => {
                let got = o
                    .seen
                    .get(&format!("seen {p}"))
                    .cloned()
                    .unwrap_or_default();
                let want = match rest {
                    "empty" => Vec::new(),
                    r => expected_file(r),
                };
                if got != want {
                    errors.push(format!(
                        "inside the namespace {p} is {:?}, expected {rest}",
                        String::from_utf8_lossy(&got)
                    ));
                }
            }
            other => panic!("{}: unknown expect directive {other}", case.display()),
        }
    }
    if !stdout_checked && !o.stdout.is_empty() {
        errors.push(format!("stdout is {:?}, expected nothing", o.stdout));
    }
    if !log_checked && o.code == Some(0) {
        // Default quietness: one line at most for a write.
        let n = o.log.lines().filter(|l| !l.is_empty()).count();
        if n > 1 {
            errors.push(format!("{n} log lines, expected at most one"));
        }
    }
    // A named file may have needed its directories created.
    let parents: Vec<String> = changed
        .iter()
        .flat_map(|c| {
            Path::new(c)
                .ancestors()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
        })
        .collect();
    changed.extend(
        parents
            .into_iter()
            .filter(|p| before.get(p).is_none() && matches!(after.get(p), Some(Entry::Dir(_)))),
    );
    // Everything not named above is exactly as before: no temp file, nothing outside the target.
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        if changed.iter().any(|c| c == key) {
            continue;
        }
        if before.get(key) != after.get(key) {
            errors.push(format!(
                "{key} changed: {:?} -> {:?}",
                before.get(key).map(short),
                after.get(key).map(short)
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        errors.push(format!("log:\n{}", o.log));
        Err(errors.join("\n  "))
    }
}

fn short(e: &Entry) -> String {
    match e {
        Entry::File(b, m) if b.len() > 64 => format!("File({} bytes, {m:o})", b.len()),
        Entry::File(b, m) => format!("File({:?}, {m:o})", String::from_utf8_lossy(b)),
        other => format!("{other:?}"),
    }
}

/// Shared base trees live here (`base NAME` in a case's setup); not cases themselves.
const BASES: &str = "_bases";
const INDEX_START: &str = "<!-- index: generated from the cases' expect files; FIXTURES_BLESS=1 cargo test --test fixtures rewrites it -->";
const INDEX_END: &str = "<!-- end of index -->";

fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expect").is_file())
        .collect();
    cases.sort();
    cases
}

/// What a case proves: the first comment line of its `expect`.
fn purpose(case: &Path) -> String {
    fs::read_to_string(case.join("expect"))
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# "))
        .unwrap_or_default()
        .replace('|', "\\|")
}

/// `fixtures/README.md` lists every case with what it proves, in order, and nothing else.
fn check_index(dir: &Path, cases: &[PathBuf]) -> Result<(), String> {
    let path = dir.join("README.md");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (head, rest) = text
        .split_once(INDEX_START)
        .ok_or_else(|| format!("{}: no index start marker", path.display()))?;
    let (_, tail) = rest
        .split_once(INDEX_END)
        .ok_or_else(|| format!("{}: no index end marker", path.display()))?;
    let mut index = String::from("\n| case | what it proves |\n| --- | --- |\n");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy();
        let why = purpose(case);
        if why.is_empty() {
            return Err(format!(
                "{name}: expect has no first comment line saying what it proves"
            ));
        }
        index += &format!("| `{name}` | {why} |\n");
    }
    let want = format!("{head}{INDEX_START}{index}{INDEX_END}{tail}");
    if want == text {
        return Ok(());
    }
    if std::env::var_os("FIXTURES_BLESS").is_some() {
        fs::write(&path, want).map_err(|e| e.to_string())?;
        return Ok(());
    }
    Err(format!(
        "{} is out of date with the cases: run FIXTURES_BLESS=1 cargo test --test fixtures",
        path.display()
    ))
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let scratch = std::env::temp_dir().join(format!("mii-fixtures-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let cases = cases(&dir);
    let under_ci = std::env::var("CI").as_deref() == Ok("true");
    let mut trials = vec![{
        let (dir, cases) = (dir.clone(), cases.clone());
        libtest_mimic::Trial::test("fixtures-index", move || {
            check_index(&dir, &cases).map_err(Into::into)
        })
    }];
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let work = scratch.join(&name);
        trials.push(libtest_mimic::Trial::test(name.clone(), move || {
            match run_case(&case, &work) {
                Ok(None) => Ok(()),
                // A skip is visible here and a failure where everything must run.
                Ok(Some(why)) if under_ci => Err(format!("cannot run under CI: {why}").into()),
                Ok(Some(why)) => {
                    eprintln!("SKIP {name}: {why}");
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }));
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // Mode-000 leftovers cannot stop the clean-up of the scratch directory.
    let _ = Command::new("chmod")
        .args(["-R", "u+rwx"])
        .arg(&scratch)
        .status();
    let _ = fs::remove_dir_all(&scratch);
    conclusion.exit();
}
