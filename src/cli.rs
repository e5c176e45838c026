//! The command line (SPEC §7). Hand-rolled on `lexopt`: no parser framework in an initramfs.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use crate::config::OnClone;
use crate::log::LogTarget;
use crate::sources::Source;

pub const HELP: &str = "\
Usage: machine-id-init [OPTIONS] [-- PROGRAM [ARGS...]]
       machine-id-init seal --root DIR [--mode MODE] [--dbus-symlink]
       machine-id-init relabel [--root DIR]

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
  --on-clone POLICY   keep | warn | reinit: what to do when the UUID the id
                      was set from changed (a copied machine); default from
                      etc/machine-id-init/machine-id-init.conf, else warn
  --dry-run           decide and log, write nothing
  --print             print the resulting id on stdout
  --explain           print every source, what it held and why it was
                      taken or not, and what would be done; write nothing
  --json              with --explain: as JSON
  --log-target T      auto | kmsg | stderr (default auto)
  -v, -q              more or less logging (MACHINE_ID_INIT_LOG takes
                      env_logger filters)
  -h, --help          show this help
  -V, --version       show the version
  -- PROGRAM ARGS     afterwards, execute PROGRAM (as PID 1 the default is
                      /sbin/init, and other words from the kernel go to it)

seal: make an image ready for a first boot that takes its id from the
hypervisor: etc/machine-id becomes \"uninitialized\" (--mode empty|missing
for the others) and a copied var/lib/dbus/machine-id is removed (or, with
--dbus-symlink, made the usual link to /etc/machine-id).

relabel: on an SELinux system, once the policy is loaded, give run/machine-id
(and an unlabeled etc/machine-id) the context the policy gives
/etc/machine-id; nothing where SELinux is off.

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
    pub explain: Option<Format>,
    /// SPEC §9: `None` takes the image's configuration file, else `warn`.
    pub on_clone: Option<OnClone>,
    /// What to execute afterwards (the PID 1 shim): program and arguments.
    pub exec: Option<Vec<OsString>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealMode {
    Uninitialized,
    Empty,
    Missing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealOptions {
    pub root: PathBuf,
    pub mode: SealMode,
    pub dbus_symlink: bool,
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
            explain: None,
            on_clone: None,
            exec: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelabelOptions {
    pub root: PathBuf,
    pub verbosity: i32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Options),
    Seal(SealOptions),
    Relabel(RelabelOptions),
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

/// Parse the arguments (without the program name). As PID 1 (`pid1`), words before `--` that
/// are not options are the kernel's arguments for init ("single", "emergency", …) and are handed
/// to it instead of being an error.
pub fn parse(args: impl IntoIterator<Item = OsString>, pid1: bool) -> Result<Command, UsageError> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.first().is_some_and(|a| a == "seal") {
        return parse_seal(args.split_off(1));
    }
    if args.first().is_some_and(|a| a == "relabel") {
        return parse_relabel(args.split_off(1));
    }
    let exec = split_program(&mut args);
    let mut opts = Options::default();
    let mut init_args = Vec::new();
    let mut host_root_given = false;
    use lexopt::prelude::*;
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
                opts.first_boot = choice(
                    p.value()?,
                    "--first-boot mode",
                    &[
                        ("auto", FirstBoot::Auto),
                        ("preserve", FirstBoot::Preserve),
                        ("commit", FirstBoot::Commit),
                    ],
                )?
            }
            Long("no-bind-mount") => opts.bind_mount = false,
            Long("on-clone") => {
                opts.on_clone = Some(choice(p.value()?, "--on-clone policy", &OnClone::WORDS)?)
            }
            Long("dry-run") => opts.dry_run = true,
            Long("print") => opts.print = true,
            // Explaining is deciding without doing.
            Long("explain") => {
                opts.explain = Some(opts.explain.unwrap_or(Format::Text));
                opts.dry_run = true;
            }
            Long("json") => {
                opts.explain = Some(Format::Json);
                opts.dry_run = true;
            }
            Long("log-target") => {
                opts.log_target = choice(
                    p.value()?,
                    "--log-target",
                    &[
                        ("auto", LogTarget::Auto),
                        ("kmsg", LogTarget::Kmsg),
                        ("stderr", LogTarget::Stderr),
                    ],
                )?
            }
            Short('v') | Long("verbose") => opts.verbosity += 1,
            Short('q') | Long("quiet") => opts.verbosity -= 1,
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Value(v) if pid1 => init_args.push(v),
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
    opts.exec = match exec {
        Some(program) if program.is_empty() => {
            return Err(UsageError(
                "-- must be followed by the program to execute".into(),
            ));
        }
        Some(mut program) => {
            program.extend(init_args);
            Some(program)
        }
        // The init= shim: only when booting for real (a fixture host tree is a test).
        None if pid1 && crate::roots::is_fs_root(&opts.host_root) => Some(
            std::iter::once(crate::roots::DEFAULT_INIT.into())
                .chain(init_args)
                .collect(),
        ),
        None => None,
    };
    Ok(Command::Run(opts))
}

