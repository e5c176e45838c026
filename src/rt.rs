//! Process start-up. The binary uses `#![no_main]`: Rust's runtime set-up before `main` (stack
//! guard discovery through `/proc/self/maps`, signal stacks, SIGSEGV/SIGBUS handlers) costs
//! about 16 system calls, a third of a run, for nothing a boot-time one-shot needs. The two
//! parts of it that matter are done here.

use std::os::fd::IntoRawFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::roots::DEV_NULL;

/// Call first thing in `main`.
pub fn start() {
    occupy_closed_standard_fds();
    // A closed pipe on stdout must give EPIPE (which we ignore), not kill us after the write.
    // SAFETY: setting a signal disposition to SIG_IGN has no preconditions.
    unsafe {
        nix::libc::signal(nix::libc::SIGPIPE, nix::libc::SIG_IGN);
    }
}

/// Put something on a closed fd 0, 1 or 2, so that no file we open later becomes fd 1 and
/// receives what we print (an initramfs may start us with them closed). `/dev/null` where it
/// exists, else the root directory as an `O_PATH` descriptor, on which every write fails.
fn occupy_closed_standard_fds() {
    let mut fds = [0, 1, 2].map(|fd| nix::libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd structures.
    if unsafe { nix::libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for p in fds.iter().filter(|p| p.revents & nix::libc::POLLNVAL != 0) {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(DEV_NULL)
            .or_else(|_| {
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(nix::libc::O_PATH | nix::libc::O_DIRECTORY)
                    .open("/")
            });
        let Ok(file) = opened else { continue };
        let got = file.into_raw_fd();
        if got != p.fd {
            // SAFETY: both descriptors are ours; `p.fd` is closed, so nothing is lost.
            unsafe {
                nix::libc::dup2(got, p.fd);
                nix::libc::close(got);
            }
        }
    }
}

/// As PID 1 (the `init=` shim), mount what the sources read and what the hand-off writes, if
/// nothing has yet: `proc`, `sysfs`, `devtmpfs` (for `/dev/kmsg`) and a `tmpfs` on `run`.
/// Returns what happened, for the log (which needs `/dev` first).
pub fn mount_api_filesystems(roots: &crate::roots::Roots) -> Vec<String> {
    use nix::mount::{MsFlags, mount};
    let hidden = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let table: [(&str, &str, MsFlags, Option<&str>, &str); 4] = [
        ("proc", "proc", hidden, None, "proc/self"),
        ("sys", "sysfs", hidden, None, "sys/kernel"),
        (
            "dev",
            "devtmpfs",
            MsFlags::MS_NOSUID,
            Some("mode=0755"),
            "dev/kmsg",
        ),
        (
            "run",
            "tmpfs",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755"),
            "",
        ),
    ];
    let mut notes = Vec::new();
    for (dir, fstype, flags, data, probe) in table {
        let path = roots.host_join(dir);
        // Mounted already: a file only the file system has is there, or (run) it is a mount.
        let mounted = if probe.is_empty() {
            is_mount_point(&path)
        } else {
            roots.host_join(probe).exists()
        };
        if mounted {
            continue;
        }
        let _ = std::fs::create_dir(&path);
        match mount(Some(fstype), &path, Some(fstype), flags, data) {
            Ok(()) => notes.push(format!("Mounted {fstype} on {}.", path.display())),
            Err(e) => notes.push(format!("Cannot mount {fstype} on {}: {e}.", path.display())),
        }
    }
    notes
}

fn is_mount_point(path: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (
        std::fs::metadata(path),
        path.parent().map(std::fs::metadata),
    ) {
        (Ok(dir), Some(Ok(parent))) => dir.dev() != parent.dev(),
        _ => false,
    }
}

/// Replace this process with `argv[0]` and its arguments, keeping the environment. Returns only
/// when that failed. As PID 1 with the default init, the kernel's own fallbacks are tried.
pub fn exec(argv: &[std::ffi::OsString], pid1: bool) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    // What we ignored for ourselves must not stay ignored in the next program.
    // SAFETY: resetting a signal disposition has no preconditions.
    unsafe {
        nix::libc::signal(nix::libc::SIGPIPE, nix::libc::SIG_DFL);
    }
    let default = argv
        .first()
        .is_some_and(|p| p == crate::roots::DEFAULT_INIT);
    let mut programs = vec![argv[0].clone()];
    if pid1 && default {
        programs.extend(crate::roots::FALLBACK_INITS.iter().map(Into::into));
    }
    let mut last = std::io::Error::from_raw_os_error(nix::libc::ENOENT);
    for program in programs {
        last = std::process::Command::new(&program)
            .arg0(&program)
            .args(&argv[1..])
            .exec();
        log::error!("Failed to execute {}: {last}.", program.to_string_lossy());
    }
    last
}
