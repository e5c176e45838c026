//! Clones (SPEC §9): the hypervisor gave this machine a new UUID, but `/etc/machine-id` is the
//! template's. The only exception to "an initialized file is never modified": by default the
//! tool records where the id came from (`origin.rs`) and warns about a copy; re-identifying
//! (`reinit`) is opt-in. This module decides; `apply.rs` writes.

use log::Level;

use crate::cli::Options;
use crate::config::{Config, OnClone};
use crate::deny_list::swapped;
use crate::detect::Environment;
use crate::machine_id::{FileState, MachineId};
use crate::origin::{self, Found, Record};
use crate::sources::{self, Candidate, Source};
use crate::target::Target;

/// Ids known to be baked into public images: a copy wherever they are found.
pub const BAKED_IN: &[(&str, &str)] = &[
    ("42000000000000000000000000000042", "Flatcar's placeholder"),
    ("ad432f2cb0c28bbcd1f87a20199237f9", "a kubelet image's"),
    ("b76cc7b1bbdc489e93909d2043031de8", "Linux Mint 20's"),
    (
        "cdb7f92199c748a7a20d33ab52974cbb",
        "a Debian 8.1 OpenStack image's",
    ),
    ("ebb19c6b226f48fa86a541fd060e8762", "an AKS node image's"),
    ("de1dd9ede40041b7bceb409b0a3b12cb", "an AKS node image's"),
    ("c82bf5de25c44e56a41d3c75b74967d6", "an AKS node image's"),
    ("4813896e0be44568a53fb331dcb4af79", "an AKS node image's"),
    ("8b30ea1c06764b83aef59f790313e369", "an AKS node image's"),
];

/// How many re-identifications in a row, with no boot in between that saw a stable UUID, before
/// the UUID is taken to change at every boot (OpenNebula, some PXE setups).
pub const CHURN_LIMIT: u32 = 2;

/// What §9 makes of an initialized file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What to say, at which level (`--explain` shows it too).
    pub level: Level,
    pub says: String,
    /// The record to write (baseline, today's byte order, a reset count, a pinned id).
    pub record: Option<Record>,
    /// Re-identify: the copied id, and the id to take instead.
    pub reinit: Option<(MachineId, Candidate)>,
}

impl Check {
    fn say(level: Level, says: String) -> Check {
        Check {
            level,
            says,
            record: None,
            reinit: None,
        }
    }

    fn recording(mut self, record: Record) -> Check {
        self.record = Some(record);
        self
    }
}

/// SPEC §9: the policy (command line, else the image's configuration file, else `warn`) and,
/// for an initialized file, what it makes of it.
pub fn observe(opts: &Options, env: &Environment, target: &Target) -> (OnClone, Option<Check>) {
    let policy = opts
        .on_clone
        .or_else(|| Config::load(env.roots()).on_clone)
        .unwrap_or(OnClone::Warn);
    let check = match target.state {
        FileState::Initialized(id) if policy != OnClone::Keep => {
            Some(check(policy, env, id, &opts.sources))
        }
        _ => None,
    };
    (policy, check)
}

/// Which known baked-in id `id` is, if it is one.
pub fn baked_in(id: &MachineId) -> Option<&'static str> {
    let hex = id.to_string();
    BAKED_IN
        .iter()
        .find(|(i, _)| *i == hex)
        .map(|(_, what)| *what)
}