/// Take `-- PROGRAM ARGS...` off the end of `args`: lexopt swallows `--`, so the split comes
/// first and the program's own arguments stay untouched.
fn split_program(args: &mut Vec<OsString>) -> Option<Vec<OsString>> {
    args.iter()
        .position(|a| a == "--")
        .map(|i| args.split_off(i).split_off(1))
}

/// What a PID 1 executes when its command line is not understood: the program named after
/// `--` (it is what the system boots into), else the default init.
pub fn program_despite_usage_error(mut args: Vec<OsString>) -> Vec<OsString> {
    if args.first().is_some_and(|a| a == "seal" || a == "relabel") {
        args.clear();
    }
    split_program(&mut args)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| vec![crate::roots::DEFAULT_INIT.into()])
}

fn parse_seal(args: Vec<OsString>) -> Result<Command, UsageError> {
    use lexopt::prelude::*;
    let mut root = None;
    let mut opts = SealOptions {
        root: PathBuf::new(),
        mode: SealMode::Uninitialized,
        dbus_symlink: false,
        verbosity: 0,
    };
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next()? {
        match arg {
            Long("root") => root = Some(nonempty_path(p.value()?, "--root")?),
            Long("mode") => {
                opts.mode = choice(
                    p.value()?,
                    "--mode",
                    &[
                        ("uninitialized", SealMode::Uninitialized),
                        ("empty", SealMode::Empty),
                        ("missing", SealMode::Missing),
                    ],
                )?
            }
            Long("dbus-symlink") => opts.dbus_symlink = true,
            Short('v') | Long("verbose") => opts.verbosity += 1,
            Short('q') | Long("quiet") => opts.verbosity -= 1,
            Short('h') | Long("help") => return Ok(Command::Help),
            other => return Err(other.unexpected().into()),
        }
    }
    // Sealing the running system by accident would make it lose its identity at next boot.
    opts.root = root.ok_or_else(|| {
        UsageError(
            "seal needs --root DIR: the image to seal (never the running system by default)".into(),
        )
    })?;
    Ok(Command::Seal(opts))
}

fn parse_relabel(args: Vec<OsString>) -> Result<Command, UsageError> {
    use lexopt::prelude::*;
    let mut opts = RelabelOptions {
        root: PathBuf::from("/"),
        verbosity: 0,
    };
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next()? {
        match arg {
            Long("root") => opts.root = nonempty_path(p.value()?, "--root")?,
            Short('v') | Long("verbose") => opts.verbosity += 1,
            Short('q') | Long("quiet") => opts.verbosity -= 1,
            Short('h') | Long("help") => return Ok(Command::Help),
            other => return Err(other.unexpected().into()),
        }
    }
    Ok(Command::Relabel(opts))
}

