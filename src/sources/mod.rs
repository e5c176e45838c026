//! Where an id can come from (SPEC §3): one module per source, tried in the order asked for.
//!
//! How to add a source: give it a [`Source`] variant (name, place in `ALL` and, if it belongs
//! there, `DEFAULT_ORDER`), a module here with `pub fn lookup(env: &Environment) -> Answers`,
//! and an arm in [`select`]. A source only reads and answers, one [`Answer`] per place it looked
//! at that had something to say: an id with where it came from, or why not. It never logs its
//! verdicts itself; [`select`] logs every answer and keeps it for `--explain`, so no source can
//! leave a blank row there. The first id in the answers is the source's id.

pub mod cmdline;
pub mod container;
pub mod credential;
pub mod dbus;
pub mod firmware;
pub mod random;
pub mod run;
mod uuid_files;
pub mod vm;

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

    /// Sources whose id is worth an origin record (SPEC §9): the manager's or the
    /// administrator's word, which a copy of the machine does not carry along.
    pub fn recorded(self) -> bool {
        matches!(
            self,
            Source::Vm
                | Source::Firmware
                | Source::Container
                | Source::Credential
                | Source::Cmdline
        )
    }

    /// Sources that describe the outer machine when we run in a chroot of it (SPEC §6).
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

/// What one source has to say: its whole answer, as a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Id {
        id: MachineId,
        origin: String,
    },
    /// `systemd.machine_id=firmware` (or the credential's `firmware`): `vm` acts as `firmware`.
    AskFirmware,
    /// A candidate was there and is refused: why (logged at info level, SPEC §3).
    Rejected(String),
    /// The source does not apply here (not in a container, no hypervisor, …): why.
    Skipped(String),
    /// The source was asked and has nothing: what it looked at.
    Nothing(String),
}

impl Answer {
    fn rejected(what: fmt::Arguments) -> Answer {
        Answer::Rejected(what.to_string())
    }
}

/// Everything one source said, in order.
pub type Answers = Vec<Answer>;

/// What one source said, for `--explain`. Every note is also logged.
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

/// The outcome of asking the sources: the winner, and what each source said.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub winner: Option<Candidate>,
    pub notes: Vec<Note>,
}

impl Selection {
    /// Whether `source` refused a candidate (for the reason of a random id).
    pub fn rejected(&self, source: Source) -> bool {
        self.notes
            .iter()
            .any(|n| n.source == source && n.verdict == Verdict::Rejected)
    }
}

/// Try `order` and return the first usable id; with `all`, ask every source also after the
/// winner (for `--explain`). This loop is the one place that logs and records the answers.
pub fn select(order: &[Source], env: &Environment, all: bool) -> Selection {
    select_avoiding(order, env, all, None)
}

/// [`select`], refusing a `dbus` or `run` candidate equal to `copied`: re-identifying a copied
/// machine must not bring its stale id back (SPEC §9).
pub fn select_avoiding(
    order: &[Source],
    env: &Environment,
    all: bool,
    copied: Option<MachineId>,
) -> Selection {
    let mut sel = Selection::default();
    let mut as_firmware = false;
    for (i, &source) in order.iter().enumerate() {
        let answers = if source.refused_in_chroot() && env.in_chroot() {
            vec![Answer::Skipped(format!(
                "Not using source '{source}': running in a chroot, it describes the outer machine."
            ))]
        } else {
            match source {
                Source::Cmdline => cmdline::lookup(env),
                Source::Credential => credential::lookup(env),
                Source::Container => container::lookup(env),
                Source::Vm if as_firmware => firmware::lookup(env),
                Source::Vm => vm::lookup(env),
                Source::Firmware => firmware::lookup(env),
                Source::Dbus => dbus::lookup(env),
                Source::Run => run::lookup(env),
                Source::Random => random::lookup(env, &order[..i], as_firmware, &sel),
            }
        };
        for answer in answers {
            let answer = match answer {
                Answer::Id { id, origin }
                    if Some(id) == copied && matches!(source, Source::Dbus | Source::Run) =>
                {
                    Answer::Rejected(format!("{origin}: {id} is the copied machine ID"))
                }
                other => other,
            };
            let (verdict, text) = match answer {
                Answer::Id { id, origin } if sel.winner.is_none() => {
                    debug!("Source '{source}' yields {id} ({origin}).");
                    let text = format!("{id} from {origin}");
                    sel.winner = Some(Candidate { id, source, origin });
                    (Verdict::Accepted, text)
                }
                Answer::Id { id, origin } => (Verdict::Shadowed, format!("{id} from {origin}")),
                Answer::AskFirmware => {
                    as_firmware = true;
                    let text = format!(
                        "Source '{source}' asks for the firmware UUID: 'vm' acts as 'firmware'."
                    );
                    debug!("{text}");
                    (Verdict::Firmware, text)
                }
                Answer::Rejected(why) => {
                    info!("Ignoring {why}.");
                    (Verdict::Rejected, why)
                }
                Answer::Skipped(why) => {
                    // Chroot refusals matter to whoever runs us there; the rest is expected.
                    if env.in_chroot() && source.refused_in_chroot() {
                        info!("{why}");
                    } else {
                        debug!("{why}");
                    }
                    (Verdict::Skipped, why)
                }
                Answer::Nothing(what) => {
                    debug!("Source '{source}' yields nothing: {what}");
                    (Verdict::Nothing, what)
                }
            };
            sel.notes.push(Note {
                source,
                verdict,
                text,
            });
        }
        if sel.winner.is_some() && !all {
            break;
        }
    }
    sel
}

/// A value that must be exactly an id (either form, nothing around it) or the word `firmware`,
/// as systemd reads `systemd.machine_id=` and the `system.machine_id` credential.
fn id_or_firmware(value: &[u8], origin: &str) -> Answer {
    if value == b"firmware" {
        return Answer::AskFirmware;
    }
    match MachineId::parse(value) {
        Some(id) if id.is_null() => Answer::rejected(format_args!("{origin}: the id is all zero")),
        Some(id) => Answer::Id {
            id,
            origin: origin.to_string(),
        },
        None => Answer::rejected(format_args!(
            "{origin}: {} is not a machine ID",
            read::escape(value)
        )),
    }
}

/// An id file in `/etc/machine-id` format (32 hex digits, optional newline), as dbus and an
/// earlier stage write it.
fn id_file(read: io::Result<Option<Vec<u8>>>, path: &Path, origin: &str) -> Answer {
    let bytes = match read {
        Ok(Some(b)) => b,
        Ok(None) => return Answer::Nothing(format!("{} does not exist.", path.display())),
        Err(e) => return Answer::rejected(format_args!("{origin} {}: {e}", path.display())),
    };
    match FileState::classify(&bytes) {
        FileState::Initialized(id) => Answer::Id {
            id,
            origin: origin.to_string(),
        },
        FileState::Zero => Answer::rejected(format_args!(
            "{origin} {}: the id is all zero",
            path.display()
        )),
        _ => Answer::rejected(format_args!(
            "{origin} {}: {} is not a machine ID",
            path.display(),
            read::escape(&bytes)
        )),
    }
}

/// Drop one trailing byte that is one of `ends` (the first that matches), never more.
fn strip_one<'a>(bytes: &'a [u8], ends: &[u8]) -> &'a [u8] {
    ends.iter()
        .find_map(|e| bytes.strip_suffix(&[*e]))
        .unwrap_or(bytes)
}