/// Check an initialized file holding `id` under `policy` (not `keep`); `order` is the source
/// order of a run, for a baseline and for re-identifying.
pub fn check(policy: OnClone, env: &Environment, id: MachineId, order: &[Source]) -> Check {
    let baked = baked_in(&id).map(|what| {
        format!("machine ID {id} is one known to be baked into public images ({what})")
    });
    let record = match origin::read(env.roots()) {
        Found::Record(r) => Some(r),
        Found::Absent => None,
        Found::Malformed(why) => {
            log::info!("Ignoring the origin record: {why}; it will be replaced.");
            None
        }
    };
    let Some(record) = record else {
        return match baked {
            Some(reason) => copied(policy, env, id, reason, 0, order),
            None => baseline(env, id, order, "no origin record yet"),
        };
    };
    if let Some(reason) = baked {
        return copied(policy, env, id, reason, record.reinits, order);
    }
    if record.machine_id != id {
        return baseline(
            env,
            id,
            order,
            &format!(
                "the origin record names machine ID {}: someone else set the id",
                record.machine_id
            ),
        );
    }
    // Only the record's own source: no other one is consulted.
    let Some(now) = sources::select(&[record.source], env, false).winner else {
        return Check::say(
            Level::Debug,
            format!(
                "Source '{}' of the origin record yields no UUID now: nothing to compare.",
                record.source
            ),
        );
    };
    let fresh = Record::new(id, record.source, &now.id, 0);
    if record.matches(&now.id) {
        return match record.reinits {
            0 => Check::say(
                Level::Debug,
                format!(
                    "The origin record matches the {}: same machine.",
                    now.origin
                ),
            ),
            n => Check::say(
                Level::Info,
                format!(
                    "The {} is the one machine ID {id} was set from again, after {n} \
                     re-identification(s): counting from zero.",
                    now.origin
                ),
            )
            .recording(fresh),
        };
    }
    if record.matches(&swapped(&now.id)) {
        return Check::say(
            Level::Info,
            format!(
                "The {} is the one machine ID {id} was set from, with its first three fields \
                 byte-swapped (a hardware upgrade): same machine; recording today's order.",
                now.origin
            ),
        )
        .recording(fresh);
    }
    let reason = format!("its {} changed since machine ID {id} was set", now.origin);
    copied(policy, env, id, reason, record.reinits, order)
}

/// Record the current id as belonging to today's UUID, if the source that would win today is one
/// worth recording (a fleet installed before this tool becomes protected).
fn baseline(env: &Environment, id: MachineId, order: &[Source], why: &str) -> Check {
    match sources::select(order, env, false).winner {
        Some(c) if c.source.recorded() => Check::say(
            Level::Debug,
            format!(
                "{why}: recording machine ID {id} as set from the {}.",
                c.origin
            ),
        )
        .recording(Record::new(id, c.source, &c.id, 0)),
        Some(c) => Check::say(
            Level::Debug,
            format!(
                "{why}; source '{}' would win today, which is not recorded.",
                c.source
            ),
        ),
        None => Check::say(
            Level::Debug,
            format!("{why}; no source yields an id today."),
        ),
    }
}

fn copied(
    policy: OnClone,
    env: &Environment,
    old: MachineId,
    reason: String,
    reinits: u32,
    order: &[Source],
) -> Check {
    if policy == OnClone::Warn {
        return Check::say(
            Level::Warn,
            format!(
                "This machine was copied: {reason}. Keeping it (on-clone=warn); set \
                 on-clone=reinit to re-identify."
            ),
        );
    }
    if reinits >= CHURN_LIMIT {
        return Check::say(
            Level::Warn,
            format!(
                "This machine was copied: {reason}, but it was re-identified {reinits} times in \
                 a row already: the UUID is not stable. Keeping machine ID {old}."
            ),
        );
    }
    let sel = sources::select_avoiding(order, env, false, Some(old));
    match sel.winner {
        // A credential or the kernel command line still wins: the administrator pinned it.
        Some(c) if c.id == old => Check::say(
            Level::Info,
            format!(
                "This machine was copied: {reason}; keeping machine ID {old}, pinned by the {}.",
                c.origin
            ),
        )
        .recording(Record::new(old, c.source, &c.id, 0)),
        Some(c) => {
            let record = c
                .source
                .recorded()
                .then(|| Record::new(c.id, c.source, &c.id, reinits + 1));
            Check {
                level: Level::Warn,
                says: format!(
                    "This machine was copied: {reason}. Re-identified (on-clone=reinit): \
                     machine ID {old} is now {} from the {}.",
                    c.id, c.origin
                ),
                record,
                reinit: Some((old, c)),
            }
        }
        None => Check::say(
            Level::Warn,
            format!("This machine was copied: {reason}, but no source yields another id."),
        ),
    }
}