/// One of a fixed set of words.
fn choice<T: Copy>(value: OsString, what: &str, words: &[(&str, T)]) -> Result<T, UsageError> {
    let value = value.to_string_lossy();
    words
        .iter()
        .find(|(w, _)| *w == value)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            let expected: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
            UsageError(format!(
                "invalid {what} '{value}' (expected {})",
                expected.join(", ")
            ))
        })
}

fn nonempty_path(v: OsString, flag: &str) -> Result<PathBuf, UsageError> {
    if v.is_empty() {
        // An unset variable in a hook must not turn into the live root.
        return Err(UsageError(format!(
            "{flag} needs a directory: an empty value is not / (is a variable unset?)"
        )));
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
        parse(args.iter().map(OsString::from), false)
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
    fn exec_and_pid1() {
        let Ok(Command::Run(o)) = run(&["-v", "--", "/bin/prog", "--root", "x"]) else {
            panic!()
        };
        assert_eq!(o.verbosity, 1);
        assert_eq!(
            o.exec,
            Some(vec!["/bin/prog".into(), "--root".into(), "x".into()])
        );
        assert!(run(&["--"]).is_err());
        assert!(run(&["single"]).is_err());
        // As PID 1, the kernel's words go to init, and init is the default program.
        let Ok(Command::Run(o)) = parse(["single".into(), "-q".into()], true) else {
            panic!()
        };
        assert_eq!(o.exec, Some(vec!["/sbin/init".into(), "single".into()]));
        assert_eq!(o.verbosity, -1);
        let Ok(Command::Run(o)) = parse([], false) else {
            panic!()
        };
        assert_eq!(o.exec, None);
    }

    #[test]
    fn program_after_a_usage_error() {
        let os = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            program_despite_usage_error(os(&["--bogus", "--", "/bin/sh", "-c", "x"])),
            os(&["/bin/sh", "-c", "x"])
        );
        assert_eq!(
            program_despite_usage_error(os(&["--bogus"])),
            os(&["/sbin/init"])
        );
        assert_eq!(
            program_despite_usage_error(os(&["--sources=x", "--"])),
            os(&["/sbin/init"])
        );
        assert_eq!(
            program_despite_usage_error(os(&["seal", "--", "/bin/sh"])),
            os(&["/sbin/init"])
        );
    }

    #[test]
    fn seal() {
        let Ok(Command::Seal(o)) = run(&["seal", "--root", "/img", "--mode", "empty"]) else {
            panic!()
        };
        assert_eq!((o.root, o.mode), (PathBuf::from("/img"), SealMode::Empty));
        assert!(
            run(&["seal"]).is_err(),
            "seal never defaults to the running system"
        );
        assert!(run(&["seal", "--root", "/img", "--mode", "gone"]).is_err());
    }

    #[test]
    fn relabel() {
        assert_eq!(
            run(&["relabel"]),
            Ok(Command::Relabel(RelabelOptions {
                root: PathBuf::from("/"),
                verbosity: 0
            }))
        );
        let Ok(Command::Relabel(o)) = run(&["relabel", "--root", "/sysroot", "-v"]) else {
            panic!()
        };
        assert_eq!((o.root, o.verbosity), (PathBuf::from("/sysroot"), 1));
        assert!(run(&["relabel", "--root="]).is_err());
        assert!(run(&["relabel", "extra"]).is_err());
    }

    #[test]
    fn explain() {
        let Ok(Command::Run(o)) = run(&["--explain"]) else {
            panic!()
        };
        assert_eq!(o.explain, Some(Format::Text));
        let Ok(Command::Run(o)) = run(&["--explain", "--json"]) else {
            panic!()
        };
        assert_eq!(o.explain, Some(Format::Json));
    }

    #[test]
    fn help_fits_80_columns() {
        assert!(HELP.lines().all(|l| l.chars().count() <= 80));
        assert_eq!(run(&["-h"]), Ok(Command::Help));
        assert_eq!(run(&["--version"]), Ok(Command::Version));
    }
}
