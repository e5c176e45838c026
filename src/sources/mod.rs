//! Where an id can come from, one module per source, tried in the order the user asked for.

pub mod cmdline;
pub mod container;
pub mod credential;
pub mod dbus;
pub mod random;
pub mod run;
pub mod vm;

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::path::Path;

use log::{debug, info};

use crate::detect::Environment;
use crate::machine_id::{FileState, MachineId};
use crate::read;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    Cmdline,
    Credential,
    Container,
    Vm,
    Firmware,
    Dbus,
    Run,
    Random,
}

impl Source {
    pub const ALL: [Source; 8] = [
        Source::Cmdline,
        Source::Credential,
        Source::Container,
        Source::Vm,
        Source::Firmware,
        Source::Dbus,
        Source::Run,
        Source::Random,
    ];

    /// `firmware` is not here: bare-metal UUIDs are too often placeholders or duplicates.
    pub const DEFAULT_ORDER: [Source; 7] = [
        Source::Cmdline,
        Source::Credential,
        Source::Container,
        Source::Vm,
        Source::Dbus,
        Source::Run,
        Source::Random,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::Cmdline => "cmdline",
            Source::Credential => "credential",
            Source::Container => "container",
            Source::Vm => "vm",
            Source::Firmware => "firmware",
            Source::Dbus => "dbus",
            Source::Run => "run",
            Source::Random => "random",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Sources that describe the outer machine when we run in a chroot of it.
    pub(crate) fn refused_in_chroot(self) -> bool {
        matches!(
            self,
            Source::Cmdline
                | Source::Credential
                | Source::Container
                | Source::Vm
                | Source::Firmware
        )
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The id chosen, and where it came from in words for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub id: MachineId,
    pub source: Source,
    pub origin: String,
}

/// What one source has to say.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    Id(MachineId, String),
    /// `systemd.machine_id=firmware`: let `vm` act as `firmware`.
    Firmware,
    Nothing,
}

/// What one source said about one place, for `--explain`. Every note is also logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub source: Source,
    pub verdict: Verdict,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The id that is used.
    Accepted,
    /// A valid id that a source earlier in the order beats.
    Shadowed,
    Rejected,
    /// The source does not apply here (not in a container, no hypervisor, in a chroot, …).
    Skipped,
    /// The source was asked and has nothing.
    Nothing,
    /// `firmware` was asked for: `vm` acts as `firmware`.
    Firmware,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Shadowed => "shadowed",
            Verdict::Rejected => "rejected",
            Verdict::Skipped => "skipped",
            Verdict::Nothing => "nothing",
            Verdict::Firmware => "firmware",
        }
    }
}

/// The notes of one run, kept by the [`Environment`] that every source sees.
#[derive(Debug)]
pub struct Trail {
    current: Cell<Source>,
    notes: RefCell<Vec<Note>>,
}

impl Default for Trail {
    fn default() -> Self {
        Trail {
            current: Cell::new(Source::Cmdline),
            notes: RefCell::new(Vec::new()),
        }
    }
}

impl Trail {
    /// A candidate refused, with why: logged at info level, as SPEC §3 asks.
    pub fn reject(&self, what: fmt::Arguments) {
        let text = what.to_string();
        info!("Ignoring {text}.");
        self.push(Verdict::Rejected, text);
    }

    /// A source that does not apply here: logged at debug level.
    pub fn skip(&self, why: fmt::Arguments) {
        self.record(log::Level::Debug, Verdict::Skipped, why.to_string());
    }

    /// Log `text` at `level` and note it.
    fn record(&self, level: log::Level, verdict: Verdict, text: String) {
        log::log!(level, "{text}");
        self.push(verdict, text);
    }

    fn push(&self, verdict: Verdict, text: String) {
        self.notes.borrow_mut().push(Note {
            source: self.current.get(),
            verdict,
            text,
        });
    }

    pub fn notes(&self) -> Vec<Note> {
        self.notes.borrow().clone()
    }
}

/// Try `order` and return the first usable id.
pub fn select(order: &[Source], env: &Environment) -> Option<Candidate> {
    evaluate(order, env, true)
}

/// Ask every source in `order`, also after the winner (for `--explain`), and return the winner.
pub fn select_explaining(order: &[Source], env: &Environment) -> Option<Candidate> {
    evaluate(order, env, false)
}

