//! The command line (SPEC §7). Hand-rolled on `lexopt`: no parser framework in an initramfs.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use crate::log::LogTarget;
use crate::sources::Source;

pub const HELP: &str = "\
Usage: machine-id-init [OPTIONS]

Initialize /etc/machine-id from the VM or container UUID, before systemd
reads it. An initialized file is never changed.

Options:
  --root DIR          OS tree whose etc/machine-id is initialized (default /)
  --host-root DIR     where the running system's sys/, proc/, run/ are read
                      and run/machine-id is written (default /; required
                      when --root is not /)
  --sources LIST      comma-separated, first usable wins (default
                      cmdline,credential,container,vm,dbus,run,random;
                      also: firmware)
  --first-boot MODE   auto | preserve | commit (default auto)
  --no-bind-mount     on a read-only /etc, only write run/machine-id
  --dry-run           decide and log, write nothing
  --print             print the resulting id on stdout
  --log-target T      auto | kmsg | stderr (default auto)
  -v, -q              more or less logging (MACHINE_ID_INIT_LOG takes
                      env_logger filters)
  -h, --help          show this help
  -V, --version       show the version

Exit status: 0 when the file is initialized afterwards (or on --dry-run),
1 on a runtime failure, 2 on a usage error.
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstBoot {
    Auto,
    Preserve,
    Commit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub root: PathBuf,
    pub host_root: PathBuf,
    pub sources: Vec<Source>,
    pub first_boot: FirstBoot,
    pub bind_mount: bool,
    pub dry_run: bool,
    pub print: bool,
    pub log_target: LogTarget,
    /// 0 is the default (info); each -v adds one, each -q takes one away.
    pub verbosity: i32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            root: PathBuf::from("/"),
            host_root: PathBuf::from("/"),
            sources: Source::DEFAULT_ORDER.to_vec(),
            first_boot: FirstBoot::Auto,
            bind_mount: true,
            dry_run: false,
            print: false,
            log_target: LogTarget::Auto,
            verbosity: 0,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Help,
    Version,
}

#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(e.to_string())
    }
}

pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    use lexopt::prelude::*;
    let mut opts = Options::default();
    let mut host_root_given = false;
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next()? {
        match arg {
            Long("root") => opts.root = nonempty_path(p.value()?, "--root")?,
            Long("host-root") => {
                opts.host_root = nonempty_path(p.value()?, "--host-root")?;
                host_root_given = true;
            }
            Long("sources") => opts.sources = parse_sources(&p.value()?.string()?)?,
            Long("first-boot") => {
                opts.first_boot = match p.value()?.string()?.as_str() {
                    "auto" => FirstBoot::Auto,
                    "preserve" => FirstBoot::Preserve,
                    "commit" => FirstBoot::Commit,
                    other => {
                        return Err(UsageError(format!(
                            "invalid --first-boot mode '{other}' (expected auto, preserve or commit)"
                        )));
                    }
                }
            }
            Long("no-bind-mount") => opts.bind_mount = false,
            Long("dry-run") => opts.dry_run = true,
            Long("print") => opts.print = true,
            Long("log-target") => {
                opts.log_target = match p.value()?.string()?.as_str() {
                    "auto" => LogTarget::Auto,
                    "kmsg" => LogTarget::Kmsg,
                    "stderr" => LogTarget::Stderr,
                    other => {
                        return Err(UsageError(format!(
                            "invalid --log-target '{other}' (expected auto, kmsg or stderr)"
                        )));
                    }
                }
            }
            Short('v') | Long("verbose") => opts.verbosity += 1,
            Short('q') | Long("quiet") => opts.verbosity -= 1,
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            other => return Err(other.unexpected().into()),
        }
    }
    if !crate::roots::is_fs_root(&opts.root) && !host_root_given {
        return Err(UsageError(
            "--root needs --host-root: say where the running system's sys/, proc/ and run/ are \
             (an initramfs passes --root /sysroot --host-root /)"
                .into(),
        ));
    }
    Ok(Command::Run(opts))
}

fn nonempty_path(v: OsString, flag: &str) -> Result<PathBuf, UsageError> {
    if v.is_empty() {
        return Err(UsageError(format!("{flag} needs a directory")));
    }
    Ok(PathBuf::from(v))
}

pub fn parse_sources(list: &str) -> Result<Vec<Source>, UsageError> {
    let mut out = Vec::new();
    for name in list.split(',') {
        let s = Source::from_name(name.trim()).ok_or_else(|| {
            UsageError(format!(
                "unknown source '{name}' in --sources (known: {})",
                Source::ALL.map(Source::name).join(",")
            ))
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn defaults() {
        assert_eq!(run(&[]), Ok(Command::Run(Options::default())));
    }

    #[test]
    fn everything() {
        let Ok(Command::Run(o)) = run(&[
            "--root=/sysroot",
            "--host-root",
            "/",
            "--sources",
            "vm,random",
            "--first-boot",
            "preserve",
            "--no-bind-mount",
            "--dry-run",
            "--print",
            "--log-target",
            "kmsg",
            "-vv",
            "-q",
        ]) else {
            panic!()
        };
        assert_eq!(o.root, PathBuf::from("/sysroot"));
        assert_eq!(o.sources, vec![Source::Vm, Source::Random]);
        assert_eq!(o.first_boot, FirstBoot::Preserve);
        assert!(!o.bind_mount && o.dry_run && o.print);
        assert_eq!(o.log_target, LogTarget::Kmsg);
        assert_eq!(o.verbosity, 1);
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &["--sources", "vm,bogus"][..],
            &["--sources", ""],
            &["--first-boot", "later"],
            &["--log-target", "syslog"],
            &["--root", "/sysroot"],
            &["--root"],
            &["--frobnicate"],
            &["extra"],
            &["--root", ""],
        ] {
            assert!(run(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn help_fits_80_columns() {
        assert!(HELP.lines().all(|l| l.chars().count() <= 80));
        assert_eq!(run(&["-h"]), Ok(Command::Help));
        assert_eq!(run(&["--version"]), Ok(Command::Version));
    }
}
