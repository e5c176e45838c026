//! The origin record, `<root>/etc/machine-id-init/origin` (SPEC §9): where the current id came
//! from, without the UUID itself — the id it belongs to, the source, a fingerprint of the
//! source's UUID under that id, and how many times in a row the id was re-identified. Written
//! atomically like the id, always after it, under the same lock on `<root>/etc`.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use log::debug;

use crate::fingerprint::fingerprint;
use crate::machine_id::MachineId;
use crate::read;
use crate::roots::{OWN_DIR, Roots};
use crate::sources::Source;
use crate::target;
use crate::{selinux, write};

pub const ORIGIN: &str = "etc/machine-id-init/origin";
const ORIGIN_NAME: &str = "origin";
/// With the id public, the fingerprint would let anyone confirm a guessed UUID, which `/sys`
/// keeps root-only.
pub const MODE: u32 = 0o600;
/// A larger record is logged and treated as malformed.
pub const RECORD_MAX: usize = 64 << 10;
const HEADER: &str =
    "# machine-id-init: where etc/machine-id came from (removed by `machine-id-init seal`)";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub machine_id: MachineId,
    pub source: Source,
    pub fingerprint: [u8; 16],
    /// Re-identifications with no boot in between that saw a stable UUID.
    pub reinits: u32,
}

/// What `read` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Absent,
    /// Unreadable, too large or not a record: why. Treated as absent (and replaced).
    Malformed(String),
    Record(Record),
}

impl Record {
    /// `id` came from `source`, whose UUID is `uuid`.
    pub fn new(id: MachineId, source: Source, uuid: &MachineId, reinits: u32) -> Record {
        Record {
            machine_id: id,
            source,
            fingerprint: fingerprint(&id, uuid),
            reinits,
        }
    }

    /// Whether `uuid` is the UUID this record was made from.
    pub fn matches(&self, uuid: &MachineId) -> bool {
        fingerprint(&self.machine_id, uuid) == self.fingerprint
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{HEADER}");
        let _ = writeln!(s, "version=1");
        let _ = writeln!(s, "machine-id={}", self.machine_id);
        let _ = writeln!(s, "source={}", self.source);
        let _ = writeln!(s, "fingerprint={}", hex(&self.fingerprint));
        let _ = writeln!(s, "reinits={}", self.reinits);
        s
    }

    /// Unknown keys are ignored; a missing or bad known one makes the record malformed.
    pub fn parse(text: &str) -> Result<Record, String> {
        let (mut version, mut id, mut source, mut fp, mut reinits) = (None, None, None, None, None);
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(format!("{}: not key=value", read::escape(line.as_bytes())));
            };
            match k {
                "version" => version = Some(v),
                "machine-id" => id = Some(v),
                "source" => source = Some(v),
                "fingerprint" => fp = Some(v),
                "reinits" => reinits = Some(v),
                _ => {}
            }
        }
        if version != Some("1") {
            return Err(format!("version {version:?} is not 1"));
        }
        let machine_id = id
            .filter(|v| v.len() == 32)
            .and_then(|v| MachineId::parse(v.as_bytes()))
            .filter(|i| !i.is_null())
            .ok_or("no valid machine-id=")?;
        let source = source
            .and_then(Source::from_name)
            .filter(|s| s.recorded())
            .ok_or("no valid source=")?;
        let fingerprint = fp
            .filter(|v| v.len() == 32)
            .and_then(|v| MachineId::parse(v.as_bytes()))
            .map(|f| *f.as_bytes())
            .ok_or("no valid fingerprint=")?;
        let reinits = reinits
            .and_then(|v| v.parse().ok())
            .ok_or("no valid reinits=")?;
        Ok(Record {
            machine_id,
            source,
            fingerprint,
            reinits,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read the record of the root.
pub fn read(roots: &Roots) -> Found {
    if !roots.own_dir_exists() {
        return Found::Absent;
    }
    let Ok(file) = roots.in_own_dir(ORIGIN_NAME) else {
        return Found::Malformed(format!(
            "{} cannot be resolved",
            roots.root_join(ORIGIN).display()
        ));
    };
    let path = file.path;
    match read::read_capped(&path, RECORD_MAX + 1) {
        Ok(None) => Found::Absent,
        Ok(Some(b)) if b.len() > RECORD_MAX => Found::Malformed(format!(
            "{} is larger than {} KiB",
            path.display(),
            RECORD_MAX >> 10
        )),
        Ok(Some(b)) => match Record::parse(&String::from_utf8_lossy(&b)) {
            Ok(r) => Found::Record(r),
            Err(why) => Found::Malformed(format!("{}: {why}", path.display())),
        },
        Err(e) => Found::Malformed(format!("{}: {e}", path.display())),
    }
}

/// Write the record atomically (0600; its directory 0755 when missing), with the context the
/// policy gives its path, else its directory's, where the root has a policy (SPEC §8). Call
/// with the lock on `etc` held.
pub fn write(roots: &Roots, record: &Record) -> io::Result<PathBuf> {
    // Resolved before anything was written, under the same lock: still what is there.
    let dir = match roots.own_dir() {
        Some(d) => d.clone(),
        None => target::resolved(roots.in_root(OWN_DIR), roots.root_join(OWN_DIR))
            .map_err(|e| io::Error::other(e.to_string()))?,
    };
    let created = match target::ensure_directory(&dir) {
        Ok(target::Directory::ReadOnly) => {
            return Err(io::Error::from_raw_os_error(nix::libc::EROFS));
        }
        Ok(d) => d == target::Directory::Created,
        Err(e) => return Err(io::Error::other(e.to_string())),
    };
    let path = dir.path.join(ORIGIN_NAME);
    let replaced = !created && path.exists();
    // A new record where the policy names no context for it gets its directory's, as the
    // booted system's policy would give it; a root with no policy labels nothing.
    let label = match replaced {
        true => selinux::context_of(&path),
        false => selinux::Policy::of_root(roots).and_then(|policy| {
            policy
                .context_for(&Path::new("/").join(path.strip_prefix(roots.root()).ok()?))
                .or_else(|| selinux::context_of(&dir.path))
        }),
    };
    write::write_bytes(
        &path,
        record.render().as_bytes(),
        None,
        label.as_ref(),
        MODE,
    )?;
    debug!(
        "Recorded the origin of {} in {}.",
        record.machine_id,
        path.display()
    );
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_malformed() {
        let id = MachineId::parse(b"0123456789abcdef0123456789abcdef").unwrap();
        let uuid = MachineId::parse(b"564dfa7e-6a3c-11ef-8c9a-3f2e1d0c4b5a").unwrap();
        let r = Record::new(id, Source::Vm, &uuid, 1);
        let text = r.render();
        assert_eq!(Record::parse(&text), Ok(r.clone()));
        assert!(r.matches(&uuid));
        assert!(!r.matches(&id));
        assert_eq!(Record::parse(&format!("{text}future=1\n")), Ok(r));
        for bad in [
            "",
            "version=2\n",
            &text.replace("source=vm", "source=dbus"),
            &text.replace("reinits=1", "reinits=x"),
            &text.replace("version=1", "version=1\nnonsense"),
        ] {
            assert!(Record::parse(bad).is_err(), "{bad}");
        }
    }
}
