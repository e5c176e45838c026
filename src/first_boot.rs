//! First boot (SPEC §4): systemd treats a missing file or `uninitialized` as its first boot and
//! commits the id itself later; systemd ≥ 256 takes the id from `/run/machine-id`. So for those
//! two states the id is handed over (`preserve`) or written now (`commit`), and `auto` picks by
//! the target's systemd version.

use std::path::{Path, PathBuf};

use log::debug;

use crate::cli::FirstBoot;
use crate::machine_id::FileState;
use crate::roots::Roots;

/// Where distributions keep `libsystemd-shared-NNN.so`; `*` is any multiarch directory.
const SYSTEMD_LIB_DIRS: &[&str] = &[
    "usr/lib/systemd",
    "usr/lib64/systemd",
    "usr/lib/*/systemd",
    "lib/systemd",
];

/// The first systemd that takes the id from `/run/machine-id` on first boot.
const HANDS_OVER_FROM: u32 = 256;

/// How the file's state is handled for this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Empty, zero or invalid: not systemd's first boot, always written.
    Replace,
    /// First boot, and systemd ≥ 256 will take the id from `/run/machine-id`.
    Preserve,
    /// First boot, written now (no systemd, or one too old for the hand-off). `systemd`: the
    /// root has a systemd whose first-boot logic this consumes (asked for, or too old).
    Commit { systemd: bool },
}

impl Plan {
    /// What the success line adds: writing a first-boot state is not silent.
    pub fn note(self) -> &'static str {
        match self {
            Plan::Commit { systemd: true } => {
                " (first boot: committed now, so systemd will not treat this boot as its first)"
            }
            Plan::Commit { systemd: false } => {
                " (first boot: committed now; no systemd in the root)"
            }
            _ => "",
        }
    }

    /// The name `--explain` shows, for the first-boot states.
    pub fn first_boot_name(self) -> Option<&'static str> {
        match self {
            Plan::Preserve => Some("preserve"),
            Plan::Commit { .. } => Some("commit"),
            Plan::Replace => None,
        }
    }
}

pub fn plan(mode: FirstBoot, state: &FileState, roots: &Roots) -> Plan {
    if !state.is_first_boot() {
        return Plan::Replace;
    }
    match mode {
        FirstBoot::Preserve => Plan::Preserve,
        FirstBoot::Commit => Plan::Commit { systemd: true },
        FirstBoot::Auto => match systemd_version(roots) {
            Some((v, lib)) if v >= HANDS_OVER_FROM => {
                debug!(
                    "systemd {v} ({}) takes the id from run/machine-id on first boot.",
                    lib.display()
                );
                Plan::Preserve
            }
            Some((v, lib)) => {
                debug!(
                    "systemd {v} ({}) ignores run/machine-id: committing.",
                    lib.display()
                );
                Plan::Commit { systemd: true }
            }
            None => {
                debug!("No systemd in {}: committing.", roots.root().display());
                Plan::Commit { systemd: false }
            }
        },
    }
}

/// The target's systemd version: the highest NNN of `libsystemd-shared-NNN*.so`, with where it
/// was found. `None` means no systemd (OpenRC, busybox).
pub fn systemd_version(roots: &Roots) -> Option<(u32, PathBuf)> {
    let mut best: Option<(u32, PathBuf)> = None;
    for dir in SYSTEMD_LIB_DIRS.iter().flat_map(|d| expand_dir(roots, d)) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(v) = shared_lib_version(name.as_encoded_bytes()) else {
                continue;
            };
            // Of two libraries of one version the path that sorts last names it, whatever
            // order the directory lists them in.
            let path = entry.path();
            if best.as_ref().is_none_or(|(b, p)| (v, &path) > (*b, p)) {
                best = Some((v, path));
            }
        }
    }
    best
}

/// `usr/lib/*/systemd` names every `usr/lib/<multiarch>/systemd`.
/// Only directories that resolving found: a root without them costs no further look.
fn expand_dir(roots: &Roots, pattern: &str) -> Vec<PathBuf> {
    let existing = |rel: &Path| roots.in_root(rel).ok().filter(|r| r.meta.is_some());
    let Some((head, tail)) = pattern.split_once("/*/") else {
        return existing(Path::new(pattern))
            .map(|r| vec![r.path])
            .unwrap_or_default();
    };
    let Some(base) = existing(Path::new(head)) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&base.path) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().as_encoded_bytes().contains(&b'-'))
        .filter_map(|e| {
            let rel = Path::new(head).join(e.file_name()).join(tail);
            existing(&rel).map(|r| r.path)
        })
        .collect()
}

fn shared_lib_version(name: &[u8]) -> Option<u32> {
    let rest = name.strip_prefix(b"libsystemd-shared-")?;
    if !name.ends_with(b".so") && !name.windows(4).any(|w| w == b".so.") {
        return None;
    }
    let digits: Vec<u8> = rest
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_lib_names() {
        assert_eq!(shared_lib_version(b"libsystemd-shared-257.so"), Some(257));
        assert_eq!(
            shared_lib_version(b"libsystemd-shared-256.7-1.fc41.so"),
            Some(256)
        );
        assert_eq!(shared_lib_version(b"libsystemd-shared-252.so.0"), Some(252));
        assert_eq!(shared_lib_version(b"libsystemd-shared-.so"), None);
        assert_eq!(shared_lib_version(b"libsystemd-shared-257.txt"), None);
        assert_eq!(shared_lib_version(b"libsystemd-core-257.so"), None);
    }
}
