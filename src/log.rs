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

/// Whether anybody can read what we write to stderr: not when it is closed, `/dev/null`, or
/// the placeholder [`crate::startup::start`] puts on a closed descriptor.
pub fn stderr_is_read() -> bool {
    nix::sys::stat::fstat(std::io::stderr()).is_ok_and(|st| is_read(&st))
}

/// Whether what is written to a file of this kind reaches anyone: not `/dev/null` (character
/// device 1:3; a terminal or the console does), nor a directory.
fn is_read(st: &nix::sys::stat::FileStat) -> bool {
    let kind = st.st_mode & nix::libc::S_IFMT;
    let null = kind == nix::libc::S_IFCHR && st.st_rdev == nix::sys::stat::makedev(1, 3);
    !null && kind != nix::libc::S_IFDIR
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

/// Set up the logger. `auto` means the kernel log as PID 1 (`pid1`) outside a container
/// (`in_container`, asked only then: in a container `/dev/kmsg` is the host's kernel log, and
/// stderr is the container's console), or with nobody reading stderr.
pub fn init(
    target: LogTarget,
    verbosity: i32,
    kmsg: &Path,
    pid1: bool,
    in_container: impl FnOnce() -> bool,
) {
    let want_kmsg = match target {
        LogTarget::Kmsg => true,
        LogTarget::Stderr => false,
        // The container question is PID 1's (the shim asked it already); a hook with stderr
        // closed keeps its kernel log without the extra reads.
        LogTarget::Auto if pid1 => !in_container(),
        LogTarget::Auto => !stderr_is_read(),
    };
    let kmsg_file = if want_kmsg {
        // O_NONBLOCK: a FIFO planted there must not hang the boot (without a reader the open
        // fails, and we log to stderr).
        OpenOptions::new()
            .append(true)
            .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC | nix::libc::O_NONBLOCK)
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
            // Only a kernel log record names the process; PID 1 is the common case there.
            let pid = if pid1 { 1 } else { std::process::id() };
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

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::stat::stat;

    #[test]
    fn who_reads_stderr() {
        assert!(
            !is_read(&stat(crate::roots::DEV_NULL).unwrap()),
            "/dev/null"
        );
        assert!(!is_read(&stat("/").unwrap()), "a directory");
        // Another character device (a terminal, the console) is read; so is a file.
        assert!(is_read(&stat("/dev/zero").unwrap()), "/dev/zero");
        let file = stat(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
        assert!(is_read(&file), "a file");
    }

    #[test]
    fn verbosity_levels() {
        let want = [
            (-4, LevelFilter::Off),
            (-3, LevelFilter::Off),
            (-2, LevelFilter::Error),
            (-1, LevelFilter::Warn),
            (0, LevelFilter::Info),
            (1, LevelFilter::Debug),
            (2, LevelFilter::Trace),
            (7, LevelFilter::Trace),
        ];
        for (v, level) in want {
            assert_eq!(level_for(v), level, "verbosity {v}");
        }
    }
}
