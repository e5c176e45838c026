//! Logging to stderr, or to the kernel log when there is nothing else to read it: as PID 1, or
//! with stderr closed (an initramfs hook). `/dev/kmsg` takes one record per write, with a
//! syslog priority prefix.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use env_logger::{Target, WriteStyle};
use log::{Level, LevelFilter};

pub const ENV_FILTER: &str = "MACHINE_ID_INIT_LOG";
const NAME: &str = "machine-id-init";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTarget {
    Auto,
    Kmsg,
    Stderr,
}

/// Whether file descriptor `fd` is open. Asked before anything could reuse a closed slot.
pub fn fd_is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD only inspects the descriptor table.
    unsafe { nix::libc::fcntl(fd, nix::libc::F_GETFD) != -1 }
}

/// Fill closed stdin/stdout/stderr with `null` (or, failing that, anything harmless), so a file
/// we open later can never become fd 1 and receive what we print.
pub fn guard_standard_fds(null: &Path) {
    for fd in 0..=2 {
        if fd_is_open(fd) {
            continue;
        }
        let opened = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(null)
            .or_else(|_| {
                OpenOptions::new()
                    .read(true)
                    .custom_flags(nix::libc::O_PATH)
                    .open(null.parent().unwrap_or(null))
            });
        if let Ok(f) = opened {
            use std::os::fd::IntoRawFd;
            let got = f.into_raw_fd();
            if got != fd {
                // SAFETY: both descriptors are ours; dup2 onto a closed slot.
                unsafe {
                    nix::libc::dup2(got, fd);
                    nix::libc::close(got);
                }
            }
        }
    }
}

fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

fn level_for(verbosity: i32) -> LevelFilter {
    match verbosity {
        i32::MIN..=-3 => LevelFilter::Off,
        -2 => LevelFilter::Error,
        -1 => LevelFilter::Warn,
        0 => LevelFilter::Info,
        1 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// Set up the logger. `stderr_open` must be measured before [`guard_standard_fds`].
pub fn init(target: LogTarget, verbosity: i32, kmsg: &Path, stderr_open: bool) {
    let want_kmsg = match target {
        LogTarget::Kmsg => true,
        LogTarget::Stderr => false,
        LogTarget::Auto => std::process::id() == 1 || !stderr_open,
    };
    let kmsg_file = if want_kmsg {
        OpenOptions::new()
            .append(true)
            .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC)
            .open(kmsg)
            .ok()
    } else {
        None
    };

    let mut b = env_logger::Builder::new();
    b.filter_level(level_for(verbosity));
    if let Ok(filters) = std::env::var(ENV_FILTER) {
        b.parse_filters(&filters);
    }
    b.write_style(WriteStyle::Never);
    let fell_back = want_kmsg && kmsg_file.is_none();
    match kmsg_file {
        Some(f) => {
            let pid = std::process::id();
            // env_logger hands the pipe each formatted record in one write_all: one kmsg record.
            b.target(Target::Pipe(Box::new(f))).format(move |buf, r| {
                writeln!(
                    buf,
                    "<{}>{NAME}[{pid}]: {}",
                    syslog_priority(r.level()),
                    r.args()
                )
            });
        }
        None => {
            b.target(Target::Stderr)
                .format(|buf, r| writeln!(buf, "{NAME}: {}", r.args()));
        }
    }
    let _ = b.try_init();
    if fell_back {
        log::debug!("Cannot open {}; logging to stderr.", kmsg.display());
    }
}