fn evaluate(order: &[Source], env: &Environment, stop_at_winner: bool) -> Option<Candidate> {
    let trail = env.trail();
    let mut firmware_requested = false;
    let mut winner: Option<Candidate> = None;
    for (i, &source) in order.iter().enumerate() {
        trail.current.set(source);
        let noted = trail.notes.borrow().len();
        if source.refused_in_chroot() && env.in_chroot() {
            trail.record(
                log::Level::Info,
                Verdict::Skipped,
                format!(
                    "Not using source '{source}': running in a chroot, it describes the outer machine."
                ),
            );
            continue;
        }
        let lookup = match source {
            Source::Cmdline => cmdline::lookup(env),
            Source::Credential => credential::lookup(env),
            Source::Container => container::lookup(env),
            Source::Vm => vm::lookup(env, firmware_requested),
            Source::Firmware => vm::lookup(env, true),
            Source::Dbus => dbus::lookup(env),
            Source::Run => run::lookup(env),
            Source::Random => random::lookup(env, &order[..i], firmware_requested),
        };
        match lookup {
            Lookup::Id(id, origin) if winner.is_none() => {
                debug!("Source '{source}' yields {id} ({origin}).");
                trail.push(Verdict::Accepted, format!("{id} from {origin}"));
                winner = Some(Candidate { id, source, origin });
                if stop_at_winner {
                    break;
                }
            }
            Lookup::Id(id, origin) => {
                trail.push(Verdict::Shadowed, format!("{id} from {origin}"));
            }
            Lookup::Firmware => {
                trail.record(
                    log::Level::Debug,
                    Verdict::Firmware,
                    format!(
                        "Source '{source}' asks for the firmware UUID: 'vm' acts as 'firmware'."
                    ),
                );
                firmware_requested = true;
            }
            Lookup::Nothing => {
                debug!("Source '{source}' yields nothing.");
                // A source that said why (skipped, rejected) needs no second line.
                if trail.notes.borrow().len() == noted {
                    trail.push(Verdict::Nothing, String::new());
                }
            }
        }
    }
    winner
}

/// A value that must be exactly an id (either form, nothing around it) or the word `firmware`,
/// as systemd reads `systemd.machine_id=` and the `system.machine_id` credential.
fn id_or_firmware(env: &Environment, value: &[u8], origin: &str) -> Lookup {
    if value == b"firmware" {
        return Lookup::Firmware;
    }
    match MachineId::parse(value) {
        Some(id) if id.is_null() => {
            env.trail()
                .reject(format_args!("{origin}: the id is all zero"));
            Lookup::Nothing
        }
        Some(id) => Lookup::Id(id, origin.to_string()),
        None => {
            env.trail().reject(format_args!(
                "{origin}: {} is not a machine ID",
                read::escape(value)
            ));
            Lookup::Nothing
        }
    }
}

/// The outcome of reading an id file in `/etc/machine-id` format (32 hex digits, optional
/// newline), as dbus and an earlier stage write it. `Nothing` when absent; every other refusal
/// is logged.
fn id_bytes(
    env: &Environment,
    read: io::Result<Option<Vec<u8>>>,
    path: &Path,
    origin: &str,
) -> Lookup {
    let bytes = match read {
        Ok(Some(b)) => b,
        Ok(None) => {
            debug!("{} does not exist.", path.display());
            return Lookup::Nothing;
        }
        Err(e) => {
            env.trail()
                .reject(format_args!("{origin} {}: {e}", path.display()));
            return Lookup::Nothing;
        }
    };
    match FileState::classify(&bytes) {
        FileState::Initialized(id) => Lookup::Id(id, origin.to_string()),
        FileState::Zero => {
            env.trail().reject(format_args!(
                "{origin} {}: the id is all zero",
                path.display()
            ));
            Lookup::Nothing
        }
        _ => {
            env.trail().reject(format_args!(
                "{origin} {}: {} is not a machine ID",
                path.display(),
                read::escape(&bytes)
            ));
            Lookup::Nothing
        }
    }
}

/// Drop one trailing byte that is one of `ends` (the first that matches), never more.
fn strip_one<'a>(bytes: &'a [u8], ends: &[u8]) -> &'a [u8] {
    ends.iter()
        .find_map(|e| bytes.strip_suffix(&[*e]))
        .unwrap_or(bytes)
}
